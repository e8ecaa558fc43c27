//! Values a parsed result file must hold: what `harness run` writes, so that a hand-edited or
//! foreign file is refused rather than gated on. Accuracies are fractions in [0, 1]: JSON cannot
//! carry NaN, but a hand-edited 97.5 (a percentage) or -0.1 would silently skew every mean and
//! gate, or, in a search's trials, the report's choice of the best trial and its plots.
use super::{ArmResult, HpoRecord, ResultFile, RunStatus};
use crate::suite::ArmKind;
use crate::train::RunOutcome;

/// The first value `harness run` never writes, as `JSON path: why`.
pub fn problem(result: &ResultFile) -> Option<String> {
    let label = &result.environment.label;
    if let Some(why) = crate::env::label_problem(label) {
        return Some(format!("environment.label: {label:?}: a label {why}"));
    }
    // `check` gates with the baseline file's tolerance: a negative one fails everything, one of
    // 1 or more passes any drop.
    if let Some(why) = crate::suite::tolerance_problem(result.suite.tolerance) {
        return Some(format!("suite.tolerance: {why}"));
    }
    let arms = result.arms.iter().enumerate().find_map(|(i, arm)| {
        let at = format!("arms[{i}]");
        name_problem(&result.arms, i)
            .or_else(|| runs_problem(&arm.runs, &format!("{at}.runs")))
            .or_else(|| unrun_problem(result, arm, &at))
            .or_else(|| {
                let nas = arm.nas.as_ref()?;
                runs_problem(&nas.random_runs, &format!("{at}.nas.random_runs"))
            })
    });
    arms.or_else(|| {
        out_of_range_accuracy(result)
            .map(|(field, v)| format!("{field}: {v} is not an accuracy (a fraction in [0, 1])"))
    })
    .or_else(|| {
        negative_duration(result)
            .map(|(field, v)| format!("{field}: {v} is not a duration (seconds, >= 0)"))
    })
}

/// The first negative time, as its JSON path and value: a report would sum it into a search's
/// cost or a speed (`-3.2 s`).
fn negative_duration(result: &ResultFile) -> Option<(String, f64)> {
    let negative = |at: String, v: f64| (v < 0.0).then_some((at, v));
    let in_runs = |runs: &[RunOutcome], at: &str| {
        runs.iter().enumerate().find_map(|(j, r)| {
            negative(format!("{at}[{j}].wall_seconds"), r.wall_seconds).or_else(|| {
                r.epochs.iter().enumerate().find_map(|(k, e)| {
                    negative(format!("{at}[{j}].epochs[{k}].seconds"), e.seconds)
                })
            })
        })
    };
    negative("wall_seconds".into(), result.wall_seconds).or_else(|| {
        result.arms.iter().enumerate().find_map(|(i, arm)| {
            let at = format!("arms[{i}]");
            in_runs(&arm.runs, &format!("{at}.runs"))
                .or_else(|| {
                    let hpo = arm.hpo.as_ref()?;
                    negative(
                        format!("{at}.hpo.search_cost.seconds"),
                        hpo.search_cost.seconds,
                    )
                    .or_else(|| {
                        hpo.trials.iter().enumerate().find_map(|(j, t)| {
                            negative(format!("{at}.hpo.trials[{j}].duration_s"), t.duration_s)
                        })
                    })
                })
                .or_else(|| {
                    let nas = arm.nas.as_ref()?;
                    negative(format!("{at}.nas.search_seconds"), nas.search_seconds)
                        .or_else(|| in_runs(&nas.random_runs, &format!("{at}.nas.random_runs")))
                })
        })
    })
}

/// An arm is one of the suite's fixed kinds, held once: `check` and `compare` pair arms by name,
/// so a second "manual" would never be gated and an unknown name never compared.
fn name_problem(arms: &[ArmResult], i: usize) -> Option<String> {
    let name = &arms[i].name;
    if !ArmKind::ALL.iter().any(|k| k.name() == name) {
        let known: Vec<&str> = ArmKind::ALL.iter().map(|k| k.name()).collect();
        return Some(format!(
            "arms[{i}].name: {name:?} is not an arm (expected {})",
            known.join(", ")
        ));
    }
    let first = arms[..i].iter().position(|a| a.name == *name)?;
    Some(format!(
        "arms[{i}].name: {name:?} is also the name of arms[{first}]; a result holds each arm once"
    ))
}

/// A complete result's arm has a run per seed or the error that stopped it (run saves an arm
/// after its first run or its failure; seeds are never empty). Without either it would gate as
/// inconclusive instead of failing like an arm that is missing. An unfinished result may hold
/// one: the tuned or nas arm during its search.
fn unrun_problem(result: &ResultFile, arm: &ArmResult, at: &str) -> Option<String> {
    let unrun = arm.runs.is_empty() && arm.error.is_none();
    (result.status == RunStatus::Complete && unrun).then(|| {
        format!(
            "{at}.runs: empty, and the arm records no \"error\", in a complete result; a \
             finished arm has a run per seed or the error that stopped it"
        )
    })
}

/// One run per seed (a repeated one would count twice in every mean and gate), and a run's
/// accuracies against its divergence: a finished run records them, a diverged one has none (the
/// arm counts it apart). A run with neither would drop out of the gate unseen.
/// What is wrong with one run, as a result file would say it (`run.epochs[0].test_acc: …`).
pub fn run_problem(run: &RunOutcome) -> Option<String> {
    let runs = std::slice::from_ref(run);
    runs_problem(runs, "run").or_else(|| {
        in_runs(runs, "run")
            .map(|(field, v)| format!("{field}: {v} is not an accuracy (a fraction in [0, 1])"))
    })
}

