//! Runs a suite: every arm, every seed, one result file updated after each finished run.
use super::journal::{self, Journal};
use super::{tuned, ArmKind, LoadedSuite};
use crate::checkpoint::CorruptResumeState;
use crate::data::{self, Dataset};
use crate::env::{self, EnvRecord};
use crate::panics::guarded;
use crate::progress::Progress;
use crate::results::{
    read_result, ArmResult, ResultFile, ResultWriter, RunStatus, SuiteRecord, SCHEMA_VERSION,
};
use crate::timeutil;
use crate::train::{self, Control, ReportedAccuracy, TrainOptions};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub struct RunOptions {
    pub label: Option<String>,
    pub results_dir: PathBuf,
    pub device: tch::Device,
    pub quiet: bool,
    /// Continue this interrupted result file instead of starting a new one.
    pub resume: Option<PathBuf>,
    /// Epochs between checkpoints of the run in progress (≥ 1).
    pub checkpoint_every: usize,
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
    stop_flag: &Arc<AtomicBool>,
) -> anyhow::Result<RunSummary> {
    let stop: &AtomicBool = stop_flag;
    let started = Instant::now();
    env::torch::enable_determinism();
    if let Some(threads) = suite.file.suite.threads {
        tch::set_num_threads(threads);
    }
    let dataset = data::load(&suite.file.dataset)
        .map_err(|e| suite.dataset_error(e))?
        .to_device(options.device);
    tuned::check_validation_split(suite, &dataset)?;
    // Before a result file exists: a training step too large for memory would be killed by
    // the kernel, leaving it "running". The CPU's memory only: GPU memory is not estimated.
    if options.device == tch::Device::Cpu {
        suite.check_memory(&dataset.info, crate::env::MemoryBudget::of_this_process())?;
    }
    let (mut result, writer, wall_before) = match &options.resume {
        Some(path) => resume_result(suite, path)?,
        None => {
            let result = new_result(suite, options, &dataset)?;
            let stem = format!(
                "{}-{}-{}",
                slug(&suite.file.suite.name),
                slug(&result.environment.label),
                timeutil::now_compact()
            );
            let writer = ResultWriter::create(&options.results_dir, &stem, &result)?;
            (result, writer, 0.0)
        }
    };
    let journal = Journal::open(writer.path(), options.checkpoint_every)?;
    if let Some(spec) = &suite.file.arms.tuned {
        if let Err(e) = tuned::check_trial_checkpoints(spec, &dataset, &journal) {
            return Err(journal.refused(e));
        }
    }
    // What the file held before this resume replayed into it (see `put_back`).
    let before_resume = match options.resume {
        Some(_) => Some(
            std::fs::read(writer.path())
                .with_context(|| format!("{}: cannot read", writer.path().display()))?,
        ),
        None => None,
    };
    if options.resume.is_some() && !options.quiet {
        eprintln!("resuming {}", writer.path().display());
    }
    let elapsed = || wall_before + started.elapsed().as_secs_f64();
    let meta = &suite.file.suite;
    let arms = suite.arms();
    let total: usize = arms
        .iter()
        .map(|&k| {
            let search = match (k, &suite.file.arms.tuned) {
                (ArmKind::Tuned, Some(t)) => {
                    let all = t.hpo.max_trials * t.hpo.trial_epochs;
                    t.hpo.max_trial_epochs.map_or(all, |b| b.min(all))
                }
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
        checkpoint_every: options.checkpoint_every,
        interrupt: Some(Arc::clone(stop_flag)),
        ..Default::default()
    };
    // Whether Ctrl-C stopped the run.
    let run_arms = || -> anyhow::Result<bool> {
        'arms: for kind in arms {
            if kind == ArmKind::Tuned {
                let (Some(spec), Some(space)) = (&suite.file.arms.tuned, &suite.search_space)
                else {
                    continue;
                };
                let space_path = suite.dir().join(&spec.hpo.search_space);
                let ctx = tuned::TunedContext {
                    spec,
                    space,
                    space_path: space_path.display().to_string(),
                    dataset: &dataset,
                    seeds: &meta.seeds,
                    options: &train_options,
                    progress: &progress,
                    stop,
                    journal: Some(&journal),
                };
                let metric = spec.recipe.report.into();
                let arm = empty_arm_result(kind, spec, &spec.description, Vec::new(), metric);
                let run =
                    |arm: &mut ArmResult, save: &mut SaveArm| tuned::run_tuned_arm(&ctx, arm, save);
                if run_search_arm(arm, run, &mut result, &writer, &elapsed, options.quiet)? {
                    return Ok(true);
                }
                continue;
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
                    suite_dir: suite.dir().to_path_buf(),
                    progress: &progress,
                    stop,
                    quiet: options.quiet,
                    journal: Some(&journal),
                };
                let pairs = spec.summary_pairs(None);
                let arm =
                    empty_arm_result(kind, spec, &spec.description, pairs, spec.report.into());
                let run = |arm: &mut ArmResult, save: &mut SaveArm| {
                    super::nas::run_nas_arm(&ctx, arm, save)
                };
                if run_search_arm(arm, run, &mut result, &writer, &elapsed, options.quiet)? {
                    return Ok(true);
                }
                continue;
            }
            let Some(spec) = suite.training_arm(kind) else {
                continue;
            };
            let (pairs, metric) = (spec.recipe.summary_pairs(), spec.recipe.report.into());
            let mut arm = empty_arm_result(kind, spec, &spec.description, pairs, metric);
            for &seed in &meta.seeds {
                if stop.load(Ordering::SeqCst) {
                    return Ok(true);
                }
                progress.set_message(format!("{} seed {seed}", kind.name()));
                let unit = TrainUnit {
                    journal: Some(&journal),
                    key: format!("{}.seed-{seed}", kind.name()),
                    options: &train_options,
                    stop,
                };
                let outcome = match guarded(|| {
                    unit.train(&spec.recipe, &dataset, seed, &mut |_| progress.epoch_done())
                }) {
                    Ok(outcome) => outcome,
                    // An interrupted run is not a result: it would look like a short recipe.
                    Err(e) if e.is::<Interrupted>() => {
                        return Ok(true);
                    }
                    // (Damaged resume state is returned by end_arm, not filed.)
                    Err(e) => {
                        // The other seeds would fail the same way; the other arms may not.
                        end_arm(
                            Err(e),
                            &mut arm,
                            &mut result,
                            elapsed(),
                            &writer,
                            options.quiet,
                        )?;
                        continue 'arms;
                    }
                };
                if !options.quiet {
                    progress.line(run_line(kind, &outcome, spec.recipe.report));
                }
                arm.runs.push(outcome);
                arm.summarize();
                save_arm(&mut result, &arm, elapsed(), &writer)?;
            }
            save_arm(&mut result, &arm, elapsed(), &writer)?;
        }
        Ok(false)
    };
    let interrupted = match run_arms() {
        Ok(interrupted) => interrupted,
        Err(e) => {
            let e = put_back(e, before_resume.as_deref(), &writer);
            return Err(if CorruptResumeState::in_chain(&e) {
                journal.refused(e)
            } else {
                e
            });
        }
    };
    progress.finish();
    result.status = if interrupted {
        RunStatus::Interrupted
    } else {
        RunStatus::Complete
    };
    result.finished_at = Some(timeutil::now_rfc3339());
    result.wall_seconds = elapsed();
    writer.update(&result)?;
    if interrupted {
        anyhow::bail!(
            "interrupted: {} keeps every run that finished (status \"interrupted\"); \
             `{}` continues it",
            writer.path().display(),
            suite.resume_command(writer.path())
        );
    }
    let kept = journal.finish();
    if let Some(first) = kept.first() {
        // The harness removes only what it wrote: a user's own files stay, said once.
        let names: Vec<String> = kept
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        eprintln!(
            "note: {} is kept: it holds files harness did not write there ({}); the run no \
             longer needs the folder",
            first.parent().unwrap_or(first).display(),
            names.join(", ")
        );
    }
    Ok(RunSummary {
        path: writer.path().to_path_buf(),
        result,
    })
}

