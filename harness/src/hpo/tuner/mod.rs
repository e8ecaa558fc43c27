//! Tuners: propose parameter sets, learn from finished trials.
//!
//! | name        | what                                                                 |
//! |-------------|----------------------------------------------------------------------|
//! | `random`    | independent draws, a repeat replaced by an untried grid point (NNI)   |
//! | `grid`      | full product of choice / randint / quniform values, then exhausted    |
//! | `tpe`       | hyperopt-style Tree-structured Parzen Estimator                       |
//! | `anneal`    | hyperopt-style annealing around good past trials                      |
//! | `evolution` | NNI's evolution tuner (population, tournament of two, one mutation)   |

mod anneal;
mod dedup;
mod evolution;
mod grid;
mod random;
mod tpe;
mod tpe_joint;

pub use anneal::Anneal;
pub use evolution::Evolution;
pub use grid::Grid;
pub use random::RandomTuner;
pub use tpe::{Tpe, TpeConfig};

use crate::hpo::space::{NodeVal, Params, SearchSpace};
use crate::hpo::BuildError;
use serde::{Deserialize, Serialize};

/// A configuration as text with every object's keys sorted (NNI compares
/// `nni.dump(params, sort_keys=True)`).
pub(crate) fn canonical(params: &Params) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(&serde_json::Value::Object(params.clone())).to_string()
}

/// Whether larger or smaller metrics are better. Deliberately no `Default`: NNI's silent
/// default (TPE minimises unless told otherwise) is exactly the mistake to make impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Maximize,
    Minimize,
}

impl Direction {
    /// Parse "maximize"/"minimize" in any case (NNI's own spellings; NNI takes no "max").
    pub fn parse(s: &str) -> Option<Direction> {
        match s.to_ascii_lowercase().as_str() {
            "maximize" => Some(Direction::Maximize),
            "minimize" => Some(Direction::Minimize),
            _ => None,
        }
    }

    /// The name results and reports record: "maximize" or "minimize".
    pub fn name(self) -> &'static str {
        match self {
            Direction::Maximize => "maximize",
            Direction::Minimize => "minimize",
        }
    }

    /// Loss to minimise: `-metric` when maximising. Missing or NaN metrics are +inf (worst).
    pub fn loss(self, metric: Option<f64>) -> f64 {
        match metric {
            Some(m) if !m.is_nan() => match self {
                Direction::Maximize => -m,
                Direction::Minimize => m,
            },
            _ => f64::INFINITY,
        }
    }

    /// `a` strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Maximize => a > b,
            Direction::Minimize => a < b,
        }
    }
}

/// One finished trial as the model-based tuners (TPE, Anneal) keep it: its parameters as
/// node values of the space, and its loss (`Direction::loss` of the metric).
pub(crate) struct Observation {
    pub trial: usize,
    pub vals: Vec<Option<NodeVal>>,
    pub loss: f64,
}

/// Adds `rec` to `obs`, replacing the same trial's earlier observation: a promoted trial is
/// observed again, with its higher-fidelity metric.
pub(crate) fn record_observation(obs: &mut Vec<Observation>, rec: Observation) {
    match obs.iter_mut().find(|r| r.trial == rec.trial) {
        Some(earlier) => *earlier = rec,
        None => obs.push(rec),
    }
}

pub trait Tuner: Send {
    /// Next parameter set, or None when the tuner is exhausted (grid).
    fn propose(&mut self, trial_id: usize) -> Option<Params>;
    /// Result of a finished trial; None = failed (no metric). Raw metric; the tuner applies
    /// its Direction. A trial paused and later continued (ASHA with promotions) is observed
    /// again when its continuation ends: the later, higher-fidelity metric replaces the earlier.
    fn observe(&mut self, trial_id: usize, params: &Params, metric: Option<f64>);
    fn name(&self) -> &'static str;
}

/// Valid names for [`build_tuner`].
pub const TUNER_NAMES: [&str; 5] = ["random", "grid", "tpe", "anneal", "evolution"];

/// The tuner a suite's `tuner` names, as [`build_tuner`] and results spell it: one of
/// [`TUNER_NAMES`] in any case (NNI's config.yml writes `TPE`, `Random`, `Anneal`,
/// `Evolution`), or NNI's `GridSearch` for `grid`. None for any other name.
pub fn canonical_tuner_name(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if lower == "gridsearch" {
        return Some("grid");
    }
    TUNER_NAMES.into_iter().find(|n| *n == lower)
}

