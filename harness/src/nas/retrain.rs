//! Retraining a discrete DARTS network (NNI `examples/nas/darts/retrain.py`, quark0/darts
//! `cnn/train.py`).

use crate::checkpoint::{self, epoch_seed, indexed, interrupted, seed_all, EpochCheckpoint};
use crate::nas::genotype::Genotype;
use crate::nas::network::DartsNetwork;
use crate::nas::ops::{correct, cross_entropy};
use crate::nas::train::{
    batches, check_images, clip_grad_norm, cosine_lr, grads_of, take, Sgd, SplitMix64,
};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::{nn, Kind, Tensor};

/// Retrain settings; `Default` (and serde's defaults for missing fields) = the Lab 8
/// reference (lab8-reference §4). Cutout is the caller's `augment`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct RetrainConfig {
    pub layers: usize,
    pub channels: i64,
    pub epochs: usize,
    pub batch_size: usize,
    pub num_classes: i64,
    pub seed: u64,
    pub lr: f64,
    pub lr_min: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub grad_clip: f64,
    /// Final drop-path probability; epoch e uses drop_path_prob·e/epochs.
    pub drop_path_prob: f64,
    pub auxiliary: bool,
    pub aux_weight: f64,
    pub eval_batch_size: usize,
}

impl Default for RetrainConfig {
    fn default() -> Self {
        RetrainConfig {
            layers: 20,
            channels: 36,
            epochs: 600,
            batch_size: 96,
            num_classes: 10,
            seed: 0,
            lr: 0.025,
            lr_min: 1e-6,
            momentum: 0.9,
            weight_decay: 3e-4,
            grad_clip: 5.0,
            drop_path_prob: 0.2,
            auxiliary: true,
            aux_weight: 0.4,
            eval_batch_size: 500,
        }
    }
}

/// The crate's per-epoch record; `epoch` is 1-based as in every other arm.
pub use crate::train::EpochRecord;

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct RetrainOutcome {
    pub epochs: Vec<EpochRecord>,
    pub best_test_acc: f64,
    /// 1-based epoch of `best_test_acc`.
    pub best_epoch: Option<usize>,
    pub last_test_acc: f64,
    /// Trainable parameters excluding the auxiliary head.
    pub param_count: i64,
    /// First epoch (1-based) whose train or test loss was NaN/inf; training stopped there and
    /// `epochs` holds the finite ones before it.
    pub diverged: Option<usize>,
    pub seconds: f64,
}

/// Mean loss and accuracy over a data set in eval mode, no grad, batched.
pub fn evaluate(net: &DartsNetwork, x: &Tensor, y: &Tensor, batch: usize) -> Result<(f64, f64)> {
    let n = x.size()[0];
    if n == 0 {
        return Ok((f64::NAN, 0.0));
    }
    tch::no_grad(|| {
        let mut l = Tensor::zeros([], (Kind::Double, x.device()));
        let mut c = Tensor::zeros([], (Kind::Int64, x.device()));
        let mut start = 0;
        while start < n {
            let len = (batch.max(1) as i64).min(n - start);
            let bx = x.narrow(0, start, len);
            let by = y.narrow(0, start, len);
            let (logits, _) = net.forward(&bx, false, 0.0);
            l += cross_entropy(&logits, &by).to_kind(Kind::Double) * len as f64;
            c += correct(&logits, &by);
            start += len;
        }
        Ok((
            f64::try_from(&l)? / n as f64,
            i64::try_from(&c)? as f64 / n as f64,
        ))
    })
}