pub use crate::checkpoint::Interrupted;

/// A damaged file of the resume state ends the run as bad input, before anything is recorded
/// about it: the result file gets back the bytes it had before this resume replayed into it,
/// so that after deleting the file the user resumes from exactly where they were (and the
/// journal, ended with [`Journal::refused`], leaves its folder as it was). (Should that
/// write fail, the replayed file is still one that `--resume` continues.)
fn put_back(error: anyhow::Error, before: Option<&[u8]>, writer: &ResultWriter) -> anyhow::Error {
    if let Some(bytes) = before.filter(|_| CorruptResumeState::in_chain(&error)) {
        let _ = crate::fsutil::write_atomic(writer.path(), bytes);
    }
    error
}

/// Saves an arm as it goes (the tuned and nas arms call it after each unit of work).
type SaveArm<'a> = dyn FnMut(&ArmResult) -> anyhow::Result<()> + 'a;

/// Runs an arm that saves itself as it goes (tuned, nas), then files its end with
/// [`end_arm`]: whether the run was interrupted. A panic (libtorch cannot allocate a model too
/// large for memory) fails the arm, not the suite.
fn run_search_arm(
    mut arm: ArmResult,
    run: impl FnOnce(&mut ArmResult, &mut SaveArm) -> anyhow::Result<()>,
    result: &mut ResultFile,
    writer: &ResultWriter,
    elapsed: &dyn Fn() -> f64,
    quiet: bool,
) -> anyhow::Result<bool> {
    let outcome = guarded(|| {
        run(&mut arm, &mut |arm| {
            save_arm(result, arm, elapsed(), writer)
        })
    });
    end_arm(outcome, &mut arm, result, elapsed(), writer, quiet)
}

