//! Synthetic result files for tests and benchmarks: built from the structs directly, no
//! training. Not part of the stable API.
use crate::data::DatasetInfo;
use crate::env::{EnvRecord, Fact};
use crate::hpo::{Cost, StopReason, Trial, TrialStatus};
use crate::results::{
    ArmMetric, ArmResult, HpoRecord, ResultFile, RunStatus, SuiteRecord, SCHEMA_VERSION,
};
use crate::train::{EpochRecord, RunOutcome};

/// A deterministic-eligible environment record for a CPU run, labelled `label`.
pub fn env(label: &str) -> EnvRecord {
    let mut e = EnvRecord::capture(Some(label));
    e.determinism.deterministic_algorithms = Fact::known(true, "fixture");
    e.determinism.cudnn_benchmark = Fact::known(false, "fixture");
    e.compute_device = Some("cpu".to_string());
    e
}

/// One run whose test accuracy rises linearly to `final_acc` over `epochs` epochs.
pub fn run(seed: u64, final_acc: f64, epochs: usize) -> RunOutcome {
    let records: Vec<EpochRecord> = (1..=epochs)
        .map(|e| {
            let test_acc = final_acc * e as f64 / epochs as f64;
            EpochRecord {
                epoch: e,
                train_loss: 2.0 / e as f64,
                train_acc: (test_acc + 0.01).min(1.0),
                test_loss: 2.2 / e as f64,
                test_acc,
                lr: 0.1,
                seconds: 0.5,
            }
        })
        .collect();
    RunOutcome {
        seed,
        final_test_acc: records.last().map(|r| r.test_acc),
        best_test_acc: records.last().map(|r| r.test_acc),
        best_epoch: records.last().map(|r| r.epoch),
        epochs: records,
        diverged_at_epoch: None,
        stopped_at_epoch: None,
        parameters: 1000,
        wall_seconds: 0.5 * epochs as f64,
        train_images_per_s: 2000.0,
    }
}

/// An arm with one run per `(seed, final accuracy)`.
pub fn arm(name: &str, accs: &[(u64, f64)], epochs: usize) -> ArmResult {
    let mut a = ArmResult {
        name: name.to_string(),
        description: format!("{name} arm"),
        definition: serde_json::json!({
            "name": name,
            "recipe": {"model": "mlp", "optimizer": "sgd", "initial_lr": 0.1, "epochs": epochs}
        }),
        hyperparameters: vec![("lr".into(), "0.1".into())],
        metric: ArmMetric::FinalTestAcc,
        runs: accs.iter().map(|&(s, acc)| run(s, acc, epochs)).collect(),
        summary: None,
        hpo: None,
        nas: None,
        error: None,
    };
    a.summarize();
    a
}

/// Seeds 1, 2, … paired with `accs` in order.
pub fn seeded(accs: &[f64]) -> Vec<(u64, f64)> {
    accs.iter()
        .enumerate()
        .map(|(i, &a)| (i as u64 + 1, a))
        .collect()
}

/// A result file labelled `label` with an `original` and a `manual` arm, each with the final
/// accuracies `accs` over seeds 1, 2, … (3 epochs a run).
pub fn two_arms(label: &str, accs: &[f64]) -> ResultFile {
    let accs = seeded(accs);
    result(
        label,
        vec![arm("original", &accs, 3), arm("manual", &accs, 3)],
    )
}

/// A complete result file of suite `quick` v1 with the given arms; seeds are taken from the
/// first arm.
pub fn result(label: &str, arms: Vec<ArmResult>) -> ResultFile {
    let seeds: Vec<u64> = arms
        .first()
        .map(|a| a.runs.iter().map(|r| r.seed).collect())
        .unwrap_or_default();
    ResultFile {
        schema_version: SCHEMA_VERSION,
        status: RunStatus::Complete,
        created_at: "2026-01-01T00:00:00Z".into(),
        finished_at: Some("2026-01-01T00:01:00Z".into()),
        environment: env(label),
        suite: SuiteRecord {
            name: "quick".into(),
            version: 1,
            path: "suites/quick.toml".into(),
            sha256: "0".repeat(64),
            seeds,
            tolerance: 0.01,
            overrides: Vec::new(),
            override_args: Vec::new(),
            inputs: Vec::new(),
            cwd: None,
            definition: serde_json::json!({"name": "quick", "version": 1}),
        },
        dataset: DatasetInfo {
            name: "digits".into(),
            source: "fixture".into(),
            licence: "fixture".into(),
            classes: 10,
            image_shape: [1, 8, 8],
            n_train: 1437,
            n_test: 360,
            split: None,
            normalization: "fixture".into(),
        },
        arms,
        wall_seconds: 60.0,
        resumed_at: Vec::new(),
    }
}

