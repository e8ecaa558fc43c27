//! DARTS: architecture description, NNI architecture files, derivation from search logits,
//! rendering, and the tch networks (candidate ops, cells, the discrete network, the search
//! supernet, the search loop in first and second order, and the retrain loop).

pub mod archfile;
pub mod cells;
pub mod derive;
pub mod genotype;
pub mod network;
pub mod ops;
pub mod render;
pub mod retrain;
pub mod search;
pub mod show;
pub mod supernet;
pub mod train;