/// Files an arm's end and saves the arm: whether it stopped on Ctrl-C (the run then ends
/// "interrupted"). Any other failure of the arm is recorded in it (`error`) and the suite goes
/// on with its other arms; only a result file that cannot be written, or damaged resume state,
/// ends the run.
fn end_arm(
    outcome: anyhow::Result<()>,
    arm: &mut ArmResult,
    result: &mut ResultFile,
    wall_seconds: f64,
    writer: &ResultWriter,
    quiet: bool,
) -> anyhow::Result<bool> {
    let interrupted = match outcome {
        Ok(()) => false,
        Err(e) if e.is::<Interrupted>() => true,
        Err(e) if e.is::<crate::results::ResultError>() => return Err(e),
        // Not the arm's failure: the user deletes the file and resumes.
        Err(e) if CorruptResumeState::in_chain(&e) => return Err(e),
        Err(e) => {
            let message = crate::error_text::shown(&e);
            if !quiet {
                eprintln!("{} arm failed: {message}", arm.name);
            }
            arm.error = Some(message);
            false
        }
    };
    save_arm(result, arm, wall_seconds, writer)?;
    Ok(interrupted)
}

/// Replaces (or adds) the arm in the result and rewrites the file.
fn save_arm(
    result: &mut ResultFile,
    arm: &ArmResult,
    wall_seconds: f64,
    writer: &ResultWriter,
) -> anyhow::Result<()> {
    match result.arms.iter_mut().find(|a| a.name == arm.name) {
        Some(existing) => *existing = arm.clone(),
        None => result.arms.push(arm.clone()),
    }
    result.wall_seconds = wall_seconds;
    // Never a file that report, compare and check would refuse. What a run computes is valid;
    // what a resume replays from a journal entry that was edited may not be.
    if let Some(problem) = crate::results::problem(result) {
        return Err(replayed_invalid(writer.path(), &arm.name, problem).into());
    }
    writer.update(result)?;
    Ok(())
}

/// A journal entry that parses but holds values a run never gives (another seed's run, an
/// accuracy of 7.5): found in the result it replays into, so named by its arm.
fn replayed_invalid(result_path: &Path, arm: &str, problem: String) -> CorruptResumeState {
    CorruptResumeState {
        path: journal::journal_dir(result_path).join(format!("{arm}.*")),
        problem: format!(
            "replayed, these journal entries give a result that harness never writes \
             ({problem}); one of them was edited or damaged"
        ),
        advice: format!("delete them and resume again to redo the {arm} arm").into(),
    }
}

