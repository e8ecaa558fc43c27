//! ASHA with promotions (Li et al., "A System for Massively Parallel Hyperparameter Tuning",
//! MLSys 2020, Algorithm 2; Syne Tune's `type="promotion"`): `asha` with
//! `type = "promotion"`.
//!
//! Where the stopping variant decides at a rung whether a trial goes on *now*, against the few
//! values recorded there so far (so the first trials of a search always run to the end), this
//! one pauses every trial at every rung and decides later: before a new trial starts, the
//! experiment loop asks [`Assessor::next_promotion`], which looks at the rungs from the top
//! down and continues a paused trial that is in the top `⌊n / η⌋` of the `n` values of its
//! rung and not yet promoted; only when there is none does a new configuration start at rung 0.
//! A paused trial continues from the checkpoint it wrote when it paused, so a promotion costs
//! only the epochs it adds.
//!
//! With a finite number of trials the rule alone may never fill the top rung (20 trials,
//! η = 3 and rungs at 1, 3, 9 epochs promote 6, then 2, then none to the full budget). So
//! once no new trial will start (`finishing`) and no trial has completed, the best paused trial
//! of the highest occupied rung is promoted regardless of the quota, until one completes: the
//! search always ends with a full-budget result.
//!
//! `type = "synchronous"` is successive halving proper (Jamieson & Talwalkar, 2016; one
//! bracket of Hyperband, as BOHB runs it under a model-based sampler): nothing is promoted
//! while new trials still start, then the rungs are filled bottom-up, each only once every
//! trial promoted into it has arrived, so each rung promotes exactly the top `⌊n / η⌋` of its
//! complete set of values. It spends a known budget and makes no early promotions on a few
//! values, at the price of waiting: with `concurrency > 1`, workers idle at each rung.

use super::asha::Ladder;
use super::{Assessor, Decision};
use crate::hpo::tuner::Direction;
use std::collections::{BTreeMap, BTreeSet};

/// A value recorded at a rung.
#[derive(Debug, Clone)]
struct Entry {
    trial: usize,
    value: f64,
    /// Promoted already, or the trial ended: never promoted (again) from this rung.
    taken: bool,
}

#[derive(Clone)]
pub struct AshaPromotion {
    direction: Direction,
    ladder: Ladder,
    synchronous: bool,
    /// Promoted and not yet paused again or ended (synchronous: a rung waits for them).
    in_flight: BTreeSet<usize>,
    rungs: Vec<Vec<Entry>>,
    /// Next rung each trial that has started will pause at.
    next_rung: BTreeMap<usize, usize>,
    paused: BTreeSet<usize>,
    completed: usize,
}

impl AshaPromotion {
    pub fn new(direction: Direction, ladder: Ladder) -> Self {
        AshaPromotion {
            direction,
            ladder,
            synchronous: false,
            in_flight: BTreeSet::new(),
            rungs: Vec::new(),
            next_rung: BTreeMap::new(),
            paused: BTreeSet::new(),
            completed: 0,
        }
    }

    /// Successive halving proper: promotions only once no new trial starts, rung by rung.
    pub fn synchronous(mut self) -> Self {
        self.synchronous = true;
        self
    }

    /// The rung epochs below max_epochs.
    pub fn rung_epochs(&self) -> Vec<usize> {
        self.ladder.epochs()
    }

    /// The best paused trial of rung `k` within its quota, if any.
    fn within_quota(&self, k: usize) -> Option<usize> {
        let quota = self.rungs[k].len() / self.ladder.eta;
        let ranked = self.ranked(k);
        ranked
            .into_iter()
            .take(quota)
            .find(|&i| !self.rungs[k][i].taken)
    }

    /// Indices of rung `k`'s entries, best first; ties go to the lower trial id, not to the earlier
    /// arrival: with concurrent trials arrivals race, and a resumed search, which replays the
    /// journal in job order, must promote the same trials as the run it continues.
    fn ranked(&self, k: usize) -> Vec<usize> {
        let rung = &self.rungs[k];
        let mut order: Vec<usize> = (0..rung.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (
                self.direction.loss(Some(rung[a].value)),
                self.direction.loss(Some(rung[b].value)),
            );
            x.total_cmp(&y).then(rung[a].trial.cmp(&rung[b].trial))
        });
        order
    }

    fn promote(&mut self, k: usize, index: usize) -> usize {
        let entry = &mut self.rungs[k][index];
        entry.taken = true;
        let trial = entry.trial;
        self.paused.remove(&trial);
        self.in_flight.insert(trial);
        trial
    }
}

