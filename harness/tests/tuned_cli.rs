//! The tuned arm end to end through `harness run`: a search under a trial-epoch budget with
//! multivariate TPE ends at its budget, records it in the result file, and the report says so.
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

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

/// [`SUITE`]'s search budget, its TPE options and its assessor, as the variants replace them.
const BUDGET: &str = "max_trials = 50\nmax_trial_epochs = 10\n";
const TPE_OPTIONS: &str = "tuner_options = { n_startup_trials = 2, multivariate = true }\n";
const ASHA: &str =
    "assessor = \"asha\"\nassessor_options = { min_resource = 1, reduction_factor = 2 }";

/// [`SUITE`] as a grid search of `k` trials without an assessor whose top `k` are all
/// retrained (the fidelity check).
fn grid_retraining_top(k: usize) -> String {
    SUITE
        .replace("tuner = \"tpe\"", "tuner = \"grid\"")
        .replace(TPE_OPTIONS, "")
        .replace(BUDGET, &format!("max_trials = {k}\nretrain_top_k = {k}\n"))
        .replace(ASHA, "assessor = \"none\"")
}

/// [`SUITE`] with `line` added to the tuned arm's recipe.
fn with_recipe_line(suite: &str, line: &str) -> String {
    suite.replace(
        "batch_size = 16\n[arms.tuned.hpo]",
        &format!("batch_size = 16\n{line}\n[arms.tuned.hpo]"),
    )
}

fn harness(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// A finished `harness run s.toml` in its own folder.
struct Search {
    dir: tempfile::TempDir,
    stderr: String,
    /// The result file.
    result: Value,
}

impl Search {
    /// The report the run wrote with `--report r.md`.
    fn report(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("r.md")).unwrap()
    }

    /// `harness` run with `args` in the search's folder.
    fn harness(&self, args: &[&str]) -> Output {
        harness(self.dir.path(), args)
    }
}

/// Runs `harness run s.toml` plus `args` in a new folder holding `suite` as `s.toml` and
/// `space` as `space.json`, checks it exits with `code`, and reads its result file.
fn search_with(suite: &str, space: &str, args: &[&str], code: i32) -> Search {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), suite).unwrap();
    std::fs::write(dir.path().join("space.json"), space).unwrap();
    let out = harness(dir.path(), &[&["run", "s.toml"], args].concat());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    let result = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a result file");
    let result = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    Search {
        dir,
        stderr,
        result,
    }
}

#[test]
fn a_budgeted_multivariate_search_stops_at_its_budget_and_says_so() {
    let search = search_with(SUITE, SPACE, &["--quiet", "--report", "r.md"], 0);
    let hpo = &search.result["arms"][0]["hpo"];
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
    let report = search.report();
    assert!(report.contains("10 trial-epochs (budget 10)"), "{report}");
}

/// A tuned arm whose every trial fails (here: each draw puts `ending_lr` above `initial_lr`,
/// which each value alone does not) is recorded as failed with its reason; the suite still
/// runs its other arm, ends "complete" without a resume folder, renders its report, and exits
/// 1 naming the arm.
#[test]
fn a_tuned_arm_whose_every_trial_fails_is_recorded_and_the_suite_goes_on() {
    // Every trial's ending_lr is above its initial_lr (a cosine schedule uses both).
    let suite = with_recipe_line(
        &SUITE.replace(BUDGET, "max_trials = 3\n"),
        "schedule = \"cosine\"",
    ) + r#"
[arms.manual]
[arms.manual.recipe]
model = "mlp"
width = 8
optimizer = "sgd"
initial_lr = 0.05
epochs = 2
batch_size = 16
"#;
    let space = r#"{"initial_lr": {"_type": "uniform", "_value": [0.01, 0.02]},
            "ending_lr": {"_type": "uniform", "_value": [0.03, 0.04]}}"#;
    let search = search_with(&suite, space, &["--report", "r.md"], 1);
    let stderr = &search.stderr;
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
    let results = search.dir.path().join("results");
    let files: Vec<_> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "no .resume folder is left: {files:?}");
    let v = &search.result;
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
    let report = search.report();
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
    let suite = with_recipe_line(
        &SUITE.replace(BUDGET, "max_trials = 8\nconcurrency = 2\n"),
        "dropout = 0.3",
    );
    assert!(suite.contains("concurrency = 2") && suite.contains("dropout = 0.3"));
    let run = || search_with(&suite, SPACE, &["--quiet", "--report", "r.md"], 0);
    let (first, second) = (run(), run());
    let (a, b, report) = (&first.result, &second.result, first.report());
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
    assert_eq!(trials(a).len(), 8);
    assert_eq!(trials(a), trials(b));
    assert!(
        trials(a).iter().any(|t| t[1] == "EARLY_STOPPED"),
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
    let suite = SUITE.replace(BUDGET, "max_trials = 1\n");
    let search = search_with(&suite, SPACE, &["--quiet", "--epochs", "1"], 0);
    let chosen_by = search.result["arms"][0]["hyperparameters"]
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

/// The console's line per trial writes its parameters as the report does (`name=value`, nested
/// options flattened, four significant digits), not as JSON.
#[test]
fn the_console_writes_a_trials_parameters_short() {
    let suite = SUITE.replace(BUDGET, "max_trials = 1\n");
    let space = r#"{"initial_lr": {"_type": "choice", "_value": [0.030000000000000002]},
        "optimizer": {"_type": "choice", "_value": [{"_name": "adam"}]}}"#;
    let search = search_with(&suite, space, &["--epochs", "1"], 0);
    let line = search
        .stderr
        .lines()
        .find(|l| l.starts_with("tuned    trial 0 "))
        .unwrap_or_else(|| panic!("no trial line in {}", search.stderr));
    assert!(line.ends_with(" initial_lr=0.03, optimizer=adam"), "{line}");
}