fn runs_problem(runs: &[RunOutcome], at: &str) -> Option<String> {
    runs.iter().enumerate().find_map(|(j, r)| {
        if let Some(k) = runs[..j].iter().position(|o| o.seed == r.seed) {
            return Some(format!(
                "{at}[{j}].seed: {} is also the seed of {at}[{k}]; an arm runs each seed once",
                r.seed
            ));
        }
        [
            ("final_test_acc", r.final_test_acc),
            ("best_test_acc", r.best_test_acc),
        ]
        .into_iter()
        .find_map(|(name, v)| match (v, r.diverged_at_epoch) {
            (None, None) => Some(format!(
                "{at}[{j}].{name}: missing or null in a run that did not diverge \
                 (\"diverged_at_epoch\": null); only a diverged run has no accuracy"
            )),
            (Some(v), Some(e)) => Some(format!(
                "{at}[{j}].{name}: {v} in a run that diverged at epoch {e}; a diverged run has \
                 no accuracy"
            )),
            _ => None,
        })
    })
}

/// The first accuracy outside [0, 1], as its JSON path and value.
fn out_of_range_accuracy(result: &ResultFile) -> Option<(String, f64)> {
    result
        .arms
        .iter()
        .enumerate()
        .find_map(|(i, arm)| in_arm(arm, &format!("arms[{i}]")))
}

fn in_arm(arm: &ArmResult, at: &str) -> Option<(String, f64)> {
    in_runs(&arm.runs, &format!("{at}.runs"))
        .or_else(|| in_search(arm.hpo.as_ref()?, &format!("{at}.hpo")))
        .or_else(|| in_trial_details(arm.hpo.as_ref()?, &format!("{at}.hpo")))
        .or_else(|| {
            let nas = arm.nas.as_ref()?;
            in_runs(&nas.random_runs, &format!("{at}.nas.random_runs"))
                .or_else(|| {
                    nas.random_samples.iter().enumerate().find_map(|(j, s)| {
                        let v = s.val_acc.filter(|v| outside(*v))?;
                        Some((format!("{at}.nas.random_samples[{j}].val_acc"), v))
                    })
                })
                .or_else(|| {
                    // The report tabulates them beside the search's losses.
                    nas.search_epochs.iter().enumerate().find_map(|(j, e)| {
                        [("train_acc", e.train_acc), ("arch_acc", e.arch_acc)]
                            .into_iter()
                            .find(|(_, v)| outside(*v))
                            .map(|(name, v)| (format!("{at}.nas.search_epochs[{j}].{name}"), v))
                    })
                })
        })
}

fn outside(v: f64) -> bool {
    !(0.0..=1.0).contains(&v)
}

/// A search's trial metrics, when they are accuracies (`val_acc`, `test_acc`).
fn in_search(hpo: &HpoRecord, at: &str) -> Option<(String, f64)> {
    if !matches!(hpo.metric.as_str(), "val_acc" | "test_acc") {
        return None;
    }
    let trials = hpo.trials.iter().enumerate().find_map(|(j, t)| {
        let at = format!("{at}.trials[{j}]");
        t.final_metric
            .filter(|v| outside(*v))
            .map(|v| (format!("{at}.final_metric"), v))
            .or_else(|| {
                t.intermediate
                    .iter()
                    .enumerate()
                    .find(|(_, v)| outside(**v))
                    .map(|(k, v)| (format!("{at}.intermediate[{k}]"), *v))
            })
    });
    trials.or_else(|| {
        let fidelity = hpo.fidelity.as_ref()?;
        fidelity.entries.iter().enumerate().find_map(|(j, e)| {
            let at = format!("{at}.fidelity.entries[{j}]");
            [
                ("search_metric", Some(e.search_metric)),
                ("full_budget_metric", e.full_budget_metric),
                ("full_budget_test_acc", e.full_budget_test_acc),
            ]
            .into_iter()
            .find_map(|(name, v)| {
                v.filter(|v| outside(*v))
                    .map(|v| (format!("{at}.{name}"), v))
            })
        })
    })
}

/// A trial's `details`: `harness run` stores the trial's epoch records there, whose
/// `train_acc` and `test_acc` are accuracies whatever the search's metric (the report plots
/// them). Other shapes are left alone: `details` is free-form in the schema.
fn in_trial_details(hpo: &HpoRecord, at: &str) -> Option<(String, f64)> {
    hpo.trials.iter().enumerate().find_map(|(j, t)| {
        t.details
            .as_array()?
            .iter()
            .enumerate()
            .find_map(|(k, record)| {
                ["train_acc", "test_acc"].into_iter().find_map(|name| {
                    let v = record.get(name)?.as_f64().filter(|v| outside(*v))?;
                    Some((format!("{at}.trials[{j}].details[{k}].{name}"), v))
                })
            })
    })
}

fn in_runs(runs: &[RunOutcome], at: &str) -> Option<(String, f64)> {
    runs.iter().enumerate().find_map(|(j, r)| {
        let finals = [
            ("final_test_acc", r.final_test_acc),
            ("best_test_acc", r.best_test_acc),
        ];
        finals
            .into_iter()
            .find_map(|(name, v)| {
                v.filter(|v| outside(*v))
                    .map(|v| (format!("{at}[{j}].{name}"), v))
            })
            .or_else(|| {
                r.epochs.iter().enumerate().find_map(|(k, e)| {
                    [("train_acc", e.train_acc), ("test_acc", e.test_acc)]
                        .into_iter()
                        .find(|(_, v)| outside(*v))
                        .map(|(name, v)| (format!("{at}[{j}].epochs[{k}].{name}"), v))
                })
            })
    })
}