impl Assessor for AshaPromotion {
    fn assess(&mut self, trial_id: usize, history: &[f64]) -> Decision {
        if self.paused.contains(&trial_id) {
            return Decision::Stop;
        }
        let Some(&value) = history.last() else {
            return Decision::Continue;
        };
        let rung = *self.next_rung.get(&trial_id).unwrap_or(&0);
        match self.ladder.epoch(rung) {
            Some(e) if history.len() >= e => {}
            _ => return Decision::Continue,
        }
        self.next_rung.insert(trial_id, rung + 1);
        self.in_flight.remove(&trial_id);
        if value.is_nan() {
            // Stopped for good: nothing to rank it by.
            return Decision::Stop;
        }
        if self.rungs.len() <= rung {
            self.rungs.resize(rung + 1, Vec::new());
        }
        self.rungs[rung].push(Entry {
            trial: trial_id,
            value,
            taken: false,
        });
        self.paused.insert(trial_id);
        Decision::Stop
    }

    fn trial_end(&mut self, trial_id: usize, _history: &[f64], completed: bool) {
        if self.paused.contains(&trial_id) {
            return; // waits for a promotion
        }
        self.completed += usize::from(completed);
        self.next_rung.remove(&trial_id);
        self.in_flight.remove(&trial_id);
        for entry in self.rungs.iter_mut().flatten() {
            if entry.trial == trial_id {
                entry.taken = true;
            }
        }
    }

    fn next_promotion(&mut self, finishing: bool) -> Option<usize> {
        if self.synchronous {
            if !finishing {
                return None;
            }
            for k in 0..self.rungs.len() {
                // Rung k is complete once no promoted trial is still on its way to it.
                let arriving = |t: &usize| self.next_rung.get(t).is_some_and(|&r| r <= k);
                if self.in_flight.iter().any(arriving) {
                    return None;
                }
                if let Some(i) = self.within_quota(k) {
                    return Some(self.promote(k, i));
                }
            }
            if !self.in_flight.is_empty() {
                return None;
            }
        } else {
            for k in (0..self.rungs.len()).rev() {
                if let Some(i) = self.within_quota(k) {
                    return Some(self.promote(k, i));
                }
            }
        }
        if finishing && self.completed == 0 {
            for k in (0..self.rungs.len()).rev() {
                let ranked = self.ranked(k);
                if let Some(&i) = ranked.iter().find(|&&i| !self.rungs[k][i].taken) {
                    return Some(self.promote(k, i));
                }
            }
        }
        None
    }

