//! Markdown reports like the lab's tables, from result files only.
//!
//! The report knows nothing of tch or suites: every number in it comes from [`ResultFile`]s,
//! so a report can be rebuilt from files copied off several machines.

mod accuracy_plot;
pub mod check;
pub mod compare;
pub mod determinism;
#[doc(hidden)]
pub mod fixture;
pub mod hpo;
pub mod hyper;
pub mod i18n;
pub mod nas;
pub mod output;
pub mod plots;
pub mod search_agreement;
pub mod table;
pub mod trial_plots;

use crate::env::Limit;
use crate::results::{ArmMetric, ArmResult, ResultFile, RunStatus};
use compare::MachineArm;
use i18n::{arm_label, plural, status_word, text, Lang};
use plots::Series;
use std::path::{Path, PathBuf};
use table::{lines, markdown};

/// A rendered report: the markdown and the plot files written next to it.
pub struct Report {
    pub markdown: String,
    pub plots: Vec<PathBuf>,
}

/// How every report starts: its first line is this and the suite's name and version.
fn title_prefix(lang: Lang) -> String {
    format!("# {}: ", text(lang).title)
}

/// Whether `text` starts like a report this tool wrote, in any language: the only kind of
/// existing file a report may replace ([`output::check_output`]).
pub fn starts_like_a_report(text: &str) -> bool {
    title_prefixes().iter().any(|p| text.starts_with(p))
}

/// The first line's start in each language.
pub fn title_prefixes() -> Vec<String> {
    use clap::ValueEnum;
    Lang::value_variants()
        .iter()
        .map(|&lang| title_prefix(lang))
        .collect()
}

/// Renders a report for one or more result files. Plots are written into `out_dir` with names
/// starting with `stem`; the markdown links them relatively.
pub fn render(
    files: &[ResultFile],
    lang: Lang,
    out_dir: &Path,
    stem: &str,
) -> anyhow::Result<Report> {
    anyhow::ensure!(!files.is_empty(), "no result files to report");
    let t = text(lang);
    let labels = machine_labels(files);
    let mut md = String::new();
    let first = &files[0];
    md.push_str(&format!(
        "{}{} (v{})\n\n",
        title_prefix(lang),
        first.suite.name,
        first.suite.version
    ));
    // At the top: these numbers are partial, or not comparable with the first file's.
    let warnings = other_suite_warnings(files, &labels, lang)
        .into_iter()
        .chain(other_experiment_warnings(files, &labels, lang))
        .chain(unfinished_warnings(files, &labels, lang));
    for warning in warnings {
        md.push_str(&format!("> {warning}\n\n"));
    }

    md.push_str(&format!("## {}\n\n", t.environment));
    md.push_str(&environment_table(files, &labels, lang));
    md.push_str("\n\n");

    md.push_str(&format!("## {}\n\n", t.results));
    md.push_str(&accuracy_table(files, &labels, lang));
    md.push_str("\n\n");
    md.push_str(&accuracy_legend(first, lang));
    md.push_str("\n\n");
    std::fs::create_dir_all(out_dir).map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot create the report's folder: {e}",
            out_dir.display()
        )
    })?;
    let mut written = Vec::new();
    if let Some((alt, plot)) = accuracy_plot::write(files, &labels, lang, out_dir, stem)? {
        md.push_str(&format!("![{alt}]({})\n\n", file_name(&plot)));
        written.push(plot);
    }

    md.push_str(&format!("## {}\n\n", t.curves));
    let slugs = plot_slugs(&labels);
    for ((file, label), slug) in files.iter().zip(&labels).zip(&slugs) {
        if let Some(why) = no_curve(file, lang) {
            md.push_str(&match lang {
                Lang::En => format!("{label}: no learning curve to draw: {why}.\n\n"),
                Lang::Zh => format!("{label}：没有可画的学习曲线：{why}。\n\n"),
            });
            continue;
        }
        for (kind, plot) in curve_plots(file, label, slug, lang, out_dir, stem)? {
            md.push_str(&format!("![{kind} — {label}]({})\n\n", file_name(&plot)));
            written.push(plot);
        }
    }

    for ((file, label), slug) in files.iter().zip(&labels).zip(&slugs) {
        for arm in &file.arms {
            if let Some(record) = &arm.hpo {
                md.push_str(&match lang {
                    Lang::En => format!("## Automatic HPO — {label}\n\n"),
                    Lang::Zh => format!("## NNI自动调参 — {label}\n\n"),
                });
                let (section, plots) = hpo::section(record, label, slug, lang, out_dir, stem)?;
                md.push_str(&section);
                written.extend(plots);
            }
            if let Some(record) = &arm.nas {
                md.push_str(&match lang {
                    Lang::En => format!("## Architecture search (DARTS) — {label}\n\n"),
                    Lang::Zh => format!("## 网络架构搜索（DARTS）— {label}\n\n"),
                });
                md.push_str(&nas::section(arm, record, lang));
            }
        }
    }

    md.push_str(&format!("## {}\n\n", t.runs));
    for (file, label) in files.iter().zip(&labels) {
        md.push_str(&format!("### {label}\n\n"));
        md.push_str(&runs_table(file, lang));
        md.push_str("\n\n");
    }

    md.push_str(&format!("## {}\n\n", t.notes));
    for note in notes(files, &labels, lang) {
        md.push_str(&format!("- {note}\n"));
    }

    // Several machines: the cross-machine comparison (issue 6). Mismatched suites are already
    // warned about at the top, so a refusal here is one line, not an error.
    if files.len() > 1 {
        md.push('\n');
        match compare::compare_in(files, 0.95, lang) {
            Ok(c) => md.push_str(&compare::render_markdown(&c, 2, lang)),
            Err(e) => md.push_str(&match lang {
                Lang::En => format!("## Comparison\n\nNot compared: {e}.\n"),
                Lang::Zh => format!("## 多机对比\n\n未比较：{}。\n", e.message(lang)),
            }),
        }
    }
    Ok(Report {
        markdown: md,
        plots: written,
    })
}

