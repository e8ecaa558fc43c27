//! What a training step of a zoo model holds in memory, estimated before it is allocated.
//!
//! On Linux an allocation too large for the machine is granted and the kernel then kills the
//! process (no message; a suite's result file is left "running"), or the machine thrashes.
//! `harness bench` and `harness run` refuse a configuration whose step cannot fit, naming what
//! to lower. The weights, their gradients and the optimizer's state are counted from the
//! model's sizes ([`zoo::param_count`]: nothing is built for them); the activations a step
//! keeps are measured per image on a throwaway copy of the model at batches of 2 and 4 (only
//! when the state fits: a model that cannot fit is never built).
//!
//! Only the CPU's memory (the machine's RAM) is estimated. GPU memory is out of scope: the
//! estimate is measured with glibc's allocator, which CUDA tensors do not come from, and
//! libtorch's CUDA allocator fails with an out-of-memory error (the run fails with a message)
//! instead of the kernel killing the process.
use super::zoo::{self, Style};
use anyhow::Result;
use tch::{nn, Device, Kind, Tensor};

/// A training step of a zoo model: its head, its input and its optimizer.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingStep {
    pub model: String,
    pub style: Style,
    /// Outputs of the classifier head.
    pub classes: i64,
    /// (channels, height, width).
    pub image: (i64, i64, i64),
    /// Values the optimizer keeps per weight ([`crate::train::OptimizerKind::state_slots`]).
    pub state_slots: usize,
    pub device: Device,
}

/// What a training step holds in memory, apart from the batch size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryEstimate {
    pub parameters: f64,
    /// Weights, their gradients and the optimizer's state, 4 bytes a value.
    pub state_bytes: f64,
    /// The input images and labels of one image.
    pub input_bytes_per_image: f64,
    /// What the autograd graph of a training forward pass holds per image (activations kept
    /// for the backward pass), and apart from the batch; `None` where it cannot be measured.
    pub graph_bytes: Option<(f64, f64)>,
}

impl MemoryEstimate {
    /// The estimate for `step`: the state is counted from the model's sizes, the graph is
    /// measured on a throwaway copy of the model (see [`graph_bytes`]). Only when the state
    /// fits in `memory_bytes`: a model that does not fit is not built.
    pub fn of(step: &TrainingStep, memory_bytes: u64) -> Result<MemoryEstimate> {
        let parameters = zoo::param_count(&step.model, step.style, step.classes)? as f64;
        let copies = 2.0 + step.state_slots as f64;
        let (c, h, w) = step.image;
        let mut e = MemoryEstimate {
            parameters,
            state_bytes: parameters * 4.0 * copies,
            input_bytes_per_image: (c * h * w * 4 + 8) as f64,
            graph_bytes: None,
        };
        if e.state_fits(memory_bytes) {
            e.graph_bytes = graph_bytes(step)?;
        }
        Ok(e)
    }

    /// Whether the weights, gradients and optimizer state alone fit in `memory_bytes`.
    pub fn state_fits(&self, memory_bytes: u64) -> bool {
        self.state_bytes <= memory_bytes as f64
    }

    /// Bytes a training step at `batch` needs at least (the graph's share an estimate).
    pub fn needed(&self, batch: i64) -> f64 {
        let (_, fixed) = self.graph_bytes.unwrap_or((0.0, 0.0));
        self.state_bytes + fixed + self.per_image() * batch as f64
    }

    /// Bytes each image of a batch adds: its activations and the input.
    pub fn per_image(&self) -> f64 {
        let (per_image, _) = self.graph_bytes.unwrap_or((0.0, 0.0));
        per_image + self.input_bytes_per_image
    }

    /// The largest batch estimated to fit in `memory_bytes` (0 when not even one image does).
    pub fn largest_batch(&self, memory_bytes: u64) -> f64 {
        let (_, fixed) = self.graph_bytes.unwrap_or((0.0, 0.0));
        ((memory_bytes as f64 - self.state_bytes - fixed) / self.per_image())
            .floor()
            .max(0.0)
    }
}

/// What a refusal asks to lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// The classifier head's outputs (its weights alone may not fit).
    Classes,
    Batch,
    Model,
}

/// How a command names its knobs: options (`--batch`) or a recipe's fields (`batch_size`).
pub struct KnobNames {
    pub classes: &'static str,
    pub batch: &'static str,
    pub model: &'static str,
}

impl MemoryEstimate {
    /// Why `step` at `batch` images cannot train in `budget` (by this estimate of it):
    /// the knob to lower, and the message, which names it as `names` does. The model's state
    /// alone not fitting asks for fewer classes or a smaller model; else a batch that does not
    /// fit asks for at most the largest batch estimated to fit, or a smaller model where not
    /// even one image does.
    pub fn problem(
        &self,
        step: &TrainingStep,
        batch: i64,
        budget: crate::env::MemoryBudget,
        names: &KnobNames,
    ) -> Option<(Knob, String)> {
        let (memory_bytes, memory) = (budget.bytes, budget.bytes as f64);
        let gb = |b: f64| b / 1e9;
        if !self.state_fits(memory_bytes) {
            return Some((
                Knob::Classes,
                format!(
                    "model {} ({} style, {}-way head) has {:.3e} parameters: training it needs \
                     at least {:.1} GB (weights, gradients and optimizer state) and {budget}; \
                     lower {} or choose a smaller {}",
                    step.model,
                    step.style,
                    step.classes,
                    self.parameters,
                    gb(self.state_bytes),
                    names.classes,
                    names.model
                ),
            ));
        }
        let needed = self.needed(batch);
        if needed <= memory {
            return None;
        }
        let fits = self.largest_batch(memory_bytes);
        let (knob, advice) = if fits >= 1.0 {
            let at_most = format!("lower {} (at most {fits} is estimated to fit)", names.batch);
            (Knob::Batch, at_most)
        } else {
            (Knob::Model, format!("choose a smaller {}", names.model))
        };
        Some((
            knob,
            format!(
                "model {} at batch {batch} needs an estimated {:.1} GB to train: {:.1} GB of \
                 weights, gradients and optimizer state, and {:.2} MB per image (the \
                 activations a training step keeps, measured on batches of 2 and 4, and the \
                 input); {budget}; {advice}",
                step.model,
                gb(needed),
                gb(self.state_bytes),
                self.per_image() / 1e6,
            ),
        ))
    }
}

