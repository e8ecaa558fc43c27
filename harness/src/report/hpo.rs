//! The tuned arm's section: the search, the top trials as in NNI's WebUI, the fidelity check,
//! and SVG plots (metric per trial, best so far by trial-epochs spent, intermediate curves,
//! durations, parallel coordinates), drawn by `trial_plots`.
use super::i18n::{plural, Lang};
use super::table::markdown;
use super::trial_plots::{self, TrialCurve, TrialEnd, TrialPoint, TrialWords};
use crate::hpo::space::{flatten_params, params_summary};
use crate::hpo::tuner::Direction;
use crate::hpo::{best_trial_of, Trial, TrialStatus};
use crate::results::HpoRecord;
use crate::suite::tuned::FidelityWarning;
use crate::train::fmt_num;
use std::path::{Path, PathBuf};

/// Rows of the trial table (the NNI WebUI's overview shows the top 10).
const TOP_TRIALS: usize = 10;

pub fn section(
    record: &HpoRecord,
    label: &str,
    slug: &str,
    lang: Lang,
    out_dir: &Path,
    stem: &str,
) -> anyhow::Result<(String, Vec<PathBuf>)> {
    let zh = lang == Lang::Zh;
    let mut md = String::new();
    let count = |s: TrialStatus| record.trials.iter().filter(|t| t.status == s).count();
    let cost = &record.search_cost;
    let budget = |zh: bool| match record.max_trial_epochs {
        Some(b) if zh => format!("（预算 {b}）"),
        Some(b) => format!(" (budget {b})"),
        None => String::new(),
    };
    md.push_str(&if zh {
        format!(
            "调参器 `{}`（种子 {}），早停 {}，指标 `{}`（{}），每个 trial {} 轮。共 {} 个 trial：成功 {}，早停 {}，失败 {}。\
             搜索开销：{} 个 trial，{} 个 trial-轮{}，{:.1} 秒；全预算重训 {:.1} 秒。\n\n",
            record.tuner, record.tuner_seed, assessor_label(record, true), record.metric,
            match record.optimize_mode.as_str() {
                "minimize" => "最小化",
                _ => "最大化",
            },
            record.trial_epochs, record.trials.len(), count(TrialStatus::Succeeded),
            count(TrialStatus::EarlyStopped), count(TrialStatus::Failed), cost.trials,
            cost.trial_epochs, budget(true), cost.seconds, record.retrain_seconds
        )
    } else {
        format!(
            "Tuner `{}` (seed {}), assessor {}, metric `{}` ({}), {} per trial. {}: \
             {} succeeded, {} early-stopped, {} failed. Search cost: {}, {}{}, \
             {:.1} s; full-budget retraining {:.1} s.\n\n",
            record.tuner, record.tuner_seed, assessor_label(record, false), record.metric, record.optimize_mode,
            epochs(record.trial_epochs), plural(record.trials.len(), "trial"), count(TrialStatus::Succeeded),
            count(TrialStatus::EarlyStopped), count(TrialStatus::Failed), plural(cost.trials, "trial"),
            plural(cost.trial_epochs, "trial-epoch"), budget(false), cost.seconds, record.retrain_seconds
        )
    });
    md.push_str(&search_notes(record, zh));
    // The chosen configuration (with retrain_top_k it may not be the search's best). A run
    // interrupted during the search, or during the top-k retraining, has chosen none yet: the
    // search's best so far is shown as such.
    let undecided = record.chosen_trial.is_none();
    let shown = record.chosen_trial.or(record.best_trial);
    if let Some(best) = shown.and_then(|id| record.trials.iter().find(|t| t.id == id)) {
        let metric = best.final_metric.map_or("—".into(), |m| format!("{m:.4}"));
        // Epochs behind the number: fewer than the trial budget when no trial completed and the
        // search chose among the early-stopped ones.
        let epochs = match best.status {
            TrialStatus::EarlyStopped => best.intermediate.len(),
            _ => record.trial_epochs,
        };
        md.push_str(&match (zh, undecided) {
            (true, false) => format!(
                "选中 trial {}：搜索时 {} = {metric}（{epochs} 轮的搜索预算下的数字，**不是**模型的准确率；模型准确率是上表中全预算重训的结果）。\n\n",
                best.id, record.metric
            ),
            (true, true) => format!(
                "目前最好的是 trial {}：搜索时 {} = {metric}（{epochs} 轮）；尚未选中配置，也没有全预算重训。\n\n",
                best.id, record.metric
            ),
            (false, false) => format!(
                "Chosen: trial {} with search-time {} = {metric} (a {epochs}-epoch search-budget number, \
                 **not** the model's accuracy: the accuracy table shows the full-budget retraining).\n\n",
                best.id, record.metric
            ),
            (false, true) => format!(
                "Best so far: trial {} with search-time {} = {metric} ({}); no configuration is \
                 chosen or retrained yet.\n\n",
                best.id,
                record.metric,
                self::epochs(epochs)
            ),
        });
    }

    md.push_str(if zh {
        "参数保留 4 位有效数字（结果文件中为精确值）。\n\n"
    } else {
        "Parameters to four significant digits (the result file holds them exactly).\n\n"
    });
    md.push_str(&trial_table(
        &record.trials,
        record.optimize_mode == "minimize",
        zh,
    ));
    md.push_str("\n\n");

    if let Some(f) = &record.fidelity {
        // The first builds retrained onto the test split and recorded that accuracy instead.
        let legacy = f.entries.iter().any(|e| e.full_budget_test_acc.is_some());
        let full_metric = if legacy { "test_acc" } else { &record.metric };
        let header: Vec<String> = if zh {
            vec![
                "trial".into(),
                format!("搜索预算 {}", record.metric),
                format!("全预算 {full_metric}"),
            ]
        } else {
            vec![
                "trial".into(),
                format!("search-budget {}", record.metric),
                format!("full-budget {full_metric}"),
            ]
        };
        let rows: Vec<Vec<String>> = f
            .entries
            .iter()
            .map(|e| {
                vec![
                    e.trial_id.to_string(),
                    format!("{:.4}", e.search_metric),
                    e.full_budget_metric
                        .or(e.full_budget_test_acc)
                        .map_or(super::i18n::text(lang).diverged.into(), |a| {
                            format!("{a:.4}")
                        }),
                ]
            })
            .collect();
        // Fewer than asked for: only trials that completed are candidates.
        let n = f.entries.len();
        let short = f.retrain_top_k.filter(|k| n < *k);
        md.push_str(&if zh {
            format!(
                "保真度检查：搜索中最好的 {n} 个配置{}在同一搜索数据上以全预算（种子 {}）重训，取其中最好者：\n\n",
                short.map_or(String::new(), |k| format!(
                    "（retrain_top_k = {k}，但只有 {n} 个 trial 完成：早停和失败的 trial 不是候选）"
                )),
                f.seed
            )
        } else {
            format!(
                "Fidelity check: the search's top {}{} trained at the full budget on the \
                 same search data (seed {}); the best of them is the chosen configuration:\n\n",
                plural(n, "configuration"),
                short.map_or(String::new(), |k| format!(
                    " (retrain_top_k = {k}, but only {} completed: early-stopped and failed \
                     trials are not candidates)",
                    plural(n, "trial")
                )),
                f.seed
            )
        });
        md.push_str(&markdown(&header, &rows));
        md.push_str(&format!(
            "\n\nSpearman ρ = {}\n\n",
            f.spearman.map_or("n/a".into(), |r| format!("{r:.2}"))
        ));
        if let Some(w) = &f.warning {
            if zh {
                // The recorded warning is English; the Chinese one is said again from its
                // numbers, by the rule that chose it (a warning recorded by a rule since
                // changed is read as the correlation's).
                let ranked = f
                    .entries
                    .iter()
                    .filter(|e| e.full_budget_metric.is_some())
                    .count();
                let warning = FidelityWarning::of(f.spearman, ranked, f.search_was_full_budget)
                    .unwrap_or(match f.spearman {
                        Some(r) => FidelityWarning::LowCorrelation(r),
                        None => FidelityWarning::Undefined,
                    });
                md.push_str(&format!(
                    "> **警告：** {}\n\n",
                    warning.text(Lang::Zh, record.trial_epochs)
                ));
            } else {
                md.push_str(&format!("> **Warning:** {w}\n\n"));
            }
        }
    }

    let plots = trial_plots(record, slug, zh, out_dir, stem)?;
    for (title, path) in &plots {
        md.push_str(&format!(
            "![{title} — {label}]({})\n\n",
            super::file_name(path)
        ));
    }
    Ok((md, plots.into_iter().map(|p| p.1).collect()))
}

