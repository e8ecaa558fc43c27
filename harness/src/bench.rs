//! Training-throughput benchmark: SGD (momentum 0.9) steps of a zoo model on random data.

use crate::models::memory::{KnobNames, MemoryEstimate, TrainingStep};
use crate::models::zoo::{self, Style};
use crate::train::OptimizerKind;
use anyhow::{ensure, Result};
use std::time::Instant;
use tch::{nn, Device, Kind, Tensor};

/// What to benchmark.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub model: String,
    pub style: Style,
    pub num_classes: i64,
    pub batch: i64,
    /// Timed steps.
    pub steps: usize,
    /// Untimed warm-up steps (cuDNN autotuning, allocator warm-up).
    pub warmup: usize,
    pub device: Device,
    /// (channels, height, width).
    pub image: (i64, i64, i64),
    /// Convert the input and all 4-D weights to channels-last (NHWC) strides. tch 0.24 has
    /// no `MemoryFormat` API, so this is done with the permute/contiguous/permute idiom and
    /// `set_data`; libtorch's convolutions then propagate the channels-last layout.
    pub channels_last: bool,
    /// Seed for `tch::manual_seed` (model init and data).
    pub seed: i64,
    /// Intra-op CPU threads (`tch::set_num_threads`, process-wide); `None` keeps libtorch's
    /// default. On a shared, oversubscribed CPU one thread can be far faster than the default
    /// because OpenMP threads spin while waiting for each other.
    pub threads: Option<i32>,
}

impl Default for BenchConfig {
    /// The lab's default: ImageNet-style resnet18, 1000-way head, batch 128, 3×32×32 on CPU.
    fn default() -> Self {
        BenchConfig {
            model: "resnet18".into(),
            style: Style::ImageNet,
            num_classes: 1000,
            batch: 128,
            steps: 10,
            warmup: 2,
            device: Device::Cpu,
            image: (3, 32, 32),
            channels_last: false,
            seed: 42,
            threads: None,
        }
    }
}

/// Timing of the measured steps.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BenchResult {
    pub model: String,
    pub style: Style,
    pub device: String,
    pub batch: i64,
    pub steps: usize,
    pub warmup: usize,
    pub channels_last: bool,
    /// `tch::get_num_threads()` during the run.
    pub threads: i32,
    pub param_count: i64,
    /// batch × steps / total measured seconds.
    pub images_per_sec: f64,
    pub step_mean_s: f64,
    /// Sample standard deviation (0 for a single step).
    pub step_std_s: f64,
    pub step_min_s: f64,
    pub step_max_s: f64,
    /// Loss of the last step (sanity check: finite).
    pub final_loss: f64,
}

/// The bench's SGD momentum.
const MOMENTUM: f64 = 0.9;

impl BenchConfig {
    /// The training step the bench times, for its memory estimate.
    pub fn step(&self) -> TrainingStep {
        TrainingStep {
            model: self.model.clone(),
            style: self.style,
            classes: self.num_classes,
            image: self.image,
            state_slots: OptimizerKind::Sgd.state_slots(MOMENTUM),
            device: self.device,
        }
    }
}

/// How the bench's refusals name what to lower: its options.
pub const KNOBS: KnobNames = KnobNames {
    classes: "--classes",
    batch: "--batch",
    model: "--model",
};

/// Why `cfg` cannot train in `memory` by `estimate` (of `cfg.step()`), naming the
/// option to lower.
pub fn memory_problem(
    estimate: &MemoryEstimate,
    cfg: &BenchConfig,
    memory: crate::env::MemoryBudget,
) -> Option<String> {
    estimate
        .problem(&cfg.step(), cfg.batch, memory, &KNOBS)
        .map(|(_, message)| message)
}