/// NNI's config.yml spellings (`TPE`, `Medianstop`, `Maximize`) are accepted in any case, and
/// the result and the report say the one lower-case name, whichever was written.
#[test]
fn nni_spellings_are_recorded_by_their_lower_case_names() {
    let suite = SUITE
        .replace("tuner = \"tpe\"", "tuner = \"TPE\"")
        .replace(
            "optimize_mode = \"maximize\"",
            "optimize_mode = \"Maximize\"",
        )
        .replace(BUDGET, "max_trials = 2\n")
        .replace(ASHA, "assessor = \"Medianstop\"");
    let search = search_with(&suite, SPACE, &["--quiet", "--report", "r.md"], 0);
    let v = &search.result;
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
    let report = search.report();
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
    let suite = SUITE.replace(BUDGET, "max_trials = 2\n");
    let note = "note: space.json: ignored \"_comment\" of key \"initial_lr\", \"_doc\" of key \
                \"optimizer/sgd/momentum\" (a parameter is read from _type and _value only, as \
                in NNI)\n";
    let mut searches = Vec::new();
    for (space, expected_note) in [(SPACE, ""), (commented.as_str(), note)] {
        let search = search_with(&suite, space, &["--quiet"], 0);
        assert_eq!(search.stderr, expected_note);
        let sample = search.harness(&["space", "sample", "space.json", "--n", "3", "--seed", "4"]);
        assert_eq!(sample.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&sample.stderr), expected_note);
        let trials: Vec<(Value, Value)> = search.result["arms"][0]["hpo"]["trials"]
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
    let suite = grid_retraining_top(4);
    let suite = with_recipe_line(&suite, "schedule = \"cosine\"");
    let space = r#"{"initial_lr": {"_type": "choice", "_value": [0.01, 0.1]},
            "ending_lr": {"_type": "choice", "_value": [0.03]}}"#;
    let search = search_with(&suite, space, &["--report", "r.md"], 0);
    let stderr = &search.stderr;
    assert!(
        stderr.contains(
            "tuned    retrain_top_k = 4, but only 1 trial completed: retraining it (early-stopped \
             and failed trials are not candidates)\n"
        ),
        "{stderr}"
    );
    let report = search.report();
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

/// Trials of the full budget (`trial_epochs = epochs`): the fidelity check only repeats them,
/// and the result file and the report say so; with trials one epoch shorter they do not.
#[test]
fn a_fidelity_check_of_full_budget_trials_says_it_measured_nothing() {
    let grid = grid_retraining_top(3);
    let space = r#"{"initial_lr": {"_type": "choice", "_value": [0.01, 0.05, 0.1]}}"#;
    let warning = "> **Warning:** the search already trained these configurations at their full \
                   budget (3 epochs, on the same data and seed)";

    let full = search_with(&grid, space, &["--quiet", "--report", "r.md"], 0);
    let fidelity = &full.result["arms"][0]["hpo"]["fidelity"];
    assert_eq!(fidelity["search_was_full_budget"], true, "{fidelity}");
    for entry in fidelity["entries"].as_array().unwrap() {
        assert_eq!(
            entry["search_metric"], entry["full_budget_metric"],
            "{entry}"
        );
    }
    let report = full.report();
    assert!(report.contains(warning), "{report}");

    let shorter = grid.replace("epochs = 3\nbatch_size", "epochs = 4\nbatch_size");
    let short = search_with(&shorter, space, &["--quiet", "--report", "r.md"], 0);
    let fidelity = &short.result["arms"][0]["hpo"]["fidelity"];
    assert_eq!(fidelity["entries"].as_array().unwrap().len(), 3);
    assert!(
        fidelity.get("search_was_full_budget").is_none(),
        "{fidelity}"
    );
    assert!(!short.report().contains("the search already trained"));
}

