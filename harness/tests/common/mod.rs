//! Helpers shared by the end-to-end tests (each test file includes this with `mod common;`).
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the `harness` binary in `dir` with `args`, checks it succeeded (printing its stderr
/// if not) and returns the result file it reports on its `result: ` line.
pub fn run_to_end(dir: &Path, args: &[&str]) -> PathBuf {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("harness runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    dir.join(
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("result: "))
            .expect("prints the result path"),
    )
}
