//! Hyperopt-style Parzen estimators used by TPE: adaptive Gaussian mixtures for numeric
//! parameters (in log space for log types) and smoothed categorical counts.

use rand::Rng;
use rand_distr::StandardNormal;

/// Hyperopt's linear-forgetting horizon (`DEFAULT_LF`).
pub(crate) const LF: usize = 25;

/// Weights for `n` observations in time order: the most recent `LF` weigh 1, older ones ramp
/// linearly from 1/n up (hyperopt `linear_forgetting_weights`).
pub(crate) fn forgetting_weights(n: usize) -> Vec<f64> {
    if n <= LF {
        return vec![1.0; n];
    }
    let m = n - LF;
    let mut w: Vec<f64> = (0..m)
        .map(|i| {
            if m == 1 {
                1.0 / n as f64
            } else {
                1.0 / n as f64 + (1.0 - 1.0 / n as f64) * i as f64 / (m - 1) as f64
            }
        })
        .collect();
    w.extend(std::iter::repeat_n(1.0, LF));
    w
}

/// erf with |error| < 1.2e-7 (Numerical Recipes `erfc` Chebyshev fit).
pub(crate) fn erf(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let ans = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        1.0 - ans
    } else {
        ans - 1.0
    }
}

pub(crate) fn norm_cdf(x: f64) -> f64 {
    0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2))
}

/// Mass of N(mu, sigma²) on [a, b] (infinite bounds allowed).
pub(crate) fn normal_mass(mu: f64, sigma: f64, a: f64, b: f64) -> f64 {
    (norm_cdf((b - mu) / sigma) - norm_cdf((a - mu) / sigma)).max(0.0)
}

/// Density of N(mu, sigma²) at `x`.
pub(crate) fn normal_pdf(mu: f64, sigma: f64, x: f64) -> f64 {
    let z = (x - mu) / sigma;
    (-0.5 * z * z).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt())
}

/// A draw from N(mu, sigma²) truncated to [lo, hi]: rejection, then `mu` clamped as a last
/// resort.
pub(crate) fn truncated_normal(mu: f64, sigma: f64, lo: f64, hi: f64, rng: &mut impl Rng) -> f64 {
    for _ in 0..100 {
        let z: f64 = rng.sample(StandardNormal);
        let x = mu + sigma * z;
        if x >= lo && x <= hi {
            return x;
        }
    }
    mu.clamp(lo, hi)
}

/// Index `i` with probability `weights[i]` (weights summing to 1; rounding leftovers go to
/// the last one).
pub(crate) fn pick_weighted(weights: &[f64], rng: &mut impl Rng) -> usize {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if u < acc {
            return i;
        }
    }
    weights.len() - 1
}

