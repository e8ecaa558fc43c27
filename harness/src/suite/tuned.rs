//! The tuned (HPO) arm: search with a tuner and an assessor at the search budget, then retrain
//! the chosen configuration at the full budget over the suite's seeds. The arm's accuracy is
//! the retrained one, never the search-time number (the lab's lesson: short trials can pick a
//! configuration that looks good early and generalises badly).
use super::journal::{self, Journal};
use super::runner::{Interrupted, TrainUnit};
use super::TunedArmSpec;
use crate::checkpoint::CorruptResumeState;
use crate::data::Dataset;
use crate::hpo::{
    best_trial_of, build_assessor, build_tuner, run_experiment_resumable, spearman, Abort, Cost,
    Decision, Direction, ExperimentConfig, ParamKind, ParamSpec, Params, SearchSpace, StopReason,
    Trial, TrialContext, TrialOutput, TrialStatus,
};
use crate::progress::Progress;
use crate::report::i18n::{plural, Lang};
use crate::results::{ArmResult, FidelityCheck, FidelityEntry, HpoRecord};
use crate::train::{self, Control, OptimizerKind, Recipe, RunOutcome, ScheduleKind, TrainOptions};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Spearman correlations below this between search-time and full-budget accuracy get a warning.
const LOW_FIDELITY_CORRELATION: f64 = 0.5;

/// Recipe fields a search space may set, with their types and ranges.
pub fn recipe_param_specs() -> Vec<ParamSpec> {
    let float = |name: &str, min: f64, max: f64| ParamSpec {
        name: name.into(),
        kind: ParamKind::Float {
            min,
            max,
            max_excluded: false,
        },
    };
    // [min, max): a momentum is below 1 (the trainer's own rule), as every uniform [0, 1] draw is.
    let float_below = |name: &str, min: f64, max: f64| ParamSpec {
        name: name.into(),
        kind: ParamKind::Float {
            min,
            max,
            max_excluded: true,
        },
    };
    let int = |name: &str, min: i64, max: i64| ParamSpec {
        name: name.into(),
        kind: ParamKind::Int { min, max },
    };
    let choice = |name: &str, values: &[&str]| ParamSpec {
        name: name.into(),
        kind: ParamKind::Choice(values.iter().map(|v| v.to_string()).collect()),
    };
    vec![
        float("initial_lr", 1e-12, 10.0),
        float_below("momentum", 0.0, 1.0),
        float("weight_decay", 0.0, 1.0),
        float("ending_lr", 0.0, 10.0),
        float("dropout", 0.0, 0.99),
        float("grad_clip", 0.0, 1e6),
        float("gamma", 1e-12, 1.0),
        int("width", 1, 65_536),
        int("batch_size", 1, 1_000_000),
        int("epochs", 1, 1_000_000),
        int("step_size", 1, 1_000_000),
        int("cutout", 0, 32),
        choice("optimizer", &OptimizerKind::NAMES),
        choice("schedule", &ScheduleKind::NAMES),
        choice("model", &crate::models::model_names()),
    ]
}

/// The recipe a parameter set describes. Nested choices (`{"_name": ..., sub: v}`) set the
/// field named by the choice key to `_name` and the sub-parameters by their own names, at any
/// depth.
pub fn apply_params(base: &Recipe, params: &Params) -> Result<Recipe, train::RecipeError> {
    let flat: Params = crate::hpo::space::flatten_params(params)
        .into_iter()
        .collect();
    base.with_overrides(&flat)
}

/// The warning a fidelity check gets. Decided once, here, from the check's numbers: the run
/// records it in English, and the Chinese report says it again from the recorded numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FidelityWarning {
    /// The retrained configurations had their full budget in the search already.
    RepeatedTrials,
    /// Two points are always in the same or the opposite order.
    TwoConfigurations,
    LowCorrelation(f64),
    Undefined,
}

impl FidelityWarning {
    /// The warning for a rank correlation `rho` over `ranked` configurations, None when it
    /// needs none.
    pub fn of(rho: Option<f64>, ranked: usize, search_was_full_budget: bool) -> Option<Self> {
        if search_was_full_budget {
            return Some(FidelityWarning::RepeatedTrials);
        }
        match rho {
            Some(_) if ranked == 2 => Some(FidelityWarning::TwoConfigurations),
            Some(r) if r < LOW_FIDELITY_CORRELATION => Some(FidelityWarning::LowCorrelation(r)),
            None => Some(FidelityWarning::Undefined),
            _ => None,
        }
    }

