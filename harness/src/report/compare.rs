//! `harness compare`: the same suite on several machines, side by side.
//!
//! The first file is the baseline. The comparison lists the recorded environment fields that
//! differ between the files, then per arm each machine's accuracy (mean ± sample std, n), the
//! difference to the baseline with a two-sided confidence interval and whether it is
//! significant ([`crate::stats::compare::compare_means`]: Welch's t interval with ≥ 2 seeds a
//! side, a t interval with the several seeds' spread for one seed against several, the binomial
//! test-set interval with one seed a side), and the speed as ratios to the baseline.
//!
//! Files of different suites (name or version) are refused; files of the same suite whose arm
//! definitions differ are compared with a warning naming the changed keys.
//!
//! Only `runs`, `accuracies()`, `definition` and the environment record are read for the
//! numbers, so arms with extra sections (HPO, NAS) compare like any other; a tuned arm's search
//! record is also compared with the baseline's (`search_agreement`), in words beside them.
use super::i18n::{arm_label, status_word, Lang};
use super::search_agreement::{agreement, describe, SearchAgreement};
use crate::env::EnvRecord;
use crate::results::{ArmResult, ResultFile};
use crate::stats::compare::{compare_means, DiffEstimate};
use crate::stats::gate::different_seeds_untested;

/// The method of a difference between single runs of different seeds: no test is made.
const SEEDS_DIFFER: &str = "one run a side, different seeds";
/// The same where a side has several runs, all equal: no seed-to-seed spread to use.
const SEEDS_DIFFER_NO_SPREAD: &str = "no seed-to-seed spread, different seeds";
use crate::stats::describe::{mean, std_dev};
use serde::Serialize;
use serde_json::Value;

/// Why files cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    #[error("nothing to compare: give at least two result files")]
    TooFew,
    #[error(
        "cannot compare different suites: {first_label} ran suite `{first_name}` v{first_version}, \
         {other_label} ran suite `{other_name}` v{other_version}"
    )]
    SuiteMismatch {
        first_label: String,
        first_name: String,
        first_version: u32,
        other_label: String,
        other_name: String,
        other_version: u32,
    },
}

impl CompareError {
    /// The message in `lang` (Display is the English one).
    pub fn message(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, e) => e.to_string(),
            (Lang::Zh, CompareError::TooFew) => "没有可比较的内容：至少需要两个结果文件".into(),
            (
                Lang::Zh,
                CompareError::SuiteMismatch {
                    first_label,
                    first_name,
                    first_version,
                    other_label,
                    other_name,
                    other_version,
                },
            ) => format!(
                "不能比较不同的套件：{first_label} 运行的是套件 `{first_name}` v{first_version}，\
                 {other_label} 运行的是套件 `{other_name}` v{other_version}"
            ),
        }
    }
}

/// One recorded environment field whose value differs between the files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvDiff {
    pub field: String,
    /// One value per file, in file order.
    pub values: Vec<String>,
}

/// One arm on one machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineArm {
    /// Runs with an accuracy (diverged runs excluded).
    pub n: usize,
    pub mean: Option<f64>,
    /// Sample standard deviation; `None` (JSON null) with fewer than 2 runs.
    pub std: Option<f64>,
    pub diverged: usize,
    /// Mean seconds per epoch over every epoch of every run.
    pub epoch_seconds: Option<f64>,
    /// Mean training images per second over the runs.
    pub images_per_s: Option<f64>,
    /// Mean of (train − test accuracy) at the last epoch over the runs that did not diverge.
    pub train_test_gap: Option<f64>,
}

impl MachineArm {
    /// The arm's numbers recomputed from its runs (never from the stored `summary`, which a
    /// hand-edited file can contradict): the one computation behind the report's accuracy
    /// table, `compare` and `check`.
    pub fn of(arm: &ArmResult) -> MachineArm {
        let accs = arm.accuracies();
        let epochs: Vec<f64> = arm
            .runs
            .iter()
            .flat_map(|r| r.epochs.iter().map(|e| e.seconds))
            .collect();
        let speeds: Vec<f64> = arm
            .runs
            .iter()
            .map(|r| r.train_images_per_s)
            .filter(|s| *s > 0.0)
            .collect();
        MachineArm {
            n: accs.len(),
            mean: mean(&accs),
            // One run has no spread: null, not a standard deviation of 0.
            std: std_dev(&accs),
            diverged: arm
                .runs
                .iter()
                .filter(|r| r.diverged_at_epoch.is_some())
                .count(),
            epoch_seconds: mean(&epochs),
            images_per_s: mean(&speeds),
            train_test_gap: mean(
                &arm.runs
                    .iter()
                    .filter_map(crate::train::RunOutcome::final_gap)
                    .collect::<Vec<_>>(),
            ),
        }
    }

    /// "0.9722 ± 0.0041 (n=3)" ("0.9610 (n=1)" for one run), with the diverged runs when there
    /// are any.
    pub fn accuracy_cell(&self, lang: Lang) -> String {
        let mut cell = match (self.mean, self.std) {
            // One run has no spread to show.
            (Some(m), _) if self.n == 1 => format!("{m:.4} (n=1)"),
            (Some(m), Some(s)) => format!("{m:.4} ± {s:.4} (n={})", self.n),
            _ => "— (n=0)".to_string(),
        };
        if self.diverged > 0 {
            let diverged = super::i18n::text(lang).diverged;
            cell.push_str(&format!(", {} {diverged}", self.diverged));
        }
        cell
    }
}

