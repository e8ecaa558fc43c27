//! Asynchronous successive halving and Hyperband over epochs, after Optuna's
//! `SuccessiveHalvingPruner` and `HyperbandPruner`.
//!
//! ASHA: rung k sits at epoch `min_resource · eta^(min_early_stopping_rate + k)`; only rungs
//! below `max_epochs` exist (a trial at `max_epochs` is done anyway). When a trial's history
//! reaches a rung, its latest value is recorded at that rung and compared with every value
//! recorded there so far (its own included): it continues only if it is within the top
//! `len / eta` of them (`idx = len / eta − 1`, and while fewer than `eta` values exist,
//! `idx = 0`, i.e. it must be the best so far — Optuna's few-trials rule; with
//! `bootstrap_count` b, a trial is instead stopped while at most b values are recorded at the
//! rung, as in Optuna). Several rungs
//! passed at once are judged one after another with the same value, as in Optuna. A NaN
//! metric at a rung stops the trial.
//!
//! Hyperband: brackets b = 0..n, n = 1 + max{s : min_resource · eta^s ≤ max_epochs}; bracket b
//! is an ASHA with `min_early_stopping_rate = b` and its own rung records. Bracket budgets
//! are Optuna's `ceil(n · eta^s / (s + 1))` with s = n − 1 − b; trial `id` goes to the bracket
//! where `id mod total_budget` falls in the cumulative budgets (Optuna hashes study name and
//! trial number instead; by id is deterministic and spreads small experiments evenly).

use super::{Assessor, Decision};
use crate::hpo::tuner::Direction;
use std::collections::{BTreeMap, BTreeSet};

/// Where the rungs of successive halving sit: rung k at epoch
/// `min_resource · eta^(min_early_stopping_rate + k)`, only below `max_epochs`.
#[derive(Debug, Clone, Copy)]
pub struct Ladder {
    pub max_epochs: usize,
    pub min_resource: usize,
    pub eta: usize,
    pub rate: usize,
}

impl Ladder {
    pub fn new(max_epochs: usize, min_resource: usize, eta: usize, rate: usize) -> Self {
        Ladder {
            max_epochs,
            min_resource: min_resource.max(1),
            eta: eta.max(2),
            rate,
        }
    }

    /// Epoch of rung k, None when it would overflow or is not below `max_epochs`.
    pub fn epoch(&self, k: usize) -> Option<usize> {
        let p = u32::try_from(self.rate + k).ok()?;
        self.eta
            .checked_pow(p)?
            .checked_mul(self.min_resource)
            .filter(|e| *e < self.max_epochs)
    }

    /// The rung epochs below max_epochs.
    pub fn epochs(&self) -> Vec<usize> {
        (0..).map_while(|k| self.epoch(k)).collect()
    }
}

#[derive(Clone)]
pub struct Asha {
    direction: Direction,
    ladder: Ladder,
    /// A trial is stopped at a rung while at most this many values (its own included) have
    /// been recorded there (Optuna's `bootstrap_count`): the first trials do not run to the end
    /// just for lack of competition.
    bootstrap_count: usize,
    /// Values recorded at each rung.
    rungs: Vec<Vec<f64>>,
    /// Next rung each trial has to pass.
    next_rung: BTreeMap<usize, usize>,
    stopped: BTreeSet<usize>,
}

impl Asha {
    pub fn new(direction: Direction, ladder: Ladder) -> Self {
        Asha {
            direction,
            ladder,
            bootstrap_count: 0,
            rungs: Vec::new(),
            next_rung: BTreeMap::new(),
            stopped: BTreeSet::new(),
        }
    }

    /// With Optuna's `bootstrap_count` (default 0).
    pub fn with_bootstrap_count(mut self, n: usize) -> Self {
        self.bootstrap_count = n;
        self
    }

    /// The rung epochs below max_epochs.
    pub fn rung_epochs(&self) -> Vec<usize> {
        self.ladder.epochs()
    }

    fn promotable(&self, value: f64, competing: &mut [f64]) -> bool {
        competing.sort_by(f64::total_cmp);
        let n = competing.len();
        let idx = (n / self.ladder.eta).saturating_sub(1);
        match self.direction {
            Direction::Maximize => value >= competing[n - 1 - idx],
            Direction::Minimize => value <= competing[idx],
        }
    }
}

