//! The training loop.
use super::optim::Optimizer;
use super::{schedule, EpochRecord, Recipe, RunOutcome};
use crate::checkpoint::{self, epoch_seed, exclusive_generator, seed_all, step_seed};
use crate::data::augment::Augment;
use crate::data::Dataset;
use crate::models;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
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
    /// This run's epoch checkpoint: written after every `checkpoint_every` epochs, and
    /// resumed from when it exists at the start (None: no checkpoints).
    pub checkpoint: Option<PathBuf>,
    pub checkpoint_every: usize,
    /// Set by Ctrl-C / SIGTERM: the run stops after the current step, drops the unfinished
    /// epoch (its checkpoint stays at the last finished one) and returns as stopped.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Other runs train in this process at the same time: seed every step from (seed, epoch,
    /// step) and draw random numbers only under [`exclusive_generator`]. The run is then as
    /// reproducible as a sequential one, though with other numbers than a sequential run of
    /// the same seed (which draws a whole epoch from one seeding).
    pub isolated_rng: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            device: Device::Cpu,
            eval_batch: 1024,
            checkpoint: None,
            checkpoint_every: 1,
            interrupt: None,
            isolated_rng: false,
        }
    }
}

impl TrainOptions {
    /// These options with the checkpoint at `path`.
    pub fn with_checkpoint(&self, path: Option<PathBuf>) -> TrainOptions {
        TrainOptions {
            checkpoint: path,
            ..self.clone()
        }
    }
}

/// What a checkpoint holds besides the tensors.
#[derive(Serialize, Deserialize)]
struct CheckpointMeta {
    records: Vec<EpochRecord>,
    global_step: usize,
    optimizer_steps: i64,
    train_seconds: f64,
    wall_seconds: f64,
}

/// What identifies a run in its checkpoint (recipe, seed, data): a checkpoint of another run
/// is refused.
pub fn run_fingerprint(
    recipe: &Recipe,
    seed: u64,
    data: &crate::data::DatasetInfo,
) -> anyhow::Result<String> {
    Ok(checkpoint::fingerprint(&[
        &serde_json::to_string(recipe)?,
        &seed.to_string(),
        &serde_json::to_string(data)?,
    ]))
}

