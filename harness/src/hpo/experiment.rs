//! The experiment loop: propose → run (possibly in parallel) → assess per epoch → observe.
//!
//! Reproducibility: trials run in batches of `concurrency`. A batch is proposed in full
//! before any of it runs, and after the whole batch has finished its results are fed to the
//! tuner (and to `on_trial_end`) in job order. So the proposals depend only on the tuner
//! seed and the trial results, never on thread timing. With `concurrency > 1` the trials of a
//! batch do not see each other's epochs either: each decides on its own copy of the assessor
//! as the batch found it ([`crate::hpo::assessor::Snapshot`]), the assessor learns the
//! batch's curves afterwards, in job order (as a resumed search replays them), and the trial
//! fn is told to keep its randomness to itself ([`TrialContext::concurrent`]). A search with
//! the same settings then makes the same proposals and decisions on every run, whichever
//! trial got to an epoch first; only a time limit (`max_duration_s`) depends on the clock.
//!
//! With an assessor that pauses trials (ASHA `type = "promotion"`), the loop asks it for a
//! paused trial to continue before it proposes a new one, and once no new trial may start it
//! keeps continuing paused trials until the assessor has none to promote. A trial is one record
//! however often it was paused: `paused_at` lists the epochs it waited at, and its status is
//! that of its last segment (EARLY_STOPPED = paused and never continued).
//!
//! A trial-epoch budget (`max_trial_epochs`) is handed out when a batch starts: each job, in
//! job order, may train what is left of the budget after the jobs before it, up to its full
//! budget. A job that reaches its share is stopped there (EARLY_STOPPED, unless that was its
//! last epoch), and no job starts without a share. With `concurrency == 1` that is "the trial
//! whose epoch spends the budget is stopped there"; with more, the later jobs of the last
//! batch get less, and the search never overshoots.
//!
//! A time limit (`max_duration_s`) stops the running trials after the epoch in which it
//! passes (EARLY_STOPPED, unless that was their last epoch) and starts nothing after it.
//!
//! A trial fn that returns an [`Abort`] ends the whole experiment with the error it wraps
//! (its trial's saved state is damaged: no later trial could be trusted to continue the
//! search as before), and so does an error of `finished`.
//!
//! Statuses: `Succeeded` = the trial fn returned Ok without ever being told to stop (ran its
//! full budget); `EarlyStopped` = some `report` returned Stop (the trial's own final metric
//! is ignored; `final_metric` = its last intermediate value, the value the tuner observes, as
//! NNI up to 2.x did with `includeIntermediateResults: true`; NNI 3.0's tuners are never told
//! it: TPE and Anneal forget the trial, Evolution replaces it as if it had failed); `Failed` =
//! Err, panic, or a non-finite final metric (the tuner observes None).
//! The best trial is chosen among `Succeeded` trials only: an early-stopped trial's metric is
//! a lower-fidelity number and is not comparable to full-budget ones. Only when no trial
//! completed is it the best of the early-stopped trials that ran the most epochs.

use crate::hpo::assessor::{Assessor, Decision};
use crate::hpo::space::Params;
use crate::hpo::tuner::{Direction, Tuner};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrialStatus {
    Waiting,
    Running,
    Succeeded,
    Failed,
    EarlyStopped,
}

impl Trial {
    /// The epoch this record's last stretch started from: 0 for a trial run in one go (or the
    /// record of its first stretch), else the epoch it was last paused at and continued from.
    pub fn continued_from(&self) -> usize {
        self.paused_at.last().copied().unwrap_or(0)
    }
}

impl TrialStatus {
    /// NNI's name, as in the result file: `EARLY_STOPPED`.
    pub fn name(self) -> &'static str {
        match self {
            TrialStatus::Waiting => "WAITING",
            TrialStatus::Running => "RUNNING",
            TrialStatus::Succeeded => "SUCCEEDED",
            TrialStatus::Failed => "FAILED",
            TrialStatus::EarlyStopped => "EARLY_STOPPED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub id: usize,
    pub params: Params,
    pub status: TrialStatus,
    /// One metric per reported epoch (epochs after a Stop are not recorded).
    pub intermediate: Vec<f64>,
    pub final_metric: Option<f64>,
    /// Epoch (1-based) at which the assessor said Stop.
    pub stopped_at_epoch: Option<usize>,
    /// Epochs at which a promotion-style assessor paused this trial and later continued it
    /// (empty: it ran in one go).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paused_at: Vec<usize>,
    pub error: Option<String>,
    /// RFC 3339 UTC.
    pub start: Option<String>,
    pub end: Option<String>,
    pub duration_s: f64,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentConfig {
    pub max_trials: usize,
    /// No new batch of trials starts after this many seconds (running ones finish).
    pub max_duration_s: Option<f64>,
    /// Search budget in trial-epochs (every epoch any trial trains counts once; a continued
    /// trial's restored epochs do not count again). The trial running when it is spent is
    /// stopped after that epoch, and nothing starts after it. Unlike `max_duration_s` it ends
    /// the search at the same point on every machine.
    pub max_trial_epochs: Option<usize>,
    /// Epochs of a full-budget trial: a trial is never cut at its last epoch (it completed).
    pub trial_epochs: usize,
    /// Trials run at once (0 is treated as 1).
    pub concurrency: usize,
    /// Used to pick the best trial (tuner and assessor carry their own copy).
    pub direction: Direction,
}

/// What a trial fn returns when it ran to the end (or returned early after a Stop).
#[derive(Debug, Clone, PartialEq)]
pub struct TrialOutput {
    pub final_metric: f64,
    pub details: serde_json::Value,
}

#[derive(Default)]
struct CtxState {
    history: Vec<f64>,
    stopped_at: Option<usize>,
}

/// Handed to the trial fn: its id, parameters, and the per-epoch reporting channel.
pub struct TrialContext<'a> {
    pub id: usize,
    pub params: Params,
    /// Epochs this trial had finished before this run of it (a promoted trial continues
    /// after them; it reports them again first).
    pub continues_from: usize,
    /// Other trials run at the same time (`concurrency > 1`): the trial fn must not let them
    /// draw from its random generator (libtorch's is one per process), or its curve depends
    /// on their timing.
    pub concurrent: bool,
    assess: &'a (dyn Fn(usize, &[f64]) -> Decision + Sync + 'a),
    state: Mutex<CtxState>,
}

