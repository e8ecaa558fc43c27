//! The tuned arm end to end through `harness run`: a search under a trial-epoch budget with
//! multivariate TPE ends at its budget, records it in the result file, and the report says so.
mod common;

use serde_json::Value;

const SUITE: &str = r#"
[suite]
name = "budgeted"
version = 1
seeds = [1]
threads = 1

[dataset]
name = "synthetic"
samples_per_class = 16

[arms.tuned]
[arms.tuned.recipe]
model = "mlp"
width = 8
optimizer = "sgd"
initial_lr = 0.05
epochs = 3
batch_size = 16
[arms.tuned.hpo]
search_space = "space.json"
tuner = "tpe"
tuner_options = { n_startup_trials = 2, multivariate = true }
optimize_mode = "maximize"
trial_epochs = 3
max_trials = 50
max_trial_epochs = 10
assessor = "asha"
assessor_options = { min_resource = 1, reduction_factor = 2 }
"#;

const SPACE: &str = r#"{
  "initial_lr": {"_type": "loguniform", "_value": [0.001, 0.3]},
  "optimizer": {"_type": "choice", "_value": [
    {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0.5, 0.95]}},
    {"_name": "adam"}]}
}"#;

#[test]
fn a_budgeted_multivariate_search_stops_at_its_budget_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SUITE).unwrap();
    std::fs::write(dir.path().join("space.json"), SPACE).unwrap();
    let result = common::run_to_end(
        dir.path(),
        &["run", "s.toml", "--quiet", "--report", "r.md"],
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    let hpo = &v["arms"][0]["hpo"];
    assert_eq!(hpo["stop_reason"], "max_trial_epochs");
    assert_eq!(hpo["max_trial_epochs"], 10);
    assert_eq!(hpo["search_cost"]["trial_epochs"], 10);
    assert_eq!(hpo["tuner_options"]["multivariate"], true);
    let trials = hpo["trials"].as_array().unwrap();
    let epochs: u64 = trials
        .iter()
        .map(|t| t["intermediate"].as_array().unwrap().len() as u64)
        .sum();
    assert_eq!(epochs, 10);
    // Adam trials carry no momentum, SGD trials do: the joint model keeps the tree's shape.
    for t in trials {
        let opt = &t["params"]["optimizer"];
        assert_eq!(
            opt["_name"] == "adam",
            opt.get("momentum").is_none(),
            "{opt}"
        );
    }
    // A full-budget trial was chosen and retrained.
    let best = hpo["best_trial"].as_u64().unwrap() as usize;
    assert_eq!(trials[best]["status"], "SUCCEEDED");
    let report = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(report.contains("10 trial-epochs (budget 10)"), "{report}");
}
