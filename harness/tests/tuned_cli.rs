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
    // The result keeps the space it searched, as the file says it.
    let space: Value = serde_json::from_str(SPACE).unwrap();
    assert_eq!(hpo["search_space"], space);
    assert_eq!(hpo["search_space_path"], "space.json");
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

/// A tuned arm whose every trial fails (here: each draw puts `ending_lr` above `initial_lr`,
/// which each value alone does not) is recorded as failed with its reason; the suite still
/// runs its other arm, ends "complete" without a resume folder, renders its report, and exits
/// 1 naming the arm.
#[test]
fn a_tuned_arm_whose_every_trial_fails_is_recorded_and_the_suite_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // Every trial's ending_lr is above its initial_lr (a cosine schedule uses both).
    let suite = SUITE
        .replace(
            "max_trials = 50\nmax_trial_epochs = 10\n",
            "max_trials = 3\n",
        )
        .replace(
            "batch_size = 16\n[arms.tuned.hpo]",
            "batch_size = 16\nschedule = \"cosine\"\n[arms.tuned.hpo]",
        )
        + r#"
[arms.manual]
[arms.manual.recipe]
model = "mlp"
width = 8
optimizer = "sgd"
initial_lr = 0.05
epochs = 2
batch_size = 16
"#;
    std::fs::write(dir.path().join("s.toml"), suite).unwrap();
    std::fs::write(
        dir.path().join("space.json"),
        r#"{"initial_lr": {"_type": "uniform", "_value": [0.01, 0.02]},
            "ending_lr": {"_type": "uniform", "_value": [0.03, 0.04]}}"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "s.toml", "--report", "r.md"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The arm is named once in each line.
    assert!(
        stderr.contains(
            "\ntuned arm failed: every trial failed (3 trials); see the trial errors in the \
             result file\n"
        ) && stderr.contains("1 arm(s) failed")
            && stderr.contains("\n  tuned: every trial failed (3 trials)"),
        "{stderr}"
    );
    assert!(!stderr.contains("tuned arm:"), "{stderr}");
    let results = dir.path().join("results");
    let files: Vec<_> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "no .resume folder is left: {files:?}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(v["status"], "complete");
    let arm = |name: &str| {
        v["arms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()
            .clone()
    };
    let tuned = arm("tuned");
    assert!(tuned["error"]
        .as_str()
        .unwrap()
        .contains("every trial failed"));
    for t in tuned["hpo"]["trials"].as_array().unwrap() {
        assert_eq!(t["status"], "FAILED");
        assert!(t["error"].as_str().unwrap().contains("ending_lr"), "{t}");
    }
    assert_eq!(arm("manual")["runs"].as_array().unwrap().len(), 1);
    let report = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(
        report.contains("failed: every trial failed (3 trials)"),
        "{report}"
    );
}

/// Two trials at a time, with dropout drawing random numbers at every step: two runs of the
/// same suite make the same proposals, the same early stops and the same curves, and choose
/// and retrain the same configuration (the trials no longer share libtorch's generator, and
/// their assessor decisions do not depend on which one reached an epoch first).
#[test]
fn a_concurrent_search_repeats_exactly() {
    let suite = SUITE
        .replace(
            "max_trials = 50\nmax_trial_epochs = 10\n",
            "max_trials = 8\nconcurrency = 2\n",
        )
        .replace(
            "batch_size = 16\n[arms.tuned.hpo]",
            "batch_size = 16\ndropout = 0.3\n[arms.tuned.hpo]",
        );
    assert!(suite.contains("concurrency = 2") && suite.contains("dropout = 0.3"));
    let search = || {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), &suite).unwrap();
        std::fs::write(dir.path().join("space.json"), SPACE).unwrap();
        let result = common::run_to_end(
            dir.path(),
            &["run", "s.toml", "--quiet", "--report", "r.md"],
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
        let report = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
        (v, report)
    };
    let (a, report) = search();
    let (b, _) = search();
    let trials = |v: &Value| -> Vec<Value> {
        v["arms"][0]["hpo"]["trials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                serde_json::json!([
                    t["params"],
                    t["status"],
                    t["intermediate"],
                    t["stopped_at_epoch"]
                ])
            })
            .collect()
    };
    assert_eq!(trials(&a).len(), 8);
    assert_eq!(trials(&a), trials(&b));
    assert!(
        trials(&a).iter().any(|t| t[1] == "EARLY_STOPPED"),
        "ASHA stopped nothing: the test shows less than it should"
    );
    assert_eq!(
        a["arms"][0]["hpo"]["best_trial"],
        b["arms"][0]["hpo"]["best_trial"]
    );
    assert_eq!(
        a["arms"][0]["summary"]["mean"],
        b["arms"][0]["summary"]["mean"]
    );
    assert!(report.contains("Trials ran 2 at a time"), "{report}");
    assert!(report.contains("repeats exactly"), "{report}");
}

