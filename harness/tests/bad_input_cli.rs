//! Bad input through the `harness` binary: each case exits with code 2 and one message that
//! names the file (and line or key where there is one) and says what is wrong, and nothing is
//! written to the results folder.
use std::path::Path;
use std::process::Command;

const BASE: &str = r#"[suite]
name = "bad"
version = 1
seeds = [1]

[dataset]
name = "synthetic"
samples_per_class = 5

[arms.manual]
[arms.manual.recipe]
model = "mlp"
optimizer = "sgd"
initial_lr = 0.1
epochs = 1
batch_size = 8
"#;

const TUNED: &str = r#"
[arms.tuned]
[arms.tuned.recipe]
model = "mlp"
optimizer = "sgd"
initial_lr = 0.1
epochs = 1
batch_size = 8
[arms.tuned.hpo]
search_space = "space.json"
tuner = "tpe"
optimize_mode = "maximize"
trial_epochs = 1
max_trials = 1
"#;

const NAS: &str = r#"
[arms.nas]
architecture = "arch.json"
[arms.nas.retrain]
layers = 3
channels = 2
epochs = 1
cutout = 0
"#;

/// Runs `harness run s.toml` on `suite` (plus `files`) and returns the error output, after
/// checking the exit code is 2 and no result file was written.
fn run_fails(suite: &str, files: &[(&str, &[u8])], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), suite).unwrap();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "s.toml", "--quiet"])
        .args(extra)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        !results_written(&dir.path().join("results")),
        "no result for bad input"
    );
    err
}

