//! Assessors: per-epoch early-stopping decisions.
//!
//! | name         | rule                                                               |
//! |--------------|--------------------------------------------------------------------|
//! | `none`       | never stops                                                        |
//! | `medianstop` | NNI's Medianstop                                                   |
//! | `asha`       | asynchronous successive halving: `type = "stopping"` (Optuna's       |
//! |              | SuccessiveHalvingPruner) or `"promotion"` (pause and promote, Li et al.) |
//! | `hyperband`  | Optuna's HyperbandPruner: ASHA brackets, trials assigned by id     |
//!
//! Epochs are the resource; `history[i]` is the metric after epoch `i + 1`.

mod asha;
mod medianstop;
mod promotion;

pub use asha::{Asha, Hyperband, Ladder};
pub use medianstop::MedianStop;
pub use promotion::AshaPromotion;

use crate::hpo::opts::Opts;
use crate::hpo::tuner::Direction;
use crate::hpo::BuildError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Continue,
    Stop,
}

pub trait Assessor: Send + Snapshot {
    /// history = this trial's intermediate metrics for epochs 1..=epoch (raw values;
    /// assessor knows Direction).
    fn assess(&mut self, trial_id: usize, history: &[f64]) -> Decision;
    /// The trial ended (completed = ran its full budget).
    fn trial_end(&mut self, trial_id: usize, history: &[f64], completed: bool);
    /// For assessors that pause trials instead of stopping them ([`Assessor::pauses`]): a
    /// paused trial to continue before any new trial starts, if there is one. `finishing`: no
    /// new trial will start any more.
    fn next_promotion(&mut self, _finishing: bool) -> Option<usize> {
        None
    }
    /// Whether a trial this assessor stops may be continued later (it must then keep a
    /// checkpoint of the epoch it stopped at).
    fn pauses(&self) -> bool {
        false
    }
    fn name(&self) -> &'static str;
}

/// A copy of an assessor's state. Trials that run at the same time each decide on a copy
/// taken when their batch started, so no decision depends on which of them reached an epoch
/// first. Every assessor that is `Clone` has it.
pub trait Snapshot {
    fn snapshot(&self) -> Box<dyn Assessor>;
}

impl<A: Assessor + Clone + 'static> Snapshot for A {
    fn snapshot(&self) -> Box<dyn Assessor> {
        Box::new(self.clone())
    }
}

/// Never stops anything.
#[derive(Clone)]
pub struct NoAssessor;

impl Assessor for NoAssessor {
    fn assess(&mut self, _trial_id: usize, _history: &[f64]) -> Decision {
        Decision::Continue
    }
    fn trial_end(&mut self, _trial_id: usize, _history: &[f64], _completed: bool) {}
    fn name(&self) -> &'static str {
        "none"
    }
}

// Option defaults, shared by `build_assessor` and `check_can_stop` (NNI's and Optuna's).
const DEFAULT_START_STEP: usize = 0;
const DEFAULT_MIN_RESOURCE: usize = 1;
const DEFAULT_REDUCTION_FACTOR: usize = 3;
const DEFAULT_EARLY_STOPPING_RATE: usize = 0;

/// Valid names for [`build_assessor`].
pub const ASSESSOR_NAMES: [&str; 4] = ["none", "medianstop", "asha", "hyperband"];

/// The assessor a suite's `assessor` names, as [`build_assessor`] and results spell it: one of
/// [`ASSESSOR_NAMES`] in any case (NNI's config.yml writes `Medianstop`). None otherwise.
pub fn canonical_assessor_name(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    ASSESSOR_NAMES.into_iter().find(|n| *n == lower)
}

