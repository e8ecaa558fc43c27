//! lab8-smoke.toml end to end: synthetic CIFAR-10-format files in a temporary folder,
//! `harness run --data-dir`, one epoch. Exercises the CIFAR-10 reader, the u8 per-batch
//! transforms, ImageNet- and CIFAR-style zoo models, the 1000-way head and the tuned arm.
use harness::results::ResultFile;
use harness::suite::LoadedSuite;
use std::path::{Path, PathBuf};
use std::process::Command;

fn suite_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("suites")
        .join(name)
}

#[test]
fn lab8_suites_parse_with_the_labs_settings() {
    let lab8 = LoadedSuite::load(&suite_path("lab8.toml")).unwrap();
    let original = &lab8.file.arms.original.as_ref().unwrap().recipe;
    assert_eq!(original.model, "resnet18");
    assert_eq!(original.style, harness::train::Style::ImageNet);
    assert_eq!(original.head_classes, Some(1000));
    assert_eq!(
        (original.epochs, original.batch_size, original.cutout),
        (300, 128, 0)
    );
    assert_eq!(original.augment, harness::train::AugmentKind::CropFlip);
    assert_eq!(lab8.file.suite.seeds, vec![42]);
    let tuned = lab8.file.arms.tuned.as_ref().unwrap();
    assert_eq!(tuned.hpo.optimize_mode, "maximize");
    let space = std::fs::read_to_string(suite_path("lab8_search_space.json")).unwrap();
    let space: serde_json::Value = serde_json::from_str(&space).unwrap();
    assert_eq!(
        space["grad_clip"]["_value"],
        serde_json::json!([0.1, 5.0]),
        "the lab's invalid loguniform [0.0, 5.0] must stay corrected"
    );
    assert_eq!(space["model"]["_value"].as_array().unwrap().len(), 10);
    assert!(lab8.search_space.is_some());
    let smoke = LoadedSuite::load(&suite_path("lab8-smoke.toml")).unwrap();
    assert_eq!(smoke.arms(), lab8.arms());
}

#[test]
fn lab8_smoke_runs_end_to_end_on_synthetic_cifar10() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("cifar");
    // 5 × 16 training and 40 test images.
    harness::data::cifar10::write_synthetic(&data, 16, 40, 7).unwrap();
    let results = tmp.path().join("results");
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .arg(suite_path("lab8-smoke.toml"))
        .args([
            "--epochs", "1", "--device", "cpu", "--quiet", "--label", "ci",
        ])
        // One intra-op thread: on a busy 2-core CI box OpenMP's spinning threads make
        // libtorch several times slower than one thread (measured: 65 s → 15 s).
        .env("OMP_NUM_THREADS", "1")
        .arg("--data-dir")
        .arg(&data)
        .arg("--results-dir")
        .arg(&results)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let file = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a result file");
    let result: ResultFile = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(result.dataset.name, "cifar10");
    assert_eq!((result.dataset.n_train, result.dataset.n_test), (80, 40));
    assert!(result.dataset.source.contains("SYNTHETIC"));
    assert!(result
        .suite
        .overrides
        .iter()
        .any(|o| o.starts_with("data_dir=")));
    let names: Vec<&str> = result.arms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["original", "manual", "tuned", "nas"]);
    for arm in &result.arms {
        assert_eq!(arm.runs.len(), 1, "{}", arm.name);
        let run = &arm.runs[0];
        assert!(run.epochs.len() == 1 || run.diverged_at_epoch.is_some());
    }
    // The original keeps torchvision's resnet18 with its 1000-way head (11,689,512
    // parameters); the manual arm is CIFAR-style with a 10-way head.
    assert_eq!(result.arms[0].runs[0].parameters, 11_689_512);
    assert_eq!(result.arms[1].runs[0].parameters, 11_173_962);
    // The nas arm trains with DARTS' CIFAR-10 pipeline, and says so.
    let nas = &result.arms[3];
    assert!(
        nas.hyperparameters.iter().any(|(k, v)| k == "augment"
            && v == "random crop 32 pad 4, flip 0.5, std (0.247, 0.2435, 0.2616)"),
        "{:?}",
        nas.hyperparameters
    );
}
