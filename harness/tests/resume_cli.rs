//! `harness run --resume`: a suite with all four arms, killed with SIGKILL at several moments
//! (and once stopped with SIGINT) and resumed each time, ends with the same per-epoch numbers
//! as an uninterrupted run; every file left in the results folder is complete; a second
//! process cannot write the same result; mistakes in `--resume` are clear usage errors.
mod common;

use common::run_to_end;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const SUITE: &str = r#"
[suite]
name = "resumable"
version = 1
seeds = [1, 2]
threads = 1

[dataset]
name = "synthetic"
samples_per_class = 24

[arms.original]
[arms.original.recipe]
model = "cnn"
width = 4
optimizer = "sgd"
initial_lr = 0.1
momentum = 0.9
schedule = "cosine_per_step"
epochs = 8
batch_size = 16

[arms.manual]
[arms.manual.recipe]
model = "mlp"
width = 16
dropout = 0.2
optimizer = "adam"
initial_lr = 0.01
epochs = 8
batch_size = 16

[arms.tuned]
[arms.tuned.recipe]
model = "mlp"
width = 16
optimizer = "sgd"
initial_lr = 0.05
momentum = 0.9
epochs = 6
batch_size = 16
[arms.tuned.hpo]
search_space = "space.json"
tuner = "tpe"
tuner_options = { n_startup_trials = 2 }
optimize_mode = "maximize"
metric = "val_acc"
trial_epochs = 4
max_trials = 6
assessor = "asha"
# Promotions: paused trials continue later from their checkpoints, also across a kill.
assessor_options = { type = "promotion", min_resource = 1, reduction_factor = 2 }
retrain_top_k = 2

[arms.nas]
[arms.nas.search]
layers = 3
channels = 2
epochs = 4
batch_size = 32
[arms.nas.retrain]
layers = 3
channels = 2
epochs = 4
batch_size = 32
cutout = 2
drop_path = 0.2
[arms.nas.random_baseline]
samples = 2
epochs = 1
"#;

const SPACE: &str = r#"{
  "initial_lr": {"_type": "loguniform", "_value": [0.001, 0.3]},
  "momentum": {"_type": "uniform", "_value": [0.5, 0.95]}
}"#;

/// A new folder holding `suite` as `s.toml` and [`SPACE`] as `space.json` (the search space
/// of the suites that tune).
fn suite_dir(suite: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), suite).unwrap();
    std::fs::write(dir.path().join("space.json"), SPACE).unwrap();
    dir
}

fn harness(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_harness"));
    c.args(args).current_dir(dir);
    c
}

/// Starts `harness` in `dir` with `args`, its output dropped.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    harness(dir, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Every number that training produced, in order: per-epoch test accuracies of every run,
/// the trials' curves and statuses, the search epochs' supernet accuracies.
fn numbers(path: &Path) -> Vec<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    let runs = |runs: &Value, tag: &str, out: &mut Vec<String>| {
        for r in runs.as_array().unwrap() {
            let accs: Vec<String> = r["epochs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["test_acc"].to_string())
                .collect();
            out.push(format!("{tag} seed {} {}", r["seed"], accs.join(" ")));
        }
    };
    for arm in v["arms"].as_array().unwrap() {
        let name = arm["name"].as_str().unwrap();
        runs(&arm["runs"], name, &mut out);
        if let Some(hpo) = arm.get("hpo") {
            for t in hpo["trials"].as_array().unwrap() {
                out.push(format!(
                    "trial {} {} {} {} paused at {}",
                    t["id"], t["status"], t["params"], t["intermediate"], t["paused_at"]
                ));
            }
            out.push(format!("fidelity {}", hpo["fidelity"]));
            out.push(format!("chosen {}", hpo["chosen_params"]));
        }
        if let Some(nas) = arm.get("nas") {
            for e in nas["search_epochs"].as_array().unwrap() {
                out.push(format!("search {} {}", e["arch_acc"], e["normal_alpha"]));
            }
            out.push(format!("architecture {}", nas["architecture"]));
            for s in nas["random_samples"].as_array().unwrap() {
                out.push(format!("random {}", s["val_acc"]));
            }
            runs(&nas["random_runs"], "random", &mut out);
        }
    }
    out
}

fn journal_entries(results: &Path) -> usize {
    let Ok(dirs) = std::fs::read_dir(results) else {
        return 0;
    };
    dirs.flatten()
        .filter(|d| d.file_name().to_string_lossy().ends_with(".resume"))
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.ends_with(".json") || n.ends_with(".ckpt")
        })
        .count()
}

/// Polls `ready` every 2 ms while `child` runs; once it holds, sends `child` `signal` `delay`
/// later and waits for it: its exit status, or `None` when it ended on its own first. Panics
/// when there is no `what` (what `ready` waits for) within 5 minutes.
fn signal_when(
    child: &mut Child,
    what: &str,
    ready: impl Fn() -> bool,
    delay: Duration,
    signal: i32,
) -> Option<ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        if ready() {
            break;
        }
        assert!(Instant::now() < deadline, "no {what} within 5 minutes");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(delay);
    // SAFETY: signalling our own child process by pid.
    unsafe { libc::kill(child.id() as i32, signal) };
    Some(child.wait().unwrap())
}