    /// The warning in `lang`, for trials searched `trial_epochs` epochs.
    pub fn text(self, lang: Lang, trial_epochs: usize) -> String {
        match (self, lang) {
            (FidelityWarning::RepeatedTrials, Lang::En) => format!(
                "the search already trained these configurations at their full budget \
                 ({trial_epochs} epochs, on the same data and seed): the full-budget runs repeat \
                 the trials, so the check says nothing about how short trials rank \
                 configurations; it does with trial_epochs below epochs"
            ),
            (FidelityWarning::RepeatedTrials, Lang::Zh) => format!(
                "搜索已经以全预算（{trial_epochs} 轮，同样的数据和种子）训练了这些配置：全预算运行\
                 只是重复这些 trial，所以这项检查不能说明短 trial 的排序是否可靠；trial_epochs \
                 小于 epochs 时才能"
            ),
            (FidelityWarning::TwoConfigurations, Lang::En) => {
                "with 2 configurations the rank correlation can only be +1 or -1: it says \
                 nothing about how well short trials rank them; raise retrain_top_k"
                    .into()
            }
            (FidelityWarning::TwoConfigurations, Lang::Zh) => {
                "只有 2 个配置时秩相关只能是 +1 或 −1，\
                 不能说明短 trial 的排序是否可靠；请增大 retrain_top_k"
                    .into()
            }
            (FidelityWarning::LowCorrelation(r), Lang::En) => format!(
                "low rank correlation ({r:.2}) between the {trial_epochs}-epoch search metric and \
                 the full-budget metric: short trials rank these configurations poorly; raise \
                 trial_epochs or retrain_top_k"
            ),
            (FidelityWarning::LowCorrelation(r), Lang::Zh) => format!(
                "{trial_epochs} 轮的搜索指标与全预算指标的秩相关较低（{r:.2}）：短 trial 对这些配置\
                 的排序不可靠；请增大 trial_epochs 或 retrain_top_k"
            ),
            (FidelityWarning::Undefined, Lang::En) => {
                "rank correlation undefined (ties or too few configurations)".into()
            }
            (FidelityWarning::Undefined, Lang::Zh) => "秩相关无定义（有并列值或配置太少）".into(),
        }
    }
}

/// The fidelity check's warning, in English, as the result records it.
fn fidelity_warning(
    rho: Option<f64>,
    ranked: usize,
    trial_epochs: usize,
    search_was_full_budget: bool,
) -> Option<String> {
    FidelityWarning::of(rho, ranked, search_was_full_budget).map(|w| w.text(Lang::En, trial_epochs))
}

/// Before anything runs: the validation split the trials are scored on must leave images on
/// both sides (and a training image per class), or every trial would be scored on nothing.
/// The suite checks this when it is read where the dataset's size is known in advance; this
/// covers the others (cifar10 with `train_limit`), before a result file exists.
pub fn check_validation_split(
    suite: &super::LoadedSuite,
    data: &Dataset,
) -> Result<(), super::SuiteError> {
    let Some(spec) = &suite.file.arms.tuned else {
        return Ok(());
    };
    let hpo = &spec.hpo;
    if hpo.metric != "val_acc" {
        return Ok(());
    }
    data.check_validation_split(hpo.validation_fraction)
        .map(drop)
        .map_err(|e| super::SuiteError::Parse {
            path: suite.path.display().to_string(),
            message: format!(
                "arms.tuned.hpo.validation_fraction: {}",
                crate::error_text::shown(&e)
            ),
        })
}

pub struct TunedContext<'a> {
    pub spec: &'a TunedArmSpec,
    pub space: &'a SearchSpace,
    pub space_path: String,
    pub dataset: &'a Dataset,
    pub seeds: &'a [u64],
    pub options: &'a TrainOptions,
    pub progress: &'a Progress,
    pub stop: &'a AtomicBool,
    /// Where finished trials and runs are journaled for `--resume` (None: not resumable).
    pub journal: Option<&'a Journal>,
}

/// Where trial `id` keeps its epoch checkpoint (also while paused for a promotion).
fn trial_key(id: usize) -> String {
    format!("tuned.trial-{id}")
}

/// The journal entry of the experiment's job number `job` (the trial's record after it).
fn job_key(job: usize) -> String {
    format!("tuned.job-{job}")
}