/// The assessor and its options as the suite gave them, e.g. `asha` (type promotion,
/// reduction_factor 2); in Chinese with full-width parentheses.
fn assessor_label(record: &HpoRecord, zh: bool) -> String {
    let name = format!("`{}`", record.assessor);
    match record.assessor_options.as_object() {
        Some(options) if !options.is_empty() => {
            let pairs: Vec<String> = options
                .iter()
                .map(|(k, v)| match v.as_str() {
                    Some(text) => format!("{k} {text}"),
                    None => format!("{k} {v}"),
                })
                .collect();
            if zh {
                format!("{name}（{}）", pairs.join("，"))
            } else {
                format!("{name} ({})", pairs.join(", "))
            }
        }
        _ => name,
    }
}

/// "1 epoch", "6 epochs".
fn epochs(n: usize) -> String {
    plural(n, "epoch")
}

/// Why the search ended (or that it was interrupted), then what the reader must know to trust
/// it.
fn search_notes(record: &HpoRecord, zh: bool) -> String {
    use crate::hpo::StopReason;
    let n = record.trials.len();
    let ended = |why: String| {
        if zh {
            format!("搜索结束原因：{why}。")
        } else {
            format!("The search ended because {why}.")
        }
    };
    let first = match (record.stop_reason, zh) {
        (StopReason::MaxTrials, false) => {
            ended(format!("it had run max_trials = {}", record.max_trials))
        }
        (StopReason::MaxTrials, true) => ended(format!("达到 max_trials = {}", record.max_trials)),
        (StopReason::MaxTrialEpochs, false) => ended("its trial-epoch budget was spent".into()),
        (StopReason::MaxTrialEpochs, true) => ended("trial-轮预算用完".into()),
        (StopReason::MaxDuration, false) => ended("max_duration_s was reached".into()),
        (StopReason::MaxDuration, true) => ended("达到 max_duration_s".into()),
        (StopReason::TunerExhausted, false) => {
            ended("the tuner had no new configuration left".into())
        }
        (StopReason::TunerExhausted, true) => ended("调参器已无新的配置".into()),
        (StopReason::Interrupted, false) => format!(
            "The search was interrupted after {}{}; resuming the run \
             (`--resume`, as the warning at the top says) continues it from there.",
            plural(n, "finished trial"),
            match waiting(record) {
                0 => String::new(),
                w => format!(" ({w} of them paused, waiting for a promotion)"),
            }
        ),
        (StopReason::Interrupted, true) => format!(
            "搜索在完成 {n} 个 trial 后被中断{}；续跑（`--resume`，见顶部的警告）从中断处继续。",
            match waiting(record) {
                0 => String::new(),
                w => format!("（其中 {w} 个暂停，等待晋级）"),
            }
        ),
    };
    format!("{first}\n\n{}", trust_notes(record, zh))
}

/// Trials an interrupted search had paused (a pausing assessor would have continued them).
fn waiting(record: &HpoRecord) -> usize {
    record
        .trials
        .iter()
        .filter(|t| t.status == TrialStatus::Waiting)
        .count()
}

/// What the reader must know to trust the search: selection on the test set, concurrency.
fn trust_notes(record: &HpoRecord, zh: bool) -> String {
    let mut md = String::new();
    if record.metric == "test_acc" {
        md.push_str(if zh {
            "**警告**：trial 以测试集准确率评分（`metric = \"test_acc\"`，实验原来的做法），所选配置是在报告它的同一批图像上选出的，报告的准确率偏乐观。\n\n"
        } else {
            "**Warning**: trials were scored on the test set (`metric = \"test_acc\"`, the lab's \
             practice), so the configuration was chosen on the images its accuracy is reported on: \
             that accuracy is optimistically biased. `metric = \"val_acc\"` keeps the test set out of \
             selection.\n\n"
        });
    }
    // Allowed when --epochs shortens a suite's trials, but the assessor's name above would
    // suggest trials were stopped early.
    if crate::hpo::check_can_stop(
        &record.assessor,
        record.trial_epochs,
        &record.assessor_options,
    )
    .is_err()
    {
        md.push_str(&if zh {
            format!(
                "早停 `{}` 在 {} 轮的 trial 中没有可用的检查点（其第一个检查点不早于 trial_epochs），没有 trial 被提前停止。\n\n",
                record.assessor, record.trial_epochs
            )
        } else {
            format!(
                "The assessor `{}` could stop no trial: its first decision does not come before \
                 the trials' {} (as when `--epochs` shortens a suite), so every trial ran to \
                 its end.\n\n",
                record.assessor,
                plural(record.trial_epochs, "epoch")
            )
        });
    }
    if record.concurrency > 1 {
        md.push_str(&if zh {
            format!(
                "trial 以 {} 个并发、分批运行：同一批的 trial 互不可见（提议与早停决定都基于该批开始时的状态），\
                 且每步各自设定随机种子，所以重跑会逐位重复同样的搜索；但它与 concurrency = 1 的搜索是不同的搜索，数字不同。\n\n",
                record.concurrency
            )
        } else {
            format!(
                "Trials ran {} at a time, in batches that do not see each other (proposals and \
                 early-stopping decisions use the state the batch started from) and that seed \
                 their random numbers at every step: a rerun repeats exactly the same search, \
                 but it is another search than one with concurrency = 1, with other numbers.\n\n",
                record.concurrency
            )
        });
    }
    md
}

/// A trial's key in a ranking by metric, ascending = best first in the search's direction;
/// a trial without a metric (a failed one) last.
fn rank_key(t: &Trial, minimize: bool) -> f64 {
    match t.final_metric {
        Some(m) if minimize => m,
        Some(m) => -m,
        None => f64::INFINITY,
    }
}

