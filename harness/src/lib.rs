//! harness: a reproducibility benchmarking harness for deep-learning experiments.
//!
//! Flow: suite file → runner → arms (original, manual, tuned, nas) → trainer (tch) →
//! result file (JSON, with the environment record) → report / compare / check.

pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod data;
pub mod env;
pub mod fsutil;
pub mod hpo;
pub mod message;
pub mod models;
pub mod nas;
pub mod panics;
pub mod progress;
pub mod report;
pub mod results;
pub mod shell;
pub mod stats;
pub mod strict_json;
pub mod suite;
pub mod timeutil;
pub mod train;
