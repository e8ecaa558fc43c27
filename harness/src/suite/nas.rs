//! The `nas` arm: DARTS search on the training set (split 50/50 inside the search), an NNI
//! architecture file after every search epoch, retraining of the last epoch's architecture
//! (or a given file) over the suite's seeds, and a random-search baseline retrained with the
//! same budget and seeds.

use super::journal::{self, Journal};
use super::runner::{run_line, Interrupted};
use super::ArmKind;
use crate::checkpoint::{CorruptResumeState, EpochCheckpoint};
use crate::data::{augment, Dataset};
use crate::nas::archfile::{self, OpFormat};
use crate::nas::derive::{try_derive_genotype, Strength};
use crate::nas::genotype::Genotype;
use crate::nas::retrain::{retrain, RetrainConfig, RetrainOutcome};
use crate::nas::search::{search, SearchConfig, SearchEpoch, SearchOutcome};
use crate::progress::Progress;
use crate::report::i18n::{plural, Lang};
use crate::results::{ArmResult, NasRecord, RandomSample};
use crate::train::{ReportedAccuracy, RunOutcome};
use anyhow::{Context, Result};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use tch::Tensor;

/// `[arms.nas]`. Defaults of the search and retrain tables: the Lab 8 reference
/// (lab8-reference §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NasArmSpec {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub search: NasSearchSpec,
    #[serde(default)]
    pub retrain: NasRetrainSpec,
    /// An NNI architecture file (relative to the suite file) to retrain instead of searching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_baseline: Option<RandomBaselineSpec>,
    /// How the epoch files write ops: "index" (the lab model) or "name" (NNI's example).
    #[serde(default = "default_export_format")]
    pub export_format: String,
    /// Which retrain accuracy the arm reports: "last" (default) or "best" (what the DARTS
    /// retrain script prints: the best test accuracy over the epochs).
    #[serde(default)]
    pub report: ReportedAccuracy,
}

fn default_export_format() -> String {
    "index".into()
}

/// `[arms.nas.search]`: the search-time supernet and the search loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NasSearchSpec {
    pub layers: usize,
    pub channels: i64,
    pub epochs: usize,
    pub batch_size: usize,
    /// Second-order (unrolled) architecture gradient instead of first order.
    pub unrolled: bool,
    /// With `unrolled`: exact Hessian-vector product (double backward) instead of DARTS'
    /// finite difference.
    pub exact_hessian: bool,
    /// With `unrolled`: DARTS' finite-difference radius ε·‖v‖ (0.01).
    pub hessian_radius: f64,
    pub seed: u64,
    pub w_lr: f64,
    pub w_lr_min: f64,
    pub w_momentum: f64,
    pub w_weight_decay: f64,
    pub grad_clip: f64,
    pub alpha_lr: f64,
    pub alpha_weight_decay: f64,
}

impl Default for NasSearchSpec {
    fn default() -> Self {
        let c = SearchConfig::default();
        NasSearchSpec {
            layers: c.layers,
            channels: c.channels,
            epochs: c.epochs,
            batch_size: c.batch_size,
            unrolled: c.unrolled,
            exact_hessian: c.exact_hessian,
            hessian_radius: c.hessian_radius,
            seed: c.seed,
            w_lr: c.w_lr,
            w_lr_min: c.w_lr_min,
            w_momentum: c.w_momentum,
            w_weight_decay: c.w_weight_decay,
            grad_clip: c.grad_clip,
            alpha_lr: c.alpha_lr,
            alpha_weight_decay: c.alpha_weight_decay,
        }
    }
}

impl NasSearchSpec {
    /// The "search" pair's value, in `lang`: the run stores it in English and the report says
    /// it again in its own language, from this one wording so that the two cannot drift.
    pub fn summary(&self, lang: Lang) -> String {
        let order = |first, second| if self.unrolled { second } else { first };
        match lang {
            Lang::En => format!(
                "DARTS {} order, {} C={}, {}, batch {}",
                order("first", "second"),
                plural(self.layers, "cell"),
                self.channels,
                plural(self.epochs, "epoch"),
                self.batch_size
            ),
            Lang::Zh => format!(
                "DARTS {}，{} 个 cell，C={}，{} 轮，batch {}",
                order("一阶", "二阶"),
                self.layers,
                self.channels,
                self.epochs,
                self.batch_size
            ),
        }
    }