/// The top trials by metric (failed ones last), like NNI's trial table; when there are more,
/// every trial by id after it, folded (`<details>`), as NNI's trial list.
fn trial_table(trials: &[Trial], minimize: bool, zh: bool) -> String {
    let mut ranked: Vec<&Trial> = trials.iter().collect();
    ranked.sort_by(|a, b| {
        rank_key(a, minimize)
            .total_cmp(&rank_key(b, minimize))
            .then(a.id.cmp(&b.id))
    });
    let columns: Vec<String> = if zh {
        ["trial id", "状态", "时长（秒）", "指标", "参数"]
    } else {
        ["trial id", "status", "duration (s)", "metric", "parameters"]
    }
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut header = vec![if zh { "序号" } else { "no." }.to_string()];
    header.extend(columns.iter().cloned());
    let rows: Vec<Vec<String>> = ranked
        .iter()
        .take(TOP_TRIALS)
        .enumerate()
        .map(|(i, t)| {
            let mut row = vec![(i + 1).to_string()];
            row.extend(trial_row(t, zh));
            row
        })
        .collect();
    let mut md = markdown(&header, &rows);
    if trials.len() > TOP_TRIALS {
        let mut by_id: Vec<&Trial> = trials.iter().collect();
        by_id.sort_by_key(|t| t.id);
        let rows: Vec<Vec<String>> = by_id.iter().map(|t| trial_row(t, zh)).collect();
        let summary = if zh {
            format!("全部 {} 个 trial（按 trial id）", trials.len())
        } else {
            format!("All {} trials, by trial id", trials.len())
        };
        md.push_str(&format!(
            "\n\n<details><summary>{summary}</summary>\n\n{}\n\n</details>",
            markdown(&columns, &rows)
        ));
    }
    md
}

/// One trial's cells: id, status (with where it stopped, failed or waited), duration, metric,
/// parameters.
fn trial_row(t: &Trial, zh: bool) -> Vec<String> {
    let mut status = match (t.status, t.stopped_at_epoch, &t.error) {
        (TrialStatus::EarlyStopped, Some(e), _) => format!("EARLY_STOPPED @ {e}"),
        (TrialStatus::Failed, _, Some(err)) => format!("FAILED: {err}"),
        (s, _, _) => s.name().to_string(),
    };
    // A waiting trial (an interrupted search's paused one) waits at its last epoch.
    let mut pauses = t.paused_at.clone();
    if let (TrialStatus::Waiting, Some(e)) = (t.status, t.stopped_at_epoch) {
        pauses.push(e);
    }
    if !pauses.is_empty() {
        let epochs: Vec<String> = pauses.iter().map(|e| e.to_string()).collect();
        let paused = if zh { "暂停于" } else { "paused at" };
        status.push_str(&format!(" ({paused} {})", epochs.join(", ")));
    }
    vec![
        t.id.to_string(),
        status,
        format!("{:.1}", t.duration_s),
        t.final_metric.map_or("—".into(), |m| format!("{m:.4}")),
        params_summary(&t.params),
    ]
}

/// The plots [`trial_plots`] draws for `record`, by file-name kind (the parallel coordinates
/// only where a finished trial has parameters).
pub(crate) fn plot_kinds(record: &HpoRecord) -> Vec<&'static str> {
    let mut kinds = vec![
        "hpo-metric",
        "hpo-spend",
        "hpo-intermediate",
        "hpo-durations",
    ];
    if !parallel_data(&record.trials, true).0.is_empty() {
        kinds.push("hpo-parallel");
    }
    kinds
}

/// The plots and their alt texts. As the learning curves, a Chinese plot keeps English beside
/// its title (and on its axes); its alt text is Chinese only.
fn trial_plots(
    record: &HpoRecord,
    slug: &str,
    zh: bool,
    out_dir: &Path,
    stem: &str,
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    // (title, alt text) in the report's language.
    let titles = |en: (&str, &str), zh_words: (&str, &str)| {
        if zh {
            (format!("{} / {}", en.0, zh_words.0), zh_words.1.to_string())
        } else {
            (en.0.to_string(), en.1.to_string())
        }
    };
    let file = |kind: &str| super::plot_path(out_dir, stem, slug, kind);
    let direction = Direction::parse(&record.optimize_mode).unwrap_or(Direction::Maximize);
    let maximize = direction == Direction::Maximize;
    let words = trial_words(zh);
    let mut trials: Vec<&Trial> = record.trials.iter().collect();
    trials.sort_by_key(|t| t.id);
    let mut out = Vec::new();

    // Metric per trial with the best-so-far line (NNI's default-metric view).
    let points: Vec<TrialPoint> = trials
        .iter()
        .map(|t| TrialPoint {
            id: t.id,
            metric: t.final_metric,
            end: end_of(t),
        })
        .filter(|p| p.metric.is_some() || p.end == TrialEnd::Failed)
        .collect();
    let path = file("hpo-metric");
    let (title, alt) = titles(
        ("Metric per trial", "Metric per trial with best so far"),
        ("各 trial 的指标", "各 trial 的指标与目前最优值"),
    );
    let best_line = best_so_far(&record.trials, direction);
    trial_plots::trial_scatter(&path, &title, &record.metric, &points, &best_line, &words)?;
    out.push((alt, path));

    // The same best so far against what the search spent: trial-epochs, the cost that ASHA
    // saves and a budget limits.
    let path = file("hpo-spend");
    let (title, alt) = titles(
        (
            "Best so far by trial-epochs spent",
            "Best so far by trial-epochs spent",
        ),
        (
            "按已花费的 trial-轮 计的目前最优",
            "按已花费的 trial-轮 计的目前最优",
        ),
    );
    let spend = best_by_spend(&record.trials, direction);
    trial_plots::spend_curve(
        &path,
        &title,
        &record.metric,
        &spend,
        record.max_trial_epochs,
        &words,
    )?;
    out.push((alt, path));

    // Intermediate results per trial: the completed ones first, best first (they are named).
    let mut named_order = trials.clone();
    named_order.sort_by(|a, b| {
        let not_completed = |t: &Trial| t.status != TrialStatus::Succeeded;
        not_completed(a)
            .cmp(&not_completed(b))
            .then(rank_key(a, !maximize).total_cmp(&rank_key(b, !maximize)))
            .then(a.id.cmp(&b.id))
    });
    let curves: Vec<TrialCurve> = named_order
        .iter()
        .map(|t| TrialCurve {
            id: t.id,
            points: t
                .intermediate
                .iter()
                .enumerate()
                .map(|(i, m)| ((i + 1) as f64, *m))
                .collect(),
            end: end_of(t),
        })
        .collect();
    let path = file("hpo-intermediate");
    let (title, alt) = titles(
        (
            "Intermediate results per trial",
            "Intermediate results per trial",
        ),
        ("各 trial 的中间结果", "各 trial 的中间结果"),
    );
    trial_plots::trial_curves(&path, &title, &record.metric, &curves, &words)?;
    out.push((alt, path));

    // Durations.
    let bars: Vec<(usize, f64, TrialEnd)> = trials
        .iter()
        .map(|t| (t.id, t.duration_s, end_of(t)))
        .collect();
    let path = file("hpo-durations");
    let (title, alt) = titles(
        ("Trial duration", "Trial durations"),
        ("各 trial 的时长", "各 trial 的时长"),
    );
    trial_plots::duration_bars(&path, &title, "seconds", &bars, &words)?;
    out.push((alt, path));

    // Parallel coordinates of the parameters against the metric.
    let (axes, lines) = parallel_data(&record.trials, maximize);
    if !axes.is_empty() {
        let path = file("hpo-parallel");
        let (title, alt) = titles(
            (
                "Hyper-parameters vs metric (red = best trial)",
                "Hyper-parameters vs metric",
            ),
            ("超参数与指标（红色 = 最优 trial）", "超参数与指标"),
        );
        // The best by the metric in the search's direction; the first of equals.
        let best = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.line.goodness >= 1.0)
            .map(|(i, _)| i)
            .next();
        let best_id = best.map_or(String::new(), |i| lines[i].id.to_string());
        let legend = if zh {
            trial_plots::ParallelLegend {
                best: format!("best / 最优: trial {best_id}"),
                others: "others: grey (worst) → blue (better) / 其余：灰（最差）→ 蓝（较好）"
                    .into(),
                not_applicable: "n/a: no value for this parameter / 该 trial 无此参数".into(),
            }
        } else {
            trial_plots::ParallelLegend {
                best: format!("best: trial {best_id}"),
                others: "others: light grey (worst) → dark blue (better)".into(),
                not_applicable: "n/a: the trial has no value for this parameter".into(),
            }
        };
        let lines: Vec<trial_plots::ParallelLine> = lines.into_iter().map(|l| l.line).collect();
        trial_plots::parallel_coordinates(&path, &title, &axes, &lines, best, &legend)?;
        out.push((alt, path));
    }
    Ok(out)
}