/// `arms` arms × `seeds` seeds × `epochs` epochs, accuracies around 0.95.
pub fn sized(label: &str, arms: usize, seeds: usize, epochs: usize) -> ResultFile {
    let names = ["original", "manual", "tuned", "nas"];
    let arms = (0..arms)
        .map(|i| {
            let accs: Vec<(u64, f64)> = (0..seeds)
                .map(|s| (s as u64 + 1, 0.94 + 0.003 * s as f64 + 0.001 * i as f64))
                .collect();
            arm(names[i % names.len()], &accs, epochs)
        })
        .collect();
    result(label, arms)
}

/// A trial with the metric curve `curve` (its final metric the last value).
pub fn trial(id: usize, status: TrialStatus, curve: &[f64], paused_at: Vec<usize>) -> Trial {
    Trial {
        id,
        params: serde_json::from_str(r#"{"lr": 0.1}"#).expect("valid JSON"),
        status,
        intermediate: curve.to_vec(),
        final_metric: curve.last().copied(),
        stopped_at_epoch: (status == TrialStatus::EarlyStopped).then_some(curve.len()),
        paused_at,
        error: None,
        start: None,
        end: None,
        duration_s: 1.0,
        details: serde_json::Value::Null,
    }
}

/// A TPE + promotion-ASHA search over `trials` on `val_acc` (4 epochs per trial, a 12
/// trial-epoch budget, ended by its time limit), `best_trial` chosen.
pub fn search(trials: Vec<Trial>, best_trial: Option<usize>) -> HpoRecord {
    HpoRecord {
        search_space_path: "space.json".into(),
        search_space: serde_json::Value::Null,
        tuner: "tpe".into(),
        tuner_options: serde_json::Value::Null,
        tuner_seed: 0,
        assessor: "asha".into(),
        assessor_options: serde_json::json!({"type": "promotion", "reduction_factor": 2}),
        optimize_mode: "maximize".into(),
        metric: "val_acc".into(),
        trial_epochs: 4,
        max_trials: 3,
        max_trial_epochs: Some(12),
        concurrency: 1,
        best_trial,
        chosen_trial: best_trial,
        chosen_params: None,
        search_cost: Cost::of(&trials, 1.0),
        stop_reason: StopReason::MaxDuration,
        trials,
        fidelity: None,
        retrain_seconds: 2.0,
    }
}

/// A tuned arm as the QA saw it: the search chose dropout 0 (the recipe's default, which plain
/// recipes leave out) and SGD with momentum among one trial of up to 4 epochs; its stored
/// "chosen by" line is English.
pub fn tuned_arm() -> ArmResult {
    let mut arm = arm("tuned", &seeded(&[0.9, 0.91]), 3);
    let mut chosen = trial(0, TrialStatus::Succeeded, &[0.5, 0.6, 0.7, 0.8], vec![]);
    let params = serde_json::json!({
        "initial_lr": 0.4737, "dropout": 0.0,
        "optimizer": {"_name": "sgd", "momentum": 0.5239}
    });
    chosen.params = params.as_object().expect("an object").clone();
    let mut record = search(vec![chosen.clone()], Some(0));
    record.chosen_params = Some(chosen.params);
    arm.hpo = Some(record);
    arm.definition = serde_json::json!({
        "hpo": {"retrain_top_k": 1},
        "chosen_recipe": {
            "model": "cnn", "width": 32, "dropout": 0.0, "optimizer": "sgd",
            "initial_lr": 0.4737, "momentum": 0.5239, "weight_decay": 0.0,
            "schedule": "cosine", "epochs": 1, "batch_size": 64, "report": "last"
        }
    });
    arm.hyperparameters = vec![(
        "chosen by".into(),
        "tpe + asha over 1 trials of up to 4 epochs on val_acc (trial 0)".into(),
    )];
    arm
}
