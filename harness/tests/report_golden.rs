//! Golden tests of the markdown report: two machines, both languages. The expected files live
//! in tests/golden/; regenerate them with `UPDATE_GOLDEN=1 cargo test --test report_golden`
//! after an intended change, and review the diff.
use harness::data::{DatasetInfo, Split};
use harness::env::EnvRecord;
use harness::report::{self, i18n::Lang};
use harness::results::{ArmMetric, ArmResult, ResultFile, RunStatus, SuiteRecord, SCHEMA_VERSION};
use harness::train::{EpochRecord, RunOutcome};
use std::path::Path;

fn env(name: &str) -> EnvRecord {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/env-{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn run(seed: u64, final_acc: f64, epochs: usize, diverged: Option<usize>) -> RunOutcome {
    let records: Vec<EpochRecord> = (1..=epochs)
        .map(|e| {
            let f = e as f64 / epochs as f64;
            EpochRecord {
                epoch: e,
                train_loss: 2.0 * (1.0 - f) + 0.05,
                train_acc: (final_acc + 0.01).min(1.0) * f.sqrt(),
                test_loss: 2.0 * (1.0 - f) + 0.1,
                test_acc: final_acc * f.sqrt(),
                lr: 0.1 * (1.0 - f),
                seconds: 0.5,
            }
        })
        .collect();
    RunOutcome {
        seed,
        final_test_acc: diverged.is_none().then_some(final_acc),
        best_test_acc: diverged.is_none().then_some(final_acc),
        best_epoch: diverged.is_none().then_some(epochs),
        epochs: records,
        diverged_at_epoch: diverged,
        stopped_at_epoch: None,
        parameters: 12_345,
        wall_seconds: 0.5 * epochs as f64,
        train_images_per_s: 2_000.0,
    }
}

fn arm(name: &str, hyper: &[(&str, &str)], runs: Vec<RunOutcome>) -> ArmResult {
    let mut a = ArmResult {
        name: name.into(),
        description: format!("the {name} arm"),
        definition: serde_json::json!({"name": name}),
        hyperparameters: hyper
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        metric: ArmMetric::FinalTestAcc,
        runs,
        summary: None,
        hpo: None,
        nas: None,
        error: None,
    };
    a.summarize();
    a
}

fn result(env_name: &str, shift: f64) -> ResultFile {
    ResultFile {
        schema_version: SCHEMA_VERSION,
        status: RunStatus::Complete,
        created_at: "2026-11-28T12:00:00Z".into(),
        finished_at: Some("2026-11-28T12:03:00Z".into()),
        environment: env(env_name),
        suite: SuiteRecord {
            name: "quick".into(),
            version: 1,
            path: "suites/quick.toml".into(),
            sha256: "ab".repeat(32),
            seeds: vec![1, 2, 3],
            tolerance: 0.02,
            overrides: if shift > 0.0 {
                vec!["epochs=4 (all arms)".into()]
            } else {
                vec![]
            },
            inputs: vec![],
            cwd: None,
            override_args: if shift > 0.0 {
                vec!["--epochs".into(), "4".into()]
            } else {
                vec![]
            },
            definition: serde_json::json!({}),
        },
        dataset: DatasetInfo {
            name: "digits".into(),
            source: "UCI digits".into(),
            licence: "CC BY 4.0".into(),
            classes: 10,
            image_shape: [1, 8, 8],
            n_train: 1438,
            n_test: 359,
            split: Some(Split {
                method: "stratified".into(),
                seed: 0,
                test_fraction: 0.2,
                test_indices_sha256: "0011223344556677".into(),
            }),
            normalization: "standardised".into(),
        },
        arms: vec![
            arm(
                "original",
                &[("model", "cnn"), ("initial_lr", "0.5"), ("note", "a|b")],
                vec![
                    run(1, 0.91 + shift, 4, None),
                    run(2, 0.93 + shift, 4, None),
                    run(3, 0.5, 4, Some(3)),
                ],
            ),
            arm(
                "manual",
                &[("model", "cnn"), ("initial_lr", "0.05")],
                vec![
                    run(1, 0.97, 4, None),
                    run(2, 0.975 + shift, 4, None),
                    run(3, 0.98, 4, None),
                ],
            ),
        ],
        wall_seconds: 180.0,
        resumed_at: Vec::new(),
    }
}

fn check_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "report differs from {}", path.display());
}

