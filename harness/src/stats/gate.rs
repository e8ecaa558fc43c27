//! The CI regression gate: a Pass / Fail / Inconclusive decision for one arm
//! (a set of seeds of the baseline versus a set of seeds of the candidate).
//!
//! # Decision rule
//!
//! Inputs: the final accuracies of the baseline runs and of the candidate
//! runs (fractions in `[0, 1]`, one value per seed), a `tolerance` (accuracy
//! points as a fraction, e.g. `0.01` = one point), a significance level
//! `alpha` (e.g. `0.05`) and the size of the test set the accuracies were
//! measured on. Let `diff = mean(candidate) − mean(baseline)`.
//!
//! 1. **Threshold.** The *noise floor* is the binomial standard error of a
//!    difference of two accuracies measured on `test_set_size` images,
//!    `sqrt(p_b(1−p_b)/N + p_c(1−p_c)/N)` with `p_b`, `p_c` the two mean
//!    accuracies: the smallest change the test set itself can resolve. The
//!    effective threshold is `θ = max(tolerance, noise_floor)`. (With
//!    `test_set_size = 0` the noise floor is unknown and taken as 0.)
//! 2. **Method.**
//!    * Both sides have ≥ 2 runs: **Welch's t-test** (`"welch-t"`) on the
//!      per-seed accuracies. This is the method for the usual 3 vs 3 seeds:
//!      a rank test cannot work there (the exact one-sided Mann–Whitney
//!      p-value of 3 vs 3 is never below 1/20 = 0.05).
//!    * Both sides have ≥ 5 runs **and** one side contains an outlier
//!      (Grubbs' test at level 0.01, i.e. about 1 % false alarms per side on
//!      normal data), e.g. a diverged seed: **Mann–Whitney U**
//!      (`"mann-whitney"`, exact for small samples without ties), which is
//!      not thrown off by a single wild run.
//!      It judges the typical run (a location shift), not the worst one.
//!      Used only if its smallest attainable p-value is below `alpha`.
//!    * One side has a single run and the other ≥ 2 runs that are not all
//!      equal: **single-run t** (`"single-run-t"`, Crawford & Howell's test of
//!      a single case against a small sample). The seed-to-seed variance `s²`
//!      of the side with several runs is assumed for the single run too:
//!      `SE = s·sqrt(1/n_b + 1/n_c)`, t quantiles with `n − 1` df (`n` the
//!      larger side). A rerun of one of the baseline's seeds is judged against
//!      the baseline's own spread, not against the test-set noise alone.
//!    * Both sides have a single run, or the several runs of a side are all equal (on
//!      both sides, when both have several): **binomial** (`"binomial"`). The seed-to-seed variance cannot be
//!      estimated, so only the test-set sampling noise (the noise floor
//!      above) is used as the standard error of `diff`, with normal
//!      quantiles. Only drops larger than
//!      `min_detectable_drop = θ + z_{1−α}·noise_floor` can be detected.
//!      Without a test-set size there is no noise model and the verdict is
//!      Inconclusive.
//! 3. **Confidence bounds.** `ci_low` / `ci_high` are one-sided `1 − alpha`
//!    confidence bounds for the true difference (together a two-sided
//!    `1 − 2·alpha` interval, i.e. 90 % for `alpha = 0.05`): Welch–Satterthwaite
//!    t quantiles for `"welch-t"`, t quantiles with `n − 1` df for
//!    `"single-run-t"`, normal quantiles for `"binomial"`, the
//!    distribution-free interval for a location shift (order statistics of the
//!    pairwise differences) for `"mann-whitney"`.
//! 4. **Verdict.**
//!    * **Fail** — the drop is significantly larger than the threshold: the
//!      one-sided test of H0 "the candidate is not worse than the baseline by
//!      more than θ" (i.e. the shifted comparison of `candidate + θ` against
//!      the baseline) rejects at level `alpha`. For the t tests and binomial this
//!      is exactly `ci_high < −θ` (for Mann–Whitney it agrees up to ties).
//!      `p_value` is the p-value of this test.
//!    * **Pass** — not Fail, and the data rule out, at confidence `1 − alpha`,
//!      a drop of `3·θ` or more: `ci_low ≥ −3·θ` (for Mann–Whitney: the
//!      one-sided test of `candidate + 3θ` against the baseline rejects "a drop
//!      of at least 3θ"). The factor is [`PASS_MARGIN_FACTOR`]. Note that a
//!      Pass does not claim the drop is below θ: it means "no significant drop
//!      beyond θ, and the experiment was precise enough that a large drop
//!      would have been seen". A factor of 2 would make an unchanged rerun
//!      with 3 vs 3 seeds and seed noise of half the tolerance come out
//!      Inconclusive about 2.4 % of the time; with 3 it is about 0.015 % (simulated,
//!      4·10⁶ reruns with Welch intervals).
//!    * **Inconclusive** — neither: no significant drop beyond θ, but the
//!      interval is too wide to rule out a drop of `3·θ` (too few seeds or too
//!      much seed variance). Run more seeds.
//!
//!    With several runs a side, all equal on both sides, and no test-set size (so no
//!    binomial noise model) the difference is taken as exact: Fail iff `diff < −θ`,
//!    otherwise Pass.
//! 5. **Invalid input** — an empty side, NaN/infinite values, accuracies
//!    outside `[0, 1]` when `test_set_size > 0`, `alpha` outside `[1e-6, 0.5)` or a
//!    negative/non-finite tolerance — gives **Inconclusive** with method
//!    `"none"`, `diff`/`ci_low`/`ci_high`/`min_detectable_drop` set to 0 (or
//!    the computable mean difference), `p_value = None` and the reason in
//!    `explanation`. Nothing panics and no field is NaN.
//!
//! `min_detectable_drop` is the smallest observed drop that would be declared
//! Fail with this data's noise: `θ + (critical value)·SE` (for Mann–Whitney,
//! `θ +` half the interval width).
//!
//! Several arms are combined with [`overall`]: any Fail → Fail, else any
//! Inconclusive → Inconclusive, else Pass.