/// Runs `suite` in a new folder and stops it with Ctrl-C (SIGINT) as soon as `ready` holds
/// of its results folder, checking it exits 1: the folder, its result file as `--resume`
/// takes it, its resume folder.
fn stopped_when(
    suite: &str,
    what: &str,
    ready: impl Fn(&Path) -> bool,
) -> (tempfile::TempDir, String, PathBuf) {
    let dir = suite_dir(suite);
    let results = dir.path().join("results");
    let mut child = spawn(dir.path(), &["run", "s.toml", "--quiet"]);
    let stopped = || ready(&results);
    let status = signal_when(&mut child, what, stopped, Duration::ZERO, libc::SIGINT)
        .unwrap_or_else(|| panic!("the run ended before {what}"));
    assert_eq!(status.code(), Some(1));
    let folder = resume_folder(&results).expect("a resume folder");
    let name = result_file(&results).file_name().unwrap().to_owned();
    let result = format!("results/{}", name.to_string_lossy());
    (dir, result, folder)
}

/// Runs the suite in `dir` and then resumes it, `rounds` sessions in all, each killed with
/// SIGKILL `delay(round)` after it journaled something new (a session that ends first is let
/// be); `check` looks at the results folder after each session. How many kills landed.
fn kill_and_resume(
    dir: &Path,
    rounds: u64,
    delay: impl Fn(u64) -> Duration,
    check: impl Fn(&Path),
) -> usize {
    let results = dir.join("results");
    let (mut seen, mut kills) = (0, 0);
    for round in 0..rounds {
        let args: &[&str] = if round == 0 {
            &["run", "s.toml", "--quiet"]
        } else {
            &["run", "s.toml", "--quiet", "--resume"]
        };
        let mut child = spawn(dir, args);
        let progressed = || journal_entries(&results) > seen;
        let sent = signal_when(
            &mut child,
            "new progress",
            progressed,
            delay(round),
            libc::SIGKILL,
        );
        if sent.is_some() {
            kills += 1;
        }
        check(&results);
        seen = journal_entries(&results);
    }
    kills
}

/// The completed result in `dir`: the result file if the last session completed it, else
/// the one a resume runs to the end.
fn completed(dir: &Path) -> PathBuf {
    let results = dir.join("results");
    match result_status(&results).as_str() {
        "complete" => result_file(&results),
        _ => run_to_end(dir, &["run", "s.toml", "--quiet", "--resume"]),
    }
}

/// Every non-hidden file under `dir` is complete: JSON parses, checkpoints load.
fn assert_all_files_complete(dir: &Path) {
    for entry in walk(dir) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "lock" {
            continue;
        }
        if name.ends_with(".json") {
            let text = std::fs::read_to_string(&entry).unwrap();
            serde_json::from_str::<Value>(&text)
                .unwrap_or_else(|e| panic!("{}: incomplete JSON: {e}", entry.display()));
        } else if name.ends_with(".ckpt") {
            tch::Tensor::load_multi(&entry)
                .unwrap_or_else(|e| panic!("{}: unreadable checkpoint: {e}", entry.display()));
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn killed_and_resumed_runs_equal_an_uninterrupted_run() {
    let plain_dir = suite_dir(SUITE);
    let plain = run_to_end(plain_dir.path(), &["run", "s.toml", "--quiet"]);
    let expected = numbers(&plain);
    assert!(expected.len() > 10);
    assert!(
        expected
            .iter()
            .any(|n| n.contains("SUCCEEDED") && n.contains("paused at [1,2]")),
        "a trial was paused twice and completed: {expected:#?}"
    );
    assert!(
        !plain_dir
            .path()
            .join("results")
            .read_dir()
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".resume")),
        "a completed run leaves no resume folder"
    );

    let dir = suite_dir(SUITE);
    let results = dir.path().join("results");
    // SIGKILL at various moments after new progress: between epochs, inside one.
    let delay = |round| Duration::from_millis((round * 137) % 400);
    let kills = kill_and_resume(dir.path(), 6, delay, assert_all_files_complete);
    assert!(kills >= 3, "only {kills} kills landed");
    // A second process may not write the same result while one runs.
    let mut first = spawn(dir.path(), &["run", "s.toml", "--quiet", "--resume"]);
    std::thread::sleep(Duration::from_millis(1500));
    if first.try_wait().unwrap().is_none() {
        let second = harness(dir.path(), &["run", "s.toml", "--quiet", "--resume"])
            .output()
            .unwrap();
        assert_eq!(second.status.code(), Some(2));
        let err = String::from_utf8_lossy(&second.stderr);
        assert!(err.contains("another `harness run`"), "{err}");
    }
    // SIGINT: stops after the current step, marks the file interrupted, exits 1.
    let progressed = journal_entries(&results);
    let more = || journal_entries(&results) > progressed;
    let stopped = signal_when(
        &mut first,
        "new progress",
        more,
        Duration::ZERO,
        libc::SIGINT,
    );
    if stopped.is_some() {
        let status: Value =
            serde_json::from_str(&std::fs::read_to_string(result_file(&results)).unwrap()).unwrap();
        if status["status"] != "complete" {
            assert_eq!(status["status"], "interrupted");
        }
    }
    let path = completed(dir.path());
    assert_eq!(numbers(&path), expected);
    let done: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(done["status"], "complete");
    assert!(!done["resumed_at"].as_array().unwrap().is_empty());
    assert_all_files_complete(&results);
    assert_eq!(journal_entries(&results), 0, "the resume folder is removed");
    // The report says the run was resumed.
    let out = harness(
        dir.path(),
        &["report", &path.display().to_string(), "-o", "r.md"],
    )
    .output()
    .unwrap();
    assert!(out.status.success());
    let report = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(report.contains("Resumed "), "{report}");

    // Nothing left to resume.
    let out = harness(dir.path(), &["run", "s.toml", "--resume"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no unfinished result of suite \"resumable\""),
        "{err}"
    );
    let file = path.display().to_string();
    let out = harness(dir.path(), &["run", "s.toml", "--resume", &file])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already complete"));
}