fn results_written(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

fn assert_mentions(err: &str, parts: &[&str]) {
    for p in parts {
        assert!(err.contains(p), "expected {p:?} in:\n{err}");
    }
}

#[test]
fn unknown_model_optimizer_dataset_and_arm() {
    let err = run_fails(&BASE.replace("\"mlp\"", "\"resnet19\""), &[], &[]);
    assert_mentions(
        &err,
        &[
            "s.toml:12: arms.manual.recipe.model",
            "unknown model \"resnet19\"",
            "resnet18",
        ],
    );
    let err = run_fails(&BASE.replace("\"sgd\"", "\"adagrad\""), &[], &[]);
    assert_mentions(
        &err,
        &["s.toml", "line 13", "unknown variant `adagrad`", "rmsprop"],
    );
    let err = run_fails(&BASE.replace("\"synthetic\"", "\"mnist\""), &[], &[]);
    assert_mentions(
        &err,
        &[
            "s.toml:7: dataset.name",
            "unknown dataset \"mnist\"",
            "cifar10",
        ],
    );
    let err = run_fails(&BASE.replace("arms.manual]", "arms.manul]"), &[], &[]);
    assert_mentions(&err, &["s.toml", "unknown field `manul`", "original"]);
}

#[test]
fn a_toml_type_error_names_the_dotted_key_with_file_and_line() {
    // `epochs` is a key of every arm's recipe: the line alone leaves the reader to work out
    // which table it is in.
    let err = run_fails(&BASE.replace("epochs = 1", "epochs = \"15\""), &[], &[]);
    assert_eq!(
        err,
        "error: s.toml: TOML parse error at line 15, column 10\n   |\n15 | epochs = \"15\"\n   \
         |          ^^^^\narms.manual.recipe.epochs: invalid type: string \"15\", expected a whole number in [1, 1000000]\n"
    );
}

#[test]
fn a_split_with_an_empty_side_names_the_key_and_the_sizes() {
    let digits = BASE.replace("samples_per_class = 5", "test_fraction = 0.9999");
    let err = run_fails(&digits.replace("\"synthetic\"", "\"digits\""), &[], &[]);
    assert_mentions(
        &err,
        &[
            "s.toml:8: dataset.test_fraction",
            "0.9999 of the 1797 digits images gives 0 training and 1797 test images",
        ],
    );
    let err = run_fails(
        &BASE.replace("samples_per_class = 5", "samples_per_class = 1"),
        &[],
        &[],
    );
    assert_mentions(
        &err,
        &[
            "s.toml:8: dataset.samples_per_class",
            "must be >= 2",
            "got 1",
        ],
    );
}

#[test]
fn a_repeated_seed_on_the_command_line_is_refused_like_in_the_file() {
    let err = run_fails(BASE, &[], &["--seeds", "3,1,3"]);
    assert_mentions(&err, &["--seeds: seed 3 is listed twice"]);
}

#[test]
fn bench_arguments_out_of_range_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (args, message) in [
        (["--batch", "0"], "--batch must be in [1, 65536]"),
        (["--batch", "100000000"], "--batch must be in [1, 65536]"),
        (["--steps", "0"], "--steps must be at least 1"),
        (
            ["--classes", "0"],
            "--classes must be in [1, 100000], got 0",
        ),
        (
            ["--classes", "100000000"],
            "--classes must be in [1, 100000]",
        ),
        (["--threads", "0"], "--threads must be in [1, 1024]"),
        (["--threads", "5000"], "--threads must be in [1, 1024]"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["bench", "--model", "squeezenet1_1", "--device", "cpu"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_mentions(&err, &[message]);
    }
}

/// A batch whose training step cannot fit in memory is refused before it is allocated (it
/// was started and killed by the OOM killer): squeezenet keeps about 6 MB per 32×32 image, so
/// 65536 images need some 400 GB.
#[test]
fn a_bench_that_cannot_fit_in_memory_is_refused_naming_the_batch() {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["bench", "--model", "squeezenet1_1", "--style", "cifar"])
        .args(["--device", "cpu", "--batch", "65536"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_mentions(
        &err,
        &[
            "error: model squeezenet1_1 at batch 65536 needs an estimated ",
            "GB of memory; lower --batch (at most ",
        ],
    );
    assert!(out.stdout.is_empty());
}

/// `harness run` checks each arm's training step against the machine's memory before it
/// writes anything, as `harness bench` does: started, a zoo model at a batch too large for
/// memory was killed by the kernel (exit 137, nothing said, the result file left "running").
/// densenet121 keeps some 40 MB per CIFAR image; the training set is made large enough that
/// a step over all of it cannot fit here.
#[test]
fn a_run_whose_step_cannot_fit_in_memory_is_refused_naming_the_batch_size() {
    let data = tempfile::tempdir().unwrap();
    let images =
        (harness::env::MemoryBudget::of_this_process().bytes / 25_000_000).max(10) as usize;
    let per_file = images.div_ceil(5);
    harness::data::cifar10::write_synthetic(data.path(), per_file, 10, 1).unwrap();
    let suite = BASE
        .replace(
            "name = \"synthetic\"\nsamples_per_class = 5",
            &format!("name = \"cifar10\"\ndir = \"{}\"", data.path().display()),
        )
        .replace(
            "model = \"mlp\"",
            "model = \"densenet121\"\nstyle = \"cifar\"",
        )
        .replace("batch_size = 8", "batch_size = 1000000");
    let err = run_fails(&suite, &[], &[]);
    let n = per_file * 5;
    assert!(
        err.starts_with(&format!(
            "error: s.toml:17: arms.manual.recipe.batch_size: model densenet121 at batch {n} \
             needs an estimated "
        )) && err.contains("GB of memory; lower batch_size (at most ")
            && err.trim_end().ends_with(&format!(
                " is estimated to fit) (batch_size is 1000000: a step takes all {n} training \
                 images)"
            ))
            && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn an_empty_label_is_refused() {
    let err = run_fails(BASE, &[], &["--label", ""]);
    assert_mentions(&err, &["--label must not be empty"]);
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["env", "--label", " "])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_mentions(
        &String::from_utf8_lossy(&out.stderr),
        &["--label must not be empty"],
    );
}

#[test]
fn malformed_and_invalid_search_spaces() {
    let suite = format!("{BASE}{TUNED}");
    let err = run_fails(
        &suite,
        &[(
            "space.json",
            br#"{"initial_lr": {"_type": "uniform", "_value": [0.1, 0.2]},}"#,
        )],
        &[],
    );
    assert_mentions(&err, &["space.json", "line 1"]);
    let err = run_fails(
        &suite,
        &[(
            "space.json",
            br#"{"initial_lr": {"_type": "loguniform", "_value": [0, 0.2]}}"#,
        )],
        &[],
    );
    assert_mentions(&err, &["space.json", "initial_lr", "loguniform"]);
    let err = run_fails(&suite, &[], &[]);
    assert_mentions(&err, &["space.json"]);
    // Values no trial could train with, found when the suite is read: each value of the space
    // is tried alone on the arm's recipe and the dataset.
    let err = run_fails(
        &suite,
        &[(
            "space.json",
            br#"{"cutout": {"_type": "choice", "_value": [0, 8]}}"#,
        )],
        &[],
    );
    assert_mentions(
        &err,
        &[
            "s.toml:26: arms.tuned.hpo.search_space",
            "space.json: key \"cutout\": with the value 8, the tuned arm's recipe is invalid: \
             cutout: needs dataset cifar10, the suite uses synthetic",
        ],
    );
    let err = run_fails(
        &suite.replace(
            "initial_lr = 0.1\nepochs = 1\nbatch_size = 8\n[arms.tuned.hpo]",
            "initial_lr = 0.1\nmomentum = 0.9\nnesterov = true\nepochs = 1\nbatch_size = 8\n[arms.tuned.hpo]",
        ),
        &[(
            "space.json",
            br#"{"optimizer": {"_type": "choice", "_value": ["sgd", "adam"]}}"#,
        )],
        &[],
    );
    assert_mentions(
        &err,
        &[
            "key \"optimizer\": with the value \"adam\"",
            "nesterov: needs optimizer = \"sgd\"",
        ],
    );
    let err = run_fails(
        &suite,
        &[(
            "space.json",
            br#"{"model": {"_type": "choice", "_value": ["mlp", "resnet18"]}}"#,
        )],
        &[],
    );
    assert_mentions(
        &err,
        &[
            "key \"model\": with the value \"resnet18\"",
            "model: needs dataset cifar10",
        ],
    );
    // The validation split the trials are scored on must hold images on both sides.
    let err = run_fails(
        &suite.replace(
            "max_trials = 1\n",
            "max_trials = 1\nvalidation_fraction = 0.001\n",
        ),
        &[(
            "space.json",
            br#"{"initial_lr": {"_type": "uniform", "_value": [0.1, 0.2]}}"#,
        )],
        &[],
    );
    assert_mentions(
        &err,
        &[
            "s.toml:31: arms.tuned.hpo.validation_fraction",
            "gives 40 training and 0 validation images: the validation side would be empty",
        ],
    );
}

#[test]
fn a_zoo_model_on_an_8x8_dataset_is_refused_when_the_suite_is_read() {
    let err = run_fails(&BASE.replace("\"mlp\"", "\"resnet18\""), &[], &[]);
    assert_mentions(
        &err,
        &[
            "s.toml:12: arms.manual.recipe.model",
            "needs dataset cifar10 (3-channel images of at least 32×32), the suite uses synthetic",
        ],
    );
}

#[test]
fn a_zero_trial_epoch_budget_names_its_key() {
    let suite =
        format!("{BASE}{TUNED}").replace("max_trials = 1", "max_trials = 1\nmax_trial_epochs = 0");
    let space: &[u8] = br#"{"initial_lr": {"_type": "loguniform", "_value": [0.01, 0.2]}}"#;
    let err = run_fails(&suite, &[("space.json", space)], &[]);
    assert_mentions(
        &err,
        &["s.toml", "arms.tuned.hpo.max_trial_epochs", "must be >= 1"],
    );
}

/// Each search setting's error names the key at fault, with what the user wrote.
#[test]
fn search_settings_name_the_key_at_fault() {
    let suite = format!("{BASE}{TUNED}");
    let space: &[u8] = br#"{"initial_lr": {"_type": "loguniform", "_value": [0.01, 0.2]}}"#;
    let files = [("space.json", space)];
    // NNI's OptimizeMode has the two full words only: "max" is not one of them.
    for mode in ["max", "MIN", "maximise"] {
        let err = run_fails(
            &suite.replace("\"maximize\"", &format!("\"{mode}\"")),
            &files,
            &[],
        );
        assert_mentions(
            &err,
            &[&format!(
                "s.toml:28: arms.tuned.hpo.optimize_mode: must be \"maximize\" or \"minimize\", \
                 got \"{mode}\""
            )],
        );
    }
    let err = run_fails(&suite.replace("\"tpe\"", "\"SMAC\""), &files, &[]);
    assert_mentions(
        &err,
        &[
            "s.toml:27: arms.tuned.hpo.tuner: unknown tuner \"SMAC\": expected one of random, \
           grid, tpe, anneal, evolution (in any case; NNI's \"GridSearch\" is grid)",
        ],
    );
    let err = run_fails(
        &suite.replace(
            "max_trials = 1",
            "max_trials = 1\nassessor = \"Curvefitting\"",
        ),
        &files,
        &[],
    );
    assert_mentions(
        &err,
        &[
            "arms.tuned.hpo.assessor: unknown assessor \"Curvefitting\": expected one of none, \
           medianstop, asha, hyperband (in any case)",
        ],
    );
    // TOML's nan and inf have no JSON form: said as written, not as "null".
    for (written, shown) in [("nan", "NaN"), ("inf", "inf"), ("-inf", "-inf")] {
        let options = format!("tuner = \"tpe\"\ntuner_options = {{ gamma = {written} }}");
        let err = run_fails(&suite.replace("tuner = \"tpe\"", &options), &files, &[]);
        assert_mentions(
            &err,
            &[
                "arms.tuned.hpo.tuner_options: ",
                &format!("option \"gamma\" is {shown}: options are finite numbers"),
            ],
        );
    }
    let nested = "assessor = \"asha\"\nassessor_options = { type = \"stopping\", x = [1.0, nan] }";
    let err = run_fails(
        &suite.replace("max_trials = 1", &format!("max_trials = 1\n{nested}")),
        &files,
        &[],
    );
    assert_mentions(
        &err,
        &[
            "arms.tuned.hpo.assessor_options: ",
            "option \"x[1]\" is NaN",
        ],
    );
    let err = run_fails(
        &suite.replace("tuner = \"tpe\"", "tuner = \"tpe\"\ntuner_options = 5"),
        &files,
        &[],
    );
    assert_mentions(
        &err,
        &["arms.tuned.hpo.tuner_options: tpe: the options must be a table of names and values, e.g. { option = 1 }, got 5"],
    );
    // NNI's classArgs habits: the message stays, with where the setting goes here.
    let err = run_fails(
        &suite.replace(
            "tuner = \"tpe\"",
            "tuner = \"tpe\"\ntuner_options = { optimize_mode = \"maximize\", seed = 1 }",
        ),
        &files,
        &[],
    );
    assert_mentions(
        &err,
        &[
            "s.toml:28: arms.tuned.hpo.tuner_options: tpe: unknown option(s) \"optimize_mode\", \
           \"seed\" (valid: n_startup_trials, gamma, n_ei_candidates, prior_weight, \
           quantile_split, constant_liar, multivariate); set optimize_mode in [arms.tuned.hpo], \
           not in tuner_options; the tuner's seed is tuner_seed in [arms.tuned.hpo]\n",
        ],
    );
    let err = run_fails(
        &suite.replace("\"tpe\"", "\"random\"\ntuner_options = { seed = 1 }"),
        &files,
        &[],
    );
    assert_mentions(
        &err,
        &[
            "arms.tuned.hpo.tuner_options: random: unknown option(s) \"seed\" (valid: none); \
           the tuner's seed is tuner_seed in [arms.tuned.hpo]\n",
        ],
    );
    let medianstop =
        "assessor = \"medianstop\"\nassessor_options = { optimize_mode = \"maximize\" }";
    let err = run_fails(
        &suite.replace("max_trials = 1", &format!("max_trials = 1\n{medianstop}")),
        &files,
        &[],
    );
    assert_mentions(
        &err,
        &[
            "arms.tuned.hpo.assessor_options: medianstop: unknown option(s) \"optimize_mode\" \
           (valid: start_step); set optimize_mode in [arms.tuned.hpo], not in assessor_options\n",
        ],
    );
    // Found when the suite is read, not by each trial once the search runs.
    let err = run_fails(
        &suite.replace("trial_epochs = 1", "trial_epochs = 100000000"),
        &files,
        &[],
    );
    assert_mentions(
        &err,
        &["s.toml:29: arms.tuned.hpo.trial_epochs: must be in [1, 1000000], got 100000000"],
    );
    // Trials longer than the retraining they choose for: the recipe's epochs, or the epochs
    // the space gives a configuration.
    let err = run_fails(
        &suite.replace("trial_epochs = 1", "trial_epochs = 2"),
        &files,
        &[],
    );
    assert_mentions(
        &err,
        &[
            "s.toml:29: arms.tuned.hpo.trial_epochs: 2 is more than the recipe's epochs = 1 \
           (arms.tuned.recipe.epochs, the full budget the chosen configuration is retrained at): \
           the search's trials would train longer than the retraining\n",
        ],
    );
    let longer = suite
        .replace("trial_epochs = 1", "trial_epochs = 3")
        .replace(
            "epochs = 1\nbatch_size = 8\n[arms.tuned.hpo]",
            "epochs = 3\nbatch_size = 8\n[arms.tuned.hpo]",
        );
    let some_short: &[u8] = br#"{"epochs": {"_type": "choice", "_value": [4, 2, 8]}}"#;
    let err = run_fails(&longer, &[("space.json", some_short)], &[]);
    assert_mentions(
        &err,
        &[
            "s.toml:29: arms.tuned.hpo.trial_epochs: 3 is more than epochs = 2, which the search \
           space's key \"epochs\" gives a configuration (the full budget it is retrained at)",
        ],
    );
    // Epochs set in one option only: the other options retrain at the recipe's epochs.
    let err = run_fails(
        &longer.replace("trial_epochs = 3", "trial_epochs = 4"),
        &[(
            "space.json",
            br#"{"optimizer": {"_type": "choice", "_value": [
                {"_name": "sgd", "epochs": {"_type": "choice", "_value": [4, 8]}},
                {"_name": "adam"}]}}"#,
        )],
        &[],
    );
    assert_mentions(
        &err,
        &["arms.tuned.hpo.trial_epochs: 4 is more than the recipe's epochs = 3"],
    );
    let err = run_fails(
        &suite.replace("max_trials = 1", "max_trials = 1\nretrain_top_k = 5"),
        &files,
        &[],
    );
    assert_mentions(
        &err,
        &["arms.tuned.hpo.retrain_top_k: 5 is more than max_trials = 1"],
    );
}

/// A key that would change nothing is refused: in a recipe it misleads whoever reads the
/// suite, in a search space it spends trials on differences that are not there.
#[test]
fn keys_that_change_nothing_are_refused() {
    let err = run_fails(
        &BASE.replace("epochs = 1", "epochs = 1\ngamma = 0.5"),
        &[],
        &[],
    );
    assert_mentions(
        &err,
        &["s.toml:16: arms.manual.recipe.gamma: has no effect: it is used only with schedule = \"step\"; remove it"],
    );
    let suite = format!("{BASE}{TUNED}").replace(
        "initial_lr = 0.1\nepochs = 1\nbatch_size = 8\n[arms.tuned.hpo]",
        "optimizer = \"adam\"\ninitial_lr = 0.1\nepochs = 1\nbatch_size = 8\n[arms.tuned.hpo]",
    );
    let suite = suite.replacen(
        "optimizer = \"sgd\"\noptimizer = \"adam\"",
        "optimizer = \"adam\"",
        1,
    );
    let momentum: &[u8] = br#"{"momentum": {"_type": "uniform", "_value": [0.5, 0.9]}}"#;
    let err = run_fails(&suite, &[("space.json", momentum)], &[]);
    assert_mentions(
        &err,
        &[
            "arms.tuned.hpo.search_space: space.json: key \"momentum\": no trial would use it: \
           momentum is used only with optimizer = \"sgd\" or \"rmsprop\", and neither the tuned \
           arm's recipe nor the search space sets that",
        ],
    );
    // The tuned arm's recipe: a key is used if some trial of its space would use it.
    let lr: &[u8] = br#"{"initial_lr": {"_type": "uniform", "_value": [0.05, 0.1]}}"#;
    let with_momentum = suite.replace(
        "optimizer = \"adam\"",
        "optimizer = \"adam\"\nmomentum = 0.9",
    );
    let err = run_fails(&with_momentum, &[("space.json", lr)], &[]);
    assert_mentions(
        &err,
        &["s.toml:22: arms.tuned.recipe.momentum: has no effect: it is used only with optimizer = \
           \"sgd\" or \"rmsprop\", and no trial of the search space sets that; remove it"],
    );
    // Used as soon as the space can choose an optimizer that uses it, at its level or above.
    let ok = |space: &[u8]| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), &suite).unwrap();
        std::fs::write(dir.path().join("space.json"), space).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["run", "s.toml", "--quiet", "--epochs", "1"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(br#"{"momentum": {"_type": "uniform", "_value": [0.5, 0.9]},
            "optimizer": {"_type": "choice", "_value": ["adam", "sgd"]}}"#);
    ok(br#"{"optimizer": {"_type": "choice", "_value": [
            {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0.5, 0.9]}},
            {"_name": "adam"}]}}"#);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), &with_momentum).unwrap();
    std::fs::write(
        dir.path().join("space.json"),
        br#"{"optimizer": {"_type": "choice", "_value": ["adam", "sgd"]}}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "s.toml", "--quiet", "--epochs", "1"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn overrides_out_of_range_are_usage_errors_before_anything_runs() {
    let err = run_fails(BASE, &[], &["--epochs", "2000000"]);
    assert_mentions(
        &err,
        &["error: --epochs must be in [1, 1000000], got 2000000"],
    );
    let err = run_fails(BASE, &[], &["--epochs", "0"]);
    assert_mentions(&err, &["error: --epochs must be in [1, 1000000], got 0"]);
    let err = run_fails(BASE, &[], &["--data-dir", "cifar"]);
    assert_mentions(
        &err,
        &["error: --data-dir: the suite's dataset \"synthetic\" reads no files (only cifar10 does)"],
    );
}