/// The journal entry holding the seconds the search had run when it journaled its latest
/// trial, over every session of a resumed run: replayed trials take no time, so without it a
/// resumed search's cost would count only its last session.
const SEARCH_SECONDS_KEY: &str = "tuned.search-seconds";

/// Before a resume writes anything: the checkpoint of each trial the journal has a record of
/// (one the assessor paused, to be continued later) is that trial's. Read only when the trial
/// is continued, one of another run (copied from another result's resume folder) would be
/// found after newer trials were journaled, leaving the folder changed.
pub fn check_trial_checkpoints(
    spec: &TunedArmSpec,
    dataset: &Dataset,
    journal: &Journal,
) -> anyhow::Result<()> {
    let hpo = &spec.hpo;
    let mut params_of: BTreeMap<usize, Params> = BTreeMap::new();
    for key in journal.keys("tuned.job-")? {
        if let Some(trial) = journal.get::<Trial>(&key)? {
            params_of.insert(trial.id, trial.params);
        }
    }
    let mut info = None;
    for (id, params) in params_of {
        let path = journal.checkpoint(&trial_key(id));
        // A recipe the parameters do not make failed its trial, which left no checkpoint.
        let (true, Ok(mut recipe)) = (path.exists(), apply_params(&spec.recipe, &params)) else {
            continue;
        };
        recipe.epochs = hpo.trial_epochs;
        // The data the trials train on, as `run_tuned_arm` splits it.
        if info.is_none() {
            info = Some(if hpo.metric == "val_acc" {
                dataset
                    .validation_split(hpo.validation_fraction, hpo.trial_seed)?
                    .info
            } else {
                dataset.info.clone()
            });
        }
        let data = info.as_ref().expect("set above");
        let fingerprint = train::run_fingerprint(&recipe, hpo.trial_seed, data)?;
        crate::checkpoint::check_of_run(&path, &fingerprint)?;
    }
    Ok(())
}

