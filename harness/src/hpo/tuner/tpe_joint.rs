//! Multivariate TPE (`multivariate = true`): the parameters of one level of the space are
//! modelled jointly, as Optuna's `TPESampler(multivariate=True)` (after Falkner et al., BOHB,
//! ICML 2018) does, instead of one independent estimator per parameter.
//!
//! l(x) and g(x) are mixtures with one *product* kernel per observation (and the prior as one
//! more component): a candidate is drawn by picking an observation and perturbing every
//! parameter around it at once, so it keeps the combinations that made the good trials good
//! (e.g. Adam with a small learning rate, SGD with a large one), which per-parameter
//! estimators mix up. Kernels, as Optuna's:
//! * numeric: a Gaussian in the transformed space (log space for log types) with bandwidth
//!   0.2 · n^(−1/(d+4)) · (high − low) (Scott's rule; unbounded types use their sigma),
//!   truncated to the bounds; q-types score the mass of their rounding bin; the prior
//!   component is the univariate prior;
//! * categorical (choice, randint): the observed option gets 1 + ε and every option ε,
//!   normalised, with ε = prior_weight / (n + 1); the prior component is uniform.
//!
//! Conditional parameters are handled as Optuna's `group` decomposition does for a tree: one
//! joint model per level of the tree, over the records where that level was active; a nested
//! choice's parameters are chosen by a joint model of their own once their option is chosen.

use crate::hpo::parzen::{
    forgetting_weights, normal_mass, normal_pdf, pick_weighted, truncated_normal,
};
use crate::hpo::space::{Dist, NodeVal, NumInfo, Param};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One parameter of the level, as the kernels see it.
enum Dim {
    Num(NumInfo),
    /// A choice or a randint with `k` options (values are option indices).
    Cat(usize),
}

impl Dim {
    fn of(p: &Param) -> Dim {
        match &p.dist {
            Dist::Choice(opts) => Dim::Cat(opts.len()),
            Dist::RandInt { lower, upper } => Dim::Cat((upper - lower) as usize),
            d => Dim::Num(d.numeric().expect("every other type is numeric")),
        }
    }
}

/// A value in the kernels' space: transformed number, or option index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Point {
    Num(f64),
    Cat(usize),
}

/// A product-kernel Parzen estimator over the parameters of one level.
pub(crate) struct JointParzen {
    dims: Vec<Dim>,
    /// Observations (in time order) in the kernels' space.
    centers: Vec<Vec<Point>>,
    /// Weight of each observation, then of the prior (last); they sum to 1.
    weights: Vec<f64>,
    /// Numeric bandwidth per dimension (unused for categorical ones).
    sigma: Vec<f64>,
    /// Categorical smoothing ε.
    eps: f64,
}

impl JointParzen {
    /// `obs`: the values of `params` of each observed trial, in time order.
    pub fn new(params: &[Param], obs: &[Vec<NodeVal>], prior_weight: f64) -> Self {
        let dims: Vec<Dim> = params.iter().map(Dim::of).collect();
        let centers: Vec<Vec<Point>> = obs
            .iter()
            .map(|vals| {
                vals.iter()
                    .zip(&dims)
                    .map(|(v, d)| match (v, d) {
                        (NodeVal::Num(x), Dim::Num(n)) => Point::Num(n.transform(*x)),
                        (NodeVal::Index(i), _) => Point::Cat(*i),
                        (NodeVal::Num(_), Dim::Cat(_)) => Point::Cat(0),
                    })
                    .collect()
            })
            .collect();
        let n = centers.len();
        let mut w = forgetting_weights(n);
        w.push(prior_weight);
        let total: f64 = w.iter().sum();
        let weights = w.iter().map(|x| x / total).collect();
        let scale = 0.2 * (n.max(1) as f64).powf(-1.0 / (dims.len() as f64 + 4.0));
        let sigma = dims
            .iter()
            .map(|d| match d {
                Dim::Num(n) => match (n.low, n.high) {
                    (Some(lo), Some(hi)) => scale * (hi - lo),
                    _ => scale * n.prior_sigma,
                },
                Dim::Cat(_) => 0.0,
            })
            .collect();
        JointParzen {
            dims,
            centers,
            weights,
            sigma,
            eps: prior_weight / (n as f64 + 1.0),
        }
    }

    /// (mu, sigma) of dimension `d` in component `c` (the last component is the prior).
    fn gaussian(&self, c: usize, d: usize, n: &NumInfo) -> (f64, f64) {
        match self.centers.get(c).map(|x| x[d]) {
            Some(Point::Num(mu)) => (mu, self.sigma[d]),
            _ => (n.prior_mu, n.prior_sigma),
        }
    }

    /// Probability of option `i` of a `k`-option dimension `d` in component `c`.
    fn cat_p(&self, c: usize, d: usize, k: usize, i: usize) -> f64 {
        match self.centers.get(c).map(|x| x[d]) {
            Some(Point::Cat(o)) => {
                let hit = if o == i { 1.0 } else { 0.0 };
                (hit + self.eps) / (1.0 + k as f64 * self.eps)
            }
            _ => 1.0 / k as f64,
        }
    }