impl Assessor for Asha {
    fn assess(&mut self, trial_id: usize, history: &[f64]) -> Decision {
        if self.stopped.contains(&trial_id) {
            return Decision::Stop;
        }
        let step = history.len();
        let Some(&value) = history.last() else {
            return Decision::Continue;
        };
        let mut rung = *self.next_rung.get(&trial_id).unwrap_or(&0);
        loop {
            match self.ladder.epoch(rung) {
                Some(e) if step >= e => {}
                _ => break,
            }
            if value.is_nan() {
                self.stopped.insert(trial_id);
                return Decision::Stop;
            }
            if self.rungs.len() <= rung {
                self.rungs.resize(rung + 1, Vec::new());
            }
            let mut competing = self.rungs[rung].clone();
            competing.push(value);
            self.rungs[rung].push(value);
            rung += 1;
            self.next_rung.insert(trial_id, rung);
            if competing.len() <= self.bootstrap_count || !self.promotable(value, &mut competing) {
                self.stopped.insert(trial_id);
                return Decision::Stop;
            }
        }
        Decision::Continue
    }

    fn trial_end(&mut self, trial_id: usize, _history: &[f64], _completed: bool) {
        self.next_rung.remove(&trial_id);
        self.stopped.remove(&trial_id);
    }

    fn name(&self) -> &'static str {
        "asha"
    }
}

#[derive(Clone)]
pub struct Hyperband {
    brackets: Vec<Asha>,
    budgets: Vec<usize>,
}

impl Hyperband {
    pub fn new(direction: Direction, max_epochs: usize, min_resource: usize, eta: usize) -> Self {
        let eta = eta.max(2);
        let min_resource = min_resource.max(1);
        let mut n = 1;
        while eta
            .checked_pow(n as u32)
            .and_then(|p| p.checked_mul(min_resource))
            .is_some_and(|e| e <= max_epochs)
        {
            n += 1;
        }
        let brackets: Vec<Asha> = (0..n)
            .map(|b| Asha::new(direction, Ladder::new(max_epochs, min_resource, eta, b)))
            .collect();
        let budgets = (0..n)
            .map(|b| {
                let s = (n - 1 - b) as u32;
                (n * eta.pow(s)).div_ceil(s as usize + 1)
            })
            .collect();
        Hyperband { brackets, budgets }
    }

    /// The bracket a trial belongs to.
    pub fn bracket_of(&self, trial_id: usize) -> usize {
        let total: usize = self.budgets.iter().sum();
        let mut r = trial_id % total;
        for (b, w) in self.budgets.iter().enumerate() {
            if r < *w {
                return b;
            }
            r -= w;
        }
        self.budgets.len() - 1
    }

    pub fn n_brackets(&self) -> usize {
        self.brackets.len()
    }

    pub fn budgets(&self) -> &[usize] {
        &self.budgets
    }
}

impl Assessor for Hyperband {
    fn assess(&mut self, trial_id: usize, history: &[f64]) -> Decision {
        let b = self.bracket_of(trial_id);
        self.brackets[b].assess(trial_id, history)
    }
    fn trial_end(&mut self, trial_id: usize, history: &[f64], completed: bool) {
        let b = self.bracket_of(trial_id);
        self.brackets[b].trial_end(trial_id, history, completed)
    }
    fn name(&self) -> &'static str {
        "hyperband"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpo::assessor::tests::feed as run;

    #[test]
    fn rungs_below_max_epochs() {
        let a = Asha::new(Direction::Maximize, Ladder::new(10, 1, 3, 0));
        assert_eq!(a.rung_epochs(), vec![1, 3, 9]);
        let a = Asha::new(Direction::Maximize, Ladder::new(9, 1, 3, 0));
        assert_eq!(a.rung_epochs(), vec![1, 3]);
        let a = Asha::new(Direction::Maximize, Ladder::new(100, 2, 2, 1));
        assert_eq!(a.rung_epochs(), vec![4, 8, 16, 32, 64]);
    }

