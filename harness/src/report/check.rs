//! `harness check --baseline BASE NEW`: the regression gate for CI.
//!
//! Per arm of the baseline, [`crate::stats::gate::decide`] turns the seeds of both files into
//! Pass / Fail / Inconclusive, with the suite's `tolerance`, the given `alpha` and the test-set
//! size of the baseline's dataset. On top of the gate:
//!
//! * a candidate arm with diverged runs where the baseline had none fails, with that reason;
//! * a baseline arm the candidate did not run fails;
//! * a failed candidate arm fails (its words say whether the baseline's arm failed too); a
//!   failed baseline arm leaves the candidate's ungated (inconclusive), saying why;
//! * the arms combine with [`crate::stats::gate::overall`].
//!
//! Exit codes ([`CheckReport::exit_code`]): 0 pass (and inconclusive, unless `strict`), 1
//! regression (and inconclusive with `strict`, and no exact reproduction with `require_exact`).
//! Input errors (unreadable files, different suites) are the caller's exit code 2.
//!
//! The exact-reproduction check ([`super::determinism::exact_check`]) is informational unless
//! `require_exact` is set.
use super::compare::{changed_keys, ensure_same_suite, CompareError, MachineArm};
use super::determinism::{exact_check, result_eligible, ExactCheck};
use super::i18n::Lang;
use super::search_agreement::{agreement, describe, SearchAgreement};
use crate::results::ResultFile;
use crate::stats::gate::{
    decide, different_seeds_untested, overall, GateDecision, GateInput, Verdict,
};
use serde::Serialize;

/// Settings of one check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CheckOptions {
    /// Significance level, in [0.000001, 0.5) (see `stats::gate::MIN_ALPHA`).
    pub alpha: f64,
    /// Inconclusive counts as failure (exit 1).
    pub strict: bool,
    /// No exact reproduction counts as failure (exit 1).
    pub require_exact: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            alpha: 0.05,
            strict: false,
            require_exact: false,
        }
    }
}

/// The gate's outcome for one arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmCheck {
    pub arm: String,
    pub baseline: MachineArm,
    /// `None` when the candidate did not run the arm.
    pub candidate: Option<MachineArm>,
    /// The statistical decision on the accuracies.
    pub decision: GateDecision,
    /// The arm's verdict: the decision's, or Fail for a reason in `reasons`.
    pub verdict: Verdict,
    /// Why the verdict differs from the statistical decision (divergence, missing arm).
    pub reasons: Vec<String>,
    /// Set with a single seed on either side: only large drops can be detected.
    pub single_seed_note: Option<String>,
    /// Every run of the arm reproduced the baseline's bit for bit (same seeds, every epoch's
    /// test accuracy equal; see `exact`): the accuracies are the same numbers, so an
    /// inconclusive decision on them is a pass.
    pub reproduced: bool,
    /// A tuned arm's search against the baseline's: where it parted, and whether it chose
    /// the same configuration (if not, part of a difference is the choice). Informational.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchAgreement>,
}

/// Deterministic eligibility of one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eligibility {
    pub eligible: bool,
    pub reasons: Vec<String>,
}

/// The whole check, ready to render and to turn into an exit code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub suite: String,
    pub version: u32,
    pub baseline_label: String,
    pub candidate_label: String,
    pub options: CheckOptions,
    pub tolerance: f64,
    pub test_set_size: usize,
    pub arms: Vec<ArmCheck>,
    /// Arms only the candidate ran (not gated).
    pub new_arms: Vec<String>,
    pub verdict: Verdict,
    pub warnings: Vec<String>,
    pub baseline_deterministic: Eligibility,
    pub candidate_deterministic: Eligibility,
    pub exact: ExactCheck,
    pub exit_code: i32,
}

/// Why a check cannot be made: an input error (exit code 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckError {
    #[error("{0}")]
    Suite(#[from] CompareError),
    #[error("--alpha {0} must be in [0.000001, 0.5)")]
    Alpha(f64),
    /// Accuracies on different test sets are not one quantity: no verdict between them.
    #[error(
        "cannot gate across test sets: the baseline was tested on {base_n} images of \
         {base_name}, the candidate on {cand_n} images of {cand_name}, so their accuracies are \
         not comparable; rerun the baseline with this suite (and bump the suite's version when \
         its split changes)"
    )]
    TestSets {
        base_n: usize,
        base_name: String,
        cand_n: usize,
        cand_name: String,
    },
}

