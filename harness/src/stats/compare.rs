//! Two-sided difference-of-means estimates for the cross-machine comparison
//! table.
//!
//! [`compare_means`] estimates `mean(b) − mean(a)` with a two-sided
//! confidence interval at `level`:
//!
//! * both sides have ≥ 2 values: Welch's t interval (`method = "welch-t"`);
//!   with zero variance on both sides, the binomial interval below where the
//!   test-set size is known (as the gate has it), else the interval is
//!   `[diff, diff]` and the difference counts as significant iff it is non-zero;
//! * one side has a single value and the other ≥ 2 values that are not all
//!   equal: the t interval with the several values' variance assumed for the
//!   single one (`method = "single-run-t"`, see
//!   [`WelchTest::single_run`](crate::stats::hypothesis::WelchTest::single_run));
//! * otherwise a side has a single value; if `test_set_size` is known: the binomial
//!   interval `diff ± z_{(1+level)/2} · sqrt(p_a(1−p_a)/N + p_b(1−p_b)/N)`
//!   (`method = "binomial"`; only test-set sampling noise is accounted for);
//! * otherwise (single value and no test-set size, values outside `[0, 1]`
//!   for the binomial case, or an invalid `level`): `ci_low`, `ci_high` and
//!   `p_value` are `None`, `significant` is false and `method = "n/a"`;
//! * an empty side or non-finite values: additionally `diff = None`.
//!
//! `significant` is true iff the two-sided p-value is below `1 − level`
//! (equivalently, the interval excludes 0).

use serde::{Deserialize, Serialize};

use crate::stats::describe::mean;
use crate::stats::hypothesis::{
    binomial_diff_se, normal_cdf, normal_quantile, Alternative, WelchTest,
};

/// Estimated difference `mean(b) − mean(a)`; `None` fields mean "n/a".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffEstimate {
    pub diff: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Two-sided p-value of H0: no difference.
    pub p_value: Option<f64>,
    pub significant: bool,
    /// `"welch-t"`, `"single-run-t"`, `"binomial"` or `"n/a"`.
    pub method: String,
}

impl DiffEstimate {
    fn na(diff: Option<f64>) -> DiffEstimate {
        DiffEstimate {
            diff,
            ci_low: None,
            ci_high: None,
            p_value: None,
            significant: false,
            method: "n/a".to_string(),
        }
    }
}