fn result_file(results: &Path) -> PathBuf {
    std::fs::read_dir(results)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a result file")
}

fn result_status(results: &Path) -> String {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(result_file(results)).unwrap()).unwrap();
    v["status"].as_str().unwrap().to_string()
}

#[test]
fn resume_with_other_options_is_refused_by_name() {
    let dir = suite_dir(SUITE);
    let mut child = spawn(dir.path(), &["run", "s.toml", "--quiet"]);
    let results = dir.path().join("results");
    let journaled = || journal_entries(&results) > 0;
    let killed = signal_when(
        &mut child,
        "journal entry",
        journaled,
        Duration::ZERO,
        libc::SIGKILL,
    );
    assert!(killed.is_some());
    let out = harness(dir.path(), &["run", "s.toml", "--resume", "--epochs", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("was run with the options []") && err.contains("epochs"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("s.toml"),
        SUITE.replace("seeds = [1, 2]", "seeds = [1]"),
    )
    .unwrap();
    let out = harness(dir.path(), &["run", "s.toml", "--resume"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("different version of the suite"), "{err}");
    // The suite file as it was, but its search space changed: the trials so far were drawn
    // from the old one, so the result would mix two experiments.
    std::fs::write(dir.path().join("s.toml"), SUITE).unwrap();
    std::fs::write(
        dir.path().join("space.json"),
        SPACE.replace("[0.001, 0.3]", "[0.001, 0.2]"),
    )
    .unwrap();
    let out = harness(dir.path(), &["run", "s.toml", "--resume"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("arms.tuned.hpo.search_space (space.json) has changed since this run started"),
        "{err}"
    );
    // Put back, it resumes.
    std::fs::write(dir.path().join("space.json"), SPACE).unwrap();
    run_to_end(dir.path(), &["run", "s.toml", "--quiet", "--resume"]);
}

/// A tuned-only suite whose search is far longer than the test waits: 150 short trials.
const LONG_SEARCH: &str = r#"
[suite]
name = "long-search"
version = 1
seeds = [1]
threads = 1

[dataset]
name = "synthetic"
samples_per_class = 24

[arms.tuned]
[arms.tuned.recipe]
model = "mlp"
width = 16
optimizer = "sgd"
initial_lr = 0.05
momentum = 0.9
epochs = 3
batch_size = 16
[arms.tuned.hpo]
search_space = "space.json"
tuner = "random"
optimize_mode = "maximize"
metric = "val_acc"
trial_epochs = 3
max_trials = 150
assessor = "none"
"#;

/// Finished trials in the resume folder (0 before it exists; the run writes as we read).
fn trial_entries(results: &Path) -> usize {
    let Ok(dirs) = std::fs::read_dir(results) else {
        return 0;
    };
    dirs.flatten()
        .filter(|d| d.file_name().to_string_lossy().ends_with(".resume"))
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flat_map(|entries| entries.flatten())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("tuned.job-") && name.ends_with(".json")
        })
        .count()
}

#[test]
fn an_interrupted_search_lists_its_finished_trials_and_resume_keeps_them() {
    // Far enough in that the first session's time is a good part of the search's.
    let sixty = |r: &Path| trial_entries(r) >= 60;
    let (dir, result, _) = stopped_when(LONG_SEARCH, "60 finished trials", sixty);
    let path = dir.path().join(result);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(file["status"], "interrupted");
    let hpo = &file["arms"][0]["hpo"];
    let trials = hpo["trials"].as_array().unwrap();
    assert!(trials.len() >= 60, "{hpo:#}");
    assert!(trials.len() < 150);
    for (i, t) in trials.iter().enumerate() {
        assert_eq!(t["id"], i, "trials in id order, none missing");
        assert_eq!(t["status"], "SUCCEEDED", "{t:#}");
        assert_eq!(t["intermediate"].as_array().unwrap().len(), 3);
    }
    assert_eq!(hpo["stop_reason"], "interrupted");
    assert_eq!(hpo["chosen_trial"], Value::Null);
    assert!(hpo["best_trial"].is_u64());
    assert_eq!(hpo["search_cost"]["trials"], trials.len());
    assert_eq!(hpo["search_cost"]["trial_epochs"], 3 * trials.len());

    let out = harness(
        dir.path(),
        &["report", &path.display().to_string(), "-o", "r.md"],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    let n = trials.len();
    assert!(
        report.contains(&format!(
            "The search was interrupted after {n} finished trials; resuming the run \
             (`--resume`, as the warning at the top says) continues it from there."
        )) && report.contains(&format!("Best so far: trial {}", hpo["best_trial"])),
        "{report}"
    );

    // The resumed search keeps those trials as they were and runs the rest.
    let done = run_to_end(dir.path(), &["run", "s.toml", "--quiet", "--resume"]);
    let done: Value = serde_json::from_str(&std::fs::read_to_string(done).unwrap()).unwrap();
    let all = done["arms"][0]["hpo"]["trials"].as_array().unwrap();
    assert_eq!(all.len(), 150);
    assert_eq!(all[..n], trials[..]);
    assert_eq!(done["arms"][0]["hpo"]["stop_reason"], "max_trials");
    // The search's cost counts both sessions: one trial at a time, it took at least as long
    // as its trials did (replayed trials take no time in the second session).
    let trial_seconds: f64 = all.iter().map(|t| t["duration_s"].as_f64().unwrap()).sum();
    let cost = done["arms"][0]["hpo"]["search_cost"]["seconds"]
        .as_f64()
        .unwrap();
    assert!(cost >= trial_seconds, "{cost} < {trial_seconds}");
}

/// Two plain arms on the embedded digits: long enough to stop inside `original` seed 2.
const TWO_ARMS: &str = r#"
[suite]
name = "damaged"
version = 1
seeds = [1, 2, 3]
threads = 1

[dataset]
name = "digits"
test_fraction = 0.5
split_seed = 0

[arms.original]
[arms.original.recipe]
model = "cnn"
width = 4
optimizer = "sgd"
initial_lr = 0.1
momentum = 0.9
schedule = "cosine_per_step"
epochs = 8
batch_size = 32

[arms.manual]
[arms.manual.recipe]
model = "mlp"
width = 16
optimizer = "adam"
initial_lr = 0.01
epochs = 2
batch_size = 64
"#;

/// The per-epoch numbers of an uninterrupted run of [`TWO_ARMS`].
fn uninterrupted_numbers() -> Vec<String> {
    let dir = suite_dir(TWO_ARMS);
    numbers(&run_to_end(dir.path(), &["run", "s.toml", "--quiet"]))
}

/// [`TWO_ARMS`] stopped with Ctrl-C while `original` seed 2 trains (seed 1 journaled, seed 2's
/// checkpoint written): its folder, its result file as `--resume` takes it, its resume folder.
fn stopped_in_seed_2() -> (tempfile::TempDir, String, PathBuf) {
    let checkpoint =
        |r: &Path| resume_folder(r).is_some_and(|f| f.join("original.seed-2.ckpt").exists());
    let (dir, result, folder) = stopped_when(TWO_ARMS, "checkpoint of original seed 2", checkpoint);
    assert!(
        folder.join("original.seed-1.json").is_file()
            && folder.join("original.seed-2.ckpt").is_file(),
        "stopped inside seed 2"
    );
    (dir, result, folder)
}

fn resume_folder(results: &Path) -> Option<PathBuf> {
    std::fs::read_dir(results)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".resume"))
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// How `--resume` finds a damaged file.
#[derive(PartialEq)]
enum Found {
    /// Checked before the run starts: the error is all it prints.
    AtStart,
    /// When its unit reads it: the replay's lines come first.
    ByItsUnit,
}

/// Runs `harness args` in `dir`, which must refuse (exit 2) and leave the results folder
/// byte for byte as it was: its standard error.
fn refused_unchanged(dir: &Path, args: &[&str]) -> String {
    let before = snapshot(&dir.join("results"));
    let out = harness(dir, args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        snapshot(&dir.join("results")),
        before,
        "the result file and the resume folder are left as they were"
    );
    err
}

/// `--resume` refuses the damaged file: exit 2, one line naming it and what to do, no C++
/// stack frames, and the result file and the resume folder left byte for byte as they were.
fn refused_naming(dir: &Path, result: &str, damaged: &Path, problem: &str, found: Found) {
    let err = refused_unchanged(dir, &["run", "s.toml", "--resume", result]);
    let lines: Vec<&str> = err.lines().collect();
    if found == Found::AtStart {
        assert_eq!(lines.len(), 1, "one line: {err}");
    }
    assert_eq!(lines.iter().filter(|l| l.starts_with("error:")).count(), 1);
    let shown = damaged.strip_prefix(dir).unwrap().display().to_string();
    let last = lines.last().unwrap();
    assert!(
        last.starts_with(&format!("error: {shown}: {problem}"))
            && last.contains("; delete ")
            && last.contains(" and resume again to "),
        "{err}"
    );
    assert!(
        !err.contains("frame #") && !err.contains("Exception raised from"),
        "{err}"
    );
}

/// Deleting the named file, the resume completes, equal to an uninterrupted run.
fn deleted_and_resumed(dir: &Path, result: &str, damaged: &Path, expected: &[String]) {
    std::fs::remove_file(damaged).unwrap();
    let done = run_to_end(dir, &["run", "s.toml", "--quiet", "--resume", result]);
    assert_eq!(numbers(&done), expected);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&done).unwrap()).unwrap();
    assert_eq!(file["status"], "complete");
    assert!(file["arms"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["error"].is_null()));
    assert!(resume_folder(&dir.join("results")).is_none());
}