/// Heads of up to this many outputs are built as they are to be measured. A wider one (a
/// 1,000,000-way vgg16 head alone is 16 GB of weights) is measured at this many and twice as
/// many outputs, and what it keeps per image extrapolated: the head's activations grow
/// linearly with its outputs, the rest of the network's do not change.
const MEASURED_HEAD: i64 = 1000;

/// Bytes the autograd graph of a training forward pass (and its loss) holds per image, and
/// apart from the batch: measured as the allocator's bytes in use before and after the pass,
/// on batches of 2 and 4 of a throwaway copy of the model (after one unmeasured pass that
/// makes libtorch's one-time allocations), so that the difference leaves out what does not
/// grow with the batch. It consumes libtorch's random numbers: call it before seeding.
/// `None` where the allocator cannot tell (only glibc's is read).
pub fn graph_bytes(step: &TrainingStep) -> Result<Option<(f64, f64)>> {
    if heap_in_use().is_none() {
        return Ok(None);
    }
    if step.classes <= MEASURED_HEAD {
        return measured(step, step.classes).map(Some);
    }
    let (narrow, fixed) = measured(step, MEASURED_HEAD)?;
    // The growth per output from two measures after that one: a process's first measure also
    // holds allocations libtorch makes once (which make it the larger, as it should be).
    let (again, _) = measured(step, MEASURED_HEAD)?;
    let (wide, _) = measured(step, 2 * MEASURED_HEAD)?;
    let per_output = ((wide - again) / MEASURED_HEAD as f64).max(0.0);
    let per_image = narrow + per_output * (step.classes - MEASURED_HEAD) as f64;
    Ok(Some((per_image, fixed)))
}

/// [`graph_bytes`] of `step` with a head of `classes` outputs, measured.
fn measured(step: &TrainingStep, classes: i64) -> Result<(f64, f64)> {
    let vs = nn::VarStore::new(step.device);
    let model = tch::no_grad(|| zoo::build(&step.model, &vs.root(), step.style, classes))?;
    let (c, h, w) = step.image;
    let held = |batch: i64| {
        let x = Tensor::zeros([batch, c, h, w], (Kind::Float, step.device));
        let y = Tensor::zeros([batch], (Kind::Int64, step.device));
        let before = heap_in_use().unwrap_or(0) as f64;
        let loss = model.forward_t(&x, true).cross_entropy_for_logits(&y);
        let after = heap_in_use().unwrap_or(0) as f64;
        drop(loss);
        after - before
    };
    held(2);
    let (two, four) = (held(2), held(4));
    let per_image = ((four - two) / 2.0).max(0.0);
    Ok((per_image, (two - 2.0 * per_image).max(0.0)))
}

/// Bytes the C allocator has handed out and not taken back (libtorch's CPU tensors come from
/// it), or `None` where that is not known.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_in_use() -> Option<u64> {
    // SAFETY: mallinfo2 only reads the allocator's counters.
    let m = unsafe { libc::mallinfo2() };
    Some((m.uordblks + m.hblkhd) as u64)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_in_use() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::rng_lock;

    fn squeezenet(classes: i64) -> TrainingStep {
        TrainingStep {
            model: "squeezenet1_1".into(),
            style: Style::Cifar,
            classes,
            image: (3, 32, 32),
            state_slots: 1,
            device: Device::Cpu,
        }
    }

    /// A head wider than [`MEASURED_HEAD`] is not built: what it keeps per image is
    /// extrapolated from two narrower heads, close to the measure of the whole head
    /// (squeezenet's head is a convolution whose outputs are kept per class and position).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_wide_head_is_extrapolated_from_two_narrower_ones() {
        let _g = rng_lock();
        // After a first measure (libtorch's one-time allocations), every measure is alike.
        measured(&squeezenet(10), 10).unwrap();
        let (extrapolated, _) = graph_bytes(&squeezenet(5000)).unwrap().unwrap();
        let (built, _) = measured(&squeezenet(5000), 5000).unwrap();
        let (narrow, _) = measured(&squeezenet(MEASURED_HEAD), MEASURED_HEAD).unwrap();
        assert!(
            built - narrow > 0.1 * built,
            "the head's share is measurable: {built} vs {narrow}"
        );
        assert!(
            (extrapolated - built).abs() < 0.02 * built,
            "{extrapolated} vs {built}"
        );
    }

    /// The largest batch that fits and what a batch needs agree: the state, the fixed part
    /// and so much per image.
    #[test]
    fn the_largest_batch_is_the_one_that_fits() {
        let e = MemoryEstimate {
            parameters: 1e9 / 12.0,
            state_bytes: 1e9,
            input_bytes_per_image: 12_296.0,
            graph_bytes: Some((987_704.0, 10_000.0)),
        };
        assert_eq!(e.per_image(), 1_000_000.0);
        assert_eq!(e.needed(2999), 1e9 + 10_000.0 + 2999e6);
        assert_eq!(e.largest_batch(4_000_000_000), 2999.0);
        assert_eq!(e.largest_batch(1_000_000_000), 0.0);
        assert!(e.state_fits(1_000_000_000) && !e.state_fits(999_999_999));
    }
}