    pub fn config(&self, num_classes: i64) -> SearchConfig {
        SearchConfig {
            layers: self.layers,
            channels: self.channels,
            epochs: self.epochs,
            batch_size: self.batch_size,
            num_classes,
            seed: self.seed,
            unrolled: self.unrolled,
            exact_hessian: self.exact_hessian,
            hessian_radius: self.hessian_radius,
            w_lr: self.w_lr,
            w_lr_min: self.w_lr_min,
            w_momentum: self.w_momentum,
            w_weight_decay: self.w_weight_decay,
            grad_clip: self.grad_clip,
            alpha_lr: self.alpha_lr,
            alpha_weight_decay: self.alpha_weight_decay,
            ..SearchConfig::default()
        }
    }
}

/// `[arms.nas.retrain]`: training the discrete network from scratch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NasRetrainSpec {
    pub layers: usize,
    pub channels: i64,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub lr_min: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub grad_clip: f64,
    /// Final drop-path probability (linear ramp over the epochs).
    pub drop_path: f64,
    pub auxiliary: bool,
    pub aux_weight: f64,
    /// Cutout square side in pixels; 0 = off.
    pub cutout: i64,
}

impl Default for NasRetrainSpec {
    fn default() -> Self {
        let c = RetrainConfig::default();
        NasRetrainSpec {
            layers: c.layers,
            channels: c.channels,
            epochs: c.epochs,
            batch_size: c.batch_size,
            lr: c.lr,
            lr_min: c.lr_min,
            momentum: c.momentum,
            weight_decay: c.weight_decay,
            grad_clip: c.grad_clip,
            drop_path: c.drop_path_prob,
            auxiliary: c.auxiliary,
            aux_weight: c.aux_weight,
            cutout: 16,
        }
    }
}

impl NasRetrainSpec {
    /// The "retrain" pair's value, in `lang` (one wording for the run and the report, as
    /// [`NasSearchSpec::summary`]).
    pub fn summary(&self, lang: Lang) -> String {
        match lang {
            Lang::En => format!(
                "{} C={}, {}, batch {}, SGD lr {} cosine",
                plural(self.layers, "cell"),
                self.channels,
                plural(self.epochs, "epoch"),
                self.batch_size,
                self.lr
            ),
            Lang::Zh => format!(
                "{} 个 cell，C={}，{} 轮，batch {}，SGD 学习率 {}，余弦调度",
                self.layers, self.channels, self.epochs, self.batch_size, self.lr
            ),
        }
    }

    pub fn config(&self, num_classes: i64, seed: u64, epochs: usize) -> RetrainConfig {
        RetrainConfig {
            layers: self.layers,
            channels: self.channels,
            epochs,
            batch_size: self.batch_size,
            num_classes,
            seed,
            lr: self.lr,
            lr_min: self.lr_min,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            grad_clip: self.grad_clip,
            drop_path_prob: self.drop_path,
            auxiliary: self.auxiliary,
            aux_weight: self.aux_weight,
            ..RetrainConfig::default()
        }
    }
}

/// `[arms.nas.random_baseline]`: N uniformly sampled architectures, each trained `epochs`
/// on a validation split of the training set; the best is retrained like the DARTS one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomBaselineSpec {
    pub samples: usize,
    pub epochs: usize,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_validation_fraction")]
    pub validation_fraction: f64,
}

fn default_validation_fraction() -> f64 {
    0.2
}

/// Largest DARTS network depth: the paper searches 8 cells and retrains 20; a depth in the
/// thousands only exhausts memory while the network is built (no Ctrl-C gets through).
pub const MAX_LAYERS: usize = 200;
/// Largest initial channel count (the paper: 16 searching, 36 retraining).
pub const MAX_CHANNELS: i64 = 65_536;

/// A network size out of range: the key (`layers`, `channels`) and why.
#[derive(Debug)]
pub struct SizeError {
    pub key: &'static str,
    pub message: String,
}

impl std::fmt::Display for SizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.key, self.message)
    }
}

