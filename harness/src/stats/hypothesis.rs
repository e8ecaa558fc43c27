//! Hypothesis tests and noise models.
//!
//! Sign convention used throughout: every two-sample function takes `(a, b)`
//! where `a` is the reference (baseline) and `b` the sample under test
//! (candidate); differences are `b − a`, and [`Alternative::Less`] means
//! "`b` is smaller than `a`" (a drop).
//!
//! * [`WelchTest`] — Welch's unequal-variance t-test (Welch–Satterthwaite df),
//!   one- and two-sided p-values against an arbitrary null difference,
//!   confidence intervals and one-sided confidence bounds for `mean_b − mean_a`.
//! * [`mann_whitney`] — Mann–Whitney U with an exact null distribution (no ties,
//!   both n ≤ [`MW_EXACT_MAX_N`]) or the normal approximation with tie and
//!   continuity correction (same conventions as `scipy.stats.mannwhitneyu`).
//! * [`binomial_sd`], [`binomial_diff_se`], [`min_detectable_drop`] — the
//!   sampling noise of an accuracy measured on a finite test set.
//! * [`spearman`] — Spearman rank correlation with average ranks for ties.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::stats::describe::{all_equal, mean, variance};
use crate::stats::{check_finite, StatsError};

/// Direction of the alternative hypothesis, always stated for `b` relative to `a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// H1: the difference `b − a` (or the location of `b` relative to `a`) is not the null value.
    TwoSided,
    /// H1: `b − a` is smaller than the null value (`b` dropped).
    Less,
    /// H1: `b − a` is larger than the null value.
    Greater,
}

// ---------------------------------------------------------------------------
// Distribution helpers
// ---------------------------------------------------------------------------

fn std_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("standard normal is valid")
}

/// Standard normal CDF Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    std_normal().cdf(x)
}

/// Standard normal quantile Φ⁻¹(p) for p in (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    std_normal().inverse_cdf(p)
}

/// Student-t CDF with `df` degrees of freedom (`df` > 0).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    StudentsT::new(0.0, 1.0, df)
        .map(|d| d.cdf(t))
        .unwrap_or_else(|_| normal_cdf(t))
}

/// Student-t quantile with `df` degrees of freedom for p in (0, 1).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .map(|d| d.inverse_cdf(p))
        .unwrap_or_else(|_| normal_quantile(p))
}

/// The two-sided t confidence interval of the mean of `xs` at `level` (0.95 for 95 %);
/// None with fewer than 2 values. Runs all equal give a zero-width interval.
pub fn mean_interval(xs: &[f64], level: f64) -> Option<(f64, f64)> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    let se = (seed_variance(xs) / xs.len() as f64).sqrt();
    let half = t_quantile(1.0 - (1.0 - level) / 2.0, (xs.len() - 1) as f64) * se;
    Some((m - half, m + half))
}

/// Both samples of a two-sample test, in turn: non-empty, at least `min_len` values, finite.
fn check_sides(a: &[f64], b: &[f64], min_len: usize) -> Result<(), StatsError> {
    for s in [a, b] {
        if s.is_empty() {
            return Err(StatsError::Empty);
        }
        if s.len() < min_len {
            return Err(StatsError::TooFewSamples {
                needed: min_len,
                got: s.len(),
            });
        }
        check_finite(s)?;
    }
    Ok(())
}

fn check_level(level: f64) -> Result<(), StatsError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter("level must be in (0, 1)"))
    }
}

// ---------------------------------------------------------------------------
// Welch's t-test
// ---------------------------------------------------------------------------