use serde::{Deserialize, Serialize};

use crate::stats::describe::{all_equal, mean, std_dev};
use crate::stats::hypothesis::{
    binomial_diff_se, mann_whitney, mw_shift_bounds, normal_cdf, normal_quantile, t_quantile,
    Alternative, WelchTest,
};

/// The smallest significance level the gate accepts: below it `1 − alpha` rounds to 1 in
/// floating point far enough that the quantiles (and so the intervals) stop meaning anything.
pub const MIN_ALPHA: f64 = 1e-6;

/// Whether `alpha` is a significance level the gate accepts: in `[MIN_ALPHA, 0.5)`.
pub fn alpha_is_valid(alpha: f64) -> bool {
    (MIN_ALPHA..0.5).contains(&alpha)
}

/// The two-sided confidence level `1 − 2·alpha` as a percentage, with the decimals it needs
/// ("90", "99.9", "99.9998").
pub fn confidence_percent(alpha: f64) -> String {
    percent(1.0 - 2.0 * alpha)
}

/// A confidence level as a percentage with the decimals it needs ("95", "98.75", "99.9"):
/// never rounded up to "100".
fn percent(level: f64) -> String {
    let text = format!("{:.4}", 100.0 * level);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Pass requires the data to rule out a drop of `PASS_MARGIN_FACTOR · θ`.
pub const PASS_MARGIN_FACTOR: f64 = 3.0;
/// Both sides need at least this many runs before Mann–Whitney is considered.
pub const MW_MIN_N: usize = 5;
/// Level of the per-side Grubbs outlier test that switches to Mann–Whitney.
pub const OUTLIER_ALPHA: f64 = 0.01;

/// Outcome of the gate. Serialises as `"pass"`, `"fail"`, `"inconclusive"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
}

/// Input of [`decide`] for one arm.
#[derive(Debug, Clone, Copy)]
pub struct GateInput<'a> {
    /// Final accuracies of the baseline runs (one per seed).
    pub baseline: &'a [f64],
    /// Final accuracies of the candidate runs (one per seed).
    pub candidate: &'a [f64],
    /// Acceptable drop in accuracy, as a fraction (0.01 = one point).
    pub tolerance: f64,
    /// Significance level, in (0, 0.5), e.g. 0.05.
    pub alpha: f64,
    /// Number of test images the accuracies were measured on (0 = unknown).
    pub test_set_size: usize,
}

/// Result of [`decide`]. All floats are finite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateDecision {
    pub verdict: Verdict,
    /// `"welch-t"`, `"mann-whitney"`, `"single-run-t"`, `"binomial"`, or `"none"` for
    /// invalid input.
    pub method: String,
    /// `mean(candidate) − mean(baseline)`.
    pub diff: f64,
    /// One-sided `1 − alpha` lower confidence bound for the difference.
    pub ci_low: f64,
    /// One-sided `1 − alpha` upper confidence bound for the difference.
    pub ci_high: f64,
    /// p-value of the test for a drop beyond the threshold (Fail iff `< alpha`).
    pub p_value: Option<f64>,
    /// Effective threshold `θ = max(tolerance, noise_floor)`.
    pub threshold: f64,
    /// Binomial standard error of a difference of two accuracies on the test set.
    pub noise_floor: f64,
    /// Smallest observed drop that would be declared Fail with this data's noise.
    pub min_detectable_drop: f64,
    /// Human-readable reason for the verdict.
    pub explanation: String,
}

/// Combines the verdicts of several arms: any Fail → Fail, else any
/// Inconclusive → Inconclusive, else Pass (also for an empty list).
pub fn overall<I: IntoIterator<Item = Verdict>>(verdicts: I) -> Verdict {
    let mut result = Verdict::Pass;
    for v in verdicts {
        match v {
            Verdict::Fail => return Verdict::Fail,
            Verdict::Inconclusive => result = Verdict::Inconclusive,
            Verdict::Pass => {}
        }
    }
    result
}