/// The bounds on a DARTS network's size, for suites and `harness arch show`.
pub fn check_size(layers: usize, channels: i64) -> Result<(), SizeError> {
    if !(3..=MAX_LAYERS).contains(&layers) {
        return Err(SizeError {
            key: "layers",
            message: format!(
                "must be in [3, {MAX_LAYERS}] (two reduction cells at least), got {layers}"
            ),
        });
    }
    if !(1..=MAX_CHANNELS).contains(&channels) {
        return Err(SizeError {
            key: "channels",
            message: format!("must be in [1, {MAX_CHANNELS}], got {channels}"),
        });
    }
    Ok(())
}

impl NasArmSpec {
    pub fn op_format(&self) -> OpFormat {
        if self.export_format == "name" {
            OpFormat::Name
        } else {
            OpFormat::Index
        }
    }

    /// Problems as (key relative to `arms.nas`, message). Ranges and wording are a recipe's
    /// (`crate::train::ranges`), except that `grad_clip` must be > 0: DARTS always clips, and a
    /// limit of 0 would zero every gradient rather than switch clipping off.
    pub fn validate(&self) -> Result<(), (String, String)> {
        use crate::train::ranges;
        let bad = |key: &str, message: String| Err((key.to_string(), message));
        let within = |key: &str, check: ranges::Check| check.map_err(|m| (key.to_string(), m));
        let size = |prefix: &str, layers: usize, channels: i64| {
            check_size(layers, channels).map_err(|e| (format!("{prefix}.{}", e.key), e.message))
        };
        if !["index", "name"].contains(&self.export_format.as_str()) {
            return bad(
                "export_format",
                format!(
                    "must be \"index\" or \"name\", got \"{}\"",
                    self.export_format
                ),
            );
        }
        let s = &self.search;
        if self.architecture.is_none() {
            size("search", s.layers, s.channels)?;
            within("search.epochs", ranges::count(s.epochs))?;
            within("search.batch_size", ranges::count(s.batch_size))?;
            within("search.w_lr", ranges::positive(s.w_lr))?;
            within(
                "search.w_lr_min",
                ranges::lr_floor(s.w_lr_min, "w_lr", s.w_lr),
            )?;
            within("search.w_momentum", ranges::below_one(s.w_momentum))?;
            within("search.w_weight_decay", ranges::fraction(s.w_weight_decay))?;
            within("search.grad_clip", ranges::positive(s.grad_clip))?;
            within("search.alpha_lr", ranges::positive(s.alpha_lr))?;
            within(
                "search.alpha_weight_decay",
                ranges::fraction(s.alpha_weight_decay),
            )?;
            if !(s.hessian_radius.is_finite() && s.hessian_radius > 0.0) {
                return bad(
                    "search.hessian_radius",
                    format!("must be > 0 (DARTS: 0.01), got {}", s.hessian_radius),
                );
            }
        }
        let r = &self.retrain;
        size("retrain", r.layers, r.channels)?;
        within("retrain.epochs", ranges::count(r.epochs))?;
        within("retrain.batch_size", ranges::count(r.batch_size))?;
        within("retrain.lr", ranges::positive(r.lr))?;
        within("retrain.lr_min", ranges::lr_floor(r.lr_min, "lr", r.lr))?;
        within("retrain.momentum", ranges::below_one(r.momentum))?;
        within("retrain.weight_decay", ranges::fraction(r.weight_decay))?;
        within("retrain.grad_clip", ranges::positive(r.grad_clip))?;
        within("retrain.drop_path", ranges::below_one(r.drop_path))?;
        within(
            "retrain.aux_weight",
            ranges::non_negative(r.aux_weight, None),
        )?;
        within("retrain.cutout", ranges::cutout(r.cutout))?;
        if let Some(b) = &self.random_baseline {
            within("random_baseline.samples", ranges::count(b.samples))?;
            within("random_baseline.epochs", ranges::count(b.epochs))?;
            if !(b.validation_fraction > 0.0 && b.validation_fraction < 1.0) {
                return bad(
                    "random_baseline.validation_fraction",
                    format!("must be in (0, 1), got {}", b.validation_fraction),
                );
            }
        }
        Ok(())
    }