/// Welch's unequal-variance two-sample t-test for `mean_b − mean_a`.
///
/// Construct with [`WelchTest::new`]; then ask for p-values against any null
/// difference `delta0` and for confidence intervals.
///
/// **Zero variance.** When both samples have zero variance (e.g. identical
/// values), the standard error is 0 and the difference is treated as known
/// exactly: `t` is `+∞`, `−∞` or `0` (when `diff == delta0`); a one-sided
/// p-value is `0` if the observed difference lies strictly on the alternative's
/// side of `delta0` and `1` otherwise; the two-sided p-value is `0` if
/// `diff != delta0` and `1` otherwise; confidence intervals collapse to
/// `[diff, diff]`; `df` is reported as `n_a + n_b − 2`. No NaN is produced.
/// When only one side has zero variance the ordinary formulas apply
/// (df = n − 1 of the other side).
#[derive(Debug, Clone, PartialEq)]
pub struct WelchTest {
    pub n_a: usize,
    pub n_b: usize,
    pub mean_a: f64,
    pub mean_b: f64,
    /// `mean_b − mean_a`.
    pub diff: f64,
    /// Standard error of `diff`: `sqrt(s_a²/n_a + s_b²/n_b)`.
    pub se: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
}

impl WelchTest {
    /// Runs the test. Errors: an empty side, fewer than 2 observations on a
    /// side, or non-finite values.
    pub fn new(a: &[f64], b: &[f64]) -> Result<WelchTest, StatsError> {
        check_sides(a, b, 2)?;
        let (n_a, n_b) = (a.len(), b.len());
        let va = seed_variance(a) / n_a as f64;
        let vb = seed_variance(b) / n_b as f64;
        let se2 = va + vb;
        let df = if se2 > 0.0 {
            se2 * se2 / (va * va / (n_a - 1) as f64 + vb * vb / (n_b - 1) as f64)
        } else {
            (n_a + n_b - 2) as f64
        };
        Ok(WelchTest::with_error(a, b, se2.sqrt(), df))
    }

    /// The test of `mean(b) − mean(a)` with standard error `se` and `df` degrees of freedom.
    fn with_error(a: &[f64], b: &[f64], se: f64, df: f64) -> WelchTest {
        let (mean_a, mean_b) = (mean(a).unwrap_or(0.0), mean(b).unwrap_or(0.0));
        WelchTest {
            n_a: a.len(),
            n_b: b.len(),
            mean_a,
            mean_b,
            diff: mean_b - mean_a,
            se,
            df,
        }
    }

    /// One run against several: the t-test of a single case against a small sample
    /// (Crawford & Howell, 1998). The side with one run gives no variance of its own, so the
    /// seed-to-seed variance `s²` of the other side is assumed for both:
    /// `se = s·sqrt(1/n_a + 1/n_b)` with `n − 1` degrees of freedom, `n` the larger side. With
    /// 3 seeds against 1 this is a prediction interval for the single run, which is what a
    /// rerun of one seed can be judged against. Errors: an empty side, not exactly one side
    /// with a single value (use [`WelchTest::new`] for two or more a side), or non-finite
    /// values. Zero variance on the larger side gives the degenerate test (see the type docs).
    pub fn single_run(a: &[f64], b: &[f64]) -> Result<WelchTest, StatsError> {
        check_sides(a, b, 1)?;
        let (n_a, n_b) = (a.len(), b.len());
        let several = match (n_a, n_b) {
            (1, n) if n >= 2 => b,
            (n, 1) if n >= 2 => a,
            _ => return Err(StatsError::InvalidParameter(
                "single_run needs one side with exactly one value and the other with two or more",
            )),
        };
        let var = seed_variance(several);
        let se = (var * (1.0 / n_a as f64 + 1.0 / n_b as f64)).sqrt();
        Ok(WelchTest::with_error(a, b, se, (several.len() - 1) as f64))
    }

    /// True when both samples had zero variance (see the type docs).
    pub fn is_degenerate(&self) -> bool {
        self.se == 0.0
    }

    /// t statistic `(diff − delta0) / se` (±∞ or 0 in the degenerate case).
    pub fn t_statistic(&self, delta0: f64) -> f64 {
        let num = self.diff - delta0;
        if self.is_degenerate() {
            if num > 0.0 {
                f64::INFINITY
            } else if num < 0.0 {
                f64::NEG_INFINITY
            } else {
                0.0
            }
        } else {
            num / self.se
        }
    }