/// One arm on one non-baseline machine, relative to the baseline machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VsBaseline {
    /// `mean(this) − mean(baseline)` with its interval.
    pub estimate: DiffEstimate,
    /// Seconds per epoch, this / baseline (> 1: slower).
    pub epoch_time_ratio: Option<f64>,
    /// Training images per second, this / baseline (> 1: faster).
    pub images_per_s_ratio: Option<f64>,
}

/// One arm across every machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmComparison {
    pub name: String,
    /// One entry per file; `None` where the file did not run the arm.
    pub machines: Vec<Option<MachineArm>>,
    /// One entry per file; `None` for the baseline and where either side lacks the arm.
    pub vs_baseline: Vec<Option<VsBaseline>>,
    /// Per file (the baseline's entry is always empty): definition keys that differ from the
    /// baseline's definition of this arm, as dotted paths.
    pub changed_keys: Vec<Vec<String>>,
}

/// The whole comparison, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub suite: String,
    pub version: u32,
    /// Machine labels, one per file, made unique; the first is the baseline.
    pub labels: Vec<String>,
    /// Two-sided confidence level of the intervals, e.g. 0.95.
    pub level: f64,
    pub env_diffs: Vec<EnvDiff>,
    pub arms: Vec<ArmComparison>,
    /// Each tuned arm's search on each other machine against the baseline's.
    pub searches: Vec<SearchComparison>,
    pub warnings: Vec<String>,
}

/// A tuned arm's search on one machine against the baseline machine's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchComparison {
    pub arm: String,
    pub machine: String,
    pub agreement: SearchAgreement,
}

/// Refuses files of different suites (name or version), naming both.
pub fn ensure_same_suite(files: &[ResultFile], labels: &[String]) -> Result<(), CompareError> {
    let Some(first) = files.first() else {
        return Err(CompareError::TooFew);
    };
    for (f, label) in files.iter().zip(labels).skip(1) {
        if f.suite.name != first.suite.name || f.suite.version != first.suite.version {
            return Err(CompareError::SuiteMismatch {
                first_label: labels[0].clone(),
                first_name: first.suite.name.clone(),
                first_version: first.suite.version,
                other_label: label.clone(),
                other_name: f.suite.name.clone(),
                other_version: f.suite.version,
            });
        }
    }
    Ok(())
}

/// The arm's definition as the suite gave it, for comparing machines. A finished tuned arm
/// records `{description, base_recipe, hpo, chosen_recipe}`: the chosen recipe is an outcome
/// of the search (machines may choose differently, or not yet, in an unfinished file), so it
/// is left out and the base recipe compared as `recipe`, as the arm is defined before a choice.
///
/// It is read as this harness reads an arm of that name and written back, so that a field a
/// newer harness added with its default (`recipe.cutout`, `hpo.max_trial_epochs`) compares
/// equal to a file that predates it; a definition this harness cannot read is compared as
/// it was stored.
pub fn defined(arm: &ArmResult) -> Value {
    use crate::suite::{nas::NasArmSpec, ArmSpec, TunedArmSpec};
    let d = &arm.definition;
    let as_defined = match (d.get("base_recipe"), d.get("hpo")) {
        (Some(recipe), Some(hpo)) => {
            let mut tuned = serde_json::json!({ "recipe": recipe, "hpo": hpo });
            if let Some(description) = d.get("description") {
                tuned["description"] = description.clone();
            }
            tuned
        }
        _ => d.clone(),
    };
    fn as_read<T: serde::de::DeserializeOwned + Serialize>(v: &Value) -> Option<Value> {
        serde_json::to_value(serde_json::from_value::<T>(v.clone()).ok()?).ok()
    }
    match arm.name.as_str() {
        "original" | "manual" => as_read::<ArmSpec>(&as_defined),
        "tuned" => as_read::<TunedArmSpec>(&as_defined),
        "nas" => as_read::<NasArmSpec>(&as_defined),
        _ => None,
    }
    .unwrap_or(as_defined)
}

