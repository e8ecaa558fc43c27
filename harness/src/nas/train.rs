//! Training utilities shared by search and retrain: a seeded batch order, SGD with
//! momentum and Adam over explicit gradient lists (the second-order search reads the momentum
//! buffers; the update formulas are the trainer's, `train::optim`), gradient clipping and the
//! cosine schedule.

use crate::train::optim::{adam_direction, sgd_direction};
use tch::{Kind, Tensor};

/// SplitMix64: a tiny deterministic generator for batch orders (device independent).
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Fisher–Yates shuffle of `items`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// Shuffled batches of `indices` (the last partial batch is kept).
pub fn batches(rng: &mut SplitMix64, indices: &[i64], batch_size: usize) -> Vec<Vec<i64>> {
    let mut idx = indices.to_vec();
    rng.shuffle(&mut idx);
    idx.chunks(batch_size.max(1)).map(|c| c.to_vec()).collect()
}

/// Checks that images `x` are `[N, C, H, W]` and labels `y` are `[N]`; returns N. `what`
/// ("train", "test") names the pair in the error.
pub fn check_images(x: &Tensor, y: &Tensor, what: &str) -> anyhow::Result<i64> {
    let size = x.size();
    if size.len() != 4 {
        anyhow::bail!("{what} images must be [N, C, H, W], got {size:?}");
    }
    if y.size() != [size[0]] {
        anyhow::bail!("{what} labels must be [{}], got {:?}", size[0], y.size());
    }
    Ok(size[0])
}

/// Gathers rows `idx` of `x` (on x's device).
pub fn take(x: &Tensor, idx: &[i64]) -> Tensor {
    let i = Tensor::from_slice(idx).to_device(x.device());
    x.index_select(0, &i)
}

/// Gradients of `loss` w.r.t. `params`; unused parameters get zeros.
pub fn grads_of(loss: &Tensor, params: &[Tensor], keep_graph: bool) -> Vec<Tensor> {
    Tensor::run_backward(&[loss], params, keep_graph, false)
        .into_iter()
        .zip(params)
        .map(|(g, p)| if g.defined() { g } else { p.zeros_like() })
        .collect()
}

/// Global L2 norm of a list of tensors (as f64).
pub fn global_norm(ts: &[Tensor]) -> f64 {
    let sq: Vec<Tensor> = ts
        .iter()
        .map(|t| t.to_kind(Kind::Double).square().sum(Kind::Double))
        .collect();
    if sq.is_empty() {
        return 0.0;
    }
    f64::try_from(Tensor::stack(&sq, 0).sum(Kind::Double).sqrt()).unwrap_or(f64::NAN)
}

/// `torch.nn.utils.clip_grad_norm_`: scales all gradients by max/(norm+1e-6) when the
/// global norm exceeds `max`. Returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut [Tensor], max: f64) -> f64 {
    let norm = global_norm(grads);
    let coef = max / (norm + 1e-6);
    if coef < 1.0 {
        for g in grads.iter_mut() {
            *g = &*g * coef;
        }
    }
    norm
}

/// Cosine annealing per epoch (`CosineAnnealingLR(T_max = epochs, eta_min)`).
pub fn cosine_lr(base: f64, min: f64, epoch: usize, epochs: usize) -> f64 {
    if epochs == 0 {
        return base;
    }
    min + (base - min) * (1.0 + (std::f64::consts::PI * epoch as f64 / epochs as f64).cos()) / 2.0
}

/// `torch.optim.SGD` with momentum (dampening 0, no Nesterov) and L2 weight decay.
#[derive(Debug)]
pub struct Sgd {
    pub params: Vec<Tensor>,
    /// Momentum buffers (zeros before the first step, which PyTorch's lazy init matches).
    pub bufs: Vec<Tensor>,
    pub momentum: f64,
    pub weight_decay: f64,
}

impl Sgd {
    pub fn new(params: Vec<Tensor>, momentum: f64, weight_decay: f64) -> Self {
        let bufs = params.iter().map(|p| p.detach().zeros_like()).collect();
        Sgd {
            params,
            bufs,
            momentum,
            weight_decay,
        }
    }

