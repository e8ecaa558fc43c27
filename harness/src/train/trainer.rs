//! The training loop.
use super::{schedule, EpochRecord, Recipe, RunOutcome};
use crate::data::augment::Augment;
use crate::data::Dataset;
use crate::models;
use std::time::Instant;
use tch::{nn, Device, Kind, Tensor};

/// What the per-epoch callback tells the trainer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// Settings that are not part of the recipe (they must not change the result).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub device: Device,
    /// Evaluation batch size (memory only; results do not depend on it).
    pub eval_batch: i64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            device: Device::Cpu,
            eval_batch: 1024,
        }
    }
}

/// Trains `recipe` on `data` with one seed driving every random source (initialisation,
/// shuffling, dropout). `on_epoch` sees every finished epoch and may stop the run.
///
/// A run whose training loss becomes NaN or infinite stops at that epoch and is returned with
/// `diverged_at_epoch` set: divergence is a result, not an error.
pub fn train(
    recipe: &Recipe,
    data: &Dataset,
    seed: u64,
    options: &TrainOptions,
    on_epoch: &mut dyn FnMut(&EpochRecord) -> Control,
) -> anyhow::Result<RunOutcome> {
    recipe.validate()?;
    let started = Instant::now();
    let device = options.device;
    tch::manual_seed(seed as i64);
    if device.is_cuda() {
        tch::Cuda::manual_seed_all(seed);
    }
    // u8-image datasets (cifar10): normalise, and for training augment, each batch on the device.
    let transform = data.batch_transform(recipe)?;
    let vs = nn::VarStore::new(device);
    let model = models::build(recipe, &vs.root(), data.info.image_shape, data.classes())?;
    let parameters = models::parameter_count(&vs);
    let mut opt = recipe.optimizer.build(
        &vs,
        recipe.initial_lr,
        recipe.momentum,
        recipe.nesterov,
        recipe.weight_decay,
    )?;

    let n_train = data.train_x.size()[0];
    let batch = recipe.batch_size as i64;
    let steps_per_epoch = (n_train + batch - 1) / batch;
    let schedule = schedule::LrSchedule::from(recipe);
    let lr_at = |epoch: usize, step: usize| schedule.at(epoch, step);

    let mut records: Vec<EpochRecord> = Vec::with_capacity(recipe.epochs);
    let mut diverged_at_epoch = None;
    let mut stopped_at_epoch = None;
    let mut train_seconds = 0.0;
    let mut images_seen = 0i64;
    let mut global_step = 0usize;
    for epoch in 0..recipe.epochs {
        let epoch_start = Instant::now();
        let epoch_lr = lr_at(epoch, global_step);
        // Sums stay on the device: reading a scalar per step would synchronise a GPU.
        let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
        let mut correct = Tensor::zeros([], (Kind::Int64, device));
        let perm = Tensor::randperm(n_train, (Kind::Int64, device));
        for step in 0..steps_per_epoch {
            opt.set_lr(lr_at(epoch, global_step));
            let start = step * batch;
            let len = batch.min(n_train - start);
            let idx = perm.narrow(0, start, len);
            let x = data.train_x.index_select(0, &idx);
            let x = match &transform {
                Some(t) => t.train_batch(&x),
                None => x,
            };
            let y = data.train_y.index_select(0, &idx);
            let logits = model.forward_t(&x, true);
            let loss = logits.cross_entropy_for_logits(&y);
            opt.zero_grad();
            loss.backward();
            if recipe.grad_clip > 0.0 {
                opt.clip_grad_norm(recipe.grad_clip);
            }
            opt.step();
            tch::no_grad(|| {
                loss_sum += loss.to_kind(Kind::Double) * len as f64;
                correct += logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Int64);
            });
            global_step += 1;
        }
        images_seen += n_train;
        let train_loss = loss_sum.double_value(&[]) / n_train as f64;
        let train_acc = correct.int64_value(&[]) as f64 / n_train as f64;
        train_seconds += epoch_start.elapsed().as_secs_f64();
        if !train_loss.is_finite() {
            diverged_at_epoch = Some(epoch + 1);
            break;
        }
        let (test_loss, test_acc) = evaluate(
            &*model,
            &data.test_x,
            &data.test_y,
            options.eval_batch,
            transform.as_ref(),
        );
        if !test_loss.is_finite() {
            diverged_at_epoch = Some(epoch + 1);
            break;
        }
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss,
            train_acc,
            test_loss,
            test_acc,
            lr: epoch_lr,
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        let control = on_epoch(&record);
        records.push(record);
        if control == Control::Stop && epoch + 1 < recipe.epochs {
            stopped_at_epoch = Some(epoch + 1);
            break;
        }
    }
    let (final_test_acc, best) = if diverged_at_epoch.is_some() {
        (None, None)
    } else {
        let best = records.iter().max_by(|a, b| {
            a.test_acc
                .total_cmp(&b.test_acc)
                .then(b.epoch.cmp(&a.epoch))
        });
        (records.last().map(|r| r.test_acc), best)
    };
    Ok(RunOutcome {
        seed,
        final_test_acc,
        best_test_acc: best.map(|r| r.test_acc),
        best_epoch: best.map(|r| r.epoch),
        epochs: records,
        diverged_at_epoch,
        stopped_at_epoch,
        parameters,
        wall_seconds: started.elapsed().as_secs_f64(),
        train_images_per_s: if train_seconds > 0.0 {
            images_seen as f64 / train_seconds
        } else {
            0.0
        },
    })
}

/// Mean cross-entropy and accuracy over a whole set, in evaluation mode without gradients.
/// With a `transform` (u8 images), each batch gets its test transform (normalisation only).
pub fn evaluate(
    model: &dyn nn::ModuleT,
    x: &Tensor,
    y: &Tensor,
    batch: i64,
    transform: Option<&Augment>,
) -> (f64, f64) {
    tch::no_grad(|| {
        let n = x.size()[0];
        let mut loss_sum = 0.0;
        let mut correct = 0i64;
        let mut start = 0;
        while start < n {
            let len = batch.min(n - start);
            let xb = x.narrow(0, start, len);
            let xb = match transform {
                Some(t) => t.test_batch(&xb),
                None => xb,
            };
            let yb = y.narrow(0, start, len);
            let logits = model.forward_t(&xb, false);
            loss_sum += logits
                .cross_entropy_for_logits(&yb)
                .to_kind(Kind::Double)
                .double_value(&[])
                * len as f64;
            correct += logits
                .argmax(-1, false)
                .eq_tensor(&yb)
                .sum(Kind::Int64)
                .int64_value(&[]);
            start += len;
        }
        (loss_sum / n as f64, correct as f64 / n as f64)
    })
}
