//! `harness check` and `harness compare` through the binary: exit codes and output, on result
//! files built in the test (no training).
use harness::report::fixture;
use harness::results::ResultFile;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn file(label: &str, accs: &[f64]) -> ResultFile {
    fixture::two_arms(label, accs)
}

fn write(dir: &Path, name: &str, f: &ResultFile) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(f).unwrap()).unwrap();
    p
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn check_passes_an_unchanged_rerun_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &file("box", &[0.95, 0.96, 0.955]));
    let cand = write(dir.path(), "new.json", &file("box", &[0.951, 0.959, 0.955]));
    let o = harness(&["check", "--baseline", s(&base), s(&cand)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("overall: PASS (exit 0)"), "{out}");
    assert!(
        out.contains("arm original") && out.contains("arm manual"),
        "{out}"
    );
    assert!(out.contains("welch-t"), "{out}");
}

#[test]
fn check_fails_a_planted_regression_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &file("box", &[0.95, 0.96, 0.955]));
    let mut worse = file("box", &[0.95, 0.96, 0.955]);
    worse.arms[1] = fixture::arm("manual", &[(1, 0.90), (2, 0.91), (3, 0.905)], 3);
    let cand = write(dir.path(), "new.json", &worse);
    let o = harness(&["check", "--baseline", s(&base), s(&cand)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("overall: FAIL"), "{out}");

    let o = harness(&["check", "--json", "--baseline", s(&base), s(&cand)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["arms"][0]["verdict"], "pass");
    assert_eq!(v["arms"][1]["verdict"], "fail");
}

#[test]
fn check_input_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "base.json", &file("box", &[0.95, 0.96]));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"schema_version\": 1, \"status\": ").unwrap();
    let missing = dir.path().join("missing.json");
    let mut other = file("box", &[0.95, 0.96]);
    other.suite.name = "full".into();
    let other = write(dir.path(), "other.json", &other);

    for args in [
        vec!["check", "--baseline", s(&good), s(&bad)],
        vec!["check", "--baseline", s(&missing), s(&good)],
        vec!["check", "--baseline", s(&good), s(&other)],
        vec!["check", "--alpha", "0.9", "--baseline", s(&good), s(&good)],
        vec!["check", s(&good)],
    ] {
        let o = harness(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    let o = harness(&["check", "--baseline", s(&good), s(&other)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`quick` v1") && err.contains("`full` v1"),
        "{err}"
    );
}

#[test]
fn compare_names_differing_fields_and_refuses_other_suites() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", &file("a", &[0.95, 0.96, 0.955]));
    let mut b = file("b", &[0.95, 0.96, 0.955]);
    b.environment.torch.intra_op_threads = harness::env::Fact::known(3, "test");
    let b = write(dir.path(), "b.json", &b);
    let o = harness(&["compare", s(&a), s(&b)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("| intra-op threads |"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("| original") && l.contains("| b ")),
        "{out}"
    );

    let o = harness(&["compare", "--json", s(&a), s(&a)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["env_diffs"], serde_json::json!([]));

    let mut c = file("c", &[0.95, 0.96]);
    c.suite.version = 7;
    let c = write(dir.path(), "c.json", &c);
    let o = harness(&["compare", s(&a), s(&c)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`quick` v7"));
}

#[test]
fn inconclusive_exits_0_and_1_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    // Two seeds a side with a wide spread: no significant drop, but a large one not ruled out.
    let base = write(dir.path(), "base.json", &file("box", &[0.90, 0.99]));
    let cand = write(dir.path(), "new.json", &file("box", &[0.89, 0.98]));
    let o = harness(&["check", "--baseline", s(&base), s(&cand)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("overall: INCONCLUSIVE"));
    let o = harness(&["check", "--strict", "--baseline", s(&base), s(&cand)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Different thread counts: exact reproduction is not applicable, which --require-exact fails.
    let mut other = file("box", &[0.90, 0.99]);
    other.environment.torch.intra_op_threads = harness::env::Fact::known(5, "test");
    let other = write(dir.path(), "other.json", &other);
    let o = harness(&["check", "--baseline", s(&base), s(&base)]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("reproduced exactly"),
        "{}",
        text(&o)
    );
    let o = harness(&[
        "check",
        "--require-exact",
        "--baseline",
        s(&base),
        s(&other),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not applicable: different environment"));
}

/// A Ctrl-C'd run with one of three seeds must not pass the gate: exit 2, naming the file, its
/// status and the command that finishes it. `compare` still compares, with a warning.
#[test]
fn check_refuses_unfinished_results_and_compare_warns() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &file("box", &[0.95, 0.96, 0.955]));
    let mut partial = file("box", &[0.95]);
    partial.status = harness::results::RunStatus::Interrupted;
    // Run with --epochs 2: the printed command must repeat it (a resume without is refused).
    partial.suite.overrides = vec!["epochs=2 (all arms)".into()];
    partial.suite.override_args = vec!["--epochs".into(), "2".into()];
    // Run in another folder: the command goes there first (the suite path is relative to it).
    partial.suite.cwd = Some("/runs/box one".into());
    let cand = write(dir.path(), "new.json", &partial);
    for args in [
        vec!["check", "--baseline", s(&base), s(&cand)],
        vec!["check", "--json", "--baseline", s(&base), s(&cand)],
    ] {
        let o = harness(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("{}: unfinished result", s(&cand))),
            "{err}"
        );
        assert!(err.contains("status \"interrupted\""), "{err}");
        assert!(
            err.contains(&format!(
                "cd '/runs/box one' && harness run suites/quick.toml --epochs 2 --resume {}",
                s(&cand)
            )),
            "{err}"
        );
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains("PASS"),
            "{}",
            text(&o)
        );
    }
    let mut running = file("box", &[0.95, 0.96, 0.955]);
    running.status = harness::results::RunStatus::Running;
    let running = write(dir.path(), "running.json", &running);
    let o = harness(&["check", "--baseline", s(&running), s(&base)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("running.json: unfinished result, status \"running\""),
        "{err}"
    );

    let o = harness(&["compare", s(&base), s(&cand)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "warning: {}: unfinished result, status \"interrupted\"",
            s(&cand)
        )),
        "{err}"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("> **Warning:** box (2)'s result is unfinished, status \"interrupted\""),
        "{out}"
    );

    // The report's warning names no file (the report travels); the terminal names this one.
    let md = dir.path().join("r.md");
    let o = harness(&["report", s(&base), s(&cand), "-o", s(&md)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "warning: {}: unfinished result, status \"interrupted\"",
            s(&cand)
        )) && err.contains("only its finished runs are reported; finish it with `cd '/runs/box one' && harness run")
            && err.contains(&format!("--resume {}`", s(&cand))),
        "{err}"
    );
}

/// An accuracy outside [0, 1] (a hand-edited percentage) is an input error in every command
/// that reads result files, naming the file and the field.
#[test]
fn an_out_of_range_accuracy_is_an_input_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "base.json", &file("box", &[0.95, 0.96, 0.955]));
    let mut edited = file("box", &[0.95, 0.96, 0.955]);
    edited.arms[1].runs[2].final_test_acc = Some(95.5);
    let bad = write(dir.path(), "new.json", &edited);
    let md = dir.path().join("r.md");
    for args in [
        vec!["check", "--baseline", s(&good), s(&bad)],
        vec!["compare", s(&good), s(&bad)],
        vec!["report", s(&good), s(&bad), "-o", s(&md)],
    ] {
        let o = harness(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!(
                "{}: not a valid result file: arms[1].runs[2].final_test_acc: 95.5 is not an accuracy",
                s(&bad)
            )),
            "{args:?}: {err}"
        );
    }
    assert!(!md.exists());
}

/// A value `harness run` never writes is an input error naming the file and the field: the
/// gate would otherwise decide on it. Each case edits a good file's JSON.
#[test]
fn values_run_never_writes_are_input_errors_naming_the_field() {
    type Edit = fn(&mut serde_json::Value);
    let cases: &[(Edit, &str)] = &[
        // Read from the baseline, these would fail every arm or pass any drop.
        (
            |v| v["suite"]["tolerance"] = (-0.1).into(),
            "suite.tolerance: must be in [0, 1) (an accuracy fraction), got -0.1",
        ),
        (
            |v| v["suite"]["tolerance"] = 5.into(),
            "suite.tolerance: must be in [0, 1) (an accuracy fraction), got 5",
        ),
        // A run with no accuracy that did not diverge would drop out of the gate unseen.
        (
            |v| v["arms"][1]["runs"][2]["final_test_acc"] = serde_json::Value::Null,
            "arms[1].runs[2].final_test_acc: missing or null in a run that did not diverge \
             (\"diverged_at_epoch\": null); only a diverged run has no accuracy",
        ),
        (
            |v| {
                v["arms"][0]["runs"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("best_test_acc");
            },
            "arms[0].runs[1].best_test_acc: missing or null in a run that did not diverge",
        ),
        (
            |v| {
                let run = &mut v["arms"][0]["runs"][0];
                run["diverged_at_epoch"] = 2.into();
                run["final_test_acc"] = 0.5.into();
            },
            "arms[0].runs[0].final_test_acc: 0.5 in a run that diverged at epoch 2; a diverged \
             run has no accuracy",
        ),
        // Counted twice in the mean and the test.
        (
            |v| {
                let copy = v["arms"][1]["runs"][0].clone();
                v["arms"][1]["runs"].as_array_mut().unwrap().push(copy);
            },
            "arms[1].runs[3].seed: 1 is also the seed of arms[1].runs[0]; an arm runs each seed \
             once",
        ),
        // Arms are paired by name: a second one would never be gated.
        (
            |v| v["arms"][1]["name"] = "bogus".into(),
            "arms[1].name: \"bogus\" is not an arm (expected original, manual, tuned, nas)",
        ),
        (
            |v| {
                let copy = v["arms"][1].clone();
                v["arms"].as_array_mut().unwrap().push(copy);
            },
            "arms[2].name: \"manual\" is also the name of arms[1]; a result holds each arm once",
        ),
        // It would be summed into speeds and a search's cost.
        (
            |v| v["arms"][0]["runs"][0]["epochs"][0]["seconds"] = (-1.0).into(),
            "arms[0].runs[0].epochs[0].seconds: -1 is not a duration (seconds, >= 0)",
        ),
        (
            |v| v["arms"][1]["metric"] = "bogus".into(),
            "arms[1].metric: unknown variant `bogus`, expected `final_test_acc` or `best_test_acc`",
        ),
        // It would gate as inconclusive, not fail like a missing arm.
        (
            |v| v["arms"][1]["runs"] = serde_json::json!([]),
            "arms[1].runs: empty, and the arm records no \"error\", in a complete result; a \
             finished arm has a run per seed or the error that stopped it",
        ),
        // As `--label` refuses: the label heads a report column and a table row.
        (
            |v| v["environment"]["label"] = "".into(),
            "environment.label: \"\": a label must not be empty",
        ),
        (
            |v| v["environment"]["label"] = "line1\nline2".into(),
            "environment.label: \"line1\\nline2\": a label must be one line without \
             control characters (tabs, line breaks)",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let good = file("box", &[0.95, 0.96, 0.955]);
    let good_path = write(dir.path(), "good.json", &good);
    let bad = dir.path().join("bad.json");
    for (edit, expected) in cases {
        let mut value = serde_json::to_value(&good).unwrap();
        edit(&mut value);
        std::fs::write(&bad, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
        let o = harness(&["check", "--baseline", s(&bad), s(&good_path)]);
        assert_eq!(o.status.code(), Some(2), "{expected}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("{}: not a valid result file: {expected}", s(&bad))),
            "{err}"
        );
    }
}

/// NaN as Python's json.dump writes it: exit 2, naming the field and what JSON allows.
#[test]
fn a_nan_is_an_input_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "base.json", &file("box", &[0.95, 0.96, 0.955]));
    let mut edited = file("box", &[0.95, 0.96, 0.955]);
    edited.arms[1].runs[2].final_test_acc = Some(0.125);
    let json = serde_json::to_string_pretty(&edited).unwrap();
    let bad = dir.path().join("new.json");
    std::fs::write(&bad, json.replace("0.125", "NaN")).unwrap();
    let o = harness(&["check", "--baseline", s(&good), s(&bad)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "{}: not a valid result file: arms[1].runs[2].final_test_acc (line ",
            s(&bad)
        )) && err.contains(
            "NaN is not a valid JSON number (Python's json.dump writes it unless allow_nan=False)"
        ),
        "{err}"
    );
}