/// `space sample --seed S` prints the proposals of `tuner = "random"` with `tuner_seed = S`,
/// as its --help says: the same lines as the search's trials, in trial order.
#[test]
fn space_sample_prints_the_random_tuners_proposals() {
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
        .replace(TPE_OPTIONS, "")
        .replace(BUDGET, "max_trials = 4\n")
        .replace("trial_epochs = 3", "trial_epochs = 1")
        .replace(ASHA, "assessor = \"none\"");
    let search = search_with(&suite, SPACE, &["--quiet"], 0);
    let proposals: Vec<String> = search.result["arms"][0]["hpo"]["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["params"].to_string())
        .collect();
    assert_eq!(proposals.len(), 4);
    let sample = search.harness(&["space", "sample", "space.json", "--n", "4", "--seed", "7"]);
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
    let suite = SUITE
        .replace("tuner = \"tpe\"", "tuner = \"random\"")
        .replace(TPE_OPTIONS, "")
        .replace(BUDGET, "max_trials = 6\n")
        .replace("trial_epochs = 3", "trial_epochs = 1")
        .replace(ASHA, "assessor = \"none\"");
    let space = r#"{"batch_size": {"_type": "choice", "_value": [8, 16]}}"#;
    let search = search_with(&suite, space, &["--quiet", "--report", "r.md"], 0);
    let hpo = &search.result["arms"][0]["hpo"];
    let proposals: Vec<String> = hpo["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["params"].to_string())
        .collect();
    assert_eq!(proposals, ["{\"batch_size\":16}", "{\"batch_size\":8}"]);
    assert_eq!(hpo["stop_reason"], "tuner_exhausted");
    let report = search.report();
    assert!(
        report.contains("The search ended because the tuner had no new configuration left."),
        "{report}"
    );
    let sample = search.harness(&["space", "sample", "space.json", "--n", "6"]);
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

/// Anneal and Evolution searches (with NNI's Medianstop) run end to end, record their tuner,
/// and repeat exactly from the same tuner seed: the same proposals, curves and choice.
#[test]
fn anneal_and_evolution_searches_repeat_exactly() {
    for (tuner, options) in [
        ("anneal", "{ shrink_coef = 0.5 }"),
        ("evolution", "{ population_size = 3 }"),
    ] {
        let suite = SUITE
            .replace("tuner = \"tpe\"", &format!("tuner = \"{tuner}\""))
            .replace(TPE_OPTIONS, &format!("tuner_options = {options}\n"))
            .replace(BUDGET, "max_trials = 7\n")
            .replace(ASHA, "assessor = \"medianstop\"");
        let trials = |search: &Search| -> Vec<(Value, Value, Value)> {
            let hpo = &search.result["arms"][0]["hpo"];
            assert_eq!(hpo["tuner"], tuner);
            hpo["trials"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    (
                        t["params"].clone(),
                        t["intermediate"].clone(),
                        t["status"].clone(),
                    )
                })
                .collect()
        };
        let (a, b) = (
            search_with(&suite, SPACE, &["--quiet"], 0),
            search_with(&suite, SPACE, &["--quiet"], 0),
        );
        let first = trials(&a);
        assert_eq!(first.len(), 7, "{tuner}");
        assert_eq!(first, trials(&b), "{tuner}");
        let best = a.result["arms"][0]["hpo"]["best_trial"].clone();
        assert_eq!(best, b.result["arms"][0]["hpo"]["best_trial"], "{tuner}");
        // each proposal keeps the space's shape: momentum only with SGD
        for (params, _, _) in &first {
            let opt = &params["optimizer"];
            assert_eq!(
                opt["_name"] == "sgd",
                opt.get("momentum").is_some(),
                "{opt}"
            );
        }
    }
}