impl TrialContext<'_> {
    /// Report the metric of the next epoch (call once per epoch). Returns Stop when the
    /// assessor stops the trial; the trial fn should then return early (its Ok result is
    /// kept for `details`). After a Stop, further reports are ignored and return Stop.
    pub fn report(&self, metric: f64) -> Decision {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.stopped_at.is_some() {
            return Decision::Stop;
        }
        st.history.push(metric);
        let d = (self.assess)(self.id, &st.history);
        if d == Decision::Stop {
            st.stopped_at = Some(st.history.len());
        }
        d
    }

    /// Whether the assessor has stopped this trial.
    pub fn is_stopped(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stopped_at
            .is_some()
    }

    /// Metrics reported so far.
    pub fn intermediate(&self) -> Vec<f64> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .history
            .clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    MaxTrials,
    MaxDuration,
    MaxTrialEpochs,
    TunerExhausted,
    /// The harness run was stopped (Ctrl-C / SIGTERM) during the search: the record holds the
    /// trials finished so far and no chosen configuration (`--resume` continues the search).
    /// Set by the suite runner; the loop itself never stops for this reason.
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub trials: usize,
    /// Sum of intermediate lengths (epochs actually trained and reported).
    pub trial_epochs: usize,
    pub seconds: f64,
}