    /// p-value of H0: `mean_b − mean_a = delta0` (or the one-sided composite
    /// null) against `alt`.
    pub fn p_value(&self, alt: Alternative, delta0: f64) -> f64 {
        let num = self.diff - delta0;
        if self.is_degenerate() {
            let on_alt_side = match alt {
                Alternative::Less => num < 0.0,
                Alternative::Greater => num > 0.0,
                Alternative::TwoSided => num != 0.0,
            };
            return if on_alt_side { 0.0 } else { 1.0 };
        }
        let t = self.t_statistic(delta0);
        match alt {
            Alternative::Less => t_cdf(t, self.df),
            Alternative::Greater => t_cdf(-t, self.df),
            Alternative::TwoSided => (2.0 * t_cdf(-t.abs(), self.df)).min(1.0),
        }
    }

    /// Critical value `t_{q, df}` (0 in the degenerate case).
    fn crit(&self, q: f64) -> f64 {
        if self.is_degenerate() {
            0.0
        } else {
            t_quantile(q, self.df)
        }
    }

    /// Two-sided confidence interval for `mean_b − mean_a` at `level` (e.g. 0.95).
    pub fn confidence_interval(&self, level: f64) -> Result<(f64, f64), StatsError> {
        check_level(level)?;
        let h = self.crit(0.5 + level / 2.0) * self.se;
        Ok((self.diff - h, self.diff + h))
    }

    /// One-sided lower confidence bound for `mean_b − mean_a` at `level`.
    pub fn lower_bound(&self, level: f64) -> Result<f64, StatsError> {
        check_level(level)?;
        Ok(self.diff - self.crit(level) * self.se)
    }

    /// One-sided upper confidence bound for `mean_b − mean_a` at `level`.
    pub fn upper_bound(&self, level: f64) -> Result<f64, StatsError> {
        check_level(level)?;
        Ok(self.diff + self.crit(level) * self.se)
    }
}

// ---------------------------------------------------------------------------
// Mann–Whitney U
// ---------------------------------------------------------------------------

/// Largest per-sample size for which the exact null distribution is enumerated.
pub const MW_EXACT_MAX_N: usize = 20;

/// How the Mann–Whitney p-value was (or should be) computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MwMethod {
    /// Exact null distribution (requires no ties and both n ≤ [`MW_EXACT_MAX_N`]).
    Exact,
    /// Normal approximation with tie correction and continuity correction.
    Asymptotic,
}

/// Result of a Mann–Whitney U test.
#[derive(Debug, Clone, PartialEq)]
pub struct MannWhitney {
    /// U of sample `b`: the number of pairs `(a_i, b_j)` with `b_j > a_i`,
    /// ties counting ½ (equals scipy's `mannwhitneyu(b, a).statistic`).
    pub u: f64,
    /// p-value for the requested alternative.
    pub p_value: f64,
    /// How the p-value was computed.
    pub method: MwMethod,
}

/// Number of orderings (out of C(n1+n2, n1)) giving each U value, U = 0..=n1·n2.
pub(crate) fn mw_exact_counts(n1: usize, n2: usize) -> Vec<f64> {
    // c[i][j][u]: number of arrangements of i elements of sample 1 and j of
    // sample 2 with U_1 = u. The largest element is either from sample 1
    // (beating all j of sample 2) or from sample 2.
    let mut c: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); n2 + 1]; n1 + 1];
    for i in 0..=n1 {
        for j in 0..=n2 {
            let mut v = vec![0.0; i * j + 1];
            if i == 0 || j == 0 {
                v[0] = 1.0;
            } else {
                for (u, slot) in v.iter_mut().enumerate() {
                    let from1 = if u >= j { c[i - 1][j][u - j] } else { 0.0 };
                    let from2 = c[i][j - 1].get(u).copied().unwrap_or(0.0);
                    *slot = from1 + from2;
                }
            }
            c[i][j] = v;
        }
    }
    std::mem::take(&mut c[n1][n2])
}

fn has_ties(a: &[f64], b: &[f64]) -> bool {
    let mut all: Vec<f64> = a.iter().chain(b).copied().collect();
    all.sort_by(f64::total_cmp);
    all.windows(2).any(|w| w[0] == w[1])
}

fn u_of_b(a: &[f64], b: &[f64]) -> f64 {
    let mut u = 0.0;
    for &y in b {
        for &x in a {
            if y > x {
                u += 1.0;
            } else if y == x {
                u += 0.5;
            }
        }
    }
    u
}

