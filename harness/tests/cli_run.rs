//! End-to-end through the `harness` binary on the generated synthetic dataset: a suite run
//! writes a result file, repeats exactly with the same seeds, survives a diverging arm, and
//! bad input exits with code 2 and a message naming the file.
mod common;

use std::path::Path;
use std::process::Command;

const SUITE: &str = r#"
[suite]
name = "tiny"
version = 1
seeds = [1, 2]

[dataset]
name = "synthetic"
samples_per_class = 30

[arms.original]
description = "diverges: absurd learning rate"
[arms.original.recipe]
model = "mlp"
width = 16
optimizer = "sgd"
initial_lr = 1e6
momentum = 0.9
epochs = 3
batch_size = 16

[arms.manual]
[arms.manual.recipe]
model = "mlp"
width = 32
optimizer = "adam"
initial_lr = 0.01
epochs = 4
batch_size = 16
"#;

fn harness(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("harness runs")
}

fn run_suite(dir: &Path) -> serde_json::Value {
    let path = common::run_to_end(dir, &["run", "tiny.toml", "--quiet", "--device", "cpu"]);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn test_accs(result: &serde_json::Value, arm: &str) -> Vec<Vec<f64>> {
    let arm = result["arms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == arm)
        .unwrap();
    arm["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["epochs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["test_acc"].as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn a_suite_runs_repeats_exactly_and_records_divergence() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), SUITE).unwrap();
    let first = run_suite(dir.path());
    assert_eq!(first["status"], "complete");
    assert_eq!(first["schema_version"], 1);
    assert_eq!(first["suite"]["seeds"], serde_json::json!([1, 2]));

    // The diverging arm is recorded, and the suite went on to the next arm.
    let original = &first["arms"][0];
    assert_eq!(original["name"], "original");
    for run in original["runs"].as_array().unwrap() {
        assert!(run["diverged_at_epoch"].as_u64().is_some(), "{run}");
        assert!(run["final_test_acc"].is_null());
    }
    assert_eq!(original["summary"]["diverged"], 2);
    let manual = &first["arms"][1];
    assert_eq!(manual["runs"].as_array().unwrap().len(), 2);
    assert!(
        manual["summary"]["mean"].as_f64().unwrap() > 0.5,
        "{manual}"
    );

    // Same seeds, same machine: identical per-epoch test accuracies.
    let second = run_suite(dir.path());
    assert_eq!(test_accs(&first, "manual"), test_accs(&second, "manual"));
    // Two files, never overwritten.
    let files = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .count();
    assert_eq!(files, 2);

    // A report renders from the result files.
    let results: Vec<String> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    let mut args = vec!["report", "-o", "out/report.md", "--lang", "zh"];
    args.extend(results.iter().map(String::as_str));
    let out = harness(&args, dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("原始代码") && md.contains("发散"), "{md}");
}

#[test]
fn a_malformed_suite_exits_2_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tiny.toml"),
        SUITE.replace(
            "epochs = 3\nbatch_size = 16\n\n[arms.manual]",
            "epochs = 0\nbatch_size = 16\n\n[arms.manual]",
        ),
    )
    .unwrap();
    let out = harness(&["run", "tiny.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tiny.toml:19: arms.original.recipe.epochs: must be in [1, 1000000], got 0"),
        "{err}"
    );
    assert!(
        !dir.path().join("results").exists(),
        "nothing is written for a bad suite"
    );

    let out = harness(&["run", "missing.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.toml: cannot read the suite file")
    );
}

#[test]
fn env_table_says_a_run_sets_its_own_determinism_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let out = harness(&["env"], dir.path());
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("│ deterministic algorithms"), "{text}");
    assert!(
        text.trim_end().ends_with(
            "`harness run` switches deterministic algorithms (and deterministic cuDNN) on for \
             every run and sets the intra-op threads to the suite's `threads` (or --threads) \
             where given; each result file records the values its runs had, and `harness \
             report` shows those."
        ),
        "{text}"
    );
    // JSON stays one document.
    let out = harness(&["env", "--json"], dir.path());
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
}