/// Two-sided comparison of `b` against `a` at confidence `level` (e.g. 0.95).
/// See the module documentation for the rules; never panics.
pub fn compare_means(
    a: &[f64],
    b: &[f64],
    level: f64,
    test_set_size: Option<usize>,
) -> DiffEstimate {
    if a.is_empty() || b.is_empty() || !a.iter().chain(b).all(|x| x.is_finite()) {
        return DiffEstimate::na(None);
    }
    let diff = mean(b).unwrap_or(0.0) - mean(a).unwrap_or(0.0);
    if !(level > 0.0 && level < 1.0) {
        return DiffEstimate::na(Some(diff));
    }
    // Several runs a side: Welch; one run against several that vary: their seed variance
    // (see WelchTest::single_run).
    let t_test = match WelchTest::single_run(a, b)
        .ok()
        .filter(|t| !t.is_degenerate())
    {
        Some(t) => Some((t, "single-run-t")),
        None if a.len() >= 2 && b.len() >= 2 => match WelchTest::new(a, b) {
            // No seed variance on either side: the test set's sampling noise is what is left.
            Ok(w) if w.is_degenerate() && test_set_size.is_some_and(|n| n > 0) => None,
            Ok(w) => Some((w, "welch-t")),
            Err(_) => return DiffEstimate::na(Some(diff)),
        },
        None => None,
    };
    if let Some((t, method)) = t_test {
        let Ok((lo, hi)) = t.confidence_interval(level) else {
            return DiffEstimate::na(Some(diff));
        };
        let p = t.p_value(Alternative::TwoSided, 0.0);
        return DiffEstimate {
            diff: Some(diff),
            ci_low: Some(lo),
            ci_high: Some(hi),
            p_value: Some(p),
            significant: p < 1.0 - level,
            method: method.to_string(),
        };
    }
    let n_test = match test_set_size {
        Some(n) if n > 0 => n,
        _ => return DiffEstimate::na(Some(diff)),
    };
    let (pa, pb) = (mean(a).unwrap_or(0.0), mean(b).unwrap_or(0.0));
    let Ok(se) = binomial_diff_se(pa, n_test, pb, n_test) else {
        return DiffEstimate::na(Some(diff));
    };
    let h = normal_quantile(0.5 + level / 2.0) * se;
    let p = if se > 0.0 {
        (2.0 * normal_cdf(-diff.abs() / se)).min(1.0)
    } else if diff != 0.0 {
        0.0
    } else {
        1.0
    };
    DiffEstimate {
        diff: Some(diff),
        ci_low: Some(diff - h),
        ci_high: Some(diff + h),
        p_value: Some(p),
        significant: p < 1.0 - level,
        method: "binomial".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs all equal on both sides are zero variance exactly, whatever the rounding of their
    /// mean (three runs of 0.97 leave a residue of about 1e-32): the binomial interval, as the
    /// gate has it, not a t interval of width 1e-16.
    #[test]
    fn runs_all_equal_on_both_sides_get_the_binomial_interval() {
        let e = compare_means(&[0.97; 3], &[0.95; 3], 0.95, Some(901));
        assert_eq!(e.method, "binomial");
        let se = (0.97f64 * 0.03 / 901.0 + 0.95 * 0.05 / 901.0).sqrt();
        let h = 1.959963984540054 * se;
        assert!(
            (e.ci_high.unwrap() - (e.diff.unwrap() + h)).abs() < 1e-9,
            "{e:?}"
        );
    }

    #[test]
    fn welch_interval() {
        let a = [0.971, 0.968, 0.975, 0.969];
        let b = [0.962, 0.958, 0.966];
        let e = compare_means(&a, &b, 0.95, Some(10_000));
        assert_eq!(e.method, "welch-t");
        // scipy.stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
        //   -> (-0.016719875405656774, -0.0007801245943430766), pvalue 0.038497465423351564
        assert!((e.ci_low.unwrap() + 0.016719875405656774).abs() < 1e-9);
        assert!((e.ci_high.unwrap() + 0.0007801245943430766).abs() < 1e-9);
        assert!((e.p_value.unwrap() - 0.038497465423351564).abs() < 1e-9);
        assert!(e.significant);
        assert!(!compare_means(&a, &b, 0.99, None).significant);
    }

    #[test]
    fn single_runs() {
        let e = compare_means(&[0.94], &[0.93], 0.95, Some(10_000));
        assert_eq!(e.method, "binomial");
        let se = (0.94f64 * 0.06 / 1e4 + 0.93 * 0.07 / 1e4).sqrt();
        let h = 1.959963984540054 * se; // scipy.stats.norm.ppf(0.975)
        assert!((e.ci_low.unwrap() - (-0.01 - h)).abs() < 1e-9);
        assert!((e.ci_high.unwrap() - (-0.01 + h)).abs() < 1e-9);
        assert!(e.significant);
        let e = compare_means(&[0.94], &[0.93], 0.95, None);
        assert_eq!(e.method, "n/a");
        assert!(e.ci_low.is_none() && !e.significant);
        assert!((e.diff.unwrap() + 0.01).abs() < 1e-12);
    }

    #[test]
    fn one_run_against_several() {
        // scipy: d = 0.955 - mean(a), se = std(a, ddof=1)·sqrt(1 + 1/3),
        // d ± t.ppf(0.975, 2)·se, p = 2·t.cdf(-|d|/se, 2)
        let a = [0.971, 0.968, 0.975];
        let e = compare_means(&a, &[0.955], 0.95, Some(10_000));
        assert_eq!(e.method, "single-run-t");
        let (d, se) = (-0.016333333333333422, 0.004055175020198817);
        let h = 4.302652729749464 * se;
        assert!((e.ci_low.unwrap() - (d - h)).abs() < 1e-9);
        assert!((e.ci_high.unwrap() - (d + h)).abs() < 1e-9);
        assert!(!e.significant, "within the seed spread: {e:?}");
        // Several identical values give no variance to use: binomial, as for 1 vs 1.
        assert_eq!(
            compare_means(&[0.9, 0.9], &[0.8], 0.95, Some(100)).method,
            "binomial"
        );
    }

    #[test]
    fn degenerate_and_invalid() {
        let e = compare_means(&[0.9, 0.9], &[0.9, 0.9], 0.95, None);
        assert_eq!(
            (e.diff, e.ci_low, e.ci_high, e.significant),
            (Some(0.0), Some(0.0), Some(0.0), false)
        );
        assert_eq!(e.p_value, Some(1.0));
        let e = compare_means(&[], &[0.9], 0.95, Some(100));
        assert_eq!((e.diff, e.method.as_str()), (None, "n/a"));
        let e = compare_means(&[0.9, 0.8], &[0.9, 0.7], 1.5, None);
        assert_eq!(e.method, "n/a");
        assert!(e.diff.is_some());
        let json = serde_json::to_string(&compare_means(&[0.9], &[0.8], 0.95, None)).unwrap();
        assert!(json.contains("\"ci_low\":null"));
    }
}