/// A fresh result file for `suite` (status running, no arms yet).
fn new_result(
    suite: &LoadedSuite,
    options: &RunOptions,
    dataset: &Dataset,
) -> anyhow::Result<ResultFile> {
    let mut environment = EnvRecord::capture(options.label.as_deref());
    environment.compute_device = Some(crate::env::device_name(options.device));
    let meta = &suite.file.suite;
    Ok(ResultFile {
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
            override_args: suite.override_args.clone(),
            inputs: suite.inputs.clone(),
            cwd: std::env::current_dir()
                .ok()
                .map(|d| d.display().to_string()),
            definition: serde_json::to_value(&suite.file)?,
        },
        dataset: dataset.info.clone(),
        arms: Vec::new(),
        wall_seconds: 0.0,
        resumed_at: Vec::new(),
    })
}

/// Whether `path` is an unfinished run of this suite (same file, same options) that
/// `--resume` can continue; the error says why not.
pub fn check_resumable(suite: &LoadedSuite, path: &Path) -> anyhow::Result<()> {
    resume_result(suite, path).map(|_| ())
}

/// Reopens an unfinished result file of this suite for `--resume`. The arms are rebuilt by
/// replaying the journal, so only the header (environment, creation time) is kept.
fn resume_result(
    suite: &LoadedSuite,
    path: &Path,
) -> anyhow::Result<(ResultFile, ResultWriter, f64)> {
    let mut old = read_result(path)?;
    let shown = path.display();
    if old.status == RunStatus::Complete {
        anyhow::bail!("{shown}: this run is already complete; there is nothing to resume");
    }
    // Another suite's result: its sha256 differs too, but the name says what happened.
    if old.suite.name != suite.file.suite.name {
        anyhow::bail!(
            "{shown}: is a result of suite \"{}\", not of suite \"{}\" ({}); resume it with \
             the suite it was started with{}",
            old.suite.name,
            suite.file.suite.name,
            suite.path.display(),
            match old.suite.path.as_str() {
                "" => String::new(),
                started => format!(" ({started})"),
            }
        );
    }
    if old.suite.sha256 != suite.sha256 {
        anyhow::bail!(
            "{shown}: was run from a different version of the suite (sha256 {} there, {} in \
             {}); resume with the suite file it was started with",
            short(&old.suite.sha256),
            short(&suite.sha256),
            suite.path.display()
        );
    }
    if old.suite.overrides != suite.overrides {
        anyhow::bail!(
            "{shown}: was run with the options [{}], this command gives [{}]; resume with the \
             same --epochs/--seeds/--threads/--data-dir options",
            old.suite.overrides.join(", "),
            suite.overrides.join(", ")
        );
    }
    // A changed search space or architecture file would mix two experiments in one result.
    let changed = old.suite.changed_inputs(&suite.inputs);
    if let Some(input) = changed.first() {
        anyhow::bail!(
            "{shown}: {input} has changed since this run started (its sha256 is recorded in \
             the result); resume with the file it was started with"
        );
    }
    // The file names one build as the producer of every run: runs of another build would be
    // credited to it (training code changes between commits change the numbers).
    let version = env!("CARGO_PKG_VERSION");
    let (started, here) = (
        &old.environment.git_commit.value,
        crate::env::build_commit().value,
    );
    let other_commit = matches!((started, &here), (Some(a), Some(b)) if a != b);
    if old.environment.harness_version != version || other_commit {
        let build = |version: &str, commit: Option<&String>| match commit {
            Some(c) => format!("harness {version} (commit {})", short(c)),
            None => format!("harness {version}"),
        };
        anyhow::bail!(
            "{shown}: was started by {}, this is {}: its finished runs and the ones a resume \
             adds would be credited to one build; resume it with the build it was started \
             with{}, or run the suite afresh without --resume",
            build(&old.environment.harness_version, started.as_ref()),
            build(version, here.as_ref()),
            started.as_ref().map_or(String::new(), |c| format!(
                " (git checkout {} and rebuild)",
                short(c)
            ))
        );
    }
    if !super::journal::journal_dir(path).is_dir() {
        anyhow::bail!(
            "{shown}: no resume folder ({}) beside it, so there is nothing to continue from",
            super::journal::journal_dir(path).display()
        );
    }
    let wall_before = old.wall_seconds;
    old.status = RunStatus::Running;
    old.finished_at = None;
    old.arms.clear();
    old.resumed_at.push(timeutil::now_rfc3339());
    let writer = ResultWriter::open(path);
    Ok((old, writer, wall_before))
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// The newest unfinished result of `suite` in `dir` (what `--resume` without a file picks).
pub fn latest_unfinished(dir: &Path, suite: &LoadedSuite) -> anyhow::Result<PathBuf> {
    let mut best: Option<(String, PathBuf)> = None;
    // Files that may be this suite's unfinished result but do not read, with why: named when
    // nothing else is found, so that the user can fix or delete them.
    let mut unreadable: Vec<(PathBuf, String)> = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot list the results folder: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let r = match read_result(&path) {
            Ok(r) => r,
            Err(e) => {
                if looks_like_result_of(&path, suite) {
                    let text = crate::error_text::shown(&e.into());
                    // The error names the file, which the message names already.
                    let prefix = format!("{}: ", path.display());
                    let why = text.strip_prefix(&prefix).unwrap_or(&text).to_string();
                    unreadable.push((path, why));
                }
                continue;
            }
        };
        if r.status != RunStatus::Complete
            && r.suite.name == suite.file.suite.name
            && super::journal::journal_dir(&path).is_dir()
            && best.as_ref().is_none_or(|(t, _)| r.created_at > *t)
        {
            best = Some((r.created_at, path));
        }
    }
    best.map(|(_, p)| p).ok_or_else(|| {
        let mut text = format!(
            "{}: no unfinished result of suite \"{}\" to resume",
            dir.display(),
            suite.file.suite.name
        );
        for (path, why) in &unreadable {
            text.push_str(&format!(
                "; {} looks like a result of this suite but cannot be read: {why}",
                path.display()
            ));
        }
        text.push_str(match unreadable.len() {
            0 => "; name the file: --resume FILE",
            1 => "; fix or delete it, or name the file: --resume FILE",
            _ => "; fix or delete them, or name the file: --resume FILE",
        });
        anyhow::anyhow!(text)
    })
}