impl Cost {
    /// The cost of these trials, which took `seconds` in all.
    pub fn of(trials: &[Trial], seconds: f64) -> Cost {
        Cost {
            trials: trials.len(),
            trial_epochs: epochs_trained(trials),
            seconds,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentOutcome {
    /// In id order.
    pub trials: Vec<Trial>,
    /// Best SUCCEEDED trial per the config's direction (ties: lowest id); when none
    /// completed, the best of the early-stopped trials that ran the most epochs.
    pub best_trial: Option<usize>,
    pub cost: Cost,
    pub stop_reason: StopReason,
}

impl ExperimentOutcome {
    pub fn best(&self) -> Option<&Trial> {
        self.best_trial
            .and_then(|id| self.trials.iter().find(|t| t.id == id))
    }
}

/// Returned by a trial fn: ends the experiment with this error instead of failing the trial.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct Abort(pub anyhow::Error);

/// What bounds one job of the loop besides its assessor.
struct JobLimits {
    /// Epochs this job may train (its share of `max_trial_epochs`); epochs a continued trial
    /// restores from its checkpoint do not count.
    allowance: Option<usize>,
    /// When `max_duration_s` is up.
    deadline: Option<Instant>,
    /// Epochs of a full-budget trial: a trial is never cut at its last epoch.
    trial_epochs: usize,
    concurrent: bool,
}

/// An assessor the worker threads share: the loop's own, or a concurrent job's copy.
trait SharedAssessor: Sync {
    fn assess(&self, trial_id: usize, history: &[f64]) -> Decision;
    fn trial_end(&self, trial_id: usize, history: &[f64], completed: bool);
}

impl<A: std::ops::DerefMut<Target = D> + Send, D: Assessor + ?Sized> SharedAssessor for Mutex<A> {
    fn assess(&self, trial_id: usize, history: &[f64]) -> Decision {
        self.lock()
            .unwrap_or_else(|e| e.into_inner())
            .assess(trial_id, history)
    }
    fn trial_end(&self, trial_id: usize, history: &[f64], completed: bool) {
        self.lock()
            .unwrap_or_else(|e| e.into_inner())
            .trial_end(trial_id, history, completed)
    }
}

/// Feeds a finished job's curve to `assessor` as if it had run live (a journaled job on
/// resume; with `concurrency > 1`, every job of a batch once the batch is done).
fn replay(assessor: &mut dyn Assessor, t: &Trial) {
    for k in 1..=t.intermediate.len() {
        assessor.assess(t.id, &t.intermediate[..k]);
    }
    assessor.trial_end(t.id, &t.intermediate, t.status == TrialStatus::Succeeded);
}

fn run_one<F>(
    id: usize,
    params: Params,
    continues_from: usize,
    limits: &JobLimits,
    trial_fn: &F,
    assessor: &dyn SharedAssessor,
) -> anyhow::Result<Trial>
where
    F: Fn(&TrialContext) -> anyhow::Result<TrialOutput> + Sync,
{
    let start = now_rfc3339();
    let t0 = Instant::now();
    let assess = |tid: usize, h: &[f64]| {
        let decision = assessor.assess(tid, h);
        // Replayed epochs of a continued trial were paid for when they were first trained.
        let new_epochs = h.len().saturating_sub(continues_from);
        let out_of_budget = limits.allowance.is_some_and(|a| new_epochs >= a);
        let out_of_time = limits.deadline.is_some_and(|d| Instant::now() >= d);
        if new_epochs > 0 && h.len() < limits.trial_epochs && (out_of_budget || out_of_time) {
            Decision::Stop
        } else {
            decision
        }
    };
    let ctx = TrialContext {
        id,
        params,
        continues_from,
        concurrent: limits.concurrent,
        assess: &assess,
        state: Mutex::new(CtxState::default()),
    };
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| trial_fn(&ctx)));
    let TrialContext { params, state, .. } = ctx;
    let st = state.into_inner().unwrap_or_else(|e| e.into_inner());
    let (status, final_metric, error, details, stopped_at) = match res {
        Ok(Ok(out)) => match st.stopped_at {
            Some(e) => (
                TrialStatus::EarlyStopped,
                st.history.last().copied(),
                None,
                out.details,
                Some(e),
            ),
            None if out.final_metric.is_finite() => (
                TrialStatus::Succeeded,
                Some(out.final_metric),
                None,
                out.details,
                None,
            ),
            None => (
                TrialStatus::Failed,
                None,
                Some(format!(
                    "trial returned a non-finite final metric ({})",
                    out.final_metric
                )),
                out.details,
                None,
            ),
        },
        Ok(Err(e)) => match e.downcast::<Abort>() {
            Ok(Abort(e)) => return Err(e),
            Err(e) => (
                TrialStatus::Failed,
                None,
                Some(crate::error_text::shown(&e)),
                serde_json::Value::Null,
                None,
            ),
        },
        Err(p) => (
            TrialStatus::Failed,
            None,
            Some(format!(
                "trial panicked: {}",
                crate::panics::message(p.as_ref())
            )),
            serde_json::Value::Null,
            None,
        ),
    };
    assessor.trial_end(id, &st.history, status == TrialStatus::Succeeded);
    Ok(Trial {
        id,
        params,
        status,
        intermediate: st.history,
        final_metric,
        stopped_at_epoch: stopped_at,
        paused_at: Vec::new(),
        error,
        start: Some(start),
        end: Some(now_rfc3339()),
        duration_s: t0.elapsed().as_secs_f64(),
        details,
    })
}

/// Run an experiment. See the module docs for ordering and reproducibility guarantees.
pub fn run_experiment<F>(
    config: &ExperimentConfig,
    tuner: &mut dyn Tuner,
    assessor: &mut dyn Assessor,
    trial_fn: F,
    mut on_trial_end: impl FnMut(&Trial),
) -> anyhow::Result<ExperimentOutcome>
where
    F: Fn(&TrialContext) -> anyhow::Result<TrialOutput> + Sync,
{
    run_experiment_resumable(
        config,
        tuner,
        assessor,
        |_, _, _, _| Ok(None),
        trial_fn,
        |_, t| on_trial_end(t),
    )
}

/// A unit of work of the loop: a new trial, or a paused trial continued (promoted).
enum Job {
    New(usize, Params),
    Continue(usize),
}

/// Trial `id`'s record after a continuation `segment` (which reported its curve from epoch 1
/// again, the restored epochs included).
fn merge_continuation(before: &Trial, segment: Trial) -> Trial {
    let mut paused_at = before.paused_at.clone();
    paused_at.push(before.intermediate.len());
    let intermediate = if segment.intermediate.len() >= before.intermediate.len() {
        segment.intermediate
    } else {
        before.intermediate.clone() // failed before it had replayed its earlier epochs
    };
    Trial {
        intermediate,
        paused_at,
        start: before.start.clone(),
        duration_s: before.duration_s + segment.duration_s,
        ..segment
    }
}

/// [`run_experiment`] continuing an earlier, interrupted experiment.
///
/// Work is a sequence of jobs: a new trial, or — with an assessor that pauses trials
/// ([`Assessor::pauses`]) — a paused trial continued. `finished(job, trial_id, params, from)`
/// returns the trial as the earlier run left it after job number `job` (when it is that
/// trial with these parameters, continued from epoch `from`: 0 for a new trial, else the
/// epochs earlier jobs ran, which the record's [`Trial::continued_from`] says); its error ends
/// the experiment. Such a job is not run again: its curve is fed to the assessor and its
/// metric to the tuner exactly as a live one, so the resumed experiment proposes, stops,
/// promotes and ends exactly like an uninterrupted one (with `concurrency > 1` too: a batch's
/// jobs decide on copies of the assessor taken before any of them is replayed).
/// `on_trial_end(job, trial)` sees the trial's record after each job.
///
/// A continued trial's trial fn runs again with the same id and parameters; it must report
/// every epoch from the first again (the suite's trainer continues from the checkpoint it
/// wrote when it paused and replays the restored epochs), and the record keeps one curve.
pub fn run_experiment_resumable<F>(
    config: &ExperimentConfig,
    tuner: &mut dyn Tuner,
    assessor: &mut dyn Assessor,
    finished: impl Fn(usize, usize, &Params, usize) -> anyhow::Result<Option<Trial>>,
    trial_fn: F,
    mut on_trial_end: impl FnMut(usize, &Trial),
) -> anyhow::Result<ExperimentOutcome>
where
    F: Fn(&TrialContext) -> anyhow::Result<TrialOutput> + Sync,
{
    let t0 = Instant::now();
    let deadline = config
        .max_duration_s
        .and_then(|d| std::time::Duration::try_from_secs_f64(d).ok())
        .and_then(|d| t0.checked_add(d));
    let concurrency = config.concurrency.max(1);
    let concurrent = concurrency > 1;
    let assessor = Mutex::new(assessor);
    // Indexed by trial id (ids are handed out in order).
    let mut trials: Vec<Trial> = Vec::new();
    let mut next_id = 0;
    let mut next_job = 0;
    let mut exhausted = false;
    let stop_reason = loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break StopReason::MaxDuration;
        }
        // Trial-epochs of the budget not yet handed to a job.
        let mut unallocated = config
            .max_trial_epochs
            .map(|b| b.saturating_sub(epochs_trained(&trials)));
        if unallocated == Some(0) {
            break StopReason::MaxTrialEpochs;
        }
        let mut jobs = Vec::with_capacity(concurrency);
        {
            let mut a = assessor.lock().unwrap_or_else(|e| e.into_inner());
            while jobs.len() < concurrency && unallocated != Some(0) {
                let finishing = exhausted || next_id >= config.max_trials;
                let job = if let Some(id) = a.next_promotion(finishing) {
                    Job::Continue(id)
                } else if finishing {
                    break;
                } else if let Some(p) = tuner.propose(next_id) {
                    next_id += 1;
                    Job::New(next_id - 1, p)
                } else {
                    exhausted = true;
                    continue;
                };
                let trained = match &job {
                    Job::New(..) => 0,
                    Job::Continue(id) => trials[*id].intermediate.len(),
                };
                let allowance =
                    unallocated.map(|u| u.min(config.trial_epochs.saturating_sub(trained)));
                if let (Some(u), Some(share)) = (unallocated.as_mut(), allowance) {
                    *u -= share;
                }
                jobs.push((job, allowance));
            }
        }
        if jobs.is_empty() {
            break if exhausted {
                StopReason::TunerExhausted
            } else {
                StopReason::MaxTrials
            };
        }
        // (job number, trial id, parameters, epochs the trial has already run, its limits)
        let jobs: Vec<(usize, usize, Params, usize, JobLimits)> = jobs
            .into_iter()
            .map(|(job, allowance)| {
                let number = next_job;
                next_job += 1;
                let limits = JobLimits {
                    allowance,
                    deadline,
                    trial_epochs: config.trial_epochs,
                    concurrent,
                };
                match job {
                    Job::New(id, p) => (number, id, p, 0, limits),
                    Job::Continue(id) => {
                        let t = &trials[id];
                        (number, id, t.params.clone(), t.intermediate.len(), limits)
                    }
                }
            })
            .collect();
        // Concurrent jobs decide on copies of the assessor as the batch found it, taken before
        // any journaled job of the batch is replayed into it: a resumed batch decides as the
        // uninterrupted one did.
        let copies: Vec<Mutex<Box<dyn Assessor>>> = if concurrent {
            let a = assessor.lock().unwrap_or_else(|e| e.into_inner());
            jobs.iter().map(|_| Mutex::new(a.snapshot())).collect()
        } else {
            Vec::new()
        };
        // Jobs the earlier run finished are not run again.
        let mut done: Vec<(usize, Trial)> = Vec::new();
        let mut to_run = Vec::new();
        for (slot, (job, id, params, from, limits)) in jobs.into_iter().enumerate() {
            match finished(job, id, &params, from)? {
                Some(t) => {
                    if !concurrent {
                        replay(
                            &mut **assessor.lock().unwrap_or_else(|e| e.into_inner()),
                            &t,
                        );
                    }
                    done.push((job, t));
                }
                None => to_run.push((slot, job, id, params, from, limits)),
            }
        }
        let assessor_of = |slot: usize| -> &dyn SharedAssessor {
            match copies.get(slot) {
                Some(copy) => copy,
                None => &assessor,
            }
        };
        let ran: Vec<(usize, anyhow::Result<Trial>)> = if to_run.len() <= 1 {
            to_run
                .into_iter()
                .map(|(slot, job, id, p, from, limits)| {
                    let asr = assessor_of(slot);
                    (job, run_one(id, p, from, &limits, &trial_fn, asr))
                })
                .collect()
        } else {
            let (tf, assessor_of) = (&trial_fn, &assessor_of);
            std::thread::scope(|s| {
                let handles: Vec<_> = to_run
                    .into_iter()
                    .map(|(slot, job, id, p, from, limits)| {
                        let asr = assessor_of(slot);
                        (job, s.spawn(move || run_one(id, p, from, &limits, tf, asr)))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|(job, h)| (job, h.join().expect("run_one catches trial panics")))
                    .collect()
            })
        };
        // A continuation that ran becomes part of its trial's one record (journaled jobs are
        // stored merged already). An abort ends the experiment before any of the batch is
        // observed.
        for (job, t) in ran {
            let t = t?;
            done.push(match trials.get(t.id) {
                Some(before) => (job, merge_continuation(before, t)),
                None => (job, t),
            });
        }
        done.sort_by_key(|(job, _)| *job);
        for (job, record) in done {
            if concurrent {
                replay(
                    &mut **assessor.lock().unwrap_or_else(|e| e.into_inner()),
                    &record,
                );
            }
            let id = record.id;
            let metric = match record.status {
                TrialStatus::Succeeded | TrialStatus::EarlyStopped => record.final_metric,
                _ => None,
            };
            tuner.observe(id, &record.params, metric);
            on_trial_end(job, &record);
            if id < trials.len() {
                trials[id] = record;
            } else {
                trials.push(record);
            }
        }
    };
    let best_trial = best_trial_of(&trials, config.direction);
    let cost = Cost::of(&trials, t0.elapsed().as_secs_f64());
    Ok(ExperimentOutcome {
        trials,
        best_trial,
        cost,
        stop_reason,
    })
}

