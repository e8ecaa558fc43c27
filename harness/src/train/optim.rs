//! Optimizers with PyTorch's semantics (weight decay as L2 added to the gradient).
//!
//! Our own implementation rather than libtorch's C++ optimizers, whose state (momentum and
//! moment buffers) tch cannot read or write: an epoch checkpoint needs it so that a resumed
//! run continues bit for bit.
use serde::{Deserialize, Serialize};
use tch::Tensor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Sgd,
    Adam,
    Rmsprop,
}

impl OptimizerKind {
    pub const NAMES: [&'static str; 3] = ["sgd", "adam", "rmsprop"];

    /// How many tensors of state the optimizer keeps per parameter (momentum, moments).
    pub fn state_slots(self, momentum: f64) -> usize {
        match self {
            OptimizerKind::Sgd if momentum == 0.0 => 0,
            OptimizerKind::Sgd => 1,
            OptimizerKind::Adam => 2,
            OptimizerKind::Rmsprop if momentum == 0.0 => 1,
            OptimizerKind::Rmsprop => 2,
        }
    }

    /// The optimizer over `params` (in a fixed order: checkpoints name state by position).
    pub fn build(
        self,
        params: Vec<Tensor>,
        momentum: f64,
        nesterov: bool,
        weight_decay: f64,
    ) -> Optimizer {
        let state = (0..self.state_slots(momentum))
            .map(|_| params.iter().map(|p| p.detach().zeros_like()).collect())
            .collect();
        Optimizer {
            kind: self,
            params,
            momentum,
            nesterov,
            weight_decay,
            state,
            steps: 0,
        }
    }
}

/// PyTorch's Adam defaults.
pub(crate) const ADAM_BETAS: (f64, f64) = (0.9, 0.999);
pub(crate) const ADAM_EPS: f64 = 1e-8;

/// `torch.optim.SGD`'s step direction for one parameter with momentum `mu` (dampening 0):
/// updates the momentum buffer in place; the parameter moves by `-lr ·` the result. `g`
/// already holds the L2 weight decay.
pub(crate) fn sgd_direction(g: &Tensor, buf: &mut Tensor, mu: f64, nesterov: bool) -> Tensor {
    *buf *= mu;
    *buf += g;
    if nesterov {
        g + &*buf * mu
    } else {
        buf.shallow_clone()
    }
}

/// `torch.optim.Adam`'s step direction for one parameter (not AdamW: `g` already holds the L2
/// weight decay) at step `step` (from 1): updates both moment estimates in place; the
/// parameter moves by `-lr ·` the result.
pub(crate) fn adam_direction(
    g: &Tensor,
    m: &mut Tensor,
    v: &mut Tensor,
    step: i64,
    (b1, b2): (f64, f64),
    eps: f64,
) -> Tensor {
    let bc1 = 1.0 - b1.powi(step as i32);
    let bc2 = 1.0 - b2.powi(step as i32);
    *m *= b1;
    *m += g * (1.0 - b1);
    *v *= b2;
    *v += g.square() * (1.0 - b2);
    let denom = v.sqrt() / bc2.sqrt() + eps;
    &*m / denom / bc1
}

/// Mutable access to parameter `i`'s buffers in state slots 0 and 1.
fn two_slots(state: &mut [Vec<Tensor>], i: usize) -> (&mut Tensor, &mut Tensor) {
    let (first, rest) = state.split_at_mut(1);
    (&mut first[0][i], &mut rest[0][i])
}

/// SGD (momentum, Nesterov), Adam (betas 0.9/0.999, eps 1e-8; like the lab's code it ignores
/// `momentum`) or RMSprop (alpha 0.99, eps 1e-8, not centred): PyTorch's defaults and update
/// formulas. Parameters without a gradient are skipped, as in PyTorch.
#[derive(Debug)]
pub struct Optimizer {
    kind: OptimizerKind,
    params: Vec<Tensor>,
    momentum: f64,
    nesterov: bool,
    weight_decay: f64,
    /// Per-parameter buffers: SGD [momentum]; Adam [exp_avg, exp_avg_sq];
    /// RMSprop [square_avg, (momentum)]. Zeros before the first step, which equals
    /// PyTorch's lazy initialisation.
    state: Vec<Vec<Tensor>>,
    /// Steps taken (Adam's bias correction).
    steps: i64,
}

impl Optimizer {
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            p.zero_grad();
        }
    }

    /// `torch.nn.utils.clip_grad_norm_`: scales the gradients by max/(norm + 1e-6) when their
    /// global L2 norm exceeds `max`. Returns the norm before clipping.
    pub fn clip_grad_norm(&mut self, max: f64) -> f64 {
        let grads: Vec<Tensor> = self
            .params
            .iter()
            .map(|p| p.grad())
            .filter(|g| g.defined())
            .collect();
        let norm = crate::nas::train::global_norm(&grads);
        let coef = max / (norm + 1e-6);
        if coef < 1.0 {
            tch::no_grad(|| {
                for mut g in grads {
                    g *= coef;
                }
            });
        }
        norm
    }

    /// One update with the gradients accumulated in the parameters.
    pub fn step(&mut self, lr: f64) {
        self.steps += 1;
        let (mu, wd) = (self.momentum, self.weight_decay);
        tch::no_grad(|| {
            for i in 0..self.params.len() {
                let mut p = self.params[i].shallow_clone();
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let g = if wd != 0.0 { &g + &p * wd } else { g };
                let update = match self.kind {
                    OptimizerKind::Sgd if mu == 0.0 => g,
                    OptimizerKind::Sgd => {
                        sgd_direction(&g, &mut self.state[0][i], mu, self.nesterov)
                    }
                    OptimizerKind::Adam => {
                        let (m, v) = two_slots(&mut self.state, i);
                        adam_direction(&g, m, v, self.steps, ADAM_BETAS, ADAM_EPS)
                    }
                    OptimizerKind::Rmsprop => {
                        let (alpha, eps) = (0.99, 1e-8);
                        let sq = &mut self.state[0][i];
                        *sq *= alpha;
                        *sq += g.square() * (1.0 - alpha);
                        let avg = sq.sqrt() + eps;
                        if mu == 0.0 {
                            g / avg
                        } else {
                            let buf = &mut self.state[1][i];
                            *buf *= mu;
                            *buf += g / avg;
                            buf.shallow_clone()
                        }
                    }
                };
                p -= update * lr;
            }
        });
    }

    /// The state to checkpoint: (slot, parameter index, buffer) and the step count.
    pub fn state(&self) -> (Vec<(String, Tensor)>, i64) {
        let mut out = Vec::new();
        for (s, slot) in self.state.iter().enumerate() {
            for (i, t) in slot.iter().enumerate() {
                out.push((format!("optim.{s}.{i}"), t.shallow_clone()));
            }
        }
        (out, self.steps)
    }

    /// Restores what [`Optimizer::state`] returned (`lookup` finds a tensor by name).
    pub fn load_state(
        &mut self,
        lookup: &dyn Fn(&str) -> anyhow::Result<Tensor>,
        steps: i64,
    ) -> anyhow::Result<()> {
        tch::no_grad(|| -> anyhow::Result<()> {
            for (s, slot) in self.state.iter_mut().enumerate() {
                for (i, t) in slot.iter_mut().enumerate() {
                    let src = lookup(&format!("optim.{s}.{i}"))?;
                    t.copy_(&src.to_kind(t.kind()).to_device(t.device()));
                }
            }
            Ok(())
        })?;
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    fn param(values: &[f64]) -> Tensor {
        Tensor::from_slice(values).set_requires_grad(true)
    }

    fn set_grad(p: &Tensor, g: &[f64]) {
        let mut grad = p.grad();
        if !grad.defined() {
            (p * 0.0).sum(Kind::Double).backward();
            grad = p.grad();
        }
        tch::no_grad(|| grad.copy_(&Tensor::from_slice(g)));
    }

    fn values(p: &Tensor) -> Vec<f64> {
        Vec::try_from(p.detach()).unwrap()
    }

    #[test]
    fn sgd_momentum_and_weight_decay_follow_pytorch() {
        let p = param(&[1.0, -2.0]);
        let mut opt = OptimizerKind::Sgd.build(vec![p.shallow_clone()], 0.9, false, 0.1);
        set_grad(&p, &[0.5, 0.5]);
        opt.step(0.1);
        // d = g + 0.1 p = [0.6, 0.3]; buf = d; p -= 0.1 d
        let v = values(&p);
        assert!((v[0] - 0.94).abs() < 1e-12 && (v[1] + 2.03).abs() < 1e-12);
        set_grad(&p, &[0.5, 0.5]);
        opt.step(0.1);
        // d = [0.5 + 0.094, 0.5 - 0.203]; buf = 0.9 [0.6, 0.3] + d
        let v = values(&p);
        assert!((v[0] - (0.94 - 0.1 * (0.54 + 0.594))).abs() < 1e-12);
        assert!((v[1] - (-2.03 - 0.1 * (0.27 + 0.297))).abs() < 1e-12);
    }

    #[test]
    fn nesterov_adds_the_momentum_term_to_the_gradient() {
        let p = param(&[0.0]);
        let mut opt = OptimizerKind::Sgd.build(vec![p.shallow_clone()], 0.5, true, 0.0);
        set_grad(&p, &[1.0]);
        opt.step(1.0); // buf = 1; update = 1 + 0.5·1
        assert!((values(&p)[0] + 1.5).abs() < 1e-12);
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // Bias-corrected first step: m̂ = g, v̂ = g², update = lr·g/(|g| + eps).
        let p = param(&[1.0, 1.0]);
        let mut opt = OptimizerKind::Adam.build(vec![p.shallow_clone()], 0.0, false, 0.0);
        set_grad(&p, &[3.0, -0.5]);
        opt.step(0.01);
        let v = values(&p);
        assert!((v[0] - 0.99).abs() < 1e-9 && (v[1] - 1.01).abs() < 1e-9);
    }

    #[test]
    fn rmsprop_first_step() {
        // square_avg = 0.01 g²; update = lr·g/(0.1|g| + eps) = 10·lr·sign(g).
        let p = param(&[0.0]);
        let mut opt = OptimizerKind::Rmsprop.build(vec![p.shallow_clone()], 0.0, false, 0.0);
        set_grad(&p, &[2.0]);
        opt.step(0.001);
        assert!((values(&p)[0] + 0.01).abs() < 1e-9);
    }

    #[test]
    fn state_round_trips() {
        let p = param(&[1.0, 2.0]);
        let mut a = OptimizerKind::Adam.build(vec![p.shallow_clone()], 0.0, false, 0.0);
        set_grad(&p, &[1.0, -1.0]);
        a.step(0.1);
        let (named, steps) = a.state();
        let q = param(&[1.0, 2.0]);
        let mut b = OptimizerKind::Adam.build(vec![q.shallow_clone()], 0.0, false, 0.0);
        let lookup = |name: &str| {
            named
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.shallow_clone())
                .ok_or_else(|| anyhow::anyhow!("no {name}"))
        };
        b.load_state(&lookup, steps).unwrap();
        assert_eq!(b.steps, 1);
        for (x, y) in a.state.iter().flatten().zip(b.state.iter().flatten()) {
            assert!(x.equal(y));
        }
    }
}
