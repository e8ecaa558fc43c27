//! Parsing and validating suite files. Every error names the file, the line and the key.
use crate::data::DatasetSpec;
use crate::hpo::{
    build_assessor, build_tuner, canonical_assessor_name, canonical_tuner_name, check_can_stop,
    Direction, SearchSpace, ASSESSOR_NAMES, TUNER_NAMES,
};
use crate::train::Recipe;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The four ways of getting a model that the lab compares, in the report's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ArmKind {
    /// The original code's hyper-parameters (原始代码).
    Original,
    /// Hand-tuned hyper-parameters (手动调参).
    Manual,
    /// Automatic hyper-parameter optimisation (NNI自动调参).
    Tuned,
    /// Architecture search (网络架构搜索).
    Nas,
}

impl ArmKind {
    pub const ALL: [ArmKind; 4] = [
        ArmKind::Original,
        ArmKind::Manual,
        ArmKind::Tuned,
        ArmKind::Nas,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ArmKind::Original => "original",
            ArmKind::Manual => "manual",
            ArmKind::Tuned => "tuned",
            ArmKind::Nas => "nas",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    pub suite: SuiteMeta,
    pub dataset: DatasetSpec,
    pub arms: Arms,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteMeta {
    pub name: String,
    /// Bumped whenever an arm's definition changes, so results of different definitions are
    /// never compared as if they were the same experiment.
    pub version: u32,
    #[serde(default)]
    pub description: String,
    /// Every arm runs once per seed.
    pub seeds: Vec<u64>,
    /// Largest accuracy drop (fraction, e.g. 0.02 = 2 points) `harness check` tolerates.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// libtorch intra-op threads for every run (default: libtorch's choice, usually the core
    /// count). Fixing it makes runs repeat exactly across machines with different core counts,
    /// and small models run faster on one thread than on two busy-waiting ones.
    #[serde(default)]
    pub threads: Option<i32>,
}

fn default_tolerance() -> f64 {
    0.01
}

/// The arms, by their fixed names; an unknown name is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Arms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<ArmSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<ArmSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuned: Option<TunedArmSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nas: Option<super::nas::NasArmSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmSpec {
    #[serde(default)]
    pub description: String,
    pub recipe: Recipe,
}

/// The HPO arm: a base recipe (its epochs are the full budget), a search space in NNI's
/// format, and how to search it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunedArmSpec {
    #[serde(default)]
    pub description: String,
    pub recipe: Recipe,
    pub hpo: HpoSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpoSpec {
    /// NNI search-space JSON, relative to the suite file.
    pub search_space: String,
    /// random, grid, tpe, anneal or evolution.
    pub tuner: String,
    #[serde(default = "empty_table", deserialize_with = "finite_options")]
    pub tuner_options: serde_json::Value,
    /// Required: "maximize" or "minimize". There is no default (NNI's TPE silently minimised).
    pub optimize_mode: String,
    /// What a trial reports: "val_acc" (a validation split of the training set; the test set is
    /// never used for selection) or "test_acc" (what the lab did).
    #[serde(default = "default_metric")]
    pub metric: String,
    /// Fraction of each class of the training set held out for "val_acc".
    #[serde(default = "default_validation_fraction")]
    pub validation_fraction: f64,
    /// Epochs per trial during the search (the search budget).
    pub trial_epochs: usize,
    pub max_trials: usize,
    #[serde(default)]
    pub max_duration_s: Option<f64>,
    /// Search budget in trial-epochs: the search ends when its trials have trained this many
    /// epochs (the trial then running is stopped there). The same on every machine.
    #[serde(default)]
    pub max_trial_epochs: Option<usize>,
    #[serde(default = "one")]
    pub concurrency: usize,
    /// none, medianstop, asha or hyperband.
    #[serde(default = "default_assessor")]
    pub assessor: String,
    #[serde(default = "empty_table", deserialize_with = "finite_options")]
    pub assessor_options: serde_json::Value,
    /// Seed of the tuner's proposals.
    #[serde(default)]
    pub tuner_seed: u64,
    /// Training seed of every search trial.
    #[serde(default)]
    pub trial_seed: u64,
    /// Also retrain the k best configurations at the full budget (first suite seed) and report
    /// the rank correlation between search-time and full-budget accuracy; 0 or 1 = off.
    #[serde(default)]
    pub retrain_top_k: usize,
}

/// Tuner or assessor options, as the JSON the hpo module reads. TOML's `nan` and `inf` have no
/// JSON form (they would become null, and the option's error would say "got null"): refused
/// here, naming the option.
fn finite_options<'de, D: serde::Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
    let value = toml::Value::deserialize(d)?;
    if let Some((at, v)) = non_finite(&value, "") {
        return Err(serde::de::Error::custom(format!(
            "option \"{at}\" is {v}: options are finite numbers"
        )));
    }
    serde_json::to_value(&value).map_err(serde::de::Error::custom)
}

/// The first NaN or infinite float in a TOML value, with its dotted path below `at`.
fn non_finite(value: &toml::Value, at: &str) -> Option<(String, f64)> {
    let below = |key: &str| match at {
        "" => key.to_string(),
        _ => format!("{at}.{key}"),
    };
    match value {
        toml::Value::Float(f) if !f.is_finite() => Some((at.to_string(), *f)),
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| non_finite(v, &format!("{at}[{i}]"))),
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| non_finite(v, &below(k))),
        _ => None,
    }
}

fn empty_table() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}
fn default_metric() -> String {
    "val_acc".to_string()
}
fn default_validation_fraction() -> f64 {
    0.2
}
fn one() -> usize {
    1
}
fn default_assessor() -> String {
    "none".to_string()
}

/// A suite as loaded from disk: its definition, where it came from, and its digest.
#[derive(Debug, Clone)]
pub struct LoadedSuite {
    pub file: SuiteFile,
    /// The tuned arm's search space, loaded and validated with the suite.
    pub search_space: Option<SearchSpace>,
    pub path: PathBuf,
    pub sha256: String,
    /// Changes made on the command line (e.g. "epochs=2"), stated in results and reports.
    pub overrides: Vec<String>,
    /// The command-line arguments that made `overrides`, one word each (`--epochs`, `2`):
    /// recorded in the result so every printed resume command can repeat them.
    pub override_args: Vec<String>,
    /// The files the suite names (search space, architecture) with their digests.
    pub inputs: Vec<crate::results::InputFile>,
}

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    // Not `source`: thiserror would also return it as the cause, said twice by `{:#}`.
    #[error("{path}: cannot read the suite file: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        path: String,
        line: usize,
        key: String,
        message: String,
    },
}

/// The suite file's TOML, typed. An error in a value names its dotted key before toml's
/// message (`arms.manual.recipe.epochs: invalid type: …`): toml gives the line and snippet
/// but not the table, and keys such as `epochs` recur under every arm.
fn parse_toml(text: &str) -> Result<SuiteFile, String> {
    let de = toml::Deserializer::parse(text).map_err(|e| e.to_string().trim_end().to_string())?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let shown = inner.to_string().trim_end().to_string();
        if key == "." {
            return shown;
        }
        // toml's text ends with its message, after the line and snippet.
        let message = inner.message().trim_end();
        match shown.strip_suffix(message) {
            Some(head) => format!("{head}{key}: {}", plain_types(message, &key)),
            None => format!("{key}: {}", plain_types(&shown, &key)),
        }
    })
}

/// The whole numbers the setting at dotted `key` takes, where that is narrower than its type
/// (`max_trials = -1` and `max_trials = 0` must say the same bound).
fn whole_number_range(key: &str) -> Option<&'static str> {
    let leaf = key.rsplit('.').next().unwrap_or(key);
    match leaf {
        // ranges::count, wherever a suite sets epochs or a batch size.
        "epochs" | "batch_size" | "trial_epochs" => Some("a whole number in [1, 1000000]"),
        "samples" if key.ends_with("random_baseline.samples") => {
            Some("a whole number in [1, 1000000]")
        }
        "max_trials" | "max_trial_epochs" | "concurrency" if key.starts_with("arms.tuned.hpo.") => {
            Some("a whole number >= 1")
        }
        _ => None,
    }
}

/// serde's messages name Rust types (`expected usize`); a suite's author wrote TOML. `key` is
/// the dotted key the message is about, for the range of a whole number.
fn plain_types(message: &str, key: &str) -> String {
    let words = [
        (
            "usize",
            whole_number_range(key).unwrap_or("a whole number >= 0"),
        ),
        ("u64", "a whole number >= 0"),
        ("u32", "a whole number >= 0"),
        ("i64", "a whole number"),
        ("i32", "a whole number"),
        ("f64", "a number"),
    ];
    words.iter().fold(message.to_string(), |m, (rust, plain)| {
        m.replace(&format!("expected {rust}"), &format!("expected {plain}"))
    })
}

