//! The result file's schema. Bump [`SCHEMA_VERSION`] on any incompatible change; readers accept
//! older versions they know and refuse newer ones.
use crate::data::DatasetInfo;
use crate::env::EnvRecord;
use crate::train::{EpochRecord, ReportedAccuracy, RunOutcome};
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Being written by a `harness run` that is still going (or was killed).
    Running,
    Complete,
    /// Stopped by Ctrl-C / SIGTERM; holds every run that finished before.
    Interrupted,
}

impl RunStatus {
    /// The word stored in the file (`"status": "interrupted"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultFile {
    pub schema_version: u32,
    pub status: RunStatus,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub environment: EnvRecord,
    pub suite: SuiteRecord,
    pub dataset: DatasetInfo,
    pub arms: Vec<ArmResult>,
    /// Seconds of running, summed over the sessions of a resumed run.
    pub wall_seconds: f64,
    /// When `harness run --resume` continued this run (RFC 3339 UTC), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed_at: Vec<String>,
}

impl ResultFile {
    /// Why the file is not a finished suite, or None when it is: e.g. `status "interrupted"
    /// (stopped before the suite finished; 1 run finished)`.
    pub fn unfinished(&self) -> Option<String> {
        let why = match self.status {
            RunStatus::Complete => return None,
            RunStatus::Running => "a `harness run` is still writing it, or was killed",
            RunStatus::Interrupted => "stopped before the suite finished",
        };
        let runs = self.finished_runs();
        Some(format!(
            "status \"{}\" ({why}; {runs} run{} finished)",
            self.status.as_str(),
            if runs == 1 { "" } else { "s" }
        ))
    }

    /// What of the experiment `other` ran otherwise than this file (the baseline). The
    /// report, `compare` and `check` all warn from this one comparison, each in its own words
    /// and about the parts it cares for.
    pub fn experiment_diff(&self, other: &ResultFile) -> ExperimentDiff {
        let (ours, theirs) = (&self.suite, &other.suite);
        let (d, od) = (&self.dataset, &other.dataset);
        ExperimentDiff {
            suite_file: theirs.sha256 != ours.sha256,
            inputs: ours.changed_inputs(&theirs.inputs),
            unrecorded_inputs: ours.unrecorded_inputs(&theirs.inputs),
            overrides: theirs.overrides != ours.overrides,
            seeds: theirs.seeds != ours.seeds,
            test_set: od.name != d.name || od.n_test != d.n_test,
        }
    }

    /// Training runs the file holds, over all arms.
    pub fn finished_runs(&self) -> usize {
        self.arms.iter().map(|a| a.runs.len()).sum()
    }

    /// "arm: error" for each arm that failed (the suite went on with the others).
    pub fn failed_arms(&self) -> Vec<String> {
        self.arms
            .iter()
            .filter_map(|a| a.error.as_ref().map(|e| format!("{}: {e}", a.name)))
            .collect()
    }

    /// The command that finishes the file at `path` (as this process names it). The suite path
    /// and `--data-dir` are relative to the run's working directory: from anywhere else the
    /// command first changes to it, and names the result by its absolute path.
    pub fn resume_command(&self, path: &str) -> String {
        let here = std::env::current_dir().ok();
        match (&self.suite.cwd, here) {
            (Some(cwd), Some(here)) if std::path::Path::new(cwd) != here => {
                let result = here.join(path).display().to_string();
                format!(
                    "cd {} && {}",
                    crate::shell::path_word(cwd),
                    self.resume_command_as(&crate::shell::path_word(&result))
                )
            }
            _ => self.resume_command_as(&crate::shell::path_word(path)),
        }
    }

    /// The command that finishes this file, naming it `result` as given (a shell word, or a
    /// placeholder such as `RESULT`). It repeats the run's `--epochs/--seeds/…` arguments,
    /// without which a resume is refused; a file written before they were recorded states its
    /// overrides instead.
    pub fn resume_command_as(&self, result: &str) -> String {
        let s = &self.suite;
        let command = crate::shell::resume_command(&s.path, &s.override_args, result);
        if s.override_args.is_empty() && !s.overrides.is_empty() {
            format!(
                "{command} (with the options it was run with: {})",
                s.overrides.join(", ")
            )
        } else {
            command
        }
    }
}

