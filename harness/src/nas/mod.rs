//! DARTS architecture description, NNI architecture files, derivation from search logits and
//! rendering (pure Rust; the tch networks live elsewhere).

pub mod archfile;
pub mod derive;
pub mod genotype;
pub mod render;
