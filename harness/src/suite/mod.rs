//! Suite files (TOML): a fixed, versioned set of arms trained on one dataset over a list of
//! seeds, and the runner that executes them.

mod file;
pub mod runner;

pub use file::{ArmKind, ArmSpec, LoadedSuite, SuiteError, SuiteFile, SuiteMeta};