/// Epochs the trials have trained, each counted once (a continued trial's record holds its
/// whole curve).
fn epochs_trained(trials: &[Trial]) -> usize {
    trials.iter().map(|t| t.intermediate.len()).sum()
}

/// The best SUCCEEDED trial (ties: lowest id). When none completed — a time limit ended a
/// search whose assessor pauses trials, or every trial was stopped — the best of the
/// early-stopped trials that got furthest, as ASHA picks from its top rung: comparing metrics
/// of different budgets would favour longer-trained trials, not better ones.
pub fn best_trial_of(trials: &[Trial], direction: Direction) -> Option<usize> {
    let pick = |status: TrialStatus, epochs: Option<usize>| {
        let mut best: Option<&Trial> = None;
        for t in trials {
            if t.status != status || epochs.is_some_and(|e| t.intermediate.len() != e) {
                continue;
            }
            let Some(m) = t.final_metric else { continue };
            if best.is_none_or(|b| direction.better(m, b.final_metric.unwrap_or(f64::NAN))) {
                best = Some(t);
            }
        }
        best.map(|t| t.id)
    };
    pick(TrialStatus::Succeeded, None).or_else(|| {
        let furthest = trials
            .iter()
            .filter(|t| t.status == TrialStatus::EarlyStopped && t.final_metric.is_some())
            .map(|t| t.intermediate.len())
            .max()?;
        pick(TrialStatus::EarlyStopped, Some(furthest))
    })
}

/// Current time as RFC 3339 UTC with milliseconds, e.g. `2026-11-29T00:05:15.123Z`.
pub fn now_rfc3339() -> String {
    format_rfc3339(SystemTime::now())
}