#[test]
fn two_machine_report_matches_golden_in_english_and_chinese() {
    let files = vec![result("server", 0.0), result("gpu-box", 0.01)];
    for (lang, name) in [
        (Lang::En, "two-machines.en.md"),
        (Lang::Zh, "two-machines.zh.md"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let rendered = report::render(&files, lang, dir.path(), "quick").unwrap();
        check_golden(name, &rendered.markdown);
        for plot in &rendered.plots {
            let svg = std::fs::read_to_string(plot).unwrap();
            assert!(svg.starts_with("<svg"), "{}", plot.display());
        }
        // The accuracy plot for the report, two learning-curve plots per machine.
        assert_eq!(rendered.plots.len(), 1 + 2 * 2);
    }
}

#[test]
fn chinese_report_uses_the_lab_templates_words() {
    let dir = tempfile::tempdir().unwrap();
    let md = report::render(&[result("server", 0.0)], Lang::Zh, dir.path(), "q")
        .unwrap()
        .markdown;
    for words in [
        "调参方式",
        "超参名称和设置值",
        "模型准确率",
        "原始代码",
        "手动调参",
        "CPU（vCPU数目）",
        "GPU(型号，数目)",
        "OS版本",
        "CUDA版本",
    ] {
        assert!(md.contains(words), "missing {words}");
    }
    // Only arms that ran appear.
    assert!(!md.contains("NNI自动调参"));
    assert!(!md.contains("网络架构搜索"));
}

#[test]
fn numbers_in_the_accuracy_table_come_from_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let md = report::render(&[result("server", 0.0)], Lang::En, dir.path(), "q")
        .unwrap()
        .markdown;
    // original: 0.91 and 0.93 finished, one run diverged.
    assert!(md.contains("0.9200 ± 0.0141 (n=2), 1 diverged"), "{md}");
    // manual: 0.97, 0.975, 0.98.
    assert!(md.contains("0.9750 ± 0.0050 (n=3)"), "{md}");
    // A `|` in a hyper-parameter cannot break the table.
    assert!(md.contains("note=a\\|b"), "{md}");
}

#[test]
fn result_file_round_trips_through_json() {
    let original = result("gpu-box", 0.01);
    let json = serde_json::to_string_pretty(&original).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    std::fs::write(&path, &json).unwrap();
    let back = harness::results::read_result(&path).unwrap();
    assert_eq!(back, original);
}

#[test]
fn newer_schema_versions_are_refused_with_both_numbers() {
    let mut value = serde_json::to_value(result("server", 0.0)).unwrap();
    value["schema_version"] = serde_json::json!(SCHEMA_VERSION + 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.json");
    std::fs::write(&path, value.to_string()).unwrap();
    let e = harness::results::read_result(&path)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
        "{e}"
    );
    assert!(e.contains(&format!("≤ {SCHEMA_VERSION}")), "{e}");
    assert!(e.contains("future.json"), "{e}");
}

#[test]
fn a_truncated_result_file_is_a_clear_error() {
    let json = serde_json::to_string(&result("server", 0.0)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.json");
    std::fs::write(&path, &json[..json.len() / 2]).unwrap();
    let e = harness::results::read_result(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cut.json: not a valid result file"), "{e}");
}

#[test]
fn an_unfinished_result_is_flagged_at_the_top_in_both_languages() {
    let mut partial = result("gpu-box", 0.01);
    partial.status = RunStatus::Interrupted;
    let files = [result("server", 0.0), partial];
    let dir = tempfile::tempdir().unwrap();
    let en = report::render(&files, Lang::En, dir.path(), "q")
        .unwrap()
        .markdown;
    let top = en.split("## Environment").next().unwrap();
    assert!(
        top.contains(
            "> **Warning:** gpu-box's result is unfinished (status interrupted, 6 runs finished)"
        ),
        "{en}"
    );
    assert!(
        // With the --epochs it was run with: a resume without it is refused.
        top.contains(
            "`harness run suites/quick.toml --epochs 4 --resume RESULT` (RESULT: its result file)"
        ),
        "{top}"
    );
    assert!(!top.contains("server's result"), "{top}");
    let zh = report::render(&files, Lang::Zh, dir.path(), "q")
        .unwrap()
        .markdown;
    assert!(
        zh.contains("**警告：** gpu-box 的结果未完成（状态：已中断"),
        "{zh}"
    );
    assert!(zh.contains("状态：已中断——套件未完成"), "{zh}");
    assert!(!zh.contains("Interrupted"), "{zh}");
}