/// Runs the gate on every arm of `base` against `cand`.
pub fn check(
    base: &ResultFile,
    cand: &ResultFile,
    options: CheckOptions,
) -> Result<CheckReport, CheckError> {
    if !crate::stats::gate::alpha_is_valid(options.alpha) {
        return Err(CheckError::Alpha(options.alpha));
    }
    let pair = [base.clone(), cand.clone()];
    let labels = super::machine_labels(&pair);
    ensure_same_suite(&pair, &labels)?;
    let (bl, cl) = (&labels[0], &labels[1]);
    let tolerance = base.suite.tolerance;
    let test_set_size = base.dataset.n_test;
    let mut warnings = Vec::new();
    if cand.suite.tolerance != tolerance {
        warnings.push(format!(
            "the candidate's suite tolerance {} differs from the baseline's {tolerance}; the baseline's is used",
            cand.suite.tolerance
        ));
    }
    // Other overrides show below as differences of the arms' definitions, other seeds in
    // each arm's decision.
    let differ = base.experiment_diff(cand);
    if differ.test_set {
        return Err(CheckError::TestSets {
            base_n: test_set_size,
            base_name: base.dataset.name.clone(),
            cand_n: cand.dataset.n_test,
            cand_name: cand.dataset.name.clone(),
        });
    }
    if differ.suite_file {
        warnings.push("the suite files differ (sha256), though name and version agree".into());
    }
    for input in &differ.inputs {
        warnings.push(format!(
            "the candidate ran with a different {input} (sha256)"
        ));
    }
    for input in &differ.unrecorded_inputs {
        warnings.push(format!(
            "only one file records the digest of {input} (the other was written by an older \
             harness): whether it changed cannot be told"
        ));
    }

    let exact = exact_check(base, cand);
    let mut arms = Vec::new();
    for b in &base.arms {
        let base_side = MachineArm::of(b);
        let base_accs = b.accuracies();
        let c = cand.arms.iter().find(|a| a.name == b.name);
        let cand_accs = c.map(|a| a.accuracies()).unwrap_or_default();
        let mut decision = decide(&GateInput {
            baseline: &base_accs,
            candidate: &cand_accs,
            tolerance,
            alpha: options.alpha,
            test_set_size,
        });
        let base_error = b.error.as_deref().filter(|_| base_accs.is_empty());
        if let Some(be) = base_error {
            // "no data (baseline has 0 runs …)" would hide that the baseline itself is broken.
            decision.explanation = format!(
                "INCONCLUSIVE: the baseline's arm failed ({be}): there are no baseline \
                 accuracies to gate the candidate's against; record a new baseline in which \
                 this arm runs"
            );
        }
        let mut reasons = Vec::new();
        let cand_side = c.map(MachineArm::of);
        match (&cand_side, c) {
            (Some(cs), Some(ca)) => {
                if let Some(e) = &ca.error {
                    // A broken arm never passes the gate, but failing alike on both sides is
                    // not a regression, and the words should say which it is.
                    reasons.push(match base_error {
                        Some(be) if be == e => format!(
                            "the candidate's arm failed: {e} — as the baseline's did, with the \
                             same error: not a regression, but the arm fails on both sides and \
                             has no accuracy to gate; mend the arm (or remove it from the \
                             suite) and record a new baseline"
                        ),
                        Some(be) => format!(
                            "the candidate's arm failed: {e} — the baseline's failed too, \
                             differently ({be}): there is no accuracy on either side to gate; \
                             mend the arm and record a new baseline"
                        ),
                        None => format!("the candidate's arm failed: {e}"),
                    });
                }
                if cs.diverged > 0 && base_side.diverged == 0 {
                    reasons.push(format!(
                        "{} of {} candidate runs diverged (training loss NaN/infinite) where no baseline run did",
                        cs.diverged,
                        ca.runs.len()
                    ));
                }
                let keys = changed_keys(&super::compare::defined(b), &super::compare::defined(ca));
                if !keys.is_empty() {
                    warnings.push(format!(
                        "arm {}: the candidate's definition differs at {}",
                        b.name,
                        keys.join(", ")
                    ));
                }
            }
            _ => reasons.push(format!("the candidate did not run arm {}", b.name)),
        }
        let same_seeds = c.is_some_and(|ca| b.seeds() == ca.seeds());
        // Single runs of different seeds get no test: the decision below says why nothing can
        // be detected, instead of the note.
        let untested =
            c.filter(|ca| different_seeds_untested(&decision.method, &b.seeds(), &ca.seeds()));
        // Only where no seed variance could be used (one run a side, or several identical
        // ones): one run against several that vary is judged against their spread.
        let single_seed_note = (decision.method == "binomial" && untested.is_none())
            .then(|| {
                if test_set_size > 0 {
                    format!(
                        "only {} vs {} seeds: no seed-to-seed variance to use, so only large drops can be detected — more than {:.4} (binomial bound on {test_set_size} test images); run more seeds for a real gate",
                        base_accs.len(),
                        cand_accs.len(),
                        decision.min_detectable_drop
                    )
                } else {
                    "only one seed on a side and no test-set size: no drop can be detected".into()
                }
            });
        let reproduced = exact.is_reproduced() && same_seeds && !b.runs.is_empty();
        if let Some(ca) = untested {
            decision = seeds_differ(decision, &b.seeds(), &ca.seeds());
        }
        let verdict = match decision.verdict {
            _ if !reasons.is_empty() => Verdict::Fail,
            // Identical numbers: noisy seeds cannot hide a drop that is not there.
            Verdict::Inconclusive if reproduced => Verdict::Pass,
            v => v,
        };
        let search = match (&b.hpo, c.and_then(|ca| ca.hpo.as_ref())) {
            (Some(x), Some(y)) => Some(agreement(x, y)),
            _ => None,
        };
        arms.push(ArmCheck {
            arm: b.name.clone(),
            baseline: base_side,
            candidate: cand_side,
            decision,
            verdict,
            reasons,
            single_seed_note,
            reproduced,
            search,
        });
    }
    let new_arms: Vec<String> = cand
        .arms
        .iter()
        .filter(|c| !base.arms.iter().any(|b| b.name == c.name))
        .map(|c| c.name.clone())
        .collect();
    let verdict = if arms.is_empty() {
        warnings.push("the baseline has no arms: nothing was gated".into());
        Verdict::Inconclusive
    } else {
        overall(arms.iter().map(|a| a.verdict))
    };
    let eligibility = |f: &ResultFile| {
        let (eligible, reasons) = result_eligible(f);
        Eligibility { eligible, reasons }
    };
    let failed = verdict == Verdict::Fail
        || (options.strict && verdict == Verdict::Inconclusive)
        || (options.require_exact && !exact.is_reproduced());
    Ok(CheckReport {
        suite: base.suite.name.clone(),
        version: base.suite.version,
        baseline_label: bl.clone(),
        candidate_label: cl.clone(),
        options,
        tolerance,
        test_set_size,
        arms,
        new_arms,
        verdict,
        warnings,
        baseline_deterministic: eligibility(base),
        candidate_deterministic: eligibility(cand),
        exact,
        exit_code: i32::from(failed),
    })
}

