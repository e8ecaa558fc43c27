//! Result files: one JSON file per run of a suite on a machine. This is the only thing the
//! report, `compare` and `check` read, so a report can be rendered from files copied off
//! several machines.

mod legacy;
mod schema;
mod store;
mod validate;
pub use validate::{problem, run_problem};

pub use schema::*;
pub use store::{parse_result, read_complete_result, read_result, ResultError, ResultWriter};
