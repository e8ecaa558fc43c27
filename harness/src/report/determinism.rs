//! Whether a result could be reproduced bit for bit, and whether two results were.
//!
//! A run is *deterministic-eligible* when everything that libtorch lets vary from run to run was
//! pinned: deterministic algorithms on, cuDNN autotuning (benchmark mode) off, deterministic cuDNN
//! on when the run used CUDA, and known thread counts (the number of intra-op threads changes the
//! order of floating-point reductions, so it must match between the two sides). Seeds are pinned
//! by the suite; [`result_eligible`] adds that check for a whole result file.
//!
//! Nothing here changes the result file: eligibility is computed from the recorded
//! [`EnvRecord`] when `harness check` reads it.
use crate::env::EnvRecord;
use crate::results::ResultFile;
use serde::Serialize;

/// `(eligible, reasons)`: the reasons say what is missing when not eligible, empty otherwise.
pub fn deterministic_eligible(env: &EnvRecord) -> (bool, Vec<String>) {
    let mut reasons = Vec::new();
    let d = &env.determinism;
    match d.deterministic_algorithms.value {
        Some(true) => {}
        Some(false) => reasons.push("deterministic algorithms were off".to_string()),
        None => reasons.push("deterministic algorithms setting not recorded".to_string()),
    }
    match d.cudnn_benchmark.value {
        Some(false) => {}
        Some(true) => reasons.push("cuDNN benchmark (autotuning) was on".to_string()),
        None => reasons.push("cuDNN benchmark setting not recorded".to_string()),
    }
    if uses_cuda(env) && d.deterministic_cudnn.value != Some(true) {
        reasons.push("the run used CUDA without deterministic cuDNN".to_string());
    }
    let t = &env.torch;
    if t.intra_op_threads.value.is_none() {
        reasons.push("intra-op thread count not recorded".to_string());
    }
    if t.inter_op_threads.value.is_none() {
        reasons.push("inter-op thread count not recorded".to_string());
    }
    (reasons.is_empty(), reasons)
}

/// [`deterministic_eligible`] plus the suite's seeds: every run must use a seed the suite pinned.
pub fn result_eligible(file: &ResultFile) -> (bool, Vec<String>) {
    let (_, mut reasons) = deterministic_eligible(&file.environment);
    if file.suite.seeds.is_empty() {
        reasons.push("the suite records no seeds".to_string());
    }
    for arm in &file.arms {
        if let Some(run) = arm
            .runs
            .iter()
            .find(|r| !file.suite.seeds.contains(&r.seed))
        {
            reasons.push(format!(
                "arm {} ran seed {} which the suite does not pin",
                arm.name, run.seed
            ));
        }
    }
    (reasons.is_empty(), reasons)
}

fn uses_cuda(env: &EnvRecord) -> bool {
    env.compute_device
        .as_deref()
        .is_some_and(|d| d.starts_with("cuda"))
}

/// The outcome of the exact-reproduction check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ExactCheck {
    /// Every per-epoch test accuracy of every common (arm, seed) was bit-equal.
    Reproduced { runs_compared: usize },
    /// The first mismatch (arm order of the baseline, then seed, then epoch).
    Differs {
        arm: String,
        seed: u64,
        epoch: usize,
        baseline: Option<f64>,
        candidate: Option<f64>,
    },
    /// The check does not apply; the text says why.
    NotApplicable { why: String },
}

impl ExactCheck {
    pub fn line(&self) -> String {
        match self {
            ExactCheck::Reproduced { runs_compared } => format!(
                "exact reproduction: reproduced exactly ({runs_compared} runs, every epoch's test accuracy bit-equal)"
            ),
            ExactCheck::Differs {
                arm,
                seed,
                epoch,
                baseline,
                candidate,
            } => {
                let show = |v: &Option<f64>| v.map_or("missing".to_string(), |x| format!("{x:?}"));
                format!(
                    "exact reproduction: differs at arm {arm} seed {seed} epoch {epoch} (baseline {}, candidate {})",
                    show(baseline),
                    show(candidate)
                )
            }
            ExactCheck::NotApplicable { why } => {
                format!("exact reproduction: not applicable: {why}")
            }
        }
    }

    pub fn is_reproduced(&self) -> bool {
        matches!(self, ExactCheck::Reproduced { .. })
    }
}

/// The environment fields that must match for an exact reproduction to be expected, as
/// (name, baseline value, candidate value) for those that differ.
fn same_environment(a: &EnvRecord, b: &EnvRecord) -> Vec<(String, String, String)> {
    let device = |e: &EnvRecord| e.compute_device.clone().unwrap_or_else(|| "cpu".into());
    let fields: Vec<(&str, String, String)> = vec![
        ("CPU model", a.cpu_model.display(), b.cpu_model.display()),
        (
            "intra-op threads",
            a.torch.intra_op_threads.display(),
            b.torch.intra_op_threads.display(),
        ),
        (
            "inter-op threads",
            a.torch.inter_op_threads.display(),
            b.torch.inter_op_threads.display(),
        ),
        (
            "libtorch",
            a.torch.libtorch_version.display(),
            b.torch.libtorch_version.display(),
        ),
        ("device", device(a), device(b)),
        (
            "harness git commit",
            a.git_commit.display(),
            b.git_commit.display(),
        ),
    ];
    let mut out: Vec<(String, String, String)> = fields
        .into_iter()
        .filter(|(_, x, y)| x != y)
        .map(|(n, x, y)| (n.to_string(), x, y))
        .collect();
    if uses_cuda(a) && a.gpus.summary() != b.gpus.summary() {
        out.push(("GPU".into(), a.gpus.summary(), b.gpus.summary()));
    }
    out
}

