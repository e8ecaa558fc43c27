//! Suite files (TOML): a fixed, versioned set of arms trained on one dataset over a list of
//! seeds, and the runner that executes them.

mod file;
pub mod journal;
pub mod nas;
pub mod runner;
pub mod tuned;

pub use file::{
    repeated_seed, tolerance_problem, ArmKind, ArmSpec, HpoSpec, LoadedSuite, SuiteError,
    SuiteFile, SuiteMeta, TunedArmSpec,
};
