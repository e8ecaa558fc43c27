//! The DARTS search loop (quark0/darts `cnn/train_search.py` + `architect.py`, NNI
//! `DartsTrainer`): first order by default, second order (`unrolled`) optional.

use crate::checkpoint::{self, epoch_seed, indexed, interrupted, seed_all, EpochCheckpoint};
use crate::nas::ops::{correct, cross_entropy};
use crate::nas::supernet::SuperNet;
use crate::nas::train::{
    batches, check_images, clip_grad_norm, cosine_lr, grads_of, take, Adam, Sgd, SplitMix64,
};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::{nn, Kind, Tensor};

/// Search settings; `Default` (and serde's defaults for missing fields) = the Lab 8
/// reference (lab8-reference §4).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct SearchConfig {
    pub layers: usize,
    pub channels: i64,
    pub epochs: usize,
    pub batch_size: usize,
    pub num_classes: i64,
    pub seed: u64,
    /// Second-order (unrolled) architecture gradient instead of first order.
    pub unrolled: bool,
    /// With `unrolled`: exact Hessian-vector product by double backward instead of DARTS'
    /// finite difference (more memory; immune to the ReLU/max-pool kinks a finite radius
    /// can straddle).
    pub exact_hessian: bool,
    /// With `unrolled` and not `exact_hessian`: the finite-difference radius ε·‖v‖ of the
    /// Hessian-vector product (DARTS: 0.01).
    pub hessian_radius: f64,
    pub w_lr: f64,
    pub w_lr_min: f64,
    pub w_momentum: f64,
    pub w_weight_decay: f64,
    pub grad_clip: f64,
    pub alpha_lr: f64,
    pub alpha_betas: (f64, f64),
    pub alpha_weight_decay: f64,
    /// Batch size of the no-grad pass over the architecture half at the end of an epoch.
    pub eval_batch_size: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            layers: 8,
            channels: 16,
            epochs: 50,
            batch_size: 64,
            num_classes: 10,
            seed: 0,
            unrolled: false,
            exact_hessian: false,
            hessian_radius: 0.01,
            w_lr: 0.025,
            w_lr_min: 0.001,
            w_momentum: 0.9,
            w_weight_decay: 3e-4,
            grad_clip: 5.0,
            alpha_lr: 3e-4,
            alpha_betas: (0.5, 0.999),
            alpha_weight_decay: 1e-3,
            eval_batch_size: 256,
        }
    }
}

/// One search epoch. `arch_acc`/`arch_loss` are the search-time supernet's accuracy/loss on
/// the architecture half (eval-mode BN, no grad) — not the accuracy of any derived model.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct SearchEpoch {
    /// 0-based.
    pub epoch: usize,
    /// Weight learning rate used in this epoch.
    pub lr: f64,
    pub train_loss: f64,
    pub train_acc: f64,
    pub arch_loss: f64,
    pub arch_acc: f64,
    /// Softmax weights after the epoch, [14 edges][8] (7 ops in OPS order, then zero).
    pub normal_weights: Vec<Vec<f64>>,
    pub reduce_weights: Vec<Vec<f64>>,
    /// Raw logits after the epoch, same layout.
    pub normal_alpha: Vec<Vec<f64>>,
    pub reduce_alpha: Vec<Vec<f64>>,
    pub seconds: f64,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct SearchOutcome {
    pub epochs: Vec<SearchEpoch>,
    /// Final softmax weights and logits (same as the last epoch's).
    pub normal_weights: Vec<Vec<f64>>,
    pub reduce_weights: Vec<Vec<f64>>,
    pub normal_alpha: Vec<Vec<f64>>,
    pub reduce_alpha: Vec<Vec<f64>>,
    pub seconds: f64,
}

/// Sets every tensor in `dst` to `src` (no grad).
fn assign(dst: &[Tensor], src: &[Tensor]) {
    tch::no_grad(|| {
        for (d, s) in dst.iter().zip(src) {
            d.shallow_clone().copy_(s);
        }
    });
}

