//! Runs a suite: every arm, every seed, one result file updated after each finished run.
use super::{tuned, ArmKind, ArmSpec, LoadedSuite};
use crate::data::{self, Dataset};
use crate::env::{self, EnvRecord};
use crate::progress::Progress;
use crate::results::{ArmResult, ResultFile, ResultWriter, RunStatus, SuiteRecord, SCHEMA_VERSION};
use crate::timeutil;
use crate::train::{self, Control, ReportedAccuracy, TrainOptions};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub struct RunOptions {
    pub label: Option<String>,
    pub results_dir: PathBuf,
    pub device: tch::Device,
    pub quiet: bool,
}

/// How a suite run ended.
pub struct RunSummary {
    pub path: PathBuf,
    pub result: ResultFile,
}

/// Runs every arm of the suite over its seeds. `stop` is checked after every epoch (Ctrl-C):
/// when set, the file is marked interrupted with every finished run kept, and an error is
/// returned.
pub fn run_suite(
    suite: &LoadedSuite,
    options: &RunOptions,
    stop: &AtomicBool,
) -> anyhow::Result<RunSummary> {
    let started = Instant::now();
    env::torch::enable_determinism();
    if let Some(threads) = suite.file.suite.threads {
        tch::set_num_threads(threads);
    }
    let mut environment = EnvRecord::capture(options.label.as_deref());
    environment.compute_device = Some(format!("{:?}", options.device).to_lowercase());
    let dataset = data::load(&suite.file.dataset)?.to_device(options.device);
    let meta = &suite.file.suite;
    let mut result = ResultFile {
        schema_version: SCHEMA_VERSION,
        status: RunStatus::Running,
        created_at: timeutil::now_rfc3339(),
        finished_at: None,
        environment,
        suite: SuiteRecord {
            name: meta.name.clone(),
            version: meta.version,
            path: suite.path.display().to_string(),
            sha256: suite.sha256.clone(),
            seeds: meta.seeds.clone(),
            tolerance: meta.tolerance,
            overrides: suite.overrides.clone(),
            definition: serde_json::to_value(&suite.file)?,
        },
        dataset: dataset.info.clone(),
        arms: Vec::new(),
        wall_seconds: 0.0,
    };
    let stem = format!(
        "{}-{}-{}",
        slug(&meta.name),
        slug(&result.environment.label),
        timeutil::now_compact()
    );
    let writer = ResultWriter::create(&options.results_dir, &stem, &result)?;

    let arms = suite.arms();
    let total: usize = arms
        .iter()
        .map(|&k| {
            let search = match (k, &suite.file.arms.tuned) {
                (ArmKind::Tuned, Some(t)) => t.hpo.max_trials * t.hpo.trial_epochs,
                _ => 0,
            };
            if let (ArmKind::Nas, Some(n)) = (k, &suite.file.arms.nas) {
                return super::nas::total_epochs(n, meta.seeds.len());
            }
            suite.full_budget_epochs(k) * meta.seeds.len() + search
        })
        .sum();
    let progress = Progress::new(total as u64, options.quiet);
    let train_options = TrainOptions {
        device: options.device,
        ..Default::default()
    };
    let mut interrupted = false;
    'arms: for kind in arms {
        if kind == ArmKind::Tuned {
            let (Some(spec), Some(space)) = (&suite.file.arms.tuned, &suite.search_space) else {
                continue;
            };
            let space_path = suite
                .path
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join(&spec.hpo.search_space);
            let ctx = tuned::TunedContext {
                spec,
                space,
                space_path: space_path.display().to_string(),
                dataset: &dataset,
                seeds: &meta.seeds,
                options: &train_options,
                progress: &progress,
                stop,
            };
            let mut arm = tuned_arm_result(spec);
            let outcome = tuned::run_tuned_arm(&ctx, &mut arm, &mut |arm| {
                save_arm(&mut result, arm, started, &writer)
            });
            save_arm(&mut result, &arm, started, &writer)?;
            match outcome {
                Ok(()) => continue,
                Err(e) if e.is::<Interrupted>() => {
                    interrupted = true;
                    break 'arms;
                }
                Err(e) => return Err(e),
            }
        }
        if kind == ArmKind::Nas {
            let Some(spec) = &suite.file.arms.nas else {
                continue;
            };
            let ctx = super::nas::NasContext {
                spec,
                dataset: &dataset,
                seeds: &meta.seeds,
                out_dir: super::nas::epoch_dir(writer.path()),
                suite_dir: suite
                    .path
                    .parent()
                    .unwrap_or(std::path::Path::new("."))
                    .to_path_buf(),
                progress: &progress,
                stop,
                quiet: options.quiet,
            };
            let mut arm = nas_arm_result(spec);
            let outcome = super::nas::run_nas_arm(&ctx, &mut arm, &mut |arm| {
                save_arm(&mut result, arm, started, &writer)
            });
            save_arm(&mut result, &arm, started, &writer)?;
            match outcome {
                Ok(()) => continue,
                Err(e) if e.is::<Interrupted>() => {
                    interrupted = true;
                    break 'arms;
                }
                Err(e) => return Err(e),
            }
        }
        let Some(spec) = suite.training_arm(kind) else {
            continue;
        };
        result.arms.push(new_arm_result(kind, spec));
        for &seed in &meta.seeds {
            if stop.load(Ordering::SeqCst) {
                interrupted = true;
                break 'arms;
            }
            progress.set_message(format!("{} seed {seed}", kind.name()));
            let outcome = train_one(
                &spec.recipe,
                &dataset,
                seed,
                &train_options,
                &progress,
                stop,
            )?;
            let was_stopped = outcome.stopped_at_epoch.is_some();
            if was_stopped {
                // An interrupted run is not a result: it would look like a short recipe.
                interrupted = true;
                break 'arms;
            }
            if !options.quiet {
                progress.line(run_line(kind, &outcome, spec.recipe.report));
            }
            let arm = result.arms.last_mut().expect("pushed above");
            arm.runs.push(outcome);
            arm.summarize();
            result.wall_seconds = started.elapsed().as_secs_f64();
            writer.update(&result)?;
        }
    }
    progress.finish();
    result.status = if interrupted {
        RunStatus::Interrupted
    } else {
        RunStatus::Complete
    };
    result.finished_at = Some(timeutil::now_rfc3339());
    result.wall_seconds = started.elapsed().as_secs_f64();
    writer.update(&result)?;
    if interrupted {
        anyhow::bail!(
            "interrupted: {} keeps every run that finished (status \"interrupted\")",
            writer.path().display()
        );
    }
    Ok(RunSummary {
        path: writer.path().to_path_buf(),
        result,
    })
}