/// Every plot file [`render`] writes for `files` into `out_dir`, in its order: checked before
/// anything is written ([`output::check_output`]).
pub fn plot_paths(files: &[ResultFile], out_dir: &Path, stem: &str) -> Vec<PathBuf> {
    let slugs = plot_slugs(&machine_labels(files));
    let mut paths: Vec<PathBuf> = Vec::new();
    if accuracy_plot::is_drawn(files) {
        paths.push(accuracy_plot::path(out_dir, stem));
    }
    paths.extend(
        files
            .iter()
            .zip(&slugs)
            .filter(|(file, _)| no_curve(file, Lang::En).is_none())
            .flat_map(|(_, slug)| CURVE_PLOTS.map(|kind| plot_path(out_dir, stem, slug, kind))),
    );
    for (file, slug) in files.iter().zip(&slugs) {
        for record in file.arms.iter().filter_map(|a| a.hpo.as_ref()) {
            paths.extend(
                hpo::plot_kinds(record)
                    .into_iter()
                    .map(|kind| plot_path(out_dir, stem, slug, kind)),
            );
        }
    }
    paths
}

/// Why `file` has no learning curve (no run finished an epoch), or None when it has one.
fn no_curve(file: &ResultFile, lang: Lang) -> Option<String> {
    let runs: Vec<_> = file.arms.iter().flat_map(|a| &a.runs).collect();
    if runs.iter().any(|r| !r.epochs.is_empty()) {
        return None;
    }
    let diverged = runs
        .iter()
        .filter(|r| r.diverged_at_epoch.is_some())
        .count();
    let searched = file
        .arms
        .iter()
        .any(|a| a.hpo.as_ref().is_some_and(|h| !h.trials.is_empty()));
    let trials = match (lang, searched) {
        (_, false) => "",
        (Lang::En, true) => " (the search's trials are plotted in its section below)",
        (Lang::Zh, true) => "（搜索中各 trial 的曲线见下面的调参部分）",
    };
    let why = match (lang, runs.len()) {
        (Lang::En, 0) => "no training run has finished".to_string(),
        (Lang::Zh, 0) => "还没有完成的训练运行".to_string(),
        (Lang::En, n) if diverged == n => {
            format!("every run ({n}) diverged in its first epoch")
        }
        (Lang::Zh, n) if diverged == n => format!("全部 {n} 次运行都在第一轮发散"),
        (Lang::En, _) => "no run finished an epoch".to_string(),
        (Lang::Zh, _) => "没有运行完成过一轮".to_string(),
    };
    Some(format!("{why}{trials}"))
}

/// The arms in the lab table's order (the accuracy table's rows, the accuracy plot's columns).
pub(super) const ARM_ORDER: [&str; 4] = ["original", "manual", "tuned", "nas"];

/// The learning-curve plots of each machine, by file-name kind.
const CURVE_PLOTS: [&str; 2] = ["test-acc", "train-vs-test"];

/// A plot's file name, as the markdown links it (beside the report).
pub(super) fn file_name(plot: &Path) -> String {
    plot.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `out_dir/{stem}-{slug}-{kind}.svg`: one machine's plot of one kind.
pub(crate) fn plot_path(out_dir: &Path, stem: &str, slug: &str, kind: &str) -> PathBuf {
    out_dir.join(format!("{stem}-{slug}-{kind}.svg"))
}

/// Longest slug in a plot file name, in characters (a file name has at most 255 bytes).
const MAX_SLUG_CHARS: usize = 40;

/// Each machine's part of its plot file names, unique within the report: lower-case letters
/// and digits of any script (so "东京" and "北京" stay apart), '-' for anything else; a slug
/// already taken (as "a b" and "a-b" would share "a-b") gets "-2", "-3", … so that one
/// machine's plots never overwrite another's.
pub(crate) fn plot_slugs(labels: &[String]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::new();
    for label in labels {
        let base: String = label
            .chars()
            .flat_map(|c| {
                let keep = if c.is_alphanumeric() { c } else { '-' };
                keep.to_lowercase()
            })
            .take(MAX_SLUG_CHARS)
            .collect();
        let mut slug = base.clone();
        let mut n = 2;
        while taken.contains(&slug) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        taken.push(slug);
    }
    taken
}

/// Column names: each file's machine label, made unique if two files share one.
pub(crate) fn machine_labels(files: &[ResultFile]) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for f in files {
        let base = f.environment.label.clone();
        let mut label = base.clone();
        let mut n = 2;
        while labels.contains(&label) {
            label = format!("{base} ({n})");
            n += 1;
        }
        labels.push(label);
    }
    labels
}