/// A truncated Gaussian mixture in the transformed space.
#[derive(Debug, Clone)]
pub(crate) struct Gmm {
    pub weights: Vec<f64>,
    pub mus: Vec<f64>,
    pub sigmas: Vec<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Gmm {
    /// Hyperopt `adaptive_parzen_normal`: the prior is one component (weight `prior_weight`);
    /// each observation is a component with sigma = the larger gap to its neighbours, clipped
    /// to [prior_sigma / min(100, 1 + n), prior_sigma].
    pub fn adaptive(
        obs: &[f64],
        prior_weight: f64,
        prior_mu: f64,
        prior_sigma: f64,
        low: Option<f64>,
        high: Option<f64>,
    ) -> Gmm {
        let n = obs.len();
        let tw = forgetting_weights(n);
        // (mu, weight, is_prior) sorted by mu; prior inserted at its sorted position
        let mut comps: Vec<(f64, f64, bool)> =
            obs.iter().zip(&tw).map(|(m, w)| (*m, *w, false)).collect();
        comps.sort_by(|a, b| a.0.total_cmp(&b.0));
        let prior_pos = comps.partition_point(|c| c.0 < prior_mu);
        comps.insert(prior_pos, (prior_mu, prior_weight, true));
        let k = comps.len();
        let mut sigmas = vec![prior_sigma; k];
        if n == 1 {
            for (i, c) in comps.iter().enumerate() {
                if !c.2 {
                    sigmas[i] = prior_sigma * 0.5;
                }
            }
        } else if n > 1 {
            for i in 0..k {
                let left = if i > 0 {
                    comps[i].0 - comps[i - 1].0
                } else {
                    f64::NAN
                };
                let right = if i + 1 < k {
                    comps[i + 1].0 - comps[i].0
                } else {
                    f64::NAN
                };
                sigmas[i] = if i == 0 {
                    right
                } else if i + 1 == k {
                    left
                } else {
                    left.max(right)
                };
            }
            let maxs = prior_sigma;
            let mins = prior_sigma / (100.0f64).min(1.0 + k as f64);
            for s in sigmas.iter_mut() {
                *s = s.clamp(mins, maxs);
            }
            sigmas[prior_pos] = prior_sigma;
        }
        let total: f64 = comps.iter().map(|c| c.1).sum();
        Gmm {
            weights: comps.iter().map(|c| c.1 / total).collect(),
            mus: comps.iter().map(|c| c.0).collect(),
            sigmas,
            low,
            high,
        }
    }

    fn mass(&self, i: usize, a: f64, b: f64) -> f64 {
        normal_mass(self.mus[i], self.sigmas[i], a, b)
    }

    /// The truncation bounds, infinite where there are none.
    fn bounds(&self) -> (f64, f64) {
        (
            self.low.unwrap_or(f64::NEG_INFINITY),
            self.high.unwrap_or(f64::INFINITY),
        )
    }

    /// Probability mass the mixture keeps inside the truncation bounds: the one normaliser of
    /// NNI's and hyperopt's truncated mixture (`p_accept` in NNI's `gmm1_lpdf`).
    fn kept(&self) -> f64 {
        let (a, b) = self.bounds();
        (0..self.weights.len())
            .map(|i| self.weights[i] * self.mass(i, a, b))
            .sum::<f64>()
            .max(1e-12)
    }

    /// Draw from the truncated mixture as NNI's `gmm1` does: a component, then a value from
    /// it, redrawing both while the value falls outside the bounds; after `MAX_REDRAWS` the
    /// last component's mean, clamped.
    pub fn sample(&self, rng: &mut impl Rng) -> f64 {
        const MAX_REDRAWS: usize = 100;
        let (lo, hi) = self.bounds();
        let mut idx = 0;
        for _ in 0..MAX_REDRAWS {
            idx = pick_weighted(&self.weights, rng);
            let z: f64 = rng.sample(StandardNormal);
            let x = self.mus[idx] + self.sigmas[idx] * z;
            if x >= lo && x <= hi {
                return x;
            }
        }
        self.mus[idx].clamp(lo, hi)
    }

    /// Log density at `x` (transformed space) of the truncated mixture.
    pub fn log_pdf(&self, x: f64) -> f64 {
        let p: f64 = (0..self.weights.len())
            .map(|i| self.weights[i] * normal_pdf(self.mus[i], self.sigmas[i], x))
            .sum();
        (p / self.kept()).max(1e-300).ln()
    }

    /// Log probability of the interval [a, b] (transformed space), used for q-types.
    pub fn log_mass(&self, a: f64, b: f64) -> f64 {
        let (lo, hi) = self.bounds();
        let (a, b) = (a.max(lo), b.min(hi));
        if b <= a {
            return (1e-300f64).ln();
        }
        let p: f64 = (0..self.weights.len())
            .map(|i| self.weights[i] * self.mass(i, a, b))
            .sum();
        (p / self.kept()).max(1e-300).ln()
    }
}

/// Smoothed categorical estimator over `k` options: p(i) ∝ weighted count(i) + prior_weight
/// (hyperopt `ap_categorical_sampler`). Sparse, so huge randint ranges stay cheap.
#[derive(Debug, Clone)]
pub(crate) struct Categorical {
    k: usize,
    prior_weight: f64,
    counts: Vec<(usize, f64)>,
    total: f64,
}

impl Categorical {
    pub fn new(k: usize, obs: &[usize], prior_weight: f64) -> Categorical {
        let w = forgetting_weights(obs.len());
        let mut counts: Vec<(usize, f64)> = Vec::new();
        for (o, wi) in obs.iter().zip(w) {
            match counts.iter_mut().find(|c| c.0 == *o) {
                Some(c) => c.1 += wi,
                None => counts.push((*o, wi)),
            }
        }
        let total = counts.iter().map(|c| c.1).sum::<f64>() + prior_weight * k as f64;
        Categorical {
            k,
            prior_weight,
            counts,
            total,
        }
    }