/// Marks a run stopped by Ctrl-C / SIGTERM.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Replaces (or adds) the arm in the result and rewrites the file.
fn save_arm(
    result: &mut ResultFile,
    arm: &ArmResult,
    started: Instant,
    writer: &ResultWriter,
) -> anyhow::Result<()> {
    match result.arms.iter_mut().find(|a| a.name == arm.name) {
        Some(existing) => *existing = arm.clone(),
        None => result.arms.push(arm.clone()),
    }
    result.wall_seconds = started.elapsed().as_secs_f64();
    writer.update(result)?;
    Ok(())
}

fn tuned_arm_result(spec: &super::TunedArmSpec) -> ArmResult {
    ArmResult {
        name: ArmKind::Tuned.name().to_string(),
        description: spec.description.clone(),
        definition: serde_json::to_value(spec).expect("an arm serialises"),
        hyperparameters: Vec::new(),
        metric: metric_name(spec.recipe.report),
        runs: Vec::new(),
        summary: None,
        hpo: None,
        nas: None,
    }
}

fn nas_arm_result(spec: &super::nas::NasArmSpec) -> ArmResult {
    ArmResult {
        name: ArmKind::Nas.name().to_string(),
        description: spec.description.clone(),
        definition: serde_json::to_value(spec).expect("an arm serialises"),
        hyperparameters: spec.summary_pairs(None),
        metric: metric_name(spec.report),
        runs: Vec::new(),
        summary: None,
        hpo: None,
        nas: None,
    }
}

fn metric_name(report: ReportedAccuracy) -> String {
    match report {
        ReportedAccuracy::Last => "final_test_acc",
        ReportedAccuracy::Best => "best_test_acc",
    }
    .to_string()
}

fn train_one(
    recipe: &train::Recipe,
    dataset: &Dataset,
    seed: u64,
    options: &TrainOptions,
    progress: &Progress,
    stop: &AtomicBool,
) -> anyhow::Result<train::RunOutcome> {
    train::train(recipe, dataset, seed, options, &mut |_| {
        progress.epoch_done();
        if stop.load(Ordering::SeqCst) {
            Control::Stop
        } else {
            Control::Continue
        }
    })
}

fn new_arm_result(kind: ArmKind, spec: &ArmSpec) -> ArmResult {
    ArmResult {
        name: kind.name().to_string(),
        description: spec.description.clone(),
        definition: serde_json::to_value(spec).expect("an arm serialises"),
        hyperparameters: spec.recipe.summary_pairs(),
        metric: metric_name(spec.recipe.report),
        runs: Vec::new(),
        summary: None,
        hpo: None,
        nas: None,
    }
}

fn run_line(kind: ArmKind, run: &train::RunOutcome, report: ReportedAccuracy) -> String {
    match run.diverged_at_epoch {
        Some(e) => format!(
            "{:<8} seed {:<4} diverged at epoch {e}",
            kind.name(),
            run.seed
        ),
        None => format!(
            "{:<8} seed {:<4} {} test acc {:.4} (best {:.4} @ {}) in {:.1} s",
            kind.name(),
            run.seed,
            match report {
                ReportedAccuracy::Last => "final",
                ReportedAccuracy::Best => "best",
            },
            run.reported_acc(report).unwrap_or(0.0),
            run.best_test_acc.unwrap_or(0.0),
            run.best_epoch.unwrap_or(0),
            run.wall_seconds
        ),
    }
}

/// File-name-safe form of a label.
pub fn slug(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.trim_matches('-').to_string()
}