    /// A joint draw: a component by weight, then every dimension from its kernel. Numbers are
    /// returned finalised (rounded, clipped) in the original space.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> Vec<Point> {
        // The prior is the last component: it has no center, so its kernels are the priors.
        let c = pick_weighted(&self.weights, rng);
        (0..self.dims.len())
            .map(|d| match &self.dims[d] {
                Dim::Cat(k) => match self.centers.get(c).map(|x| x[d]) {
                    Some(Point::Cat(o))
                        if rng.random::<f64>() < 1.0 / (1.0 + *k as f64 * self.eps) =>
                    {
                        Point::Cat(o)
                    }
                    _ => Point::Cat(rng.random_range(0..*k)),
                },
                Dim::Num(n) => {
                    let (mu, s) = self.gaussian(c, d, n);
                    let (lo, hi) = n.bounds();
                    Point::Num(n.finalize(truncated_normal(mu, s, lo, hi, rng)))
                }
            })
            .collect()
    }

    /// log density (q-types and categorical: log probability) of a finalised draw.
    pub fn log_density(&self, x: &[Point]) -> f64 {
        let terms: Vec<f64> = self
            .weights
            .iter()
            .enumerate()
            .map(|(c, w)| {
                let mut s = w.ln();
                for (d, v) in x.iter().enumerate() {
                    s += match (&self.dims[d], v) {
                        (Dim::Cat(k), Point::Cat(i)) => self.cat_p(c, d, *k, *i).ln(),
                        (Dim::Num(n), Point::Num(v)) => {
                            let (mu, sigma) = self.gaussian(c, d, n);
                            num_log_density(mu, sigma, n, *v)
                        }
                        _ => f64::NEG_INFINITY,
                    };
                }
                s
            })
            .collect();
        log_sum_exp(&terms)
    }
}

fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// log of the truncated Gaussian's density at original-space value `v` (q-types: the mass of
/// its rounding bin, as the univariate estimator scores them).
fn num_log_density(mu: f64, sigma: f64, n: &NumInfo, v: f64) -> f64 {
    let (lo, hi) = n.bounds();
    let kept = normal_mass(mu, sigma, lo, hi).max(1e-12);
    let p = match n.rounding_bin(v) {
        None => normal_pdf(mu, sigma, n.transform(v)),
        Some((a, b)) => {
            let (a, b) = (a.max(lo), b.min(hi));
            if b <= a {
                0.0
            } else {
                normal_mass(mu, sigma, a, b)
            }
        }
    };
    (p / kept).max(1e-300).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpo::space::SearchSpace;
    use rand::SeedableRng;

    fn params(json: &str) -> Vec<Param> {
        SearchSpace::from_json_str(json, "s.json").unwrap().params
    }

    #[test]
    fn draws_keep_the_combinations_of_the_observations() {
        // Two observations: (option 0, x = 0.9) and (option 1, x = 0.1). A joint draw from an
        // observation keeps its pair; independent estimators would mix them half the time.
        let ps = params(
            r#"{"o": {"_type": "choice", "_value": ["a", "b"]},
                "x": {"_type": "uniform", "_value": [0, 1]}}"#,
        );
        let obs = vec![
            vec![NodeVal::Index(0), NodeVal::Num(0.9)],
            vec![NodeVal::Index(1), NodeVal::Num(0.1)],
        ];
        let j = JointParzen::new(&ps, &obs, 0.01);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let (mut kept, mut n) = (0, 0);
        for _ in 0..2000 {
            let x = j.sample(&mut rng);
            if let [Point::Cat(o), Point::Num(v)] = x[..] {
                n += 1;
                if (o == 0) == (v > 0.5) {
                    kept += 1;
                }
            }
        }
        assert!(
            kept as f64 > 0.85 * n as f64,
            "{kept}/{n} draws keep their pair"
        );
        // The density agrees: an observed pair is far likelier than a mixed one.
        let pair = j.log_density(&[Point::Cat(0), Point::Num(0.9)]);
        let mixed = j.log_density(&[Point::Cat(0), Point::Num(0.1)]);
        assert!(pair > mixed + 1.0, "pair {pair} mixed {mixed}");
    }

    #[test]
    fn densities_integrate_to_one() {
        let ps = params(
            r#"{"k": {"_type": "randint", "_value": [0, 3]},
                "x": {"_type": "loguniform", "_value": [0.01, 1]},
                "q": {"_type": "quniform", "_value": [0, 1, 0.25]}}"#,
        );
        let obs = vec![
            vec![NodeVal::Index(2), NodeVal::Num(0.02), NodeVal::Num(0.25)],
            vec![NodeVal::Index(0), NodeVal::Num(0.5), NodeVal::Num(1.0)],
        ];
        let j = JointParzen::new(&ps, &obs, 1.0);
        // Sum over k and the q grid, integrate over log x (the density is in log space).
        let (lo, hi) = (0.01f64.ln(), 1f64.ln());
        let steps = 4000;
        let h = (hi - lo) / steps as f64;
        let mut total = 0.0;
        for k in 0..3 {
            for q in [0.0, 0.25, 0.5, 0.75, 1.0] {
                for s in 0..steps {
                    let t = lo + (s as f64 + 0.5) * h;
                    let x = [Point::Cat(k), Point::Num(t.exp()), Point::Num(q)];
                    total += j.log_density(&x).exp() * h;
                }
            }
        }
        assert!((total - 1.0).abs() < 1e-3, "{total}");
    }

    #[test]
    fn draws_stay_in_bounds_and_on_the_grid() {
        let ps = params(
            r#"{"x": {"_type": "qloguniform", "_value": [1, 100, 1]},
                "k": {"_type": "randint", "_value": [5, 9]}}"#,
        );
        let obs = vec![vec![NodeVal::Num(100.0), NodeVal::Index(3)]];
        let j = JointParzen::new(&ps, &obs, 1.0);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..500 {
            match j.sample(&mut rng)[..] {
                [Point::Num(x), Point::Cat(k)] => {
                    assert!((1.0..=100.0).contains(&x) && x.fract() == 0.0, "{x}");
                    assert!(k < 4, "{k}");
                }
                ref other => panic!("{other:?}"),
            }
        }
    }
}