/// Weights after DARTS' virtual step: w' = w − ξ(μ·buf + ∇w L_train(w, α) + wd·w)
/// (quark0 `Architect._compute_unrolled_model`), as detached tensors.
fn virtual_weights(
    net: &SuperNet,
    sgd: &Sgd,
    xi: f64,
    trn_x: &Tensor,
    trn_y: &Tensor,
) -> Vec<Tensor> {
    let loss = net.loss(trn_x, trn_y);
    let g = grads_of(&loss, &sgd.params, false);
    tch::no_grad(|| {
        sgd.params
            .iter()
            .zip(&sgd.bufs)
            .zip(&g)
            .map(|((w, b), g)| w - (b * sgd.momentum + g + w * sgd.weight_decay) * xi)
            .collect()
    })
}

/// L_val(w', α) with w' from the virtual step (weights restored afterwards). This is the
/// function whose α-gradient [`unrolled_alpha_grads`] approximates; used by tests.
pub fn unrolled_val_loss(
    net: &SuperNet,
    sgd: &Sgd,
    xi: f64,
    trn: (&Tensor, &Tensor),
    val: (&Tensor, &Tensor),
) -> f64 {
    let backup: Vec<Tensor> = sgd.params.iter().map(|w| w.detach().copy()).collect();
    let w1 = virtual_weights(net, sgd, xi, trn.0, trn.1);
    assign(&sgd.params, &w1);
    let l = tch::no_grad(|| f64::try_from(net.loss(val.0, val.1).to_kind(Kind::Double)));
    assign(&sgd.params, &backup);
    l.unwrap_or(f64::NAN)
}

/// The part both second-order gradients share: applies the virtual step w' to the network
/// and returns (w before it, dα = ∇α L_val(w', α), v = ∇w' L_val(w', α)), detached. The
/// caller restores w.
fn unrolled_val_grads(
    net: &SuperNet,
    sgd: &Sgd,
    xi: f64,
    trn: (&Tensor, &Tensor),
    val: (&Tensor, &Tensor),
) -> (Vec<Tensor>, Vec<Tensor>, Vec<Tensor>) {
    let alphas = net.alpha_tensors();
    let w = &sgd.params;
    let backup: Vec<Tensor> = w.iter().map(|t| t.detach().copy()).collect();
    let w1 = virtual_weights(net, sgd, xi, trn.0, trn.1);
    assign(w, &w1);
    let val_loss = net.loss(val.0, val.1);
    let mut inputs: Vec<Tensor> = alphas.iter().map(|a| a.shallow_clone()).collect();
    inputs.extend(w.iter().map(|t| t.shallow_clone()));
    let mut g: Vec<Tensor> = grads_of(&val_loss, &inputs, false)
        .into_iter()
        .map(|t| t.detach())
        .collect();
    let v = g.split_off(alphas.len());
    (backup, g, v)
}

/// Second-order DARTS architecture gradient (quark0 `Architect._backward_step_unrolled`):
/// applies the virtual step w' to the network, takes dα = ∇α L_val(w', α) and
/// v = ∇w' L_val(w', α), then subtracts ξ·(∇α L_train(w⁺, α) − ∇α L_train(w⁻, α)) / (2ε)
/// with w± = w ± ε·v, ε = 0.01 / ‖v‖, and restores w. `sgd.params` must be
/// `net.weights()`. Returns [d normal, d reduce].
/// The radius ε·‖v‖ = `r` is DARTS' 0.01 by default: the difference is exact up to
/// O(r²) where the loss is smooth, but ReLU and max-pool make it piecewise smooth, so a
/// radius that crosses a kink adds an error (on the tiny test net: 4 % at r = 1e-3, 1e-10 at
/// r = 1e-5; on a real supernet the kinks per unit of ‖v‖ are far sparser).
pub fn unrolled_alpha_grads(
    net: &SuperNet,
    sgd: &Sgd,
    xi: f64,
    trn: (&Tensor, &Tensor),
    val: (&Tensor, &Tensor),
    r: f64,
) -> Vec<Tensor> {
    let alphas = net.alpha_tensors();
    let w = &sgd.params;
    let (backup, d_alpha, v) = unrolled_val_grads(net, sgd, xi, trn, val);
    let norm = crate::nas::train::global_norm(&v);
    let mut out = d_alpha;
    if norm.is_finite() && norm > 0.0 {
        let eps = r / norm;
        let hvp_side = |sign: f64| {
            let wp: Vec<Tensor> = tch::no_grad(|| {
                backup
                    .iter()
                    .zip(&v)
                    .map(|(b, v)| b + v * (sign * eps))
                    .collect()
            });
            assign(w, &wp);
            grads_of(&net.loss(trn.0, trn.1), &alphas, false)
        };
        let gp = hvp_side(1.0);
        let gn = hvp_side(-1.0);
        out = out
            .iter()
            .zip(gp.iter().zip(&gn))
            .map(|(d, (p, n))| d - (p - n) * (xi / (2.0 * eps)))
            .collect();
    }
    assign(w, &backup);
    out
}

