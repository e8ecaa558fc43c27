//! Descriptive statistics: mean, sample standard deviation (n − 1), standard
//! error of the mean and a serialisable [`Summary`].

use serde::{Deserialize, Serialize};

/// Arithmetic mean; `None` for an empty slice.
pub fn mean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        None
    } else {
        Some(xs.iter().sum::<f64>() / xs.len() as f64)
    }
}

/// Whether every value equals the first (true for an empty slice): zero spread exactly,
/// where [`variance`] may leave a rounding residue (three runs of 0.97: about 1e-32).
pub fn all_equal(xs: &[f64]) -> bool {
    xs.iter().all(|x| Some(x) == xs.first())
}

/// Unbiased sample variance (divisor n − 1); `None` when n < 2.
pub fn variance(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    Some(ss / (xs.len() - 1) as f64)
}

/// Sample standard deviation (divisor n − 1); `None` when n < 2.
pub fn std_dev(xs: &[f64]) -> Option<f64> {
    variance(xs).map(f64::sqrt)
}

/// Standard error of the mean, `std_dev / sqrt(n)`; `None` when n < 2.
pub fn std_err(xs: &[f64]) -> Option<f64> {
    std_dev(xs).map(|s| s / (xs.len() as f64).sqrt())
}

/// Summary of one sample (e.g. the final accuracies of the seeds of one arm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of observations.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1). Reported as `0.0` when `n == 1`
    /// (undefined, but kept finite so the summary serialises to valid JSON).
    pub std: f64,
    /// Smallest observation.
    pub min: f64,
    /// Largest observation.
    pub max: f64,
}

impl Summary {
    /// Summarises `xs`; `None` when `xs` is empty or contains NaN/infinite values.
    pub fn from_slice(xs: &[f64]) -> Option<Summary> {
        if xs.is_empty() || !xs.iter().all(|x| x.is_finite()) {
            return None;
        }
        Some(Summary {
            n: xs.len(),
            mean: mean(xs)?,
            std: std_dev(xs).unwrap_or(0.0),
            min: xs.iter().copied().fold(f64::INFINITY, f64::min),
            max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// Standard error of the mean (`0.0` when `n == 1`).
    pub fn std_err(&self) -> f64 {
        self.std / (self.n as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_values() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&xs), Some(5.0));
        // numpy.var(xs, ddof=1) = 4.571428571428571
        assert!((variance(&xs).unwrap() - 4.571428571428571).abs() < 1e-12);
        assert!((std_dev(&xs).unwrap() - 4.571428571428571f64.sqrt()).abs() < 1e-12);
        assert!((std_err(&xs).unwrap() - (4.571428571428571f64 / 8.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(mean(&[]), None);
        assert_eq!(std_dev(&[1.0]), None);
        assert_eq!(std_err(&[]), None);
        assert!(Summary::from_slice(&[]).is_none());
        assert!(Summary::from_slice(&[1.0, f64::NAN]).is_none());
        let s = Summary::from_slice(&[0.97]).unwrap();
        assert_eq!(
            (s.n, s.mean, s.std, s.min, s.max),
            (1, 0.97, 0.0, 0.97, 0.97)
        );
        assert_eq!(s.std_err(), 0.0);
    }

    #[test]
    fn summary_roundtrip() {
        let s = Summary::from_slice(&[0.96, 0.97, 0.98]).unwrap();
        assert_eq!((s.min, s.max, s.n), (0.96, 0.98, 3));
        assert!((s.std - 0.01).abs() < 1e-12);
        let json = serde_json::to_string(&s).unwrap();
        let back: Summary = serde_json::from_str(&json).unwrap();
        assert_eq!(back.n, s.n);
        for (x, y) in [
            (back.mean, s.mean),
            (back.std, s.std),
            (back.min, s.min),
            (back.max, s.max),
        ] {
            assert!((x - y).abs() < 1e-15);
        }
    }
}