/// `--epochs 1` shortens the trials to one epoch: the result's "chosen by" line says it in
/// the singular, as the report does (both from `suite::tuned::chosen_by`), not "1 epochs".
#[test]
fn a_one_trial_one_epoch_search_is_said_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let suite = SUITE.replace(
        "max_trials = 50\nmax_trial_epochs = 10\n",
        "max_trials = 1\n",
    );
    std::fs::write(dir.path().join("s.toml"), suite).unwrap();
    std::fs::write(dir.path().join("space.json"), SPACE).unwrap();
    let result = common::run_to_end(dir.path(), &["run", "s.toml", "--quiet", "--epochs", "1"]);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    let chosen_by = v["arms"][0]["hyperparameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "chosen by")
        .map(|p| p[1].as_str().unwrap().to_string())
        .unwrap();
    assert_eq!(
        chosen_by,
        "tpe + asha over 1 trial of up to 1 epoch on val_acc (trial 0)"
    );
}

/// NNI's config.yml spellings (`TPE`, `Medianstop`, `Maximize`) are accepted in any case, and
/// the result and the report say the one lower-case name, whichever was written.
#[test]
fn nni_spellings_are_recorded_by_their_lower_case_names() {
    let dir = tempfile::tempdir().unwrap();
    let suite = SUITE
        .replace("tuner = \"tpe\"", "tuner = \"TPE\"")
        .replace(
            "optimize_mode = \"maximize\"",
            "optimize_mode = \"Maximize\"",
        )
        .replace(
            "max_trials = 50\nmax_trial_epochs = 10\n",
            "max_trials = 2\n",
        )
        .replace(
            "assessor = \"asha\"\nassessor_options = { min_resource = 1, reduction_factor = 2 }",
            "assessor = \"Medianstop\"",
        );
    std::fs::write(dir.path().join("s.toml"), suite).unwrap();
    std::fs::write(dir.path().join("space.json"), SPACE).unwrap();
    let result = common::run_to_end(
        dir.path(),
        &["run", "s.toml", "--quiet", "--report", "r.md"],
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    let arm = &v["arms"][0];
    for hpo in [
        &arm["hpo"],
        &arm["definition"]["hpo"],
        &v["suite"]["definition"]["arms"]["tuned"]["hpo"],
    ] {
        assert_eq!(hpo["tuner"], "tpe", "{hpo}");
        assert_eq!(hpo["assessor"], "medianstop", "{hpo}");
        assert_eq!(hpo["optimize_mode"], "maximize", "{hpo}");
    }
    let report = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(
        report.contains("Tuner `tpe` (seed 0), assessor `medianstop`, metric `val_acc` (maximize)"),
        "{report}"
    );
}

/// A search_space.json with fields NNI ignores (`_comment`) works unchanged: `space sample`
/// and `harness run` each say in one line what they ignored, and the samples and the search
/// are those of the same space without them.
#[test]
fn fields_nni_ignores_in_a_space_are_ignored_with_a_note() {
    let commented = SPACE
        .replace(
            "[0.001, 0.3]}",
            "[0.001, 0.3], \"_comment\": \"log scale\"}",
        )
        .replace("[0.5, 0.95]}", "[0.5, 0.95], \"_doc\": 1}");
    assert_ne!(commented, SPACE);
    let suite = SUITE.replace(
        "max_trials = 50\nmax_trial_epochs = 10\n",
        "max_trials = 2\n",
    );
    let note = "note: space.json: ignored \"_comment\" of key \"initial_lr\", \"_doc\" of key \
                \"optimizer/sgd/momentum\" (a parameter is read from _type and _value only, as \
                in NNI)\n";
    let mut searches = Vec::new();
    for (space, expected_note) in [(SPACE, ""), (commented.as_str(), note)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), &suite).unwrap();
        std::fs::write(dir.path().join("space.json"), space).unwrap();
        let sample = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["space", "sample", "space.json", "--n", "3", "--seed", "4"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(sample.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&sample.stderr), expected_note);
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["run", "s.toml", "--quiet"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        assert_eq!(run.status.code(), Some(0), "{stderr}");
        assert_eq!(stderr, expected_note);
        let result = std::fs::read_dir(dir.path().join("results"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "json"))
            .unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
        let trials: Vec<(Value, Value)> = v["arms"][0]["hpo"]["trials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["params"].clone(), t["intermediate"].clone()))
            .collect();
        searches.push((sample.stdout, trials));
    }
    assert_eq!(searches[0], searches[1]);
}

/// retrain_top_k = 4 with one trial completed (the other failed: its ending_lr is above its
/// initial_lr): the console and the report say why one configuration was retrained, not 4.
#[test]
fn retraining_fewer_than_retrain_top_k_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let suite = SUITE
        .replace("tuner = \"tpe\"", "tuner = \"grid\"")
        .replace(
            "tuner_options = { n_startup_trials = 2, multivariate = true }\n",
            "",
        )
        .replace(
            "max_trials = 50\nmax_trial_epochs = 10\n",
            "max_trials = 4\nretrain_top_k = 4\n",
        )
        .replace(
            "assessor = \"asha\"\nassessor_options = { min_resource = 1, reduction_factor = 2 }",
            "assessor = \"none\"",
        )
        .replace(
            "batch_size = 16\n[arms.tuned.hpo]",
            "batch_size = 16\nschedule = \"cosine\"\n[arms.tuned.hpo]",
        );
    std::fs::write(dir.path().join("s.toml"), suite).unwrap();
    std::fs::write(
        dir.path().join("space.json"),
        r#"{"initial_lr": {"_type": "choice", "_value": [0.01, 0.1]},
            "ending_lr": {"_type": "choice", "_value": [0.03]}}"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "s.toml", "--report", "r.md"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "tuned    retrain_top_k = 4, but only 1 trial completed: retraining it (early-stopped \
             and failed trials are not candidates)\n"
        ),
        "{stderr}"
    );
    let report = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(
        report.contains(
            "Fidelity check: the search's top 1 configuration (retrain_top_k = 4, but only 1 \
             trial completed: early-stopped and failed trials are not candidates) trained"
        ),
        "{report}"
    );
    assert!(
        report.contains("best of the top 1 (retrain_top_k = 4) at the full budget"),
        "{report}"
    );
}