/// Whether `path` is named as `harness run` names this suite's results
/// (`<suite>-<label>-<time>.json`) or has a resume folder beside it.
fn looks_like_result_of(path: &Path, suite: &LoadedSuite) -> bool {
    let prefix = format!("{}-", slug(&suite.file.suite.name));
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        || super::journal::journal_dir(path).is_dir()
}

/// One unit of training in the suite, through the journal: a unit the journal has finished
/// comes back from it (its epochs replayed to `on_epoch`); otherwise it trains, resuming its
/// checkpoint if one exists, and is journaled when done. Ctrl-C gives [`Interrupted`].
pub(super) struct TrainUnit<'a> {
    pub journal: Option<&'a Journal>,
    pub key: String,
    pub options: &'a TrainOptions,
    pub stop: &'a AtomicBool,
}

impl TrainUnit<'_> {
    pub fn train(
        &self,
        recipe: &train::Recipe,
        data: &Dataset,
        seed: u64,
        on_epoch: &mut dyn FnMut(&train::EpochRecord),
    ) -> anyhow::Result<train::RunOutcome> {
        let fingerprint = train::run_fingerprint(recipe, seed, &data.info)?;
        if let Some(entry) = journal::finished::<UnitEntry>(self.journal, &self.key)? {
            let UnitEntry {
                run,
                fingerprint: stored,
            } = entry;
            // An entry that parses may still not be this unit's run (an edited or copied file):
            // another seed's, or another unit's of the same seed (the full-budget runs of a
            // search's top trials all train its trial seed).
            let problem = if run.seed != seed {
                Some(format!(
                    "holds the run of seed {}, not of seed {seed}",
                    run.seed
                ))
            } else if let Some(stored) = stored.filter(|f| *f != fingerprint) {
                Some(match self.journal.and_then(|j| self.copy_of(j, &stored)) {
                    Some(other) => format!(
                        "holds the same run as {other}.json (a copy of that entry), not this \
                         unit's: its recipe, seed or data differ"
                    ),
                    None => "holds the run of another recipe, seed or data than this unit's \
                             (another unit's entry copied here, or edited)"
                        .to_string(),
                })
            } else {
                crate::results::run_problem(&run)
                    .map(|p| format!("holds a run that harness never writes ({p})"))
            };
            if let (Some(problem), Some(journal)) = (problem, self.journal) {
                return Err(CorruptResumeState {
                    path: journal.entry(&self.key),
                    problem,
                    advice: "delete it and resume again to redo this unit".into(),
                }
                .into());
            }
            run.epochs.iter().for_each(&mut *on_epoch);
            return Ok(run);
        }
        let options = journal::train_options(self.journal, self.options, &self.key);
        let run = train::train(recipe, data, seed, &options, &mut |record| {
            on_epoch(record);
            if self.stop.load(Ordering::SeqCst) {
                Control::Stop
            } else {
                Control::Continue
            }
        })?;
        if run.stopped_at_epoch.is_some() {
            return Err(Interrupted.into());
        }
        let entry = UnitEntry {
            run,
            fingerprint: Some(fingerprint),
        };
        journal::record(self.journal, &self.key, &entry)?;
        Ok(entry.run)
    }

    /// The other unit whose journal entry holds a run of these settings (`fingerprint`), if
    /// any: the entry this unit's was copied from.
    fn copy_of(&self, journal: &Journal, fingerprint: &str) -> Option<String> {
        journal.keys("").ok()?.into_iter().find(|key| {
            *key != self.key
                && journal
                    .get::<UnitEntry>(key)
                    .ok()
                    .flatten()
                    .is_some_and(|other| other.fingerprint.as_deref() == Some(fingerprint))
        })
    }
}