/// Runs the search and the full-budget retraining; `arm` is filled in as it goes and
/// `on_update` is called after the search and after each retrained seed (to save the file).
pub fn run_tuned_arm(
    ctx: &TunedContext,
    arm: &mut ArmResult,
    on_update: &mut dyn FnMut(&ArmResult) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let hpo = &ctx.spec.hpo;
    let direction = Direction::parse(&hpo.optimize_mode)
        .ok_or_else(|| anyhow::anyhow!("optimize_mode must be maximize or minimize"))?;
    let mut tuner = build_tuner(
        &hpo.tuner,
        ctx.space,
        direction,
        hpo.tuner_seed,
        &hpo.tuner_options,
    )?;
    let mut assessor = build_assessor(
        &hpo.assessor,
        direction,
        hpo.trial_epochs,
        &hpo.assessor_options,
    )?;
    // Trials are scored on a validation split unless the suite asks for the lab's practice.
    let search_data = if hpo.metric == "val_acc" {
        ctx.dataset
            .validation_split(hpo.validation_fraction, hpo.trial_seed)?
    } else {
        ctx.dataset.shallow_clone()
    };
    let shared_data = Mutex::new(search_data);
    let config = ExperimentConfig {
        max_trials: hpo.max_trials,
        max_duration_s: hpo.max_duration_s,
        max_trial_epochs: hpo.max_trial_epochs,
        trial_epochs: hpo.trial_epochs,
        concurrency: hpo.concurrency,
        direction,
    };
    let (journal, train_options) = (ctx.journal, ctx.options);
    let trial_fn = |trial: &TrialContext| -> anyhow::Result<TrialOutput> {
        if ctx.stop.load(Ordering::SeqCst) {
            anyhow::bail!("interrupted before the trial started");
        }
        let mut recipe = apply_params(&ctx.spec.recipe, &trial.params)?;
        recipe.epochs = hpo.trial_epochs;
        let data = shared_data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shallow_clone();
        let options = TrainOptions {
            isolated_rng: trial.concurrent,
            ..journal::train_options(journal, train_options, &trial_key(trial.id))
        };
        let outcome = train::train(&recipe, &data, hpo.trial_seed, &options, &mut |record| {
            if record.epoch > trial.continues_from {
                ctx.progress.epoch_done();
            }
            let decision = trial.report(record.test_acc);
            if decision == Decision::Stop || ctx.stop.load(Ordering::SeqCst) {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        // A damaged checkpoint (also a paused trial's) is the user's to delete, not a failed
        // trial: journaled as one, the resumed search would differ from the first.
        .map_err(|e| {
            if CorruptResumeState::in_chain(&e) {
                Abort(e).into()
            } else {
                e
            }
        })?;
        if ctx.stop.load(Ordering::SeqCst) && !trial.is_stopped() {
            // Ctrl-C, not the assessor: not a result (the checkpoint stays for --resume).
            return Err(Interrupted.into());
        }
        if let Some(epoch) = outcome.diverged_at_epoch {
            anyhow::bail!("diverged at epoch {epoch} (loss became NaN or infinite)");
        }
        let metric = outcome
            .final_test_acc
            .ok_or_else(|| anyhow::anyhow!("the trial finished no epoch"))?;
        Ok(TrialOutput {
            final_metric: metric,
            details: serde_json::to_value(&outcome.epochs)?,
        })
    };
    let progress = ctx.progress;
    // Jobs that came back from the journal: already recorded, so not written again. A resume
    // refused further on must leave the folder as it found it (the search's seconds too).
    let replayed = RefCell::new(BTreeSet::new());
    let finished = |job, id, params: &Params, from| -> anyhow::Result<Option<Trial>> {
        let Some(trial) = journal::finished::<Trial>(ctx.journal, &job_key(job))? else {
            return Ok(None);
        };
        // An entry of another job (copied under this job's name, or edited) would be redone
        // silently and overwritten: it is damaged resume state like any other. So would
        // another job of the same trial (a promoted trial has one per stretch): the record of
        // a trial that ran its full budget copied over its first stretch's replays it whole
        // there, and the search continues it again.
        let stretch = |from: usize| match from {
            0 => "its first stretch".to_string(),
            e => format!("its continuation from epoch {e}"),
        };
        let problem = if trial.id != id {
            Some(format!(
                "holds trial {}'s record, not trial {id}'s (job {job} of the search)",
                trial.id
            ))
        } else if trial.params != *params {
            Some(format!(
                "holds trial {id} with the parameters {}, not the search's {}",
                serde_json::Value::Object(trial.params.clone()),
                serde_json::Value::Object(params.clone())
            ))
        } else if trial.continued_from() != from {
            Some(format!(
                "holds trial {id}'s record after {}, not after {} (job {job} of the search: \
                 another job's entry of this trial copied here, or edited)",
                stretch(trial.continued_from()),
                stretch(from)
            ))
        } else {
            None
        };
        if let (Some(problem), Some(j)) = (problem, ctx.journal) {
            return Err(CorruptResumeState {
                path: j.entry(&job_key(job)),
                problem,
                advice: "delete it and resume again to redo this trial".into(),
            }
            .into());
        }
        replayed.borrow_mut().insert(job);
        Ok(Some(trial))
    };
    // A trial the assessor paused may be continued from its checkpoint; any other that ended
    // no longer needs one.
    let pauses = assessor.pauses();
    let drop_checkpoint = |id: usize| {
        if let Some(j) = ctx.journal {
            crate::checkpoint::remove(&j.checkpoint(&trial_key(id)));
        }
    };
    let mut journal_error = None;
    let seconds_before: f64 = journal::finished(ctx.journal, SEARCH_SECONDS_KEY)?.unwrap_or(0.0);
    let search_start = Instant::now();
    // Each trial as its latest finished stretch left it (replayed ones included), by id: what
    // an interrupted result file lists. A trial cut short by Ctrl-C is not in it.
    let mut finished_so_far: BTreeMap<usize, Trial> = BTreeMap::new();
    let outcome = run_experiment_resumable(
        &config,
        tuner.as_mut(),
        assessor.as_mut(),
        finished,
        trial_fn,
        |job, t| {
            // After Ctrl-C a trial that ends was cut short or never started: not a result, not
            // journaled (--resume runs it again), and not worth a FAILED line.
            if ctx.stop.load(Ordering::SeqCst) {
                return;
            }
            finished_so_far.insert(t.id, t.clone());
            let paused = pauses && t.status == TrialStatus::EarlyStopped;
            let journal = ctx.journal.filter(|_| !replayed.borrow().contains(&job));
            if let Some(j) = journal {
                let seconds = seconds_before + search_start.elapsed().as_secs_f64();
                if let Err(e) = j
                    .put(&job_key(job), t)
                    .and_then(|()| j.put(SEARCH_SECONDS_KEY, &seconds))
                {
                    journal_error.get_or_insert(e);
                }
                if !paused {
                    drop_checkpoint(t.id);
                }
            }
            let metric = t
                .final_metric
                .map_or("—".to_string(), |m| format!("{m:.4}"));
            let status = if paused { "PAUSED" } else { t.status.name() };
            progress.line(format!(
                "tuned    trial {:<3} {:<13} epoch {:<3} {} {:<6} {}",
                t.id,
                status,
                t.intermediate.len(),
                hpo.metric,
                metric,
                crate::hpo::space::params_summary(&t.params)
            ));
        },
    )?;
    let search_seconds = seconds_before + outcome.cost.seconds;
    if ctx.stop.load(Ordering::SeqCst) {
        // The file shows the search so far (perhaps no trial yet); the journal, and paused
        // trials' checkpoints, let --resume continue it.
        let mut trials: Vec<Trial> = finished_so_far.into_values().collect();
        if pauses {
            // Paused, not stopped: the search would have continued them.
            for t in &mut trials {
                if t.status == TrialStatus::EarlyStopped {
                    t.status = TrialStatus::Waiting;
                }
            }
        }
        let cost = Cost::of(&trials, search_seconds);
        let best = best_trial_of(&trials, direction);
        arm.hpo = Some(search_record(
            ctx,
            trials,
            best,
            cost,
            StopReason::Interrupted,
        ));
        return Err(Interrupted.into());
    }
    if pauses {
        // Trials still paused when the search ended will not be continued.
        (0..outcome.trials.len()).for_each(drop_checkpoint);
    }
    if let Some(e) = journal_error {
        return Err(e);
    }

    let best = outcome.best().cloned();
    let mut record = search_record(
        ctx,
        outcome.trials.clone(),
        outcome.best_trial,
        Cost {
            seconds: search_seconds,
            ..outcome.cost.clone()
        },
        outcome.stop_reason,
    );
    let Some(search_best) = best else {
        arm.hpo = Some(record);
        on_update(arm)?;
        anyhow::bail!(
            // Every place that shows it names the arm already ("tuned arm failed: …").
            "every trial failed ({} trials); see the trial errors in the result file",
            outcome.trials.len()
        );
    };

    // Final rung (retrain_top_k > 1): the top k configurations of the search are trained at the
    // full budget on the search data (still the validation split: the test set stays out of
    // selection), the best of them is chosen, and the rank correlation between search-budget and
    // full-budget metric says how far the short trials can be trusted.
    // Summed from the runs' own times, which a resumed run keeps (a replayed run takes none).
    let mut retrain_seconds = 0.0;
    // Stopped during the retraining below, the file keeps the finished search.
    arm.hpo = Some(record.clone());
    let mut chosen_id = search_best.id;
    if hpo.retrain_top_k > 1 {
        let mut ranked: Vec<_> = outcome
            .trials
            .iter()
            .filter(|t| t.status == TrialStatus::Succeeded && t.final_metric.is_some())
            .collect();
        ranked.sort_by(|a, b| {
            let (x, y) = (
                direction.loss(a.final_metric),
                direction.loss(b.final_metric),
            );
            x.total_cmp(&y).then(a.id.cmp(&b.id))
        });
        if ranked.len() < hpo.retrain_top_k {
            progress.line(format!(
                "tuned    retrain_top_k = {}, but only {} completed: retraining {} \
                 (early-stopped and failed trials are not candidates)",
                hpo.retrain_top_k,
                match ranked.len() {
                    1 => "1 trial".to_string(),
                    n => format!("{n} trials"),
                },
                match ranked.len() {
                    1 => "it".to_string(),
                    n => format!("those {n}"),
                }
            ));
        }
        let search_data = shared_data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shallow_clone();
        let mut entries = Vec::new();
        let mut search_was_full_budget = true;
        for trial in ranked.into_iter().take(hpo.retrain_top_k) {
            let recipe = apply_params(&ctx.spec.recipe, &trial.params)?;
            search_was_full_budget &= recipe.epochs == hpo.trial_epochs;
            let key = format!("tuned.full-budget.trial-{}", trial.id);
            let run = train_full(&recipe, ctx, &search_data, hpo.trial_seed, key)?;
            retrain_seconds += run.wall_seconds;
            progress.line(format!(
                "tuned    trial {:<3} full-budget {} {}",
                trial.id,
                hpo.metric,
                run.final_test_acc
                    .map_or("diverged".into(), |a| format!("{a:.4}"))
            ));
            entries.push(FidelityEntry {
                trial_id: trial.id,
                search_metric: trial.final_metric.unwrap_or(0.0),
                full_budget_metric: run.final_test_acc,
                full_budget_test_acc: None,
            });
        }
        // Ties keep the better search rank (entries are in search order).
        if let Some(best_full) = entries
            .iter()
            .filter(|e| e.full_budget_metric.is_some())
            .min_by(|a, b| {
                direction
                    .loss(a.full_budget_metric)
                    .total_cmp(&direction.loss(b.full_budget_metric))
            })
        {
            chosen_id = best_full.trial_id;
        }
        let (xs, ys): (Vec<f64>, Vec<f64>) = entries
            .iter()
            .filter_map(|e| e.full_budget_metric.map(|m| (e.search_metric, m)))
            .unzip();
        let rho = spearman(&xs, &ys);
        let warning = fidelity_warning(rho, xs.len(), hpo.trial_epochs, search_was_full_budget);
        record.fidelity = Some(FidelityCheck {
            seed: hpo.trial_seed,
            retrain_top_k: Some(hpo.retrain_top_k),
            entries,
            spearman: rho,
            warning,
            search_was_full_budget,
        });
    }
    let chosen_trial = outcome
        .trials
        .iter()
        .find(|t| t.id == chosen_id)
        .expect("the chosen trial is one of the trials");
    record.chosen_trial = Some(chosen_id);
    record.chosen_params = Some(chosen_trial.params.clone());
    let chosen = apply_params(&ctx.spec.recipe, &chosen_trial.params)?;
    arm.definition = serde_json::json!({
        "description": ctx.spec.description,
        "base_recipe": ctx.spec.recipe,
        "hpo": ctx.spec.hpo,
        "chosen_recipe": chosen,
    });
    arm.hyperparameters = chosen.summary_pairs();
    let how = chosen_by(Lang::En, &record, chosen_id, hpo.retrain_top_k);
    arm.hyperparameters.push(("chosen by".into(), how));
    record.retrain_seconds = retrain_seconds;
    arm.hpo = Some(record.clone());
    on_update(arm)?;

    // The arm's result: the chosen configuration at the full budget over the suite's seeds,
    // trained on the whole training set and measured on the test set.
    for &seed in ctx.seeds {
        let run = train_full(
            &chosen,
            ctx,
            ctx.dataset,
            seed,
            format!("tuned.seed-{seed}"),
        )?;
        progress.line(format!(
            "tuned    seed {seed:<4} full-budget test acc {}",
            run.final_test_acc
                .map_or("diverged".into(), |a| format!("{a:.4}"))
        ));
        retrain_seconds += run.wall_seconds;
        arm.runs.push(run);
        arm.summarize();
        record.retrain_seconds = retrain_seconds;
        arm.hpo = Some(record.clone());
        on_update(arm)?;
    }
    Ok(())
}

/// The "chosen by" pair's value: how `record`'s search chose trial `chosen_id` (the best of
/// `top_k` retrained at the full budget when `top_k` > 1), in `lang`. The run stores it in
/// English and the report says it again in its own language, from this one wording so that
/// the two cannot drift.
pub fn chosen_by(lang: Lang, record: &HpoRecord, chosen_id: usize, top_k: usize) -> String {
    let (tuner, assessor, n, e, metric) = (
        &record.tuner,
        &record.assessor,
        record.trials.len(),
        record.trial_epochs,
        &record.metric,
    );
    // Fewer are retrained when fewer trials completed: the number retrained, k beside it.
    let retrained = record.fidelity.as_ref().map(|f| f.entries.len());
    let (top, asked) = match retrained {
        Some(r) if r < top_k => (r, Some(top_k)),
        _ => (top_k, None),
    };
    match lang {
        Lang::En => {
            let top = if top_k > 1 {
                let asked = asked
                    .map(|k| format!(" (retrain_top_k = {k})"))
                    .unwrap_or_default();
                format!(", best of the top {top}{asked} at the full budget")
            } else {
                String::new()
            };
            format!(
                "{tuner} + {assessor} over {} of up to {}{top} on {metric} (trial {chosen_id})",
                plural(n, "trial"),
                plural(e, "epoch")
            )
        }
        Lang::Zh => {
            let top = if top_k > 1 {
                let asked = asked
                    .map(|k| format!("（retrain_top_k = {k}）"))
                    .unwrap_or_default();
                format!("，搜索最好的 {top} 个{asked}以全预算重训后取最好者")
            } else {
                String::new()
            };
            format!(
                "{tuner} + {assessor}，{n} 个 trial（每个至多 {e} 轮）{top}，按 {metric} 选出（trial {chosen_id}）"
            )
        }
    }
}

/// The search's record before a configuration is chosen (no fidelity check, no retraining).
fn search_record(
    ctx: &TunedContext,
    trials: Vec<Trial>,
    best_trial: Option<usize>,
    search_cost: Cost,
    stop_reason: StopReason,
) -> HpoRecord {
    let hpo = &ctx.spec.hpo;
    HpoRecord {
        search_space_path: ctx.space_path.clone(),
        search_space: ctx.space.document.clone(),
        tuner: hpo.tuner.clone(),
        tuner_options: hpo.tuner_options.clone(),
        tuner_seed: hpo.tuner_seed,
        assessor: hpo.assessor.clone(),
        assessor_options: hpo.assessor_options.clone(),
        optimize_mode: hpo.optimize_mode.clone(),
        metric: hpo.metric.clone(),
        trial_epochs: hpo.trial_epochs,
        max_trials: hpo.max_trials,
        max_trial_epochs: hpo.max_trial_epochs,
        concurrency: hpo.concurrency,
        trials,
        best_trial,
        chosen_trial: None,
        chosen_params: None,
        search_cost,
        stop_reason,
        fidelity: None,
        retrain_seconds: 0.0,
    }
}

fn train_full(
    recipe: &Recipe,
    ctx: &TunedContext,
    data: &Dataset,
    seed: u64,
    key: String,
) -> anyhow::Result<RunOutcome> {
    let unit = TrainUnit {
        journal: ctx.journal,
        key,
        options: ctx.options,
        stop: ctx.stop,
    };
    unit.train(recipe, data, seed, &mut |_| ctx.progress.epoch_done())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fidelity warning: low correlation, undefined, and two configurations, whose
    /// correlation is ±1 whatever short trials do.
    #[test]
    fn two_configurations_are_too_few_for_a_rank_correlation() {
        let two = fidelity_warning(Some(1.0), 2, 5, false).unwrap();
        assert!(two.starts_with("with 2 configurations the rank correlation can only be"));
        assert!(fidelity_warning(Some(-1.0), 2, 5, false)
            .unwrap()
            .contains("raise retrain_top_k"));
        assert_eq!(fidelity_warning(Some(0.8), 3, 5, false), None);
        let low = fidelity_warning(Some(0.1), 4, 5, false).unwrap();
        assert!(
            low.starts_with("low rank correlation (0.10) between the 5-epoch"),
            "{low}"
        );
        assert!(fidelity_warning(None, 1, 5, false)
            .unwrap()
            .contains("undefined"));
        // Equal budgets: whatever the correlation, the check measured nothing.
        for rho in [Some(1.0), Some(0.1), None] {
            let same = fidelity_warning(rho, 3, 4, true).unwrap();
            assert!(
                same.starts_with("the search already trained these configurations at their full budget (4 epochs"),
                "{same}"
            );
        }
    }

    /// NNI's quickstart searches `momentum` over `uniform [0, 1]`: its draws stay below 1, so
    /// the space is a momentum's; a range or value that reaches 1 is not.
    #[test]
    fn a_momentum_space_reaching_up_to_one_exclusive_is_accepted() {
        let check = |spec: &str| {
            let text = format!(r#"{{"momentum": {spec}}}"#);
            crate::hpo::space::SearchSpace::from_json_str(&text, "s.json")
                .unwrap()
                .check_params(&recipe_param_specs())
                .map_err(|e| e.to_string())
        };
        assert_eq!(check(r#"{"_type": "uniform", "_value": [0, 1]}"#), Ok(()));
        assert_eq!(
            check(r#"{"_type": "loguniform", "_value": [0.5, 1]}"#),
            Ok(())
        );
        for (spec, what) in [
            (
                r#"{"_type": "quniform", "_value": [0, 1, 0.1]}"#,
                "quniform range [0, 1]",
            ),
            (
                r#"{"_type": "choice", "_value": [0.9, 1.0]}"#,
                "choice value 1.0",
            ),
            (
                r#"{"_type": "normal", "_value": [1, 0.1]}"#,
                "normal centred at 1",
            ),
            (
                r#"{"_type": "uniform", "_value": [0, 1.5]}"#,
                "uniform range [0, 1.5]",
            ),
        ] {
            assert_eq!(
                check(spec),
                Err(format!(
                    "s.json: key \"momentum\": {what} is outside the allowed range [0, 1)"
                ))
            );
        }
    }

    /// The run stores "chosen by" with the report's wording: one trial of one epoch (e.g.
    /// `--epochs 1`) in the singular, the top-k retraining as before.
    #[test]
    fn chosen_by_says_one_trial_of_one_epoch_in_the_singular() {
        use crate::report::fixture::{search, trial};
        let mut one = search(
            vec![trial(0, TrialStatus::Succeeded, &[0.5], vec![])],
            Some(0),
        );
        one.trial_epochs = 1;
        assert_eq!(
            chosen_by(Lang::En, &one, 0, 1),
            "tpe + asha over 1 trial of up to 1 epoch on val_acc (trial 0)"
        );
        let three = search(
            (0..3)
                .map(|i| trial(i, TrialStatus::Succeeded, &[0.5; 4], vec![]))
                .collect(),
            Some(2),
        );
        assert_eq!(
            chosen_by(Lang::En, &three, 2, 2),
            "tpe + asha over 3 trials of up to 4 epochs, best of the top 2 at the full budget \
             on val_acc (trial 2)"
        );
        assert_eq!(
            chosen_by(Lang::Zh, &one, 0, 1),
            "tpe + asha，1 个 trial（每个至多 1 轮），按 val_acc 选出（trial 0）"
        );
    }

    fn base() -> Recipe {
        serde_json::from_value(serde_json::json!({
            "model": "mlp", "optimizer": "sgd", "initial_lr": 0.1, "epochs": 3, "batch_size": 32
        }))
        .unwrap()
    }

    #[test]
    fn params_map_onto_recipe_fields_including_nested_choices() {
        let params: Params = serde_json::from_value(serde_json::json!({
            "initial_lr": 0.01,
            "optimizer": {"_name": "sgd", "momentum": 0.8},
            "batch_size": 64
        }))
        .unwrap();
        let r = apply_params(&base(), &params).unwrap();
        assert_eq!(r.initial_lr, 0.01);
        assert_eq!(r.optimizer, OptimizerKind::Sgd);
        assert_eq!(r.momentum, 0.8);
        assert_eq!(r.batch_size, 64);
    }

    #[test]
    fn nested_choices_map_at_any_depth() {
        let params: Params = serde_json::from_value(serde_json::json!({
            "optimizer": {"_name": "sgd", "momentum": 0.7,
                          "schedule": {"_name": "step", "step_size": 2, "gamma": 0.5}}
        }))
        .unwrap();
        let r = apply_params(&base(), &params).unwrap();
        assert_eq!(r.optimizer, OptimizerKind::Sgd);
        assert_eq!(r.momentum, 0.7);
        assert_eq!(r.schedule, crate::train::ScheduleKind::Step);
        assert_eq!((r.step_size, r.gamma), (2, 0.5));
    }

    #[test]
    fn the_lab_search_space_with_its_invalid_grad_clip_is_rejected_by_key() {
        let text = r#"{"initial_lr": {"_type": "loguniform", "_value": [1e-4, 0.1]},
                       "grad_clip": {"_type": "loguniform", "_value": [0.0, 5.0]}}"#;
        let space = SearchSpace::from_json_str(text, "search_space.json");
        let e = match space {
            Err(e) => e.to_string(),
            Ok(s) => s
                .check_params(&recipe_param_specs())
                .unwrap_err()
                .to_string(),
        };
        assert!(
            e.contains("search_space.json") && e.contains("grad_clip"),
            "{e}"
        );
    }

    #[test]
    fn unknown_parameter_and_wrong_type_are_rejected() {
        let unknown = SearchSpace::from_json_str(
            r#"{"learning_rate": {"_type": "uniform", "_value": [0.1, 0.2]}}"#,
            "s.json",
        )
        .unwrap();
        let e = unknown
            .check_params(&recipe_param_specs())
            .unwrap_err()
            .to_string();
        assert!(e.contains("learning_rate"), "{e}");
        let wrong = SearchSpace::from_json_str(
            r#"{"batch_size": {"_type": "choice", "_value": ["big", "small"]}}"#,
            "s.json",
        )
        .unwrap();
        let e = wrong
            .check_params(&recipe_param_specs())
            .unwrap_err()
            .to_string();
        assert!(e.contains("batch_size"), "{e}");
    }
}