/// `space sample --seed S` prints the proposals of `tuner = "random"` with `tuner_seed = S`,
/// as its --help says: the same lines as the search's trials, in trial order.
#[test]
fn space_sample_prints_the_random_tuners_proposals() {
    let harness = |dir: &std::path::Path, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let help = harness(dir.path(), &["space", "sample", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Number of samples to print")
            && help.contains(
                "--seed S prints exactly the proposals of tuner = \"random\" with tuner_seed = S"
            ),
        "{help}"
    );
    let suite = SUITE
        .replace("tuner = \"tpe\"", "tuner = \"random\"\ntuner_seed = 7")
        .replace(
            "tuner_options = { n_startup_trials = 2, multivariate = true }\n",
            "",
        )
        .replace(
            "max_trials = 50\nmax_trial_epochs = 10\n",
            "max_trials = 4\n",
        )
        .replace("trial_epochs = 3", "trial_epochs = 1")
        .replace(
            "assessor = \"asha\"\nassessor_options = { min_resource = 1, reduction_factor = 2 }",
            "assessor = \"none\"",
        );
    std::fs::write(dir.path().join("s.toml"), suite).unwrap();
    std::fs::write(dir.path().join("space.json"), SPACE).unwrap();
    let result = common::run_to_end(dir.path(), &["run", "s.toml", "--quiet"]);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    let proposals: Vec<String> = v["arms"][0]["hpo"]["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["params"].to_string())
        .collect();
    assert_eq!(proposals.len(), 4);
    let sample = harness(
        dir.path(),
        &["space", "sample", "space.json", "--n", "4", "--seed", "7"],
    );
    let lines: Vec<String> = String::from_utf8_lossy(&sample.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines, proposals);
}

/// The random tuner removes repeats as NNI's does: on a two-point space a search of up to 6
/// trials tries each point once and ends with `tuner_exhausted`, and `space sample` prints
/// the same two proposals, saying why it stopped short of --n.
#[test]
fn the_random_tuner_tries_each_configuration_of_a_discrete_space_once() {
    let dir = tempfile::tempdir().unwrap();
    let suite = SUITE
        .replace("tuner = \"tpe\"", "tuner = \"random\"")
        .replace(
            "tuner_options = { n_startup_trials = 2, multivariate = true }\n",
            "",
        )
        .replace(
            "max_trials = 50\nmax_trial_epochs = 10\n",
            "max_trials = 6\n",
        )
        .replace("trial_epochs = 3", "trial_epochs = 1")
        .replace(
            "assessor = \"asha\"\nassessor_options = { min_resource = 1, reduction_factor = 2 }",
            "assessor = \"none\"",
        );
    std::fs::write(dir.path().join("s.toml"), suite).unwrap();
    std::fs::write(
        dir.path().join("space.json"),
        r#"{"batch_size": {"_type": "choice", "_value": [8, 16]}}"#,
    )
    .unwrap();
    let result = common::run_to_end(
        dir.path(),
        &["run", "s.toml", "--quiet", "--report", "r.md"],
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    let hpo = &v["arms"][0]["hpo"];
    let proposals: Vec<String> = hpo["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["params"].to_string())
        .collect();
    assert_eq!(proposals, ["{\"batch_size\":16}", "{\"batch_size\":8}"]);
    assert_eq!(hpo["stop_reason"], "tuner_exhausted");
    let report = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(
        report.contains("The search ended because the tuner had no new configuration left."),
        "{report}"
    );
    let sample = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["space", "sample", "space.json", "--n", "6"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(sample.status.code(), Some(0));
    let lines: Vec<&str> = std::str::from_utf8(&sample.stdout)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(lines, proposals);
    assert_eq!(
        String::from_utf8_lossy(&sample.stderr),
        "note: the space has only 2 distinct configurations: the random tuner proposes each \
         once, then ends the search (tuner_exhausted)\n"
    );
}