#[test]
fn invalid_architecture_file() {
    let suite = format!("{BASE}{NAS}");
    let err = run_fails(
        &suite,
        &[("arch.json", br#"{"normal_n2_p0": "sepconv9x9"}"#)],
        &[],
    );
    assert_mentions(
        &err,
        &[
            "s.toml:19: arms.nas.architecture",
            "arch.json: missing key \"normal_n2_p1\"",
        ],
    );
}

#[test]
fn missing_and_corrupt_cifar10() {
    let cifar = BASE.replace(
        "name = \"synthetic\"\nsamples_per_class = 5",
        "name = \"cifar10\"\ndir = \"cifar\"",
    );
    let err = run_fails(&cifar, &[], &[]);
    assert_mentions(&err, &["cifar", "harness data cifar10"]);
    let err = run_fails(
        &cifar,
        &[
            ("cifar/data_batch_1.bin", &[0u8; 1000]),
            ("cifar/test_batch.bin", &[0u8; 3073]),
        ],
        &[],
    );
    assert_mentions(&err, &["data_batch_1.bin", "1000"]);
}

#[test]
fn a_result_file_of_a_newer_schema_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.json"), br#"{"schema_version": 99}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["report", "r.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_mentions(&err, &["r.json", "schema version 99", "≤ 1", "upgrade"]);
}

/// Files directly in `dir` whose names end with `ext`.
fn files_ending(dir: &Path, ext: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect()
}

#[test]
fn a_report_output_that_is_an_input_a_folder_or_under_a_file_is_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("r.json");
    let bytes = serde_json::to_vec_pretty(&harness::report::fixture::two_arms("box", &[0.9, 0.91]))
        .unwrap();
    std::fs::write(&result, &bytes).unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    for (output, expected) in [
        (
            "r.json",
            "r.json: is one of the result files being reported on",
        ),
        ("./r.json", "is one of the result files being reported on"),
        ("out", "out: is a folder"),
        ("r.json/report.md", "r.json is not a folder"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["report", "r.json", "-o", output])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "-o {output}: {err}");
        assert_mentions(&err, &[output, expected]);
        assert_eq!(std::fs::read(&result).unwrap(), bytes, "-o {output}");
        assert!(files_ending(dir.path(), ".svg").is_empty(), "-o {output}");
        assert!(
            files_ending(&dir.path().join("out"), "").is_empty(),
            "-o {output}"
        );
    }
}