    pub fn step(&mut self, grads: &[Tensor], lr: f64) {
        tch::no_grad(|| {
            for ((p, b), g) in self.params.iter().zip(self.bufs.iter_mut()).zip(grads) {
                let d = g + p * self.weight_decay;
                let mut p = p.shallow_clone();
                p -= sgd_direction(&d, b, self.momentum, false) * lr;
            }
        });
    }
}

/// `torch.optim.Adam` (L2 weight decay added to the gradient, not AdamW).
#[derive(Debug)]
pub struct Adam {
    pub params: Vec<Tensor>,
    pub m: Vec<Tensor>,
    pub v: Vec<Tensor>,
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub t: i32,
}

impl Adam {
    pub fn new(params: Vec<Tensor>, lr: f64, betas: (f64, f64), weight_decay: f64) -> Self {
        let m = params.iter().map(|p| p.detach().zeros_like()).collect();
        let v = params.iter().map(|p| p.detach().zeros_like()).collect();
        Adam {
            params,
            m,
            v,
            lr,
            betas,
            eps: 1e-8,
            weight_decay,
            t: 0,
        }
    }

    pub fn step(&mut self, grads: &[Tensor]) {
        self.t += 1;
        tch::no_grad(|| {
            for (i, g) in grads.iter().enumerate() {
                let mut p = self.params[i].shallow_clone();
                let g = g + &p * self.weight_decay;
                let (m, v) = (&mut self.m[i], &mut self.v[i]);
                p -= adam_direction(&g, m, v, self.t as i64, self.betas, self.eps) * self.lr;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_a_seeded_permutation() {
        let idx: Vec<i64> = (0..10).collect();
        let a = batches(&mut SplitMix64(3), &idx, 4);
        let b = batches(&mut SplitMix64(3), &idx, 4);
        assert_eq!(a, b);
        assert_eq!(a.iter().map(|v| v.len()).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut all: Vec<i64> = a.concat();
        all.sort();
        assert_eq!(all, idx);
    }

    #[test]
    fn image_and_label_shapes_are_checked_by_name() {
        let opts = (Kind::Float, tch::Device::Cpu);
        let x = Tensor::zeros([4, 3, 8, 8], opts);
        let y = Tensor::zeros([4], (Kind::Int64, tch::Device::Cpu));
        assert_eq!(check_images(&x, &y, "train").unwrap(), 4);
        let e = check_images(&x.flatten(1, -1), &y, "test")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "test images must be [N, C, H, W], got [4, 192]");
        let e = check_images(&x, &y.narrow(0, 0, 3), "train")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "train labels must be [4], got [3]");
    }

    #[test]
    fn cosine_schedule_endpoints() {
        assert!((cosine_lr(0.025, 0.001, 0, 50) - 0.025).abs() < 1e-12);
        assert!((cosine_lr(0.025, 0.001, 50, 50) - 0.001).abs() < 1e-12);
        assert!((cosine_lr(0.025, 0.001, 25, 50) - 0.013).abs() < 1e-12);
    }

    #[test]
    fn sgd_matches_pytorch_formula() {
        let p = Tensor::from_slice(&[1.0f64, -2.0]).set_requires_grad(true);
        let mut sgd = Sgd::new(vec![p.shallow_clone()], 0.9, 0.1);
        let g = Tensor::from_slice(&[0.5f64, 0.5]);
        sgd.step(&[g.shallow_clone()], 0.1);
        // d = g + 0.1 p = [0.6, 0.3]; buf = d; p -= 0.1 d
        let v: Vec<f64> = Vec::try_from(p.detach()).unwrap();
        assert!((v[0] - 0.94).abs() < 1e-12 && (v[1] + 2.03).abs() < 1e-12);
        sgd.step(&[g], 0.1);
        // d = [0.5 + 0.094, 0.5 - 0.203]; buf = 0.9 [0.6, 0.3] + d
        let v: Vec<f64> = Vec::try_from(p.detach()).unwrap();
        assert!((v[0] - (0.94 - 0.1 * (0.54 + 0.594))).abs() < 1e-12);
        assert!((v[1] - (-2.03 - 0.1 * (0.27 + 0.297))).abs() < 1e-12);
    }
}