    pub fn log_p(&self, i: usize) -> f64 {
        let c = self
            .counts
            .iter()
            .find(|c| c.0 == i)
            .map(|c| c.1)
            .unwrap_or(0.0);
        ((c + self.prior_weight) / self.total).ln()
    }

    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        let u = rng.random::<f64>() * self.total;
        let prior_mass = self.prior_weight * self.k as f64;
        if u < prior_mass {
            return rng.random_range(0..self.k);
        }
        let mut acc = prior_mass;
        for c in &self.counts {
            acc += c.1;
            if u < acc {
                return c.0;
            }
        }
        self.counts.last().map(|c| c.0).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn erf_known_values() {
        assert!((erf(0.0)).abs() < 1e-7);
        assert!((erf(1.0) - 0.842_700_79).abs() < 1e-6);
        assert!((erf(-2.0) + 0.995_322_27).abs() < 1e-6);
        assert!((norm_cdf(1.959_964) - 0.975).abs() < 1e-6);
    }

    #[test]
    fn forgetting_ramp() {
        assert_eq!(forgetting_weights(3), vec![1.0; 3]);
        let w = forgetting_weights(30);
        assert_eq!(w.len(), 30);
        assert!((w[0] - 1.0 / 30.0).abs() < 1e-12);
        assert!(w[..5].windows(2).all(|p| p[0] < p[1]));
        assert!(w[5..].iter().all(|x| *x == 1.0));
    }

    #[test]
    fn gmm_concentrates_on_observations() {
        let g = Gmm::adaptive(&[0.3, 0.31, 0.29, 0.3], 1.0, 0.5, 1.0, Some(0.0), Some(1.0));
        assert!(g.log_pdf(0.3) > g.log_pdf(0.9));
        let kk = (g.weights.iter().sum::<f64>() - 1.0).abs();
        assert!(kk < 1e-12);
    }

    /// NNI's `gmm1_lpdf`: the mixture truncated as a whole, one normaliser — the density
    /// integrates to 1 on [low, high], and a component's share of the density is its weight
    /// (a component cut in half by a bound is not doubled, as truncating each one would).
    #[test]
    fn the_mixture_is_truncated_as_a_whole_as_nni_does() {
        let g = Gmm {
            weights: vec![0.5, 0.5],
            mus: vec![0.0, 0.5],
            sigmas: vec![0.05, 0.05],
            low: Some(0.0),
            high: Some(1.0),
        };
        let n = 100_000;
        let dx = 1.0 / n as f64;
        let integral: f64 = (0..n)
            .map(|i| g.log_pdf((i as f64 + 0.5) * dx).exp() * dx)
            .sum();
        assert!((integral - 1.0).abs() < 1e-6, "{integral}");
        // The component at the bound keeps half its mass: the mixture keeps 3/4, so the
        // interior peak's density is 0.5 · φ(0) / 0.05 / 0.75 (per-component truncation
        // would give 0.5 · φ(0) / 0.05 / (2/3 of the total) instead).
        let peak = 0.5 * normal_pdf(0.5, 0.05, 0.5) / 0.75;
        // (erf here is accurate to about 1e-7.)
        assert!((g.log_pdf(0.5).exp() / peak - 1.0).abs() < 1e-6);
        assert!((g.log_mass(0.0, 1.0).exp() - 1.0).abs() < 1e-6);
        // Draws stay in the bounds; about a third come from the component at the bound.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let draws: Vec<f64> = (0..20_000).map(|_| g.sample(&mut rng)).collect();
        assert!(draws.iter().all(|x| (0.0..=1.0).contains(x)));
        let near_zero = draws.iter().filter(|x| **x < 0.25).count() as f64 / 20_000.0;
        assert!((near_zero - 1.0 / 3.0).abs() < 0.02, "{near_zero}");
    }

    #[test]
    fn categorical_prefers_counted() {
        let c = Categorical::new(3, &[2, 2, 2, 0], 1.0);
        assert!(c.log_p(2) > c.log_p(0) && c.log_p(0) > c.log_p(1));
        let p: f64 = (0..3).map(|i| c.log_p(i).exp()).sum();
        assert!((p - 1.0).abs() < 1e-12);
    }
}
