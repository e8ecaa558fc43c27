//! Values a parsed result file must hold. Accuracies are fractions in [0, 1]: JSON cannot carry
//! NaN, but a hand-edited 97.5 (a percentage) or -0.1 would silently skew every mean and gate.
use super::ResultFile;
use crate::train::RunOutcome;

/// The first accuracy outside [0, 1], as its JSON path and value.
pub(super) fn out_of_range_accuracy(result: &ResultFile) -> Option<(String, f64)> {
    result.arms.iter().enumerate().find_map(|(i, arm)| {
        in_runs(&arm.runs, &format!("arms[{i}].runs")).or_else(|| {
            let nas = arm.nas.as_ref()?;
            in_runs(&nas.random_runs, &format!("arms[{i}].nas.random_runs"))
        })
    })
}

fn in_runs(runs: &[RunOutcome], at: &str) -> Option<(String, f64)> {
    let bad = |v: f64| !(0.0..=1.0).contains(&v);
    runs.iter().enumerate().find_map(|(j, r)| {
        let finals = [
            ("final_test_acc", r.final_test_acc),
            ("best_test_acc", r.best_test_acc),
        ];
        finals
            .into_iter()
            .find_map(|(name, v)| {
                v.filter(|v| bad(*v))
                    .map(|v| (format!("{at}[{j}].{name}"), v))
            })
            .or_else(|| {
                r.epochs.iter().enumerate().find_map(|(k, e)| {
                    [("train_acc", e.train_acc), ("test_acc", e.test_acc)]
                        .into_iter()
                        .find(|(_, v)| bad(*v))
                        .map(|(name, v)| (format!("{at}[{j}].epochs[{k}].{name}"), v))
                })
            })
    })
}