/// Trains `recipe` on `data` with one seed driving every random source (initialisation,
/// shuffling, dropout). `on_epoch` sees every finished epoch and may stop the run.
///
/// A run whose training loss becomes NaN or infinite stops at that epoch and is returned with
/// `diverged_at_epoch` set: divergence is a result, not an error.
///
/// Randomness is re-seeded from (`seed`, epoch) at every epoch, so a run resumed from its
/// checkpoint continues exactly as if it had never stopped; the epochs restored from a
/// checkpoint are passed to `on_epoch` again (assessors and progress bars see every epoch).
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
    let isolated = || options.isolated_rng.then(exclusive_generator);
    let initialising = isolated();
    seed_all(seed as i64, device);
    // u8-image datasets (cifar10): normalise, and for training augment, each batch on the device.
    let transform = data.batch_transform(recipe)?;
    if device == tch::Device::Cpu {
        let memory = crate::env::MemoryBudget::of_this_process();
        if let Some(problem) =
            models::memory_problem(recipe, data.info.image_shape, data.classes(), memory)
        {
            anyhow::bail!(problem);
        }
    }
    let vs = nn::VarStore::new(device);
    let model = models::build(recipe, &vs.root(), data.info.image_shape, data.classes())?;
    drop(initialising);
    let parameters = models::parameter_count(&vs);
    let variables = checkpoint::named_variables(&vs);
    let trainable = variables
        .iter()
        .filter(|(_, t)| t.requires_grad())
        .map(|(_, t)| t.shallow_clone())
        .collect();
    let mut opt = recipe.optimizer.build(
        trainable,
        recipe.momentum,
        recipe.nesterov,
        recipe.weight_decay,
    );

    let n_train = data.train_x.size()[0];
    let batch = recipe.batch_size as i64;
    let steps_per_epoch = (n_train + batch - 1) / batch;
    let schedule = schedule::LrSchedule::from(recipe);
    let lr_at = |epoch: usize, step: usize| schedule.at(epoch, step);

    let mut records: Vec<EpochRecord> = Vec::with_capacity(recipe.epochs);
    let mut diverged_at_epoch = None;
    let mut stopped_at_epoch = None;
    let mut train_seconds = 0.0;
    let mut global_step = 0usize;
    let mut wall_before = 0.0;
    let fingerprint = run_fingerprint(recipe, seed, &data.info)?;
    if let Some(path) = &options.checkpoint {
        if let Some(ck) = checkpoint::load(path, &fingerprint)? {
            let meta: CheckpointMeta = ck.meta()?;
            ck.restore(&variables)?;
            opt.load_state(&|name| ck.tensor(name), meta.optimizer_steps)?;
            global_step = meta.global_step;
            train_seconds = meta.train_seconds;
            wall_before = meta.wall_seconds;
            for record in meta.records {
                let control = on_epoch(&record);
                let epoch = record.epoch;
                records.push(record);
                if control == Control::Stop && epoch < recipe.epochs {
                    stopped_at_epoch = Some(epoch);
                    break;
                }
            }
        }
    }
    let first_epoch = records.len();
    for epoch in first_epoch..recipe.epochs {
        if stopped_at_epoch.is_some() {
            break;
        }
        let epoch_start = Instant::now();
        let shuffling = isolated();
        seed_all(epoch_seed(seed, epoch), device);
        let perm = Tensor::randperm(n_train, (Kind::Int64, device));
        drop(shuffling);
        let epoch_lr = lr_at(epoch, global_step);
        // Sums stay on the device: reading a scalar per step would synchronise a GPU.
        let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
        let mut correct = Tensor::zeros([], (Kind::Int64, device));
        let interrupted = || checkpoint::interrupted(options.interrupt.as_deref());
        for step in 0..steps_per_epoch {
            if interrupted() {
                break;
            }
            let start = step * batch;
            let len = batch.min(n_train - start);
            let idx = perm.narrow(0, start, len);
            let drawing = isolated();
            if drawing.is_some() {
                seed_all(step_seed(seed, epoch, step as usize), device);
            }
            let x = data.train_x.index_select(0, &idx);
            let x = match &transform {
                Some(t) => t.train_batch(&x),
                None => x,
            };
            let y = data.train_y.index_select(0, &idx);
            let logits = model.forward_t(&x, true);
            drop(drawing);
            let loss = logits.cross_entropy_for_logits(&y);
            opt.zero_grad();
            loss.backward();
            if recipe.grad_clip > 0.0 {
                opt.clip_grad_norm(recipe.grad_clip);
            }
            opt.step(lr_at(epoch, global_step));
            tch::no_grad(|| {
                loss_sum += loss.to_kind(Kind::Double) * len as f64;
                correct += logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Int64);
            });
            global_step += 1;
        }
        if interrupted() {
            stopped_at_epoch = Some(epoch);
            break;
        }
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
        records.push(EpochRecord {
            epoch: epoch + 1,
            train_loss,
            train_acc,
            test_loss,
            test_acc,
            lr: epoch_lr,
            seconds: epoch_start.elapsed().as_secs_f64(),
        });
        // Saved before the callback sees the epoch: a stop (Ctrl-C, kill) right after it
        // does not lose it.
        let save = |opt: &Optimizer, records: &[EpochRecord]| -> anyhow::Result<()> {
            let Some(path) = &options.checkpoint else {
                return Ok(());
            };
            let (mut tensors, optimizer_steps) = opt.state();
            tensors.extend(
                variables
                    .iter()
                    .map(|(n, t)| (n.clone(), t.shallow_clone())),
            );
            let meta = CheckpointMeta {
                records: records.to_vec(),
                global_step,
                optimizer_steps,
                train_seconds,
                wall_seconds: wall_before + started.elapsed().as_secs_f64(),
            };
            checkpoint::save(path, &fingerprint, &tensors, &meta)
        };
        let saved = checkpoint::due(epoch + 1, recipe.epochs, options.checkpoint_every);
        if saved {
            save(&opt, &records)?;
        }
        let control = on_epoch(records.last().expect("pushed above"));
        if control == Control::Stop && epoch + 1 < recipe.epochs {
            // A run stopped by its callback may be continued later (ASHA promotions): it
            // keeps a checkpoint of the epoch it stopped at.
            if !saved {
                save(&opt, &records)?;
            }
            stopped_at_epoch = Some(epoch + 1);
            break;
        }
    }
    let images_seen = n_train * (records.len() + usize::from(diverged_at_epoch.is_some())) as i64;
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
        wall_seconds: wall_before + started.elapsed().as_secs_f64(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::digits;
    use std::sync::atomic::Ordering;

    fn recipe(optimizer: &str) -> Recipe {
        serde_json::from_value(serde_json::json!({
            "model": "cnn", "optimizer": optimizer, "initial_lr": 0.05, "momentum": 0.9,
            "weight_decay": 5e-4, "epochs": 4, "batch_size": 64, "schedule": "cosine"
        }))
        .expect("a valid recipe")
    }

    fn curve(run: &RunOutcome) -> Vec<(f64, f64, f64)> {
        run.epochs
            .iter()
            .map(|e| (e.train_loss, e.test_acc, e.lr))
            .collect()
    }

    /// Stopped after epoch 2 (as by Ctrl-C or a kill) and resumed from the checkpoint, a run
    /// equals one that never stopped, bit for bit; the restored epochs are replayed.
    #[test]
    fn resumed_run_equals_uninterrupted_run() {
        let _g = crate::data::augment::rng_lock();
        tch::set_num_threads(1);
        let data = digits::load(0.3, 0).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for optimizer in ["sgd", "adam"] {
            let r = recipe(optimizer);
            let plain = train(&r, &data, 7, &TrainOptions::default(), &mut |_| {
                Control::Continue
            })
            .unwrap();
            let path = dir.path().join(format!("{optimizer}.ckpt"));
            let options = TrainOptions::default().with_checkpoint(Some(path.clone()));
            // SGD: the callback stops the run; Adam: Ctrl-C arrives during epoch 3 and the run
            // stops within the epoch, which is dropped.
            let flag = Arc::new(AtomicBool::new(false));
            let interrupted = TrainOptions {
                interrupt: Some(Arc::clone(&flag)),
                ..options.clone()
            };
            let first = train(&r, &data, 7, &interrupted, &mut |e| {
                if e.epoch == 2 && optimizer == "sgd" {
                    Control::Stop
                } else {
                    flag.store(e.epoch == 2, Ordering::SeqCst);
                    Control::Continue
                }
            })
            .unwrap();
            assert_eq!(first.stopped_at_epoch, Some(2));
            assert_eq!(first.epochs.len(), 2);
            assert!(path.exists(), "checkpoint kept for the resume");
            let mut seen = Vec::new();
            let resumed = train(&r, &data, 7, &options, &mut |e| {
                seen.push(e.epoch);
                Control::Continue
            })
            .unwrap();
            assert_eq!(seen, vec![1, 2, 3, 4]);
            assert_eq!(curve(&resumed), curve(&plain), "{optimizer}");
            assert_eq!(resumed.final_test_acc, plain.final_test_acc);
            // Another seed must not pick up this run's checkpoint.
            let e = train(&r, &data, 8, &options, &mut |_| Control::Continue)
                .unwrap_err()
                .to_string();
            assert!(e.contains("checkpoint of another run"), "{e}");
        }
    }

    #[test]
    fn a_run_its_callback_stops_keeps_a_checkpoint_of_that_epoch_to_continue_from() {
        // ASHA's promotions continue a paused trial later: the epoch it stopped at is
        // checkpointed even when `checkpoint_every` would not have saved it.
        let _g = crate::data::augment::rng_lock();
        tch::set_num_threads(1);
        let data = digits::load(0.3, 0).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let r = recipe("sgd");
        let plain = train(&r, &data, 7, &TrainOptions::default(), &mut |_| {
            Control::Continue
        })
        .unwrap();
        let options = TrainOptions {
            checkpoint_every: 3,
            ..TrainOptions::default().with_checkpoint(Some(dir.path().join("trial.ckpt")))
        };
        let paused = train(&r, &data, 7, &options, &mut |e| {
            if e.epoch == 2 {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        .unwrap();
        assert_eq!(paused.stopped_at_epoch, Some(2));
        let continued = train(&r, &data, 7, &options, &mut |_| Control::Continue).unwrap();
        // Epochs 1-2 come back from the checkpoint (their timings too: not trained again).
        assert_eq!(continued.epochs[..2], paused.epochs[..]);
        assert_eq!(curve(&continued), curve(&plain));
    }
}