/// Like [`unrolled_alpha_grads`] but with the exact mixed second derivative
/// ∇α(vᵀ∇w L_train(w, α)) by double backward instead of DARTS' finite difference
/// (more memory; used to validate, and selectable with `SearchConfig::exact_hessian`).
pub fn unrolled_alpha_grads_exact(
    net: &SuperNet,
    sgd: &Sgd,
    xi: f64,
    trn: (&Tensor, &Tensor),
    val: (&Tensor, &Tensor),
) -> Vec<Tensor> {
    let alphas = net.alpha_tensors();
    let w = &sgd.params;
    let (backup, d_alpha, v) = unrolled_val_grads(net, sgd, xi, trn, val);
    assign(w, &backup);
    let gw = Tensor::run_backward(&[net.loss(trn.0, trn.1)], w, true, true);
    let mut phi: Option<Tensor> = None;
    for (g, v) in gw.iter().zip(&v) {
        if g.defined() {
            let t = (g * v).sum(g.kind());
            phi = Some(match phi {
                None => t,
                Some(p) => p + t,
            });
        }
    }
    match phi {
        Some(phi) => {
            let hv = grads_of(&phi, &alphas, false);
            d_alpha.iter().zip(&hv).map(|(d, h)| d - h * xi).collect()
        }
        None => d_alpha,
    }
}