/// Whether a comparison of runs of `base_seeds` against runs of `cand_seeds`, made with
/// `method`, gets no test at all. The binomial fallback (`"binomial"`, so named by [`decide`]
/// and by [`compare_means`](crate::stats::compare::compare_means) alike: one run a side, or
/// several identical ones) counts only the test set's sampling noise. That is the whole noise
/// between runs of the same seeds, but between different seeds the difference also holds the
/// seed-to-seed variation, which one run a side cannot estimate and which is often far
/// larger: such a test is no evidence either way. `check` and `compare` both follow this one
/// rule, each saying it in its own words.
pub fn different_seeds_untested(method: &str, base_seeds: &[u64], cand_seeds: &[u64]) -> bool {
    method == "binomial" && base_seeds != cand_seeds
}

fn invalid(reason: String, diff: f64) -> GateDecision {
    GateDecision {
        verdict: Verdict::Inconclusive,
        method: "none".to_string(),
        diff,
        ci_low: 0.0,
        ci_high: 0.0,
        p_value: None,
        threshold: 0.0,
        noise_floor: 0.0,
        min_detectable_drop: 0.0,
        explanation: format!("INCONCLUSIVE: {reason}"),
    }
}

/// Grubbs' two-sided test for a single outlier at level [`OUTLIER_ALPHA`]:
/// `G = max|x − mean| / s` exceeds
/// `(n−1)/√n · sqrt(t² / (n − 2 + t²))` with `t = t_{1 − α/(2n), n−2}`.
/// False for fewer than 3 values or zero variance.
pub fn has_outlier(xs: &[f64]) -> bool {
    let n = xs.len();
    if n < 3 {
        return false;
    }
    let (Some(m), Some(s)) = (mean(xs), std_dev(xs)) else {
        return false;
    };
    if s <= 0.0 {
        return false;
    }
    let g = xs.iter().map(|x| (x - m).abs()).fold(0.0, f64::max) / s;
    let nf = n as f64;
    let t = t_quantile(1.0 - OUTLIER_ALPHA / (2.0 * nf), nf - 2.0);
    let g_crit = (nf - 1.0) / nf.sqrt() * (t * t / (nf - 2.0 + t * t)).sqrt();
    g > g_crit
}