/// How a trial ended, as the plots show it.
fn end_of(trial: &Trial) -> TrialEnd {
    match trial.status {
        TrialStatus::Succeeded => TrialEnd::Completed,
        TrialStatus::Failed => TrialEnd::Failed,
        TrialStatus::Waiting => TrialEnd::Paused,
        TrialStatus::EarlyStopped | TrialStatus::Running => TrialEnd::EarlyStopped,
    }
}

/// The trial plots' legend words. As the titles, a Chinese plot keeps the English beside.
fn trial_words(zh: bool) -> TrialWords {
    let w = |en: &str, zh_word: &str| {
        if zh {
            format!("{en} / {zh_word}")
        } else {
            en.to_string()
        }
    };
    TrialWords {
        completed: w("completed", "完成"),
        early_stopped: w("early-stopped", "早停"),
        paused: w("paused", "暂停"),
        failed: w("failed", "失败"),
        other_completed: w("other completed", "其余完成"),
        best_so_far: w("best so far", "目前最优"),
        budget: w("budget", "预算"),
    }
}

/// The best-so-far line: after each trial (by id), the metric of the trial the search would
/// choose among those up to it — a completed one, as the choice is made (an early-stopped
/// trial's number comes from a shorter run and sets the line only while none completed).
fn best_so_far(trials: &[Trial], direction: Direction) -> Vec<(f64, f64)> {
    let mut by_id: Vec<Trial> = trials.to_vec();
    by_id.sort_by_key(|t| t.id);
    by_id
        .iter()
        .map(|t| t.id as f64)
        .zip(running_choice(&by_id, direction))
        .filter_map(|(x, best)| Some((x, best?)))
        .collect()
}

/// After each trial of `ordered`, the metric of the trial the search would choose among it
/// and those before it ([`best_trial_of`]); None while it would choose none.
fn running_choice(ordered: &[Trial], direction: Direction) -> Vec<Option<f64>> {
    (1..=ordered.len())
        .map(|n| {
            let seen = &ordered[..n];
            let best = best_trial_of(seen, direction)?;
            seen.iter().find(|t| t.id == best)?.final_metric
        })
        .collect()
}

/// What the search spent and what it had found: after each trial ended (in the order they
/// ended; a paused and continued trial when it last ended, with all its epochs), the
/// trial-epochs spent so far and the metric of the trial the search would choose among the
/// trials ended by then.
fn best_by_spend(trials: &[Trial], direction: Direction) -> Vec<(f64, f64)> {
    let mut ended: Vec<Trial> = trials.to_vec();
    // RFC 3339 times of one format sort as text; a trial without one goes last.
    ended.sort_by(|a, b| (a.end.is_none(), &a.end, a.id).cmp(&(b.end.is_none(), &b.end, b.id)));
    let spent: Vec<f64> = ended
        .iter()
        .scan(0, |sum, t| {
            *sum += t.intermediate.len();
            Some(*sum as f64)
        })
        .collect();
    spent
        .into_iter()
        .zip(running_choice(&ended, direction))
        .filter_map(|(x, best)| Some((x, best?)))
        .collect()
}

/// A trial's line in the parallel-coordinates plot.
struct TrialLine {
    id: usize,
    line: trial_plots::ParallelLine,
}

/// Labels closer than this (in the axis's [0, 1]) to one already kept are left out.
const TICK_GAP: f64 = 0.06;

/// A numeric axis whose values repeat (a choice, a q-type, an integer) and take at most this
/// many distinct values labels each one; others label their ends and middle.
const LABELLED_VALUES: usize = 8;

/// A tick's number, to three significant digits (`fmt_num`'s notation).
fn tick_num(v: f64) -> String {
    fmt_num(format!("{v:.2e}").parse().unwrap_or(v))
}

/// Ticks sorted by position, thinned so that no two labels overlap: the ends are kept.
fn thin_ticks(mut ticks: Vec<(f64, String)>) -> Vec<(f64, String)> {
    ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
    if ticks.len() <= 2 {
        return ticks;
    }
    let last = ticks.pop().expect("three or more");
    let mut kept: Vec<(f64, String)> = vec![ticks.remove(0)];
    for t in ticks {
        let previous = kept.last().expect("the first is kept").0;
        if t.0 - previous >= TICK_GAP && last.0 - t.0 >= TICK_GAP {
            kept.push(t);
        }
    }
    kept.push(last);
    kept
}