    /// (name, value) pairs for the report's hyper-parameter column.
    pub fn summary_pairs(&self, architecture_file: Option<&str>) -> Vec<(String, String)> {
        let r = &self.retrain;
        let mut pairs = Vec::new();
        if self.architecture.is_none() {
            pairs.push(("search".into(), self.search.summary(Lang::En)));
        }
        pairs.push(("retrain".into(), r.summary(Lang::En)));
        if r.auxiliary {
            pairs.push(("aux_weight".into(), r.aux_weight.to_string()));
        }
        pairs.push(("drop_path".into(), r.drop_path.to_string()));
        if r.cutout > 0 {
            pairs.push(("cutout".into(), r.cutout.to_string()));
        }
        pairs.push(("grad_clip".into(), r.grad_clip.to_string()));
        if let Some(f) = architecture_file {
            pairs.push(("architecture".into(), f.to_string()));
        }
        pairs
    }
}

/// Everything the arm needs from the runner.
pub struct NasContext<'a> {
    pub spec: &'a NasArmSpec,
    pub dataset: &'a Dataset,
    pub seeds: &'a [u64],
    /// Folder for `epoch_{e}.json` (created on demand).
    pub out_dir: PathBuf,
    /// Folder of the suite file (for a relative `architecture`).
    pub suite_dir: PathBuf,
    pub progress: &'a Progress,
    pub stop: &'a AtomicBool,
    pub quiet: bool,
    /// Where finished searches and retrains are journaled for `--resume`.
    pub journal: Option<&'a Journal>,
}

impl NasContext<'_> {
    /// The epoch checkpoint of unit `key` (None without a journal).
    fn checkpoint(&self, key: &str, parts: &[&str]) -> Option<EpochCheckpoint> {
        self.journal.map(|j| EpochCheckpoint {
            path: j.checkpoint(key),
            every: j.checkpoint_every(),
            fingerprint: crate::checkpoint::fingerprint(parts),
        })
    }
}

/// DARTS' CIFAR-10 input pipeline (quark0's `utils._data_transforms_cifar10`, lab8-reference
/// §4) applies to datasets of u8 images: they are normalised with the lab's mean and DARTS'
/// std, and the training batches of the search, the retrains and the random baseline are
/// cropped (4-pixel black padding) and flipped (p = 0.5); retrains add cutout. Float datasets
/// (digits, synthetic) are used as they are and get cutout only.
fn darts_floats(dataset: &Dataset) -> Dataset {
    dataset.normalized_floats_with_std(&augment::DARTS_CIFAR10_STD)
}

/// The normalised value of a black pixel per channel, for datasets whose training batches
/// are cropped and flipped (u8 images); None for the others.
fn darts_crop_fill(dataset: &Dataset) -> Option<Vec<f64>> {
    let u8 = dataset.u8_images.as_ref()?;
    Some(
        u8.mean
            .iter()
            .zip(augment::DARTS_CIFAR10_STD)
            .map(|(m, s)| -m / s)
            .collect(),
    )
}

type BatchTransform = Box<dyn Fn(&Tensor) -> Tensor>;

/// The training-batch transform: crop and flip when `crop_fill` is set, then cutout of `size`
/// (0 = none); None when it would do nothing.
fn train_transform(crop_fill: Option<Vec<f64>>, cutout: i64) -> Option<BatchTransform> {
    if crop_fill.is_none() && cutout <= 0 {
        return None;
    }
    Some(Box::new(move |x: &Tensor| {
        let x = match &crop_fill {
            Some(fill) => augment::random_hflip(&augment::random_crop_filled(x, 4, fill), 0.5),
            None => x.shallow_clone(),
        };
        augment::cutout(&x, cutout)
    }))
}

/// What [`train_transform`] does, for the result's hyper-parameters and checkpoint fingerprints.
fn transform_summary(crop_fill: Option<&[f64]>) -> Option<String> {
    crop_fill.map(|_| {
        let std: Vec<String> = augment::DARTS_CIFAR10_STD
            .iter()
            .map(|s| s.to_string())
            .collect();
        format!("random crop 32 pad 4, flip 0.5, std ({})", std.join(", "))
    })
}

/// The training set in a seeded random order (the search uses its first half for the
/// weights and the second for the architecture, so the halves must mix the classes).
fn shuffled_train(d: &Dataset, seed: u64) -> (Tensor, Tensor) {
    let n = d.train_x.size()[0];
    let mut idx: Vec<i64> = (0..n).collect();
    crate::nas::train::SplitMix64(seed ^ 0x5A17_F1E5).shuffle(&mut idx);
    let idx = Tensor::from_slice(&idx).to_device(d.train_x.device());
    (
        d.train_x.index_select(0, &idx),
        d.train_y.index_select(0, &idx),
    )
}

