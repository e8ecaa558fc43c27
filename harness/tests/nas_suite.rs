//! The nas arm: a tiny search + retrain + random baseline on synthetic data through the
//! runner, epoch files that re-import, suite validation errors, and the Lab 8 suite parses.
use harness::nas::archfile;
use harness::suite::runner::{run_suite, RunOptions};
use harness::suite::LoadedSuite;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

const TINY: &str = r#"
[suite]
name = "tiny-nas"
version = 1
seeds = [1]

[dataset]
name = "synthetic"
samples_per_class = 10

[arms.nas]
description = "tiny"
[arms.nas.search]
layers = 3
channels = 2
epochs = 2
batch_size = 32
[arms.nas.retrain]
layers = 3
channels = 2
epochs = 1
batch_size = 32
auxiliary = true
cutout = 2
[arms.nas.random_baseline]
samples = 2
epochs = 1
"#;

fn parse(text: &str) -> Result<LoadedSuite, String> {
    LoadedSuite::parse(text, Path::new("suites/t.toml")).map_err(|e| e.to_string())
}

#[test]
fn tiny_nas_arm_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let suite = parse(TINY).unwrap();
    let options = RunOptions {
        label: Some("test".into()),
        results_dir: dir.path().to_path_buf(),
        device: tch::Device::Cpu,
        quiet: true,
        resume: None,
        checkpoint_every: 1,
    };
    let summary = run_suite(&suite, &options, &Arc::new(AtomicBool::new(false))).unwrap();
    let arm = &summary.result.arms[0];
    assert_eq!(arm.name, "nas");
    assert_eq!(arm.runs.len(), 1);
    assert!(arm.runs.iter().all(|r| r.epochs.len() == 1));
    let nas = arm.nas.as_ref().expect("a nas record");
    assert_eq!(nas.search_epochs.len(), 2);
    assert_eq!(nas.epoch_files.len(), 2);
    for (e, f) in nas.epoch_files.iter().enumerate() {
        assert!(f.ends_with(&format!("epoch_{e}.json")), "{f}");
        let text = std::fs::read_to_string(f).unwrap();
        archfile::import(&text, f).expect("epoch files re-import");
    }
    assert_eq!(&nas.architecture_file, nas.epoch_files.last().unwrap());
    let stem = summary
        .path
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(nas.architecture_file.contains(&format!("{stem}-nas")));
    assert!(nas.parameters > 0);
    assert_eq!(nas.random_samples.len(), 2);
    assert_eq!(nas.random_runs.len(), 1);
    assert!(nas.random_mean.is_some());
    assert!(arm
        .hyperparameters
        .iter()
        .any(|(k, v)| k == "architecture" && v == &nas.architecture_file));
    // One retraining epoch is said in the singular, as the report says it.
    let pair = |key: &str| arm.hyperparameters.iter().find(|(k, _)| k == key).unwrap();
    assert!(
        pair("search").1.contains(", 2 epochs, batch 32"),
        "{:?}",
        arm.hyperparameters
    );
    assert!(
        pair("retrain")
            .1
            .starts_with("3 cells C=2, 1 epoch, batch 32,"),
        "{:?}",
        arm.hyperparameters
    );
    // The file on disk round-trips, and the report renders the section in both languages.
    let back = harness::results::read_result(&summary.path).unwrap();
    assert_eq!(
        back.arms[0].nas.as_ref().unwrap().epoch_files,
        nas.epoch_files
    );
    // A hand-edited search accuracy (a percentage) is refused, naming it.
    let text = std::fs::read_to_string(&summary.path).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["arms"][0]["nas"]["search_epochs"][1]["arch_acc"] = 97.0.into();
    let e = harness::results::parse_result(&value.to_string(), "r.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("arms[0].nas.search_epochs[1].arch_acc: 97 is not an accuracy"),
        "{e}"
    );
    for lang in [
        harness::report::i18n::Lang::En,
        harness::report::i18n::Lang::Zh,
    ] {
        let r =
            harness::report::render(std::slice::from_ref(&back), lang, dir.path(), "r").unwrap();
        assert!(r.markdown.contains("```mermaid"), "{}", r.markdown);
        assert!(
            r.markdown.contains("not the model's accuracy")
                || r.markdown.contains("不是模型的准确率")
        );
    }
}