#[test]
fn a_damaged_checkpoint_stops_the_resume_until_it_is_deleted() {
    let expected = uninterrupted_numbers();
    let (dir, result, folder) = stopped_in_seed_2();
    let ckpt = folder.join("original.seed-2.ckpt");
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..100)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&ckpt, &noise).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &ckpt,
        "not a readable checkpoint (PytorchStreamReader failed",
        Found::AtStart,
    );
    // A whole checkpoint of another run is found when its unit reads it, after seed 1 was
    // replayed into the result file: that file is put back as it was too.
    let header = br#"{"format":"harness-checkpoint-1","fingerprint":"another run","meta":null}"#;
    let header = tch::Tensor::from_slice(header);
    tch::Tensor::save_multi(&[("__checkpoint_header__", &header)], &ckpt).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &ckpt,
        "checkpoint of another run",
        Found::ByItsUnit,
    );
    deleted_and_resumed(dir.path(), &result, &ckpt, &expected);
}

#[test]
fn a_damaged_journal_entry_stops_the_resume_until_it_is_deleted() {
    let expected = uninterrupted_numbers();
    assert!(expected.iter().any(|n| n.starts_with("original seed 1 ")));
    let (dir, result, folder) = stopped_in_seed_2();
    let entry = folder.join("original.seed-1.json");
    let run_of_seed_1: Value =
        serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    std::fs::write(&entry, "garbage").unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        "unreadable journal entry (expected value at line 1 column 1); delete it and resume \
         again to redo this unit",
        Found::AtStart,
    );
    // Valid JSON that is no run: found when the unit reads it.
    std::fs::write(&entry, "{}").unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        "unreadable journal entry (missing field",
        Found::ByItsUnit,
    );
    // A run that parses but is not one harness writes (seed 1's entry holding seed 2's run):
    // found in the result it replays into, which is then not written.
    let mut edited = run_of_seed_1.clone();
    edited["seed"] = 2.into();
    std::fs::write(&entry, edited.to_string()).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        "holds the run of seed 2, not of seed 1; delete it and resume again to redo this unit",
        Found::ByItsUnit,
    );
    let mut edited = run_of_seed_1.clone();
    edited["epochs"][0]["test_acc"] = 7.5.into();
    std::fs::write(&entry, edited.to_string()).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        "holds a run that harness never writes (run[0].epochs[0].test_acc: 7.5 is not an \
         accuracy (a fraction in [0, 1]))",
        Found::ByItsUnit,
    );
    // Seed 1 is trained again, the same as the first time.
    deleted_and_resumed(dir.path(), &result, &entry, &expected);
}