impl LoadedSuite {
    pub fn load(path: &Path) -> Result<LoadedSuite, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|error| SuiteError::Read {
            path: path.display().to_string(),
            error,
        })?;
        LoadedSuite::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<LoadedSuite, SuiteError> {
        let shown = path.display().to_string();
        let mut file = parse_toml(text).map_err(|message| SuiteError::Parse {
            path: shown.clone(),
            message,
        })?;
        canonical_names(&mut file);
        validate(&file, text, &shown)?;
        validate_against_data(&file, text, &shown)?;
        // The files the suite names, each read once: checked, and its digest recorded.
        let mut inputs = Vec::new();
        if let Some(rel) = file.arms.nas.as_ref().and_then(|n| n.architecture.as_ref()) {
            let arch = relative_to(path).join(rel);
            let invalid =
                |message: String| SuiteError::at(&shown, text, "arms.nas", "architecture", message);
            let content = std::fs::read_to_string(&arch)
                .map_err(|e| invalid(format!("{}: {e}", arch.display())))?;
            crate::nas::archfile::import(&content, &arch.display().to_string())
                .map_err(|e| invalid(e.to_string()))?;
            inputs.push(input_file("arms.nas.architecture", &arch, &content));
        }
        let search_space = match &file.arms.tuned {
            Some(tuned) => {
                let (space, input) =
                    load_search_space(tuned, &file.dataset.name, path, text, &shown)?;
                inputs.push(input);
                Some(space)
            }
            None => None,
        };
        Ok(LoadedSuite {
            file,
            search_space,
            path: path.to_path_buf(),
            sha256: sha256_hex(text.as_bytes()),
            overrides: Vec::new(),
            override_args: Vec::new(),
            inputs,
        })
    }

    /// Before a run writes anything: the training step of each arm's recipe on a zoo model
    /// must fit in `memory`, what this process may use (the estimate and its measurement are
    /// [`crate::models::memory`]'s, as `harness bench` has them). Started, a step too large is
    /// granted by Linux and the kernel then kills the process with nothing said, the result
    /// left "running". A refusal names the suite file, the arm and the field to lower
    /// (`batch_size`; `model` or `head_classes` where no batch fits), with the estimate and
    /// the memory. A batch takes at most the whole training set (`data`). The tuned arm's
    /// recipe is checked as written unless its search space sets a field that sizes the step,
    /// then with each value the space gives such a field, as the suite's other checks probe
    /// it (pairs of values are left to the trials). Only the CPU's memory: call it for runs on
    /// the CPU (GPU memory is out of scope, see [`crate::models::memory`]).
    pub fn check_memory(
        &self,
        data: &crate::data::DatasetInfo,
        memory: crate::env::MemoryBudget,
    ) -> anyhow::Result<()> {
        use crate::models::memory::{Knob, KnobNames, MemoryEstimate, TrainingStep};
        const FIELDS: KnobNames = KnobNames {
            classes: "head_classes",
            batch: "batch_size",
            model: "model",
        };
        // Recipe fields that size a training step.
        const SIZING: [&str; 5] = ["model", "style", "head_classes", "batch_size", "optimizer"];
        let shown = self.path.display().to_string();
        let text = || std::fs::read_to_string(&self.path).unwrap_or_default();
        // One measurement per model, style and head (arms often share them).
        let mut estimates: Vec<(TrainingStep, MemoryEstimate)> = Vec::new();
        let mut problem = |recipe: &Recipe| -> anyhow::Result<Option<(Knob, String)>> {
            if !crate::models::is_zoo(&recipe.model) {
                return Ok(None);
            }
            let [c, h, w] = data.image_shape;
            let step = TrainingStep {
                model: recipe.model.clone(),
                style: recipe.style,
                classes: recipe.head_classes.unwrap_or(data.classes),
                image: (c, h, w),
                state_slots: recipe.optimizer.state_slots(recipe.momentum),
                device: tch::Device::Cpu,
            };
            let estimate = match estimates.iter().find(|(s, _)| *s == step) {
                Some((_, e)) => *e,
                None => {
                    let e = MemoryEstimate::of(&step, memory.bytes)?;
                    estimates.push((step.clone(), e));
                    e
                }
            };
            // The trainer's batches: the last one, or the only one, may be smaller.
            let batch = recipe.batch_size.min(data.n_train) as i64;
            Ok(estimate
                .problem(&step, batch, memory, &FIELDS)
                .map(|(knob, mut message)| {
                    if recipe.batch_size > data.n_train {
                        message.push_str(&format!(
                            " (batch_size is {}: a step takes all {} training images)",
                            recipe.batch_size, data.n_train
                        ));
                    }
                    (knob, message)
                }))
        };
        let field = |knob: Knob, recipe: &Recipe| match knob {
            Knob::Batch => "batch_size",
            Knob::Classes if recipe.head_classes.is_some() => "head_classes",
            Knob::Classes | Knob::Model => "model",
        };
        for kind in [ArmKind::Original, ArmKind::Manual] {
            let Some(spec) = self.training_arm(kind) else {
                continue;
            };
            if let Some((knob, message)) = problem(&spec.recipe)? {
                let table = format!("arms.{}.recipe", kind.name());
                let key = field(knob, &spec.recipe);
                return Err(SuiteError::at(&shown, &text(), &table, key, message).into());
            }
        }
        let (Some(tuned), Some(space)) = (&self.file.arms.tuned, &self.search_space) else {
            return Ok(());
        };
        let probes: Vec<_> = space
            .probes()
            .into_iter()
            .filter(|p| SIZING.contains(&p.key.rsplit('/').next().unwrap_or(&p.key)))
            .collect();
        if probes.is_empty() {
            if let Some((knob, message)) = problem(&tuned.recipe)? {
                let key = field(knob, &tuned.recipe);
                return Err(
                    SuiteError::at(&shown, &text(), "arms.tuned.recipe", key, message).into(),
                );
            }
        }
        for probe in &probes {
            // A value that makes no valid recipe was refused when the suite was read.
            let Ok(recipe) = crate::suite::tuned::apply_params(&tuned.recipe, &probe.params) else {
                continue;
            };
            if let Some((knob, message)) = problem(&recipe)? {
                let message = format!(
                    "{}: key \"{}\": with the value {}, {}: {message}",
                    space.source_name,
                    probe.key,
                    shown_value(&probe.value),
                    field(knob, &recipe)
                );
                let table = "arms.tuned.hpo";
                return Err(SuiteError::at(&shown, &text(), table, "search_space", message).into());
            }
        }
        Ok(())
    }

    /// A failure to read the suite's dataset, said where it was asked for: `--data-dir`, or the
    /// suite's `dataset.dir` (its file and line). Datasets without files pass through as they are.
    pub fn dataset_error(&self, error: anyhow::Error) -> anyhow::Error {
        if self.file.dataset.name != "cifar10" {
            return error;
        }
        if self.override_args.iter().any(|a| a == "--data-dir") {
            return error.context("--data-dir");
        }
        let shown = self.path.display().to_string();
        let line = std::fs::read_to_string(&self.path).map_or(1, |t| locate(&t, "dataset", "dir"));
        let dir = match &self.file.dataset.dir {
            Some(_) => "dataset.dir",
            None => "dataset.dir (not set: the default data/cifar10)",
        };
        SuiteError::Invalid {
            path: shown,
            line,
            key: dir.into(),
            message: format!("{error:#}"),
        }
        .into()
    }

    /// The folder the suite's relative paths (search space, architecture) are resolved in.
    pub fn dir(&self) -> &Path {
        relative_to(&self.path)
    }

    /// The arms that are defined, in the report's order.
    pub fn arms(&self) -> Vec<ArmKind> {
        let a = &self.file.arms;
        [
            (ArmKind::Original, a.original.is_some()),
            (ArmKind::Manual, a.manual.is_some()),
            (ArmKind::Tuned, a.tuned.is_some()),
            (ArmKind::Nas, a.nas.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, present)| present.then_some(k))
        .collect()
    }

    /// The plain training arms (original, manual) that are defined.
    pub fn training_arm(&self, kind: ArmKind) -> Option<&ArmSpec> {
        match kind {
            ArmKind::Original => self.file.arms.original.as_ref(),
            ArmKind::Manual => self.file.arms.manual.as_ref(),
            _ => None,
        }
    }

    /// Epochs one seed of an arm trains for at its full budget (for progress bars).
    pub fn full_budget_epochs(&self, kind: ArmKind) -> usize {
        match kind {
            ArmKind::Tuned => self.file.arms.tuned.as_ref().map_or(0, |t| t.recipe.epochs),
            ArmKind::Nas => self.file.arms.nas.as_ref().map_or(0, |n| n.retrain.epochs),
            _ => self.training_arm(kind).map_or(0, |s| s.recipe.epochs),
        }
    }

    /// Replaces every arm's epoch count (a shorter run on a slow machine); recorded. Refused
    /// (the message, for `--epochs`) outside the range a suite's epochs may take.
    pub fn override_epochs(&mut self, epochs: usize) -> Result<(), String> {
        crate::train::ranges::count(epochs)?;
        for spec in [&mut self.file.arms.original, &mut self.file.arms.manual]
            .into_iter()
            .flatten()
        {
            spec.recipe.epochs = epochs;
        }
        if let Some(tuned) = &mut self.file.arms.tuned {
            tuned.recipe.epochs = epochs;
            tuned.hpo.trial_epochs = tuned.hpo.trial_epochs.min(epochs);
        }
        if let Some(nas) = &mut self.file.arms.nas {
            nas.search.epochs = epochs;
            nas.retrain.epochs = epochs;
            if let Some(b) = &mut nas.random_baseline {
                b.epochs = b.epochs.min(epochs);
            }
        }
        self.overrides.push(format!("epochs={epochs} (all arms)"));
        self.override_args
            .extend(["--epochs".into(), epochs.to_string()]);
        Ok(())
    }

    /// When `--epochs` shortened the tuned arm's trials below its assessor's first decision
    /// (allowed: a quick check of a suite), a note saying that no trial can be stopped early.
    pub fn idle_assessor_note(&self) -> Option<String> {
        let hpo = &self.file.arms.tuned.as_ref()?.hpo;
        let why = check_can_stop(&hpo.assessor, hpo.trial_epochs, &hpo.assessor_options).err()?;
        Some(format!(
            "with trials of {} epoch{}, the tuned arm's assessor `{}` can stop no trial early \
             ({why}); the search runs every trial to its end",
            hpo.trial_epochs,
            if hpo.trial_epochs == 1 { "" } else { "s" },
            hpo.assessor
        ))
    }

    /// Replaces the intra-op thread count; recorded.
    pub fn override_threads(&mut self, threads: i32) {
        self.overrides.push(format!("threads={threads}"));
        self.override_args
            .extend(["--threads".into(), threads.to_string()]);
        self.file.suite.threads = Some(threads);
    }

    /// Reads the dataset's files from `dir` instead of the suite's `dataset.dir` (cifar10);
    /// recorded. Refused (the message, for `--data-dir`) for a dataset that reads no files.
    pub fn override_data_dir(&mut self, dir: &str) -> Result<(), String> {
        let name = &self.file.dataset.name;
        if !dataset_keys(name).contains(&"dir") {
            return Err(format!(
                "the suite's dataset \"{name}\" reads no files (only cifar10 does): \
                 leave --data-dir out"
            ));
        }
        self.file.dataset.dir = Some(dir.to_string());
        self.overrides.push(format!("data_dir={dir}"));
        self.override_args
            .extend(["--data-dir".into(), dir.to_string()]);
        Ok(())
    }

    /// Replaces the seed list; recorded.
    pub fn override_seeds(&mut self, seeds: Vec<u64>) {
        self.overrides.push(format!(
            "seeds=[{}]",
            seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
        self.override_args
            .extend(["--seeds".into(), list.join(",")]);
        self.file.suite.seeds = seeds;
    }

    /// The command that continues an interrupted run of this suite in `result`: with the
    /// options that changed the suite, since a resume with other options is refused.
    pub fn resume_command(&self, result: &Path) -> String {
        crate::shell::resume_command(
            &self.path.display().to_string(),
            &self.override_args,
            &crate::shell::path_word(&result.display().to_string()),
        )
    }
}

impl SuiteError {
    /// A problem with `table.key` of the suite file `path` (whose text is `text`), at the line
    /// where that key (or its table) is written.
    fn at(path: &str, text: &str, table: &str, key: &str, message: String) -> SuiteError {
        SuiteError::Invalid {
            path: path.to_string(),
            line: locate(text, table, key),
            key: format!("{table}.{key}"),
            message,
        }
    }
}

/// A file the suite names (`key`), with the digest of its content.
fn input_file(key: &str, path: &Path, content: &str) -> crate::results::InputFile {
    crate::results::InputFile {
        key: key.into(),
        path: path.display().to_string(),
        sha256: sha256_hex(content.as_bytes()),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The tuned arm's tuner, assessor and direction as results and reports record them: NNI's
/// spellings (`TPE`, `GridSearch`, `Medianstop`, `Maximize`) are accepted in any case, and a
/// result says `tpe` whichever was written. A name not recognised is left as written, for
/// [`validate_hpo`]'s message.
fn canonical_names(file: &mut SuiteFile) {
    let Some(tuned) = &mut file.arms.tuned else {
        return;
    };
    let h = &mut tuned.hpo;
    if let Some(name) = canonical_tuner_name(&h.tuner) {
        h.tuner = name.into();
    }
    if let Some(name) = canonical_assessor_name(&h.assessor) {
        h.assessor = name.into();
    }
    if let Some(direction) = Direction::parse(&h.optimize_mode) {
        h.optimize_mode = direction.name().into();
    }
}

fn validate(file: &SuiteFile, text: &str, path: &str) -> Result<(), SuiteError> {
    let invalid =
        |table: &str, key: &str, message: String| SuiteError::at(path, text, table, key, message);
    let meta = &file.suite;
    // It heads the report and names result files, as a machine's label does.
    if let Some(why) = crate::env::label_problem(&meta.name) {
        return Err(invalid("suite", "name", why.into()));
    }
    if meta.seeds.is_empty() {
        return Err(invalid("suite", "seeds", "needs at least one seed".into()));
    }
    if let Some(dup) = repeated_seed(&meta.seeds) {
        return Err(invalid(
            "suite",
            "seeds",
            format!("seed {dup} is listed twice"),
        ));
    }
    if let Some(t) = meta.threads {
        if !(1..=1024).contains(&t) {
            return Err(invalid(
                "suite",
                "threads",
                format!("must be in [1, 1024], got {t}"),
            ));
        }
    }
    if let Some(why) = tolerance_problem(meta.tolerance) {
        return Err(invalid("suite", "tolerance", why));
    }
    let d = &file.dataset;
    if !DATASETS.contains(&d.name.as_str()) {
        return Err(invalid(
            "dataset",
            "name",
            format!(
                "unknown dataset \"{}\": expected one of digits, synthetic, cifar10",
                d.name
            ),
        ));
    }
    if let Some(key) = unused_dataset_key(text, &d.name) {
        let users: Vec<&str> = DATASETS
            .into_iter()
            .filter(|n| dataset_keys(n).contains(&key.as_str()))
            .collect();
        return Err(invalid(
            "dataset",
            &key,
            format!(
                "the {} dataset does not use it (only {} does): remove it",
                d.name,
                users.join(", ")
            ),
        ));
    }
    if !(d.test_fraction > 0.0 && d.test_fraction < 1.0) {
        return Err(invalid(
            "dataset",
            "test_fraction",
            format!("must be in (0, 1), got {}", d.test_fraction),
        ));
    }
    let arms = [
        ("original", file.arms.original.as_ref().map(|a| &a.recipe)),
        ("manual", file.arms.manual.as_ref().map(|a| &a.recipe)),
        ("tuned", file.arms.tuned.as_ref().map(|a| &a.recipe)),
    ];
    if arms.iter().all(|(_, a)| a.is_none()) && file.arms.nas.is_none() {
        return Err(SuiteError::Invalid {
            path: path.to_string(),
            line: locate(text, "arms", ""),
            key: "arms".into(),
            message: "the suite defines no arm (expected at least one of [arms.original], \
                      [arms.manual], [arms.tuned], [arms.nas])"
                .into(),
        });
    }
    for (name, recipe) in arms {
        if let Some(recipe) = recipe {
            let table = format!("arms.{name}.recipe");
            recipe
                .validate()
                .map_err(|e| invalid(&table, &e.field, e.message.clone()))?;
            check_recipe_for_dataset(recipe, &d.name)
                .map_err(|(field, message)| invalid(&table, field, message))?;
            // The tuned arm's trials may set what a key depends on: checked with its space.
            let unused = (name != "tuned")
                .then(|| unused_recipe_key(recipe, text, &table, |_| false))
                .flatten();
            if let Some((key, why)) = unused {
                let message = format!("has no effect: it is {why}; remove it");
                return Err(invalid(&table, &key, message));
            }
        }
    }
    if let Some(tuned) = &file.arms.tuned {
        validate_hpo(&tuned.hpo)
            .map_err(|(key, message)| invalid("arms.tuned.hpo", key, message))?;
        // Trials scored on the test set hold nothing out: the fraction would be ignored.
        if tuned.hpo.metric == "test_acc"
            && written_keys(text, "arms.tuned.hpo").contains(&"validation_fraction".into())
        {
            return Err(invalid(
                "arms.tuned.hpo",
                "validation_fraction",
                "has no effect: with metric = \"test_acc\" the trials are scored on the test set \
                 and nothing is held out; remove it, or use metric = \"val_acc\""
                    .into(),
            ));
        }
    }
    if let Some(nas) = &file.arms.nas {
        nas.validate().map_err(|(key, message)| {
            let (table, key) = match key.rsplit_once('.') {
                Some((t, k)) => (format!("arms.nas.{t}"), k.to_string()),
                None => ("arms.nas".to_string(), key),
            };
            invalid(&table, &key, message)
        })?;
    }
    Ok(())
}

const DATASETS: [&str; 3] = ["digits", "synthetic", "cifar10"];

/// The `[dataset]` keys each dataset reads. A key for another dataset would be ignored without
/// a word (a `samples_per_class = 1` on digits still trained on all 1,797 images).
fn dataset_keys(name: &str) -> &'static [&'static str] {
    match name {
        "digits" => &["name", "test_fraction", "split_seed"],
        "synthetic" => &["name", "test_fraction", "split_seed", "samples_per_class"],
        // CIFAR-10's train/test split is fixed.
        "cifar10" => &["name", "dir", "train_limit", "test_limit"],
        _ => &["name"],
    }
}

/// The first key written in the suite's `[dataset]` table that its dataset does not read.
fn unused_dataset_key(text: &str, name: &str) -> Option<String> {
    written_keys(text, "dataset")
        .into_iter()
        .find(|k| !dataset_keys(name).contains(&k.as_str()))
}

/// The keys written in the table at dotted path `table` (defaults are not written).
fn written_keys(text: &str, table: &str) -> Vec<String> {
    let Ok(doc) = toml::de::DeTable::parse(text) else {
        return Vec::new();
    };
    let mut current = doc.get_ref();
    for part in table.split('.') {
        let found = current.iter().find(|(k, _)| k.get_ref() == part);
        match found.and_then(|(_, v)| v.get_ref().as_table()) {
            Some(t) => current = t,
            None => return Vec::new(),
        }
    }
    current
        .iter()
        .map(|(k, _)| k.get_ref().to_string())
        .collect()
}

/// A recipe key written in the suite that the recipe does not use (`gamma` without a step
/// schedule), unless `used_elsewhere` (some trial of a search would use it): whoever reads the
/// suite would believe it matters.
fn unused_recipe_key(
    recipe: &Recipe,
    text: &str,
    table: &str,
    used_elsewhere: impl Fn(&str) -> bool,
) -> Option<(String, &'static str)> {
    written_keys(text, table).into_iter().find_map(|key| {
        let why = recipe.unused_field(&key)?;
        (!used_elsewhere(&key)).then_some((key, why))
    })
}

/// The first seed listed a second time: it would run (and count) the same run twice. For the
/// suite file's `seeds` and `harness run --seeds` alike.
pub fn repeated_seed(seeds: &[u64]) -> Option<u64> {
    let mut seen = std::collections::HashSet::new();
    seeds.iter().copied().find(|s| !seen.insert(*s))
}

/// Why `tolerance` cannot be the accuracy drop `harness check` tolerates. Result files are
/// held to it too: the gate reads the tolerance from the baseline file, not the suite.
pub fn tolerance_problem(tolerance: f64) -> Option<String> {
    (!(0.0..1.0).contains(&tolerance))
        .then(|| format!("must be in [0, 1) (an accuracy fraction), got {tolerance}"))
}

/// What a recipe asks of the dataset, checked when the suite is read rather than when the arm
/// starts (after the arms before it have trained). All three datasets have 10 classes.
pub(crate) fn check_recipe_for_dataset(
    recipe: &Recipe,
    dataset: &str,
) -> Result<(), (&'static str, String)> {
    let needs_cifar = |field: &'static str, why: &str| {
        Err((
            field,
            format!("needs dataset cifar10{why}, the suite uses {dataset}"),
        ))
    };
    if dataset != "cifar10" {
        // Per-batch augmentation exists only for u8-image datasets (cifar10).
        if recipe.augment != crate::train::AugmentKind::None {
            return needs_cifar("augment", "");
        }
        if recipe.cutout > 0 {
            return needs_cifar("cutout", "");
        }
        // digits and synthetic are 1×8×8; the zoo models take 3-channel 32×32 images.
        if crate::models::is_zoo(&recipe.model) {
            return needs_cifar("model", " (3-channel images of at least 32×32)");
        }
    }
    if let Some(h) = recipe.head_classes {
        if h < 10 {
            return Err((
                "head_classes",
                format!("must be at least the dataset's 10 classes, got {h}"),
            ));
        }
    }
    Ok(())
}

fn validate_hpo(h: &HpoSpec) -> Result<(), (&'static str, String)> {
    let direction = Direction::parse(&h.optimize_mode).ok_or((
        "optimize_mode",
        format!(
            "must be \"maximize\" or \"minimize\", got \"{}\"",
            h.optimize_mode
        ),
    ))?;
    if !["val_acc", "test_acc"].contains(&h.metric.as_str()) {
        return Err((
            "metric",
            format!("must be \"val_acc\" or \"test_acc\", got \"{}\"", h.metric),
        ));
    }
    if direction == Direction::Minimize {
        return Err((
            "optimize_mode",
            format!(
                "\"minimize\" with the accuracy metric \"{}\" would select the worst configuration; use \"maximize\"",
                h.metric
            ),
        ));
    }
    if !TUNER_NAMES.contains(&h.tuner.as_str()) {
        return Err((
            "tuner",
            format!(
                "unknown tuner \"{}\": expected one of {} (in any case; NNI's \
                 \"GridSearch\" is grid)",
                h.tuner,
                TUNER_NAMES.join(", ")
            ),
        ));
    }
    if !ASSESSOR_NAMES.contains(&h.assessor.as_str()) {
        return Err((
            "assessor",
            format!(
                "unknown assessor \"{}\": expected one of {} (in any case)",
                h.assessor,
                ASSESSOR_NAMES.join(", ")
            ),
        ));
    }
    // Epochs, as a recipe's (a trial trains a recipe with trial_epochs as its epochs).
    crate::train::ranges::count(h.trial_epochs).map_err(|m| ("trial_epochs", m))?;
    if h.max_trials == 0 {
        return Err(("max_trials", "must be >= 1".into()));
    }
    if h.max_trial_epochs == Some(0) {
        return Err(("max_trial_epochs", "must be >= 1".into()));
    }
    if h.concurrency == 0 {
        return Err(("concurrency", "must be >= 1".into()));
    }
    if h.retrain_top_k > h.max_trials {
        return Err((
            "retrain_top_k",
            format!(
                "{} is more than max_trials = {}: the search has at most that many \
                 configurations to retrain",
                h.retrain_top_k, h.max_trials
            ),
        ));
    }
    if !(h.validation_fraction > 0.0 && h.validation_fraction < 1.0) {
        return Err((
            "validation_fraction",
            format!("must be in (0, 1), got {}", h.validation_fraction),
        ));
    }
    if let Some(d) = h.max_duration_s {
        if d.is_nan() || d <= 0.0 {
            return Err(("max_duration_s", format!("must be > 0, got {d}")));
        }
    }
    Ok(())
}

/// A probed value as the user wrote it: a q-rounded or bound value such as
/// 0.0010000000000000002 (binary rounding of 1 · 0.001) is shown to 12 significant digits.
fn shown_value(value: &serde_json::Value) -> String {
    match value.as_f64().filter(|_| value.is_f64()) {
        Some(v) => format!("{v:.11e}").parse::<f64>().unwrap_or(v).to_string(),
        None => value.to_string(),
    }
}

/// The folder of the suite file at `suite_path`, where its relative paths point from.
fn relative_to(suite_path: &Path) -> &Path {
    suite_path.parent().unwrap_or(Path::new("."))
}

/// Loads the tuned arm's search space (relative to the suite file) and checks it against the
/// recipe fields a trial can set, and the tuner and assessor options against the space; with
/// the file's digest.
fn load_search_space(
    tuned: &TunedArmSpec,
    dataset: &str,
    suite_path: &Path,
    text: &str,
    shown: &str,
) -> Result<(SearchSpace, crate::results::InputFile), SuiteError> {
    let space_path = relative_to(suite_path).join(&tuned.hpo.search_space);
    let error =
        |key: &str, message: String| SuiteError::at(shown, text, "arms.tuned.hpo", key, message);
    let space_error = |message: String| error("search_space", message);
    let space_text = SearchSpace::read_text(&space_path).map_err(|e| space_error(e.to_string()))?;
    let space = SearchSpace::from_json_str(&space_text, &space_path.display().to_string())
        .map_err(|e| space_error(e.to_string()))?;
    space
        .check_params(&crate::suite::tuned::recipe_param_specs())
        .map_err(|e| space_error(e.to_string()))?;
    // Every value the space can give must make a recipe this suite can train; pairs of values
    // are left to the trials (a failed trial is recorded and the search goes on).
    let probes = space.probes();
    for probe in &probes {
        let problem = match crate::suite::tuned::apply_params(&tuned.recipe, &probe.params) {
            Err(e) => Some((e.field, e.message)),
            Ok(recipe) => check_recipe_for_dataset(&recipe, dataset)
                .err()
                .map(|(field, message)| (field.to_string(), message)),
        };
        if let Some((field, message)) = problem {
            return Err(space_error(format!(
                "{}: key \"{}\": with the value {}, the tuned arm's recipe is invalid: \
                 {field}: {message}",
                space.source_name,
                probe.key,
                shown_value(&probe.value)
            )));
        }
    }
    if let Some(message) = unused_search_key(&space, &probes, &tuned.recipe) {
        return Err(space_error(message));
    }
    if let Some(message) = trials_longer_than_the_budget(tuned, &space, &probes) {
        return Err(error("trial_epochs", message));
    }
    let empty = crate::hpo::Params::new();
    let used_by_a_trial = |key: &str| some_trial_uses(&probes, &tuned.recipe, key, &empty, "");
    let table = "arms.tuned.recipe";
    if let Some((key, why)) = unused_recipe_key(&tuned.recipe, text, table, used_by_a_trial) {
        let message = format!(
            "has no effect: it is {why}, and no trial of the search space sets that; remove it"
        );
        return Err(SuiteError::at(shown, text, table, &key, message));
    }
    let direction = Direction::parse(&tuned.hpo.optimize_mode).unwrap_or(Direction::Maximize);
    let option_error = |key: &str, e: crate::hpo::BuildError| {
        let hint = match (&e, key) {
            (crate::hpo::BuildError::UnknownOption { .. }, "tuner_options") => {
                nni_class_args_hint(&tuned.hpo.tuner_options, key)
            }
            (crate::hpo::BuildError::UnknownOption { .. }, "assessor_options") => {
                nni_class_args_hint(&tuned.hpo.assessor_options, key)
            }
            _ => String::new(),
        };
        error(key, format!("{e}{hint}"))
    };
    build_tuner(
        &tuned.hpo.tuner,
        &space,
        direction,
        0,
        &tuned.hpo.tuner_options,
    )
    .map_err(|e| option_error("tuner_options", e))?;
    build_assessor(
        &tuned.hpo.assessor,
        direction,
        tuned.hpo.trial_epochs,
        &tuned.hpo.assessor_options,
    )
    .map_err(|e| option_error("assessor_options", e))?;
    check_can_stop(
        &tuned.hpo.assessor,
        tuned.hpo.trial_epochs,
        &tuned.hpo.assessor_options,
    )
    .map_err(|e| option_error("assessor_options", e))?;
    let input = input_file("arms.tuned.hpo.search_space", &space_path, &space_text);
    Ok((space, input))
}

/// Where NNI's classArgs habits belong here: NNI gives its tuners and assessors the direction
/// and the seed as classArgs; here they are settings of the whole search. Empty when `options`
/// (the `key` table) has neither.
fn nni_class_args_hint(options: &serde_json::Value, key: &str) -> String {
    let mut hint = String::new();
    if options.get("optimize_mode").is_some() {
        hint += &format!("; set optimize_mode in [arms.tuned.hpo], not in {key}");
    }
    if key == "tuner_options" && options.get("seed").is_some() {
        hint += "; the tuner's seed is tuner_seed in [arms.tuned.hpo]";
    }
    hint
}

/// Search trials that would train longer than a chosen configuration is then retrained: the
/// full budget is the recipe's `epochs`, or the `epochs` the search space gives (the smallest
/// one it can give is checked, and the recipe's too unless the space sets epochs for every
/// trial). The retraining would be the short run, and the search's ranking would be of runs
/// longer than the one reported.
fn trials_longer_than_the_budget(
    tuned: &TunedArmSpec,
    space: &SearchSpace,
    probes: &[crate::hpo::space::Probe],
) -> Option<String> {
    let trial_epochs = tuned.hpo.trial_epochs;
    let from_space = probes
        .iter()
        .filter(|p| p.key.rsplit('/').next() == Some("epochs"))
        .filter_map(|p| Some((p.value.as_f64()?, &p.key)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let every_trial_sets_it = space.params.iter().any(|p| p.name == "epochs");
    if let Some((epochs, key)) = from_space.filter(|(e, _)| *e < trial_epochs as f64) {
        return Some(format!(
            "{trial_epochs} is more than epochs = {epochs}, which the search space's key \
             \"{key}\" gives a configuration (the full budget it is retrained at): the search's \
             trials would train longer than the retraining of the configuration they choose"
        ));
    }
    let recipe_epochs = tuned.recipe.epochs;
    (!every_trial_sets_it && trial_epochs > recipe_epochs).then(|| {
        format!(
            "{trial_epochs} is more than the recipe's epochs = {recipe_epochs} \
             (arms.tuned.recipe.epochs, the full budget the chosen configuration is retrained \
             at): the search's trials would train longer than the retraining"
        )
    })
}

/// A searched parameter that no trial would use (`momentum` while every trial trains with
/// Adam): the search would spend its trials on differences that are not there.
fn unused_search_key(
    space: &SearchSpace,
    probes: &[crate::hpo::space::Probe],
    base: &Recipe,
) -> Option<String> {
    let mut checked = std::collections::HashSet::new();
    for probe in probes {
        if !checked.insert(probe.key.clone()) {
            continue;
        }
        let field = probe.key.rsplit('/').next().unwrap_or(&probe.key);
        let Some(why) = crate::suite::tuned::apply_params(base, &probe.params)
            .ok()
            .and_then(|alone| alone.unused_field(field))
        else {
            continue;
        };
        if !some_trial_uses(probes, base, field, &probe.params, top_key(&probe.key)) {
            return Some(format!(
                "{}: key \"{}\": no trial would use it: {field} is {why}, and neither the tuned \
                 arm's recipe nor the search space sets that",
                space.source_name, probe.key
            ));
        }
    }
    None
}

/// The top-level parameter of a probe's key (`optimizer` of `optimizer/sgd/momentum`).
fn top_key(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

/// Whether a trial that takes `params` (one parameter's value, or nothing) would use recipe
/// field `field`: with those values alone, or with one value of another top-level parameter
/// (which may set what the field depends on, e.g. the optimizer) than `own`.
fn some_trial_uses(
    probes: &[crate::hpo::space::Probe],
    base: &Recipe,
    field: &str,
    params: &crate::hpo::Params,
    own: &str,
) -> bool {
    let uses = |params: &crate::hpo::Params| {
        crate::suite::tuned::apply_params(base, params)
            .is_ok_and(|r| r.unused_field(field).is_none())
    };
    uses(params)
        || probes
            .iter()
            .filter(|other| top_key(&other.key) != own)
            .any(|other| {
                let mut both = params.clone();
                both.extend(other.params.clone());
                uses(&both)
            })
}

/// The checks that depend on the dataset's size: every split the suite makes (test, and the
/// validation splits the tuned and nas arms take from the training side) leaves images on both
/// sides, and the nas arm's cutout fits the images. Without them an empty side does not fail:
/// every run records a NaN accuracy as "diverged" and the suite completes with exit 0.
fn validate_against_data(file: &SuiteFile, text: &str, path: &str) -> Result<(), SuiteError> {
    let invalid =
        |table: &str, key: &str, message: String| SuiteError::at(path, text, table, key, message);
    let d = &file.dataset;
    if let (Some(nas), Some(side)) = (&file.arms.nas, crate::data::image_side(&d.name)) {
        // A square of side >= 2 × the image covers all of it wherever its centre falls; one
        // as large as the image already hides most of it (the default 16 is for 32×32).
        let cutout = nas.retrain.cutout;
        if cutout >= side {
            return Err(invalid(
                "arms.nas.retrain",
                "cutout",
                format!(
                    "must be below the side of the {side}×{side} {} images (0 = off; the \
                     default 16 is for CIFAR-10's 32×32), got {cutout}",
                    d.name
                ),
            ));
        }
    }
    if d.name == "cifar10" {
        for (key, limit) in [("train_limit", d.train_limit), ("test_limit", d.test_limit)] {
            if limit == Some(0) {
                return Err(invalid(
                    "dataset",
                    key,
                    "must be >= 1 (leave it out to use every image)".into(),
                ));
            }
        }
        // Its split is fixed; class counts under a limit are only known once the files are read.
        return Ok(());
    }
    if let (true, Some(n)) = (d.name == "synthetic", d.samples_per_class) {
        if n < 2 {
            return Err(invalid(
                "dataset",
                "samples_per_class",
                format!("must be >= 2 (one training and one test image per class), got {n}"),
            ));
        }
    }
    let Some(sizes) =
        crate::data::class_sizes(d).map_err(|e| invalid("dataset", "name", e.to_string()))?
    else {
        return Ok(());
    };
    let total: usize = sizes.iter().sum();
    let split = crate::data::check_split(&sizes, d.test_fraction, "test").map_err(|m| {
        invalid(
            "dataset",
            "test_fraction",
            format!(
                "{} of the {total} {} images gives {m}",
                d.test_fraction, d.name
            ),
        )
    })?;
    let mut held_out = Vec::new();
    if let Some(t) = file
        .arms
        .tuned
        .as_ref()
        .filter(|t| t.hpo.metric == "val_acc")
    {
        held_out.push(("arms.tuned.hpo", t.hpo.validation_fraction));
    }
    if let Some(b) = file
        .arms
        .nas
        .as_ref()
        .and_then(|n| n.random_baseline.as_ref())
    {
        held_out.push(("arms.nas.random_baseline", b.validation_fraction));
    }
    for (table, fraction) in held_out {
        crate::data::check_split(&split.train_per_class, fraction, "validation").map_err(|m| {
            invalid(
                table,
                "validation_fraction",
                format!(
                    "{fraction} of the {} training images gives {m}",
                    split.n_train
                ),
            )
        })?;
    }
    Ok(())
}

/// The 1-based line of `key` inside the table `table` (dotted path), for messages: where the
/// key is written, or else where the table (or the nearest enclosing one that is there) is
/// written (its header, or its key in a dotted or inline spelling), or 1. Found with the TOML parser's spans, so inline tables, dotted keys, quoted
/// keys and headers with spaces are located like plain `[table]` + `key = …` lines.
pub(crate) fn locate(text: &str, table: &str, key: &str) -> usize {
    let Ok(doc) = toml::de::DeTable::parse(text) else {
        return 1;
    };
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let mut current = doc.get_ref();
    let mut line = 1;
    for (depth, part) in table.split('.').chain([key]).enumerate() {
        let Some((k, v)) = current.iter().find(|(k, _)| k.get_ref() == part) else {
            break;
        };
        line = line_of(k.span().start);
        match v.get_ref().as_table() {
            Some(t) => current = t,
            None if depth < table.split('.').count() => break,
            None => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[suite]
name = "t"
version = 1
seeds = [1, 2]

[dataset]
name = "synthetic"

[arms.manual]
description = "hand-tuned"
[arms.manual.recipe]
model = "mlp"
optimizer = "sgd"
initial_lr = 0.1
epochs = 2
batch_size = 32
"#;

    fn err(text: &str) -> String {
        LoadedSuite::parse(text, Path::new("suites/t.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_split_with_an_empty_side_is_refused_with_its_sizes() {
        let digits = GOOD.replace("name = \"synthetic\"", "name = \"digits\"");
        let e = err(&digits.replace("[dataset]", "[dataset]\ntest_fraction = 0.0001"));
        assert_eq!(
            e,
            "suites/t.toml:8: dataset.test_fraction: 0.0001 of the 1797 digits images gives 1797 \
             training and 0 test images: the test side would be empty (it needs at least one \
             image)"
        );
        let e = err(&digits.replace("[dataset]", "[dataset]\ntest_fraction = 0.9999"));
        assert!(
            e.starts_with(
                "suites/t.toml:8: dataset.test_fraction: 0.9999 of the 1797 digits images gives 0 \
                 training and 1797 test images"
            ),
            "{e}"
        );
        for n in [0, 1] {
            let e = err(&GOOD.replace(
                "name = \"synthetic\"",
                &format!("name = \"synthetic\"\nsamples_per_class = {n}"),
            ));
            assert_eq!(
                e,
                format!(
                    "suites/t.toml:9: dataset.samples_per_class: must be >= 2 (one training and \
                     one test image per class), got {n}"
                )
            );
        }
        // 2 per class: one test image each at 0.5, none at 0.2.
        let two = GOOD.replace(
            "name = \"synthetic\"",
            "name = \"synthetic\"\nsamples_per_class = 2",
        );
        assert!(LoadedSuite::parse(
            &two.replace("[dataset]", "[dataset]\ntest_fraction = 0.5"),
            Path::new("t.toml")
        )
        .is_ok());
        let e = err(&two);
        assert!(
            e.contains("dataset.test_fraction: 0.2 of the 20 synthetic images gives 20 training and 0 test"),
            "{e}"
        );
    }

    #[test]
    fn a_validation_split_with_an_empty_side_is_refused() {
        let tuned = GOOD.replace(
            "name = \"synthetic\"",
            "name = \"synthetic\"\nsamples_per_class = 4",
        ) + r#"
[arms.tuned.recipe]
model = "mlp"
optimizer = "sgd"
initial_lr = 0.1
epochs = 2
batch_size = 32
[arms.tuned.hpo]
search_space = "none.json"
tuner = "tpe"
optimize_mode = "maximize"
trial_epochs = 1
max_trials = 1
validation_fraction = 0.1
"#;
        // 4 per class: 3 train, 1 test; 0.1 of 3 rounds to 0 validation images.
        let e = err(&tuned);
        assert_eq!(
            e,
            "suites/t.toml:32: arms.tuned.hpo.validation_fraction: 0.1 of the 30 training images \
             gives 30 training and 0 validation images: the validation side would be empty (it \
             needs at least one image)"
        );
        // Scored on the test set, the tuned arm takes no validation split, and a fraction for
        // it would be ignored.
        let on_test = tuned.replace("max_trials = 1", "max_trials = 1\nmetric = \"test_acc\"");
        assert_eq!(
            err(&on_test),
            "suites/t.toml:33: arms.tuned.hpo.validation_fraction: has no effect: with metric = \
             \"test_acc\" the trials are scored on the test set and nothing is held out; remove \
             it, or use metric = \"val_acc\""
        );
        let e = err(&on_test.replace("validation_fraction = 0.1\n", ""));
        assert!(e.contains("none.json"), "{e}");
    }

    #[test]
    fn nas_cutout_must_fit_the_images() {
        let nas = GOOD.to_string() + "[arms.nas.retrain]\nlayers = 3\ncutout = 16\n";
        let e = err(&nas);
        assert_eq!(
            e,
            "suites/t.toml:20: arms.nas.retrain.cutout: must be below the side of the 8×8 \
             synthetic images (0 = off; the default 16 is for CIFAR-10's 32×32), got 16"
        );
        let ok = nas.replace("cutout = 16", "cutout = 2");
        assert!(LoadedSuite::parse(&ok, Path::new("t.toml")).is_ok());
    }

    #[test]
    fn nas_numbers_are_checked_like_recipe_fields() {
        let nas = GOOD.to_string()
            + "[arms.nas.search]\nlayers = 3\n[arms.nas.retrain]\nlayers = 3\ncutout = 0\n";
        assert!(LoadedSuite::parse(&nas, Path::new("t.toml")).is_ok());
        let cases = [
            ("retrain", "grad_clip = -1.0", "must be > 0, got -1"),
            (
                "retrain",
                "weight_decay = -1.0",
                "must be in [0, 1], got -1",
            ),
            ("retrain", "momentum = 5.0", "must be in [0, 1), got 5"),
            (
                "retrain",
                "lr_min = 10.0",
                "must be in [0, lr = 0.025], got 10",
            ),
            (
                "retrain",
                "aux_weight = nan",
                "must be a finite number >= 0, got NaN",
            ),
            (
                "retrain",
                "drop_path = inf",
                "must be a finite number in [0, 1), got inf",
            ),
            ("retrain", "epochs = 0", "must be in [1, 1000000], got 0"),
            ("search", "w_momentum = -1.0", "must be in [0, 1), got -1"),
            (
                "search",
                "grad_clip = nan",
                "must be a finite number > 0, got NaN",
            ),
            (
                "search",
                "w_lr_min = 1.0",
                "must be in [0, w_lr = 0.025], got 1",
            ),
            (
                "search",
                "alpha_weight_decay = 2.0",
                "must be in [0, 1], got 2",
            ),
            ("search", "channels = 0", "must be in [1, 65536], got 0"),
        ];
        for (table, line, message) in cases {
            let header = format!("[arms.nas.{table}]\nlayers = 3\n");
            let text = nas.replacen(&header, &format!("{header}{line}\n"), 1);
            let at = text.lines().position(|l| l == line).unwrap() + 1;
            let key = line.split(" = ").next().unwrap();
            assert_eq!(
                err(&text),
                format!("suites/t.toml:{at}: arms.nas.{table}.{key}: {message}")
            );
        }
        let baseline = format!("{nas}[arms.nas.random_baseline]\nsamples = 2\nepochs = 0\n");
        assert_eq!(
            err(&baseline),
            "suites/t.toml:25: arms.nas.random_baseline.epochs: must be in [1, 1000000], got 0"
        );
    }

    #[test]
    fn nni_spellings_become_the_names_results_record() {
        let text = GOOD.to_string()
            + "[arms.tuned.recipe]\nmodel = \"mlp\"\noptimizer = \"sgd\"\ninitial_lr = 0.1\n\
               epochs = 2\nbatch_size = 32\n[arms.tuned.hpo]\nsearch_space = \"s.json\"\n\
               tuner = \"GridSearch\"\noptimize_mode = \"MAXIMIZE\"\nassessor = \"Hyperband\"\n\
               trial_epochs = 1\nmax_trials = 1\n";
        let mut file = parse_toml(&text).unwrap();
        canonical_names(&mut file);
        let hpo = &file.arms.tuned.as_ref().unwrap().hpo;
        assert_eq!(
            (
                hpo.tuner.as_str(),
                hpo.optimize_mode.as_str(),
                hpo.assessor.as_str()
            ),
            ("grid", "maximize", "hyperband")
        );
        // Not recognised: left as written, for the message that refuses it.
        let mut file = parse_toml(&text.replace("\"GridSearch\"", "\"SMAC\"")).unwrap();
        canonical_names(&mut file);
        assert_eq!(file.arms.tuned.as_ref().unwrap().hpo.tuner, "SMAC");
    }

    #[test]
    fn every_shipped_suite_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                LoadedSuite::load(&path).unwrap_or_else(|e| panic!("{e}"));
                n += 1;
            }
        }
        assert!(n >= 5, "{n} suites in {}", dir.display());
    }

    #[test]
    fn lines_are_found_in_every_toml_spelling() {
        let head =
            "[suite]\nname = \"t\"\nversion = 1\nseeds = [1]\n[dataset]\nname = \"digits\"\n";
        let recipe = "model = \"cnn\"\noptimizer = \"sgd\"\ninitial_lr = 0.1\nepochs = 2\n";
        let expect = |text: &str, at: &str| {
            let line = text.lines().position(|l| l.contains(at)).unwrap() + 1;
            let e = err(text);
            assert!(
                e.starts_with(&format!("suites/t.toml:{line}: ")),
                "{e}\n{text}"
            );
        };
        // Inline table.
        let inline = format!(
            "{head}[arms.original]\ndescription = \"x\"\nrecipe = {{ model = \"cnn\", \
             optimizer = \"sgd\", initial_lr = 0.1, epochs = 0, batch_size = 32 }}\n"
        );
        expect(&inline, "epochs = 0");
        assert!(err(&inline).contains("arms.original.recipe.epochs"));
        // Dotted keys.
        let dotted = format!(
            "{head}[arms]\noriginal.recipe.model = \"cnn\"\noriginal.recipe.optimizer = \"sgd\"\n\
             original.recipe.initial_lr = 0.1\noriginal.recipe.epochs = 2\n\
             original.recipe.batch_size = 0\n"
        );
        expect(&dotted, "batch_size = 0");
        // A header with spaces, a trailing comment.
        let spaced = format!("{head}[ arms.original.recipe ]\n{recipe}batch_size = 0   # c\n");
        expect(&spaced, "batch_size = 0");
        // Quoted keys, and a key spelt with spaces around a dot in the header.
        let quoted =
            format!("{head}[ arms . \"original\" . recipe ]\n{recipe}\"batch_size\" = 0\n");
        expect(&quoted, "\"batch_size\" = 0");
        let tolerance = format!(
            "[suite]\nname = \"t\"\nversion = 1\nseeds = [1]\n\"tolerance\" = 5.0\n[dataset]\n\
             name = \"digits\"\n[arms.original.recipe]\n{recipe}batch_size = 8\n"
        );
        expect(&tolerance, "\"tolerance\"");
        // A key left out (its default is what is wrong): the table's header; a table left out:
        // the nearest enclosing one; nothing at all: line 1.
        let plain = format!("{head}[arms.original.recipe]\n{recipe}batch_size = 8\n");
        assert_eq!(locate(&plain, "arms.original.recipe", "momentum"), 7);
        assert_eq!(locate(&plain, "arms.nas", "architecture"), 7);
        assert_eq!(locate(&plain, "suite", "seeds"), 4);
        assert_eq!(locate(&plain, "nope", "x"), 1);
    }

    #[test]
    fn the_resume_command_repeats_the_overrides() {
        let cifar = GOOD.replace("name = \"synthetic\"", "name = \"cifar10\"");
        let mut s = LoadedSuite::parse(&cifar, Path::new("suites/mini.toml")).unwrap();
        let result = Path::new("results/mini-vm-1.json");
        assert_eq!(
            s.resume_command(result),
            "harness run suites/mini.toml --resume results/mini-vm-1.json"
        );
        s.override_data_dir("my data").unwrap();
        s.override_epochs(2).unwrap();
        s.override_seeds(vec![3, 4]);
        s.override_threads(1);
        assert_eq!(
            s.resume_command(result),
            "harness run suites/mini.toml --data-dir 'my data' --epochs 2 --seeds 3,4 \
             --threads 1 --resume results/mini-vm-1.json"
        );
    }

    /// A space that sets epochs for every trial makes the recipe's epochs no trial's budget:
    /// trials up to the space's smallest epochs are allowed whatever the recipe says.
    #[test]
    fn trials_may_be_as_long_as_the_smallest_budget_the_space_sets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("s.json"),
            r#"{"epochs": {"_type": "choice", "_value": [4, 8]}}"#,
        )
        .unwrap();
        let suite = GOOD.to_string()
            + "[arms.tuned.recipe]\nmodel = \"mlp\"\noptimizer = \"sgd\"\ninitial_lr = 0.1\n\
               epochs = 2\nbatch_size = 32\n[arms.tuned.hpo]\nsearch_space = \"s.json\"\n\
               tuner = \"tpe\"\noptimize_mode = \"maximize\"\ntrial_epochs = 4\nmax_trials = 1\n";
        let path = dir.path().join("t.toml");
        assert!(LoadedSuite::parse(&suite, &path).is_ok());
        let e = LoadedSuite::parse(
            &suite.replace("trial_epochs = 4", "trial_epochs = 5"),
            &path,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("trial_epochs: 5 is more than epochs = 4, which the search space's key"),
            "{e}"
        );
    }

    /// `--epochs N` sets the full budget and shortens longer trials to it: whatever N, the
    /// suite it makes keeps trial_epochs <= epochs, as a suite file must.
    #[test]
    fn an_epochs_override_keeps_the_trials_within_the_full_budget() {
        let quick = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/quick.toml");
        for (n, trial_epochs) in [(1, 1), (3, 3), (6, 6), (40, 6)] {
            let mut s = LoadedSuite::load(&quick).unwrap();
            s.override_epochs(n).unwrap();
            let tuned = s.file.arms.tuned.as_ref().unwrap();
            assert_eq!(
                (tuned.recipe.epochs, tuned.hpo.trial_epochs),
                (n, trial_epochs)
            );
        }
    }

    #[test]
    fn epochs_below_the_first_rung_are_noted_as_leaving_the_assessor_idle() {
        let quick = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/quick.toml");
        let mut s = LoadedSuite::load(&quick).unwrap();
        assert_eq!(s.idle_assessor_note(), None);
        s.override_epochs(3).unwrap(); // the first rung, epoch 2, is below 3
        assert_eq!(s.idle_assessor_note(), None);
        s.override_epochs(1).unwrap();
        let note = s.idle_assessor_note().unwrap();
        assert!(
            note.starts_with(
                "with trials of 1 epoch, the tuned arm's assessor `asha` can stop no trial early \
                 (asha: option \"min_resource\": the first rung"
            ),
            "{note}"
        );
        assert!(
            note.ends_with("the search runs every trial to its end"),
            "{note}"
        );
    }

    #[test]
    fn probed_values_are_shown_without_binary_rounding_noise() {
        use serde_json::json;
        assert_eq!(shown_value(&json!(0.0010000000000000002)), "0.001");
        assert_eq!(shown_value(&json!(0.30000000000000004)), "0.3");
        assert_eq!(shown_value(&json!(1e-7)), "0.0000001");
        assert_eq!(shown_value(&json!(0.123456789012345)), "0.123456789012");
        assert_eq!(shown_value(&json!(64)), "64");
        assert_eq!(shown_value(&json!("adam")), "\"adam\"");
    }

    #[test]
    fn a_good_suite_loads() {
        let s = LoadedSuite::parse(GOOD, Path::new("t.toml")).unwrap();
        assert_eq!(s.arms().len(), 1);
        assert_eq!(s.arms()[0], ArmKind::Manual);
        assert_eq!(s.sha256.len(), 64);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = err(&GOOD.replace("initial_lr = 0.1", "initial_lr = 0.1\nlearning_rate = 3"));
        assert!(
            e.starts_with("suites/t.toml: TOML parse error at line 16"),
            "{e}"
        );
        assert!(e.contains("unknown field `learning_rate`"), "{e}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = err(&GOOD.replace("epochs = 2", "epochs = \"two\""));
        assert!(
            e.starts_with("suites/t.toml: TOML parse error at line 16"),
            "{e}"
        );
        assert!(e.contains("16 | epochs = \"two\""), "{e}");
        assert!(
            e.ends_with(
                "\narms.manual.recipe.epochs: invalid type: string \"two\", expected a whole number \
                 in [1, 1000000]"
            ),
            "{e}"
        );
        // A list element is named by its index; keys of other tables too.
        let e = err(&GOOD.replace("seeds = [1, 2]", "seeds = [1, \"2\"]"));
        assert!(e.contains("\nsuite.seeds[1]: invalid type"), "{e}");
        let e = err(&GOOD.replace("name = \"synthetic\"", "name = 7"));
        assert!(e.contains("\ndataset.name: invalid type"), "{e}");
    }

    /// A value of the wrong type and one out of range say the same bound: `max_trials = -1`
    /// must not read "expected a whole number >= 0" when 0 is refused too.
    #[test]
    fn a_whole_number_of_the_wrong_type_is_told_its_range() {
        let tuned = GOOD.to_string()
            + "[arms.tuned.recipe]\nmodel = \"mlp\"\noptimizer = \"sgd\"\ninitial_lr = 0.1\n\
               epochs = 2\nbatch_size = 32\n[arms.tuned.hpo]\nsearch_space = \"s.json\"\n\
               tuner = \"tpe\"\noptimize_mode = \"maximize\"\ntrial_epochs = 1\nmax_trials = 1\n\
               concurrency = 1\nmax_trial_epochs = 5\ntuner_seed = 3\nretrain_top_k = 1\n";
        let cases = [
            ("max_trials = 1", "a whole number >= 1"),
            ("max_trial_epochs = 5", "a whole number >= 1"),
            ("concurrency = 1", "a whole number >= 1"),
            ("trial_epochs = 1", "a whole number in [1, 1000000]"),
            (
                "batch_size = 32\n[arms.tuned.hpo]",
                "a whole number in [1, 1000000]",
            ),
            // 0 is a value of these: the type's own range.
            ("tuner_seed = 3", "a whole number >= 0"),
            ("retrain_top_k = 1", "a whole number >= 0"),
        ];
        for (line, expected) in cases {
            let key = line.split(" = ").next().unwrap();
            let bad = line.replacen(" = ", " = -", 1);
            let e = err(&tuned.replace(line, &bad));
            let table = if key == "batch_size" {
                "arms.tuned.recipe"
            } else {
                "arms.tuned.hpo"
            };
            assert!(
                e.ends_with(&format!(
                    "\n{table}.{key}: invalid value: integer `-{}`, expected {expected}",
                    line.split(" = ")
                        .nth(1)
                        .unwrap()
                        .split('\n')
                        .next()
                        .unwrap()
                )),
                "{line}: {e}"
            );
        }
        // The range check after parsing says the same bound.
        let e = err(&tuned.replace("max_trials = 1", "max_trials = 0"));
        assert!(
            e.ends_with("arms.tuned.hpo.max_trials: must be >= 1"),
            "{e}"
        );
    }

    #[test]
    fn augmentation_needs_cifar10() {
        let e = err(&GOOD.replace("epochs = 2", "epochs = 2\ncutout = 8"));
        assert!(e.contains("cutout: needs dataset cifar10"), "{e}");
    }

    #[test]
    fn unknown_arm_is_an_error() {
        let e = err(&GOOD
            .replace("[arms.manual]", "[arms.fancy]")
            .replace("[arms.manual.recipe]", "[arms.fancy.recipe]"));
        assert!(e.contains("unknown field `fancy`"), "{e}");
        assert!(e.contains("`original`, `manual`"), "{e}");
    }

    #[test]
    fn out_of_range_value_names_line_and_key() {
        let e = err(&GOOD.replace("initial_lr = 0.1", "initial_lr = -1"));
        assert_eq!(
            e,
            "suites/t.toml:15: arms.manual.recipe.initial_lr: must be > 0, got -1"
        );
        let e = err(&GOOD.replace("model = \"mlp\"", "model = \"resnet9000\""));
        assert!(
            e.starts_with("suites/t.toml:13: arms.manual.recipe.model: unknown model"),
            "{e}"
        );
    }

    #[test]
    fn suite_level_errors() {
        let e = err(&GOOD.replace("seeds = [1, 2]", "seeds = []"));
        assert_eq!(e, "suites/t.toml:5: suite.seeds: needs at least one seed");
        let e = err(&GOOD.replace("name = \"synthetic\"", "name = \"imagenet\""));
        assert!(
            e.starts_with("suites/t.toml:8: dataset.name: unknown dataset"),
            "{e}"
        );
        let e = err(&GOOD.replace("seeds = [1, 2]", "seeds = [1, 1]"));
        assert!(e.contains("seed 1 is listed twice"), "{e}");
    }

    #[test]
    fn overrides_out_of_a_suites_ranges_are_refused() {
        let mut s = LoadedSuite::parse(GOOD, Path::new("t.toml")).unwrap();
        assert_eq!(
            s.override_epochs(2_000_000).unwrap_err(),
            "must be in [1, 1000000], got 2000000"
        );
        assert_eq!(
            s.override_data_dir("d").unwrap_err(),
            "the suite's dataset \"synthetic\" reads no files (only cifar10 does): leave \
             --data-dir out"
        );
        assert!(s.overrides.is_empty() && s.override_args.is_empty());
    }

    /// A key the dataset does not read would be ignored without a word.
    #[test]
    fn dataset_keys_of_another_dataset_are_refused() {
        let digits = GOOD.replace("name = \"synthetic\"", "name = \"digits\"\ntrain_limit = 5");
        assert_eq!(
            err(&digits),
            "suites/t.toml:9: dataset.train_limit: the digits dataset does not use it (only \
             cifar10 does): remove it"
        );
        let digits = GOOD.replace(
            "name = \"synthetic\"",
            "name = \"digits\"\nsamples_per_class = 1",
        );
        assert!(
            err(&digits).contains("dataset.samples_per_class: the digits dataset does not use it (only synthetic does)"),
            "{}",
            err(&digits)
        );
        let cifar = GOOD.replace(
            "name = \"synthetic\"",
            "name = \"cifar10\"\ntest_fraction = 0.5",
        );
        assert!(
            err(&cifar).contains(
                "dataset.test_fraction: the cifar10 dataset does not use it (only digits, \
                 synthetic does)"
            ),
            "{}",
            err(&cifar)
        );
        // Each dataset's own keys load.
        let own = GOOD.replace(
            "name = \"synthetic\"",
            "name = \"synthetic\"\nsamples_per_class = 5\nsplit_seed = 3\ntest_fraction = 0.4",
        );
        LoadedSuite::parse(&own, Path::new("t.toml")).unwrap();
    }

    #[test]
    fn a_suite_name_is_one_line_like_a_label() {
        let e = err(&GOOD.replace("name = \"t\"", "name = \"q\\na\""));
        assert_eq!(
            e,
            "suites/t.toml:3: suite.name: must be one line without control characters (tabs, \
             line breaks)"
        );
        let e = err(&GOOD.replace("name = \"t\"", "name = \" \""));
        assert_eq!(e, "suites/t.toml:3: suite.name: must not be empty");
    }

    #[test]
    fn a_suite_without_arms_says_so_at_its_arms_table() {
        let text = GOOD.split("[arms.manual]").next().unwrap().to_string() + "[arms]\n";
        assert_eq!(
            err(&text),
            "suites/t.toml:10: arms: the suite defines no arm (expected at least one of \
             [arms.original], [arms.manual], [arms.tuned], [arms.nas])"
        );
    }

    #[test]
    fn malformed_toml_is_reported_with_position() {
        let e = err("[suite\nname = 1");
        assert!(
            e.starts_with("suites/t.toml: TOML parse error at line 1"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod memory_checks {
    use super::*;
    use crate::data::augment::rng_lock;
    use crate::env::MemoryBudget;

    const ZOO: &str = r#"[suite]
name = "zoo"
version = 1
seeds = [1]

[dataset]
name = "cifar10"
dir = "cifar"

[arms.manual]
[arms.manual.recipe]
model = "squeezenet1_1"
style = "cifar"
optimizer = "sgd"
initial_lr = 0.1
momentum = 0.9
epochs = 1
batch_size = 4000
"#;

    const TUNED: &str = r#"
[arms.tuned]
[arms.tuned.recipe]
model = "squeezenet1_1"
style = "cifar"
optimizer = "sgd"
initial_lr = 0.1
momentum = 0.9
epochs = 1
batch_size = 64
[arms.tuned.hpo]
search_space = "space.json"
tuner = "random"
optimize_mode = "maximize"
trial_epochs = 1
max_trials = 1
"#;

    /// CIFAR-10's shape with `n_train` training images.
    fn cifar(n_train: usize) -> crate::data::DatasetInfo {
        crate::data::DatasetInfo {
            name: "cifar10".into(),
            source: String::new(),
            licence: String::new(),
            classes: 10,
            image_shape: [3, 32, 32],
            n_train,
            n_test: 100,
            split: None,
            normalization: String::new(),
        }
    }

    /// `text` written as `s.toml` (with `space` as `space.json`) in a temporary folder, loaded.
    fn suite(text: &str, space: &str) -> (tempfile::TempDir, LoadedSuite) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), text).unwrap();
        std::fs::write(dir.path().join("space.json"), space).unwrap();
        let s = LoadedSuite::load(&dir.path().join("s.toml")).unwrap();
        (dir, s)
    }

    /// A zoo model's step that does not fit names the suite file, the line, the arm's field
    /// to lower and the estimate against the memory; one that fits passes.
    #[test]
    fn an_arms_batch_too_large_for_memory_is_refused_by_its_key() {
        let _g = rng_lock();
        let (dir, s) = suite(ZOO, "{}");
        let shown = dir.path().join("s.toml").display().to_string();
        let e = s
            .check_memory(&cifar(50_000), MemoryBudget::machine(1_000_000_000))
            .unwrap_err();
        assert!(e.is::<SuiteError>());
        let e = e.to_string();
        assert!(
            e.starts_with(&format!(
                "{shown}:18: arms.manual.recipe.batch_size: model squeezenet1_1 at batch 4000 \
                 needs an estimated "
            )) && e.contains(" MB per image (the activations a training step keeps")
                && e.contains("this machine has 1.0 GB of memory; lower batch_size (at most ")
                && e.ends_with(" is estimated to fit)"),
            "{e}"
        );
        s.check_memory(&cifar(50_000), MemoryBudget::machine(64_000_000_000))
            .unwrap();
        // A batch takes at most the whole training set.
        let e = s
            .check_memory(&cifar(3000), MemoryBudget::machine(1_000_000_000))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("model squeezenet1_1 at batch 3000 needs")
                && e.ends_with(
                    " is estimated to fit) (batch_size is 4000: a step takes all 3000 \
                     training images)"
                ),
            "{e}"
        );
        s.check_memory(&cifar(16), MemoryBudget::machine(1_000_000_000))
            .unwrap();
        // The small models are sized by the trainer's own check (width).
        let mlp = ZOO.replace(
            "model = \"squeezenet1_1\"\nstyle = \"cifar\"",
            "model = \"mlp\"",
        );
        let (_dir, small) = suite(&mlp, "{}");
        small
            .check_memory(&cifar(50_000), MemoryBudget::machine(1))
            .unwrap();
    }

    /// A head whose weights alone do not fit names head_classes, before any model is built.
    #[test]
    fn a_head_too_large_for_memory_is_refused_by_its_key() {
        let text = ZOO.replace("squeezenet1_1", "vgg16").replace(
            "style = \"cifar\"",
            "style = \"imagenet\"\nhead_classes = 100000",
        );
        let (dir, s) = suite(&text, "{}");
        let e = s
            .check_memory(&cifar(50_000), MemoryBudget::machine(1_000_000_000))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}:14: arms.manual.recipe.head_classes: model vgg16 (imagenet style, \
                 100000-way head) has 5.440e8 parameters: training it needs at least 6.5 GB \
                 (weights, gradients and optimizer state) and this machine has 1.0 GB of \
                 memory; lower head_classes or choose a smaller model",
                dir.path().join("s.toml").display()
            )
        );
    }

    /// The tuned arm: its recipe as written where the space sets no field that sizes a step,
    /// else each value the space gives such a field, named in the space.
    #[test]
    fn a_tuned_arms_step_is_checked_with_the_values_of_its_space() {
        let _g = rng_lock();
        let small = ZOO.replace("batch_size = 4000", "batch_size = 8");
        let space = r#"{"initial_lr": {"_type": "uniform", "_value": [0.01, 0.1]}}"#;
        let (_dir, s) = suite(&(small.clone() + TUNED), space);
        s.check_memory(&cifar(50_000), MemoryBudget::machine(1_000_000_000))
            .unwrap();
        let (dir, s) = suite(
            &(small.clone() + &TUNED.replace("batch_size = 64", "batch_size = 4000")),
            space,
        );
        let e = s
            .check_memory(&cifar(50_000), MemoryBudget::machine(1_000_000_000))
            .unwrap_err()
            .to_string();
        let shown = dir.path().join("s.toml").display().to_string();
        assert!(
            e.starts_with(&format!(
                "{shown}:28: arms.tuned.recipe.batch_size: model squeezenet1_1 at batch 4000"
            )),
            "{e}"
        );
        // The space sets batch_size: its values are checked, not the recipe's.
        let space = r#"{"batch_size": {"_type": "choice", "_value": [32, 4000]}}"#;
        let (dir, s) = suite(&(small + TUNED), space);
        let e = s
            .check_memory(&cifar(50_000), MemoryBudget::machine(1_000_000_000))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "{}:30: arms.tuned.hpo.search_space: {}: key \"batch_size\": with the value \
                 4000, batch_size: model squeezenet1_1 at batch 4000 needs an estimated ",
                dir.path().join("s.toml").display(),
                dir.path().join("space.json").display()
            )) && e.contains("lower batch_size (at most "),
            "{e}"
        );
    }
}