/// Runs a DARTS search. `train_x` [N, C, H, W] (normalised floats, any device/kind) and
/// `train_y` [N] int64; the first ⌊N/2⌋ samples train the weights, the rest the
/// architecture. `augment` (if any) is applied to every training batch of both halves
/// (DARTS uses the training transform for both). The test set is not used by the search.
/// `on_epoch` sees each epoch as it finishes; an error from it aborts the search. With a
/// `checkpoint`, the state (weights, logits, both optimizers, batch order) is saved after
/// epochs and a search that finds its checkpoint continues from it (the restored epochs are
/// passed to `on_epoch` again), with the same result as an uninterrupted search. When
/// `interrupt` is set (Ctrl-C) the search stops within the epoch with [`checkpoint::Interrupted`].
pub fn search(
    config: &SearchConfig,
    train_x: &Tensor,
    train_y: &Tensor,
    augment: Option<&dyn Fn(&Tensor) -> Tensor>,
    checkpoint: Option<&EpochCheckpoint>,
    interrupt: Option<&std::sync::atomic::AtomicBool>,
    mut on_epoch: impl FnMut(&SearchEpoch) -> Result<()>,
) -> Result<SearchOutcome> {
    let start = Instant::now();
    let size = train_x.size();
    let n = check_images(train_x, train_y, "train")?;
    if n < 2 || config.batch_size == 0 || config.layers == 0 {
        bail!("need at least 2 samples, a positive batch size and at least one layer");
    }
    let device = train_x.device();
    let kind = train_x.kind();
    let mut vs = nn::VarStore::new(device);
    vs.set_kind(kind);
    let net = SuperNet::new(
        &vs.root(),
        config.channels,
        config.layers,
        config.num_classes,
        size[1],
        config.seed as i64,
    );
    vs.set_kind(kind); // BN running statistics are created as f32.
    let mut sgd = Sgd::new(net.weights(), config.w_momentum, config.w_weight_decay);
    let mut adam = Adam::new(
        net.alpha_tensors(),
        config.alpha_lr,
        config.alpha_betas,
        config.alpha_weight_decay,
    );
    let half = n / 2;
    let w_idx: Vec<i64> = (0..half).collect();
    let a_idx: Vec<i64> = (half..n).collect();
    let mut rng = SplitMix64(config.seed ^ 0x5EA2_C4D1_A2C5_0001);
    let aug = |x: Tensor| match augment {
        Some(f) => f(&x),
        None => x,
    };
    let mut epochs: Vec<SearchEpoch> = Vec::with_capacity(config.epochs);
    let state = |sgd: &Sgd, adam: &Adam| {
        let mut t = checkpoint::named_variables(&vs);
        t.extend(indexed("alpha", &net.alpha_tensors()));
        t.extend(indexed("sgd", &sgd.bufs));
        t.extend(indexed("adam.m", &adam.m));
        t.extend(indexed("adam.v", &adam.v));
        t
    };
    let mut seconds_before = 0.0;
    if let Some(ck) = checkpoint {
        if let Some(saved) = checkpoint::load(&ck.path, &ck.fingerprint)? {
            let meta: SearchCheckpoint = saved.meta()?;
            saved.restore(&state(&sgd, &adam))?;
            adam.t = meta.adam_steps;
            rng = SplitMix64(meta.rng);
            seconds_before = meta.seconds;
            for e in meta.epochs {
                on_epoch(&e)?;
                epochs.push(e);
            }
        }
    }
    for epoch in epochs.len()..config.epochs {
        let t0 = Instant::now();
        seed_all(epoch_seed(config.seed, epoch), device);
        let lr = cosine_lr(config.w_lr, config.w_lr_min, epoch, config.epochs);
        let tb = batches(&mut rng, &w_idx, config.batch_size);
        let vb = batches(&mut rng, &a_idx, config.batch_size);
        let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
        let mut correct_sum = Tensor::zeros([], (Kind::Int64, device));
        let mut seen = 0i64;
        for (ti, vi) in tb.iter().zip(&vb) {
            if interrupted(interrupt) {
                return Err(checkpoint::Interrupted.into());
            }
            let (tx, ty) = (aug(take(train_x, ti)), take(train_y, ti));
            let (vx, vy) = (aug(take(train_x, vi)), take(train_y, vi));
            // Architecture step on the architecture half.
            let d_alpha = if config.unrolled && config.exact_hessian {
                unrolled_alpha_grads_exact(&net, &sgd, lr, (&tx, &ty), (&vx, &vy))
            } else if config.unrolled {
                let r = config.hessian_radius;
                unrolled_alpha_grads(&net, &sgd, lr, (&tx, &ty), (&vx, &vy), r)
            } else {
                grads_of(&net.loss(&vx, &vy), &net.alpha_tensors(), false)
            };
            adam.step(&d_alpha);
            // Weight step on the weight half.
            let logits = net.forward_t(&tx, true);
            let loss = cross_entropy(&logits, &ty);
            let mut g = grads_of(&loss, &sgd.params, false);
            clip_grad_norm(&mut g, config.grad_clip);
            sgd.step(&g, lr);
            let b = ti.len() as i64;
            seen += b;
            loss_sum += loss.detach().to_kind(Kind::Double) * b as f64;
            correct_sum += correct(&logits.detach(), &ty);
        }
        let train_loss = f64::try_from(&loss_sum)? / seen.max(1) as f64;
        let train_acc = i64::try_from(&correct_sum)? as f64 / seen.max(1) as f64;
        let (arch_loss, arch_acc) = tch::no_grad(|| -> Result<(f64, f64)> {
            let mut l = Tensor::zeros([], (Kind::Double, device));
            let mut c = Tensor::zeros([], (Kind::Int64, device));
            for chunk in a_idx.chunks(config.eval_batch_size.max(1)) {
                let logits = net.forward_t(&take(train_x, chunk), false);
                let y = take(train_y, chunk);
                l += cross_entropy(&logits, &y).to_kind(Kind::Double) * chunk.len() as f64;
                c += correct(&logits, &y);
            }
            let m = a_idx.len().max(1) as f64;
            Ok((f64::try_from(&l)? / m, i64::try_from(&c)? as f64 / m))
        })?;
        let (normal_weights, reduce_weights) = net.softmax_weights();
        let (normal_alpha, reduce_alpha) = net.alphas();
        let rec = SearchEpoch {
            epoch,
            lr,
            train_loss,
            train_acc,
            arch_loss,
            arch_acc,
            normal_weights,
            reduce_weights,
            normal_alpha,
            reduce_alpha,
            seconds: t0.elapsed().as_secs_f64(),
        };
        if let Some(why) = divergence(&rec) {
            bail!(
                "the DARTS search diverged in epoch {} of {} ({why}): no architecture can be \
                 derived from it; a lower w_lr or alpha_lr (or a grad_clip) keeps it finite",
                epoch + 1,
                config.epochs
            );
        }
        epochs.push(rec);
        if let Some(ck) = checkpoint.filter(|ck| ck.due(epoch + 1, config.epochs)) {
            let meta = SearchCheckpoint {
                epochs: epochs.clone(),
                adam_steps: adam.t,
                rng: rng.0,
                seconds: seconds_before + start.elapsed().as_secs_f64(),
            };
            checkpoint::save(&ck.path, &ck.fingerprint, &state(&sgd, &adam), &meta)?;
        }
        on_epoch(epochs.last().expect("pushed above"))?;
    }
    let (normal_weights, reduce_weights) = net.softmax_weights();
    let (normal_alpha, reduce_alpha) = net.alphas();
    Ok(SearchOutcome {
        epochs,
        normal_weights,
        reduce_weights,
        normal_alpha,
        reduce_alpha,
        seconds: seconds_before + start.elapsed().as_secs_f64(),
    })
}