/// A tuned-only suite whose promotion ASHA pauses trials at every rung (their checkpoints stay
/// in the resume folder until the search continues them), long enough to stop inside.
const PAUSING_SEARCH: &str = r#"
[suite]
name = "pausing"
version = 1
seeds = [1]
threads = 1

[dataset]
name = "synthetic"
samples_per_class = 24

[arms.tuned]
[arms.tuned.recipe]
model = "mlp"
width = 16
optimizer = "sgd"
initial_lr = 0.05
momentum = 0.9
epochs = 4
batch_size = 16
[arms.tuned.hpo]
search_space = "space.json"
tuner = "random"
optimize_mode = "maximize"
metric = "val_acc"
trial_epochs = 4
max_trials = 60
assessor = "asha"
assessor_options = { type = "promotion", min_resource = 1, reduction_factor = 2 }
"#;

/// [`PAUSING_SEARCH`] stopped with Ctrl-C once 6 jobs are journaled: its folder, its result
/// file as `--resume` takes it, its resume folder.
fn stopped_in_search() -> (tempfile::TempDir, String, PathBuf) {
    stopped_when(PAUSING_SEARCH, "6 journaled jobs", |r| {
        trial_entries(r) >= 6
    })
}

/// The journaled jobs of a search, by job number: the trial id each holds.
fn jobs(folder: &Path) -> std::collections::BTreeMap<usize, u64> {
    std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let job = name.strip_prefix("tuned.job-")?.strip_suffix(".json")?;
            let entry: Value =
                serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
            Some((job.parse().unwrap(), entry["id"].as_u64().unwrap()))
        })
        .collect()
}

/// Replayed trials are not journaled again: a resume refused at a later entry leaves every
/// file as it was, the search's seconds (`tuned.search-seconds.json`) included.
#[test]
fn a_refused_resume_of_a_search_rewrites_no_journal_entry() {
    let (dir, result, folder) = stopped_in_search();
    assert!(folder.join("tuned.search-seconds.json").is_file());
    let jobs = jobs(&folder);
    let entry = folder.join("tuned.job-3.json");
    let trial = std::fs::read_to_string(&entry).unwrap();
    std::fs::write(&entry, "{}").unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        "unreadable journal entry (missing field",
        Found::ByItsUnit,
    );
    // Another job's record copied under this job's name: not redone silently, refused.
    let (other, id) = jobs
        .iter()
        .find(|(_, &id)| id != jobs[&3])
        .map(|(&job, &id)| (job, id))
        .unwrap();
    std::fs::copy(folder.join(format!("tuned.job-{other}.json")), &entry).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        &format!(
            "holds trial {id}'s record, not trial {}'s (job 3 of the search); delete it and \
             resume again to redo this trial",
            jobs[&3]
        ),
        Found::ByItsUnit,
    );
    std::fs::write(&entry, trial).unwrap();
}

