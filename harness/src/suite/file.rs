//! Parsing and validating suite files. Every error names the file, the line and the key.
use crate::data::DatasetSpec;
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmSpec {
    #[serde(default)]
    pub description: String,
    pub recipe: Recipe,
}

/// A suite as loaded from disk: its definition, where it came from, and its digest.
#[derive(Debug, Clone)]
pub struct LoadedSuite {
    pub file: SuiteFile,
    pub path: PathBuf,
    pub sha256: String,
    /// Changes made on the command line (e.g. "epochs=2"), stated in results and reports.
    pub overrides: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{path}: cannot read the suite file: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
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

impl LoadedSuite {
    pub fn load(path: &Path) -> Result<LoadedSuite, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Read {
            path: path.display().to_string(),
            source,
        })?;
        LoadedSuite::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<LoadedSuite, SuiteError> {
        let shown = path.display().to_string();
        let file: SuiteFile = toml::from_str(text).map_err(|e| SuiteError::Parse {
            path: shown.clone(),
            message: e.to_string().trim_end().to_string(),
        })?;
        validate(&file, text, &shown)?;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(text.as_bytes());
        Ok(LoadedSuite {
            file,
            path: path.to_path_buf(),
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            overrides: Vec::new(),
        })
    }

    /// The arms that are defined, in the report's order.
    pub fn arms(&self) -> Vec<(ArmKind, &ArmSpec)> {
        let a = &self.file.arms;
        [
            (ArmKind::Original, &a.original),
            (ArmKind::Manual, &a.manual),
        ]
        .into_iter()
        .filter_map(|(k, s)| s.as_ref().map(|s| (k, s)))
        .collect()
    }

    /// Replaces every arm's epoch count (a shorter run on a slow machine); recorded.
    pub fn override_epochs(&mut self, epochs: usize) {
        for spec in [&mut self.file.arms.original, &mut self.file.arms.manual]
            .into_iter()
            .flatten()
        {
            spec.recipe.epochs = epochs;
        }
        self.overrides.push(format!("epochs={epochs} (all arms)"));
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
        self.file.suite.seeds = seeds;
    }
}

fn validate(file: &SuiteFile, text: &str, path: &str) -> Result<(), SuiteError> {
    let invalid = |table: &str, key: &str, message: String| SuiteError::Invalid {
        path: path.to_string(),
        line: locate(text, table, key),
        key: format!("{table}.{key}"),
        message,
    };
    let meta = &file.suite;
    if meta.name.trim().is_empty() {
        return Err(invalid("suite", "name", "must not be empty".into()));
    }
    if meta.seeds.is_empty() {
        return Err(invalid("suite", "seeds", "needs at least one seed".into()));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = meta.seeds.iter().find(|s| !seen.insert(**s)) {
        return Err(invalid(
            "suite",
            "seeds",
            format!("seed {dup} is listed twice"),
        ));
    }
    if !(meta.tolerance >= 0.0 && meta.tolerance < 1.0) {
        return Err(invalid(
            "suite",
            "tolerance",
            format!(
                "must be in [0, 1) (an accuracy fraction), got {}",
                meta.tolerance
            ),
        ));
    }
    let d = &file.dataset;
    if !["digits", "synthetic", "cifar10"].contains(&d.name.as_str()) {
        return Err(invalid(
            "dataset",
            "name",
            format!(
                "unknown dataset \"{}\": expected one of digits, synthetic, cifar10",
                d.name
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
        ("original", &file.arms.original),
        ("manual", &file.arms.manual),
    ];
    if arms.iter().all(|(_, a)| a.is_none()) {
        return Err(invalid(
            "arms",
            "original",
            "the suite defines no arm".into(),
        ));
    }
    for (name, spec) in arms {
        if let Some(spec) = spec {
            spec.recipe.validate().map_err(|e| {
                invalid(&format!("arms.{name}.recipe"), &e.field, e.message.clone())
            })?;
        }
    }
    Ok(())
}

/// The 1-based line of `key` inside `[table]` (or of the table header, or 1), for messages.
pub(crate) fn locate(text: &str, table: &str, key: &str) -> usize {
    let header = format!("[{table}]");
    let mut in_table = false;
    let mut header_line = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_table = t == header;
            if in_table {
                header_line = Some(i + 1);
            }
            continue;
        }
        if in_table {
            let k = t.split('=').next().unwrap_or("").trim();
            if k == key {
                return i + 1;
            }
        }
    }
    header_line.unwrap_or(1)
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
    fn a_good_suite_loads() {
        let s = LoadedSuite::parse(GOOD, Path::new("t.toml")).unwrap();
        assert_eq!(s.arms().len(), 1);
        assert_eq!(s.arms()[0].0, ArmKind::Manual);
        assert_eq!(s.sha256.len(), 64);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = err(&GOOD.replace("initial_lr = 0.1", "initial_lr = 0.1\nlearning_rate = 3"));
        assert!(
            e.starts_with("suites/t.toml: TOML parse error at line 18"),
            "{e}"
        );
        assert!(e.contains("unknown field `learning_rate`"), "{e}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = err(&GOOD.replace("epochs = 2", "epochs = \"two\""));
        assert!(e.contains("line 16"), "{e}");
        assert!(e.contains("invalid type"), "{e}");
    }

    #[test]
    fn unknown_arm_is_an_error() {
        let e = err(&GOOD
            .replace("[arms.manual]", "[arms.fancy]")
            .replace("[arms.manual.recipe]", "[arms.fancy.recipe]"));
        assert!(e.contains("unknown field `fancy`"), "{e}");
        assert!(e.contains("original, manual"), "{e}");
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
    fn malformed_toml_is_reported_with_position() {
        let e = err("[suite\nname = 1");
        assert!(
            e.starts_with("suites/t.toml: TOML parse error at line 1"),
            "{e}"
        );
    }
}