#[test]
fn a_folder_named_like_a_plot_is_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = serde_json::to_vec_pretty(&harness::report::fixture::two_arms("box", &[0.9, 0.91]))
        .unwrap();
    std::fs::write(dir.path().join("r.json"), &bytes).unwrap();
    std::fs::create_dir_all(dir.path().join("out/r-box-train-vs-test.svg")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["report", "r.json", "-o", "out/r.md"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: out/r-box-train-vs-test.svg: is a folder, and the report writes a plot of that \
         name (move it, or choose another output file)\n"
    );
    // Not even the plot before it.
    assert_eq!(
        files_ending(&dir.path().join("out"), ""),
        ["r-box-train-vs-test.svg"]
    );
}

/// A plot replaces only an earlier plot: a result file, or the suite being run, named like one
/// is refused before anything is written (it was replaced by an SVG).
#[test]
fn a_file_named_like_a_plot_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = serde_json::to_vec_pretty(&harness::report::fixture::two_arms("box", &[0.9, 0.91]))
        .unwrap();
    std::fs::write(dir.path().join("r.json"), &bytes).unwrap();
    std::fs::write(dir.path().join("r-box-test-acc.svg"), &bytes).unwrap();
    let report = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = report(&["report", "r.json", "-o", "r.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: r-box-test-acc.svg: exists and is not an SVG plot, and the report writes a plot \
         of that name (move it, or choose another output file)\n"
    );
    assert_eq!(
        std::fs::read(dir.path().join("r-box-test-acc.svg")).unwrap(),
        bytes
    );
    assert!(!dir.path().join("r.md").exists());
    // An earlier plot is replaced.
    std::fs::remove_file(dir.path().join("r-box-test-acc.svg")).unwrap();
    assert_eq!(
        report(&["report", "r.json", "-o", "r.md"]).status.code(),
        Some(0)
    );
    assert_eq!(
        report(&["report", "r.json", "-o", "r.md"]).status.code(),
        Some(0)
    );
    // Before a run, whatever could be one of its plots is checked: here the suite itself.
    let err = run_fails(BASE, &[("p-x.svg", BASE.as_bytes())], &["--report", "p.md"]);
    assert_mentions(&err, &["--report p-x.svg: exists and is not an SVG plot"]);
    let suite_as_plot = {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p-s.svg"), BASE).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["run", "p-s.svg", "--quiet", "--report", "p.md"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("p-s.svg")).unwrap(),
            BASE
        );
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(suite_as_plot.0, Some(2));
    assert_mentions(
        &suite_as_plot.1,
        &["--report p-s.svg: is the suite file being run"],
    );
}