    fn pauses(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "asha"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpo::assessor::tests::feed;

    /// A trial's stretch of work: its curve (replayed from epoch 1, as a continued trial
    /// does) until it pauses (Some(epoch)) or ends (None).
    fn segment(a: &mut AshaPromotion, id: usize, curve: &[f64]) -> Option<usize> {
        feed(a, id, curve)
    }

    #[test]
    fn every_trial_pauses_at_the_first_rung_and_the_top_third_is_promoted() {
        let mut a = AshaPromotion::new(Direction::Maximize, Ladder::new(10, 1, 3, 0));
        assert_eq!(a.rung_epochs(), vec![1, 3, 9]);
        let curves = [[0.5; 10], [0.9; 10], [0.7; 10]];
        // Nothing to promote before there is a first value, or with fewer than 3 at a rung.
        assert_eq!(a.next_promotion(false), None);
        assert_eq!(segment(&mut a, 0, &curves[0]), Some(1));
        assert_eq!(a.next_promotion(false), None);
        assert_eq!(segment(&mut a, 1, &curves[1]), Some(1));
        assert_eq!(a.next_promotion(false), None);
        assert_eq!(segment(&mut a, 2, &curves[2]), Some(1));
        // Three values at rung 0: the best one (trial 1) goes on, once.
        assert_eq!(a.next_promotion(false), Some(1));
        assert_eq!(a.next_promotion(false), None);
        // Continued: replays epoch 1 (no decision) and pauses at rung 1, epoch 3.
        assert_eq!(segment(&mut a, 1, &curves[1]), Some(3));
        assert_eq!(a.next_promotion(false), None);
    }

    #[test]
    fn a_tie_goes_to_the_lower_trial_id_whatever_the_arrival_order() {
        // Trials 1 and 0 reach rung 0 with the same value, 1 first (concurrent trials race);
        // trial 2 is worse. Quota 1: trial 0, as a replay in job order would decide.
        let mut a = AshaPromotion::new(Direction::Maximize, Ladder::new(4, 1, 3, 0));
        segment(&mut a, 1, &[0.5; 4]);
        segment(&mut a, 0, &[0.5; 4]);
        segment(&mut a, 2, &[0.1; 4]);
        assert_eq!(a.next_promotion(false), Some(0));
    }

    #[test]
    fn higher_rungs_are_promoted_first_and_minimize_ranks_low_values_first() {
        let mut a = AshaPromotion::new(Direction::Minimize, Ladder::new(4, 1, 2, 0));
        assert_eq!(a.rung_epochs(), vec![1, 2]);
        // Rung 0: losses 3, 1 → quota 1: trial 1.
        segment(&mut a, 0, &[3.0; 4]);
        segment(&mut a, 1, &[1.0; 4]);
        assert_eq!(a.next_promotion(false), Some(1));
        assert_eq!(segment(&mut a, 1, &[1.0; 4]), Some(2));
        // Rung 0 again: 3, 1 (taken), 2, 4 → quota 2: trials 1 and 2, only 2 is left.
        segment(&mut a, 2, &[2.0; 4]);
        segment(&mut a, 3, &[4.0; 4]);
        assert_eq!(a.next_promotion(false), Some(2));
        assert_eq!(segment(&mut a, 2, &[2.0; 4]), Some(2));
        // Rung 1 now has trials 1 (1.0) and 2 (2.0): quota 1 → trial 1 to the end first.
        assert_eq!(a.next_promotion(false), Some(1));
        assert_eq!(segment(&mut a, 1, &[1.0; 4]), None);
        assert_eq!(a.next_promotion(false), None);
    }

    #[test]
    fn finishing_promotes_the_leader_of_the_highest_rung_until_one_trial_completes() {
        let mut a = AshaPromotion::new(Direction::Maximize, Ladder::new(10, 1, 3, 0));
        segment(&mut a, 0, &[0.4; 10]);
        segment(&mut a, 1, &[0.6; 10]);
        // Two values at rung 0: the quota is 0; only finishing promotes.
        assert_eq!(a.next_promotion(false), None);
        assert_eq!(a.next_promotion(true), Some(1));
        assert_eq!(segment(&mut a, 1, &[0.6; 10]), Some(3));
        assert_eq!(a.next_promotion(true), Some(1));
        assert_eq!(segment(&mut a, 1, &[0.6; 10]), Some(9));
        assert_eq!(a.next_promotion(true), Some(1));
        assert_eq!(segment(&mut a, 1, &[0.6; 10]), None);
        // One trial completed: trial 0 stays paused.
        assert_eq!(a.next_promotion(true), None);
    }

    #[test]
    fn a_trial_that_fails_after_a_promotion_is_replaced_by_the_next_best() {
        let mut a = AshaPromotion::new(Direction::Maximize, Ladder::new(10, 1, 3, 0));
        segment(&mut a, 0, &[0.4; 10]);
        segment(&mut a, 1, &[0.6; 10]);
        assert_eq!(a.next_promotion(true), Some(1));
        // Fails during its continuation (no pause, not completed).
        assert_eq!(a.assess(1, &[0.6]), Decision::Continue);
        a.trial_end(1, &[0.6, 0.6], false);
        assert_eq!(a.next_promotion(true), Some(0));
    }

    #[test]
    fn synchronous_promotes_rung_by_rung_once_no_new_trial_starts() {
        let mut a = AshaPromotion::new(Direction::Maximize, Ladder::new(10, 1, 3, 0)).synchronous();
        let values = [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.5];
        for (id, v) in values.iter().enumerate() {
            assert_eq!(segment(&mut a, id, &[*v; 10]), Some(1));
            // New trials still start: no early promotion on a few values.
            assert_eq!(a.next_promotion(false), None);
        }
        // Rung 0 complete (9 values): its top 3 go on, best first, one at a time.
        assert_eq!(a.next_promotion(true), Some(1));
        assert_eq!(a.next_promotion(true), Some(3));
        assert_eq!(a.next_promotion(true), Some(5));
        // Rung 1 waits until all three have arrived.
        assert_eq!(a.next_promotion(true), None);
        assert_eq!(segment(&mut a, 1, &[0.9; 10]), Some(3));
        assert_eq!(segment(&mut a, 3, &[0.8, 0.8, 0.95, 0.95]), Some(3));
        assert_eq!(a.next_promotion(true), None);
        assert_eq!(segment(&mut a, 5, &[0.7; 10]), Some(3));
        // Rung 1 complete: its best (trial 3 at 0.95) goes on to rung 2; then, as nothing has
        // completed, the finishing rule takes it to the end.
        assert_eq!(a.next_promotion(true), Some(3));
        assert_eq!(segment(&mut a, 3, &[0.95; 10]), Some(9));
        assert_eq!(a.next_promotion(true), Some(3));
        assert_eq!(segment(&mut a, 3, &[0.95; 10]), None);
        assert_eq!(a.next_promotion(true), None);
    }

    #[test]
    fn nan_at_a_rung_stops_for_good() {
        let mut a = AshaPromotion::new(Direction::Maximize, Ladder::new(10, 1, 3, 0));
        assert_eq!(a.assess(0, &[f64::NAN]), Decision::Stop);
        a.trial_end(0, &[f64::NAN], false);
        assert_eq!(a.next_promotion(true), None);
    }
}