/// A promoted trial has one journal entry per stretch, all with its id and parameters: its
/// later record (here the one that ran its full budget) copied over its first stretch's would
/// replay the whole trial there and the search would continue it again. Refused by name.
#[test]
fn a_trials_later_record_copied_over_its_first_stretch_is_refused() {
    let (dir, result, folder) = stopped_in_search();
    let jobs = jobs(&folder);
    // The first and the last journaled job of a trial that was continued.
    let (first, last, id) = jobs
        .iter()
        .find_map(|(&first, &id)| {
            let last = jobs.iter().rev().find(|(_, &i)| i == id).map(|(&j, _)| j)?;
            (last > first).then_some((first, last, id))
        })
        .expect("a trial continued within the journaled jobs");
    let entry = |job: usize| folder.join(format!("tuned.job-{job}.json"));
    let later: Value =
        serde_json::from_str(&std::fs::read_to_string(entry(last)).unwrap()).unwrap();
    let from = later["paused_at"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let original = std::fs::read(entry(first)).unwrap();
    std::fs::copy(entry(last), entry(first)).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry(first),
        &format!(
            "holds trial {id}'s record after its continuation from epoch {from}, not after its \
             first stretch (job {first} of the search: another job's entry of this trial \
             copied here, or edited); delete it and resume again to redo this trial"
        ),
        Found::ByItsUnit,
    );
    // And the first stretch's record copied over the later job's.
    std::fs::write(entry(first), &original).unwrap();
    let later_bytes = std::fs::read(entry(last)).unwrap();
    std::fs::write(entry(last), &original).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry(last),
        &format!(
            "holds trial {id}'s record after its first stretch, not after its continuation \
             from epoch {from} (job {last} of the search: another job's entry of this trial \
             copied here, or edited)"
        ),
        Found::ByItsUnit,
    );
    std::fs::write(entry(last), later_bytes).unwrap();
    run_to_end(
        dir.path(),
        &["run", "s.toml", "--quiet", "--resume", &result],
    );
}

/// A search retraining its top 3 trials at the full budget (each on the trial seed), then the
/// chosen one over 6 seeds: long enough to stop after the full-budget runs are journaled.
const TOP_K: &str = r#"
[suite]
name = "top-k"
version = 1
seeds = [1, 2, 3, 4, 5, 6]
threads = 1

[dataset]
name = "synthetic"
samples_per_class = 24

[arms.tuned]
[arms.tuned.recipe]
model = "mlp"
width = 16
optimizer = "sgd"
initial_lr = 0.05
momentum = 0.9
epochs = 20
batch_size = 16
[arms.tuned.hpo]
search_space = "space.json"
tuner = "random"
optimize_mode = "maximize"
metric = "val_acc"
trial_epochs = 2
max_trials = 4
assessor = "none"
retrain_top_k = 3
"#;

/// The full-budget runs of a search's top trials all train the trial seed: one trial's entry
/// copied over another's has the right seed, and was replayed as that trial's accuracy (the
/// fidelity check and the choice among the top trials made from it). Refused naming the
/// entry it copies; an entry of other settings without its original, as edited.
#[test]
fn a_full_budget_run_copied_to_another_trial_is_refused() {
    let full_budget = |folder: &Path| -> Vec<PathBuf> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with("tuned.full-budget.") && name.ends_with(".json")
            })
            .collect();
        entries.sort();
        entries
    };
    let journaled = |r: &Path| resume_folder(r).is_some_and(|f| full_budget(&f).len() == 3);
    let (dir, result, folder) = stopped_when(TOP_K, "3 journaled full-budget runs", journaled);
    let entries = full_budget(&folder);
    let (copied, target) = (&entries[0], &entries[1]);
    let run =
        |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let own = run(target);
    assert_eq!(run(copied)["seed"], own["seed"], "the trial seed, both");
    assert_ne!(run(copied)["epochs"], own["epochs"]);
    std::fs::copy(copied, target).unwrap();
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    refused_naming(
        dir.path(),
        &result,
        target,
        &format!(
            "holds the same run as {} (a copy of that entry), not this unit's: its recipe, \
             seed or data differ; delete it and resume again to redo this unit",
            name(copied)
        ),
        Found::ByItsUnit,
    );
    // Its own run with another fingerprint (edited): no entry holds that run.
    let mut edited = own.clone();
    edited["fingerprint"] = "0".repeat(64).into();
    std::fs::write(target, edited.to_string()).unwrap();
    refused_naming(
        dir.path(),
        &result,
        target,
        "holds the run of another recipe, seed or data than this unit's (another unit's entry \
         copied here, or edited)",
        Found::ByItsUnit,
    );
    // Deleted, the trial is retrained to the number it had.
    std::fs::remove_file(target).unwrap();
    let done = run_to_end(
        dir.path(),
        &["run", "s.toml", "--quiet", "--resume", &result],
    );
    let done = run(&done);
    let trial: u64 = name(target)
        .trim_start_matches("tuned.full-budget.trial-")
        .trim_end_matches(".json")
        .parse()
        .unwrap();
    let entry = done["arms"][0]["hpo"]["fidelity"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["trial_id"] == trial)
        .unwrap()
        .clone();
    assert_eq!(entry["full_budget_metric"], own["final_test_acc"]);
}

/// A paused trial's checkpoint of another run is refused before the resume writes anything,
/// not when the search comes back to the trial (after newer trials were journaled).
#[test]
fn a_paused_trials_checkpoint_of_another_run_is_refused_at_start() {
    let (dir, result, folder) = stopped_in_search();
    let jobs = jobs(&folder);
    let ckpt = jobs
        .values()
        .map(|id| folder.join(format!("tuned.trial-{id}.ckpt")))
        .find(|p| p.is_file())
        .expect("a paused trial's checkpoint");
    // Without its lock (deleted) and with a killed write's temporary: both left as they are.
    std::fs::remove_file(folder.join("lock")).unwrap();
    std::fs::write(folder.join(STALE_TEMP), "{").unwrap();
    let header = br#"{"format":"harness-checkpoint-1","fingerprint":"another run","meta":null}"#;
    let header = tch::Tensor::from_slice(header);
    tch::Tensor::save_multi(&[("__checkpoint_header__", &header)], &ckpt).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &ckpt,
        "checkpoint of another run (its settings differ from this run's); delete it and \
         resume again to restart this run from its first epoch",
        Found::AtStart,
    );
}