#[test]
fn env_json_reports_cpus_libtorch_and_no_gpu_with_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = harness(&["env", "--json", "--label", "ci"], dir.path());
    assert!(out.status.success());
    let env: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env["label"], "ci");
    let nproc = Command::new("nproc").output().unwrap();
    let nproc: u64 = String::from_utf8_lossy(&nproc.stdout)
        .trim()
        .parse()
        .unwrap();
    assert_eq!(env["logical_cores"]["value"].as_u64(), Some(nproc));
    assert!(env["torch"]["libtorch_version"]["value"]
        .as_str()
        .unwrap()
        .starts_with("2.11.0"));
    if env["gpus"]["count"]["value"] == 0 {
        assert!(env["gpus"]["none_reason"].as_str().unwrap().len() > 10);
    }
}

#[test]
fn requesting_a_missing_cuda_device_is_a_clear_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), SUITE).unwrap();
    if tch::Cuda::device_count() > 0 {
        return;
    }
    let out = harness(&["run", "tiny.toml", "--device", "cuda:0"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--device cuda:0: CUDA is not available"));
}

/// A model too large for memory: libtorch cannot allocate it and tch panics inside its
/// `VarStore`. The arm fails with one clear line, the other arms run, the file is complete.
#[test]
fn a_model_too_large_for_memory_fails_its_arm_not_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    // A CNN 65,536 channels wide: 2.3e11 parameters, about 1.8 TB with their gradients and
    // momentum. Refused before anything is allocated (on Linux, an allocation that size may be
    // granted, and the kernel then kills the process without a word).
    let suite = SUITE
        .replace("initial_lr = 1e6", "initial_lr = 0.1")
        .replace(
            "model = \"mlp\"\nwidth = 16",
            "model = \"cnn\"\nwidth = 65536",
        );
    std::fs::write(dir.path().join("tiny.toml"), suite).unwrap();
    let out = harness(&["run", "tiny.toml", "--quiet"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "original: model cnn of width 65536 has 2.319e11 parameters: training it needs at \
             least 2783.2 GB (weights, gradients and optimizer state) and this machine has "
        ) && err.contains("GB of memory; lower width")
            && !err.contains("stack backtrace"),
        "{err}"
    );
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("result: ").map(str::to_string))
        .expect("prints the result path");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(path)).unwrap()).unwrap();
    assert_eq!(result["status"], "complete");
    assert!(result["arms"][0]["error"]
        .as_str()
        .unwrap()
        .contains("GB of memory; lower width"));
    assert_eq!(test_accs(&result, "manual").len(), 2);
}

/// Output that cannot be written (a full disk under `> env.json`) is a failure, not a success
/// with the output lost; a closed pipe (`| head`) is not.
#[test]
fn output_that_cannot_be_written_fails_the_command() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["env", "--json"][..], &["models", "--json"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(args)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("error: cannot write to standard output: No space left on device"),
            "{args:?}: {err}"
        );
    }
}

/// `space sample` with a huge --n stops at the first line it cannot write: quietly (exit 0)
/// when the reader is gone (`| head -1`), with exit 1 and the reason when the disk is full.
#[test]
fn space_sample_stops_when_its_output_is_gone() {
    use std::io::BufRead;
    use std::process::{Child, Stdio};
    use std::time::{Duration, Instant};
    /// The child's exit, or a failure if it still runs after a generous deadline.
    fn exit_within(mut child: Child, limit: Duration) -> std::process::Output {
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > limit {
                child.kill().unwrap();
                panic!("still sampling {limit:?} after its output closed");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.json"),
        // Continuous: the random tuner's proposals never run out (a discrete space's do).
        r#"{"initial_lr":{"_type":"uniform","_value":[0.01,0.1]}}"#,
    )
    .unwrap();
    let sample = |stdout: Stdio| {
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["space", "sample", "s.json", "--n", &u64::MAX.to_string()])
            .current_dir(dir.path())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let deadline = Duration::from_secs(30);

    let mut child = sample(Stdio::piped());
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"initial_lr\":"), "{first}");
    // The reader is dropped: the pipe is closed.
    let out = exit_within(child, deadline);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");

    let out = exit_within(
        sample(std::fs::File::create("/dev/full").unwrap().into()),
        deadline,
    );
    assert_eq!(out.status.code(), Some(1));
    let os = std::io::Error::from_raw_os_error(libc::ENOSPC);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("error: cannot write to standard output: {os}\n")
    );
}

