//! NNI's evolution tuner (`evolution_tuner.py`).
//!
//! The population starts as `population_size` random individuals without results; they are
//! proposed first (each proposal removes it from the population; its result re-enters it).
//! Afterwards: shuffle the population; if the first has a worse result than the second, the
//! second's copy replaces the first; mutate one uniformly chosen active parameter of the
//! first (re-drawn from its prior; a nested choice re-draws its whole branch); remove the
//! second (the loser) from the population; propose the mutant. Where the mutated parameter
//! is inside a nested option, NNI 3.0 proposes the parent unchanged (it copies any choice
//! that is not re-drawn whole); here the sub-parameter is re-drawn. A failed trial (no
//! metric) is replaced by a fresh random individual, as NNI does. (NNI's current code
//! defaults `population_size` to 32; its docs and this harness use 20.)

use crate::hpo::space::{
    option_index, sample_dist, ChoiceOption, Dist, Param, Params, SearchSpace,
};
use crate::hpo::tuner::{Direction, Tuner};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

#[derive(Clone)]
struct Individual {
    /// The trial that evaluated it (None: not proposed yet).
    trial: Option<usize>,
    params: Params,
    /// Higher is better (−loss); None = not evaluated yet.
    reward: Option<f64>,
}

pub struct Evolution {
    space: SearchSpace,
    direction: Direction,
    rng: ChaCha8Rng,
    population: Vec<Individual>,
}

impl Evolution {
    pub fn new(
        space: SearchSpace,
        direction: Direction,
        seed: u64,
        population_size: usize,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let population = (0..population_size)
            .map(|_| Individual {
                trial: None,
                params: space.sample(&mut rng),
                reward: None,
            })
            .collect();
        Evolution {
            space,
            direction,
            rng,
            population,
        }
    }
}

/// Re-draw node `target` inside `params`; true when found.
fn mutate(ps: &[Param], params: &mut Params, target: usize, rng: &mut ChaCha8Rng) -> bool {
    for p in ps {
        if p.id == target {
            params.insert(p.name.clone(), sample_dist(&p.dist, rng));
            return true;
        }
        if let (Dist::Choice(opts), Some(Value::Object(m))) = (&p.dist, params.get_mut(&p.name)) {
            let v = Value::Object(m.clone());
            if let Some(i) = option_index(opts, &v) {
                if let ChoiceOption::Nested { params: subs, .. } = &opts[i] {
                    if mutate(subs, m, target, rng) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

impl Tuner for Evolution {
    fn propose(&mut self, _trial_id: usize) -> Option<Params> {
        if let Some(pos) = self.population.iter().position(|i| i.reward.is_none()) {
            return Some(self.population.remove(pos).params);
        }
        if self.population.is_empty() {
            return Some(self.space.sample(&mut self.rng));
        }
        self.population.shuffle(&mut self.rng);
        if self.population.len() > 1 && self.population[0].reward < self.population[1].reward {
            self.population[0] = self.population[1].clone();
        }
        let mut child = self.population[0].params.clone();
        let active: Vec<usize> = self
            .space
            .extract(&child)
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|_| i))
            .collect();
        if !active.is_empty() {
            let target = active[self.rng.random_range(0..active.len())];
            mutate(&self.space.params, &mut child, target, &mut self.rng);
        }
        if self.population.len() > 1 {
            self.population.remove(1);
        }
        Some(child)
    }

    fn observe(&mut self, trial_id: usize, params: &Params, metric: Option<f64>) {
        let loss = self.direction.loss(metric);
        // A promoted trial is observed again: its individuals (and their copies) take the
        // higher-fidelity reward.
        let mut known = false;
        for i in self
            .population
            .iter_mut()
            .filter(|i| i.trial == Some(trial_id))
        {
            i.reward = Some(-loss).filter(|r| r.is_finite());
            known = true;
        }
        if known {
            return;
        }
        if loss.is_finite() {
            self.population.push(Individual {
                trial: Some(trial_id),
                params: params.clone(),
                reward: Some(-loss),
            });
        } else {
            // NNI `trial_end(success=False)`: a fresh random individual takes its place
            let params = self.space.sample(&mut self.rng);
            self.population.push(Individual {
                trial: None,
                params,
                reward: None,
            });
        }
    }

    fn name(&self) -> &'static str {
        "evolution"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpo::tuner::tests::{drive, space};

    #[test]
    fn first_population_is_random_then_mutants_differ_in_one_param() {
        let s = space(
            r#"{"a": {"_type": "uniform", "_value": [0, 1]}, "b": {"_type": "uniform", "_value": [0, 1]},
                "c": {"_type": "choice", "_value": [1, 2, 3, 4, 5, 6, 7, 8]}}"#,
        );
        let mut t = Evolution::new(s, Direction::Maximize, 2, 4);
        let f = |p: &Params| Some(p["a"].as_f64().unwrap() + p["b"].as_f64().unwrap());
        let ps = drive(&mut t, 30, &f);
        // every later proposal is an earlier one with (at most) one parameter re-drawn
        for i in 4..ps.len() {
            let min_diff = ps[..i]
                .iter()
                .map(|q| {
                    ["a", "b", "c"]
                        .iter()
                        .filter(|k| q[**k] != ps[i][**k])
                        .count()
                })
                .min()
                .unwrap();
            assert!(
                min_diff <= 1,
                "proposal {i} differs from every earlier one in >1 parameter"
            );
        }
        let early = ps[..4].iter().map(|p| f(p).unwrap()).sum::<f64>() / 4.0;
        let late = ps[26..].iter().map(|p| f(p).unwrap()).sum::<f64>() / 4.0;
        assert!(late > early, "late {late} early {early}");
    }

    #[test]
    fn failed_trial_is_replaced_by_a_random_individual() {
        let s = space(
            r#"{"a": {"_type": "uniform", "_value": [0, 1]}, "b": {"_type": "uniform", "_value": [0, 1]}}"#,
        );
        let mut t = Evolution::new(s.clone(), Direction::Maximize, 3, 1);
        let p0 = t.propose(0).unwrap();
        t.observe(0, &p0, None);
        assert_eq!(t.population.len(), 1);
        assert_eq!(t.population[0].reward, None);
        let p1 = t.propose(1).unwrap();
        // a fresh draw, not a one-parameter mutant of p0
        assert!(p1["a"] != p0["a"] && p1["b"] != p0["b"]);
        assert!(t.population.is_empty());
    }
}
