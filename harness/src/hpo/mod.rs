//! HPO core: NNI search spaces, tuners, assessors (early stopping) and the experiment loop.
//!
//! Everything random uses `rand_chacha::ChaCha8Rng` seeded explicitly; nothing reads
//! `thread_rng`. The crate relies on serde_json's `preserve_order` feature so a search space
//! keeps the key order of its file.

pub mod assessor;
pub mod experiment;
pub(crate) mod opts;
pub(crate) mod parzen;
pub mod rank;
pub mod space;
pub mod tuner;

pub use assessor::{
    build_assessor, canonical_assessor_name, check_can_stop, Assessor, Decision, ASSESSOR_NAMES,
};
pub use experiment::{
    best_trial_of, now_rfc3339, run_experiment, run_experiment_resumable, Abort, Cost,
    ExperimentConfig, ExperimentOutcome, StopReason, Trial, TrialContext, TrialOutput, TrialStatus,
};
pub use rank::spearman;
pub use space::{ParamKind, ParamSpec, Params, SearchSpace, SpaceError};
pub use tuner::{build_tuner, canonical_tuner_name, Direction, RandomTuner, Tuner, TUNER_NAMES};

/// Errors from building a tuner or assessor by name.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum BuildError {
    #[error("unknown tuner \"{name}\" (valid: {})", valid.join(", "))]
    UnknownTuner { name: String, valid: Vec<String> },
    #[error("unknown assessor \"{name}\" (valid: {})", valid.join(", "))]
    UnknownAssessor { name: String, valid: Vec<String> },
    #[error("{component}: option \"{key}\": {reason}")]
    BadOption {
        component: String,
        key: String,
        reason: String,
    },
    #[error("{component}: the options must be a table of names and values, e.g. {{ option = 1 }}, got {got}")]
    NotATable { component: String, got: String },
    #[error("{component}: unknown option(s) {keys} (valid: {valid})")]
    UnknownOption {
        component: String,
        keys: String,
        valid: String,
    },
}
