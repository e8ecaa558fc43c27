//! Training in tch: one recipe, one dataset, one seed → per-epoch metrics.
//!
//! The trainer knows nothing of suites or tuners: it gets a [`Recipe`] and reports every epoch
//! to a callback, which may ask it to stop (early stopping, Ctrl-C).

mod metrics;
pub(crate) mod optim;
pub(crate) mod ranges;
mod recipe;
pub mod schedule;
mod trainer;

pub use metrics::{EpochRecord, RunOutcome};
pub use optim::OptimizerKind;
pub use recipe::{
    fmt_num, AugmentKind, Recipe, RecipeError, ReportedAccuracy, ScheduleKind, Style,
};
pub use trainer::{run_fingerprint, train, Control, TrainOptions};