/// What made a search epoch diverge: a loss or an architecture logit that is NaN or infinite
/// (the logits then give no architecture, and JSON cannot hold them).
fn divergence(e: &SearchEpoch) -> Option<String> {
    let losses = [
        ("training loss", e.train_loss),
        ("validation loss", e.arch_loss),
    ];
    if let Some((name, v)) = losses.into_iter().find(|(_, v)| !v.is_finite()) {
        return Some(format!("{name} {v}"));
    }
    let logits = e.normal_alpha.iter().chain(&e.reduce_alpha).flatten();
    logits
        .copied()
        .find(|v| !v.is_finite())
        .map(|v| format!("an architecture logit is {v}"))
}

/// What a search checkpoint holds besides the tensors.
#[derive(Serialize, Deserialize)]
struct SearchCheckpoint {
    epochs: Vec<SearchEpoch>,
    adam_steps: i32,
    rng: u64,
    seconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn tiny_double_net() -> (nn::VarStore, SuperNet) {
        let mut vs = nn::VarStore::new(Device::Cpu);
        vs.set_kind(Kind::Double);
        let net = SuperNet::new(&vs.root(), 2, 2, 3, 1, 11);
        vs.set_kind(Kind::Double);
        // Larger logits than 1e-3·randn so the softmax has curvature to test.
        tch::no_grad(|| {
            for a in net.alpha_tensors() {
                a.shallow_clone().copy_(&(Tensor::randn_like(&a) * 0.5));
            }
        });
        (vs, net)
    }

