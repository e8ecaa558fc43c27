//! Statistics for the reproducibility harness: descriptive statistics,
//! hypothesis tests, the CI regression gate and cross-machine comparisons.
//!
//! * [`describe`] — mean, sample standard deviation, standard error, [`describe::Summary`].
//! * [`hypothesis`] — Welch's t-test, Mann–Whitney U, binomial noise floor of a
//!   test-set accuracy, Spearman rank correlation, distribution helpers.
//! * [`gate`] — the Pass / Fail / Inconclusive regression decision for one arm.
//! * [`compare`] — two-sided difference-of-means estimates for comparison tables.
//!
//! Everything is pure Rust; `statrs` provides the Student-t and normal
//! distributions.

pub mod compare;
pub mod describe;
pub mod gate;
pub mod hypothesis;

use std::fmt;

/// Errors returned by the fallible functions of this module.
#[derive(Debug, Clone, PartialEq)]
pub enum StatsError {
    /// An input sample was empty.
    Empty,
    /// A sample had fewer observations than the method needs.
    TooFewSamples { needed: usize, got: usize },
    /// An input contained NaN or an infinite value.
    NonFinite,
    /// Two paired inputs had different lengths.
    LengthMismatch { left: usize, right: usize },
    /// A quantity needed by the method is zero (e.g. a constant sample for a correlation).
    ZeroVariance,
    /// A parameter was outside its valid range; the text says which.
    InvalidParameter(&'static str),
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::Empty => write!(f, "empty sample"),
            StatsError::TooFewSamples { needed, got } => {
                write!(f, "too few observations: need at least {needed}, got {got}")
            }
            StatsError::NonFinite => write!(f, "sample contains NaN or infinite values"),
            StatsError::LengthMismatch { left, right } => {
                write!(f, "length mismatch: {left} vs {right}")
            }
            StatsError::ZeroVariance => write!(f, "sample has zero variance"),
            StatsError::InvalidParameter(what) => write!(f, "invalid parameter: {what}"),
        }
    }
}

impl std::error::Error for StatsError {}

/// Returns `Err(NonFinite)` if any value is NaN or infinite.
pub(crate) fn check_finite(xs: &[f64]) -> Result<(), StatsError> {
    if xs.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(StatsError::NonFinite)
    }
}