fn run_tiny(text: &str, dir: &Path) -> harness::results::ResultFile {
    let options = RunOptions {
        label: Some("test".into()),
        results_dir: dir.to_path_buf(),
        device: tch::Device::Cpu,
        quiet: true,
        resume: None,
        checkpoint_every: 1,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let summary = run_suite(&parse(text).unwrap(), &options, &stop).unwrap();
    // Whatever diverged, the file on disk is one that report, compare and check read.
    harness::results::read_result(&summary.path).expect("the result file reads back")
}

#[test]
fn a_diverging_retrain_is_recorded_as_diverged_in_a_readable_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = TINY.replace(
        "epochs = 1\nbatch_size = 32\nauxiliary = true",
        "epochs = 3\nbatch_size = 32\nlr = 1e6\ngrad_clip = 1e30\nauxiliary = true",
    );
    let text = text.replace("samples = 2\nepochs = 1", "samples = 1\nepochs = 2");
    assert_ne!(text, TINY);
    let back = run_tiny(&text, dir.path());
    let arm = &back.arms[0];
    assert_eq!(arm.error, None);
    let run = &arm.runs[0];
    let epoch = run.diverged_at_epoch.expect("lr 1e6 diverges");
    // The finite epochs before it, no accuracy, as a diverged run of the other arms.
    assert_eq!(run.epochs.len(), epoch - 1);
    assert_eq!(
        (run.final_test_acc, run.best_test_acc, run.best_epoch),
        (None, None, None)
    );
    assert_eq!(arm.summary.as_ref().unwrap().diverged, 1);
    // The random baseline's sample trains with the same recipe and diverges too.
    let nas = arm.nas.as_ref().unwrap();
    assert_eq!(nas.random_samples[0].val_acc, None);
}

#[test]
fn a_diverging_search_fails_the_arm_naming_the_epoch_and_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let text = TINY.replace(
        "batch_size = 32\n[arms.nas.retrain]",
        "batch_size = 32\nw_lr = 1e30\n[arms.nas.retrain]",
    );
    assert_ne!(text, TINY);
    let back = run_tiny(&text, dir.path());
    let error = back.arms[0].error.as_deref().expect("the arm failed");
    assert!(
        error.contains("the DARTS search diverged in epoch 1 of 2 (")
            && error.contains("a lower w_lr or alpha_lr"),
        "{error}"
    );
    assert!(back.arms[0].runs.is_empty());
}

#[test]
fn nas_validation_errors_name_file_line_key() {
    let bad = TINY.replace(
        "layers = 3\nchannels = 2\nepochs = 2",
        "layers = 2\nchannels = 2\nepochs = 2",
    );
    let e = parse(&bad).unwrap_err();
    assert!(
        e.contains("suites/t.toml:14: arms.nas.search.layers"),
        "{e}"
    );
    // So deep that building the network would exhaust memory before any check could stop it.
    let bad = TINY.replace(
        "layers = 3\nchannels = 2\nepochs = 2",
        "layers = 1000000000000\nchannels = 2\nepochs = 2",
    );
    let e = parse(&bad).unwrap_err();
    assert!(
        e.contains("suites/t.toml:14: arms.nas.search.layers") && e.contains("must be in [3, 200]"),
        "{e}"
    );
    let bad = TINY.replace("samples = 2", "samples = 0");
    let e = parse(&bad).unwrap_err();
    assert!(e.contains("arms.nas.random_baseline.samples"), "{e}");
    let bad = TINY.replace("cutout = 2", "cutout = 2\nwarmup = 3");
    let e = parse(&bad).unwrap_err();
    assert!(e.contains("warmup"), "{e}");
    let bad = TINY.replace(
        "description = \"tiny\"",
        "description = \"tiny\"\nexport_format = \"yaml\"",
    );
    let e = parse(&bad).unwrap_err();
    assert!(e.contains("arms.nas.export_format"), "{e}");
    let bad = TINY.replace(
        "description = \"tiny\"",
        "description = \"tiny\"\narchitecture = \"nope.json\"",
    );
    let e = parse(&bad).unwrap_err();
    assert!(e.contains("arms.nas.architecture"), "{e}");
}

#[test]
fn lab8_suite_parses_with_the_lab_settings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/nas-lab8.toml");
    let suite = LoadedSuite::load(&path).unwrap();
    let nas = suite.file.arms.nas.as_ref().unwrap();
    assert_eq!(
        (nas.search.layers, nas.search.channels, nas.search.epochs),
        (8, 16, 50)
    );
    let r = &nas.retrain;
    assert_eq!(
        (r.layers, r.channels, r.epochs, r.batch_size, r.cutout),
        (20, 36, 600, 96, 16)
    );
    assert!(r.auxiliary && (r.aux_weight - 0.4).abs() < 1e-12 && (r.drop_path - 0.2).abs() < 1e-12);
    let quick = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/quick-nas.toml");
    let quick = LoadedSuite::load(&quick).unwrap();
    assert!(quick.arms().contains(&harness::suite::ArmKind::Nas));
}