    #[test]
    fn bootstrap_count_stops_the_first_trials_at_each_rung() {
        let mut a =
            Asha::new(Direction::Maximize, Ladder::new(10, 1, 3, 0)).with_bootstrap_count(2);
        // Rung 0 (epoch 1) holds 1, then 2 values: both trials stop there however good.
        assert_eq!(run(&mut a, 0, &[0.9; 10]), Some(1));
        assert_eq!(run(&mut a, 1, &[0.8; 10]), Some(1));
        // Third value at rung 0: 0.95 is the best of three (idx 0) → on to rung 1 (epoch 3),
        // where it is the first value → stopped by the bootstrap rule again.
        assert_eq!(run(&mut a, 2, &[0.95; 10]), Some(3));
        // A worse third-rung-0 competitor is stopped by the top-1/3 rule.
        assert_eq!(run(&mut a, 3, &[0.5; 10]), Some(1));
    }

    #[test]
    fn few_trials_must_be_best_then_top_third() {
        let mut a = Asha::new(Direction::Maximize, Ladder::new(10, 1, 3, 0));
        assert_eq!(run(&mut a, 0, &[0.5; 10]), None); // alone at every rung: promoted
        assert_eq!(run(&mut a, 1, &[0.4; 10]), Some(1)); // [0.5, 0.4]: must be the best
        assert_eq!(run(&mut a, 2, &[0.6, 0.6, 0.45, 0.7]), Some(3)); // rung 1 (epoch 3): 0.45 < 0.5
                                                                     // rung 0 now holds [0.5, 0.4, 0.6]; with 4 values idx = 0 → must beat 0.6
        assert_eq!(run(&mut a, 3, &[0.55]), Some(1));
        // 5 values [.5 .4 .6 .55 x] → idx 0 → x ≥ 0.6 continues
        assert_eq!(run(&mut a, 4, &[0.6]), None);
        // 6 values → idx 1 → second best (0.6) suffices
        assert_eq!(run(&mut a, 5, &[0.59]), Some(1));
        assert_eq!(run(&mut a, 6, &[0.6]), None);
    }

    #[test]
    fn minimize_and_nan() {
        let mut a = Asha::new(Direction::Minimize, Ladder::new(10, 1, 3, 0));
        assert_eq!(run(&mut a, 0, &[1.0, 1.0, 1.0]), None);
        assert_eq!(run(&mut a, 1, &[0.9, 0.9, 1.1]), Some(3));
        assert_eq!(run(&mut a, 2, &[f64::NAN]), Some(1));
    }

    #[test]
    fn stopped_trial_stays_stopped() {
        let mut a = Asha::new(Direction::Maximize, Ladder::new(10, 1, 3, 0));
        run(&mut a, 0, &[1.0]);
        assert_eq!(a.assess(1, &[0.0]), Decision::Stop);
        assert_eq!(a.assess(1, &[0.0, 5.0]), Decision::Stop);
    }

    #[test]
    fn hyperband_brackets_like_optuna() {
        let h = Hyperband::new(Direction::Maximize, 10, 1, 3);
        assert_eq!(h.n_brackets(), 3);
        assert_eq!(h.budgets(), &[9, 5, 3]);
        assert_eq!(h.brackets[0].rung_epochs(), vec![1, 3, 9]);
        assert_eq!(h.brackets[1].rung_epochs(), vec![3, 9]);
        assert_eq!(h.brackets[2].rung_epochs(), vec![9]);
        let b: Vec<usize> = (0..18).map(|i| h.bracket_of(i)).collect();
        assert_eq!(b, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 0]);
        let h = Hyperband::new(Direction::Maximize, 9, 1, 3);
        assert_eq!(h.n_brackets(), 3);
    }

    #[test]
    fn hyperband_brackets_compete_separately() {
        let mut h = Hyperband::new(Direction::Maximize, 10, 1, 3);
        // trial 0 (bracket 0) sets a high bar at epoch 1
        assert_eq!(run(&mut h, 0, &[0.9; 10]), None);
        // trial 1, bracket 0: worse at epoch 1 → stopped there
        assert_eq!(run(&mut h, 1, &[0.1; 10]), Some(1));
        // trial 9, bracket 1: first rung at epoch 3, own competition → survives alone
        assert_eq!(run(&mut h, 9, &[0.1; 10]), None);
        // trial 10, bracket 1: worse than trial 9 at epoch 3
        assert_eq!(run(&mut h, 10, &[0.05; 10]), Some(3));
    }
}