/// Mann–Whitney U test of `b` against `a` with automatic method choice: exact
/// when there are no ties and both n ≤ [`MW_EXACT_MAX_N`], otherwise the normal
/// approximation with tie and continuity correction.
///
/// `Alternative::Less`: `b` tends to be smaller than `a`. Two-sided exact
/// p-values are `min(1, 2·min(p_less, p_greater))` (scipy's convention).
/// If every observation is tied the asymptotic variance is 0 and the p-value
/// is reported as 1.
pub fn mann_whitney(a: &[f64], b: &[f64], alt: Alternative) -> Result<MannWhitney, StatsError> {
    let exact_ok = a.len() <= MW_EXACT_MAX_N && b.len() <= MW_EXACT_MAX_N && !has_ties(a, b);
    let method = if exact_ok {
        MwMethod::Exact
    } else {
        MwMethod::Asymptotic
    };
    mann_whitney_with(a, b, alt, method)
}

/// Mann–Whitney U test with a forced method. `MwMethod::Exact` returns an
/// error when the data contain ties or a sample exceeds [`MW_EXACT_MAX_N`].
pub fn mann_whitney_with(
    a: &[f64],
    b: &[f64],
    alt: Alternative,
    method: MwMethod,
) -> Result<MannWhitney, StatsError> {
    if a.is_empty() || b.is_empty() {
        return Err(StatsError::Empty);
    }
    check_finite(a)?;
    check_finite(b)?;
    let u = u_of_b(a, b);
    let (na, nb) = (a.len(), b.len());
    let m = (na * nb) as f64;
    let p_value = match method {
        MwMethod::Exact => {
            if na > MW_EXACT_MAX_N || nb > MW_EXACT_MAX_N {
                return Err(StatsError::InvalidParameter(
                    "exact Mann-Whitney needs both n <= 20",
                ));
            }
            if has_ties(a, b) {
                return Err(StatsError::InvalidParameter(
                    "exact Mann-Whitney needs data without ties",
                ));
            }
            let counts = mw_exact_counts(nb, na);
            let total: f64 = counts.iter().sum();
            let k = u.round() as usize;
            let p_le: f64 = counts[..=k].iter().sum::<f64>() / total;
            let p_ge: f64 = counts[k..].iter().sum::<f64>() / total;
            match alt {
                Alternative::Less => p_le,
                Alternative::Greater => p_ge,
                Alternative::TwoSided => (2.0 * p_le.min(p_ge)).min(1.0),
            }
        }
        MwMethod::Asymptotic => {
            let n = (na + nb) as f64;
            let mut all: Vec<f64> = a.iter().chain(b).copied().collect();
            all.sort_by(f64::total_cmp);
            let mut tie_term = 0.0;
            let mut i = 0;
            while i < all.len() {
                let mut j = i + 1;
                while j < all.len() && all[j] == all[i] {
                    j += 1;
                }
                let t = (j - i) as f64;
                tie_term += t * t * t - t;
                i = j;
            }
            let s2 = m / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
            if s2 <= 0.0 {
                1.0
            } else {
                let s = s2.sqrt();
                let mu = m / 2.0;
                let stat = match alt {
                    Alternative::Greater => u,
                    Alternative::Less => m - u,
                    Alternative::TwoSided => u.max(m - u),
                };
                // upper-tail probability, computed as Φ(−z) for accuracy
                let p = normal_cdf(-(stat - mu - 0.5) / s);
                match alt {
                    Alternative::TwoSided => (2.0 * p).min(1.0),
                    _ => p,
                }
            }
        }
    };
    Ok(MannWhitney {
        u,
        p_value: p_value.clamp(0.0, 1.0),
        method,
    })
}

/// The sample variance of a side, zero exactly when its values are all equal: their mean
/// may round off, and a variance of 1e-34 would make a t-test of nothing.
fn seed_variance(xs: &[f64]) -> f64 {
    if all_equal(xs) {
        0.0
    } else {
        variance(xs).unwrap_or(0.0)
    }
}

