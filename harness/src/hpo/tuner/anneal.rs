//! Annealing, after hyperopt's `anneal.suggest` (NNI's Anneal tuner).
//!
//! Pick a good past trial: rank successful trials by loss and take index
//! `geometric(1/avg_best_idx) - 1` (mostly the best). For each parameter, with
//! `shrink = 1 / (1 + T · shrink_coef)` where T = number of successful observations of that
//! parameter: bounded numeric → uniform in a window of width shrink·(high − low) around the
//! picked value (transformed space, clipped to the bounds); unbounded → normal around it with
//! sigma·shrink; categorical → keep the picked option, or with probability `shrink` draw a
//! fresh one. Parameters the picked trial did not have (other nested branch) are drawn from
//! the prior. With no successful trial yet, proposals are random.

use crate::hpo::space::{
    option_value, sample_dist, ChoiceOption, Dist, NodeVal, Param, Params, SearchSpace,
};
use crate::hpo::tuner::{record_observation, Direction, Observation, Tuner};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde_json::Value;

pub struct Anneal {
    space: SearchSpace,
    direction: Direction,
    rng: ChaCha8Rng,
    avg_best_idx: f64,
    shrink_coef: f64,
    obs: Vec<Observation>,
}

impl Anneal {
    pub fn new(
        space: SearchSpace,
        direction: Direction,
        seed: u64,
        avg_best_idx: f64,
        shrink_coef: f64,
    ) -> Self {
        Anneal {
            space,
            direction,
            rng: ChaCha8Rng::seed_from_u64(seed),
            avg_best_idx,
            shrink_coef,
            obs: Vec::new(),
        }
    }
}

struct Ctx<'a> {
    picked: &'a [Option<NodeVal>],
    counts: Vec<usize>,
    shrink_coef: f64,
}

fn walk(ps: &[Param], cx: &Ctx, rng: &mut ChaCha8Rng) -> Params {
    let mut out = Params::new();
    for p in ps {
        let shrink = 1.0 / (1.0 + cx.counts[p.id] as f64 * cx.shrink_coef);
        let v = match (&p.dist, cx.picked[p.id]) {
            (_, None) => sample_dist(&p.dist, rng),
            (Dist::Choice(opts), Some(NodeVal::Index(i))) => {
                if rng.random::<f64>() < shrink {
                    sample_dist(&p.dist, rng)
                } else {
                    match &opts[i] {
                        ChoiceOption::Nested { name, params } => {
                            let mut m = Params::new();
                            m.insert("_name".into(), Value::String(name.clone()));
                            m.extend(walk(params, cx, rng));
                            Value::Object(m)
                        }
                        o => option_value(o, rng),
                    }
                }
            }
            (Dist::RandInt { lower, .. }, Some(NodeVal::Index(i))) => {
                if rng.random::<f64>() < shrink {
                    sample_dist(&p.dist, rng)
                } else {
                    Value::from(lower + i as i64)
                }
            }
            (d, Some(NodeVal::Num(x))) => match d.numeric() {
                Some(n) => {
                    let c = n.transform(x);
                    let t = match (n.low, n.high) {
                        (Some(lo), Some(hi)) => {
                            let w = (hi - lo) * shrink;
                            let (a, b) = ((c - w / 2.0).max(lo), (c + w / 2.0).min(hi));
                            a + (b - a) * rng.random::<f64>()
                        }
                        _ => {
                            let z: f64 = rng.sample(StandardNormal);
                            c + n.prior_sigma * shrink * z
                        }
                    };
                    n.to_json(n.finalize(t))
                }
                None => sample_dist(d, rng),
            },
            (d, _) => sample_dist(d, rng),
        };
        out.insert(p.name.clone(), v);
    }
    out
}

impl Tuner for Anneal {
    fn propose(&mut self, _trial_id: usize) -> Option<Params> {
        let mut ok: Vec<usize> = (0..self.obs.len())
            .filter(|i| self.obs[*i].loss.is_finite())
            .collect();
        if ok.is_empty() {
            return Some(self.space.sample(&mut self.rng));
        }
        ok.sort_by(|a, b| self.obs[*a].loss.total_cmp(&self.obs[*b].loss));
        // geometric(p) - 1 failures before the first success, p = 1/avg_best_idx
        let p = 1.0 / self.avg_best_idx;
        let mut idx = 0;
        while idx + 1 < ok.len() && self.rng.random::<f64>() >= p {
            idx += 1;
        }
        let mut counts = vec![0; self.space.n_nodes];
        for i in &ok {
            for (c, v) in counts.iter_mut().zip(&self.obs[*i].vals) {
                if v.is_some() {
                    *c += 1;
                }
            }
        }
        let cx = Ctx {
            picked: &self.obs[ok[idx]].vals,
            counts,
            shrink_coef: self.shrink_coef,
        };
        Some(walk(&self.space.params, &cx, &mut self.rng))
    }

    fn observe(&mut self, trial_id: usize, params: &Params, metric: Option<f64>) {
        let rec = Observation {
            trial: trial_id,
            vals: self.space.extract(params),
            loss: self.direction.loss(metric),
        };
        record_observation(&mut self.obs, rec);
    }

    fn name(&self) -> &'static str {
        "anneal"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpo::tuner::tests::{drive, space};

    #[test]
    fn anneal_narrows_in_on_the_optimum() {
        let s = space(r#"{"x": {"_type": "uniform", "_value": [0, 1]}}"#);
        let f = |p: &Params| Some(-(p["x"].as_f64().unwrap() - 0.3).powi(2));
        let mut t = Anneal::new(s, Direction::Maximize, 1, 2.0, 0.1);
        let ps = drive(&mut t, 60, &f);
        let d = ps[40..]
            .iter()
            .map(|p| (p["x"].as_f64().unwrap() - 0.3).abs())
            .sum::<f64>()
            / 20.0;
        assert!(d < 0.1, "{d}");
    }
}