/// A category's label: a string without its JSON quotes, anything else as JSON.
fn category_label(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// One numeric column scaled to [0, 1] (log scale when all positive and spanning more than
/// a decade) with the axis's ticks in the values' own units.
fn numeric_axis(values: &[Option<f64>]) -> (Vec<Option<f64>>, Vec<(f64, String)>) {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let (lo, hi) = present
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let log = lo > 0.0 && hi / lo > 10.0;
    let f = |v: f64| if log { v.ln() } else { v };
    let (flo, fhi) = (f(lo), f(hi));
    let scale = |v: f64| {
        if fhi > flo {
            (f(v) - flo) / (fhi - flo)
        } else {
            0.5
        }
    };
    let scaled = values.iter().map(|v| v.map(scale)).collect();
    let mut distinct: Vec<f64> = present.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let discrete = distinct.len() < present.len() && distinct.len() <= LABELLED_VALUES;
    let ticks: Vec<(f64, String)> = if discrete || distinct.len() <= 1 {
        distinct.iter().map(|&v| (scale(v), tick_num(v))).collect()
    } else {
        let middle = if log {
            (lo * hi).sqrt()
        } else {
            (lo + hi) / 2.0
        };
        [lo, middle, hi]
            .iter()
            .map(|&v| (scale(v), tick_num(v)))
            .collect()
    };
    (scaled, thin_ticks(ticks))
}

/// Each parameter scaled to [0, 1] over the trials (numbers linearly — log scale when all
/// positive and spanning more than a decade — categories by first appearance), plus the metric,
/// each axis labelled with what its positions stand for; a parameter a trial has no value for
/// is None. Goodness is the metric scaled so that the best (in the search's direction) is 1.
fn parallel_data(
    trials: &[Trial],
    maximize: bool,
) -> (Vec<trial_plots::ParallelAxis>, Vec<TrialLine>) {
    let done: Vec<&Trial> = trials.iter().filter(|t| t.final_metric.is_some()).collect();
    let mut names: Vec<String> = Vec::new();
    for t in &done {
        for (k, _) in flatten_params(&t.params) {
            if !names.contains(&k) {
                names.push(k);
            }
        }
    }
    let mut columns: Vec<Vec<Option<f64>>> = Vec::new();
    let mut axes: Vec<trial_plots::ParallelAxis> = Vec::new();
    for name in &names {
        let raw: Vec<Option<serde_json::Value>> = done
            .iter()
            .map(|t| {
                flatten_params(&t.params)
                    .into_iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v)
            })
            .collect();
        let numeric = raw.iter().flatten().all(serde_json::Value::is_number);
        let (col, ticks) = if numeric {
            let vals: Vec<Option<f64>> = raw
                .iter()
                .map(|v| v.as_ref().and_then(|v| v.as_f64()))
                .collect();
            numeric_axis(&vals)
        } else {
            // The options in order of first appearance.
            let mut cats: Vec<&serde_json::Value> = Vec::new();
            for v in raw.iter().flatten() {
                if !cats.contains(&v) {
                    cats.push(v);
                }
            }
            let n = cats.len().max(2) - 1;
            let position = |i: usize| i as f64 / n as f64;
            let col = raw
                .iter()
                .map(|v| {
                    v.as_ref()
                        .and_then(|v| cats.iter().position(|c| *c == v))
                        .map(position)
                })
                .collect();
            let ticks = cats
                .iter()
                .enumerate()
                .map(|(i, c)| (position(i), category_label(c)))
                .collect();
            (col, thin_ticks(ticks))
        };
        columns.push(col);
        axes.push(trial_plots::ParallelAxis {
            name: name.clone(),
            ticks,
        });
    }
    let metrics: Vec<f64> = done.iter().map(|t| t.final_metric.unwrap_or(0.0)).collect();
    let (mlo, mhi) = metrics
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let lines = (0..done.len())
        .map(|i| {
            let scaled = if mhi > mlo {
                (metrics[i] - mlo) / (mhi - mlo)
            } else {
                1.0
            };
            let mut values: Vec<Option<f64>> = columns.iter().map(|c| c[i]).collect();
            values.push(Some(scaled));
            let goodness = match (mhi > mlo, maximize) {
                (false, _) => 1.0,
                (true, true) => scaled,
                (true, false) => 1.0 - scaled,
            };
            TrialLine {
                id: done[i].id,
                line: trial_plots::ParallelLine { values, goodness },
            }
        })
        .collect();
    if !axes.is_empty() {
        // The metric's axis: linear from the lowest to the highest value, as the lines are.
        let ticks = if mhi > mlo {
            let mid = (mlo + mhi) / 2.0;
            vec![
                (0.0, format!("{mlo:.4}")),
                (0.5, format!("{mid:.4}")),
                (1.0, format!("{mhi:.4}")),
            ]
        } else {
            vec![(1.0, format!("{mhi:.4}"))]
        };
        axes.push(trial_plots::ParallelAxis {
            name: "metric".into(),
            ticks,
        });
    }
    (axes, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::fixture::{search as record, trial};

    /// A search whose every trial failed (no metric, some no epoch at all) still gets its
    /// plots: the failures as crosses, curves and bars, and no parallel plot (no trial has a
    /// metric to draw against).
    #[test]
    fn a_search_of_failed_trials_still_draws_its_plots() {
        let dir = tempfile::tempdir().unwrap();
        let mut trials = vec![
            trial(0, TrialStatus::Failed, &[], vec![]),
            trial(1, TrialStatus::Failed, &[0.2], vec![]),
        ];
        for t in &mut trials {
            t.final_metric = None;
            t.error = Some("diverged: loss is NaN at epoch 1".into());
        }
        let r = record(trials, None);
        let (md, plots) = section(&r, "quick", "quick", Lang::En, dir.path(), "r").unwrap();
        let names: Vec<String> = plots
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "r-quick-hpo-metric.svg",
                "r-quick-hpo-spend.svg",
                "r-quick-hpo-intermediate.svg",
                "r-quick-hpo-durations.svg"
            ],
            "{md}"
        );
        let metric = std::fs::read_to_string(&plots[0]).unwrap();
        assert!(metric.contains("failed (2)"), "{metric}");
        assert_eq!(
            plot_kinds(&r),
            [
                "hpo-metric",
                "hpo-spend",
                "hpo-intermediate",
                "hpo-durations"
            ]
        );
    }

    #[test]
    fn an_assessor_that_could_stop_no_trial_is_said_to_have_stopped_none() {
        let dir = tempfile::tempdir().unwrap();
        let trials = vec![trial(0, TrialStatus::Succeeded, &[0.5], vec![])];
        let mut short = record(trials, None);
        let render = |r: &HpoRecord, lang| {
            section(r, "quick", "quick", lang, dir.path(), "r")
                .unwrap()
                .0
        };
        assert!(!render(&short, Lang::En).contains("could stop no trial"));
        short.trial_epochs = 1; // below asha's first rung, epoch 1
        let md = render(&short, Lang::En);
        assert!(
            md.contains(
                "The assessor `asha` could stop no trial: its first decision does not come before \
                 the trials' 1 epoch (as when `--epochs` shortens a suite), so every trial ran to \
                 its end."
            ),
            "{md}"
        );
        assert!(render(&short, Lang::Zh).contains("没有 trial 被提前停止"));
    }

    #[test]
    fn a_fidelity_check_short_of_retrain_top_k_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let trials = vec![
            trial(0, TrialStatus::Succeeded, &[0.5, 0.6], vec![]),
            trial(1, TrialStatus::EarlyStopped, &[0.4], vec![]),
        ];
        let mut r = record(trials, Some(0));
        r.fidelity = Some(crate::results::FidelityCheck {
            seed: 0,
            retrain_top_k: Some(4),
            entries: vec![crate::results::FidelityEntry {
                trial_id: 0,
                search_metric: 0.6,
                full_budget_metric: Some(0.7),
                full_budget_test_acc: None,
            }],
            spearman: None,
            warning: None,
            search_was_full_budget: false,
        });
        let render = |r: &HpoRecord, lang| {
            section(r, "quick", "quick", lang, dir.path(), "r")
                .unwrap()
                .0
        };
        let md = render(&r, Lang::En);
        assert!(
            md.contains(
                "Fidelity check: the search's top 1 configuration (retrain_top_k = 4, but only 1 \
                 trial completed: early-stopped and failed trials are not candidates) trained at \
                 the full budget"
            ),
            "{md}"
        );
        assert!(
            render(&r, Lang::Zh).contains(
                "搜索中最好的 1 个配置（retrain_top_k = 4，但只有 1 个 trial 完成：早停和失败的 trial \
                 不是候选）在同一搜索数据上"
            ),
            "zh"
        );
        // As many as asked for, or a file that did not record k: no clause.
        for k in [Some(1), None] {
            r.fidelity.as_mut().unwrap().retrain_top_k = k;
            let md = render(&r, Lang::En);
            assert!(
                md.contains("the search's top 1 configuration trained at the full budget"),
                "{md}"
            );
        }
    }

    /// A file of the first tuned builds: its choice is shown as made, and its full-budget
    /// column holds the test accuracies it recorded, named as such (not "diverged").
    #[test]
    fn a_file_of_the_first_tuned_builds_shows_its_choice_and_retraining() {
        let dir = tempfile::tempdir().unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/result-of-9b327d2.json");
        let file = crate::results::read_result(&path).unwrap();
        let hpo = file.arms.iter().find_map(|a| a.hpo.as_ref()).unwrap();
        let md = section(hpo, "quick", "quick", Lang::En, dir.path(), "r")
            .unwrap()
            .0;
        assert!(
            md.contains("Chosen: trial 8 with search-time val_acc"),
            "{md}"
        );
        assert!(md.contains("| full-budget test_acc |"), "{md}");
        assert!(md.contains("| 0.8496 "), "{md}");
        assert!(!md.contains("diverged"), "{md}");
    }

    /// One fidelity entry with a full-budget metric.
    fn fidelity_entry(trial_id: usize, search: f64, full: f64) -> crate::results::FidelityEntry {
        crate::results::FidelityEntry {
            trial_id,
            search_metric: search,
            full_budget_metric: Some(full),
            full_budget_test_acc: None,
        }
    }

    /// The section, in English and in Chinese, of a search of three 2-epoch trials whose
    /// fidelity check is `fidelity`.
    fn sections_with_fidelity(fidelity: crate::results::FidelityCheck) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let trials = vec![
            trial(0, TrialStatus::Succeeded, &[0.5, 0.6], vec![]),
            trial(1, TrialStatus::Succeeded, &[0.4, 0.5], vec![]),
            trial(2, TrialStatus::Succeeded, &[0.3, 0.4], vec![]),
        ];
        let mut r = record(trials, Some(0));
        r.trial_epochs = 2;
        r.fidelity = Some(fidelity);
        let render = |lang| {
            section(&r, "quick", "quick", lang, dir.path(), "r")
                .unwrap()
                .0
        };
        (render(Lang::En), render(Lang::Zh))
    }

    /// Two retrained configurations: the recorded warning in English, said again in Chinese.
    #[test]
    fn a_correlation_of_two_configurations_is_warned_about_in_both_languages() {
        let (en, zh) = sections_with_fidelity(crate::results::FidelityCheck {
            seed: 0,
            retrain_top_k: Some(2),
            entries: vec![fidelity_entry(0, 0.6, 0.7), fidelity_entry(1, 0.5, 0.65)],
            spearman: Some(1.0),
            warning: Some("with 2 configurations the rank correlation can only be +1 or -1".into()),
            search_was_full_budget: false,
        });
        assert!(
            en.contains("Spearman ρ = 1.00\n\n> **Warning:** with 2 configurations"),
            "{en}"
        );
        assert!(
            zh.contains("> **警告：** 只有 2 个配置时秩相关只能是 +1 或 −1"),
            "{zh}"
        );
        assert!(!zh.contains("秩相关较低"), "{zh}");
    }

    /// Trials already at the full budget: the check repeated them, and both languages say so
    /// instead of a correlation that looks like good news.
    #[test]
    fn a_check_that_repeated_full_budget_trials_is_warned_about_in_both_languages() {
        let (en, zh) = sections_with_fidelity(crate::results::FidelityCheck {
            seed: 0,
            retrain_top_k: Some(3),
            entries: [(0, 0.6), (1, 0.5), (2, 0.4)]
                .map(|(id, m)| fidelity_entry(id, m, m))
                .to_vec(),
            spearman: Some(1.0),
            warning: Some(
                "the search already trained these configurations at their full budget".into(),
            ),
            search_was_full_budget: true,
        });
        assert!(
            en.contains("Spearman ρ = 1.00\n\n> **Warning:** the search already trained"),
            "{en}"
        );
        assert!(
            zh.contains("> **警告：** 搜索已经以全预算（2 轮，同样的数据和种子）训练了这些配置"),
            "{zh}"
        );
    }

    /// The section's markdown, its plots written to a throwaway folder.
    fn section_text(r: &HpoRecord, lang: Lang) -> String {
        let dir = tempfile::tempdir().unwrap();
        section(r, "quick", "quick", lang, dir.path(), "r")
            .unwrap()
            .0
    }

    #[test]
    fn the_search_line_names_the_assessor_options_and_the_chosen_trials_budget() {
        // A time limit ended the search before any trial completed: the choice is an
        // early-stopped trial, and its number is a 2-epoch one.
        let trials = vec![
            trial(0, TrialStatus::EarlyStopped, &[0.5], vec![]),
            trial(1, TrialStatus::EarlyStopped, &[0.6, 0.7], vec![1]),
        ];
        let md = section_text(&record(trials, Some(1)), Lang::En);
        assert!(
            md.contains("assessor `asha` (type promotion, reduction_factor 2), metric `val_acc`"),
            "{md}"
        );
        assert!(
            md.contains("0 succeeded, 2 early-stopped, 0 failed. Search cost: 2 trials, 3 trial-epochs (budget 12),"),
            "{md}"
        );
        assert!(
            md.contains("Chosen: trial 1 with search-time val_acc = 0.7000 (a 2-epoch"),
            "{md}"
        );
        assert!(
            md.contains("4 epochs per trial.")
                && md.contains("The search ended because max_duration_s was reached.")
                && !md.contains("Warning")
                && !md.contains("at a time"),
            "{md}"
        );
    }

    #[test]
    fn selection_on_the_test_set_and_concurrent_trials_are_stated() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = record(
            vec![trial(0, TrialStatus::Succeeded, &[0.5], vec![])],
            Some(0),
        );
        r.metric = "test_acc".into();
        r.concurrency = 2;
        r.trial_epochs = 1;
        r.stop_reason = crate::hpo::StopReason::MaxTrials;
        let (md, _) = section(&r, "quick", "quick", Lang::En, dir.path(), "r").unwrap();
        assert!(md.contains("1 epoch per trial."), "{md}");
        assert!(
            md.contains("ended because it had run max_trials = 3."),
            "{md}"
        );
        assert!(
            md.contains("**Warning**: trials were scored on the test set"),
            "{md}"
        );
        assert!(md.contains("Trials ran 2 at a time"), "{md}");
        let (zh, _) = section(&r, "quick", "quick", Lang::Zh, dir.path(), "r").unwrap();
        assert!(zh.contains("**警告**") && zh.contains("2 个并发"), "{zh}");
        // The plots' alt texts are Chinese; their titles keep English beside, as the curves'.
        assert!(
            zh.contains("![各 trial 的指标与目前最优值 — quick](r-quick-hpo-metric.svg)")
                && zh.contains("![超参数与指标 — quick](r-quick-hpo-parallel.svg)")
                && !zh.contains("Metric per trial"),
            "{zh}"
        );
        let svg = std::fs::read_to_string(dir.path().join("r-quick-hpo-metric.svg")).unwrap();
        assert!(svg.contains("Metric per trial / 各 trial 的指标"), "{svg}");
    }

    #[test]
    fn the_chosen_line_names_the_chosen_trial_not_the_search_best() {
        // retrain_top_k chose trial 1 at the full budget over the search's best, trial 0.
        let trials = vec![
            trial(0, TrialStatus::Succeeded, &[0.5, 0.9], vec![]),
            trial(1, TrialStatus::Succeeded, &[0.6, 0.8], vec![]),
        ];
        let mut r = record(trials, Some(0));
        r.chosen_trial = Some(1);
        let md = section_text(&r, Lang::En);
        assert!(
            md.contains("Chosen: trial 1 with search-time val_acc = 0.8000"),
            "{md}"
        );
    }

    #[test]
    fn an_interrupted_search_shows_its_best_so_far_and_no_choice() {
        let mut r = record(
            vec![
                trial(0, TrialStatus::Succeeded, &[0.5, 0.9], vec![]),
                trial(1, TrialStatus::EarlyStopped, &[0.3], vec![]),
            ],
            Some(0),
        );
        r.chosen_trial = None;
        r.stop_reason = crate::hpo::StopReason::Interrupted;
        let md = section_text(&r, Lang::En);
        assert!(
            md.contains(
                "The search was interrupted after 2 finished trials; resuming the run \
                 (`--resume`, as the warning at the top says) continues it from there."
            ) && md.contains(
                "Best so far: trial 0 with search-time val_acc = 0.9000 (4 epochs); no \
                 configuration is chosen or retrained yet."
            ) && !md.contains("Chosen:")
                && !md.contains("ended because"),
            "{md}"
        );
        let zh = section_text(&r, Lang::Zh);
        assert!(
            zh.contains("搜索在完成 2 个 trial 后被中断") && zh.contains("目前最好的是 trial 0"),
            "{zh}"
        );
    }

    #[test]
    fn an_interrupted_search_with_paused_trials_or_none_at_all_is_reported() {
        let mut paused = trial(0, TrialStatus::Waiting, &[0.5, 0.6], vec![1]);
        paused.stopped_at_epoch = Some(2);
        let mut r = record(vec![paused], None);
        r.stop_reason = crate::hpo::StopReason::Interrupted;
        let md = section_text(&r, Lang::En);
        assert!(
            md.contains(
                "interrupted after 1 finished trial (1 of them paused, waiting for a promotion);"
            ) && md.contains("| WAITING (paused at 1, 2) |"),
            "{md}"
        );
        // Stopped before any trial finished: the section says so, with no table rows to draw.
        r.trials.clear();
        let md = section_text(&r, Lang::En);
        assert!(md.contains("interrupted after 0 finished trials;"), "{md}");
    }

    /// The title's "red = best" is true of one line only: the runner-up is on the grey-blue
    /// scale the legend explains, and a trial with no momentum (Adam) is drawn at "n/a", not
    /// at a value it never had.
    #[test]
    fn the_parallel_plot_marks_one_best_and_missing_values_as_such() {
        let with = |id, m: f64, opt: serde_json::Value| {
            let mut t = trial(id, TrialStatus::Succeeded, &[m], vec![]);
            t.params = serde_json::json!({"lr": 0.1 * (id + 1) as f64, "optimizer": opt})
                .as_object()
                .unwrap()
                .clone();
            t
        };
        let trials = vec![
            with(
                0,
                0.90,
                serde_json::json!({"_name": "sgd", "momentum": 0.9}),
            ),
            with(
                1,
                0.89,
                serde_json::json!({"_name": "sgd", "momentum": 0.5}),
            ),
            with(2, 0.50, serde_json::json!({"_name": "adam"})),
        ];
        let (axes, lines) = parallel_data(&trials, true);
        let names: Vec<&str> = axes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["lr", "optimizer", "momentum", "metric"]);
        // Each axis says what its positions stand for: an option by its name (no JSON
        // quotes), a range by its ends and middle, the metric by its values.
        let ticks = |i: usize| -> Vec<(f64, &str)> {
            axes[i]
                .ticks
                .iter()
                .map(|(y, l)| ((y * 1e9).round() / 1e9, l.as_str()))
                .collect()
        };
        assert_eq!(ticks(0), [(0.0, "0.1"), (0.5, "0.2"), (1.0, "0.3")]);
        assert_eq!(ticks(1), [(0.0, "sgd"), (1.0, "adam")]);
        assert_eq!(ticks(2), [(0.0, "0.5"), (0.5, "0.7"), (1.0, "0.9")]);
        assert_eq!(
            ticks(3),
            [(0.0, "0.5000"), (0.5, "0.7000"), (1.0, "0.9000")]
        );
        assert_eq!(lines[2].line.values[2], None, "adam has no momentum");
        assert_eq!(lines[0].line.goodness, 1.0);
        // Minimizing, the lowest metric is the best.
        let (_, lines) = parallel_data(&trials, false);
        assert_eq!(lines[2].line.goodness, 1.0);

        let dir = tempfile::tempdir().unwrap();
        let (md, _) = section(
            &record(trials, Some(0)),
            "quick",
            "quick",
            Lang::En,
            dir.path(),
            "r",
        )
        .unwrap();
        assert!(md.contains("r-quick-hpo-parallel.svg"), "{md}");
        let svg = std::fs::read_to_string(dir.path().join("r-quick-hpo-parallel.svg")).unwrap();
        let polylines: Vec<&str> = svg.lines().filter(|l| l.contains("<polyline")).collect();
        // The best trial's line and its legend sample, nothing else, are red.
        assert_eq!(
            polylines.iter().filter(|l| l.contains("#DC1E1E")).count(),
            2,
            "{svg}"
        );
        assert!(
            svg.contains("best: trial 0")
                && svg.contains("light grey (worst) → dark blue (better)")
                && svg.contains("n/a: the trial has no value for this parameter"),
            "{svg}"
        );
        // The "n/a" position is labelled under the one axis where a trial sits there.
        assert_eq!(
            svg.lines().filter(|l| l.trim() == "n/a").count(),
            1,
            "{svg}"
        );
        // The adam trial's hollow marker at "n/a" (plus the legend's).
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
    }

    #[test]
    fn trial_table_shows_where_a_promoted_trial_waited() {
        let trials = [
            trial(0, TrialStatus::EarlyStopped, &[0.5], vec![]),
            trial(1, TrialStatus::Succeeded, &[0.6, 0.7, 0.9], vec![1, 2]),
            trial(2, TrialStatus::EarlyStopped, &[0.55, 0.65], vec![1]),
        ];
        let md = trial_table(&trials, false, false);
        let cells: Vec<Vec<&str>> = md
            .lines()
            .skip(2)
            .map(|row| {
                row.split('|')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .collect();
        assert_eq!(
            cells[0][..5],
            ["1", "1", "SUCCEEDED (paused at 1, 2)", "1.0", "0.9000"]
        );
        assert_eq!(cells[1][1..3], ["2", "EARLY_STOPPED @ 2 (paused at 1)"]);
        assert_eq!(cells[2][1..3], ["0", "EARLY_STOPPED @ 1"]);
        assert!(trial_table(&trials, false, true).contains("暂停于 1, 2"));
    }

    /// Parameters read as the accuracy table's configuration: flattened, four significant
    /// digits, no JSON quoting, and the section says where the exact values are.
    #[test]
    fn trial_table_writes_parameters_short() {
        let mut t = trial(0, TrialStatus::Succeeded, &[0.9], vec![]);
        t.params = serde_json::from_str(
            r#"{"initial_lr": 0.049189955290006075, "weight_decay": 0.00003688505589589764,
                "batch_size": 16, "dropout": 0.30000000000000004, "nesterov": true,
                "optimizer": {"_name": "sgd", "momentum": 0.7338609822122238}}"#,
        )
        .unwrap();
        let row = trial_row(&t, false);
        assert_eq!(
            row[4],
            "initial_lr=0.04919, weight_decay=3.689e-5, batch_size=16, dropout=0.3, \
             nesterov=true, optimizer=sgd, momentum=0.7339"
        );
        let md = section_text(&record(vec![t], Some(0)), Lang::En);
        assert!(
            md.contains(
                "Parameters to four significant digits (the result file holds them exactly)."
            ),
            "{md}"
        );
    }

    /// The top ten, then — only when there are more — every trial by id, folded, so that the
    /// report holds the whole search as NNI's trial list does.
    #[test]
    fn a_search_of_more_than_ten_trials_lists_them_all_after_the_top_ten() {
        let few: Vec<Trial> = (0..10)
            .map(|i| trial(i, TrialStatus::Succeeded, &[0.5 + 0.01 * i as f64], vec![]))
            .collect();
        assert!(!trial_table(&few, false, false).contains("<details>"));
        let mut many = few;
        many.push(trial(10, TrialStatus::EarlyStopped, &[0.3], vec![]));
        many.push(trial(11, TrialStatus::Succeeded, &[0.99], vec![]));
        let md = trial_table(&many, false, false);
        let (top, all) = md.split_once("<details>").unwrap();
        let rows = |table: &str| -> Vec<Vec<String>> {
            table
                .lines()
                .filter(|l| l.starts_with('|'))
                .skip(2)
                .map(|row| {
                    row.split('|')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(String::from)
                        .collect()
                })
                .collect()
        };
        let top = rows(top);
        assert_eq!(top.len(), 10);
        assert_eq!(top[0][..2], ["1", "11"], "the best first");
        assert!(
            all.starts_with("<summary>All 12 trials, by trial id</summary>"),
            "{all}"
        );
        let ids: Vec<String> = rows(all).iter().map(|r| r[0].clone()).collect();
        let expected: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(ids, expected);
        assert_eq!(rows(all)[10][1], "EARLY_STOPPED @ 1");
        assert!(md.trim_end().ends_with("</details>"));
        assert!(trial_table(&many, false, true).contains("全部 12 个 trial（按 trial id）"));
    }

    /// A numeric axis whose values repeat (a choice of batch sizes) labels each value; a
    /// continuous one its ends and middle, the middle geometric on a log axis; labels that
    /// would overlap are left out, the ends kept.
    #[test]
    fn numeric_axes_are_labelled_in_their_own_units() {
        let some = |v: &[f64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        let (scaled, ticks) = numeric_axis(&some(&[16.0, 32.0, 16.0, 128.0, 64.0]));
        let labels: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["16", "32", "64", "128"]);
        assert_eq!(scaled[3], Some(1.0));
        let (_, ticks) = numeric_axis(&some(&[0.001, 0.0123, 0.1, 0.5, 0.02]));
        assert_eq!(ticks.len(), 3);
        assert_eq!((ticks[0].1.as_str(), ticks[2].1.as_str()), ("0.001", "0.5"));
        assert_eq!(ticks[1].1, "0.0224", "sqrt(0.001 * 0.5), to three digits");
        assert!((ticks[1].0 - 0.5).abs() < 1e-12);
        // A missing value stays missing; one value sits in the middle.
        let (scaled, ticks) = numeric_axis(&[None, Some(0.9), Some(0.9)]);
        assert_eq!(scaled, [None, Some(0.5), Some(0.5)]);
        assert_eq!(ticks, [(0.5, "0.9".to_string())]);
        let thinned = thin_ticks(
            [(0.0, "a"), (0.02, "b"), (0.5, "c"), (0.97, "d"), (1.0, "e")]
                .map(|(y, l)| (y, l.to_string()))
                .to_vec(),
        );
        let kept: Vec<&str> = thinned.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(kept, ["a", "c", "e"]);
    }

    /// The spending curve counts every epoch a trial trained, in the order the trials ended
    /// (concurrent trials can end out of id order), and follows the choice as the best-so-far
    /// line does.
    #[test]
    fn the_spending_curve_counts_the_epochs_in_the_order_trials_ended() {
        let at = |mut t: Trial, end: &str| {
            t.end = Some(format!("2026-11-30T10:00:{end}.000Z"));
            t
        };
        let trials = vec![
            at(
                trial(0, TrialStatus::Succeeded, &[0.5, 0.7, 0.8], vec![]),
                "09",
            ),
            at(trial(1, TrialStatus::EarlyStopped, &[0.9], vec![]), "03"),
            at(
                trial(2, TrialStatus::Succeeded, &[0.6, 0.8, 0.85], vec![]),
                "12",
            ),
            trial(3, TrialStatus::Failed, &[], vec![]),
        ];
        assert_eq!(
            best_by_spend(&trials, Direction::Maximize),
            // Trial 1 (1 epoch) ended first: the best while none completed; then trial 0
            // (3 epochs), trial 2 (3), and the failed trial 3 (no epoch, last: no end time).
            [(1.0, 0.9), (4.0, 0.8), (7.0, 0.85), (7.0, 0.85)]
        );
    }

    /// The best-so-far line follows the choice: a completed trial sets it; an early-stopped
    /// trial's higher number (a shorter run) does not, except while none has completed.
    #[test]
    fn the_best_so_far_line_follows_the_completed_trials() {
        let trials = vec![
            trial(0, TrialStatus::EarlyStopped, &[0.6], vec![]),
            trial(1, TrialStatus::Succeeded, &[0.5, 0.8], vec![]),
            trial(2, TrialStatus::EarlyStopped, &[0.95], vec![]),
            trial(3, TrialStatus::Failed, &[], vec![]),
            trial(4, TrialStatus::Succeeded, &[0.6, 0.9], vec![]),
        ];
        assert_eq!(
            best_so_far(&trials, Direction::Maximize),
            [(0.0, 0.6), (1.0, 0.8), (2.0, 0.8), (3.0, 0.8), (4.0, 0.9)]
        );
        assert_eq!(
            best_so_far(&trials, Direction::Minimize),
            [(0.0, 0.6), (1.0, 0.8), (2.0, 0.8), (3.0, 0.8), (4.0, 0.8)]
        );
    }
}