/// Distribution-free (Moses / Hodges–Lehmann-type) one-sided confidence bounds
/// for the location shift Δ in the model `b = a + Δ`, each at level `1 − alpha`.
///
/// Let `D` be the sorted `n_a·n_b` pairwise differences `b_j − a_i` and `u*`
/// the smallest value with `P(U ≥ u*) ≤ alpha` under H0 (exact distribution
/// for n ≤ [`MW_EXACT_MAX_N`], otherwise the normal approximation). Then the
/// lower bound is `D[m − u* + 1]` and the upper bound `D[u*]` (1-based).
/// Errors when `alpha` is too small to be reached with these sample sizes.
pub fn mw_shift_bounds(a: &[f64], b: &[f64], alpha: f64) -> Result<(f64, f64), StatsError> {
    if a.is_empty() || b.is_empty() {
        return Err(StatsError::Empty);
    }
    check_finite(a)?;
    check_finite(b)?;
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::InvalidParameter("alpha must be in (0, 1)"));
    }
    let (na, nb) = (a.len(), b.len());
    let m = na * nb;
    let u_star = if na <= MW_EXACT_MAX_N && nb <= MW_EXACT_MAX_N {
        let counts = mw_exact_counts(nb, na);
        let total: f64 = counts.iter().sum();
        // tail[u] = P(U >= u)
        let mut tail = 0.0;
        let mut found = None;
        for u in (0..=m).rev() {
            tail += counts[u] / total;
            if tail <= alpha * (1.0 + 1e-12) {
                found = Some(u);
            } else {
                break;
            }
        }
        found
    } else {
        let mf = m as f64;
        let s = (mf * (na + nb + 1) as f64 / 12.0).sqrt();
        let u = (mf / 2.0 + 0.5 + normal_quantile(1.0 - alpha) * s).ceil();
        (u <= mf && u >= 1.0).then_some(u as usize)
    };
    let u_star = match u_star {
        Some(u) if u >= 1 => u,
        _ => {
            return Err(StatsError::InvalidParameter(
                "alpha too small for these sample sizes",
            ))
        }
    };
    let mut d: Vec<f64> = Vec::with_capacity(m);
    for &y in b {
        for &x in a {
            d.push(y - x);
        }
    }
    d.sort_by(f64::total_cmp);
    Ok((d[m - u_star], d[u_star - 1]))
}

// ---------------------------------------------------------------------------
// Binomial noise of a test-set accuracy
// ---------------------------------------------------------------------------

fn check_prob(p: f64) -> Result<(), StatsError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter("accuracy must be in [0, 1]"))
    }
}

/// Binomial standard deviation of an accuracy `p` measured on `n_test`
/// independent test items: `sqrt(p(1 − p)/n_test)`.
pub fn binomial_sd(p: f64, n_test: usize) -> Result<f64, StatsError> {
    check_prob(p)?;
    if n_test == 0 {
        return Err(StatsError::InvalidParameter("test set size must be > 0"));
    }
    Ok((p * (1.0 - p) / n_test as f64).sqrt())
}

/// Standard error of the difference of two independent accuracies:
/// `sqrt(p_a(1 − p_a)/n_a + p_b(1 − p_b)/n_b)`.
pub fn binomial_diff_se(p_a: f64, n_a: usize, p_b: f64, n_b: usize) -> Result<f64, StatsError> {
    let sa = binomial_sd(p_a, n_a)?;
    let sb = binomial_sd(p_b, n_b)?;
    Ok((sa * sa + sb * sb).sqrt())
}

/// Minimum accuracy drop detectable at one-sided level `alpha` with one run per
/// side on the same-size test set: `z_{1−alpha} · sqrt(2) · binomial_sd(p, n_test)`.
pub fn min_detectable_drop(p: f64, n_test: usize, alpha: f64) -> Result<f64, StatsError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::InvalidParameter("alpha must be in (0, 1)"));
    }
    Ok(normal_quantile(1.0 - alpha) * std::f64::consts::SQRT_2 * binomial_sd(p, n_test)?)
}

// ---------------------------------------------------------------------------
// Spearman rank correlation
// ---------------------------------------------------------------------------

