//! Optimizers with PyTorch's semantics (weight decay as L2 added to the gradient).
use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Sgd,
    Adam,
    Rmsprop,
}

impl OptimizerKind {
    pub const NAMES: [&'static str; 3] = ["sgd", "adam", "rmsprop"];

    pub fn build(
        self,
        vs: &nn::VarStore,
        lr: f64,
        momentum: f64,
        nesterov: bool,
        weight_decay: f64,
    ) -> Result<nn::Optimizer, tch::TchError> {
        match self {
            OptimizerKind::Sgd => nn::sgd(momentum, 0.0, weight_decay, nesterov).build(vs, lr),
            // Like the lab's code: Adam ignores momentum; PyTorch's default betas and eps.
            OptimizerKind::Adam => nn::adam(0.9, 0.999, weight_decay).build(vs, lr),
            // PyTorch's RMSprop defaults: alpha 0.99, eps 1e-8, not centred.
            OptimizerKind::Rmsprop => {
                nn::rms_prop(0.99, 1e-8, weight_decay, momentum, false).build(vs, lr)
            }
        }
    }
}