/// How two result files of one suite (name and version) ran different experiments:
/// [`ResultFile::experiment_diff`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExperimentDiff {
    /// Another suite file (sha256), though name and version agree.
    pub suite_file: bool,
    /// The named input files whose content differs, as `key (path)`
    /// ([`SuiteRecord::changed_inputs`]).
    pub inputs: Vec<String>,
    /// Named input files, as `key (path)`, that one side records a digest of and the other
    /// (written before digests were recorded) does not: whether they changed cannot be told.
    pub unrecorded_inputs: Vec<String>,
    /// Other command-line overrides.
    pub overrides: bool,
    /// Other seeds.
    pub seeds: bool,
    /// Another test set: another dataset or another number of test images.
    pub test_set: bool,
}

/// The suite exactly as run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteRecord {
    pub name: String,
    pub version: u32,
    pub path: String,
    /// SHA-256 of the suite file's bytes.
    pub sha256: String,
    pub seeds: Vec<u64>,
    pub tolerance: f64,
    /// Command-line changes to the file's definition (e.g. a shorter epoch count).
    pub overrides: Vec<String>,
    /// The command-line arguments that made them, one word each (`["--epochs", "2"]`): a
    /// resume must repeat them. Absent in files written before they were recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub override_args: Vec<String>,
    /// The files the suite names (search space, architecture), with their digests: part of
    /// the experiment as much as the suite file. Absent in files written before they were
    /// recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputFile>,
    /// The run's working directory, which `path` and a relative `--data-dir` are relative to
    /// (for the resume command shown elsewhere). Absent in files written before it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The parsed suite, after overrides.
    pub definition: serde_json::Value,
}

/// A file a suite names, as it was when the suite was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// The suite key that names it, e.g. `arms.tuned.hpo.search_space`.
    pub key: String,
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

impl SuiteRecord {
    /// The named files whose content differs in `other`, as `key (path)`; a file only one
    /// side records is not compared.
    pub fn changed_inputs(&self, other: &[InputFile]) -> Vec<String> {
        self.inputs
            .iter()
            .filter(|a| other.iter().any(|b| b.key == a.key && b.sha256 != a.sha256))
            .map(|a| format!("{} ({})", a.key, a.path))
            .collect()
    }