fn check_stop(stop: &AtomicBool) -> Result<()> {
    if stop.load(Ordering::SeqCst) {
        Err(Interrupted.into())
    } else {
        Ok(())
    }
}

/// Trains `genotype` with the retrain settings on `data` for `epochs`, as journal unit `key`
/// (a finished unit comes back from the journal; one in progress resumes its checkpoint).
fn train_genotype(
    ctx: &NasContext,
    key: &str,
    genotype: &Genotype,
    data: &Dataset,
    seed: u64,
    epochs: usize,
) -> Result<RetrainOutcome> {
    if let Some(out) = journal::finished::<RetrainOutcome>(ctx.journal, key)? {
        out.epochs.iter().for_each(|_| ctx.progress.epoch_done());
        return Ok(out);
    }
    let config = ctx.spec.retrain.config(ctx.dataset.classes(), seed, epochs);
    let size = ctx.spec.retrain.cutout;
    let fill = darts_crop_fill(ctx.dataset);
    let pipeline = transform_summary(fill.as_deref()).unwrap_or_default();
    let transform = train_transform(fill, size);
    let checkpoint = ctx.checkpoint(
        key,
        &[
            &archfile::export(genotype, OpFormat::Index),
            &serde_json::to_string(&config)?,
            &serde_json::to_string(&data.info)?,
            &size.to_string(),
            &pipeline,
        ],
    );
    let out = retrain(
        genotype,
        &config,
        &data.train_x,
        &data.train_y,
        &data.test_x,
        &data.test_y,
        transform.as_deref(),
        checkpoint.as_ref(),
        Some(ctx.stop),
        |_| {
            ctx.progress.epoch_done();
            check_stop(ctx.stop)
        },
    )?;
    journal::record(ctx.journal, key, &out)?;
    Ok(out)
}

/// A journaled search is one that ran every epoch of the suite's search (an interrupted or
/// diverged one is never journaled), each of whose architectures can be derived; an entry
/// that is not (edited, or another suite's) is damaged resume state, found before its epoch
/// files are written.
fn check_search_entry(done: &SearchOutcome, epochs: usize, path: &Path) -> Result<()> {
    let corrupt = |problem: String| CorruptResumeState {
        path: path.to_path_buf(),
        problem,
        advice: "delete it and resume again to redo the search".into(),
    };
    if done.epochs.len() != epochs {
        return Err(corrupt(format!(
            "holds a search of {} epochs, not of the suite's {epochs} (search.epochs)",
            done.epochs.len()
        ))
        .into());
    }
    for (i, e) in done.epochs.iter().enumerate() {
        if e.epoch != i {
            return Err(corrupt(format!("epochs[{i}] is epoch {}, not epoch {i}", e.epoch)).into());
        }
        if let Err(why) = try_derive_genotype(&e.normal_alpha, &e.reduce_alpha, Strength::RealOps) {
            return Err(corrupt(format!("epochs[{i}] holds no architecture ({why})")).into());
        }
    }
    Ok(())
}