/// Format a time as RFC 3339 UTC with milliseconds (times before 1970 clamp to the epoch).
pub fn format_rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (year, month, day) = crate::timeutil::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpo::assessor::{build_assessor, NoAssessor};
    use crate::hpo::space::SearchSpace;
    use crate::hpo::tuner::build_tuner;
    use serde_json::{json, Value};
    use std::sync::{Condvar, Mutex as StdMutex};
    use std::time::Duration;

    fn space() -> SearchSpace {
        SearchSpace::from_json_str(
            r#"{"x": {"_type": "uniform", "_value": [0, 1]}, "k": {"_type": "randint", "_value": [0, 4]}}"#,
            "search_space.json",
        )
        .unwrap()
    }

    fn cfg(max_trials: usize, concurrency: usize) -> ExperimentConfig {
        ExperimentConfig {
            max_trials,
            max_duration_s: None,
            max_trial_epochs: None,
            trial_epochs: 15,
            concurrency,
            direction: Direction::Maximize,
        }
    }

    /// 5 epochs, metric rises towards 1 - |x - 0.3|.
    fn train(ctx: &TrialContext) -> anyhow::Result<TrialOutput> {
        let x = ctx.params["x"].as_f64().unwrap();
        let target = 1.0 - (x - 0.3).abs();
        let mut last = 0.0;
        for e in 1..=5 {
            last = target * e as f64 / 5.0;
            if ctx.report(last) == Decision::Stop {
                break;
            }
        }
        Ok(TrialOutput {
            final_metric: last,
            details: json!({"x": x}),
        })
    }

    /// Stops trial 2 at epoch 3.
    #[derive(Clone)]
    struct StopTwoAtThree(Vec<(usize, usize, bool)>);
    impl Assessor for StopTwoAtThree {
        fn assess(&mut self, trial_id: usize, history: &[f64]) -> Decision {
            if trial_id == 2 && history.len() == 3 {
                Decision::Stop
            } else {
                Decision::Continue
            }
        }
        fn trial_end(&mut self, trial_id: usize, history: &[f64], completed: bool) {
            self.0.push((trial_id, history.len(), completed));
        }
        fn name(&self) -> &'static str {
            "test"
        }
    }

    #[test]
    fn a_trial_whose_allocation_fails_in_libtorch_is_failed_and_the_search_goes_on() {
        // libtorch's allocator refusing memory (the CPU twin of a CUDA out-of-memory) raises a
        // C++ exception that tch turns into a panic; the trial is recorded as FAILED with the
        // allocator's message and the next trials run.
        let s = space();
        let mut tuner = build_tuner("random", &s, Direction::Maximize, 1, &Value::Null).unwrap();
        let out = run_experiment(
            &cfg(3, 1),
            tuner.as_mut(),
            &mut NoAssessor,
            |ctx: &TrialContext| {
                if ctx.id == 1 {
                    let huge = tch::Tensor::zeros([1i64 << 42], tch::kind::FLOAT_CPU);
                    ctx.report(huge.numel() as f64);
                }
                train(ctx)
            },
            |_| {},
        )
        .unwrap();
        let statuses: Vec<TrialStatus> = out.trials.iter().map(|t| t.status).collect();
        assert_eq!(
            statuses,
            [
                TrialStatus::Succeeded,
                TrialStatus::Failed,
                TrialStatus::Succeeded
            ]
        );
        let error = out.trials[1].error.as_deref().unwrap();
        assert!(
            error.contains("trial panicked") && error.contains("memory"),
            "{error}"
        );
    }

    /// An abort (a trial's saved state is damaged) is no failed trial: the experiment ends
    /// with its error, and no trial of its batch is observed.
    #[test]
    fn an_abort_ends_the_experiment_with_its_error() {
        let s = space();
        let mut tuner = build_tuner("random", &s, Direction::Maximize, 1, &Value::Null).unwrap();
        let mut ended = Vec::new();
        let out = run_experiment(
            &cfg(4, 2),
            tuner.as_mut(),
            &mut NoAssessor,
            |ctx: &TrialContext| {
                if ctx.id == 3 {
                    return Err(Abort(anyhow::anyhow!("t3.ckpt: damaged")).into());
                }
                train(ctx)
            },
            |t| ended.push(t.id),
        );
        assert_eq!(out.unwrap_err().to_string(), "t3.ckpt: damaged");
        assert_eq!(ended, vec![0, 1]);
    }

    #[test]
    fn failing_trial_is_recorded_and_search_goes_on() {
        let s = space();
        let mut tuner = build_tuner("random", &s, Direction::Maximize, 1, &Value::Null).unwrap();
        let mut ended = Vec::new();
        let out = run_experiment(
            &cfg(4, 1),
            tuner.as_mut(),
            &mut NoAssessor,
            |ctx: &TrialContext| {
                if ctx.id == 1 {
                    ctx.report(0.1);
                    anyhow::bail!("CUDA out of memory (batch 256)");
                }
                if ctx.id == 2 {
                    panic!("boom");
                }
                train(ctx)
            },
            |t| ended.push((t.id, t.status)),
        )
        .unwrap();
        assert_eq!(out.trials.len(), 4);
        assert_eq!(out.stop_reason, StopReason::MaxTrials);
        let t1 = &out.trials[1];
        assert_eq!(t1.status, TrialStatus::Failed);
        assert!(t1.error.as_deref().unwrap().contains("CUDA out of memory"));
        assert_eq!(t1.final_metric, None);
        assert_eq!(t1.intermediate, vec![0.1]);
        assert_eq!(out.trials[2].status, TrialStatus::Failed);
        assert!(out.trials[2]
            .error
            .as_deref()
            .unwrap()
            .contains("panicked: boom"));
        assert_eq!(out.trials[0].status, TrialStatus::Succeeded);
        assert_eq!(out.trials[3].status, TrialStatus::Succeeded);
        assert_eq!(
            ended.iter().map(|e| e.0).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        assert_eq!(out.cost.trials, 4);
        assert_eq!(out.cost.trial_epochs, 5 + 1 + 5);
        let best = out.best().unwrap();
        assert!([0, 3].contains(&best.id));
        assert!(best.start.as_deref().unwrap().ends_with('Z'));
    }

    #[test]
    fn early_stopped_trial_recorded_with_epoch_and_not_best() {
        let s = space();
        let mut tuner = build_tuner("random", &s, Direction::Maximize, 2, &Value::Null).unwrap();
        let mut a = StopTwoAtThree(Vec::new());
        let out = run_experiment(&cfg(4, 1), tuner.as_mut(), &mut a, train, |_| {}).unwrap();
        let t2 = &out.trials[2];
        assert_eq!(t2.status, TrialStatus::EarlyStopped);
        assert_eq!(t2.stopped_at_epoch, Some(3));
        assert_eq!(t2.intermediate.len(), 3);
        assert_eq!(t2.final_metric, t2.intermediate.last().copied());
        assert_eq!(t2.details["x"], t2.params["x"]);
        assert!(a.0.contains(&(2, 3, false)) && a.0.contains(&(0, 5, true)));
        assert_eq!(out.cost.trial_epochs, 5 * 3 + 3);
        assert_ne!(out.best_trial, Some(2));
        let js = serde_json::to_value(t2).unwrap();
        assert_eq!(js["status"], "EARLY_STOPPED");
        assert_eq!(js["status"], TrialStatus::EarlyStopped.name());
        assert_eq!(
            serde_json::to_value(TrialStatus::Succeeded).unwrap(),
            "SUCCEEDED"
        );
    }

    #[test]
    fn ignoring_stop_does_not_record_later_epochs() {
        let s = space();
        let mut tuner = build_tuner("random", &s, Direction::Maximize, 2, &Value::Null).unwrap();
        let mut a = StopTwoAtThree(Vec::new());
        let out = run_experiment(
            &cfg(3, 1),
            tuner.as_mut(),
            &mut a,
            |ctx: &TrialContext| {
                for e in 0..5 {
                    ctx.report(e as f64);
                }
                Ok(TrialOutput {
                    final_metric: 99.0,
                    details: Value::Null,
                })
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(out.trials[2].intermediate, vec![0.0, 1.0, 2.0]);
        assert_eq!(out.trials[2].final_metric, Some(2.0));
        assert_eq!(out.trials[2].status, TrialStatus::EarlyStopped);
    }

    #[test]
    fn best_respects_direction_and_nan_fails() {
        let s = space();
        let run = |d: Direction| {
            let mut tuner = build_tuner("random", &s, d, 5, &Value::Null).unwrap();
            let c = ExperimentConfig {
                direction: d,
                ..cfg(6, 1)
            };
            run_experiment(
                &c,
                tuner.as_mut(),
                &mut NoAssessor,
                |ctx: &TrialContext| {
                    let m = if ctx.id == 5 { f64::NAN } else { ctx.id as f64 };
                    Ok(TrialOutput {
                        final_metric: m,
                        details: Value::Null,
                    })
                },
                |_| {},
            )
            .unwrap()
        };
        let up = run(Direction::Maximize);
        assert_eq!(up.best_trial, Some(4));
        assert_eq!(up.trials[5].status, TrialStatus::Failed);
        assert!(up.trials[5]
            .error
            .as_deref()
            .unwrap()
            .contains("non-finite"));
        assert_eq!(run(Direction::Minimize).best_trial, Some(0));
    }

    #[test]
    fn concurrency_two_is_reproducible() {
        let s = space();
        let go = || {
            let mut tuner = build_tuner(
                "tpe",
                &s,
                Direction::Maximize,
                7,
                &json!({"n_startup_trials": 4}),
            )
            .unwrap();
            let mut a = build_assessor("none", Direction::Maximize, 5, &Value::Null).unwrap();
            let out =
                run_experiment(&cfg(12, 2), tuner.as_mut(), a.as_mut(), train, |_| {}).unwrap();
            out.trials
                .iter()
                .map(|t| (t.id, t.params.clone(), t.final_metric))
                .collect::<Vec<_>>()
        };
        let a = go();
        assert_eq!(a.len(), 12);
        assert_eq!(
            a.iter().map(|t| t.0).collect::<Vec<_>>(),
            (0..12).collect::<Vec<_>>()
        );
        assert_eq!(a, go());
        assert_eq!(a, go());
    }

    #[test]
    fn batch_members_run_concurrently() {
        let s = space();
        let mut tuner = build_tuner("random", &s, Direction::Maximize, 1, &Value::Null).unwrap();
        let gate = (StdMutex::new(0usize), Condvar::new());
        let out = run_experiment(
            &cfg(2, 2),
            tuner.as_mut(),
            &mut NoAssessor,
            |_ctx: &TrialContext| {
                let (m, cv) = &gate;
                let mut n = m.lock().unwrap();
                *n += 1;
                cv.notify_all();
                // waits for the other trial of the batch; only times out if run sequentially
                let (n, _) = cv
                    .wait_timeout_while(n, Duration::from_secs(20), |n| *n < 2)
                    .unwrap();
                Ok(TrialOutput {
                    final_metric: *n as f64,
                    details: Value::Null,
                })
            },
            |_| {},
        )
        .unwrap();
        assert!(out.trials.iter().all(|t| t.final_metric == Some(2.0)));
    }

    #[test]
    fn grid_exhaustion_and_max_duration() {
        let s = SearchSpace::from_json_str(
            r#"{"k": {"_type": "randint", "_value": [0, 3]}}"#,
            "s.json",
        )
        .unwrap();
        let mut tuner = build_tuner("grid", &s, Direction::Maximize, 0, &Value::Null).unwrap();
        let out = run_experiment(
            &cfg(10, 2),
            tuner.as_mut(),
            &mut NoAssessor,
            train_k,
            |_| {},
        )
        .unwrap();
        assert_eq!(out.trials.len(), 3);
        assert_eq!(out.stop_reason, StopReason::TunerExhausted);
        let mut tuner = build_tuner("grid", &s, Direction::Maximize, 0, &Value::Null).unwrap();
        let c = ExperimentConfig {
            max_duration_s: Some(0.0),
            ..cfg(10, 1)
        };
        let out = run_experiment(&c, tuner.as_mut(), &mut NoAssessor, train_k, |_| {}).unwrap();
        assert_eq!(out.trials.len(), 0);
        assert_eq!(out.stop_reason, StopReason::MaxDuration);
        assert_eq!(out.best_trial, None);
    }

    fn train_k(ctx: &TrialContext) -> anyhow::Result<TrialOutput> {
        Ok(TrialOutput {
            final_metric: ctx.params["k"].as_f64().unwrap(),
            details: Value::Null,
        })
    }

    #[test]
    fn medianstop_end_to_end() {
        let s = SearchSpace::from_json_str(
            // x = 0.3, 0.9, then 0.3 again (y, which `train` ignores, makes it a new point).
            r#"{"y": {"_type": "choice", "_value": [0, 1]},
                "x": {"_type": "choice", "_value": [0.3, 0.9]}}"#,
            "s.json",
        )
        .unwrap();
        let mut tuner = build_tuner("grid", &s, Direction::Maximize, 0, &Value::Null).unwrap();
        let mut a = build_assessor("medianstop", Direction::Maximize, 5, &Value::Null).unwrap();
        let out = run_experiment(&cfg(3, 1), tuner.as_mut(), a.as_mut(), train, |_| {}).unwrap();
        let st: Vec<_> = out.trials.iter().map(|t| t.status).collect();
        // x = 0.9: 0.08 at epoch 1 < the completed trial's running average 0.2
        assert_eq!(
            st,
            [
                TrialStatus::Succeeded,
                TrialStatus::EarlyStopped,
                TrialStatus::Succeeded
            ]
        );
        assert_eq!(out.trials[1].stopped_at_epoch, Some(1));
        assert_eq!(out.best_trial, Some(0));
    }

    /// A trial fn that behaves like the suite's trainer with checkpoints: 15 epochs whose
    /// metric rises towards 1 - |x - 0.3|; a continued trial restores its curve from `store`,
    /// reports those epochs again, and trains only the rest. Counts the epochs it trains.
    fn checkpointed_trial(
        store: &StdMutex<std::collections::BTreeMap<usize, Vec<f64>>>,
        trained: &StdMutex<usize>,
        ctx: &TrialContext,
    ) -> anyhow::Result<TrialOutput> {
        let x = ctx.params["x"].as_f64().unwrap();
        let curve = |e: usize| (1.0 - (x - 0.3).abs()) * (1.0 - 0.5f64.powi(e as i32));
        let restored = store
            .lock()
            .unwrap()
            .get(&ctx.id)
            .cloned()
            .unwrap_or_default();
        assert_eq!(restored.len(), ctx.continues_from, "trial {}", ctx.id);
        let mut history = Vec::new();
        for m in restored {
            history.push(m);
            if ctx.report(m) == Decision::Stop {
                break;
            }
        }
        while history.len() < 15 && !ctx.is_stopped() {
            let m = curve(history.len() + 1);
            *trained.lock().unwrap() += 1;
            history.push(m);
            store.lock().unwrap().insert(ctx.id, history.clone());
            ctx.report(m);
        }
        Ok(TrialOutput {
            final_metric: *history.last().unwrap(),
            details: Value::Null,
        })
    }

    /// A promotion-style search of 10 trials over [`checkpointed_trial`]; `checkpoints` holds
    /// the curves the trials had saved when a resumed search starts.
    fn promotion_search(
        max_trial_epochs: Option<usize>,
        checkpoints: std::collections::BTreeMap<usize, Vec<f64>>,
        finished: impl Fn(usize, usize, &Params, usize) -> Option<Trial>,
    ) -> (ExperimentOutcome, usize, Vec<(usize, Trial)>) {
        let finished = |job, id, params: &Params, from| Ok(finished(job, id, params, from));
        let s = space();
        let mut tuner = build_tuner("random", &s, Direction::Maximize, 3, &Value::Null).unwrap();
        let mut a = build_assessor(
            "asha",
            Direction::Maximize,
            15,
            &json!({"type": "promotion", "reduction_factor": 3}),
        )
        .unwrap();
        let (store, trained) = (StdMutex::new(checkpoints), StdMutex::new(0));
        let mut jobs = Vec::new();
        let config = ExperimentConfig {
            max_trial_epochs,
            ..cfg(10, 1)
        };
        let out = run_experiment_resumable(
            &config,
            tuner.as_mut(),
            a.as_mut(),
            finished,
            |ctx: &TrialContext| checkpointed_trial(&store, &trained, ctx),
            |job, t| jobs.push((job, t.clone())),
        )
        .unwrap();
        let trained = *trained.lock().unwrap();
        (out, trained, jobs)
    }

    #[test]
    fn promotion_continues_paused_trials_and_ends_with_a_full_budget_trial() {
        let (out, trained, jobs) = promotion_search(None, Default::default(), |_, _, _, _| None);
        assert_eq!(out.trials.len(), 10);
        assert_eq!(out.stop_reason, StopReason::MaxTrials);
        // Every epoch is trained once: continued trials do not start over.
        assert_eq!(out.cost.trial_epochs, trained);
        let lens: Vec<usize> = out.trials.iter().map(|t| t.intermediate.len()).collect();
        assert!(lens.iter().all(|l| [1, 3, 9, 15].contains(l)), "{lens:?}");
        // 10 values at rung 0 promote at least 3; the finishing rule completes one trial.
        assert!(lens.iter().filter(|l| **l >= 3).count() >= 3, "{lens:?}");
        let done: Vec<&Trial> = out
            .trials
            .iter()
            .filter(|t| t.status == TrialStatus::Succeeded)
            .collect();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].paused_at, vec![1, 3, 9]);
        assert_eq!(out.best_trial, Some(done[0].id));
        for t in &out.trials {
            if t.status == TrialStatus::EarlyStopped {
                assert_eq!(t.stopped_at_epoch, Some(t.intermediate.len()));
                assert_eq!(t.final_metric, t.intermediate.last().copied());
            }
        }
        // The finisher is the best at 9 epochs.
        let at9 = out.trials.iter().filter(|t| t.intermediate.len() >= 9);
        let best9 = at9
            .max_by(|a, b| a.intermediate[8].total_cmp(&b.intermediate[8]))
            .unwrap();
        assert_eq!(best9.id, done[0].id);
        // One journal entry per job: 10 new trials plus one per promotion.
        let promotions: usize = out.trials.iter().map(|t| t.paused_at.len()).sum();
        assert_eq!(jobs.len(), 10 + promotions);
        assert_eq!(
            jobs.iter().map(|j| j.0).collect::<Vec<_>>(),
            (0..jobs.len()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn without_a_completed_trial_the_best_is_taken_from_those_that_got_furthest() {
        let t = |id: usize, status: TrialStatus, curve: &[f64]| Trial {
            id,
            params: Params::new(),
            status,
            intermediate: curve.to_vec(),
            final_metric: curve.last().copied(),
            stopped_at_epoch: None,
            paused_at: Vec::new(),
            error: None,
            start: None,
            end: None,
            duration_s: 0.0,
            details: Value::Null,
        };
        let stopped = TrialStatus::EarlyStopped;
        let trials = [
            t(0, stopped, &[0.9]),
            t(1, stopped, &[0.5, 0.6, 0.7]),
            t(2, stopped, &[0.6, 0.65, 0.8]),
            t(3, TrialStatus::Failed, &[0.95, 0.99, 0.99, 0.99]),
        ];
        // Not trial 0 (0.9 after one epoch): trial 2, the best at three epochs.
        assert_eq!(best_trial_of(&trials, Direction::Maximize), Some(2));
        assert_eq!(best_trial_of(&trials, Direction::Minimize), Some(1));
        let mut done = trials.to_vec();
        done[0].status = TrialStatus::Succeeded;
        assert_eq!(best_trial_of(&done, Direction::Maximize), Some(0));
        assert_eq!(best_trial_of(&trials[3..], Direction::Maximize), None);
    }

    /// A [`promotion_search`] run to the end, and the same search killed after `killed_after`
    /// jobs and resumed: those come back from the journal, the rest runs; each trial's
    /// checkpoint holds the curve of its last journaled job. Returns (uninterrupted, resumed,
    /// epochs the resumed run trained).
    fn resumed_promotion_search(
        max_trial_epochs: Option<usize>,
        killed_after: usize,
    ) -> (ExperimentOutcome, ExperimentOutcome, usize) {
        let (full, _, jobs) =
            promotion_search(max_trial_epochs, Default::default(), |_, _, _, _| None);
        let journal: Vec<(usize, Trial)> = jobs.into_iter().take(killed_after).collect();
        let checkpoints = journal
            .iter()
            .map(|(_, t)| (t.id, t.intermediate.clone()))
            .collect();
        let (resumed, trained, _) =
            promotion_search(max_trial_epochs, checkpoints, |job, id, params, from| {
                let (_, t) = journal
                    .iter()
                    .find(|(j, t)| *j == job && t.id == id && t.params == *params)?;
                // The stretch the loop runs next is the one the job's record holds.
                assert_eq!(t.continued_from(), from, "job {job} (trial {id})");
                Some(t.clone())
            });
        (full, resumed, trained)
    }

    /// What must survive a resume: every trial's id, status, curve and pauses.
    fn trial_records(o: &ExperimentOutcome) -> Vec<(usize, TrialStatus, Vec<f64>, Vec<usize>)> {
        o.trials
            .iter()
            .map(|t| (t.id, t.status, t.intermediate.clone(), t.paused_at.clone()))
            .collect()
    }

    #[test]
    fn a_resumed_promotion_search_replays_its_jobs_and_ends_the_same() {
        let (full, resumed, trained) = resumed_promotion_search(None, 12);
        assert_eq!(trial_records(&resumed), trial_records(&full));
        assert_eq!(resumed.best_trial, full.best_trial);
        assert!(
            trained < full.cost.trial_epochs,
            "replayed jobs are not retrained"
        );
    }

    /// Trials of 5 epochs (see [`train`]) without an assessor, under a trial-epoch budget.
    fn budgeted(max_trial_epochs: usize, concurrency: usize) -> ExperimentOutcome {
        let mut tuner =
            build_tuner("random", &space(), Direction::Maximize, 1, &Value::Null).expect("tuner");
        let config = ExperimentConfig {
            max_trial_epochs: Some(max_trial_epochs),
            trial_epochs: 5,
            ..cfg(10, concurrency)
        };
        run_experiment(&config, tuner.as_mut(), &mut NoAssessor, train, |_| {}).unwrap()
    }

    #[test]
    fn a_trial_epoch_budget_stops_the_trial_that_spends_it_and_starts_nothing_after() {
        let out = budgeted(12, 1);
        assert_eq!(out.stop_reason, StopReason::MaxTrialEpochs);
        assert_eq!(out.cost.trial_epochs, 12);
        let lens: Vec<usize> = out.trials.iter().map(|t| t.intermediate.len()).collect();
        assert_eq!(lens, vec![5, 5, 2]);
        let cut = &out.trials[2];
        assert_eq!(cut.status, TrialStatus::EarlyStopped);
        assert_eq!(cut.stopped_at_epoch, Some(2));
        assert_ne!(
            out.best_trial,
            Some(2),
            "a cut trial is not a full-budget result"
        );
    }

    #[test]
    fn a_budget_spent_at_a_trials_last_epoch_leaves_it_completed() {
        let out = budgeted(10, 1);
        assert_eq!(out.stop_reason, StopReason::MaxTrialEpochs);
        assert_eq!(out.trials.len(), 2);
        assert!(out
            .trials
            .iter()
            .all(|t| t.status == TrialStatus::Succeeded));
    }

    #[test]
    fn concurrent_jobs_share_the_budget_in_job_order_and_never_overshoot() {
        // Two trials at a time: 5 + 5, then 3 left for the next job and none for its partner.
        let out = budgeted(13, 2);
        assert_eq!(out.stop_reason, StopReason::MaxTrialEpochs);
        assert_eq!(out.cost.trial_epochs, 13);
        let lens: Vec<usize> = out.trials.iter().map(|t| t.intermediate.len()).collect();
        assert_eq!(lens, vec![5, 5, 3]);
        assert_eq!(out.trials[2].status, TrialStatus::EarlyStopped);
        assert_eq!(out.trials[2].stopped_at_epoch, Some(3));
    }

    /// Trials of 5 epochs, searched 3 at a time with `assessor`, where trial `id` waits
    /// `delay(id)` ms before each report: which trial reports first changes with `delay`.
    fn raced(
        assessor: &str,
        options: Value,
        delay: fn(usize) -> u64,
    ) -> Vec<(usize, TrialStatus, Vec<f64>, Vec<usize>)> {
        let mut tuner =
            build_tuner("random", &space(), Direction::Maximize, 3, &Value::Null).unwrap();
        let mut a = build_assessor(assessor, Direction::Maximize, 5, &options).unwrap();
        let config = ExperimentConfig {
            trial_epochs: 5,
            ..cfg(12, 3)
        };
        let trial_fn = |ctx: &TrialContext| {
            assert!(ctx.concurrent);
            let x = ctx.params["x"].as_f64().unwrap();
            let mut last = 0.0;
            for e in 1..=5 {
                std::thread::sleep(Duration::from_millis(delay(ctx.id)));
                last = (1.0 - (x - 0.3).abs()) * e as f64 / 5.0;
                // A continued trial reports its restored epochs again, as the trainer does.
                if ctx.report(last) == Decision::Stop {
                    break;
                }
            }
            Ok(TrialOutput {
                final_metric: last,
                details: Value::Null,
            })
        };
        let out = run_experiment(&config, tuner.as_mut(), a.as_mut(), trial_fn, |_| {}).unwrap();
        trial_records(&out)
    }

    #[test]
    fn concurrent_decisions_do_not_depend_on_which_trial_reports_first() {
        let asha = |kind: &str| json!({"type": kind, "min_resource": 1, "reduction_factor": 2});
        for (name, options) in [
            ("asha", asha("stopping")),
            ("asha", asha("promotion")),
            ("medianstop", Value::Null),
        ] {
            let even_first = raced(name, options.clone(), |id| if id % 2 == 0 { 0 } else { 15 });
            let odd_first = raced(name, options.clone(), |id| if id % 2 == 0 { 15 } else { 0 });
            assert_eq!(even_first, odd_first, "{name} {options}");
            assert!(
                even_first.iter().any(|t| t.1 == TrialStatus::EarlyStopped),
                "{name}: the assessor stopped nothing, so the test shows nothing"
            );
        }
    }

    #[test]
    fn a_time_limit_stops_the_running_trial_after_the_epoch_it_passes_in() {
        let mut tuner =
            build_tuner("random", &space(), Direction::Maximize, 1, &Value::Null).unwrap();
        let config = ExperimentConfig {
            max_duration_s: Some(0.05),
            trial_epochs: 5,
            ..cfg(10, 1)
        };
        let slow_epochs = |ctx: &TrialContext| {
            let mut last = 0.0;
            for e in 1..=5 {
                std::thread::sleep(Duration::from_millis(30));
                last = e as f64 / 5.0;
                if ctx.report(last) == Decision::Stop {
                    break;
                }
            }
            Ok(TrialOutput {
                final_metric: last,
                details: Value::Null,
            })
        };
        let out = run_experiment(
            &config,
            tuner.as_mut(),
            &mut NoAssessor,
            slow_epochs,
            |_| {},
        )
        .unwrap();
        assert_eq!(out.stop_reason, StopReason::MaxDuration);
        assert_eq!(out.trials.len(), 1, "nothing starts after the limit");
        let t = &out.trials[0];
        assert_eq!(t.status, TrialStatus::EarlyStopped, "{t:?}");
        assert!(t.intermediate.len() < 5 && t.stopped_at_epoch == Some(t.intermediate.len()));
        assert_eq!(
            out.best_trial,
            Some(0),
            "the furthest early-stopped trial is chosen"
        );
    }

    #[test]
    fn a_budget_counts_the_epochs_a_continued_trial_adds_not_those_it_restores() {
        let (out, trained, _) = promotion_search(Some(20), Default::default(), |_, _, _, _| None);
        assert_eq!(out.stop_reason, StopReason::MaxTrialEpochs);
        assert_eq!(trained, 20);
        assert_eq!(out.cost.trial_epochs, 20);
        assert!(out.trials.iter().any(|t| !t.paused_at.is_empty()));
    }

    #[test]
    fn a_resumed_budgeted_search_ends_where_the_uninterrupted_one_did() {
        let (full, resumed, trained) = resumed_promotion_search(Some(20), 8);
        assert_eq!(trial_records(&resumed), trial_records(&full));
        assert_eq!(resumed.cost.trial_epochs, 20);
        assert!(trained < 20, "replayed jobs are not retrained");
    }

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(951_782_400_000 + 3_723_456); // 2000-02-29
        assert_eq!(format_rfc3339(t), "2000-02-29T01:02:03.456Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_798_761_599); // 2026-12-31T23:59:59
        assert_eq!(format_rfc3339(t), "2026-12-31T23:59:59.000Z");
    }
}
