//! NNI's Medianstop assessor (`medianstop_assessor.py`), exactly:
//! at step S = history.len() ≥ start_step, collect the running average at S of every
//! *completed* trial that reached S; if there is at least one, stop when this trial's
//! best-so-far is worse than their median — maximize: best < sorted[(n−1)/2];
//! minimize: best > sorted[n/2] (NNI's lower/upper median respectively).

use super::{Assessor, Decision};
use crate::hpo::tuner::Direction;
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct MedianStop {
    direction: Direction,
    start_step: usize,
    completed_avg: BTreeMap<usize, Vec<f64>>,
}

impl MedianStop {
    pub fn new(direction: Direction, start_step: usize) -> Self {
        MedianStop {
            direction,
            start_step,
            completed_avg: BTreeMap::new(),
        }
    }
}

impl Assessor for MedianStop {
    fn assess(&mut self, _trial_id: usize, history: &[f64]) -> Decision {
        let step = history.len();
        if step == 0 || step < self.start_step {
            return Decision::Continue;
        }
        let max = self.direction == Direction::Maximize;
        let best = history.iter().copied().fold(
            if max {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
            |a, b| if max { a.max(b) } else { a.min(b) },
        );
        let mut avgs: Vec<f64> = self
            .completed_avg
            .values()
            .filter(|h| h.len() >= step)
            .map(|h| h[step - 1])
            .collect();
        if avgs.is_empty() {
            return Decision::Continue;
        }
        avgs.sort_by(f64::total_cmp);
        let n = avgs.len();
        let bad = if max {
            best < avgs[(n - 1) / 2]
        } else {
            best > avgs[n / 2]
        };
        if bad {
            Decision::Stop
        } else {
            Decision::Continue
        }
    }

    fn trial_end(&mut self, trial_id: usize, history: &[f64], completed: bool) {
        if !completed {
            return;
        }
        let mut sum = 0.0;
        let avg = history
            .iter()
            .enumerate()
            .map(|(i, v)| {
                sum += v;
                sum / (i + 1) as f64
            })
            .collect();
        self.completed_avg.insert(trial_id, avg);
    }

    fn name(&self) -> &'static str {
        "medianstop"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_a_completed_trial() {
        let mut m = MedianStop::new(Direction::Maximize, 0);
        assert_eq!(m.assess(0, &[0.0]), Decision::Continue);
        // an early-stopped / failed trial does not count
        m.trial_end(0, &[0.9, 0.9], false);
        assert_eq!(m.assess(1, &[0.0]), Decision::Continue);
    }

    #[test]
    fn stops_below_median_of_running_averages() {
        let mut m = MedianStop::new(Direction::Maximize, 0);
        // running averages: [0.5, 0.6, 0.7], [0.3, 0.4, 0.5], [0.7, 0.8, 0.9]
        m.trial_end(0, &[0.5, 0.7, 0.9], true);
        m.trial_end(1, &[0.3, 0.5, 0.7], true);
        m.trial_end(2, &[0.7, 0.9, 1.1], true);
        // step 1 median 0.5
        assert_eq!(m.assess(3, &[0.49]), Decision::Stop);
        assert_eq!(m.assess(3, &[0.5]), Decision::Continue);
        // step 2: averages 0.4, 0.6, 0.8 → median 0.6; best-so-far counts, not the last value
        assert_eq!(m.assess(4, &[0.65, 0.1]), Decision::Continue);
        assert_eq!(m.assess(5, &[0.55, 0.59]), Decision::Stop);
        // step 4: no completed trial got that far
        assert_eq!(m.assess(6, &[0.0, 0.0, 0.0, 0.0]), Decision::Continue);
    }

    #[test]
    fn minimize_uses_upper_median_and_start_step() {
        let mut m = MedianStop::new(Direction::Minimize, 2);
        m.trial_end(0, &[1.0, 1.0], true);
        m.trial_end(1, &[2.0, 2.0], true);
        // before start_step nothing is judged
        assert_eq!(m.assess(2, &[9.0]), Decision::Continue);
        // step 2 averages [1, 2] → NNI minimize median = sorted[1] = 2
        assert_eq!(m.assess(2, &[9.0, 1.9]), Decision::Continue);
        assert_eq!(m.assess(3, &[9.0, 2.1]), Decision::Stop);
    }
}