/// The decision between single runs of different seeds, which get no test
/// ([`different_seeds_untested`]): inconclusive, saying why in the gate's words and how to
/// get a real gate.
fn seeds_differ(decision: GateDecision, base: &[u64], cand: &[u64]) -> GateDecision {
    let list = |s: &[u64]| {
        let s: Vec<String> = s.iter().map(u64::to_string).collect();
        format!("[{}]", s.join(", "))
    };
    GateDecision {
        verdict: Verdict::Inconclusive,
        explanation: format!(
            "INCONCLUSIVE (binomial): candidate − baseline = {:+.4} between different seeds \
             ({} vs {}). With no seed-to-seed variance on either side, the binomial test counts \
             only the test set's sampling noise, not the difference a change of seed makes, so \
             it can neither show a drop nor rule one out here. Rerun the baseline's seeds \
             (--seeds {}) or run several seeds on both sides.",
            decision.diff,
            list(base),
            list(cand),
            base.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
        ..decision
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Inconclusive => "INCONCLUSIVE",
    }
}

fn fmt_p(p: Option<f64>) -> String {
    match p {
        None => "—".into(),
        Some(p) if p < 1e-4 => format!("{p:.1e}"),
        Some(p) => format!("{p:.4}"),
    }
}

/// The check for people: one small table per arm, the explanation, then the overall line.
pub fn render_text(r: &CheckReport) -> String {
    use super::table::markdown;
    let conf = crate::stats::gate::confidence_percent(r.options.alpha);
    let mut out = format!(
        "harness check: suite `{}` v{} — baseline {} vs candidate {}\n\
         tolerance {:.4}, alpha {}, test set {} images\n",
        r.suite,
        r.version,
        r.baseline_label,
        r.candidate_label,
        r.tolerance,
        r.options.alpha,
        r.test_set_size
    );
    for w in &r.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    let header: Vec<String> = [
        "baseline",
        "candidate",
        "diff",
        &format!("{conf}% CI"),
        "method",
        "p",
        "verdict",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for a in &r.arms {
        let d = &a.decision;
        // "none": no statistic was computed (a side without runs), so no numbers to show.
        let computed = d.method != "none";
        let row = vec![
            a.baseline.accuracy_cell(Lang::En),
            a.candidate
                .as_ref()
                .map_or("not run".into(), |m| m.accuracy_cell(Lang::En)),
            if computed {
                format!("{:+.4}", d.diff)
            } else {
                "—".into()
            },
            if computed && d.method == "mann-whitney" {
                // Its interval is of the typical run's shift, not of the mean difference
                // beside it (the explanation gives the shift's point estimate).
                format!("[{:+.4}, {:+.4}] (shift)", d.ci_low, d.ci_high)
            } else if computed {
                format!("[{:+.4}, {:+.4}]", d.ci_low, d.ci_high)
            } else {
                "—".into()
            },
            d.method.clone(),
            fmt_p(d.p_value),
            verdict_word(a.verdict).to_lowercase(),
        ];
        out.push_str(&format!("\narm {}\n", a.arm));
        out.push_str(&markdown(&header, &[row]));
        out.push('\n');
        for reason in &a.reasons {
            out.push_str(&format!("FAIL: {reason}\n"));
        }
        // A failed or missing arm has its reason above, and an arm whose every run diverged
        // as the baseline's did its line below: "no data" would only contradict them.
        let all_diverged_alike = a.reproduced && !computed;
        if (computed || a.reasons.is_empty()) && !all_diverged_alike {
            // Overruled by the exact reproduction below: said as the statistics' view only.
            if a.reproduced && d.verdict == Verdict::Inconclusive {
                out.push_str("the statistics alone: ");
            }
            out.push_str(&d.explanation);
            out.push('\n');
        }
        if all_diverged_alike {
            out.push_str(
                "PASS: every run of this arm diverged at the same epoch as the baseline's, its \
                 earlier epochs bit for bit the same (see exact reproduction below): there is \
                 no accuracy to compare, and nothing changed.\n",
            );
        } else if a.reproduced && d.verdict == Verdict::Inconclusive {
            out.push_str(
                "PASS: every run of this arm reproduced the baseline's bit for bit (see exact \
                 reproduction below): the accuracies are the same numbers, so there is no drop \
                 to detect, however noisy the seeds.\n",
            );
        }
        if let Some(note) = &a.single_seed_note {
            out.push_str(&format!("note: {note}\n"));
        }
        if let Some(s) = &a.search {
            out.push_str(&format!(
                "search: {}\n",
                describe(s, &r.candidate_label, &r.baseline_label, Lang::En)
            ));
        }
    }
    if !r.new_arms.is_empty() {
        out.push_str(&format!(
            "\narms only in the candidate (not gated): {}\n",
            r.new_arms.join(", ")
        ));
    }
    out.push('\n');
    for (side, e) in [
        ("baseline", &r.baseline_deterministic),
        ("candidate", &r.candidate_deterministic),
    ] {
        if e.eligible {
            out.push_str(&format!("{side}: deterministic-eligible\n"));
        } else {
            out.push_str(&format!(
                "{side}: not deterministic-eligible ({})\n",
                e.reasons.join("; ")
            ));
        }
    }
    out.push_str(&r.exact.line());
    if !r.options.require_exact {
        out.push_str(" [informational]");
    }
    out.push('\n');
    out.push_str(&overall_line(r));
    out.push('\n');
    out
}

/// The last line: the overall verdict and the exit code it gives.
pub fn overall_line(r: &CheckReport) -> String {
    let exact_fail = r.options.require_exact && !r.exact.is_reproduced();
    match r.verdict {
        Verdict::Inconclusive if exact_fail && !r.options.strict => format!(
            "overall: INCONCLUSIVE — no regression shown, but the data cannot rule one out; run more seeds. And --require-exact and no exact reproduction (exit {})",
            r.exit_code
        ),
        Verdict::Pass if exact_fail => format!(
            "overall: PASS, but --require-exact and no exact reproduction (exit {})",
            r.exit_code
        ),
        Verdict::Pass => format!("overall: PASS (exit {})", r.exit_code),
        Verdict::Fail => format!("overall: FAIL — regression (exit {})", r.exit_code),
        Verdict::Inconclusive if r.options.strict => format!(
            "overall: INCONCLUSIVE — no regression shown, but the data cannot rule one out; --strict makes this a failure (exit {})",
            r.exit_code
        ),
        Verdict::Inconclusive => format!(
            "overall: INCONCLUSIVE — no regression shown, but the data cannot rule one out; run more seeds (exit {}; --strict would fail)",
            r.exit_code
        ),
    }
}

/// The check as one JSON object (pretty-printed).
pub fn render_json(r: &CheckReport) -> String {
    serde_json::to_string_pretty(r).expect("a check report serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn file(label: &str, accs: &[f64]) -> ResultFile {
        fixture::result(
            label,
            vec![fixture::arm("original", &fixture::seeded(accs), 4)],
        )
    }

    #[test]
    fn identical_files_pass_and_reproduce_exactly() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let r = check(&a, &a, CheckOptions::default()).unwrap();
        assert_eq!(r.verdict, Verdict::Pass, "{}", render_text(&r));
        assert_eq!(r.exit_code, 0);
        assert_eq!(r.exact, ExactCheck::Reproduced { runs_compared: 3 });
        let text = render_text(&r);
        assert!(text.contains("reproduced exactly"), "{text}");
        assert!(text.contains("overall: PASS (exit 0)"), "{text}");
        assert!(text.contains("welch-t"), "{text}");
    }

    /// A tuned arm's gate says whether the candidate's search chose what the baseline's did:
    /// a drop that comes with another choice is partly the choice.
    #[test]
    fn a_tuned_arms_gate_says_whether_the_search_chose_the_same() {
        let a = crate::report::fixture::result("a", vec![crate::report::fixture::tuned_arm()]);
        let r = check(&a, &a, CheckOptions::default()).unwrap();
        assert!(r.arms[0].search.as_ref().unwrap().identical());
        let text = render_text(&r);
        assert!(
            text.contains("search: a (2)'s search is a's to the bit: 1 trial with the same"),
            "{text}"
        );
        let mut b = a.clone();
        let hpo = b.arms[0].hpo.as_mut().unwrap();
        hpo.trials[0]
            .params
            .insert("initial_lr".into(), serde_json::json!(0.2));
        hpo.chosen_params = Some(hpo.trials[0].params.clone());
        let r = check(&a, &b, CheckOptions::default()).unwrap();
        let text = render_text(&r);
        assert!(
            text.contains("proposals part from trial 0 on")
                && text.contains(
                    "another configuration, so the arm's accuracy difference above is partly \
                     a different choice"
                ),
            "{text}"
        );
        let json = render_json(&r);
        assert!(json.contains("\"first_other_proposal\": 0"), "{json}");
        // Arms without a search say nothing of one.
        let plain = file("a", &[0.95, 0.96, 0.955]);
        let r = check(&plain, &plain, CheckOptions::default()).unwrap();
        assert!(r.arms.iter().all(|a| a.search.is_none()));
        assert!(!render_text(&r).contains("search:"));
    }

    /// Mann–Whitney's interval is of the typical run's shift, not of the mean difference in
    /// the column beside it (one wild run moves the mean far outside it): the cell says so.
    #[test]
    fn a_rank_tests_interval_is_labelled_as_the_shifts() {
        let a = file("a", &[0.95, 0.951, 0.952, 0.953, 0.954, 0.50]);
        let b = file("b", &[0.94, 0.941, 0.942, 0.943, 0.944, 0.945]);
        let r = check(&a, &b, CheckOptions::default()).unwrap();
        assert_eq!(r.arms[0].decision.method, "mann-whitney");
        let text = render_text(&r);
        let d = &r.arms[0].decision;
        let cell = format!("[{:+.4}, {:+.4}] (shift)", d.ci_low, d.ci_high);
        assert!(text.contains(&cell), "{text}");
        assert!(d.diff > d.ci_high, "{d:?}");
    }

    /// A gate between test sets would compare two different quantities: refused (exit 2).
    #[test]
    fn files_tested_on_different_test_sets_are_refused() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let mut b = file("b", &[0.95, 0.96, 0.955]);
        b.dataset.n_test = 359;
        let e = check(&a, &b, CheckOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot gate across test sets: the baseline was tested on {} images of {}, the \
                 candidate on 359 images of {}, so their accuracies are not comparable; rerun \
                 the baseline with this suite (and bump the suite's version when its split \
                 changes)",
                a.dataset.n_test, a.dataset.name, a.dataset.name
            )
        );
    }

    #[test]
    fn a_planted_regression_fails() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let b = file("a", &[0.90, 0.91, 0.905]);
        let r = check(&a, &b, CheckOptions::default()).unwrap();
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.exit_code, 1);
        match &r.exact {
            ExactCheck::Differs {
                arm, seed, epoch, ..
            } => assert_eq!((arm.as_str(), *seed, *epoch), ("original", 1, 1)),
            other => panic!("{other:?}"),
        }
        assert!(render_text(&r).contains("differs at arm original seed 1 epoch 1"));
    }

    #[test]
    fn an_arm_whose_runs_all_diverged_alike_passes_in_one_voice() {
        let mut base = fixture::two_arms("a", &[0.9, 0.91]);
        for run in &mut base.arms[0].runs {
            run.diverged_at_epoch = Some(2);
            run.final_test_acc = None;
            run.best_test_acc = None;
            run.best_epoch = None;
            run.epochs.truncate(1);
        }
        base.arms[0].summarize();
        let r = check(&base, &base, CheckOptions::default()).unwrap();
        assert_eq!(r.arms[0].verdict, Verdict::Pass);
        let text = render_text(&r);
        assert!(
            text.contains("PASS: every run of this arm diverged at the same epoch"),
            "{text}"
        );
        assert!(
            !text.contains("INCONCLUSIVE: no data")
                && !text.contains("the accuracies are the same"),
            "{text}"
        );
    }

    #[test]
    fn a_noisy_arm_reproduced_bit_for_bit_passes() {
        // Seeds too far apart for the statistics to rule out a large drop...
        let a = file("a", &[0.80, 0.95, 0.70]);
        let r = check(&a, &a, CheckOptions::default()).unwrap();
        assert_eq!(r.arms[0].decision.verdict, Verdict::Inconclusive);
        // ...but every run is the baseline's own number: nothing dropped.
        assert!(r.arms[0].reproduced);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Pass, 0));
        let text = render_text(&r);
        assert!(
            text.contains("PASS: every run of this arm reproduced"),
            "{text}"
        );
        assert!(
            text.contains("\nthe statistics alone: INCONCLUSIVE (welch-t"),
            "{text}"
        );
        // Not so for an exact reproduction of only some of its seeds.
        let mut fewer = a.clone();
        fewer.arms[0].runs.pop();
        fewer.suite.seeds.pop();
        let r = check(&a, &fewer, CheckOptions::default()).unwrap();
        assert!(!r.arms[0].reproduced);
    }

    #[test]
    fn a_failed_candidate_arm_fails_with_its_reason_alone() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let mut b = a.clone();
        b.arms[0].runs.clear();
        b.arms[0].error = Some("every trial failed (4 trials)".into());
        let r = check(&a, &b, CheckOptions::default()).unwrap();
        assert_eq!(r.arms[0].verdict, Verdict::Fail);
        let text = render_text(&r);
        assert!(
            text.contains("| — (n=0)   | —    | —      | none   | — | fail    |"),
            "{text}"
        );
        assert!(
            text.contains("FAIL: the candidate's arm failed: every trial failed"),
            "{text}"
        );
        assert!(!text.contains("INCONCLUSIVE"), "{text}");
    }

    #[test]
    fn an_arm_that_failed_alike_on_both_sides_says_so_and_still_fails() {
        let mut a = file("a", &[0.95, 0.96, 0.955]);
        a.arms[0].runs.clear();
        a.arms[0].error = Some("every trial failed (4 trials)".into());
        let r = check(&a, &a, CheckOptions::default()).unwrap();
        assert_eq!((r.arms[0].verdict, r.exit_code), (Verdict::Fail, 1));
        let text = render_text(&r);
        assert!(
            text.contains(
                "FAIL: the candidate's arm failed: every trial failed (4 trials) — as \
                 the baseline's did, with the same error: not a regression"
            ),
            "{text}"
        );
        assert!(!text.contains("INCONCLUSIVE"), "{text}");
        // A different failure on each side is named as such.
        let mut b = a.clone();
        b.arms[0].error = Some("out of memory".into());
        let text = render_text(&check(&a, &b, CheckOptions::default()).unwrap());
        assert!(
            text.contains(
                "the candidate's arm failed: out of memory — the baseline's failed too, \
                 differently (every trial failed (4 trials))"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_baseline_arm_that_failed_is_named_as_the_reason_nothing_is_gated() {
        let good = file("a", &[0.95, 0.96, 0.955]);
        let mut broken = good.clone();
        broken.arms[0].runs.clear();
        broken.arms[0].error = Some("model cnn does not fit".into());
        let r = check(&broken, &good, CheckOptions::default()).unwrap();
        assert_eq!((r.arms[0].verdict, r.exit_code), (Verdict::Inconclusive, 0));
        let text = render_text(&r);
        assert!(
            text.contains(
                "INCONCLUSIVE: the baseline's arm failed (model cnn does not fit): there are no \
                 baseline accuracies to gate the candidate's against"
            ),
            "{text}"
        );
        assert!(!text.contains("no data"), "{text}");
    }

    #[test]
    fn one_run_a_side_of_different_seeds_is_inconclusive_not_a_regression() {
        // A seed change alone moved this arm by 0.08: far beyond the test set's binomial
        // noise, which is all a 1-vs-1 gate of the same seed can use.
        let a = file("a", &[0.90]);
        let mut b = file("a", &[0.82]);
        b.arms[0].runs[0].seed = 7;
        b.suite.seeds = vec![7];
        let r = check(&a, &b, CheckOptions::default()).unwrap();
        assert_eq!(r.arms[0].decision.method, "binomial");
        assert_eq!((r.verdict, r.exit_code), (Verdict::Inconclusive, 0));
        let text = render_text(&r);
        assert!(
            text.contains(
                "INCONCLUSIVE (binomial): candidate − baseline = -0.0800 between different seeds \
                 ([1] vs [7])"
            ),
            "{text}"
        );
        assert!(text.contains("(--seeds 1)"), "{text}");
        assert!(!text.contains("only large drops can be detected"), "{text}");
        // The same seed on both sides: the binomial test is the whole noise model, and the
        // same drop fails.
        let mut same_seed = b.clone();
        same_seed.arms[0].runs[0].seed = 1;
        same_seed.suite.seeds = vec![1];
        let r = check(&a, &same_seed, CheckOptions::default()).unwrap();
        assert_eq!((r.verdict, r.exit_code), (Verdict::Fail, 1));
    }

    #[test]
    fn runs_of_another_definition_are_not_judged_for_exact_reproduction() {
        // As after `--epochs 1`: the curves differ because the runs are other runs.
        let a = file("a", &[0.95, 0.96, 0.955]);
        let mut b = file("a", &[0.90, 0.91, 0.905]);
        b.arms[0].definition["recipe"]["epochs"] = serde_json::json!(1);
        let r = check(&a, &b, CheckOptions::default()).unwrap();
        assert_eq!(
            r.exact.line(),
            "exact reproduction: not applicable: different definitions: arm original at \
             recipe.epochs"
        );
    }

    #[test]
    fn require_exact_names_itself_as_the_reason_an_inconclusive_gate_fails() {
        let a = file("a", &[0.90, 0.99]);
        let mut b = file("a", &[0.89, 0.98]);
        b.environment.torch.intra_op_threads = crate::env::Fact::known(99, "test");
        let opts = CheckOptions {
            require_exact: true,
            ..CheckOptions::default()
        };
        let r = check(&a, &b, opts).unwrap();
        assert_eq!((r.verdict, r.exit_code), (Verdict::Inconclusive, 1));
        assert_eq!(
            overall_line(&r),
            "overall: INCONCLUSIVE — no regression shown, but the data cannot rule one out; run more seeds. And --require-exact and no exact reproduction (exit 1)"
        );
    }

    #[test]
    fn a_diverged_candidate_run_fails_with_the_reason() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let mut b = a.clone();
        let run = &mut b.arms[0].runs[2];
        run.diverged_at_epoch = Some(2);
        run.final_test_acc = None;
        run.best_test_acc = None;
        let r = check(&a, &b, CheckOptions::default()).unwrap();
        assert_eq!(r.arms[0].verdict, Verdict::Fail);
        assert!(r.arms[0].reasons[0].contains("diverged"), "{:?}", r.arms[0]);
        assert_eq!(r.exit_code, 1);
    }

    #[test]
    fn one_seed_a_side_says_only_large_drops_are_detected() {
        let a = file("a", &[0.95]);
        let r = check(&a, &a, CheckOptions::default()).unwrap();
        assert_eq!(r.arms[0].decision.method, "binomial");
        let note = r.arms[0].single_seed_note.as_deref().unwrap();
        assert!(note.contains("only large drops can be detected"), "{note}");
        assert!(note.contains("binomial bound on 360 test images"), "{note}");
    }

    #[test]
    fn one_seed_rerun_is_judged_against_the_baseline_seed_spread() {
        // A noisy 2-epoch suite (sd 0.07 over seeds) and a rerun of its third seed alone.
        let a = file("a", &[0.6158, 0.5439, 0.4728]);
        let b = file("a", &[0.4728]);
        let r = check(&a, &b, CheckOptions::default()).unwrap();
        let arm = &r.arms[0];
        assert_eq!(arm.decision.method, "single-run-t");
        assert_eq!(arm.verdict, Verdict::Inconclusive, "{}", render_text(&r));
        assert!(arm.single_seed_note.is_none());
        assert!(
            arm.decision.explanation.contains("One run against 3"),
            "{}",
            arm.decision.explanation
        );
        assert_eq!(r.exit_code, 0);
    }

    #[test]
    fn inconclusive_exits_zero_unless_strict() {
        // Two seeds each with a large spread: no significant drop, but a big one not ruled out.
        let a = file("a", &[0.90, 0.99]);
        let b = file("a", &[0.89, 0.98]);
        let r = check(&a, &b, CheckOptions::default()).unwrap();
        assert_eq!(r.verdict, Verdict::Inconclusive, "{}", render_text(&r));
        assert_eq!(r.exit_code, 0);
        assert!(overall_line(&r).contains("INCONCLUSIVE"));
        let strict = CheckOptions {
            strict: true,
            ..CheckOptions::default()
        };
        assert_eq!(check(&a, &b, strict).unwrap().exit_code, 1);
    }

    #[test]
    fn require_exact_fails_without_exact_reproduction() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let mut b = a.clone();
        b.environment.torch.intra_op_threads = crate::env::Fact::known(99, "test");
        let opts = CheckOptions {
            require_exact: true,
            ..CheckOptions::default()
        };
        let r = check(&a, &b, opts).unwrap();
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(
            matches!(&r.exact, ExactCheck::NotApplicable { why } if why.contains("intra-op threads")),
            "{:?}",
            r.exact
        );
        assert_eq!(r.exit_code, 1);
        assert_eq!(check(&a, &b, CheckOptions::default()).unwrap().exit_code, 0);
    }

    #[test]
    fn bad_alpha_and_other_suites_are_input_errors() {
        let a = file("a", &[0.95]);
        let opts = CheckOptions {
            alpha: 0.7,
            ..CheckOptions::default()
        };
        assert_eq!(check(&a, &a, opts).unwrap_err(), CheckError::Alpha(0.7));
        // Below 1e-6 the quantiles stop meaning anything (1 − 1e-17 rounds to 1).
        let tiny = CheckOptions {
            alpha: 1e-17,
            ..CheckOptions::default()
        };
        assert_eq!(
            check(&a, &a, tiny).unwrap_err().to_string(),
            "--alpha 0.00000000000000001 must be in [0.000001, 0.5)"
        );
        let smallest = CheckOptions {
            alpha: 1e-6,
            ..CheckOptions::default()
        };
        assert!(render_text(&check(&a, &a, smallest).unwrap()).contains("99.9998% CI"));
        let mut b = a.clone();
        b.suite.version = 2;
        let e = check(&a, &b, CheckOptions::default()).unwrap_err();
        assert!(e.to_string().contains("v2"), "{e}");
    }

    #[test]
    fn json_has_the_verdict_and_exit_code() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let r = check(&a, &a, CheckOptions::default()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
        assert_eq!(v["verdict"], "pass");
        assert_eq!(v["exit_code"], 0);
        assert_eq!(v["arms"][0]["decision"]["method"], "welch-t");
        assert_eq!(v["exact"]["status"], "reproduced");
    }
}