fn environment_table(files: &[ResultFile], labels: &[String], lang: Lang) -> String {
    let t = text(lang);
    let mut header = vec![String::new(), String::new()];
    header.extend(labels.iter().cloned());
    let row = |group: &str, name: &str, f: &dyn Fn(&ResultFile) -> String| {
        let mut r = vec![group.to_string(), name.to_string()];
        r.extend(files.iter().map(f));
        r
    };
    let env = |f: &ResultFile| f.environment.clone();
    let rows = vec![
        row(t.hardware, t.cpu_vcpus, &|f| {
            let e = &f.environment;
            let quota = e.cpu_quota.value.and_then(Limit::limited);
            let (open, close) = t.cpu_quota;
            let quota = quota.map_or(String::new(), |q| format!("{open}{q:.1}{close}"));
            e.logical_cores.display() + &quota
        }),
        row("", t.cpu_model, &|f| env(f).cpu_model.display()),
        row("", t.memory, &|f| {
            let e = &f.environment;
            let limit = e.memory_limit.value.and_then(Limit::limited);
            let (open, close) = t.memory_limit;
            let limit = limit.map_or(String::new(), |l| {
                format!("{open}{}{close}", crate::env::format_bytes(l))
            });
            e.memory_bytes
                .value
                .map_or("n/a".into(), crate::env::format_bytes)
                + &limit
        }),
        row("", t.gpu, &|f| {
            let g = &f.environment.gpus;
            if g.devices.is_empty() {
                t.none.to_string()
            } else {
                g.summary()
            }
        }),
        row(t.software, t.os, &|f| {
            let e = &f.environment;
            let (os, kernel) = (e.os_name.display(), e.kernel.display());
            match lang {
                Lang::En => format!("{os} (kernel {kernel})"),
                Lang::Zh => format!("{os}（内核 {kernel}）"),
            }
        }),
        row("", t.framework, &|f| {
            let tr = &f.environment.torch;
            format!(
                "libtorch {} (tch {})",
                tr.libtorch_version.display(),
                tr.tch_version
            )
        }),
        row("", t.cuda, &|f| {
            let tr = &f.environment.torch;
            match (tr.cuda_available.value, &tr.cuda_built.value) {
                (Some(true), Some(v)) => v.clone(),
                (_, Some(v)) => match lang {
                    Lang::En => format!("{} (libtorch built for CUDA {v}; ran on CPU)", t.none),
                    Lang::Zh => format!("{}（libtorch 为 CUDA {v} 编译；在 CPU 上运行）", t.none),
                },
                _ => t.none.to_string(),
            }
        }),
        row("", t.threads, &|f| {
            let tr = &f.environment.torch;
            format!(
                "{} / {}",
                tr.intra_op_threads.display(),
                tr.inter_op_threads.display()
            )
        }),
    ];
    markdown(&header, &rows)
}

/// "0.9722 ± 0.0041 (n=3)" ("0.9610 (n=1)"), plus the number of diverged runs when there are any; recomputed
/// from the runs as `check` and `compare` do.
pub fn accuracy_cell(arm: &ArmResult, lang: Lang) -> String {
    let t = text(lang);
    if let Some(e) = &arm.error {
        // The whole message on one line, unescaped: `table::markdown` escapes every cell once.
        return format!("{}: {}", t.failed, e.replace('\n', " "));
    }
    if arm.runs.is_empty() {
        return "—".to_string();
    }
    let m = MachineArm::of(arm);
    let mut cell = match (m.mean, m.std) {
        // One run has no spread to show (as in `compare` and `check`).
        (Some(mean), _) if m.n == 1 => format!("{mean:.4} (n=1)"),
        (Some(mean), Some(std)) => format!("{mean:.4} ± {std:.4} (n={})", m.n),
        // No accuracy at all: say how many runs diverged, not "n=0".
        _ => match lang {
            Lang::En => format!(
                "{} ({} of {})",
                t.diverged,
                m.diverged,
                plural(arm.runs.len(), "run")
            ),
            Lang::Zh => format!(
                "{}（{} 次运行中 {} 次）",
                t.diverged,
                arm.runs.len(),
                m.diverged
            ),
        },
    };
    if m.diverged > 0 && m.n > 0 {
        cell.push_str(&format!(", {} {}", m.diverged, t.diverged));
    }
    cell
}

fn accuracy_table(files: &[ResultFile], labels: &[String], lang: Lang) -> String {
    let t = text(lang);
    let single = files.len() == 1;
    let mut header = vec![t.method.to_string(), t.hyperparameters.to_string()];
    for label in labels {
        if single {
            header.push(t.accuracy.to_string());
            header.push(t.gap.to_string());
        } else {
            header.push(i18n::labelled(lang, t.accuracy, label));
            header.push(i18n::labelled(lang, t.gap, label));
        }
    }
    // Rows in the lab's order; an arm appears if any file ran it.
    let mut rows = Vec::new();
    for arm_name in ARM_ORDER {
        let arms: Vec<Option<&ArmResult>> = files
            .iter()
            .map(|f| f.arms.iter().find(|a| a.name == arm_name))
            .collect();
        if arms.iter().all(Option::is_none) {
            continue;
        }
        let mut row = vec![
            arm_label(lang, arm_name),
            hyperparameter_cell(&arms, labels, lang),
        ];
        for arm in &arms {
            match arm {
                Some(a) => {
                    row.push(accuracy_cell(a, lang));
                    row.push(
                        MachineArm::of(a)
                            .train_test_gap
                            .map_or("—".into(), |g| format!("{g:+.4}")),
                    );
                }
                None => {
                    row.push("—".into());
                    row.push("—".into());
                }
            }
        }
        rows.push(row);
    }
    markdown(&header, &rows)
}