#[test]
fn run_checks_its_report_path_before_training() {
    let err = run_fails(BASE, &[("out/keep.txt", b"")], &["--report", "out"]);
    assert_mentions(&err, &["--report out: is a folder"]);
}

#[test]
fn a_missing_result_file_is_named_with_its_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["report", "missing.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_mentions(&err, &["missing.json: cannot read the result file"]);
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
}

/// Runs `harness args` in `dir` and returns its error output, after checking that it exited 2
/// and wrote no result.
fn fails_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(!results_written(&dir.join("results")), "{args:?}");
    err
}

/// A report may replace only an earlier report (or an empty file): not the suite being run,
/// a file it names, or any other file, which stays byte for byte as it was.
#[test]
fn a_report_output_that_is_the_suite_a_file_it_names_or_not_a_report_is_refused() {
    use harness::nas::archfile::{export, OpFormat};
    let dir = tempfile::tempdir().unwrap();
    let suite = format!("{BASE}{TUNED}{NAS}");
    let space = br#"{"initial_lr": {"_type": "uniform", "_value": [0.1, 0.2]}}"#.to_vec();
    let arch = export(
        &harness::nas::genotype::Genotype::darts_v2(),
        OpFormat::Index,
    );
    let result =
        serde_json::to_vec_pretty(&harness::report::fixture::two_arms("box", &[0.9])).unwrap();
    let files: [(&str, &[u8]); 6] = [
        ("s.toml", suite.as_bytes()),
        ("space.json", &space),
        ("arch.json", arch.as_bytes()),
        ("r.json", &result),
        ("notes.md", b"# My notes\n"),
        ("data.json", b"{\"a\": 1}\n"),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let not_a_report = "exists and is not a report (its first line is not \
                        `# Benchmark report: …` or `# 实验报告: …`); the report would overwrite it";
    for (output, why) in [
        (
            "s.toml",
            "is the suite file being run; the report would overwrite it",
        ),
        (
            "./s.toml",
            "is the suite file being run; the report would overwrite it",
        ),
        (
            "space.json",
            "is the file the suite names in arms.tuned.hpo.search_space; the report would \
             overwrite it",
        ),
        (
            "arch.json",
            "is the file the suite names in arms.nas.architecture; the report would overwrite it",
        ),
        ("notes.md", not_a_report),
        ("data.json", not_a_report),
    ] {
        let err = fails_in(
            dir.path(),
            &["run", "s.toml", "--quiet", "--report", output],
        );
        assert_eq!(
            err,
            format!("error: --report {output}: {why} (choose another output file)\n")
        );
    }
    // `report -o` refuses the same files; the result file itself as before.
    for (output, why) in [
        ("s.toml", not_a_report),
        ("notes.md", not_a_report),
        ("r.json", "is one of the result files being reported on"),
    ] {
        let err = fails_in(dir.path(), &["report", "r.json", "-o", output]);
        assert_mentions(&err, &[&format!("error: {output}: {why}")]);
    }
    for (name, bytes) in files {
        assert_eq!(
            std::fs::read(dir.path().join(name)).unwrap(),
            bytes,
            "{name}"
        );
    }
    assert!(files_ending(dir.path(), ".svg").is_empty());
}

/// A `--results-dir` that is a file, or under one, is refused before the run (it used to fail
/// with exit 1 when the result was first written), and the file is left as it was.
#[test]
fn a_results_dir_that_is_a_file_or_under_one_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), BASE).unwrap();
    std::fs::create_dir(dir.path().join("rep")).unwrap();
    std::fs::write(dir.path().join("rep/file"), b"keep").unwrap();
    for (results_dir, why) in [
        ("rep/file", "is not a folder"),
        ("rep/file/", "is not a folder"),
        (
            "rep/file/sub",
            "rep/file is not a folder, so nothing can be written under it",
        ),
    ] {
        let err = fails_in(
            dir.path(),
            &["run", "s.toml", "--quiet", "--results-dir", results_dir],
        );
        assert_eq!(err, format!("error: --results-dir {results_dir}: {why}\n"));
        assert_eq!(std::fs::read(dir.path().join("rep/file")).unwrap(), b"keep");
        assert_eq!(files_ending(&dir.path().join("rep"), ""), ["file"]);
    }
}