/// A NAS-only suite, stopped while it retrains: the search is journaled.
const NAS_ONLY: &str = r#"
[suite]
name = "nas-only"
version = 1
seeds = [1, 2, 3]
threads = 1

[dataset]
name = "synthetic"
samples_per_class = 24

[arms.nas]
[arms.nas.search]
layers = 3
channels = 2
epochs = 2
batch_size = 32
[arms.nas.retrain]
layers = 3
channels = 2
epochs = 8
batch_size = 32
cutout = 2
"#;

/// A journaled search that is not one the suite runs (`"epochs": []`, edited) is damaged
/// resume state naming the entry, not a failed arm ("the search ran no epoch").
#[test]
fn an_edited_nas_search_entry_is_refused_by_name() {
    let searched = |r: &Path| resume_folder(r).is_some_and(|f| f.join("nas.search.json").is_file());
    let (dir, result, folder) = stopped_when(NAS_ONLY, "journaled search", searched);
    let entry = folder.join("nas.search.json");
    let search: Value = serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    let mut edited = search.clone();
    edited["epochs"] = Value::Array(Vec::new());
    std::fs::write(&entry, edited.to_string()).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        "holds a search of 0 epochs, not of the suite's 2 (search.epochs); delete it and \
         resume again to redo the search",
        Found::ByItsUnit,
    );
    let mut edited = search.clone();
    edited["epochs"][1]["normal_alpha"] = Value::Array(Vec::new());
    std::fs::write(&entry, edited.to_string()).unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        "epochs[1] holds no architecture (",
        Found::ByItsUnit,
    );
    // Deleted, the search is redone and the run completes.
    std::fs::remove_file(&entry).unwrap();
    run_to_end(
        dir.path(),
        &["run", "s.toml", "--quiet", "--resume", &result],
    );
}

/// One short run: a result file in a second, made resumable by hand where a test needs it.
const TINY: &str = r#"
[suite]
name = "tiny"
version = 1
seeds = [1]
threads = 1

[dataset]
name = "synthetic"
samples_per_class = 24

[arms.manual]
[arms.manual.recipe]
model = "mlp"
width = 4
optimizer = "adam"
initial_lr = 0.01
epochs = 1
batch_size = 16
"#;

/// [`TINY`] run to the end, then marked interrupted with an empty resume folder beside it, as
/// a run killed before its first unit finished leaves it: its folder and the result file as
/// `--resume` takes it.
fn tiny_unfinished() -> (tempfile::TempDir, String) {
    let dir = suite_dir(TINY);
    let path = run_to_end(dir.path(), &["run", "s.toml", "--quiet"]);
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file["status"] = "interrupted".into();
    std::fs::write(&path, file.to_string()).unwrap();
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    std::fs::create_dir(path.with_file_name(format!("{stem}.resume"))).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    (dir, format!("results/{name}"))
}

/// A temporary of a write that a kill cut short (no process has this pid).
const STALE_TEMP: &str = ".tmp-4294967295-0-manual.seed-1.json";

/// A refused resume leaves the results folder as it found it, byte for byte: it creates no
/// lock file where there was none (a resume folder made by hand, or its lock deleted) and
/// removes no temporary of a killed write, whether the damage is found when the journal
/// opens or when its unit reads it; the resume that goes on removes the temporary.
#[test]
fn a_refused_resume_creates_no_lock_and_keeps_temporaries() {
    let (dir, result) = tiny_unfinished();
    let folder = resume_folder(&dir.path().join("results")).unwrap();
    assert!(!folder.join("lock").exists());
    std::fs::write(folder.join(STALE_TEMP), "{").unwrap();
    let entry = folder.join("manual.seed-1.json");
    std::fs::write(&entry, "garbage").unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        "unreadable journal entry (expected value at line 1 column 1)",
        Found::AtStart,
    );
    std::fs::write(&entry, "{}").unwrap();
    refused_naming(
        dir.path(),
        &result,
        &entry,
        "unreadable journal entry (missing field `seed`",
        Found::ByItsUnit,
    );
    assert!(!folder.join("lock").exists() && folder.join(STALE_TEMP).is_file());
    std::fs::remove_file(&entry).unwrap();
    run_to_end(
        dir.path(),
        &["run", "s.toml", "--quiet", "--resume", &result],
    );
    assert!(!folder.exists(), "the temporary went with the folder");
}

#[test]
fn resuming_another_suites_result_names_both_suites() {
    let (dir, result) = tiny_unfinished();
    std::fs::write(
        dir.path().join("other.toml"),
        TINY.replace("name = \"tiny\"", "name = \"other\""),
    )
    .unwrap();
    let err = refused_unchanged(dir.path(), &["run", "other.toml", "--resume", &result]);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {result}: is a result of suite \"tiny\", not of suite \"other\" \
             (other.toml); resume it with the suite it was started with (s.toml)"
        )
    );
}