fn to_channels_last(t: &Tensor) -> Tensor {
    t.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

fn synchronize(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Runs `warmup + steps` training steps (forward in train mode, cross-entropy, backward, SGD
/// lr 0.01 momentum 0.9) on one fixed random batch, timing each of the last `steps` with the
/// device synchronized before and after.
pub fn bench_training(cfg: &BenchConfig) -> Result<BenchResult> {
    ensure!(cfg.steps > 0, "steps must be positive");
    ensure!(cfg.batch > 0, "batch must be positive");
    if let Some(t) = cfg.threads {
        ensure!(t > 0, "threads must be positive");
        tch::set_num_threads(t);
    }
    tch::manual_seed(cfg.seed);
    let vs = nn::VarStore::new(cfg.device);
    let model = zoo::build(&cfg.model, &vs.root(), cfg.style, cfg.num_classes)?;
    let param_count = vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    let (c, h, w) = cfg.image;
    let mut x = Tensor::randn([cfg.batch, c, h, w], (Kind::Float, cfg.device));
    let y = Tensor::randint(cfg.num_classes, [cfg.batch], (Kind::Int64, cfg.device));
    if cfg.channels_last {
        x = to_channels_last(&x);
        tch::no_grad(|| {
            for mut v in vs.trainable_variables() {
                if v.dim() == 4 {
                    let cl = to_channels_last(&v);
                    v.set_data(&cl);
                }
            }
        });
    }
    // The trainer's own optimizer (SGD, momentum 0.9, lr 0.01), so the bench times its step.
    let mut opt = OptimizerKind::Sgd.build(vs.trainable_variables(), MOMENTUM, false, 0.0);
    let mut times = Vec::with_capacity(cfg.steps);
    let mut final_loss = f64::NAN;
    for i in 0..cfg.warmup + cfg.steps {
        synchronize(cfg.device);
        let t0 = Instant::now();
        let loss = model.forward_t(&x, true).cross_entropy_for_logits(&y);
        opt.zero_grad();
        loss.backward();
        opt.step(0.01);
        synchronize(cfg.device);
        let dt = t0.elapsed().as_secs_f64();
        if i >= cfg.warmup {
            times.push(dt);
        }
        if i + 1 == cfg.warmup + cfg.steps {
            final_loss = loss.double_value(&[]);
        }
    }
    let n = times.len() as f64;
    let total: f64 = times.iter().sum();
    let mean = total / n;
    let var = if times.len() > 1 {
        times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Ok(BenchResult {
        model: cfg.model.clone(),
        style: cfg.style,
        device: crate::env::device_name(cfg.device),
        batch: cfg.batch,
        steps: cfg.steps,
        warmup: cfg.warmup,
        channels_last: cfg.channels_last,
        threads: tch::get_num_threads(),
        param_count,
        images_per_sec: cfg.batch as f64 * n / total,
        step_mean_s: mean,
        step_std_s: var.sqrt(),
        step_min_s: times.iter().cloned().fold(f64::INFINITY, f64::min),
        step_max_s: times.iter().cloned().fold(0.0, f64::max),
        final_loss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::rng_lock;
    use crate::env::MemoryBudget;

    fn squeezenet(batch: i64) -> BenchConfig {
        BenchConfig {
            model: "squeezenet1_1".into(),
            style: Style::Cifar,
            num_classes: 10,
            batch,
            ..Default::default()
        }
    }

    /// The refusal names what to lower: the model when its state alone does not fit, else the
    /// batch, with the largest batch estimated to fit.
    #[test]
    fn a_configuration_that_does_not_fit_names_the_option_to_lower() {
        let vgg = BenchConfig {
            model: "vgg16".into(),
            num_classes: 100_000,
            batch: 8,
            ..Default::default()
        };
        // 134260544 + 4097 · 100000 parameters, × 4 bytes × 3 (weights, gradients, momentum).
        let e = MemoryEstimate::of(&vgg.step(), 1_000_000_000).unwrap();
        assert_eq!(e.parameters, 543_960_544.0);
        assert_eq!(
            e.graph_bytes, None,
            "a model that does not fit is not built"
        );
        assert_eq!(
            memory_problem(&e, &vgg, MemoryBudget::machine(1_000_000_000)).unwrap(),
            "model vgg16 (imagenet style, 100000-way head) has 5.440e8 parameters: training it \
             needs at least 6.5 GB (weights, gradients and optimizer state) and this machine \
             has 1.0 GB of memory; lower --classes or choose a smaller --model"
        );
        // 1 GB of state, 10 kB fixed, 1 MB per image with the input's 12 296 bytes.
        let e = MemoryEstimate {
            parameters: 1e9 / 12.0,
            state_bytes: 1e9,
            input_bytes_per_image: 12_296.0,
            graph_bytes: Some((987_704.0, 10_000.0)),
        };
        let cfg = squeezenet(4000);
        assert_eq!(
            memory_problem(&e, &cfg, MemoryBudget::machine(4_000_000_000)).unwrap(),
            "model squeezenet1_1 at batch 4000 needs an estimated 5.0 GB to train: 1.0 GB of \
             weights, gradients and optimizer state, and 1.00 MB per image (the activations a \
             training step keeps, measured on batches of 2 and 4, and the input); this machine \
             has 4.0 GB of memory; lower --batch (at most 2999 is estimated to fit)"
        );
        assert_eq!(
            memory_problem(&e, &squeezenet(2999), MemoryBudget::machine(4_000_000_000)),
            None
        );
        assert!(
            memory_problem(&e, &squeezenet(3000), MemoryBudget::machine(4_000_000_000)).is_some()
        );
        assert!(
            memory_problem(&e, &squeezenet(1), MemoryBudget::machine(1_000_500_000))
                .unwrap()
                .ends_with("choose a smaller --model")
        );
    }

    /// The measured graph grows with the batch by more than the input and far less than
    /// the machine: squeezenet's activations on 3×32×32 images are about a megabyte.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_training_steps_graph_is_measured_per_image() {
        let _g = rng_lock();
        let (per_image, _) = crate::models::memory::graph_bytes(&squeezenet(4).step())
            .unwrap()
            .unwrap();
        assert!((12_288.0..100e6).contains(&per_image), "{per_image}");
        let e = MemoryEstimate::of(&squeezenet(4).step(), 64_000_000_000).unwrap();
        assert_eq!(
            memory_problem(&e, &squeezenet(128), MemoryBudget::machine(64_000_000_000)),
            None
        );
        assert!(memory_problem(
            &e,
            &squeezenet(65_536),
            MemoryBudget::machine(8_000_000_000)
        )
        .is_some());
    }

    #[test]
    fn small_bench_runs() {
        let _g = rng_lock();
        for channels_last in [false, true] {
            let cfg = BenchConfig {
                model: "squeezenet1_1".into(),
                style: Style::Cifar,
                num_classes: 10,
                batch: 4,
                steps: 2,
                warmup: 1,
                channels_last,
                ..Default::default()
            };
            let r = bench_training(&cfg).unwrap();
            assert_eq!(r.steps, 2);
            assert!(
                r.images_per_sec > 0.0
                    && r.step_min_s <= r.step_mean_s
                    && r.step_mean_s <= r.step_max_s
            );
            assert!(r.final_loss.is_finite());
            assert_eq!(
                r.param_count,
                zoo::param_count("squeezenet1_1", Style::Cifar, 10).unwrap()
            );
        }
        let bad = BenchConfig {
            model: "nope".into(),
            ..Default::default()
        };
        assert!(bench_training(&bad)
            .unwrap_err()
            .to_string()
            .contains("resnet18"));
    }
}