/// One `name=value` line per hyper-parameter. Where the machines that ran the arm disagree (an
/// `--epochs` override, another chosen configuration of the tuned arm), the line gives each
/// machine's value: `epochs=4 (server), 100 (gpu-box)`, with "—" where a machine lacks it.
fn hyperparameter_cell(arms: &[Option<&ArmResult>], labels: &[String], lang: Lang) -> String {
    let ran: Vec<(&String, Vec<(String, String)>)> = labels
        .iter()
        .zip(arms)
        .filter_map(|(label, arm)| arm.map(|a| (label, hyper::pairs(a, lang))))
        .collect();
    let mut names: Vec<&str> = Vec::new();
    for (_, pairs) in &ran {
        for (k, _) in pairs {
            if !names.contains(&k.as_str()) {
                names.push(k);
            }
        }
    }
    let lines_out: Vec<String> = names
        .iter()
        .map(|name| {
            let values: Vec<Option<&str>> = ran
                .iter()
                .map(|(_, pairs)| {
                    pairs
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.as_str())
                })
                .collect();
            match values[0] {
                Some(v) if values.iter().all(|x| *x == Some(v)) => format!("{name}={v}"),
                _ => {
                    let each: Vec<String> = ran
                        .iter()
                        .zip(&values)
                        .map(|((label, _), v)| i18n::labelled(lang, v.unwrap_or("—"), label))
                        .collect();
                    // Chinese values hold "，" themselves (the nas arm's retraining).
                    let sep = if lang == Lang::Zh { "；" } else { ", " };
                    format!("{name}={}", each.join(sep))
                }
            }
        })
        .collect();
    lines(&lines_out)
}

fn accuracy_legend(file: &ResultFile, lang: Lang) -> String {
    let metrics: Vec<String> = file
        .arms
        .iter()
        .map(|a| {
            let which = match (a.metric, lang) {
                (ArmMetric::BestTestAcc, Lang::En) => "best epoch's test accuracy",
                (ArmMetric::BestTestAcc, Lang::Zh) => "最佳轮次的测试准确率",
                (ArmMetric::FinalTestAcc, Lang::En) => "last epoch's test accuracy",
                (ArmMetric::FinalTestAcc, Lang::Zh) => "最后一轮的测试准确率",
            };
            let colon = if lang == Lang::Zh { "：" } else { ": " };
            format!("{}{colon}{which}", arm_label(lang, &a.name))
        })
        .collect();
    match lang {
        Lang::En => format!(
            "Accuracy = mean ± sample std over seeds (n = runs that finished without diverging); \
             {}. Test set: {} images of {}. Gap = train − test accuracy at the last epoch.",
            metrics.join("; "),
            file.dataset.n_test,
            file.dataset.name
        ),
        Lang::Zh => format!(
            "准确率 = 各随机种子的均值 ± 样本标准差（n = 未发散的运行数）；{}。测试集：{} 的 {} 张图像。\
             差距 = 最后一轮的训练准确率 − 测试准确率。",
            metrics.join("；"),
            file.dataset.name,
            file.dataset.n_test
        ),
    }
}

fn runs_table(file: &ResultFile, lang: Lang) -> String {
    let header: Vec<String> = match lang {
        Lang::En => [
            "arm",
            "seed",
            "final acc",
            "best acc (epoch)",
            "epochs",
            "status",
            "s/epoch",
            "train img/s",
        ],
        Lang::Zh => [
            "实验组",
            "种子",
            "最终准确率",
            "最佳准确率（轮次）",
            "轮数",
            "状态",
            "秒/轮",
            "训练图像/秒",
        ],
    }
    .iter()
    .map(|s| s.to_string())
    .collect();
    let t = text(lang);
    let mut rows = Vec::new();
    for arm in &file.arms {
        for run in &arm.runs {
            let status = match (run.diverged_at_epoch, run.stopped_at_epoch, lang) {
                (Some(e), _, _) => format!("{} @ {e}", t.diverged),
                (None, Some(e), Lang::En) => format!("stopped @ {e}"),
                (None, Some(e), Lang::Zh) => format!("提前停止 @ {e}"),
                (None, None, Lang::En) => "ok".to_string(),
                (None, None, Lang::Zh) => "正常".to_string(),
            };
            // A run that finished no epoch (it diverged in its first) has no time per epoch
            // and no speed to show.
            let (per_epoch, speed) = if run.epochs.is_empty() {
                ("—".to_string(), "—".to_string())
            } else {
                let seconds = run.epochs.iter().map(|e| e.seconds).sum::<f64>();
                (
                    format!("{:.3}", seconds / run.epochs.len() as f64),
                    format!("{:.0}", run.train_images_per_s),
                )
            };
            rows.push(vec![
                arm_label(lang, &arm.name),
                run.seed.to_string(),
                run.final_test_acc.map_or("—".into(), |a| format!("{a:.4}")),
                match (run.best_test_acc, run.best_epoch) {
                    (Some(a), Some(e)) => format!("{a:.4} ({e})"),
                    _ => "—".into(),
                },
                run.epochs.len().to_string(),
                status,
                per_epoch,
                speed,
            ]);
        }
    }
    markdown(&header, &rows)
}

/// Mean of a per-epoch value over the runs that reached each epoch.
fn mean_curve(
    arm: &ArmResult,
    value: impl Fn(&crate::train::EpochRecord) -> f64,
) -> Vec<(f64, f64)> {
    let longest = arm.runs.iter().map(|r| r.epochs.len()).max().unwrap_or(0);
    (0..longest)
        .filter_map(|i| {
            let vals: Vec<f64> = arm
                .runs
                .iter()
                .filter_map(|r| r.epochs.get(i).map(&value))
                .collect();
            (!vals.is_empty())
                .then(|| ((i + 1) as f64, vals.iter().sum::<f64>() / vals.len() as f64))
        })
        .collect()
}