fn binom_coeff(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// Decides Pass / Fail / Inconclusive for one arm. See the module
/// documentation for the exact rule. Never panics; never returns NaN.
pub fn decide(input: &GateInput) -> GateDecision {
    let (base, cand) = (input.baseline, input.candidate);
    let (alpha, tol, n_test) = (input.alpha, input.tolerance, input.test_set_size);

    if base.is_empty() || cand.is_empty() {
        return invalid(
            format!(
                "no data (baseline has {} runs, candidate has {} runs)",
                base.len(),
                cand.len()
            ),
            0.0,
        );
    }
    if !base.iter().chain(cand).all(|x| x.is_finite()) {
        return invalid("NaN or infinite accuracy values".to_string(), 0.0);
    }
    let ma = mean(base).unwrap_or(0.0);
    let mb = mean(cand).unwrap_or(0.0);
    let diff = mb - ma;
    if !alpha_is_valid(alpha) {
        return invalid(format!("alpha {alpha} is not in [{MIN_ALPHA}, 0.5)"), diff);
    }
    if !(tol.is_finite() && tol >= 0.0) {
        return invalid(format!("tolerance {tol} is not a finite value >= 0"), diff);
    }
    if n_test > 0 && !base.iter().chain(cand).all(|x| (0.0..=1.0).contains(x)) {
        return invalid(
            "accuracies must be fractions in [0, 1] when test_set_size is given".to_string(),
            diff,
        );
    }

    let noise_floor = if n_test > 0 {
        binomial_diff_se(ma, n_test, mb, n_test).unwrap_or(0.0)
    } else {
        0.0
    };
    let theta = tol.max(noise_floor);
    let pass_margin = PASS_MARGIN_FACTOR * theta;
    let (na, nb) = (base.len(), cand.len());
    let level = 1.0 - alpha;

    let threshold_text = if n_test > 0 {
        format!(
            "threshold {theta:.4} = max(tolerance {tol:.4}, test-set noise floor {noise_floor:.4} for {n_test} images)"
        )
    } else {
        format!("threshold {theta:.4} = tolerance (test-set size unknown, no noise floor)")
    };

    // --- method-specific bounds and p-values --------------------------------
    struct Outcome {
        method: &'static str,
        ci_low: f64,
        ci_high: f64,
        p_fail: f64,
        fail: bool,
        pass: bool,
        mdd: f64,
        note: String,
    }

    // A t-based outcome (Welch, or one run against several).
    let t_outcome = |method: &'static str, t: &WelchTest, note: String| {
        let lo = t.lower_bound(level).unwrap_or(diff);
        let hi = t.upper_bound(level).unwrap_or(diff);
        Outcome {
            method,
            ci_low: lo,
            ci_high: hi,
            p_fail: t.p_value(Alternative::Less, -theta),
            fail: hi < -theta,
            pass: lo >= -pass_margin,
            mdd: theta + (hi - diff),
            note,
        }
    };
    // One run against several runs that vary: their seed variance is the noise model.
    let single_run = (na < 2 || nb < 2)
        .then(|| WelchTest::single_run(base, cand).ok())
        .flatten()
        .filter(|t| !t.is_degenerate());

    let outcome: Outcome = if let Some(t) = single_run {
        let several = na.max(nb);
        let sd = t.se / (1.0 / na as f64 + 1.0 / nb as f64).sqrt();
        t_outcome(
            "single-run-t",
            &t,
            format!(
                " One run against {several}: the seed-to-seed spread of the {several} runs (sd {sd:.4}) is assumed for the single run too (Crawford–Howell t, df = {:.0}); run as many seeds on both sides for a stronger gate.",
                t.df
            ),
        )
    } else if na < 2 || nb < 2 || (n_test > 0 && all_equal(base) && all_equal(cand)) {
        if n_test == 0 {
            return GateDecision {
                verdict: Verdict::Inconclusive,
                method: "binomial".to_string(),
                diff,
                ci_low: diff,
                ci_high: diff,
                p_value: None,
                threshold: theta,
                noise_floor,
                min_detectable_drop: theta,
                explanation: format!(
                    "INCONCLUSIVE (binomial, {na} vs {nb} runs): diff {diff:+.4}; with a single run on a side the seed variance cannot be estimated and the test-set size is unknown, so there is no noise model. Run more seeds or give test_set_size."
                ),
            };
        }
        let se = noise_floor;
        let z = normal_quantile(level);
        let (lo, hi) = (diff - z * se, diff + z * se);
        let p_fail = if se > 0.0 {
            normal_cdf((diff + theta) / se)
        } else if diff < -theta {
            0.0
        } else {
            1.0
        };
        let mdd = theta + z * se;
        Outcome {
            method: "binomial",
            ci_low: lo,
            ci_high: hi,
            p_fail,
            fail: hi < -theta,
            pass: lo >= -pass_margin,
            mdd,
            note: if na.max(nb) < 2 {
                format!(
                    " Only {na} vs {nb} runs: seed-to-seed variance cannot be estimated, only the test-set sampling noise (binomial) is accounted for; only drops larger than {mdd:.4} can be detected."
                )
            } else if na.min(nb) >= 2 {
                format!(
                    " All runs on each side are identical (zero seed variance): only the test-set sampling noise (binomial) is accounted for; only drops larger than {mdd:.4} can be detected."
                )
            } else {
                format!(
                    " Only {na} vs {nb} runs, and the {} runs are identical (zero seed variance): only the test-set sampling noise (binomial) is accounted for; only drops larger than {mdd:.4} can be detected.",
                    na.max(nb)
                )
            },
        }
    } else {
        let outlier_side = match (has_outlier(base), has_outlier(cand)) {
            (true, true) => Some("both sides"),
            (true, false) => Some("the baseline"),
            (false, true) => Some("the candidate"),
            (false, false) => None,
        };
        let mw_reaches_alpha = 1.0 / binom_coeff(na + nb, na) < alpha;
        let use_mw = na >= MW_MIN_N && nb >= MW_MIN_N && mw_reaches_alpha && outlier_side.is_some();
        let welch = match WelchTest::new(base, cand) {
            Ok(w) => w,
            Err(e) => return invalid(format!("Welch t-test failed: {e}"), diff),
        };
        let w_lo = welch.lower_bound(level).unwrap_or(diff);
        let w_hi = welch.upper_bound(level).unwrap_or(diff);
        if use_mw {
            let shifted = |s: f64| cand.iter().map(|x| x + s).collect::<Vec<f64>>();
            let p_fail = mann_whitney(base, &shifted(theta), Alternative::Less)
                .map(|r| r.p_value)
                .unwrap_or(1.0);
            let p_pass = mann_whitney(base, &shifted(pass_margin), Alternative::Greater)
                .map(|r| r.p_value)
                .unwrap_or(1.0);
            let (lo, hi) = mw_shift_bounds(base, cand, alpha).unwrap_or((w_lo, w_hi));
            let mut pairwise: Vec<f64> = cand
                .iter()
                .flat_map(|c| base.iter().map(move |b| c - b))
                .collect();
            pairwise.sort_by(f64::total_cmp);
            let k = pairwise.len();
            let hodges_lehmann = if k % 2 == 1 {
                pairwise[k / 2]
            } else {
                0.5 * (pairwise[k / 2 - 1] + pairwise[k / 2])
            };
            Outcome {
                method: "mann-whitney",
                ci_low: lo,
                ci_high: hi,
                p_fail,
                fail: p_fail < alpha,
                pass: p_pass < alpha,
                mdd: theta + 0.5 * (hi - lo),
                note: format!(
                    " An outlying run was found in {}; the rank-based Mann–Whitney test (typical run, location shift) was used; the interval is the distribution-free interval for the shift, whose point estimate (median pairwise difference, Hodges–Lehmann) is {hodges_lehmann:+.4}.",
                    outlier_side.unwrap_or("the data")
                ),
            }
        } else {
            let note = if welch.is_degenerate() {
                " All runs on each side are identical (zero seed variance) and the test-set size is unknown: the difference is taken as exact.".to_string()
            } else {
                format!(" Welch df = {:.2}.", welch.df)
            };
            t_outcome("welch-t", &welch, note)
        }
    };

    let verdict = if outcome.fail {
        Verdict::Fail
    } else if outcome.pass {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    };
    let conf = confidence_percent(alpha);
    let head = format!(
        "{} ({}, {na} vs {nb} runs): candidate − baseline = {diff:+.4}, {conf}% CI [{:+.4}, {:+.4}]; {threshold_text}.",
        match verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
        },
        outcome.method,
        outcome.ci_low,
        outcome.ci_high,
    );
    let p_text = fmt_p(outcome.p_fail);
    let body = match verdict {
        Verdict::Fail => format!(
            " The drop is significantly larger than the threshold (one-sided p = {p_text} < alpha {alpha})."
        ),
        Verdict::Pass => format!(
            " No significant drop beyond the threshold (p = {p_text}), and a drop of {pass_margin:.4} ({PASS_MARGIN_FACTOR}× threshold) or more is ruled out (one-sided {}% confidence).",
            percent(level)
        ),
        Verdict::Inconclusive => format!(
            " No significant drop beyond the threshold (p = {p_text}), but the data are too noisy to rule out a drop of {pass_margin:.4} ({PASS_MARGIN_FACTOR}× threshold); run more seeds. With this noise only drops larger than {:.4} would be detected.",
            outcome.mdd
        ),
    };
    GateDecision {
        verdict,
        method: outcome.method.to_string(),
        diff,
        ci_low: outcome.ci_low,
        ci_high: outcome.ci_high,
        p_value: Some(outcome.p_fail),
        threshold: theta,
        noise_floor,
        min_detectable_drop: outcome.mdd,
        explanation: format!("{head}{body}{}", outcome.note),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One rule for check's gate and compare's estimate: only their binomial fallback between
    /// different seeds goes untested, whether from one run a side or identical runs.
    #[test]
    fn only_the_binomial_fallback_between_different_seeds_goes_untested() {
        use crate::stats::compare::compare_means;
        let method = |base: &[f64], cand: &[f64]| {
            let gate = decide(&GateInput {
                baseline: base,
                candidate: cand,
                tolerance: 0.01,
                alpha: 0.05,
                test_set_size: 1000,
            })
            .method;
            let estimate = compare_means(base, cand, 0.95, Some(1000)).method;
            assert_eq!(gate, estimate, "{base:?} vs {cand:?}");
            gate
        };
        let one_a_side = method(&[0.9], &[0.82]);
        assert!(different_seeds_untested(&one_a_side, &[1], &[7]));
        assert!(!different_seeds_untested(&one_a_side, &[1], &[1]));
        let identical = method(&[0.9, 0.9], &[0.82]);
        assert!(different_seeds_untested(&identical, &[1, 2], &[1]));
        let spread = method(&[0.9, 0.92], &[0.82, 0.8]);
        assert!(!different_seeds_untested(&spread, &[1, 2], &[3, 4]));
        let against_spread = method(&[0.9, 0.92], &[0.82]);
        assert!(!different_seeds_untested(&against_spread, &[1, 2], &[3]));
    }

    /// 64-bit LCG (Knuth's MMIX constants) with Box–Muller normals: a tiny,
    /// fixed-seed generator so the simulations are deterministic.
    struct Lcg(u64);

    impl Lcg {
        fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // top 53 bits -> (0, 1)
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn normal(&mut self, mean: f64, sd: f64) -> f64 {
            let (u1, u2) = (self.uniform(), self.uniform());
            mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
        fn sample(&mut self, n: usize, mean: f64, sd: f64) -> Vec<f64> {
            (0..n).map(|_| self.normal(mean, sd)).collect()
        }
    }

    fn gate(base: &[f64], cand: &[f64]) -> GateDecision {
        decide(&GateInput {
            baseline: base,
            candidate: cand,
            tolerance: 0.01,
            alpha: 0.05,
            test_set_size: 10_000,
        })
    }

    fn all_finite(d: &GateDecision) -> bool {
        [
            d.diff,
            d.ci_low,
            d.ci_high,
            d.threshold,
            d.noise_floor,
            d.min_detectable_drop,
        ]
        .iter()
        .chain(d.p_value.iter())
        .all(|x| x.is_finite())
    }

    /// Verdict counts [pass, fail, inconclusive] and how often Mann–Whitney was used.
    fn rates(
        base: (f64, f64),
        cand: (f64, f64),
        n: usize,
        draws: usize,
        seed: u64,
    ) -> ([usize; 3], usize) {
        let mut rng = Lcg(seed);
        let mut counts = [0usize; 3];
        let mut mw = 0;
        for _ in 0..draws {
            let b = rng.sample(n, base.0, base.1);
            let c = rng.sample(n, cand.0, cand.1);
            let d = gate(&b, &c);
            assert!(all_finite(&d), "{d:?}");
            if n < MW_MIN_N {
                assert_eq!(d.method, "welch-t");
            } else {
                mw += usize::from(d.method == "mann-whitney");
            }
            counts[match d.verdict {
                Verdict::Pass => 0,
                Verdict::Fail => 1,
                Verdict::Inconclusive => 2,
            }] += 1;
        }
        eprintln!("{n} seeds: pass/fail/inconclusive {counts:?}, mann-whitney used {mw}x");
        (counts, mw)
    }

    #[test]
    fn large_regression_fails_reliably() {
        // (a) 0.97 ± 0.005 -> 0.80 ± 0.03, 3 seeds each, 1000 random draws.
        let ([pass, fail, _], _) = rates((0.97, 0.005), (0.80, 0.03), 3, 1000, 42);
        assert!(fail >= 990, "only {fail}/1000 failed");
        assert_eq!(pass, 0);
        // one concrete draw
        let d = gate(&[0.972, 0.966, 0.971], &[0.78, 0.83, 0.79]);
        assert_eq!(d.verdict, Verdict::Fail);
        assert!(d.p_value.unwrap() < 0.05);
        assert!(d.ci_high < -0.01);
        assert!(d.explanation.starts_with("FAIL"));
    }

    #[test]
    fn unchanged_rerun_passes_essentially_always() {
        // (b) both 0.97 ± 0.005, 3 seeds each, 1000 random draws: >= 99 % Pass.
        let ([pass, fail, _], _) = rates((0.97, 0.005), (0.97, 0.005), 3, 1000, 7);
        assert!(pass >= 990, "only {pass}/1000 passed");
        assert!(fail <= 5, "{fail}/1000 false fails");
        // and with 5 seeds
        let ([pass, _, _], mw) = rates((0.97, 0.005), (0.97, 0.005), 5, 1000, 11);
        assert!(pass >= 995, "only {pass}/1000 passed");
        // Grubbs at 0.01 per side: the rank test is rarely chosen for normal data
        assert!(mw <= 40, "mann-whitney chosen {mw}/1000 times");
    }

    #[test]
    fn threshold_sized_drop_with_big_variance_is_inconclusive() {
        // (c) drop of about the threshold (0.01) with large seed variance.
        let d = gate(&[0.965, 0.970, 0.975], &[0.94, 0.96, 0.98]);
        assert_eq!(d.verdict, Verdict::Inconclusive, "{}", d.explanation);
        assert!((d.diff + 0.01).abs() < 1e-12);
        assert!(d.ci_low < -PASS_MARGIN_FACTOR * d.threshold);
        assert!(d.ci_high > -d.threshold);
        assert!(d.explanation.contains("run more seeds"));
        assert!(d.min_detectable_drop > d.threshold);
        // most random draws of such a situation are not a Pass
        let ([pass, _, inconclusive], _) = rates((0.90, 0.005), (0.89, 0.02), 3, 1000, 3);
        assert!(
            inconclusive > pass,
            "inconclusive {inconclusive}, pass {pass}"
        );
    }

    #[test]
    fn threshold_uses_noise_floor() {
        // tiny test set: noise floor sqrt(2 * 0.97 * 0.03 / 500) = 0.01079 > tolerance 0.01
        let d = gate(&[0.97, 0.97, 0.97], &[0.97, 0.97, 0.97]);
        assert_eq!(d.threshold, 0.01);
        let d = decide(&GateInput {
            baseline: &[0.97, 0.97, 0.97],
            candidate: &[0.97, 0.97, 0.97],
            tolerance: 0.01,
            alpha: 0.05,
            test_set_size: 500,
        });
        assert!((d.noise_floor - (2.0f64 * 0.97 * 0.03 / 500.0).sqrt()).abs() < 1e-12);
        assert_eq!(d.threshold, d.noise_floor);
        assert_eq!(d.verdict, Verdict::Pass);
    }

    #[test]
    fn identical_inputs_pass_without_nan() {
        for xs in [
            vec![0.97, 0.97, 0.97],
            vec![0.96, 0.97, 0.98],
            vec![1.0, 1.0],
        ] {
            let d = gate(&xs, &xs);
            assert_eq!(d.verdict, Verdict::Pass, "{}", d.explanation);
            assert_eq!(d.diff, 0.0);
            assert!(all_finite(&d), "{d:?}");
        }
        // zero tolerance and unknown test-set size: still Pass (exact equality)
        let d = decide(&GateInput {
            baseline: &[0.9, 0.9, 0.9],
            candidate: &[0.9, 0.9, 0.9],
            tolerance: 0.0,
            alpha: 0.05,
            test_set_size: 0,
        });
        assert_eq!(d.verdict, Verdict::Pass);
        assert_eq!((d.ci_low, d.ci_high, d.p_value), (0.0, 0.0, Some(1.0)));
        // deterministic runs with a real drop: exact comparison against the threshold
        assert_eq!(gate(&[0.97; 3], &[0.95; 3]).verdict, Verdict::Fail);
        assert_eq!(gate(&[0.97; 3], &[0.965; 3]).verdict, Verdict::Pass);
    }

    /// Several runs a side, all equal on both: no seed variance, so the test set's sampling
    /// noise (binomial), as with one run a side, not a "Welch" interval of zero width.
    #[test]
    fn runs_all_equal_on_both_sides_use_binomial() {
        let input = |base, cand| GateInput {
            baseline: base,
            candidate: cand,
            tolerance: 0.02,
            alpha: 0.05,
            test_set_size: 901,
        };
        let d = decide(&input(&[0.93; 3], &[0.90; 3]));
        assert_eq!((d.verdict, d.method.as_str()), (Verdict::Pass, "binomial"));
        let se = (0.93f64 * 0.07 / 901.0 + 0.9 * 0.1 / 901.0).sqrt();
        assert!((d.noise_floor - se).abs() < 1e-12);
        assert!(
            (d.ci_low - (-0.03 - 1.6448536269514722 * se)).abs() < 1e-9,
            "{d:?}"
        );
        assert!(d
            .explanation
            .contains("All runs on each side are identical"));
        // the same as one run against them
        let one = decide(&input(&[0.93; 3], &[0.90]));
        assert_eq!(
            (one.verdict, one.method.as_str()),
            (Verdict::Pass, "binomial")
        );
        assert_eq!((one.ci_low, one.ci_high), (d.ci_low, d.ci_high));
    }

    /// The one-sided confidence of a Pass is `1 − alpha` with its decimals, never "100%".
    #[test]
    fn a_pass_states_its_one_sided_confidence_exactly() {
        for (alpha, shown) in [
            (0.05, "95"),
            (0.005, "99.5"),
            (0.001, "99.9"),
            (0.0125, "98.75"),
        ] {
            let d = decide(&GateInput {
                baseline: &[0.97, 0.971, 0.969],
                candidate: &[0.97, 0.971, 0.969],
                tolerance: 0.01,
                alpha,
                test_set_size: 10_000,
            });
            assert_eq!(d.verdict, Verdict::Pass, "{}", d.explanation);
            assert!(
                d.explanation
                    .contains(&format!("(one-sided {shown}% confidence)")),
                "{alpha}: {}",
                d.explanation
            );
        }
    }

    #[test]
    fn single_run_per_side_uses_binomial() {
        let d = gate(&[0.97], &[0.97]);
        assert_eq!((d.verdict, d.method.as_str()), (Verdict::Pass, "binomial"));
        let se = (0.97f64 * 0.03 / 10_000.0 * 2.0).sqrt();
        assert!((d.noise_floor - se).abs() < 1e-15);
        // min_detectable_drop = threshold + z_0.95 * se
        assert!((d.min_detectable_drop - (0.01 + 1.6448536269514722 * se)).abs() < 1e-9);
        assert!(d.explanation.contains("only drops larger than"));

        // 0.97 -> 0.95: se = 0.002768, upper bound -0.0154 < -0.01 -> Fail
        let d = gate(&[0.97], &[0.95]);
        assert_eq!(d.verdict, Verdict::Fail, "{}", d.explanation);
        // 0.97 -> 0.965: not significantly beyond 0.01 and a 0.03 drop ruled out
        assert_eq!(gate(&[0.97], &[0.965]).verdict, Verdict::Pass);
        // one run against several identical runs: no seed variance to use, binomial
        let d = gate(&[0.97, 0.97, 0.97], &[0.95]);
        assert_eq!((d.verdict, d.method.as_str()), (Verdict::Fail, "binomial"));
        assert!(
            d.explanation.contains("the 3 runs are identical"),
            "{}",
            d.explanation
        );
        // without a test-set size there is no noise model
        let d = decide(&GateInput {
            baseline: &[0.97],
            candidate: &[0.90],
            tolerance: 0.01,
            alpha: 0.05,
            test_set_size: 0,
        });
        assert_eq!(d.verdict, Verdict::Inconclusive);
        assert!(all_finite(&d));
    }

    #[test]
    fn one_run_against_several_uses_their_seed_variance() {
        let base = [0.971, 0.968, 0.975];
        // scipy: s = std(base, ddof=1), se = s·sqrt(1 + 1/3), t quantiles with 2 df
        let d = gate(&base, &[0.955]);
        assert_eq!(d.method, "single-run-t");
        assert!((d.diff + 0.016333333333333422).abs() < 1e-12);
        assert!(
            (d.ci_high + 0.004492280748542254).abs() < 1e-9,
            "{}",
            d.ci_high
        );
        assert!(
            (d.ci_low + 0.02817438591812459).abs() < 1e-9,
            "{}",
            d.ci_low
        );
        assert!((d.p_value.unwrap() - 0.12936970054558436).abs() < 1e-9);
        assert!(
            d.explanation.contains("Crawford–Howell t, df = 2"),
            "{}",
            d.explanation
        );
        // Calibrated: an unchanged rerun of one seed against 3 (seed sd twice the tolerance)
        // fails less often than alpha, since a drop has to exceed the threshold to count; a
        // drop of 10 sds is caught nearly always.
        let mut rng = Lcg(7);
        let (mut false_alarms, mut caught) = (0, 0);
        for _ in 0..2000 {
            let b = rng.sample(3, 0.90, 0.02);
            let same = rng.sample(1, 0.90, 0.02);
            let dropped = rng.sample(1, 0.70, 0.02);
            false_alarms += usize::from(gate(&b, &same).verdict == Verdict::Fail);
            caught += usize::from(gate(&b, &dropped).verdict == Verdict::Fail);
        }
        assert!(
            false_alarms < 100,
            "{false_alarms}/2000 unchanged reruns failed"
        );
        assert!(caught > 1800, "only {caught}/2000 10-sd drops failed");
        // A drop far beyond the seed spread fails, whichever side has the single run.
        assert_eq!(gate(&base, &[0.93]).verdict, Verdict::Fail);
        assert_eq!(gate(&[0.99], &[0.95, 0.951, 0.949]).verdict, Verdict::Fail);

        // One of the baseline's own seeds rerun exactly is no regression, however noisy the
        // suite: the binomial noise of the test set alone (as before) called this a
        // significant 7-point drop.
        let noisy = [0.6158, 0.5439, 0.4728];
        let d = gate(&noisy, &[0.4728]);
        assert_ne!(d.verdict, Verdict::Fail, "{}", d.explanation);
        assert!(all_finite(&d));
    }

    #[test]
    fn invalid_inputs_are_inconclusive_not_panics() {
        for (b, c) in [
            (&[][..], &[0.9][..]),
            (&[0.9][..], &[][..]),
            (&[][..], &[][..]),
        ] {
            let d = gate(b, c);
            assert_eq!(
                (d.verdict, d.method.as_str()),
                (Verdict::Inconclusive, "none")
            );
            assert!(d.explanation.contains("no data"));
            assert!(all_finite(&d));
        }
        assert_eq!(gate(&[0.9, f64::NAN], &[0.9, 0.9]).method, "none");
        assert_eq!(gate(&[90.0, 91.0], &[90.0, 92.0]).method, "none");
        for (alpha, tol) in [(0.0, 0.01), (0.5, 0.01), (f64::NAN, 0.01), (0.05, -1.0)] {
            let d = decide(&GateInput {
                baseline: &[0.9, 0.91],
                candidate: &[0.9, 0.91],
                tolerance: tol,
                alpha,
                test_set_size: 100,
            });
            assert_eq!(d.verdict, Verdict::Inconclusive);
            assert!(all_finite(&d));
        }
    }

    #[test]
    fn outlier_switches_to_mann_whitney() {
        let base = [0.970, 0.968, 0.973, 0.971, 0.969, 0.972];
        // one diverged seed, otherwise unchanged: the typical run is fine
        let cand = [0.971, 0.969, 0.972, 0.970, 0.10, 0.973];
        assert!(has_outlier(&cand) && !has_outlier(&base));
        let d = gate(&base, &cand);
        assert_eq!(d.method, "mann-whitney");
        assert_ne!(d.verdict, Verdict::Fail);
        assert!(d.explanation.contains("outlying run"));
        assert!(all_finite(&d));
        // a clear drop of the typical run with one outlier: Fail
        let cand = [0.930, 0.928, 0.933, 0.931, 0.10, 0.932];
        let d = gate(&base, &cand);
        assert_eq!(
            (d.verdict, d.method.as_str()),
            (Verdict::Fail, "mann-whitney")
        );
        assert!(d.ci_high < -0.01);
        // 3 vs 3 never uses the rank test (it cannot reach p < 0.05)
        let d = gate(&[0.97, 0.97, 0.971], &[0.97, 0.971, 0.10]);
        assert_eq!(d.method, "welch-t");
    }

    #[test]
    fn overall_combines_verdicts() {
        use Verdict::*;
        assert_eq!(overall([Pass, Inconclusive, Fail, Pass]), Fail);
        assert_eq!(overall([Pass, Inconclusive, Pass]), Inconclusive);
        assert_eq!(overall([Pass, Pass]), Pass);
        assert_eq!(overall(Vec::<Verdict>::new()), Pass);
    }

    #[test]
    fn serde_format() {
        assert_eq!(
            serde_json::to_string(&Verdict::Inconclusive).unwrap(),
            "\"inconclusive\""
        );
        let v: Verdict = serde_json::from_str("\"fail\"").unwrap();
        assert_eq!(v, Verdict::Fail);
        let d = gate(&[0.97, 0.968, 0.972], &[0.969, 0.971, 0.97]);
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("\"verdict\":\"pass\""), "{json}");
        assert!(!json.contains("null"), "{json}");
        let back: GateDecision = serde_json::from_str(&json).unwrap();
        assert_eq!((back.verdict, back.method), (d.verdict, d.method));
    }
}