    /// The unrolled hypergradient vs a central finite difference of
    /// α ↦ L_val(w − ξ(μ·buf + ∇w L_train(w, α) + wd·w), α) on a tiny f64 supernet: the
    /// exact and the finite-difference Hessian-vector products (radius small enough not to
    /// straddle a ReLU/max-pool kink of this tiny net) both match; first order does not.
    #[test]
    fn second_order_hypergradient_matches_finite_differences() {
        let _g = crate::data::augment::rng_lock();
        tch::set_num_threads(1); // tiny ops: extra threads only contend
        tch::manual_seed(5);
        let (_vs, net) = tiny_double_net();
        let opts = (Kind::Double, Device::Cpu);
        let tx = Tensor::randn([4, 1, 8, 8], opts);
        let ty = Tensor::from_slice(&[0i64, 1, 2, 1]);
        let vx = Tensor::randn([4, 1, 8, 8], opts);
        let vy = Tensor::from_slice(&[2i64, 0, 1, 0]);
        let mut sgd = Sgd::new(net.weights(), 0.9, 3e-4);
        // Give the momentum buffers content (one real step), as mid-search.
        let g = grads_of(&net.loss(&tx, &ty), &sgd.params, false);
        sgd.step(&g, 0.05);
        let xi = 0.5; // large ξ so that the second-order term matters
        let trn = (&tx, &ty);
        let val = (&vx, &vy);
        let before: Vec<Tensor> = sgd.params.iter().map(|w| w.detach().copy()).collect();
        let exact = unrolled_alpha_grads_exact(&net, &sgd, xi, trn, val);
        let fd_hvp = unrolled_alpha_grads(&net, &sgd, xi, trn, val, 1e-5);
        for (a, b) in sgd.params.iter().zip(&before) {
            assert!(a.equal(b), "weights restored");
        }
        let first_order = grads_of(&net.loss(&vx, &vy), &net.alpha_tensors(), false);
        let h = 1e-5;
        // L = 2: both cells are reduction cells, so only the reduce logits matter.
        let a = &net.alpha_tensors()[1];
        let (mut num, mut ex, mut fd, mut fo) = (vec![], vec![], vec![], vec![]);
        for e in [0i64, 4, 9, 13] {
            for o in 0..8i64 {
                let orig = f64::try_from(a.get(e).get(o)).unwrap();
                let set = |v: f64| {
                    let _ = tch::no_grad(|| a.get(e).get(o).fill_(v));
                };
                set(orig + h);
                let lp = unrolled_val_loss(&net, &sgd, xi, trn, val);
                set(orig - h);
                let lm = unrolled_val_loss(&net, &sgd, xi, trn, val);
                set(orig);
                num.push((lp - lm) / (2.0 * h));
                let at = |t: &Tensor| f64::try_from(t.get(e).get(o)).unwrap();
                ex.push(at(&exact[1]));
                fd.push(at(&fd_hvp[1]));
                fo.push(at(&first_order[1]));
            }
        }
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let rel = |a: &[f64]| {
            norm(&a.iter().zip(&num).map(|(x, y)| x - y).collect::<Vec<_>>()) / norm(&num)
        };
        let (r_ex, r_fd, r_fo) = (rel(&ex), rel(&fd), rel(&fo));
        eprintln!("rel. error vs FD: exact-Hessian {r_ex:.3e}, DARTS FD-Hessian {r_fd:.3e}, first order {r_fo:.3e}");
        assert!(r_ex < 1e-4, "exact second-order rel. error {r_ex}");
        assert!(
            r_fd < 1e-4,
            "finite-difference second-order rel. error {r_fd}"
        );
        assert!(
            r_fo > 100.0 * r_ex.max(r_fd),
            "the test must distinguish first from second order"
        );
    }

    #[test]
    fn tiny_search_two_epochs() {
        let _g = crate::data::augment::rng_lock();
        tch::set_num_threads(1);
        let opts = (Kind::Float, Device::Cpu);
        tch::manual_seed(0);
        let x = Tensor::randn([24, 3, 8, 8], opts);
        let y = Tensor::randint(4, [24], (Kind::Int64, Device::Cpu));
        for unrolled in [false, true] {
            let cfg = SearchConfig {
                layers: 2,
                channels: 2,
                epochs: 2,
                batch_size: 6,
                num_classes: 4,
                unrolled,
                ..Default::default()
            };
            let mut seen = Vec::new();
            let flip = |t: &Tensor| t.flip([3]);
            let out = search(&cfg, &x, &y, Some(&flip), None, None, |e| {
                seen.push(e.epoch);
                Ok(())
            })
            .unwrap();
            assert_eq!(seen, vec![0, 1]);
            assert_eq!(out.epochs.len(), 2);
            for e in &out.epochs {
                assert!(e.train_loss.is_finite() && (0.0..=1.0).contains(&e.arch_acc));
                for w in e.normal_weights.iter().chain(&e.reduce_weights) {
                    assert_eq!(w.len(), 8);
                    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-6);
                }
                assert_eq!((e.normal_weights.len(), e.reduce_weights.len()), (14, 14));
            }
            // Deterministic from the seed.
            let again = search(&cfg, &x, &y, Some(&flip), None, None, |_| Ok(())).unwrap();
            assert_eq!(again.normal_alpha, out.normal_alpha);
            // Logits moved away from their 1e-3 init scale.
            assert_ne!(out.epochs[0].normal_alpha, out.epochs[1].normal_alpha);
        }
    }

    #[test]
    fn search_config_serde_defaults() {
        let c: SearchConfig = serde_json::from_str(r#"{"epochs": 3, "unrolled": true}"#).unwrap();
        assert_eq!(c.epochs, 3);
        assert!(c.unrolled);
        assert_eq!((c.layers, c.channels, c.batch_size), (8, 16, 64));
    }
}