    /// The named files only one side records (an older file has none), as `key (path)`.
    pub fn unrecorded_inputs(&self, other: &[InputFile]) -> Vec<String> {
        let missing = |from: &[InputFile], of: &[InputFile]| -> Vec<String> {
            of.iter()
                .filter(|a| !from.iter().any(|b| b.key == a.key))
                .map(|a| format!("{} ({})", a.key, a.path))
                .collect()
        };
        let mut keys = missing(other, &self.inputs);
        keys.extend(missing(&self.inputs, other));
        keys
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmResult {
    /// "original", "manual", "tuned" or "nas".
    pub name: String,
    pub description: String,
    /// The arm's definition as run (for `tuned`: after the chosen configuration was applied).
    pub definition: serde_json::Value,
    /// (name, value) pairs for the report's hyper-parameter column.
    pub hyperparameters: Vec<(String, String)>,
    /// Which of its runs' accuracies the arm reports.
    pub metric: ArmMetric,
    pub runs: Vec<RunOutcome>,
    pub summary: Option<ArmSummary>,
    /// The search behind the tuned arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpo: Option<HpoRecord>,
    /// The architecture search behind the nas arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nas: Option<NasRecord>,
    /// Why the arm stopped short of a result (e.g. every HPO trial failed); the suite went on
    /// with its other arms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Statistics of the arm's reported accuracy over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmSummary {
    /// Runs that produced an accuracy (diverged runs excluded, and counted apart).
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 with one run.
    pub std: f64,
    pub min: f64,
    pub max: f64,
    pub diverged: usize,
    /// Mean of (train accuracy − test accuracy) at the last epoch.
    pub mean_train_test_gap: Option<f64>,
    /// Mean seconds per epoch and training images per second over the runs.
    pub mean_epoch_seconds: f64,
    pub mean_train_images_per_s: f64,
}

impl ArmResult {
    /// The seeds of the arm's runs, sorted.
    pub fn seeds(&self) -> Vec<u64> {
        let mut seeds: Vec<u64> = self.runs.iter().map(|r| r.seed).collect();
        seeds.sort_unstable();
        seeds
    }

    /// The reported accuracy of every run that has one.
    pub fn accuracies(&self) -> Vec<f64> {
        reported_accuracies(&self.runs, self.metric)
    }

    /// Recomputes the summary from the runs.
    pub fn summarize(&mut self) {
        let accs = self.accuracies();
        if accs.is_empty() && self.runs.is_empty() {
            self.summary = None;
            return;
        }
        let n = accs.len();
        // JSON has no NaN or infinity: an arm whose every run diverged summarises as n = 0.
        let mean = if n > 0 {
            accs.iter().sum::<f64>() / n as f64
        } else {
            0.0
        };
        let std = if n > 1 {
            (accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let gaps: Vec<f64> = self.runs.iter().filter_map(RunOutcome::final_gap).collect();
        let epochs: Vec<&EpochRecord> = self.runs.iter().flat_map(|r| r.epochs.iter()).collect();
        self.summary = Some(ArmSummary {
            n,
            mean,
            std,
            min: accs.iter().copied().reduce(f64::min).unwrap_or(0.0),
            max: accs.iter().copied().reduce(f64::max).unwrap_or(0.0),
            diverged: self
                .runs
                .iter()
                .filter(|r| r.diverged_at_epoch.is_some())
                .count(),
            mean_train_test_gap: (!gaps.is_empty())
                .then(|| gaps.iter().sum::<f64>() / gaps.len() as f64),
            mean_epoch_seconds: if epochs.is_empty() {
                0.0
            } else {
                epochs.iter().map(|e| e.seconds).sum::<f64>() / epochs.len() as f64
            },
            mean_train_images_per_s: if self.runs.is_empty() {
                0.0
            } else {
                self.runs.iter().map(|r| r.train_images_per_s).sum::<f64>() / self.runs.len() as f64
            },
        });
    }
}

/// Which of a run's test accuracies an arm reports; written as the name of that field of the
/// runs (`"final_test_acc"`, `"best_test_acc"`), so a result file says which one it compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmMetric {
    /// The last epoch's (the lab's "Final accuracy"; no selection on the test set).
    FinalTestAcc,
    /// The best epoch's (DARTS' retrain script reports this; it selects on the test set).
    BestTestAcc,
}

impl ArmMetric {
    /// This metric's value in one run; none for a diverged run.
    pub fn of(self, run: &RunOutcome) -> Option<f64> {
        match self {
            ArmMetric::FinalTestAcc => run.final_test_acc,
            ArmMetric::BestTestAcc => run.best_test_acc,
        }
    }
}

impl From<ReportedAccuracy> for ArmMetric {
    fn from(report: ReportedAccuracy) -> Self {
        match report {
            ReportedAccuracy::Last => ArmMetric::FinalTestAcc,
            ReportedAccuracy::Best => ArmMetric::BestTestAcc,
        }
    }
}

/// The accuracy each run reports under `metric`, for the runs that have one (diverged runs do
/// not).
pub fn reported_accuracies(runs: &[RunOutcome], metric: ArmMetric) -> Vec<f64> {
    runs.iter().filter_map(|r| metric.of(r)).collect()
}

/// What the tuned (HPO) arm searched, every trial, and the fidelity check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HpoRecord {
    pub search_space_path: String,
    /// The search space file's content.
    pub search_space: serde_json::Value,
    pub tuner: String,
    pub tuner_options: serde_json::Value,
    pub tuner_seed: u64,
    pub assessor: String,
    pub assessor_options: serde_json::Value,
    pub optimize_mode: String,
    /// "val_acc" or "test_acc".
    pub metric: String,
    pub trial_epochs: usize,
    pub max_trials: usize,
    /// The search's trial-epoch budget, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_trial_epochs: Option<usize>,
    pub concurrency: usize,
    pub trials: Vec<crate::hpo::Trial>,
    /// The best trial at the search budget.
    pub best_trial: Option<usize>,
    /// The configuration the arm reports: the search's best, or with `retrain_top_k > 1` the
    /// best of the top k at the full budget (on the same search data).
    pub chosen_trial: Option<usize>,
    pub chosen_params: Option<crate::hpo::Params>,
    pub search_cost: crate::hpo::Cost,
    pub stop_reason: crate::hpo::StopReason,
    /// Full-budget retraining of the top configurations (`retrain_top_k`).
    pub fidelity: Option<FidelityCheck>,
    /// Seconds spent retraining at the full budget (chosen configuration and top-k): the sum
    /// of those runs' own times, so a resumed run counts every session.
    pub retrain_seconds: f64,
}

/// Does the search-budget ranking survive at the full budget? The top configurations are
/// trained at the full budget on the search data (trial seed) and compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FidelityCheck {
    pub seed: u64,
    /// The suite's `retrain_top_k`: `entries` has fewer when fewer trials completed (only
    /// SUCCEEDED trials are candidates). Absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrain_top_k: Option<usize>,
    pub entries: Vec<FidelityEntry>,
    /// Spearman rank correlation between the search-budget and the full-budget metric.
    pub spearman: Option<f64>,
    pub warning: Option<String>,
    /// Every retrained configuration's full budget was the search's `trial_epochs` (a suite
    /// with `trial_epochs = epochs`, or `--epochs` below it): the full-budget runs repeat the
    /// trials, so the two columns agree by construction. Absent (false) in older files.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub search_was_full_budget: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FidelityEntry {
    pub trial_id: usize,
    pub search_metric: f64,
    /// The search metric (e.g. validation accuracy) after the full budget; None if diverged.
    #[serde(default)]
    pub full_budget_metric: Option<f64>,
    /// What the first builds recorded instead (2026-11-29, before the metric above): the
    /// full-budget run's test accuracy. Read, never written; the report names it as such.
    #[serde(default, skip_serializing)]
    pub full_budget_test_acc: Option<f64>,
}

/// What the nas arm searched (or which file it was given), the architecture it retrained, and
/// the random-search baseline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NasRecord {
    /// Search settings; None when the arm retrained a given architecture file.
    pub search: Option<crate::suite::nas::NasSearchSpec>,
    /// Per search epoch: softmax weights, logits, and the search-time supernet's accuracy on
    /// the architecture half of the training set (`arch_acc`) — not the model's accuracy.
    pub search_epochs: Vec<crate::nas::search::SearchEpoch>,
    pub search_seconds: f64,
    /// `epoch_{e}.json` written after every search epoch (0-based e, as NNI).
    pub epoch_files: Vec<String>,
    /// The file whose architecture was retrained (the last search epoch's, or the given one).
    pub architecture_file: String,
    /// That architecture in NNI's JSON format.
    pub architecture: serde_json::Value,
    /// Trainable parameters of the retrained network, auxiliary head excluded.
    pub parameters: i64,
    /// Random-search baseline: every sampled architecture with its validation accuracy
    /// (a split of the training set; never the test set).
    pub random_samples: Vec<RandomSample>,
    /// Index of the best sample.
    pub random_best: Option<usize>,
    pub random_architecture: Option<serde_json::Value>,
    /// The best random architecture retrained with the same budget and seeds.
    pub random_runs: Vec<RunOutcome>,
    /// Mean / sample std of the random baseline's reported accuracy (same metric as the arm).
    pub random_mean: Option<f64>,
    pub random_std: Option<f64>,
    /// Seconds of the retrains over the suite's seeds (the sum of the runs' own times).
    pub retrain_seconds: f64,
    /// Seconds of the random baseline: the samples' short trainings and the retrains of the
    /// best (the sum of their own times).
    pub random_seconds: f64,
}