fn curve_plots(
    file: &ResultFile,
    label: &str,
    slug: &str,
    lang: Lang,
    out_dir: &Path,
    stem: &str,
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    // (plot title, the markdown's alt text): the Chinese plots keep English beside their titles,
    // as on their axes; the markdown is Chinese only.
    let ((test_title, test_alt), (gap_title, gap_alt), epoch, acc) = match lang {
        Lang::En => (
            ("Test accuracy per epoch (mean over seeds)", None),
            ("Train (thin) vs test (thick) accuracy", None),
            "epoch",
            "accuracy",
        ),
        Lang::Zh => (
            (
                "Test accuracy per epoch / 每轮测试准确率",
                Some("每轮测试准确率（各种子的均值）"),
            ),
            (
                "Train vs test accuracy / 训练与测试准确率",
                Some("训练（细线）与测试（粗线）准确率"),
            ),
            "epoch",
            "accuracy",
        ),
    };
    let mut test_series = Vec::new();
    let mut both = Vec::new();
    for (i, arm) in file.arms.iter().enumerate() {
        let name = arm.name.clone();
        let test = mean_curve(arm, |e| e.test_acc);
        test_series.push(Series {
            name: name.clone(),
            points: test.clone(),
            secondary: false,
            colour: i,
        });
        both.push(Series {
            name: format!("{name} test"),
            points: test,
            secondary: false,
            colour: i,
        });
        both.push(Series {
            name: format!("{name} train"),
            points: mean_curve(arm, |e| e.train_acc),
            secondary: true,
            colour: i,
        });
    }
    let test_path = plot_path(out_dir, stem, slug, CURVE_PLOTS[0]);
    plots::line_chart(
        &test_path,
        &format!("{test_title} — {label}"),
        epoch,
        acc,
        &test_series,
    )?;
    let gap_path = plot_path(out_dir, stem, slug, CURVE_PLOTS[1]);
    plots::line_chart(
        &gap_path,
        &format!("{gap_title} — {label}"),
        epoch,
        acc,
        &both,
    )?;
    Ok(vec![
        (test_alt.unwrap_or(test_title).to_string(), test_path),
        (gap_alt.unwrap_or(gap_title).to_string(), gap_path),
    ])
}

/// One line per file of another suite (name or version) than the first: its columns sit
/// beside the first's but are not the same experiment (`compare` refuses such files).
fn other_suite_warnings(files: &[ResultFile], labels: &[String], lang: Lang) -> Vec<String> {
    let first = &files[0].suite;
    files
        .iter()
        .zip(labels)
        .skip(1)
        .filter(|(f, _)| f.suite.name != first.name || f.suite.version != first.version)
        .map(|(f, label)| {
            let (name, version) = (&f.suite.name, f.suite.version);
            match lang {
                Lang::En => format!(
                    "**Warning:** {label} ran suite `{name}` v{version}, not `{}` v{}: its \
                     numbers are not the same experiment.",
                    first.name, first.version
                ),
                Lang::Zh => format!(
                    "**警告：** {label} 运行的是套件 `{name}` v{version}，而不是 `{}` v{}，\
                     数字不属于同一实验。",
                    first.name, first.version
                ),
            }
        })
        .collect()
}

/// One line per file of the first's suite that still ran another experiment: another suite
/// file or input, other command-line overrides (`--epochs`), other seeds or another test set.
/// Its numbers share the tables with the first's, so the warning stands above them, not only
/// in the comparison at the end.
fn other_experiment_warnings(files: &[ResultFile], labels: &[String], lang: Lang) -> Vec<String> {
    let zh = lang == Lang::Zh;
    let first = &files[0];
    let (first_label, first_suite) = (&labels[0], &first.suite);
    let overrides = |f: &ResultFile| {
        if f.suite.overrides.is_empty() {
            i18n::text(lang).none.to_string()
        } else {
            format!("`{}`", i18n::overrides_text(lang, &f.suite.overrides))
        }
    };
    let seeds = |f: &ResultFile| {
        let s: Vec<String> = f.suite.seeds.iter().map(u64::to_string).collect();
        format!("[{}]", s.join(", "))
    };
    let mut out = Vec::new();
    for (f, label) in files.iter().zip(labels).skip(1) {
        let s = &f.suite;
        if s.name != first_suite.name || s.version != first_suite.version {
            continue; // other_suite_warnings
        }
        let differ = first.experiment_diff(f);
        let mut what = Vec::new();
        if differ.suite_file {
            what.push(if zh {
                "套件文件不同（sha256，名称和版本相同）".to_string()
            } else {
                "another suite file (sha256), though name and version agree".to_string()
            });
        }
        for input in &differ.inputs {
            what.push(if zh {
                format!("{input} 不同（sha256）")
            } else {
                format!("another {input} (sha256)")
            });
        }
        if differ.overrides {
            let (theirs, ours) = (overrides(f), overrides(first));
            what.push(if zh {
                format!("命令行覆盖 {theirs}（{first_label}：{ours}）")
            } else {
                format!("command-line overrides {theirs} ({first_label}: {ours})")
            });
        }
        if differ.seeds {
            let (theirs, ours) = (seeds(f), seeds(first));
            what.push(if zh {
                format!("种子 {theirs}（{first_label}：{ours}）")
            } else {
                format!("seeds {theirs} ({first_label}: {ours})")
            });
        }
        if differ.test_set {
            let (d, fd) = (&f.dataset, &first.dataset);
            what.push(if zh {
                format!(
                    "测试集为 {} 的 {} 张图像（{first_label}：{} 的 {} 张）",
                    d.name, d.n_test, fd.name, fd.n_test
                )
            } else {
                format!(
                    "a test set of {} images of {} ({first_label}: {} of {})",
                    d.n_test, d.name, fd.n_test, fd.name
                )
            });
        }
        if what.is_empty() {
            continue;
        }
        out.push(if zh {
            format!(
                "**警告：** {label} 与 {first_label} 运行的不是同一实验：{}。两者的数字并列在下面的表中，但不能直接比较。",
                what.join("；")
            )
        } else {
            format!(
                "**Warning:** {label} did not run the same experiment as {first_label}: {}. \
                 Their numbers sit side by side in the tables below but are not directly \
                 comparable.",
                what.join("; ")
            )
        });
    }
    out
}

