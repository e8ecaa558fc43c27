//! Result files of earlier builds, read as they meant: fields those builds recorded otherwise
//! are mended in memory when a file is read (nothing is written back).

use super::ResultFile;

/// Mends what the builds before each field recorded differently:
/// * a finished tuned arm without `chosen_trial` (the first builds with the arm): the trial
///   whose parameters are the recorded `chosen_params`;
/// * `compute_device` written as Rust's `cuda(0)`: `cuda:0`, as `--device` spells it.
pub fn mend(file: &mut ResultFile) {
    for arm in &mut file.arms {
        let Some(hpo) = arm.hpo.as_mut() else {
            continue;
        };
        if hpo.chosen_trial.is_none() {
            if let Some(params) = &hpo.chosen_params {
                hpo.chosen_trial = hpo
                    .trials
                    .iter()
                    .find(|t| &t.params == params)
                    .map(|t| t.id);
            }
        }
    }
    if let Some(device) = file.environment.compute_device.as_mut() {
        if let Some(n) = device
            .strip_prefix("cuda(")
            .and_then(|rest| rest.strip_suffix(')'))
        {
            *device = format!("cuda:{n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result file written by build 9b327d2 (2026-11-29, the first with the tuned arm).
    pub(crate) fn file_of_9b327d2() -> ResultFile {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/result-of-9b327d2.json");
        let text = std::fs::read_to_string(&path).unwrap();
        super::super::parse_result(&text, "old.json").unwrap()
    }

    /// Its search chose trial 8 (recorded only as `chosen_params`), and its fidelity check
    /// recorded test accuracies under their old name: both are read.
    #[test]
    fn a_file_of_the_first_tuned_builds_reads_its_choice_and_retraining() {
        let file = file_of_9b327d2();
        let hpo = file.arms.iter().find_map(|a| a.hpo.as_ref()).unwrap();
        assert_eq!((hpo.chosen_trial, hpo.best_trial), (Some(8), Some(8)));
        let entries = &hpo.fidelity.as_ref().unwrap().entries;
        assert_eq!(entries[0].full_budget_metric, None);
        assert_eq!(entries[0].full_budget_test_acc, Some(0.8495821727019499));
    }

    #[test]
    fn a_cuda_device_in_rusts_spelling_is_read_as_device_takes_it() {
        let mut file = crate::report::fixture::two_arms("a", &[0.9]);
        file.environment.compute_device = Some("cuda(1)".into());
        mend(&mut file);
        assert_eq!(file.environment.compute_device.as_deref(), Some("cuda:1"));
        file.environment.compute_device = Some("cpu".into());
        mend(&mut file);
        assert_eq!(file.environment.compute_device.as_deref(), Some("cpu"));
    }
}