/// Build an assessor by name; `max_epochs` is the full per-trial budget.
///
/// Options (JSON object or null; unknown keys are an error):
/// * `medianstop`: `start_step` (0, as NNI).
/// * `asha`: `type` ("stopping"; "promotion": pause at rungs, promote later;
///   "synchronous": successive halving, promotions once no new trial starts),
///   `min_resource` (1), `reduction_factor` (3), `min_early_stopping_rate` (0),
///   `bootstrap_count` (0, stopping only).
/// * `hyperband`: `min_resource` (1), `reduction_factor` (3).
pub fn build_assessor(
    name: &str,
    direction: Direction,
    max_epochs: usize,
    options: &serde_json::Value,
) -> Result<Box<dyn Assessor>, BuildError> {
    let bad_max = |c: &str| BuildError::BadOption {
        component: c.into(),
        key: "max_epochs".into(),
        reason: "must be >= 1".into(),
    };
    Ok(match name {
        "none" => {
            Opts::new("none", options)?.finish()?;
            Box::new(NoAssessor)
        }
        "medianstop" => {
            let mut o = Opts::new("medianstop", options)?;
            let start_step = o.usize("start_step", DEFAULT_START_STEP, 0)?;
            o.finish()?;
            Box::new(MedianStop::new(direction, start_step))
        }
        "asha" => {
            if max_epochs == 0 {
                return Err(bad_max("asha"));
            }
            let mut o = Opts::new("asha", options)?;
            let kind = o.choice(
                "type",
                "stopping",
                &["stopping", "promotion", "synchronous"],
            )?;
            let min_resource = o.usize("min_resource", DEFAULT_MIN_RESOURCE, 1)?;
            let eta = o.usize("reduction_factor", DEFAULT_REDUCTION_FACTOR, 2)?;
            let rate = o.usize("min_early_stopping_rate", DEFAULT_EARLY_STOPPING_RATE, 0)?;
            let ladder = Ladder::new(max_epochs, min_resource, eta, rate);
            if kind != "stopping" {
                o.finish()?;
                let a = AshaPromotion::new(direction, ladder);
                return Ok(Box::new(if kind == "synchronous" {
                    a.synchronous()
                } else {
                    a
                }));
            }
            let bootstrap = o.usize("bootstrap_count", 0, 0)?;
            o.finish()?;
            Box::new(Asha::new(direction, ladder).with_bootstrap_count(bootstrap))
        }
        "hyperband" => {
            if max_epochs == 0 {
                return Err(bad_max("hyperband"));
            }
            let mut o = Opts::new("hyperband", options)?;
            let min_resource = o.usize("min_resource", DEFAULT_MIN_RESOURCE, 1)?;
            let eta = o.usize("reduction_factor", DEFAULT_REDUCTION_FACTOR, 2)?;
            o.finish()?;
            Box::new(Hyperband::new(direction, max_epochs, min_resource, eta))
        }
        other => {
            return Err(BuildError::UnknownAssessor {
                name: other.to_string(),
                valid: ASSESSOR_NAMES.iter().map(|s| s.to_string()).collect(),
            })
        }
    })
}