/// A suite (or a file it names) that cannot be read says the OS's reason once.
#[test]
fn an_unreadable_suite_says_its_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("folder.toml")).unwrap();
    let latin1 = b"[suite]\nname = \"caf\xe9\"\n";
    std::fs::write(dir.path().join("latin1.toml"), latin1).unwrap();
    let os = |code| std::io::Error::from_raw_os_error(code).to_string();
    let utf8 = std::fs::read_to_string(dir.path().join("latin1.toml"))
        .unwrap_err()
        .to_string();
    for (suite, why) in [
        ("missing.toml", os(libc::ENOENT)),
        ("folder.toml", os(libc::EISDIR)),
        ("latin1.toml", utf8),
    ] {
        let err = fails_in(dir.path(), &["run", suite]);
        assert_eq!(
            err,
            format!("error: {suite}: cannot read the suite file: {why}\n")
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("latin1.toml")).unwrap(),
        latin1
    );

    // The files a suite names, and a result file, the same.
    let err = run_fails(&format!("{BASE}{TUNED}"), &[], &[]);
    assert_eq!(err.matches(&os(libc::ENOENT)).count(), 1, "{err}");
    let err = run_fails(&format!("{BASE}{NAS}"), &[("arch.json/x", b"")], &[]);
    assert_eq!(err.matches(&os(libc::EISDIR)).count(), 1, "{err}");
    let err = fails_in(dir.path(), &["report", "folder.toml"]);
    assert_eq!(err.matches(&os(libc::EISDIR)).count(), 1, "{err}");
}