/// One line per file whose suite did not finish, with the command that finishes it.
fn unfinished_warnings(files: &[ResultFile], labels: &[String], lang: Lang) -> Vec<String> {
    files
        .iter()
        .zip(labels)
        .filter(|(f, _)| f.status != RunStatus::Complete)
        .map(|(f, label)| {
            let runs = f.finished_runs();
            let status = status_word(lang, &f.status);
            let resume = f.resume_command_as("RESULT");
            match lang {
                Lang::En => format!(
                    "**Warning:** {label}'s result is unfinished (status {status}, {} \
                     finished): its numbers cover only the runs that finished. Finish it with \
                     `{resume}` (RESULT: its result file).",
                    plural(runs, "run")
                ),
                Lang::Zh => format!(
                    "**警告：** {label} 的结果未完成（状态：{status}，已完成 {runs} 次运行），\
                     数字只包含已完成的运行。用 `{resume}` 续跑完成（RESULT：该结果文件）。"
                ),
            }
        })
        .collect()
}

fn notes(files: &[ResultFile], labels: &[String], lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    for (f, label) in files.iter().zip(labels) {
        let s = &f.suite;
        let split = f
            .dataset
            .split
            .as_ref()
            .map(|sp| match lang {
                Lang::En => format!(
                    ", split seed {} (test indices sha256 {})",
                    sp.seed, sp.test_indices_sha256
                ),
                Lang::Zh => format!(
                    "，划分种子 {}（测试集索引 sha256 {}）",
                    sp.seed, sp.test_indices_sha256
                ),
            })
            .unwrap_or_default();
        let mut note = match lang {
            Lang::En => format!(
                "{label}: suite `{}` v{} (sha256 {}), seeds {:?}, dataset {} ({} train / {} test{split}), device {}, {:.1} s, harness {} ({}).",
                s.name, s.version, &s.sha256[..12.min(s.sha256.len())], s.seeds, f.dataset.name,
                f.dataset.n_train, f.dataset.n_test,
                f.environment.compute_device.as_deref().unwrap_or("cpu"), f.wall_seconds,
                f.environment.harness_version, f.environment.git_commit.display()
            ),
            Lang::Zh => format!(
                "{label}：套件 `{}` v{}（sha256 {}），种子 {:?}，数据集 {}（训练 {} / 测试 {}{split}），设备 {}，用时 {:.1} 秒，harness {}（{}）。",
                s.name, s.version, &s.sha256[..12.min(s.sha256.len())], s.seeds, f.dataset.name,
                f.dataset.n_train, f.dataset.n_test,
                f.environment.compute_device.as_deref().unwrap_or("cpu"), f.wall_seconds,
                f.environment.harness_version, f.environment.git_commit.display()
            ),
        };
        if !s.overrides.is_empty() {
            let said = i18n::overrides_text(lang, &s.overrides);
            note.push_str(&match lang {
                Lang::En => format!(" Overridden on the command line: {said}."),
                Lang::Zh => format!("命令行覆盖：{said}。"),
            });
        }
        if !f.resumed_at.is_empty() {
            note.push_str(&match lang {
                Lang::En => format!(
                    " Resumed {} after an interruption (`--resume`; runs continue from \
                     their epoch checkpoints, so the numbers equal an uninterrupted run's).",
                    match f.resumed_at.len() {
                        1 => "once".to_string(),
                        n => format!("{n} times"),
                    }
                ),
                Lang::Zh => format!(
                    "中断后续跑 {} 次（`--resume`，各运行从其轮次检查点继续，结果与未中断的运行相同）。",
                    f.resumed_at.len()
                ),
            });
        }
        if f.status != RunStatus::Complete {
            let status = status_word(lang, &f.status);
            note.push_str(&match lang {
                Lang::En => format!(
                    " Status: {status} — the suite did not finish; only finished runs are shown."
                ),
                Lang::Zh => format!("状态：{status}——套件未完成，仅显示已完成的运行。"),
            });
        }
        out.push(note);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One run has no spread: the cell says n=1 without "± 0.0000", as compare and check do,
    /// and compare's JSON gives a null std.
    #[test]
    fn another_suite_is_warned_about_at_the_top() {
        let a = fixture::two_arms("a", &[0.9, 0.91]);
        let mut b = fixture::two_arms("b", &[0.9, 0.91]);
        b.suite.version += 1;
        let dir = tempfile::tempdir().unwrap();
        for (lang, warning) in [
            (Lang::En, "> **Warning:** b ran suite `quick` v2, not `quick` v1: its numbers are not the same experiment."),
            (Lang::Zh, "> **警告：** b 运行的是套件 `quick` v2，而不是 `quick` v1，数字不属于同一实验。"),
        ] {
            let md = render(&[a.clone(), b.clone()], lang, dir.path(), "r")
                .unwrap()
                .markdown;
            let top = md.split("\n## ").next().unwrap();
            assert!(top.contains(warning), "{md}");
            let said = if lang == Lang::En { "not the same experiment" } else { "不属于同一实验" };
            assert_eq!(md.matches(said).count(), 1, "said once: {md}");
        }
    }

    #[test]
    fn one_run_shows_no_standard_deviation() {
        let one = fixture::two_arms("a", &[0.9]);
        assert_eq!(accuracy_cell(&one.arms[0], Lang::En), "0.9000 (n=1)");
        let m = MachineArm::of(&one.arms[0]);
        assert_eq!(
            serde_json::to_value(&m).unwrap()["std"],
            serde_json::Value::Null
        );
        let two = fixture::two_arms("a", &[0.9, 0.92]);
        assert!(accuracy_cell(&two.arms[0], Lang::En).starts_with("0.9100 ± 0.0141 (n=2)"));
    }

    /// Labels whose old ASCII slugs collided ("a b"/"a-b", and two CJK names of one length) get
    /// plot files of their own: none overwrites another, and each shows its own machine.
    #[test]
    fn machines_with_similar_labels_get_their_own_plot_files() {
        let labels = ["a b", "a-b", "东京", "北京", "A B"];
        let files: Vec<ResultFile> = labels
            .iter()
            .map(|l| fixture::two_arms(l, &[0.9, 0.91]))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let r = render(&files, Lang::En, dir.path(), "r").unwrap();
        // The report's one accuracy plot first, then each machine's own.
        assert!(r.plots[0].ends_with("r-accuracy.svg"), "{:?}", r.plots);
        let machine_plots = &r.plots[1..];
        let mut names: Vec<String> = machine_plots
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2 * labels.len());
        assert!(
            names.contains(&"r-东京-test-acc.svg".to_string()),
            "{names:?}"
        );
        assert!(
            names.contains(&"r-a-b-2-test-acc.svg".to_string()),
            "{names:?}"
        );
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 2 * labels.len(), "{names:?}");
        for (plot, label) in machine_plots.iter().zip(labels.iter().flat_map(|l| [l, l])) {
            let svg = std::fs::read_to_string(plot).unwrap();
            let title_end = format!("— {label}");
            assert!(
                svg.lines().any(|l| l.trim_end().ends_with(&title_end)),
                "{} lacks {label}",
                plot.display()
            );
            let name = plot.file_name().unwrap().to_string_lossy();
            assert!(
                r.markdown.contains(&format!("— {label}]({name})")),
                "{name}"
            );
        }
    }

    /// Machines that ran different hyper-parameters show each one's values, labelled; values
    /// they share are shown once.
    #[test]
    fn differing_hyperparameters_are_shown_per_machine() {
        let a = fixture::two_arms("a", &[0.9, 0.91]);
        let mut b = fixture::two_arms("b", &[0.9, 0.91]);
        b.arms[1].hyperparameters =
            vec![("lr".into(), "0.2".into()), ("epochs".into(), "4".into())];
        let dir = tempfile::tempdir().unwrap();
        let md = render(&[a, b], Lang::En, dir.path(), "r").unwrap().markdown;
        let row = |start: &str| {
            md.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no {start} row in {md}"))
                .to_string()
        };
        let manual = row("| Manual tuning");
        assert!(
            manual.contains("| lr=0.1 (a), 0.2 (b)<br>epochs=— (a), 4 (b) "),
            "{manual}"
        );
        let original = row("| Original code");
        assert!(
            original.contains("| lr=0.1 ") && !original.contains("(a)"),
            "{original}"
        );
    }

    /// A stored summary that contradicts the runs (hand-edited) does not reach the report:
    /// its table shows what check and compare compute from the runs.
    #[test]
    fn the_accuracy_table_recomputes_from_the_runs_as_compare_does() {
        let a = fixture::two_arms("a", &[0.9, 0.91]);
        let mut b = fixture::two_arms("b", &[0.8, 0.82]);
        for arm in &mut b.arms {
            let s = arm.summary.as_mut().unwrap();
            (s.mean, s.std, s.mean_train_test_gap) = (0.99, 0.0, Some(0.5));
        }
        let dir = tempfile::tempdir().unwrap();
        let md = render(&[a, b], Lang::En, dir.path(), "r").unwrap().markdown;
        let results = md.split("## Learning curves").next().unwrap();
        assert!(
            results.contains("| 0.8100 ± 0.0141 (n=2) | +0.0100 "),
            "{results}"
        );
        assert!(!md.contains("0.9900"), "{md}");
        assert!(!md.contains("+0.5000"), "{md}");
        let compared = md.split("## Comparison").nth(1).unwrap();
        assert!(compared.contains("0.8100 ± 0.0141 (n=2)"), "{compared}");
    }

    /// The paths the output check looks at are the plots `render` writes, HPO plots included
    /// (the parallel coordinates only where a trial finished).
    #[test]
    fn plot_paths_are_the_plots_render_writes() {
        use crate::hpo::TrialStatus;
        let mut a = fixture::two_arms("a", &[0.9, 0.91]);
        a.arms[1].hpo = Some(fixture::search(
            vec![fixture::trial(0, TrialStatus::Succeeded, &[0.5], vec![])],
            Some(0),
        ));
        let mut b = fixture::two_arms("b", &[0.9, 0.91]);
        b.arms[0].hpo = Some(fixture::search(
            vec![fixture::trial(0, TrialStatus::Failed, &[], vec![])],
            None,
        ));
        let files = [a, b];
        let dir = tempfile::tempdir().unwrap();
        let written = render(&files, Lang::En, dir.path(), "r").unwrap().plots;
        assert_eq!(plot_paths(&files, dir.path(), "r"), written);
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.contains(&"r-a-hpo-parallel.svg".to_string()),
            "{names:?}"
        );
        assert!(
            !names.contains(&"r-b-hpo-parallel.svg".to_string()),
            "{names:?}"
        );
        assert_eq!(names[0], "r-accuracy.svg");
        assert_eq!(names.len(), 1 + 4 + 5 + 4, "{names:?}");
    }

    /// Every run diverged in its first epoch: the cell says how many of how many, the runs
    /// table has no speed for zero epochs, and the curves' heading says why it has no plot
    /// (the plots are not written, and the output check does not expect them).
    #[test]
    fn runs_that_all_diverged_are_counted_and_not_plotted() {
        let mut a = fixture::two_arms("a", &[0.9, 0.91]);
        for run in &mut a.arms[0].runs {
            (run.final_test_acc, run.best_test_acc, run.best_epoch) = (None, None, None);
            run.epochs.clear();
            run.diverged_at_epoch = Some(1);
        }
        a.arms.truncate(1);
        a.arms[0].summarize();
        let dir = tempfile::tempdir().unwrap();
        let r = render(&[a.clone()], Lang::En, dir.path(), "r").unwrap();
        let md = &r.markdown;
        assert!(md.contains("| diverged (2 of 2 runs) |"), "{md}");
        assert!(
            md.contains("| 0      | diverged @ 1 | —       | —           |"),
            "{md}"
        );
        assert!(
            md.contains(
                "## Learning curves\n\na: no learning curve to draw: every run (2) diverged in its first epoch.\n\n## "
            ),
            "{md}"
        );
        assert!(r.plots.is_empty() && !md.contains(".svg"), "{md}");
        assert_eq!(plot_paths(&[a.clone()], dir.path(), "r"), r.plots);
        let zh = render(&[a], Lang::Zh, dir.path(), "r").unwrap().markdown;
        assert!(zh.contains("| 发散（2 次运行中 2 次） |"), "{zh}");
        assert!(
            zh.contains("a：没有可画的学习曲线：全部 2 次运行都在第一轮发散。"),
            "{zh}"
        );
    }

    /// Files of one suite that ran other overrides or seeds are warned about above the
    /// tables they share, naming the machines and what differs (not only in the comparison
    /// at the end).
    #[test]
    fn another_experiment_of_the_same_suite_is_warned_about_at_the_top() {
        let a = fixture::two_arms("a", &[0.9, 0.91]);
        let mut d = fixture::two_arms("d", &[0.9, 0.91]);
        d.suite.overrides = vec!["epochs=1 (all arms)".into()];
        let mut e = fixture::two_arms("e", &[0.9, 0.91]);
        e.suite.seeds = vec![3];
        let same = fixture::two_arms("same", &[0.8, 0.81]);
        let dir = tempfile::tempdir().unwrap();
        let files = [a, d, e, same];
        let md = render(&files, Lang::En, dir.path(), "r").unwrap().markdown;
        let top = md.split("\n## ").next().unwrap();
        assert!(
            top.contains(
                "> **Warning:** d did not run the same experiment as a: command-line overrides \
                 `epochs=1 (all arms)` (a: none). Their numbers sit side by side"
            ),
            "{top}"
        );
        assert!(
            top.contains(
                "> **Warning:** e did not run the same experiment as a: seeds [3] (a: [1, 2])."
            ),
            "{top}"
        );
        assert!(!top.contains("same did not"), "{top}");
        let zh = render(&files, Lang::Zh, dir.path(), "r").unwrap().markdown;
        let top = zh.split("\n## ").next().unwrap();
        assert!(
            top.contains(
                "> **警告：** d 与 a 运行的不是同一实验：命令行覆盖 `epochs=1（所有实验组）`（a：无）。"
            ),
            "{top}"
        );
    }

    /// The Chinese report's prose is Chinese: the hyper-parameter column's lines, the HPO
    /// section's direction and assessor options, the recorded overrides; identifiers (tpe,
    /// asha, val_acc, parameter names) stay as they are.
    #[test]
    fn a_chinese_report_has_no_english_prose() {
        let mut a = fixture::two_arms("a", &[0.9, 0.91]);
        a.arms.push(fixture::tuned_arm());
        a.suite.overrides = vec!["epochs=1 (all arms)".into()];
        let dir = tempfile::tempdir().unwrap();
        let zh = render(&[a], Lang::Zh, dir.path(), "r").unwrap().markdown;
        for english in [
            "chosen by",
            "trials of up to",
            " epoch",
            "(all arms)",
            "maximize",
            "` (",
            ": 最后",
        ] {
            assert!(!zh.contains(english), "{english:?} in {zh}");
        }
        assert!(
            zh.contains(
                "早停 `asha`（type promotion，reduction_factor 2），指标 `val_acc`（最大化）"
            ),
            "{zh}"
        );
        assert!(zh.contains("命令行覆盖：epochs=1（所有实验组）。"), "{zh}");
        assert!(zh.contains("dropout=0<br>"), "{zh}");
    }

    /// A failed arm's error is escaped once, by the table, like every other cell.
    #[test]
    fn a_failed_arms_error_is_escaped_once() {
        let mut a = fixture::two_arms("a", &[0.9, 0.91]);
        a.arms[1].error = Some("bad | thing\nsecond line".into());
        let dir = tempfile::tempdir().unwrap();
        let md = render(&[a], Lang::En, dir.path(), "r").unwrap().markdown;
        let row = md
            .lines()
            .find(|l| l.starts_with("| Manual tuning"))
            .unwrap_or_else(|| panic!("{md}"));
        assert!(
            row.contains("| failed: bad \\| thing second line |"),
            "{row}"
        );
    }

    #[test]
    fn plot_slugs_are_unique_and_short() {
        let labels: Vec<String> = ["x", "x", "x-2", "X", &"long".repeat(30)]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            plot_slugs(&labels),
            vec!["x", "x-2", "x-2-2", "x-3", &"long".repeat(10)]
        );
    }
}