/// Trains `genotype` from scratch on (train_x, train_y) and evaluates on (test_x, test_y)
/// after every epoch. Inputs: normalised float [N, C, H, W] tensors on any device (the
/// network follows their device and kind) and int64 labels. `augment` (e.g. cutout) is
/// applied to every training batch. Epochs are 1-based (the crate's [`EpochRecord`]); `lr` is the rate used during the
/// epoch. A NaN/inf loss stops training in that epoch, which is reported in `diverged` and
/// neither recorded nor passed to `on_epoch`.
/// With a `checkpoint`, a retrain resumes from it, and stops on `interrupt`, like
/// [`crate::nas::search::search`].
#[allow(clippy::too_many_arguments)]
pub fn retrain(
    genotype: &Genotype,
    config: &RetrainConfig,
    train_x: &Tensor,
    train_y: &Tensor,
    test_x: &Tensor,
    test_y: &Tensor,
    augment: Option<&dyn Fn(&Tensor) -> Tensor>,
    checkpoint: Option<&EpochCheckpoint>,
    interrupt: Option<&std::sync::atomic::AtomicBool>,
    mut on_epoch: impl FnMut(&EpochRecord) -> Result<()>,
) -> Result<RetrainOutcome> {
    let start = Instant::now();
    let size = train_x.size();
    check_images(train_x, train_y, "train")?;
    check_images(test_x, test_y, "test")?;
    if config.batch_size == 0 || config.layers == 0 {
        bail!("need a positive batch size and at least one layer");
    }
    let device = train_x.device();
    let kind = train_x.kind();
    tch::manual_seed(config.seed as i64);
    let mut vs = nn::VarStore::new(device);
    vs.set_kind(kind);
    let net = DartsNetwork::new(
        &vs.root(),
        genotype,
        size[1],
        config.channels,
        config.layers,
        config.num_classes,
        config.auxiliary,
    );
    vs.set_kind(kind); // BN running statistics are created as f32.
    let param_count = net.param_count_excluding_aux();
    let mut sgd = Sgd::new(net.params(), config.momentum, config.weight_decay);
    let idx: Vec<i64> = (0..size[0]).collect();
    let mut rng = SplitMix64(config.seed ^ 0x7E7A_1A5E_D00D_0002);
    let mut records: Vec<EpochRecord> = Vec::with_capacity(config.epochs);
    let mut diverged = None;
    let (mut best, mut best_epoch, mut last) = (0.0f64, None, 0.0f64);
    let state = |sgd: &Sgd| {
        let mut t = checkpoint::named_variables(&vs);
        t.extend(indexed("sgd", &sgd.bufs));
        t
    };
    let mut seconds_before = 0.0;
    if let Some(ck) = checkpoint {
        if let Some(saved) = checkpoint::load(&ck.path, &ck.fingerprint)? {
            let meta: RetrainCheckpoint = saved.meta()?;
            saved.restore(&state(&sgd))?;
            rng = SplitMix64(meta.rng);
            seconds_before = meta.seconds;
            for rec in meta.records {
                on_epoch(&rec)?;
                last = rec.test_acc;
                if best_epoch.is_none() || rec.test_acc > best {
                    best = rec.test_acc;
                    best_epoch = Some(rec.epoch);
                }
                records.push(rec);
            }
        }
    }
    for epoch in records.len()..config.epochs {
        let t0 = Instant::now();
        seed_all(epoch_seed(config.seed, epoch), device);
        let lr = cosine_lr(config.lr, config.lr_min, epoch, config.epochs);
        let drop = config.drop_path_prob * epoch as f64 / config.epochs as f64;
        let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
        let mut correct_sum = Tensor::zeros([], (Kind::Int64, device));
        let mut seen = 0i64;
        for b in batches(&mut rng, &idx, config.batch_size) {
            if interrupted(interrupt) {
                return Err(checkpoint::Interrupted.into());
            }
            let x = take(train_x, &b);
            let x = match augment {
                Some(f) => f(&x),
                None => x,
            };
            let y = take(train_y, &b);
            let (logits, aux) = net.forward(&x, true, drop);
            let mut loss = cross_entropy(&logits, &y);
            if let Some(aux) = &aux {
                loss = &loss + cross_entropy(aux, &y) * config.aux_weight;
            }
            let mut g = grads_of(&loss, &sgd.params, false);
            clip_grad_norm(&mut g, config.grad_clip);
            sgd.step(&g, lr);
            seen += b.len() as i64;
            loss_sum += loss.detach().to_kind(Kind::Double) * b.len() as f64;
            correct_sum += correct(&logits.detach(), &y);
        }
        let train_loss = f64::try_from(&loss_sum)? / seen.max(1) as f64;
        let train_acc = i64::try_from(&correct_sum)? as f64 / seen.max(1) as f64;
        let (test_loss, test_acc) = evaluate(&net, test_x, test_y, config.eval_batch_size)?;
        let rec = EpochRecord {
            epoch: epoch + 1,
            train_loss,
            train_acc,
            test_loss,
            test_acc,
            lr,
            seconds: t0.elapsed().as_secs_f64(),
        };
        // A diverged epoch is not recorded (as in the crate's trainer): JSON has no NaN, and
        // its numbers say nothing about the architecture.
        if !(train_loss.is_finite() && test_loss.is_finite()) {
            diverged = Some(epoch + 1);
            break;
        }
        records.push(rec.clone());
        if let Some(ck) = checkpoint.filter(|ck| ck.due(epoch + 1, config.epochs)) {
            let meta = RetrainCheckpoint {
                records: records.clone(),
                rng: rng.0,
                seconds: seconds_before + start.elapsed().as_secs_f64(),
            };
            checkpoint::save(&ck.path, &ck.fingerprint, &state(&sgd), &meta)?;
        }
        on_epoch(&rec)?;
        last = test_acc;
        if best_epoch.is_none() || test_acc > best {
            best = test_acc;
            best_epoch = Some(epoch + 1);
        }
    }
    Ok(RetrainOutcome {
        epochs: records,
        best_test_acc: best,
        best_epoch,
        last_test_acc: last,
        param_count,
        diverged,
        seconds: seconds_before + start.elapsed().as_secs_f64(),
    })
}