/// `harness data cifar10`: a --dir that is a file is bad input; files that are there but
/// invalid are named before the download is tried; a download that fails (here from a mirror
/// URL nothing answers at) is the work failing, exit 1, with the files there left alone.
#[test]
fn data_names_invalid_files_and_a_failed_download_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("afile"), b"x").unwrap();
    let out = harness(&["data", "cifar10", "--dir", "afile"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dir afile: is a file, not a folder"));

    let batches = dir.path().join("d/cifar-10-batches-bin");
    std::fs::create_dir_all(&batches).unwrap();
    std::fs::write(batches.join("data_batch_1.bin"), [0u8; 100]).unwrap();
    let unreachable = "http://127.0.0.1:9/cifar-10-binary.tar.gz";
    let out = harness(
        &["data", "cifar10", "--dir", "d", "--url", unreachable],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cifar10: no valid copy in d: CIFAR-10 file d/cifar-10-batches-bin/data_batch_1.bin has 100 bytes")
            && err.contains(&format!("error: download of {unreachable} failed")),
        "{err}"
    );
    assert_eq!(
        std::fs::read(batches.join("data_batch_1.bin"))
            .unwrap()
            .len(),
        100
    );
}

/// Missing CIFAR-10 files are reported where they were asked for: the suite's `dataset.dir`
/// (file and line) or `--data-dir`.
#[test]
fn missing_cifar_data_names_the_suite_key_or_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let suite = SUITE.replace(
        "name = \"synthetic\"\nsamples_per_class = 30",
        "name = \"cifar10\"\ndir = \"nowhere\"",
    );
    std::fs::write(dir.path().join("c.toml"), suite).unwrap();
    let out = harness(&["run", "c.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: c.toml:9: dataset.dir: CIFAR-10 directory nowhere does not exist"),
        "{err}"
    );
    let out = harness(&["run", "c.toml", "--data-dir", "elsewhere"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: --data-dir: CIFAR-10 directory elsewhere does not exist"),
        "{err}"
    );
    assert!(!dir.path().join("results").exists());
}

#[test]
fn a_label_of_several_lines_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = harness(&["env", "--label", "a\nb"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--label must be one line"));
}

/// Re-running with the same `--report` replaces the earlier report (as `just run` does with
/// reports/quick.md), in whichever language it was, and a missing results folder is created.
#[test]
fn a_rerun_replaces_its_earlier_report_and_creates_a_missing_results_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), SUITE).unwrap();
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    std::fs::write(
        dir.path().join("reports/tiny.md"),
        "# 实验报告: tiny (v1)\n\nold\n",
    )
    .unwrap();
    let result = common::run_to_end(
        dir.path(),
        &[
            "run",
            "tiny.toml",
            "--quiet",
            "--results-dir",
            "new/deeper",
            "--report",
            "reports/tiny.md",
        ],
    );
    assert!(
        result.starts_with(dir.path().join("new/deeper")),
        "{result:?}"
    );
    let md = std::fs::read_to_string(dir.path().join("reports/tiny.md")).unwrap();
    assert!(md.starts_with("# Benchmark report: tiny (v1)\n"), "{md}");
}