/// Compares the per-epoch test-accuracy curves of two result files bit for bit, when both are
/// deterministic-eligible and ran on the same environment with the same seeds.
pub fn exact_check(base: &ResultFile, cand: &ResultFile) -> ExactCheck {
    let not = |why: String| ExactCheck::NotApplicable { why };
    let (ok_b, why_b) = result_eligible(base);
    if !ok_b {
        return not(format!(
            "baseline not deterministic-eligible ({})",
            why_b.join("; ")
        ));
    }
    let (ok_c, why_c) = result_eligible(cand);
    if !ok_c {
        return not(format!(
            "candidate not deterministic-eligible ({})",
            why_c.join("; ")
        ));
    }
    let diffs = same_environment(&base.environment, &cand.environment);
    if !diffs.is_empty() {
        let list: Vec<String> = diffs
            .iter()
            .map(|(n, x, y)| format!("{n} {x} vs {y}"))
            .collect();
        return not(format!("different environment: {}", list.join(", ")));
    }
    if base.suite.seeds != cand.suite.seeds {
        return not(format!(
            "different seeds: {:?} vs {:?}",
            base.suite.seeds, cand.suite.seeds
        ));
    }
    // Runs of different definitions (another --epochs, an edited recipe) are not expected to
    // be equal: a mismatch there says nothing about determinism.
    let redefined: Vec<String> = base
        .arms
        .iter()
        .filter_map(|arm| {
            let other = cand.arms.iter().find(|a| a.name == arm.name)?;
            let keys = super::compare::changed_keys(
                &super::compare::defined(arm),
                &super::compare::defined(other),
            );
            (!keys.is_empty()).then(|| format!("arm {} at {}", arm.name, keys.join(", ")))
        })
        .collect();
    if !redefined.is_empty() {
        return not(format!("different definitions: {}", redefined.join("; ")));
    }
    let mut compared = 0;
    for arm in &base.arms {
        let Some(other) = cand.arms.iter().find(|a| a.name == arm.name) else {
            continue;
        };
        for run in &arm.runs {
            let Some(other_run) = other.runs.iter().find(|r| r.seed == run.seed) else {
                continue;
            };
            let longest = run.epochs.len().max(other_run.epochs.len());
            for i in 0..longest {
                let x = run.epochs.get(i).map(|e| e.test_acc);
                let y = other_run.epochs.get(i).map(|e| e.test_acc);
                let equal = matches!((x, y), (Some(x), Some(y)) if x.to_bits() == y.to_bits());
                if !equal {
                    return ExactCheck::Differs {
                        arm: arm.name.clone(),
                        seed: run.seed,
                        epoch: i + 1,
                        baseline: x,
                        candidate: y,
                    };
                }
            }
            compared += 1;
        }
    }
    if compared == 0 {
        return not("no (arm, seed) pair was run by both files".to_string());
    }
    ExactCheck::Reproduced {
        runs_compared: compared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Fact;

    fn env() -> EnvRecord {
        let mut e = EnvRecord::capture(Some("a"));
        e.determinism.deterministic_algorithms = Fact::known(true, "test");
        e.determinism.cudnn_benchmark = Fact::known(false, "test");
        e.compute_device = Some("cpu".into());
        e
    }

    #[test]
    fn eligible_when_everything_is_pinned() {
        let (ok, reasons) = deterministic_eligible(&env());
        assert!(ok, "{reasons:?}");
        assert!(reasons.is_empty());
    }

    #[test]
    fn each_missing_switch_is_named() {
        let mut e = env();
        e.determinism.deterministic_algorithms = Fact::known(false, "test");
        e.determinism.cudnn_benchmark = Fact::known(true, "test");
        e.torch.intra_op_threads = Fact::unknown("test");
        let (ok, reasons) = deterministic_eligible(&e);
        assert!(!ok);
        let all = reasons.join("; ");
        assert!(all.contains("deterministic algorithms were off"), "{all}");
        assert!(all.contains("cuDNN benchmark"), "{all}");
        assert!(all.contains("intra-op thread"), "{all}");
    }

    #[test]
    fn cuda_needs_deterministic_cudnn() {
        let mut e = env();
        e.compute_device = Some("cuda:0".into());
        e.determinism.deterministic_cudnn = Fact::known(false, "test");
        let (ok, reasons) = deterministic_eligible(&e);
        assert!(!ok);
        assert!(reasons[0].contains("deterministic cuDNN"), "{reasons:?}");
    }
}