/// What a retrain checkpoint holds besides the tensors.
#[derive(Serialize, Deserialize)]
struct RetrainCheckpoint {
    records: Vec<EpochRecord>,
    rng: u64,
    seconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nas::network::darts_v2;
    use tch::Device;

    /// Class = sign pattern of the mean of the left and the top halves (4 classes).
    fn sign_pattern_set(n: i64) -> (Tensor, Tensor) {
        let x = Tensor::randn([n, 1, 8, 8], (Kind::Float, Device::Cpu));
        let left = x
            .narrow(3, 0, 4)
            .mean_dim(&[1i64, 2, 3][..], false, Kind::Float);
        let top = x
            .narrow(2, 0, 4)
            .mean_dim(&[1i64, 2, 3][..], false, Kind::Float);
        let y = left.gt(0.0).to_kind(Kind::Int64) * 2 + top.gt(0.0).to_kind(Kind::Int64);
        (x, y)
    }

    fn tiny_config() -> RetrainConfig {
        RetrainConfig {
            layers: 3,
            channels: 4,
            epochs: 4,
            batch_size: 32,
            num_classes: 4,
            eval_batch_size: 100,
            ..Default::default()
        }
    }

    #[test]
    fn tiny_retrain_beats_chance() {
        tch::manual_seed(3);
        let (x, y) = sign_pattern_set(512);
        let (tx, ty) = sign_pattern_set(256);
        let mut seen = 0;
        let out = retrain(
            &darts_v2(),
            &tiny_config(),
            &x,
            &y,
            &tx,
            &ty,
            None,
            None,
            None,
            |r| {
                seen += 1;
                assert!(r.lr > 0.0);
                Ok(())
            },
        )
        .unwrap();
        eprintln!(
            "tiny retrain: best {:.3} last {:.3} params {} records {:?}",
            out.best_test_acc, out.last_test_acc, out.param_count, out.epochs
        );
        assert_eq!(seen, 4);
        assert_eq!(out.epochs.len(), 4);
        assert!(out.diverged.is_none());
        assert!(
            out.best_test_acc > 0.45,
            "chance is 0.25: {}",
            out.best_test_acc
        );
        assert!(out.param_count > 0);
    }

    #[test]
    fn divergence_is_reported_not_panicked() {
        tch::manual_seed(4);
        let (x, y) = sign_pattern_set(128);
        let cfg = RetrainConfig {
            lr: 1e6,
            epochs: 10,
            ..tiny_config()
        };
        let out = retrain(&darts_v2(), &cfg, &x, &y, &x, &y, None, None, None, |_| {
            Ok(())
        })
        .unwrap();
        eprintln!("diverged at {:?}", out.diverged);
        let d = out.diverged.expect("lr 1e6 diverges");
        // Only the finite epochs before it are kept: a result file cannot hold NaN.
        assert_eq!(out.epochs.len(), d - 1);
        assert!(out
            .epochs
            .iter()
            .all(|e| e.train_loss.is_finite() && e.test_loss.is_finite()));
        serde_json::to_string(&out).unwrap();
    }

    #[test]
    fn retrain_config_serde_defaults() {
        let c: RetrainConfig = serde_json::from_str(r#"{"epochs": 50}"#).unwrap();
        assert_eq!(
            (c.epochs, c.layers, c.channels, c.batch_size),
            (50, 20, 36, 96)
        );
        assert!(c.auxiliary && (c.aux_weight - 0.4).abs() < 1e-12);
    }
}