/// A file started by another build of harness is not continued by this one: every run in it
/// would be credited to the build its environment names.
#[test]
fn a_result_started_by_another_build_is_refused_naming_both() {
    let (dir, result) = tiny_unfinished();
    let path = dir.path().join(&result);
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let ours = file["environment"]["git_commit"]["value"].clone();
    let version = file["environment"]["harness_version"]
        .as_str()
        .unwrap()
        .to_string();
    // `file` written as the result; the refusal's message, with the folder left as it was.
    let refused = |file: &Value| -> String {
        std::fs::write(&path, file.to_string()).unwrap();
        let err = refused_unchanged(dir.path(), &["run", "s.toml", "--resume", &result]);
        err.trim_end().to_string()
    };
    // Another commit (a binary built outside git knows none, and is not refused for it).
    if let Some(c) = ours.as_str() {
        file["environment"]["git_commit"]["value"] = "0123456789abcdef0123".into();
        let this = format!("harness {version} (commit {})", &c[..12]);
        assert_eq!(
            refused(&file),
            format!(
                "error: {result}: was started by harness {version} (commit 0123456789ab), this \
                 is {this}: its finished runs and the ones a resume adds would be credited to \
                 one build; resume it with the build it was started with (git checkout \
                 0123456789ab and rebuild), or run the suite afresh without --resume"
            )
        );
    }
    // Another version, whatever the commit.
    file["environment"]["git_commit"]["value"] = ours;
    file["environment"]["harness_version"] = "0.0.1".into();
    let err = refused(&file);
    assert!(err.contains("was started by harness 0.0.1"), "{err}");
}

#[test]
fn a_default_resume_names_an_unreadable_result_of_the_suite() {
    let (dir, result) = tiny_unfinished();
    std::fs::write(dir.path().join(&result), "{\"schema_version\": 1,").unwrap();
    // Another suite's file that does not read is none of this suite's business.
    std::fs::write(dir.path().join("results/other-host-1.json"), "x").unwrap();
    let err = refused_unchanged(dir.path(), &["run", "s.toml", "--resume"]);
    assert!(
        err.starts_with(&format!(
            "error: results: no unfinished result of suite \"tiny\" to resume; {result} looks \
             like a result of this suite but cannot be read: not a valid result file: "
        )) && err
            .trim_end()
            .ends_with("; fix or delete it, or name the file: --resume FILE")
            && !err.contains("other-host-1"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_resume_lock_that_is_a_folder_is_refused_by_name() {
    let (dir, result) = tiny_unfinished();
    let folder = resume_folder(&dir.path().join("results")).unwrap();
    std::fs::create_dir(folder.join("lock")).unwrap();
    let err = refused_unchanged(dir.path(), &["run", "s.toml", "--resume", &result]);
    let lock = folder.join("lock");
    let shown = lock.strip_prefix(dir.path()).unwrap().display();
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {shown}: not a file, so it cannot be the resume folder's lock; delete it \
             and resume again (the lock holds nothing of the run)"
        )
    );
    assert!(lock.is_dir());
}

/// A completed resume removes what harness wrote in the resume folder, and keeps (and names)
/// a user's own files there.
#[test]
fn a_completed_resume_keeps_files_harness_did_not_write() {
    let (dir, result) = tiny_unfinished();
    let folder = resume_folder(&dir.path().join("results")).unwrap();
    std::fs::write(folder.join("notes.txt"), "why this run was stopped").unwrap();
    let out = harness(
        dir.path(),
        &["run", "s.toml", "--quiet", "--resume", &result],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let shown = folder.strip_prefix(dir.path()).unwrap().display();
    assert!(
        err.contains(&format!(
            "note: {shown} is kept: it holds files harness did not write there (notes.txt)"
        )),
        "{err}"
    );
    let left: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["notes.txt"], "the lock and the entries are gone");
    assert_eq!(
        std::fs::read_to_string(folder.join("notes.txt")).unwrap(),
        "why this run was stopped"
    );
}

/// A search of two trials at a time (promotion ASHA, dropout), killed with SIGKILL at several
/// moments and resumed each time, ends with the curves, pauses and choice of an
/// uninterrupted run: a batch whose first trial finished before the kill replays it and
/// redoes only the other.
#[test]
fn a_killed_concurrent_search_resumes_to_the_uninterrupted_result() {
    let tuned_only = {
        let start = SUITE.find("[arms.tuned]").unwrap();
        let end = SUITE.find("[arms.nas]").unwrap();
        let header = &SUITE[..SUITE.find("[arms.original]").unwrap()];
        format!("{header}{}", &SUITE[start..end])
            .replace("max_trials = 6\n", "max_trials = 6\nconcurrency = 2\n")
            .replace(
                "epochs = 6\nbatch_size = 16\n",
                "epochs = 6\nbatch_size = 16\ndropout = 0.2\n",
            )
    };
    assert!(tuned_only.contains("concurrency = 2") && tuned_only.contains("dropout = 0.2"));
    let plain_dir = suite_dir(&tuned_only);
    let expected = numbers(&run_to_end(plain_dir.path(), &["run", "s.toml", "--quiet"]));
    assert!(
        expected.iter().any(|n| n.contains("paused at")),
        "{expected:#?}"
    );

    let dir = suite_dir(&tuned_only);
    let delay = |round| Duration::from_millis((round * 89) % 250);
    let kills = kill_and_resume(dir.path(), 5, delay, |_| {});
    assert!(kills >= 2, "only {kills} kills landed");
    assert_eq!(numbers(&completed(dir.path())), expected);
}