/// For a suite as written: an assessor whose rule can never apply to a trial of `max_epochs`
/// epochs (ASHA or Hyperband with no rung below it, Medianstop starting at or after it) is a
/// setting mistake, not a choice — `assessor = "none"` says that. (A run shortened with
/// `--epochs` may end up there legitimately, so this is not part of [`build_assessor`].)
/// `options` must already have been accepted by [`build_assessor`].
pub fn check_can_stop(
    name: &str,
    max_epochs: usize,
    options: &serde_json::Value,
) -> Result<(), BuildError> {
    let get = |key: &str, default: usize| {
        options
            .get(key)
            .and_then(serde_json::Value::as_u64)
            .map_or(default, |v| v as usize)
    };
    let bad = |component: &str, key: &str, reason: String| {
        Err(BuildError::BadOption {
            component: component.into(),
            key: key.into(),
            reason,
        })
    };
    match name {
        "medianstop" if get("start_step", DEFAULT_START_STEP) >= max_epochs => bad(
            name,
            "start_step",
            format!(
                "{} is not below trial_epochs = {max_epochs}: the rule would never stop a trial \
                 (use assessor = \"none\" for no early stopping)",
                get("start_step", DEFAULT_START_STEP)
            ),
        ),
        "asha" | "hyperband" => {
            let rate = if name == "asha" {
                get("min_early_stopping_rate", DEFAULT_EARLY_STOPPING_RATE)
            } else {
                0
            };
            let (min_resource, eta) = (
                get("min_resource", DEFAULT_MIN_RESOURCE),
                get("reduction_factor", DEFAULT_REDUCTION_FACTOR),
            );
            if !Ladder::new(max_epochs, min_resource, eta, rate)
                .epochs()
                .is_empty()
            {
                return Ok(());
            }
            let key = if rate > 0 {
                "min_early_stopping_rate"
            } else {
                "min_resource"
            };
            bad(
                name,
                key,
                format!(
                    "the first rung (min_resource · reduction_factor^min_early_stopping_rate = \
                     {min_resource} · {eta}^{rate}) is not below trial_epochs = {max_epochs}: no \
                     trial would ever be stopped (lower it, or use assessor = \"none\")"
                ),
            )
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Feeds a trial's curve epoch by epoch until the assessor says Stop (returns that epoch)
    /// or the curve ends (None), then reports the trial's end.
    pub(crate) fn feed(a: &mut dyn Assessor, id: usize, curve: &[f64]) -> Option<usize> {
        for e in 1..=curve.len() {
            if a.assess(id, &curve[..e]) == Decision::Stop {
                a.trial_end(id, &curve[..e], false);
                return Some(e);
            }
        }
        a.trial_end(id, curve, true);
        None
    }

    #[test]
    fn a_rule_that_can_never_stop_a_trial_is_refused_for_a_suite() {
        let err = |name: &str, epochs: usize, o: Value| {
            check_can_stop(name, epochs, &o)
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(err("asha", 6, json!({"min_resource": 2})), None); // a rung at 2
        assert_eq!(err("hyperband", 2, Value::Null), None); // a rung at 1
        assert_eq!(err("medianstop", 6, json!({"start_step": 5})), None);
        assert_eq!(err("none", 1, Value::Null), None);
        let e = err("asha", 6, json!({"min_resource": 6})).unwrap();
        assert!(
            e.contains("min_resource") && e.contains("6 · 3^0) is not below trial_epochs = 6"),
            "{e}"
        );
        let e = err(
            "asha",
            10,
            json!({"min_resource": 2, "reduction_factor": 2, "min_early_stopping_rate": 3}),
        )
        .unwrap();
        assert!(
            e.contains("min_early_stopping_rate") && e.contains("2 · 2^3"),
            "{e}"
        );
        let e = err("hyperband", 3, json!({"min_resource": 4})).unwrap();
        assert!(e.contains("min_resource"), "{e}");
        let e = err("medianstop", 6, json!({"start_step": 6})).unwrap();
        assert!(e.contains("start_step") && e.contains("never stop"), "{e}");
    }

    #[test]
    fn names_and_errors() {
        for n in ASSESSOR_NAMES {
            let a = build_assessor(n, Direction::Maximize, 10, &Value::Null).unwrap();
            assert_eq!(a.name(), n);
        }
        // NNI's config.yml spelling; any case names the same assessor.
        assert_eq!(canonical_assessor_name("Medianstop"), Some("medianstop"));
        assert_eq!(canonical_assessor_name("ASHA"), Some("asha"));
        assert_eq!(canonical_assessor_name("Curvefitting"), None);
        let e = build_assessor("curvefitting", Direction::Maximize, 10, &Value::Null)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("\"curvefitting\"") && e.contains("none, medianstop, asha, hyperband"),
            "{e}"
        );
        let e = build_assessor("asha", Direction::Maximize, 10, &json!({"eta": 2}))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("\"eta\"") && e.contains("reduction_factor"),
            "{e}"
        );
        let e = build_assessor(
            "asha",
            Direction::Maximize,
            10,
            &json!({"reduction_factor": 1}),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("reduction_factor") && e.contains(">= 2"), "{e}");
        let e = build_assessor("asha", Direction::Maximize, 10, &json!({"type": "pause"}))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("\"type\"") && e.contains("stopping, promotion, synchronous"),
            "{e}"
        );
        // bootstrap_count belongs to the stopping rule.
        let e = build_assessor(
            "asha",
            Direction::Maximize,
            10,
            &json!({"type": "promotion", "bootstrap_count": 2}),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("\"bootstrap_count\""), "{e}");
        let a = build_assessor(
            "asha",
            Direction::Maximize,
            10,
            &json!({"type": "promotion"}),
        );
        assert!(a.unwrap().pauses());
        assert!(
            !build_assessor("asha", Direction::Maximize, 10, &Value::Null)
                .unwrap()
                .pauses()
        );
    }

    #[test]
    fn none_never_stops() {
        let mut a = NoAssessor;
        assert_eq!(a.assess(0, &[0.0, -1e9]), Decision::Continue);
    }
}