/// Ranks 1..=n with ties given the average of the ranks they span.
/// NaN values are ordered by `f64::total_cmp` (callers should pass finite data).
pub fn average_ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
    let mut ranks = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i + 1;
        while j < idx.len() && xs[idx[j]] == xs[idx[i]] {
            j += 1;
        }
        // positions i..j (0-based) hold ranks i+1..=j; their average:
        let r = (i + 1 + j) as f64 / 2.0;
        for &k in &idx[i..j] {
            ranks[k] = r;
        }
        i = j;
    }
    ranks
}

/// Spearman rank correlation (Pearson correlation of average ranks).
/// Errors: different lengths, n < 2, non-finite values, or a constant input
/// (correlation undefined → `StatsError::ZeroVariance`).
pub fn spearman(x: &[f64], y: &[f64]) -> Result<f64, StatsError> {
    if x.len() != y.len() {
        return Err(StatsError::LengthMismatch {
            left: x.len(),
            right: y.len(),
        });
    }
    if x.len() < 2 {
        return Err(StatsError::TooFewSamples {
            needed: 2,
            got: x.len(),
        });
    }
    check_finite(x)?;
    check_finite(y)?;
    let (rx, ry) = (average_ranks(x), average_ranks(y));
    let (mx, my) = (mean(&rx).unwrap_or(0.0), mean(&ry).unwrap_or(0.0));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return Err(StatsError::ZeroVariance);
    }
    Ok((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    const A: [f64; 4] = [0.971, 0.968, 0.975, 0.969];
    const B: [f64; 3] = [0.962, 0.958, 0.966];

    #[test]
    fn welch_matches_scipy() {
        let w = WelchTest::new(&A, &B).unwrap();
        // scipy.stats.ttest_ind(B, A, equal_var=False, alternative=...)
        //   .statistic = -3.1473259089834187, .df = 3.702382340019188
        assert!(close(w.t_statistic(0.0), -3.1473259089834187, 1e-10));
        assert!(close(w.df, 3.702382340019188, 1e-10));
        // alternative='two-sided' -> 0.038497465423351564
        assert!(close(
            w.p_value(Alternative::TwoSided, 0.0),
            0.038497465423351564,
            1e-9
        ));
        // alternative='less' -> 0.019248732711675782
        assert!(close(
            w.p_value(Alternative::Less, 0.0),
            0.019248732711675782,
            1e-9
        ));
        // alternative='greater' -> 0.9807512672883242
        assert!(close(
            w.p_value(Alternative::Greater, 0.0),
            0.9807512672883242,
            1e-9
        ));
        // ttest_ind(B, A, equal_var=False).confidence_interval(0.95)
        //   -> (-0.016719875405656774, -0.0007801245943430766)
        let (lo, hi) = w.confidence_interval(0.95).unwrap();
        assert!(close(lo, -0.016719875405656774, 1e-9));
        assert!(close(hi, -0.0007801245943430766, 1e-9));
        // ttest_ind(B, A, equal_var=False, alternative='greater')
        //   .confidence_interval(0.9).low -> -0.013079658880838368
        assert!(close(
            w.lower_bound(0.9).unwrap(),
            -0.013079658880838368,
            1e-9
        ));
        // shifted null: ttest_ind(np.array(B) + 0.01, A, equal_var=False,
        //   alternative='less') -> statistic 0.4496179869976255, p 0.660980135099271
        assert!(close(w.t_statistic(-0.01), 0.4496179869976255, 1e-9));
        assert!(close(
            w.p_value(Alternative::Less, -0.01),
            0.660980135099271,
            1e-9
        ));
        assert!(w.confidence_interval(1.0).is_err());
    }

    #[test]
    fn distribution_helpers_match_scipy() {
        // scipy.stats.t.ppf(0.95, 3.7) = 2.1824938039146007
        assert!(close(t_quantile(0.95, 3.7), 2.1824938039146007, 1e-9));
        // scipy.stats.t.cdf(-2.1, 2.3) = 0.07684354834051708
        assert!(close(t_cdf(-2.1, 2.3), 0.07684354834051708, 1e-10));
        // scipy.stats.norm.ppf(0.95) = 1.6448536269514722
        assert!(close(normal_quantile(0.95), 1.6448536269514722, 1e-9));
        assert_eq!(t_cdf(f64::INFINITY, 3.0), 1.0);
    }

    #[test]
    fn welch_zero_variance() {
        let w = WelchTest::new(&[0.97, 0.97], &[0.96, 0.96, 0.96]).unwrap();
        assert!(w.is_degenerate());
        assert_eq!(w.df, 3.0);
        assert_eq!(w.t_statistic(0.0), f64::NEG_INFINITY);
        assert_eq!(w.p_value(Alternative::Less, 0.0), 0.0);
        assert_eq!(w.p_value(Alternative::Greater, 0.0), 1.0);
        assert_eq!(w.p_value(Alternative::TwoSided, 0.0), 0.0);
        let (lo, hi) = w.confidence_interval(0.95).unwrap();
        assert!(close(lo, -0.01, 1e-12) && close(hi, -0.01, 1e-12));
        // identical constant samples: no difference, p = 1, t = 0, never NaN
        let w = WelchTest::new(&[0.5, 0.5], &[0.5, 0.5]).unwrap();
        assert_eq!(w.t_statistic(0.0), 0.0);
        for alt in [
            Alternative::Less,
            Alternative::Greater,
            Alternative::TwoSided,
        ] {
            assert_eq!(w.p_value(alt, 0.0), 1.0);
        }
        // only one side constant: df = n - 1 of the other side
        let w = WelchTest::new(&[0.5, 0.5, 0.5], &[0.4, 0.5, 0.6, 0.7]).unwrap();
        assert!(close(w.df, 3.0, 1e-12));
    }

    #[test]
    fn welch_errors() {
        assert_eq!(WelchTest::new(&[], &[1.0, 2.0]), Err(StatsError::Empty));
        assert_eq!(
            WelchTest::new(&[1.0], &[1.0, 2.0]),
            Err(StatsError::TooFewSamples { needed: 2, got: 1 })
        );
        assert_eq!(
            WelchTest::new(&[1.0, f64::NAN], &[1.0, 2.0]),
            Err(StatsError::NonFinite)
        );
    }

    #[test]
    fn mann_whitney_exact_matches_scipy() {
        let x = [0.91, 0.95, 0.97, 0.99, 0.93];
        let y = [0.96, 0.98, 1.0, 0.985, 0.975, 0.995];
        // scipy.stats.mannwhitneyu(y, x, alternative=..., method='exact'):
        //   statistic 25.0; less 0.974025974025974; greater 0.04112554112554113;
        //   two-sided 0.08225108225108226
        let r = mann_whitney(&x, &y, Alternative::Less).unwrap();
        assert_eq!(r.method, MwMethod::Exact);
        assert_eq!(r.u, 25.0);
        assert!(close(r.p_value, 0.974025974025974, 1e-12));
        let r = mann_whitney(&x, &y, Alternative::Greater).unwrap();
        assert!(close(r.p_value, 0.04112554112554113, 1e-12));
        let r = mann_whitney(&x, &y, Alternative::TwoSided).unwrap();
        assert!(close(r.p_value, 0.08225108225108226, 1e-12));
        // mannwhitneyu([1,2,3], [4,5,6], alternative='less', method='exact') = 0.05:
        // 3 vs 3 can never reach p < 0.05.
        let r = mann_whitney(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0], Alternative::Less).unwrap();
        assert!(close(r.p_value, 0.05, 1e-12));
        // exact distribution sums to C(n1+n2, n1)
        let c = mw_exact_counts(20, 20);
        assert_eq!(c.iter().sum::<f64>(), 137846528820.0);
        assert_eq!(c.len(), 401);
    }

    #[test]
    fn mann_whitney_asymptotic_with_ties_matches_scipy() {
        let x = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0];
        let y = [3.0, 3.0, 4.0, 5.0, 5.0, 6.0, 7.0, 2.0, 8.0];
        // scipy.stats.mannwhitneyu(y, x, alternative=..., method='asymptotic',
        //   use_continuity=True): statistic 53.5; less 0.9604457649155564;
        //   greater 0.048625086298779346; two-sided 0.09725017259755869
        let r = mann_whitney(&x, &y, Alternative::Less).unwrap();
        assert_eq!(r.method, MwMethod::Asymptotic);
        assert_eq!(r.u, 53.5);
        assert!(close(r.p_value, 0.9604457649155564, 1e-10));
        let r = mann_whitney(&x, &y, Alternative::Greater).unwrap();
        assert!(close(r.p_value, 0.048625086298779346, 1e-10));
        let r = mann_whitney(&x, &y, Alternative::TwoSided).unwrap();
        assert!(close(r.p_value, 0.09725017259755869, 1e-10));
        assert!(mann_whitney_with(&x, &y, Alternative::Less, MwMethod::Exact).is_err());
        // all values tied: variance 0 -> p = 1 (documented), no NaN
        let r = mann_whitney(&[1.0, 1.0], &[1.0, 1.0], Alternative::TwoSided).unwrap();
        assert_eq!(r.p_value, 1.0);
        assert!(mann_whitney(&[], &[1.0], Alternative::Less).is_err());
    }

    #[test]
    fn moses_shift_bounds() {
        // Exact 5 vs 5 null distribution (enumerated in Python over all
        // C(10,5) rank sets): smallest u with P(U >= u) <= 0.05 is 21
        // (P = 0.047619...). Bounds are D[25-21] and D[21-1] of the sorted
        // pairwise differences b_j - a_i: 0.03 and 0.40.
        let a = [0.10, 0.25, 0.31, 0.40, 0.52];
        let b = [0.33, 0.47, 0.55, 0.60, 0.71];
        let (lo, hi) = mw_shift_bounds(&a, &b, 0.05).unwrap();
        assert!(close(lo, 0.03, 1e-12), "{lo}");
        assert!(close(hi, 0.40, 1e-12), "{hi}");
        // 3 vs 3 cannot reach alpha = 0.01
        assert!(mw_shift_bounds(&[1.0, 2.0, 3.0], &[1.5, 2.5, 3.5], 0.01).is_err());
    }

    #[test]
    fn binomial_noise() {
        // sqrt(0.94 * 0.06 / 10000) = 0.0023748684174075834
        assert!(close(
            binomial_sd(0.94, 10000).unwrap(),
            0.0023748684174075834,
            1e-15
        ));
        // scipy.stats.norm.ppf(0.95) * sqrt(2) * sqrt(0.94*0.06/10000) = 0.005524357895918426
        assert!(close(
            min_detectable_drop(0.94, 10000, 0.05).unwrap(),
            0.005524357895918426,
            1e-12
        ));
        let se = binomial_diff_se(0.94, 10000, 0.94, 10000).unwrap();
        assert!(close(se, 0.0023748684174075834 * 2f64.sqrt(), 1e-15));
        assert_eq!(binomial_sd(1.0, 100).unwrap(), 0.0);
        assert!(binomial_sd(0.5, 0).is_err());
        assert!(binomial_sd(94.0, 100).is_err());
        assert!(min_detectable_drop(0.9, 100, 0.0).is_err());
    }

    #[test]
    fn spearman_with_ties_matches_scipy() {
        let x = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 8.0];
        let y = [2.0, 1.0, 4.0, 4.0, 6.0, 5.0, 9.0, 7.0];
        // scipy.stats.spearmanr(x, y).statistic = 0.8706358081229184
        assert!(close(spearman(&x, &y).unwrap(), 0.8706358081229184, 1e-12));
        // scipy.stats.rankdata([3,1,4,1,5,9,2,6,5]) = [4, 1.5, 5, 1.5, 6.5, 9, 3, 8, 6.5]
        assert_eq!(
            average_ranks(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0]),
            vec![4.0, 1.5, 5.0, 1.5, 6.5, 9.0, 3.0, 8.0, 6.5]
        );
        assert!(close(
            spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap(),
            -1.0,
            1e-15
        ));
        assert_eq!(
            spearman(&[1.0, 1.0], &[1.0, 2.0]),
            Err(StatsError::ZeroVariance)
        );
        assert!(spearman(&[1.0, 2.0], &[1.0]).is_err());
        assert!(spearman(&[1.0], &[1.0]).is_err());
    }
}