/// The crate's run record of a retrain.
pub fn run_outcome(seed: u64, out: &RetrainOutcome, n_train: usize) -> RunOutcome {
    let train_seconds: f64 = out.epochs.iter().map(|e| e.seconds).sum();
    RunOutcome {
        seed,
        epochs: out.epochs.clone(),
        final_test_acc: out.diverged.is_none().then_some(out.last_test_acc),
        best_test_acc: out.diverged.is_none().then_some(out.best_test_acc),
        best_epoch: out.diverged.is_none().then_some(out.best_epoch).flatten(),
        diverged_at_epoch: out.diverged,
        stopped_at_epoch: None,
        parameters: out.param_count,
        wall_seconds: out.seconds,
        // Epoch seconds include the evaluation pass.
        train_images_per_s: if train_seconds > 0.0 {
            (n_train * out.epochs.len()) as f64 / train_seconds
        } else {
            0.0
        },
    }
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let m = v.iter().sum::<f64>() / n as f64;
    let s = if n > 1 {
        (v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    (m, s)
}

/// Total epochs the arm trains (for the progress bar).
pub fn total_epochs(spec: &NasArmSpec, seeds: usize) -> usize {
    let search = if spec.architecture.is_none() {
        spec.search.epochs
    } else {
        0
    };
    let baseline = spec
        .random_baseline
        .as_ref()
        .map_or(0, |b| b.samples * b.epochs + spec.retrain.epochs * seeds);
    search + spec.retrain.epochs * seeds + baseline
}

/// Runs the arm into `arm` (`save` after every finished step).
pub fn run_nas_arm(
    ctx: &NasContext,
    arm: &mut ArmResult,
    save: &mut dyn FnMut(&ArmResult) -> Result<()>,
) -> Result<()> {
    let spec = ctx.spec;
    // CIFAR-10 is kept as u8 images: the DARTS loops take normalised float tensors.
    let floats = darts_floats(ctx.dataset);
    let d = &floats;
    let pipeline = transform_summary(darts_crop_fill(ctx.dataset).as_deref());
    let classes = d.classes();
    let n_train = d.train_x.size()[0] as usize;
    let fmt = spec.op_format();
    let mut record = NasRecord {
        search: (spec.architecture.is_none()).then(|| spec.search.clone()),
        search_epochs: Vec::new(),
        search_seconds: 0.0,
        epoch_files: Vec::new(),
        architecture_file: String::new(),
        architecture: serde_json::Value::Null,
        parameters: 0,
        random_samples: Vec::new(),
        random_best: None,
        random_architecture: None,
        random_runs: Vec::new(),
        random_mean: None,
        random_std: None,
        retrain_seconds: 0.0,
        random_seconds: 0.0,
    };
    // 1. The architecture: a given file, or the last epoch of a search.
    let (genotype, file) = match &spec.architecture {
        Some(rel) => {
            let path = ctx.suite_dir.join(rel);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{}: cannot read the architecture", path.display()))?;
            let (g, _) = archfile::import(&text, &path.display().to_string())?;
            (g, path.display().to_string())
        }
        None => {
            std::fs::create_dir_all(&ctx.out_dir)
                .with_context(|| format!("{}: cannot create", ctx.out_dir.display()))?;
            ctx.progress.set_message("nas search".into());
            let (tx, ty) = shuffled_train(d, spec.search.seed);
            let config = spec.search.config(classes);
            let mut last: Option<(Genotype, String)> = None;
            let mut epochs: Vec<SearchEpoch> = Vec::new();
            let mut files = Vec::new();
            let mut on_epoch = |e: &SearchEpoch| -> Result<()> {
                ctx.progress.epoch_done();
                let g = try_derive_genotype(&e.normal_alpha, &e.reduce_alpha, Strength::RealOps)?;
                let path = ctx.out_dir.join(format!("epoch_{}.json", e.epoch));
                crate::fsutil::write_atomic(&path, archfile::export(&g, fmt).as_bytes())
                    .with_context(|| format!("{}: cannot write", path.display()))?;
                files.push(path.display().to_string());
                epochs.push(e.clone());
                last = Some((g, path.display().to_string()));
                check_stop(ctx.stop)
            };
            let key = "nas.search";
            let out = match journal::finished::<SearchOutcome>(ctx.journal, key)? {
                Some(done) => {
                    if let Some(journal) = ctx.journal {
                        check_search_entry(&done, config.epochs, &journal.entry(key))?;
                    }
                    done.epochs.iter().try_for_each(&mut on_epoch)?;
                    done
                }
                None => {
                    let parts = [
                        serde_json::to_string(&config)?,
                        serde_json::to_string(&d.info)?,
                        pipeline.clone().unwrap_or_default(),
                    ];
                    let checkpoint = ctx.checkpoint(key, &[&parts[0], &parts[1], &parts[2]]);
                    let transform = train_transform(darts_crop_fill(ctx.dataset), 0);
                    let out = search(
                        &config,
                        &tx,
                        &ty,
                        transform.as_deref(),
                        checkpoint.as_ref(),
                        Some(ctx.stop),
                        on_epoch,
                    )?;
                    journal::record(ctx.journal, key, &out)?;
                    out
                }
            };
            record.search_epochs = epochs;
            record.epoch_files = files;
            record.search_seconds = out.seconds;
            last.context("the search ran no epoch")?
        }
    };
    record.architecture_file = file.clone();
    record.architecture = serde_json::from_str(&archfile::export(&genotype, fmt))?;
    record.parameters = crate::nas::network::DartsNetwork::param_count(
        &genotype,
        d.info.image_shape[0],
        spec.retrain.channels,
        spec.retrain.layers,
        classes,
    );
    arm.hyperparameters = spec.summary_pairs(Some(&file));
    if let Some(p) = &pipeline {
        arm.hyperparameters.push(("augment".into(), p.clone()));
    }
    arm.nas = Some(record.clone());
    save(arm)?;
    // 2. Retrain over the suite's seeds. Times are summed from the units' own, which a
    // resumed run keeps (a replayed unit takes none).
    for &seed in ctx.seeds {
        check_stop(ctx.stop)?;
        ctx.progress.set_message(format!("nas retrain seed {seed}"));
        let key = format!("nas.retrain.seed-{seed}");
        let out = train_genotype(ctx, &key, &genotype, d, seed, spec.retrain.epochs)?;
        let run = run_outcome(seed, &out, n_train);
        if !ctx.quiet {
            ctx.progress.line(run_line(ArmKind::Nas, &run, spec.report));
        }
        record.retrain_seconds += out.seconds;
        arm.runs.push(run);
        arm.summarize();
        arm.nas = Some(record.clone());
        save(arm)?;
    }
    // 3. Random-search baseline.
    if let Some(b) = &spec.random_baseline {
        let val = d.validation_split(b.validation_fraction, b.seed)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(b.seed);
        let mut best: Option<(usize, f64, Genotype)> = None;
        for i in 0..b.samples {
            check_stop(ctx.stop)?;
            ctx.progress.set_message(format!("nas random sample {i}"));
            let g = Genotype::random(&mut rng);
            let key = format!("nas.random.sample-{i}");
            let out = train_genotype(ctx, &key, &g, &val, b.seed, b.epochs)?;
            let score = out.diverged.is_none().then_some(out.last_test_acc);
            record.random_seconds += out.seconds;
            record.random_samples.push(RandomSample {
                architecture: serde_json::from_str(&archfile::export(&g, fmt))?,
                val_acc: score,
                seconds: out.seconds,
            });
            if let Some(s) = score {
                if best.as_ref().is_none_or(|(_, bs, _)| s > *bs) {
                    best = Some((i, s, g));
                }
            }
        }
        if let Some((i, _, g)) = best {
            record.random_best = Some(i);
            record.random_architecture = Some(serde_json::from_str(&archfile::export(&g, fmt))?);
            for &seed in ctx.seeds {
                check_stop(ctx.stop)?;
                ctx.progress
                    .set_message(format!("nas random best seed {seed}"));
                let key = format!("nas.random.seed-{seed}");
                let out = train_genotype(ctx, &key, &g, d, seed, spec.retrain.epochs)?;
                record.random_runs.push(run_outcome(seed, &out, n_train));
                record.random_seconds += out.seconds;
                arm.nas = Some(record.clone());
                save(arm)?;
            }
            let accs: Vec<f64> = record
                .random_runs
                .iter()
                .filter_map(|r| r.reported_acc(spec.report))
                .collect();
            if !accs.is_empty() {
                let (m, s) = mean_std(&accs);
                record.random_mean = Some(m);
                record.random_std = Some(s);
            }
        }
        arm.nas = Some(record.clone());
        save(arm)?;
    }
    Ok(())
}

/// The folder of a result file's epoch files: `<dir>/<stem>-nas`.
pub fn epoch_dir(result_path: &Path) -> PathBuf {
    let stem = result_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "result".into());
    result_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{stem}-nas"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    /// The run's "search" and "retrain" pairs say one cell and one epoch in the singular
    /// (`--epochs 1` sets both epoch counts to 1), as the report does.
    #[test]
    fn summary_pairs_say_one_epoch_and_one_cell_in_the_singular() {
        let mut spec: NasArmSpec = serde_json::from_value(serde_json::json!({})).unwrap();
        spec.search.layers = 1;
        spec.search.epochs = 1;
        spec.retrain.layers = 1;
        spec.retrain.epochs = 1;
        let pairs = spec.summary_pairs(None);
        let (search, retrain) = (&pairs[0], &pairs[1]);
        assert_eq!(search.0, "search");
        assert!(
            search.1.starts_with("DARTS first order, 1 cell C=")
                && search.1.contains(", 1 epoch, "),
            "{pairs:?}"
        );
        assert_eq!(retrain.0, "retrain");
        assert!(
            retrain.1.starts_with("1 cell C=") && retrain.1.contains(", 1 epoch, "),
            "{pairs:?}"
        );
        spec.search.epochs = 2;
        assert!(spec.summary_pairs(None)[0].1.contains(", 2 epochs, "));
        // The report's Chinese says the same counts with its measure words.
        assert!(spec.retrain.summary(Lang::Zh).starts_with("1 个 cell，C="));
    }

    fn cifar_like() -> (tempfile::TempDir, Dataset) {
        let tmp = tempfile::tempdir().unwrap();
        crate::data::cifar10::write_synthetic(tmp.path(), 4, 6, 1).unwrap();
        let spec = crate::data::DatasetSpec {
            name: "cifar10".into(),
            test_fraction: 0.2,
            split_seed: 0,
            samples_per_class: None,
            dir: Some(tmp.path().display().to_string()),
            train_limit: Some(8),
            test_limit: Some(4),
        };
        let ds = crate::data::load(&spec).unwrap();
        (tmp, ds)
    }

    #[test]
    fn cifar_batches_get_darts_normalisation_crop_flip_and_cutout() {
        let _g = crate::data::augment::rng_lock();
        let (_tmp, ds) = cifar_like();
        let floats = darts_floats(&ds);
        assert_eq!(floats.train_x.kind(), Kind::Float);
        // Channel 0 of the first image, by hand: (x / 255 - 0.4914) / 0.2470.
        let raw = ds.train_x.get(0).get(0).get(0).get(0).int64_value(&[]) as f64;
        let got = floats.train_x.get(0).get(0).get(0).get(0).double_value(&[]);
        assert!(
            (got - (raw / 255.0 - 0.4914) / 0.2470).abs() < 1e-5,
            "{got}"
        );
        let fill = darts_crop_fill(&ds).unwrap();
        assert!((fill[2] + 0.4465 / 0.2616).abs() < 1e-12);
        assert!(transform_summary(Some(&fill))
            .unwrap()
            .contains("0.247, 0.2435, 0.2616"));
        // Crop and flip: back in 0..=255, each output pixel is an input pixel value of the same
        // channel, or black (the padding).
        let t = train_transform(Some(fill.clone()), 0).unwrap();
        tch::manual_seed(5);
        let y = t(&floats.train_x);
        assert_eq!(y.size(), floats.train_x.size());
        assert!(!y.equal(&floats.train_x), "the batch changed");
        let mean = [0.4914, 0.4822, 0.4465];
        for c in 0..3i64 {
            let (m, sd) = (mean[c as usize], augment::DARTS_CIFAR10_STD[c as usize]);
            let back = (y.select(1, c).to_kind(Kind::Double) * sd + m) * 255.0;
            let pixels = back.round();
            let off = (&back - &pixels).abs().max().double_value(&[]);
            assert!(off < 1e-3, "channel {c}: {off}");
            let raw = ds.train_x.select(1, c).to_kind(Kind::Double).flatten(0, -1);
            let known = Tensor::isin(&pixels, &raw, false, false).logical_or(&pixels.eq(0.0));
            assert!(bool::try_from(known.all()).unwrap(), "channel {c}");
        }
        // Cutout on top: some pixels become 0 (the normalised mean).
        let with_cutout = train_transform(Some(fill), 16).unwrap();
        tch::manual_seed(5);
        let z = with_cutout(&floats.train_x);
        assert!(i64::try_from(z.eq(0.0).sum(Kind::Int64)).unwrap() > 0);
    }

    #[test]
    fn float_datasets_get_cutout_only() {
        let ds = crate::data::synthetic::load(4, 0.2, 0);
        assert!(darts_crop_fill(&ds).is_none());
        assert!(transform_summary(None).is_none());
        assert!(train_transform(None, 0).is_none());
        assert!(darts_floats(&ds).train_x.equal(&ds.train_x));
        let t = train_transform(None, 4).unwrap();
        tch::manual_seed(1);
        let x = Tensor::ones([3, 1, 8, 8], (Kind::Float, tch::Device::Cpu));
        let y = t(&x);
        for i in 0..3 {
            let zeros = 64.0 - f64::try_from(y.get(i).sum(Kind::Double)).unwrap();
            assert!((1.0..=16.0).contains(&zeros), "{zeros}");
        }
    }
}