/// The dotted paths (`recipe.initial_lr`, `seeds[2]`) at which two JSON values differ: keys
/// present on one side only, and leaves with different values. Equal values give an empty list;
/// different values at the top level (not both objects) give `["(whole definition)"]`.
pub fn changed_keys(a: &Value, b: &Value) -> Vec<String> {
    fn join(prefix: &str, key: &str) -> String {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    }
    fn walk(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, va) in x {
                    match y.get(k) {
                        Some(vb) => walk(va, vb, &join(path, k), out),
                        None => out.push(join(path, k)),
                    }
                }
                for k in y.keys().filter(|k| !x.contains_key(*k)) {
                    out.push(join(path, k));
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    walk(va, vb, &format!("{path}[{i}]"), out);
                }
            }
            _ if a != b => out.push(if path.is_empty() {
                "(whole definition)".to_string()
            } else {
                path.to_string()
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(a, b, "", &mut out);
    out
}

/// Reads one environment field as text.
type Getter = fn(&EnvRecord) -> String;

/// The environment fields the comparison looks at, in display order: the name (also the
/// JSON's), its Chinese name, and how it is read.
const ENV_FIELDS: &[(&str, &str, Getter)] = &[
    ("CPU model", "CPU型号", |e| e.cpu_model.display()),
    ("physical cores", "物理核心数", |e| {
        e.physical_cores.display()
    }),
    ("logical CPUs", "逻辑CPU数", |e| {
        e.logical_cores.display()
    }),
    ("CPU quota (cgroup)", "CPU配额（cgroup）", |e| {
        e.cpu_quota_text()
    }),
    ("memory", "内存", |e| {
        e.memory_bytes
            .value
            .map_or("n/a".into(), crate::env::format_bytes)
    }),
    ("memory limit (cgroup)", "内存上限（cgroup）", |e| {
        e.memory_limit_text()
    }),
    ("OS", "操作系统", |e| e.os_name.display()),
    ("OS version", "OS版本", |e| e.os_version.display()),
    ("kernel", "内核", |e| e.kernel.display()),
    ("architecture", "CPU架构", |e| e.arch.display()),
    ("GPU", "GPU", |e| e.gpus.summary()),
    ("GPU driver", "GPU驱动", |e| {
        e.gpus.driver_version.display()
    }),
    ("CUDA driver", "CUDA驱动", |e| {
        e.gpus.cuda_driver_version.display()
    }),
    (
        "CUDA (libtorch built with)",
        "CUDA（libtorch编译时）",
        |e| e.torch.cuda_built.display(),
    ),
    ("CUDA usable", "CUDA可用", |e| {
        e.torch.cuda_available.display()
    }),
    ("cuDNN version", "cuDNN版本", |e| {
        e.torch.cudnn_version.display()
    }),
    ("libtorch version", "libtorch版本", |e| {
        e.torch.libtorch_version.display()
    }),
    ("tch version", "tch版本", |e| e.torch.tch_version.clone()),
    ("intra-op threads", "算子内线程数", |e| {
        e.torch.intra_op_threads.display()
    }),
    ("inter-op threads", "算子间线程数", |e| {
        e.torch.inter_op_threads.display()
    }),
    ("MKL", "MKL", |e| e.torch.mkl.display()),
    ("oneDNN", "oneDNN", |e| e.torch.onednn.display()),
    ("deterministic algorithms", "确定性算法", |e| {
        e.determinism.deterministic_algorithms.display()
    }),
    ("cuDNN deterministic", "cuDNN确定性", |e| {
        e.determinism.deterministic_cudnn.display()
    }),
    ("cuDNN benchmark", "cuDNN benchmark", |e| {
        e.determinism.cudnn_benchmark.display()
    }),
    ("compute device", "计算设备", |e| {
        e.compute_device.clone().unwrap_or_else(|| "n/a".into())
    }),
    ("harness version", "harness版本", |e| {
        e.harness_version.clone()
    }),
    ("harness git commit", "harness git提交", |e| {
        e.git_commit.display()
    }),
    ("uncommitted changes", "未提交的修改", |e| {
        e.git_dirty.display()
    }),
];

/// The recorded environment fields whose values are not all equal.
pub fn env_differences(envs: &[&EnvRecord]) -> Vec<EnvDiff> {
    ENV_FIELDS
        .iter()
        .filter_map(|(field, _, get)| {
            let values: Vec<String> = envs.iter().map(|e| get(e)).collect();
            values.iter().any(|v| *v != values[0]).then(|| EnvDiff {
                field: field.to_string(),
                values,
            })
        })
        .collect()
}

/// An environment field's name in `lang`.
fn field_name(field: &str, lang: Lang) -> &str {
    match lang {
        Lang::En => field,
        Lang::Zh => ENV_FIELDS
            .iter()
            .find(|(en, _, _)| *en == field)
            .map_or(field, |(_, zh, _)| zh),
    }
}

fn ratio(x: Option<f64>, base: Option<f64>) -> Option<f64> {
    match (x, base) {
        (Some(x), Some(b)) if b > 0.0 && x.is_finite() => Some(x / b),
        _ => None,
    }
}

/// Compares `files` (the first is the baseline) at two-sided confidence `level` (e.g. 0.95).
pub fn compare(files: &[ResultFile], level: f64) -> Result<Comparison, CompareError> {
    compare_in(files, level, Lang::En)
}

/// [`compare`] with its warnings in `lang` (a report's comparison speaks the report's language).
pub fn compare_in(
    files: &[ResultFile],
    level: f64,
    lang: Lang,
) -> Result<Comparison, CompareError> {
    let zh = lang == Lang::Zh;
    if files.len() < 2 {
        return Err(CompareError::TooFew);
    }
    let labels = super::machine_labels(files);
    ensure_same_suite(files, &labels)?;
    let base = &files[0];
    let mut warnings = Vec::new();
    for (f, label) in files.iter().zip(&labels) {
        if let Some(why) = f.unfinished() {
            warnings.push(if zh {
                format!(
                    "{label} 的结果未完成（状态：{}，已完成 {} 次运行），只比较其已完成的运行",
                    status_word(lang, &f.status),
                    f.finished_runs()
                )
            } else {
                format!(
                    "{label}'s result is unfinished, {why}: only its finished runs are compared"
                )
            });
        }
    }
    for (f, label) in files.iter().zip(&labels).skip(1) {
        let base_label = &labels[0];
        // Other seeds are no warning here: the estimates below compare samples of seeds,
        // and single runs of different seeds get no test (SEEDS_DIFFER).
        let differ = base.experiment_diff(f);
        if differ.suite_file {
            warnings.push(if zh {
                format!("{label} 的套件文件与 {base_label} 的不同（sha256），虽然名称和版本相同")
            } else {
                format!(
                    "{label}'s suite file differs from {base_label}'s (sha256), though name and \
                     version agree"
                )
            });
        }
        for input in &differ.inputs {
            warnings.push(if zh {
                format!("{label} 使用的 {input} 与 {base_label} 的不同（sha256）")
            } else {
                format!("{label} ran with a different {input} than {base_label} (sha256)")
            });
        }
        for input in &differ.unrecorded_inputs {
            warnings.push(if zh {
                format!(
                    "{input} 的摘要只有 {label} 和 {base_label} 中的一方记录了（另一方由较早版本的 \
                     harness 写出），无法判断它是否改变"
                )
            } else {
                format!(
                    "only one of {label} and {base_label} records the digest of {input} (the \
                     other was written by an older harness): whether it changed cannot be told"
                )
            });
        }
        if differ.overrides {
            let said = |f: &ResultFile| super::i18n::overrides_text(lang, &f.suite.overrides);
            let (base_used, used) = (said(base), said(f));
            warnings.push(if zh {
                format!(
                    "命令行覆盖不同：{base_label} 用的是 [{base_used}]，{label} 用的是 [{used}]"
                )
            } else {
                format!(
                    "command-line overrides differ: {base_label} used [{base_used}], {label} used \
                     [{used}]"
                )
            });
        }
        if differ.test_set {
            let (bn, bname, n, name) = (
                base.dataset.n_test,
                &base.dataset.name,
                f.dataset.n_test,
                &f.dataset.name,
            );
            warnings.push(if zh {
                format!(
                    "测试集不同：{base_label} 的测试集是 {bname} 的 {bn} 张图像，{label} 的是 {name} \
                     的 {n} 张图像"
                )
            } else {
                format!(
                    "test sets differ: {base_label} tested on {bn} images of {bname}, {label} on \
                     {n} images of {name}"
                )
            });
        }
    }

    // Arms in the baseline's order, then any arm only later files ran.
    let mut names: Vec<String> = Vec::new();
    for f in files {
        for a in &f.arms {
            if !names.contains(&a.name) {
                names.push(a.name.clone());
            }
        }
    }
    let n_test = (base.dataset.n_test > 0).then_some(base.dataset.n_test);
    let mut arms = Vec::new();
    let mut searches = Vec::new();
    for name in names {
        let found: Vec<Option<&ArmResult>> = files
            .iter()
            .map(|f| f.arms.iter().find(|a| a.name == name))
            .collect();
        let machines: Vec<Option<MachineArm>> =
            found.iter().map(|a| a.map(MachineArm::of)).collect();
        let mut vs_baseline = vec![None];
        let mut changed = vec![Vec::new()];
        for (i, other) in found.iter().enumerate().skip(1) {
            let (Some(b), Some(o)) = (found[0], other) else {
                vs_baseline.push(None);
                changed.push(Vec::new());
                continue;
            };
            let keys = changed_keys(&defined(b), &defined(o));
            if !keys.is_empty() {
                let (label, base_label, keys) = (&labels[i], &labels[0], keys.join(", "));
                warnings.push(if zh {
                    format!(
                        "{}：{label} 的定义与 {base_label} 的在 {keys} 处不同，数字不属于同一实验",
                        arm_label(lang, &name)
                    )
                } else {
                    format!(
                        "arm {name}: {label}'s definition differs from {base_label}'s at {keys}: \
                         the numbers are not the same experiment"
                    )
                });
            }
            changed.push(keys);
            if let (Some(hb), Some(ho)) = (&b.hpo, &o.hpo) {
                searches.push(SearchComparison {
                    arm: name.clone(),
                    machine: labels[i].clone(),
                    agreement: agreement(hb, ho),
                });
            }
            let (mb, mo) = (
                machines[0].as_ref().expect("baseline arm present"),
                machines[i].as_ref().expect("arm present"),
            );
            let mut estimate = compare_means(&b.accuracies(), &o.accuracies(), level, n_test);
            // A difference of two accuracies lies in [-1, 1]; a t interval of few, spread
            // seeds reaches beyond (QA saw [-1.3263, +1.6293]). Clipping keeps its coverage.
            estimate.ci_low = estimate.ci_low.map(|x| x.max(-1.0));
            estimate.ci_high = estimate.ci_high.map(|x| x.min(1.0));
            if different_seeds_untested(&estimate.method, &b.seeds(), &o.seeds()) {
                // Test-set noise alone says nothing between different seeds: no test, in
                // compare's words (check's decision says it in its own).
                estimate = DiffEstimate {
                    ci_low: None,
                    ci_high: None,
                    p_value: None,
                    significant: false,
                    method: if b.seeds().len().max(o.seeds().len()) < 2 {
                        SEEDS_DIFFER.into()
                    } else {
                        SEEDS_DIFFER_NO_SPREAD.into()
                    },
                    ..estimate
                };
            }
            vs_baseline.push(Some(VsBaseline {
                estimate,
                epoch_time_ratio: ratio(mo.epoch_seconds, mb.epoch_seconds),
                images_per_s_ratio: ratio(mo.images_per_s, mb.images_per_s),
            }));
        }
        arms.push(ArmComparison {
            name,
            machines,
            vs_baseline,
            changed_keys: changed,
        });
    }
    Ok(Comparison {
        suite: base.suite.name.clone(),
        version: base.suite.version,
        labels,
        level,
        env_diffs: env_differences(&files.iter().map(|f| &f.environment).collect::<Vec<_>>()),
        arms,
        searches,
        warnings,
    })
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// The comparison as markdown in `lang`, under a heading of `level` `#`s (2 for the report
/// section).
pub fn render_markdown(c: &Comparison, heading: usize, lang: Lang) -> String {
    use super::table::markdown;
    let zh = lang == Lang::Zh;
    let h = "#".repeat(heading.max(1));
    let sub = "#".repeat(heading.max(1) + 1);
    let conf = format!("{:.0}%", 100.0 * c.level);
    let (suite, version, base) = (&c.suite, c.version, &c.labels[0]);
    let mut md = if zh {
        format!(
            "{h} 多机对比：{suite} (v{version})\n\n基准：**{base}**。差值 = 本机 − 基准，附双侧 {conf} 置信区间\
             （每侧 ≥ 2 个种子时为 Welch t 区间；一侧只有一个种子时用另一侧的种子间方差；两侧都没有种子间差异时（只有一个种子，或结果全都相同），种子相同则按测试集的二项分布噪声，种子不同则种子间方差未知，不做检验）；速度比 = 本机 / 基准。\n\n"
        )
    } else {
        format!(
            "{h} Comparison: {suite} (v{version})\n\nBaseline: **{base}**. Differences are machine − baseline, with a two-sided {conf} confidence interval \
             (Welch's t with ≥ 2 seeds a side; one seed against several: t with the several seeds' spread; where neither side has a seed-to-seed spread (one seed, or runs all equal): binomial test-set noise between the same seeds, none between different seeds, whose seed-to-seed variation is unknown); speed ratios are machine / baseline.\n\n"
        )
    };
    let warning = if zh { "**警告：**" } else { "**Warning:**" };
    for w in &c.warnings {
        md.push_str(&format!("> {warning} {w}\n\n"));
    }

    md.push_str(&if zh {
        format!("{sub} 环境差异\n\n")
    } else {
        format!("{sub} Environment differences\n\n")
    });
    if c.env_diffs.is_empty() {
        md.push_str(if zh {
            "记录的环境字段（CPU、GPU、驱动、CUDA、cuDNN、libtorch、线程数、确定性设置、harness 提交）均无差异。\n\n"
        } else {
            "No differences in the recorded environment fields (CPU, GPU, driver, CUDA, cuDNN, libtorch, threads, determinism settings, harness commit).\n\n"
        });
    } else {
        let mut header = vec![if zh { "字段" } else { "field" }.to_string()];
        header.extend(c.labels.iter().cloned());
        let rows: Vec<Vec<String>> = c
            .env_diffs
            .iter()
            .map(|d| {
                let mut r = vec![field_name(&d.field, lang).to_string()];
                r.extend(d.values.iter().cloned());
                r
            })
            .collect();
        md.push_str(&markdown(&header, &rows));
        md.push_str("\n\n");
    }

    md.push_str(&if zh {
        format!("{sub} 各实验组的准确率与速度\n\n")
    } else {
        format!("{sub} Accuracy and speed per arm\n\n")
    });
    let ci = if zh {
        format!("{conf} 置信区间")
    } else {
        format!("{conf} CI")
    };
    let header: Vec<String> = if zh {
        [
            "实验组",
            "机器",
            "准确率",
            "差值",
            &ci,
            "p（方法）",
            "显著",
            "秒/轮",
            "训练图像/秒",
        ]
    } else {
        [
            "arm",
            "machine",
            "accuracy",
            "diff",
            &ci,
            "p (method)",
            "significant",
            "s/epoch",
            "train img/s",
        ]
    }
    .iter()
    .map(|s| s.to_string())
    .collect();
    // The report's Chinese names its arms as the lab template does; English keeps the names.
    let arm_name = |name: &str| match lang {
        Lang::En => name.to_string(),
        Lang::Zh => arm_label(lang, name),
    };
    let mut rows = Vec::new();
    for arm in &c.arms {
        for (i, label) in c.labels.iter().enumerate() {
            let Some(m) = &arm.machines[i] else {
                rows.push(vec![
                    arm_name(&arm.name),
                    label.clone(),
                    if zh { "未运行" } else { "not run" }.into(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                ]);
                continue;
            };
            let secs = m.epoch_seconds.map_or("—".into(), |s| format!("{s:.3}"));
            let imgs = m.images_per_s.map_or("—".into(), |s| format!("{s:.0}"));
            let mut row = vec![arm_name(&arm.name), label.clone(), m.accuracy_cell(lang)];
            match &arm.vs_baseline[i] {
                None if i == 0 => {
                    let baseline = if zh { "（基准）" } else { "(baseline)" };
                    row.extend([baseline.into(), "".into(), "".into(), "".into()]);
                    row.push(secs);
                    row.push(imgs);
                }
                None => {
                    row.extend(["—".into(), "—".into(), "—".into(), "—".into()]);
                    row.push(secs);
                    row.push(imgs);
                }
                Some(v) => {
                    let e = &v.estimate;
                    row.push(e.diff.map_or("—".into(), |d| format!("{d:+.4}")));
                    row.push(match (e.ci_low, e.ci_high) {
                        (Some(lo), Some(hi)) => format!("[{lo:+.4}, {hi:+.4}]"),
                        _ => "n/a".into(),
                    });
                    row.push(match e.p_value {
                        Some(p) => format!("{} ({})", fmt_p(p), e.method),
                        None => format!("n/a ({})", e.method),
                    });
                    // No test made (no p-value): neither "yes" nor "no".
                    row.push(
                        match (zh, e.significant, e.p_value.is_some()) {
                            (_, _, false) => "—",
                            (false, true, _) => "yes",
                            (false, false, _) => "no",
                            (true, true, _) => "是",
                            (true, false, _) => "否",
                        }
                        .into(),
                    );
                    row.push(match v.epoch_time_ratio {
                        Some(r) => format!("{secs} (×{r:.2})"),
                        None => secs,
                    });
                    row.push(match v.images_per_s_ratio {
                        Some(r) => format!("{imgs} (×{r:.2})"),
                        None => imgs,
                    });
                }
            }
            rows.push(row);
        }
    }
    md.push_str(&markdown(&header, &rows));
    md.push('\n');
    if !c.searches.is_empty() {
        md.push_str(&if zh {
            format!("\n{sub} 调参搜索与基准的对比\n\n")
        } else {
            format!("\n{sub} HPO searches against the baseline\n\n")
        });
        for s in &c.searches {
            md.push_str(&format!(
                "- **{}**: {}\n",
                arm_name(&s.arm),
                describe(&s.agreement, &s.machine, base, lang)
            ));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Fact;
    use crate::report::fixture;

    fn file(label: &str, accs: &[f64]) -> ResultFile {
        fixture::two_arms(label, accs)
    }

    /// Two machines' tuned arms: the comparison says whether the searches went the same way,
    /// in its markdown and its JSON.
    #[test]
    fn tuned_arms_searches_are_compared_with_the_baselines() {
        let a = fixture::result("a", vec![fixture::tuned_arm()]);
        let c = compare(&[a.clone(), a.clone()], 0.95).unwrap();
        assert_eq!(c.searches.len(), 1);
        assert!(c.searches[0].agreement.identical());
        let md = render_markdown(&c, 2, Lang::En);
        assert!(
            md.contains(
                "### HPO searches against the baseline\n\n- **tuned**: a (2)'s search is a's to \
                 the bit: 1 trial with the same proposals and curves, and the same choice \
                 (trial 0). The search took 1.0 s on a (2) against 1.0 s on a (×1.00)."
            ),
            "{md}"
        );
        let mut b = a.clone();
        let hpo = b.arms[0].hpo.as_mut().unwrap();
        hpo.trials[0].intermediate[3] = 0.81;
        hpo.trials[0].final_metric = Some(0.81);
        let c = compare(&[a.clone(), b], 0.95).unwrap();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["searches"][0]["agreement"]["first_other_result"], 0);
        assert_eq!(
            json["searches"][0]["agreement"]["first_other_proposal"],
            Value::Null
        );
        let md = render_markdown(&c, 2, Lang::Zh);
        assert!(md.contains("### 调参搜索与基准的对比"), "{md}");
        // Files without a tuned arm have no such section.
        let plain = file("a", &[0.95, 0.96]);
        let c = compare(&[plain.clone(), plain], 0.95).unwrap();
        assert!(c.searches.is_empty());
        assert!(!render_markdown(&c, 2, Lang::En).contains("HPO searches"));
    }

    #[test]
    fn a_file_compared_with_itself_shows_no_difference() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let c = compare(&[a.clone(), a], 0.95).unwrap();
        assert!(c.env_diffs.is_empty(), "{:?}", c.env_diffs);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.labels, vec!["a".to_string(), "a (2)".to_string()]);
        for arm in &c.arms {
            let v = arm.vs_baseline[1].as_ref().unwrap();
            assert_eq!(v.estimate.diff, Some(0.0));
            assert!(!v.estimate.significant);
            assert_eq!(v.epoch_time_ratio, Some(1.0));
        }
        let md = render_markdown(&c, 2, Lang::En);
        assert!(
            md.contains("No differences in the recorded environment"),
            "{md}"
        );
        let row = md
            .lines()
            .find(|l| l.starts_with("| original") && l.contains("a (2)"))
            .unwrap_or_else(|| panic!("{md}"));
        assert!(row.contains("| no "), "{row}");
    }

    #[test]
    fn a_different_search_space_is_named() {
        let input = |sha: &str| crate::results::InputFile {
            key: "arms.tuned.hpo.search_space".into(),
            path: "suites/quick_search_space.json".into(),
            sha256: sha.into(),
        };
        let mut a = file("a", &[0.95, 0.96, 0.955]);
        a.suite.inputs = vec![input("aa")];
        let mut b = file("b", &[0.95, 0.96, 0.955]);
        b.suite.inputs = vec![input("aa")];
        assert!(compare(&[a.clone(), b.clone()], 0.95)
            .unwrap()
            .warnings
            .is_empty());
        b.suite.inputs = vec![input("bb")];
        let c = compare(&[a, b], 0.95).unwrap();
        assert_eq!(
            c.warnings,
            vec!["b ran with a different arms.tuned.hpo.search_space \
                 (suites/quick_search_space.json) than a (sha256)"
                .to_string()]
        );
    }

    #[test]
    fn a_different_thread_count_is_named() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let mut b = file("b", &[0.95, 0.96, 0.955]);
        b.environment.torch.intra_op_threads = Fact::known(64, "test");
        let c = compare(&[a, b], 0.95).unwrap();
        let fields: Vec<&str> = c.env_diffs.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, vec!["intra-op threads"]);
        assert_eq!(c.env_diffs[0].values[1], "64");
        assert!(render_markdown(&c, 2, Lang::En).contains("| intra-op threads |"));
    }

    #[test]
    fn architecture_and_uncommitted_changes_are_compared() {
        let mut a = file("a", &[0.95, 0.96]);
        a.environment.arch = Fact::known("x86_64".to_string(), "test");
        a.environment.git_dirty = Fact::known(false, "test");
        let mut b = a.clone();
        b.environment.label = "b".into();
        b.environment.arch = Fact::known("aarch64".to_string(), "test");
        b.environment.git_dirty = Fact::known(true, "test");
        let c = compare(&[a, b], 0.95).unwrap();
        let diffs: Vec<(&str, &[String])> = c
            .env_diffs
            .iter()
            .map(|d| (d.field.as_str(), d.values.as_slice()))
            .collect();
        assert_eq!(
            diffs,
            vec![
                (
                    "architecture",
                    &["x86_64".to_string(), "aarch64".to_string()][..]
                ),
                (
                    "uncommitted changes",
                    &["false".to_string(), "true".to_string()][..]
                ),
            ]
        );
    }

    #[test]
    fn a_clear_accuracy_drop_is_significant() {
        let a = file("a", &[0.95, 0.96, 0.955]);
        let b = file("b", &[0.85, 0.86, 0.855]);
        let c = compare(&[a, b], 0.95).unwrap();
        let v = c.arms[0].vs_baseline[1].as_ref().unwrap();
        assert!(v.estimate.significant);
        assert!((v.estimate.diff.unwrap() + 0.1).abs() < 1e-9);
    }

    #[test]
    fn single_runs_of_different_seeds_get_no_significance() {
        let a = file("a", &[0.90]);
        let mut b = file("b", &[0.82]);
        b.arms[0].runs[0].seed = 7;
        let c = compare(&[a.clone(), b], 0.95).unwrap();
        let e = &c.arms[0].vs_baseline[1].as_ref().unwrap().estimate;
        assert_eq!(e.method, "one run a side, different seeds");
        assert!(!e.significant && e.ci_low.is_none() && e.p_value.is_none());
        assert!((e.diff.unwrap() + 0.08).abs() < 1e-9);
        let md = render_markdown(&c, 2, Lang::En);
        assert!(
            md.contains("| -0.0800    | n/a                | n/a (one run a side, different seeds) | —           |"),
            "{md}"
        );
        // Of the same seed, the binomial test stands.
        let c = compare(&[a, file("b", &[0.82])], 0.95).unwrap();
        let e = &c.arms[0].vs_baseline[1].as_ref().unwrap().estimate;
        assert_eq!((e.method.as_str(), e.significant), ("binomial", true));
    }

    /// Runs all equal on a side have no seed-to-seed spread either: the binomial test between
    /// the same seeds, none between others, and the label says why without "one run".
    #[test]
    fn runs_all_equal_are_compared_like_single_runs() {
        let equal = file("a", &[0.93, 0.93, 0.93]);
        let c = compare(&[equal.clone(), file("b", &[0.90, 0.90, 0.90])], 0.95).unwrap();
        let e = &c.arms[0].vs_baseline[1].as_ref().unwrap().estimate;
        assert_eq!(e.method, "binomial");
        assert!(e.ci_low.unwrap() < e.ci_high.unwrap());
        let c = compare(&[equal, file("b", &[0.90])], 0.95).unwrap();
        let e = &c.arms[0].vs_baseline[1].as_ref().unwrap().estimate;
        assert_eq!(e.method, "no seed-to-seed spread, different seeds");
        assert!(e.p_value.is_none());
    }

    #[test]
    fn intervals_stay_within_the_possible_differences() {
        let a = file("a", &[0.10, 0.95]);
        let b = file("b", &[0.90, 0.15]);
        let c = compare(&[a, b], 0.95).unwrap();
        let e = &c.arms[0].vs_baseline[1].as_ref().unwrap().estimate;
        assert_eq!((e.ci_low, e.ci_high), (Some(-1.0), Some(1.0)));
    }

    #[test]
    fn different_suites_are_refused_naming_both() {
        let a = file("a", &[0.95]);
        let mut b = file("b", &[0.95]);
        b.suite.name = "full".into();
        let e = compare(&[a.clone(), b], 0.95).unwrap_err().to_string();
        assert!(e.contains("`quick` v1") && e.contains("`full` v1"), "{e}");
        let mut c = file("c", &[0.95]);
        c.suite.version = 2;
        let e = compare(&[a, c], 0.95).unwrap_err().to_string();
        assert!(e.contains("`quick` v1") && e.contains("`quick` v2"), "{e}");
        assert!(e.contains("a ran") && e.contains("c ran"), "{e}");
    }

    #[test]
    fn a_changed_arm_definition_warns_with_the_key() {
        let a = file("a", &[0.95, 0.96]);
        let mut b = file("b", &[0.95, 0.96]);
        b.arms[1].definition["recipe"]["initial_lr"] = serde_json::json!(0.05);
        let c = compare(&[a, b], 0.95).unwrap();
        assert_eq!(c.arms[1].changed_keys[1], vec!["recipe.initial_lr"]);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("arm manual"), "{:?}", c.warnings);
        assert!(
            c.warnings[0].contains("recipe.initial_lr"),
            "{:?}",
            c.warnings
        );
    }

    /// A file written before a recipe or search field existed lacks it; read as this harness
    /// reads it, it has the default, and compares equal to a file that wrote the default.
    #[test]
    fn fields_added_with_their_defaults_are_no_difference() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/quick.toml");
        let suite = crate::suite::LoadedSuite::load(&path).unwrap();
        let arm = |name: &str, definition: Value| ArmResult {
            definition,
            ..crate::report::fixture::arm(name, &[(1, 0.9)], 2)
        };
        let manual = serde_json::to_value(suite.file.arms.manual.as_ref().unwrap()).unwrap();
        let mut old = manual.clone();
        for added in ["style", "head_classes", "augment", "cutout"] {
            old["recipe"].as_object_mut().unwrap().remove(added);
        }
        assert_ne!(old, manual);
        let (new, old) = (arm("manual", manual), arm("manual", old));
        assert_eq!(
            changed_keys(&defined(&old), &defined(&new)),
            Vec::<String>::new()
        );
        let mut changed = old.clone();
        changed.definition["recipe"]["initial_lr"] = serde_json::json!(0.5);
        assert_eq!(
            changed_keys(&defined(&changed), &defined(&new)),
            ["recipe.initial_lr"]
        );
        // The tuned arm as a finished file records it, without the search's later budget field.
        let tuned = suite.file.arms.tuned.as_ref().unwrap();
        let recorded = |hpo: Value| {
            arm(
                "tuned",
                serde_json::json!({"description": tuned.description, "base_recipe": tuned.recipe,
                    "hpo": hpo, "chosen_recipe": tuned.recipe}),
            )
        };
        let hpo = serde_json::to_value(&tuned.hpo).unwrap();
        let mut before = hpo.clone();
        before.as_object_mut().unwrap().remove("max_trial_epochs");
        assert_eq!(
            changed_keys(&defined(&recorded(before)), &defined(&recorded(hpo))),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_tuned_arms_choice_is_an_outcome_not_its_definition() {
        let arm = |definition: Value| ArmResult {
            definition,
            ..crate::report::fixture::arm("tuned", &[(1, 0.9)], 2)
        };
        let spec =
            serde_json::json!({"description": "t", "recipe": {"lr": 0.1}, "hpo": {"tuner": "tpe"}});
        let chose = |lr: f64| {
            arm(
                serde_json::json!({"description": "t", "base_recipe": {"lr": 0.1},
                "hpo": {"tuner": "tpe"}, "chosen_recipe": {"lr": lr}}),
            )
        };
        // Two machines that chose differently, and a file whose search has not chosen yet.
        assert!(changed_keys(&defined(&chose(0.3)), &defined(&chose(0.02))).is_empty());
        assert!(changed_keys(&defined(&chose(0.3)), &defined(&arm(spec))).is_empty());
        let other = arm(
            serde_json::json!({"description": "t", "base_recipe": {"lr": 0.5},
            "hpo": {"tuner": "tpe"}, "chosen_recipe": {"lr": 0.3}}),
        );
        assert_eq!(
            changed_keys(&defined(&chose(0.3)), &defined(&other)),
            vec!["recipe.lr"]
        );
    }

    #[test]
    fn changed_keys_lists_dotted_paths() {
        let a = serde_json::json!({"x": 1, "r": {"lr": 0.1, "m": [1, 2]}, "gone": true});
        let b = serde_json::json!({"x": 1, "r": {"lr": 0.2, "m": [1, 3]}, "new": 1});
        assert_eq!(changed_keys(&a, &b), vec!["r.lr", "r.m[1]", "gone", "new"]);
        assert!(changed_keys(&a, &a).is_empty());
        assert_eq!(
            changed_keys(&serde_json::json!(1), &serde_json::json!(2)),
            vec!["(whole definition)"]
        );
    }

    #[test]
    fn a_report_of_several_files_ends_with_the_comparison() {
        let dir = tempfile::tempdir().unwrap();
        let a = file("a", &[0.95, 0.96, 0.955]);
        let mut b = file("b", &[0.95, 0.96, 0.955]);
        b.environment.torch.inter_op_threads = Fact::known(7, "test");
        let both = [a.clone(), b];
        let md = crate::report::render(&both, crate::report::i18n::Lang::En, dir.path(), "r")
            .unwrap()
            .markdown;
        assert!(md.contains("## Comparison: quick (v1)"), "{md}");
        assert!(md.contains("| inter-op threads |"), "{md}");
        let single =
            crate::report::render(&both[..1], crate::report::i18n::Lang::En, dir.path(), "s")
                .unwrap()
                .markdown;
        assert!(!single.contains("Comparison"), "{single}");
        let mut other = a.clone();
        other.suite.version = 3;
        let md = crate::report::render(&[a, other], crate::report::i18n::Lang::En, dir.path(), "t")
            .unwrap()
            .markdown;
        assert!(
            md.contains("Not compared: cannot compare different suites"),
            "{md}"
        );
    }

    /// A Chinese report's comparison is Chinese: its warnings and its refusal included.
    #[test]
    fn a_chinese_report_compares_in_chinese() {
        use crate::report::{i18n::Lang, render};
        let dir = tempfile::tempdir().unwrap();
        let a = file("a", &[0.95, 0.96]);
        let mut b = file("b", &[0.95, 0.96]);
        b.arms[1].definition["recipe"]["initial_lr"] = serde_json::json!(0.05);
        b.status = crate::results::RunStatus::Interrupted;
        let md = render(&[a.clone(), b], Lang::Zh, dir.path(), "r")
            .unwrap()
            .markdown;
        let compared = md.split("## 多机对比：quick (v1)\n").nth(1).unwrap();
        for line in [
            "> **警告：** b 的结果未完成（状态：已中断，已完成 4 次运行），只比较其已完成的运行",
            "> **警告：** 手动调参：b 的定义与 a 的在 recipe.initial_lr 处不同，数字不属于同一实验",
            "| 实验组   | 机器 | 准确率                | 差值     |",
        ] {
            assert!(compared.contains(line), "{line}\n{compared}");
        }
        let mut other = a.clone();
        other.suite.version = 3;
        let md = render(&[a, other], Lang::Zh, dir.path(), "t")
            .unwrap()
            .markdown;
        assert!(
            md.ends_with(
                "## 多机对比\n\n未比较：不能比较不同的套件：a 运行的是套件 `quick` v1，a (2) \
                 运行的是套件 `quick` v3。\n"
            ),
            "{md}"
        );
    }

    #[test]
    fn one_file_is_too_few() {
        assert_eq!(
            compare(&[file("a", &[0.9])], 0.95).unwrap_err(),
            CompareError::TooFew
        );
    }
}