/// Build a tuner by name. `options` is a JSON object (or null) of tuner-specific options;
/// unknown option keys are an error.
///
/// * `tpe`: `n_startup_trials` (20, NNI's `n_startup_jobs`), `gamma` (0.25),
///   `n_ei_candidates` (24), `prior_weight` (1.0), `quantile_split` (false: NNI's
///   min(ceil(gamma·sqrt(n)), 25) good records; true: ceil(gamma·n)), `constant_liar`
///   (true: pending proposals count as the best loss so far, NNI's default "best" liar),
///   `multivariate` (false: one estimator per parameter, as NNI and hyperopt; true: the
///   parameters of each level of the space modelled jointly, as Optuna's
///   `multivariate=True`).
/// * `anneal`: `avg_best_idx` (2.0), `shrink_coef` (0.1).
/// * `evolution`: `population_size` (20).
pub fn build_tuner(
    name: &str,
    space: &SearchSpace,
    direction: Direction,
    seed: u64,
    options: &serde_json::Value,
) -> Result<Box<dyn Tuner>, BuildError> {
    use crate::hpo::opts::Opts;
    Ok(match name {
        "random" => {
            Opts::new("random", options)?.finish()?;
            Box::new(RandomTuner::new(space.clone(), seed))
        }
        "grid" => {
            Opts::new("grid", options)?.finish()?;
            Box::new(Grid::new(space))
        }
        "tpe" => {
            let mut o = Opts::new("tpe", options)?;
            let cfg = tpe::TpeConfig {
                n_startup_trials: o.usize("n_startup_trials", 20, 0)?,
                gamma: o.f64("gamma", 0.25, |g| g > 0.0 && g < 1.0, "a number in (0, 1)")?,
                n_ei_candidates: o.usize("n_ei_candidates", 24, 1)?,
                prior_weight: o.f64("prior_weight", 1.0, |w| w > 0.0, "a number > 0")?,
                quantile_split: o.bool("quantile_split", false)?,
                constant_liar: o.bool("constant_liar", true)?,
                multivariate: o.bool("multivariate", false)?,
            };
            o.finish()?;
            Box::new(Tpe::new(space.clone(), direction, seed, cfg))
        }
        "anneal" => {
            let mut o = Opts::new("anneal", options)?;
            let avg_best_idx = o.f64("avg_best_idx", 2.0, |x| x >= 1.0, "a number >= 1")?;
            let shrink_coef = o.f64("shrink_coef", 0.1, |x| x > 0.0, "a number > 0")?;
            o.finish()?;
            Box::new(Anneal::new(
                space.clone(),
                direction,
                seed,
                avg_best_idx,
                shrink_coef,
            ))
        }
        "evolution" => {
            let mut o = Opts::new("evolution", options)?;
            let population_size = o.usize("population_size", 20, 1)?;
            o.finish()?;
            Box::new(Evolution::new(
                space.clone(),
                direction,
                seed,
                population_size,
            ))
        }
        other => {
            return Err(BuildError::UnknownTuner {
                name: other.to_string(),
                valid: TUNER_NAMES.iter().map(|s| s.to_string()).collect(),
            })
        }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{json, Value};

    pub(crate) fn space(text: &str) -> SearchSpace {
        SearchSpace::from_json_str(text, "search_space.json").unwrap()
    }

    pub(crate) const MIXED: &str = r#"{
        "lr": {"_type": "loguniform", "_value": [1e-4, 0.1]},
        "bs": {"_type": "choice", "_value": [64, 128, 256]},
        "k": {"_type": "randint", "_value": [0, 5]},
        "q": {"_type": "quniform", "_value": [0, 10, 2]},
        "n": {"_type": "normal", "_value": [0, 1]},
        "ln": {"_type": "qlognormal", "_value": [0, 1, 0.5]},
        "opt": {"_type": "choice", "_value": [
            {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0.5, 0.99]}},
            {"_name": "adam", "beta1": {"_type": "qloguniform", "_value": [0.8, 0.99, 0.01]}}
        ]}
    }"#;

    /// A deterministic objective over MIXED.
    pub(crate) fn mixed_objective(p: &Params) -> f64 {
        let lr = p["lr"].as_f64().unwrap();
        let bs = p["bs"].as_f64().unwrap();
        let opt = &p["opt"];
        let bonus = if opt["_name"] == "sgd" {
            opt["momentum"].as_f64().unwrap()
        } else {
            0.3
        };
        -(lr.log10() + 2.0).powi(2) - (bs - 128.0).abs() / 128.0
            + bonus
            + 0.01 * p["k"].as_f64().unwrap()
    }

    /// Run `n` sequential trials; returns the proposals.
    pub(crate) fn drive(
        t: &mut dyn Tuner,
        n: usize,
        f: &dyn Fn(&Params) -> Option<f64>,
    ) -> Vec<Params> {
        let mut out = Vec::new();
        for id in 0..n {
            let Some(p) = t.propose(id) else { break };
            let m = f(&p);
            t.observe(id, &p, m);
            out.push(p);
        }
        out
    }

    #[test]
    fn unknown_tuner_lists_valid_names() {
        let s = space(MIXED);
        let e = build_tuner("smac", &s, Direction::Maximize, 0, &Value::Null)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("\"smac\"") && e.contains("random, grid, tpe, anneal, evolution"),
            "{e}"
        );
    }

    #[test]
    fn bad_and_unknown_options() {
        let s = space(MIXED);
        let e = build_tuner("tpe", &s, Direction::Maximize, 0, &json!({"gamma": 2}))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("tpe") && e.contains("\"gamma\""), "{e}");
        let e = build_tuner(
            "tpe",
            &s,
            Direction::Maximize,
            0,
            &json!({"n_startup_jobs": 2}),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("\"n_startup_jobs\"") && e.contains("n_startup_trials"),
            "{e}"
        );
        let e = build_tuner("random", &s, Direction::Maximize, 0, &json!(3))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("the options must be a table"), "{e}");
    }

    #[test]
    fn every_model_tuner_is_reproducible_and_seed_dependent() {
        let s = space(MIXED);
        for name in ["random", "tpe", "anneal", "evolution"] {
            let opts = if name == "tpe" {
                json!({"n_startup_trials": 5})
            } else if name == "evolution" {
                json!({"population_size": 4})
            } else {
                Value::Null
            };
            let run = |seed: u64| {
                let mut t = build_tuner(name, &s, Direction::Maximize, seed, &opts).unwrap();
                assert_eq!(t.name(), name);
                // a failure now and then must not break anything
                drive(t.as_mut(), 25, &|p: &Params| {
                    let v = mixed_objective(p);
                    if p["k"] == 4 {
                        None
                    } else {
                        Some(v)
                    }
                })
            };
            let a = run(11);
            assert_eq!(a.len(), 25, "{name}");
            assert_eq!(a, run(11), "{name} not reproducible");
            assert_ne!(a, run(12), "{name} ignores the seed");
            // every proposal is structurally valid
            for p in &a {
                assert_eq!(p.len(), 7, "{name}: {p:?}");
                let lr = p["lr"].as_f64().unwrap();
                assert!((1e-4..=0.1).contains(&lr), "{name}: lr {lr}");
                let k = p["k"].as_i64().unwrap();
                assert!((0..5).contains(&k), "{name}");
                let q = p["q"].as_i64().unwrap();
                assert!(q % 2 == 0 && (0..=10).contains(&q), "{name}");
                let o = p["opt"].as_object().unwrap();
                match o["_name"].as_str().unwrap() {
                    "sgd" => assert!((0.5..=0.99).contains(&o["momentum"].as_f64().unwrap())),
                    "adam" => assert!((0.8..=0.99).contains(&o["beta1"].as_f64().unwrap())),
                    x => panic!("{x}"),
                }
                assert_eq!(o.len(), 2);
            }
        }
    }

    #[test]
    fn a_trial_observed_again_replaces_its_earlier_observation() {
        let rec = |trial: usize, loss: f64| Observation {
            trial,
            vals: Vec::new(),
            loss,
        };
        let mut obs = Vec::new();
        record_observation(&mut obs, rec(0, -0.5));
        record_observation(&mut obs, rec(1, -0.6));
        // Trial 0 promoted and finished at a higher fidelity: one entry, the later loss, in
        // its first place.
        record_observation(&mut obs, rec(0, -0.9));
        let seen: Vec<(usize, f64)> = obs.iter().map(|o| (o.trial, o.loss)).collect();
        assert_eq!(seen, [(0, -0.9), (1, -0.6)]);
    }

    #[test]
    fn nni_tuner_names_in_any_case_name_the_same_tuner() {
        for (written, name) in [
            ("TPE", "tpe"),
            ("Random", "random"),
            ("Anneal", "anneal"),
            ("Evolution", "evolution"),
            ("GridSearch", "grid"),
            ("gridsearch", "grid"),
            ("GRID", "grid"),
            ("tpe", "tpe"),
        ] {
            assert_eq!(canonical_tuner_name(written), Some(name), "{written}");
        }
        // Other NNI tuners are not here; no name is guessed at.
        for other in ["SMAC", "TPE_legacy", "grid_search", "Hyperband", ""] {
            assert_eq!(canonical_tuner_name(other), None, "{other}");
        }
    }

    #[test]
    fn direction_parse_and_loss() {
        assert_eq!(Direction::parse("Maximize"), Some(Direction::Maximize));
        assert_eq!(Direction::parse("MINIMIZE"), Some(Direction::Minimize));
        // NNI's OptimizeMode has only the two full words.
        assert_eq!(Direction::parse("min"), None);
        assert_eq!(Direction::parse("max"), None);
        assert_eq!(Direction::parse("up"), None);
        assert_eq!(Direction::Maximize.name(), "maximize");
        assert_eq!(Direction::Maximize.loss(Some(2.0)), -2.0);
        assert_eq!(Direction::Minimize.loss(None), f64::INFINITY);
        assert_eq!(Direction::Maximize.loss(Some(f64::NAN)), f64::INFINITY);
        assert_eq!(
            serde_json::to_string(&Direction::Maximize).unwrap(),
            "\"maximize\""
        );
    }
}