impl PartialEq for NasRecord {
    fn eq(&self, other: &Self) -> bool {
        serde_json::to_value(self).ok() == serde_json::to_value(other).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomSample {
    pub architecture: serde_json::Value,
    /// Validation accuracy after the sample's short training; None if it diverged.
    pub val_acc: Option<f64>,
    pub seconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn experiment_diff_names_each_part_of_the_experiment_that_differs() {
        let mut a = fixture::two_arms("a", &[0.9]);
        let input = |sha256: &str| InputFile {
            key: "arms.tuned.hpo.search_space".into(),
            path: "space.json".into(),
            sha256: sha256.into(),
        };
        a.suite.inputs = vec![input("aa")];
        assert_eq!(a.experiment_diff(&a.clone()), ExperimentDiff::default());
        let mut b = a.clone();
        b.suite.sha256 = "other".into();
        b.suite.inputs = vec![input("bb")];
        b.suite.overrides = vec!["epochs=1 (all arms)".into()];
        b.suite.seeds = vec![9];
        b.dataset.n_test += 1;
        assert_eq!(
            a.experiment_diff(&b),
            ExperimentDiff {
                suite_file: true,
                inputs: vec!["arms.tuned.hpo.search_space (space.json)".into()],
                unrecorded_inputs: Vec::new(),
                overrides: true,
                seeds: true,
                test_set: true,
            }
        );
        let mut c = a.clone();
        c.dataset.name = "another".into();
        assert!(a.experiment_diff(&c).test_set);
        // A file written before digests were recorded: not "changed", not "same" either.
        let mut old = a.clone();
        old.suite.inputs.clear();
        let unknown = vec!["arms.tuned.hpo.search_space (space.json)".to_string()];
        assert_eq!(a.experiment_diff(&old).unrecorded_inputs, unknown);
        assert_eq!(old.experiment_diff(&a).unrecorded_inputs, unknown);
        assert!(old.experiment_diff(&a).inputs.is_empty());
    }
}