/// A training unit's journal entry: its run, and what identifies the run (recipe, seed and
/// data, as its checkpoint's fingerprint), so that another unit's entry copied under its
/// name is found.
#[derive(serde::Serialize, serde::Deserialize)]
struct UnitEntry {
    #[serde(flatten)]
    run: train::RunOutcome,
    /// Absent from the entries of harness versions that did not record it (not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
}

/// An arm's result before it has run: its definition and hyper-parameters, no runs.
fn empty_arm_result(
    kind: ArmKind,
    spec: &impl serde::Serialize,
    description: &str,
    hyperparameters: Vec<(String, String)>,
    metric: crate::results::ArmMetric,
) -> ArmResult {
    ArmResult {
        name: kind.name().to_string(),
        description: description.to_string(),
        definition: serde_json::to_value(spec).expect("an arm serialises"),
        hyperparameters,
        metric,
        runs: Vec::new(),
        summary: None,
        hpo: None,
        nas: None,
        error: None,
    }
}

/// The console line of one finished run.
pub(super) fn run_line(kind: ArmKind, run: &train::RunOutcome, report: ReportedAccuracy) -> String {
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

/// File-name-safe form of a suite name or label: letters (any script), digits and `_` kept,
/// the rest `-`; "unnamed" when nothing is left (a name of only punctuation).
pub fn slug(text: &str) -> String {
    // Cut so that suite name + label + time stay well under a file name's 255 bytes.
    const MAX_BYTES: usize = 64;
    let mut s = String::new();
    for c in text.chars() {
        let c = if c.is_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        };
        if s.len() + c.len_utf8() > MAX_BYTES {
            break;
        }
        s.push(c);
    }
    match s.trim_matches('-') {
        "" => "unnamed".to_string(),
        kept => kept.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_file_name_safe_and_short() {
        assert_eq!(slug("quick"), "quick");
        assert_eq!(slug("../lab 8/"), "lab-8");
        // Suite name + label + time must fit a file name's 255 bytes.
        assert_eq!(slug(&"x".repeat(301)), "x".repeat(64));
        assert_eq!(slug("实验 8"), "实验-8");
        assert_eq!(slug(&"实".repeat(100)), "实".repeat(21));
        // Never empty: an empty stem would make a hidden `.md` or a file name starting `-`.
        assert_eq!(slug("!!!"), "unnamed");
    }
}
