//! Did a tuned arm's search go the same way on two machines? With the same tuner seed a search
//! repeats exactly on one machine; across machines the trials' numbers can drift (other
//! threads, another CPU or GPU), and once a model-based tuner sees other numbers its proposals
//! part, and the search may choose another configuration. Then the arm's accuracy difference
//! is partly a different choice, not the machine alone: `compare` says so.
use super::i18n::{plural, Lang};
use crate::hpo::Trial;
use crate::results::HpoRecord;
use serde::Serialize;

/// One search against the baseline machine's, trial by trial id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchAgreement {
    /// Trials each search ran (baseline, this machine).
    pub trials: (usize, usize),
    /// The first trial id, of those both ran, proposed other parameters; `None` when every
    /// such trial got the same ones.
    pub first_other_proposal: Option<usize>,
    /// The first trial id, of those both ran, that ended otherwise: another status, or any
    /// epoch's metric not equal to the last bit.
    pub first_other_result: Option<usize>,
    /// How many of the trials both ran ended otherwise.
    pub other_results: usize,
    /// Trials both ran.
    pub common: usize,
    /// The largest difference of the final metric (what the tuner is told) between trials
    /// with the same parameters: how far the machines' numbers drift for one configuration.
    pub max_metric_difference: f64,
    /// The chosen trial of each search (`None`: none chosen yet).
    pub chosen: (Option<usize>, Option<usize>),
    /// Both chose, and the same configuration (whatever its trial id).
    pub same_choice: bool,
    /// Each search's own seconds (baseline, this machine): what the search cost there.
    pub seconds: (f64, f64),
}

impl SearchAgreement {
    /// Every trial proposed and ended alike, and the same configuration chosen.
    pub fn identical(&self) -> bool {
        self.trials.0 == self.trials.1
            && self.first_other_proposal.is_none()
            && self.first_other_result.is_none()
            && self.same_choice
    }
}

/// Compares `other`'s search with the baseline's, trial by trial id.
pub fn agreement(base: &HpoRecord, other: &HpoRecord) -> SearchAgreement {
    // In id order, so that "first" is the lowest id; the other side is only looked up.
    let mut a: Vec<&Trial> = base.trials.iter().collect();
    a.sort_by_key(|t| t.id);
    let mut first_other_proposal = None;
    let mut first_other_result = None;
    let mut max_metric_difference = 0.0f64;
    let (mut common, mut other_results) = (0, 0);
    for ta in &a {
        let Some(tb) = other.trials.iter().find(|t| t.id == ta.id) else {
            continue;
        };
        common += 1;
        if ta.params != tb.params {
            first_other_proposal.get_or_insert(ta.id);
        } else if let (Some(x), Some(y)) = (ta.final_metric, tb.final_metric) {
            max_metric_difference = max_metric_difference.max((x - y).abs());
        }
        // Equal to the last bit, and as long.
        let same_curve = ta
            .intermediate
            .iter()
            .map(|x| x.to_bits())
            .eq(tb.intermediate.iter().map(|x| x.to_bits()));
        if ta.status != tb.status || !same_curve {
            first_other_result.get_or_insert(ta.id);
            other_results += 1;
        }
    }
    let same_choice = match (&base.chosen_params, &other.chosen_params) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    };
    SearchAgreement {
        trials: (a.len(), other.trials.len()),
        first_other_proposal,
        first_other_result,
        other_results,
        common,
        max_metric_difference,
        chosen: (base.chosen_trial, other.chosen_trial),
        same_choice,
        seconds: (base.search_cost.seconds, other.search_cost.seconds),
    }
}

/// One line on `machine`'s search against `baseline`'s, in the report's language.
pub fn describe(s: &SearchAgreement, machine: &str, baseline: &str, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let trial = |id: Option<usize>| match (id, zh) {
        (Some(id), _) => format!("trial {id}"),
        (None, true) => "尚未选中".to_string(),
        (None, false) => "none yet".to_string(),
    };
    let time = search_time(s, machine, baseline, zh);
    if s.identical() {
        return if zh {
            format!(
                "{machine} 与 {baseline} 的搜索完全相同：{} 个 trial 的提议与曲线逐位一致，选中同一配置（{}）。{time}",
                s.trials.0,
                trial(s.chosen.0)
            )
        } else {
            format!(
                "{machine}'s search is {baseline}'s to the bit: {} with the same proposals \
                 and curves, and the same choice ({}).{time}",
                plural(s.trials.0, "trial"),
                trial(s.chosen.0)
            )
        };
    }
    let mut parts: Vec<String> = Vec::new();
    if s.trials.0 != s.trials.1 {
        parts.push(if zh {
            format!(
                "trial 数不同（{baseline} {}，{machine} {}）",
                s.trials.0, s.trials.1
            )
        } else {
            format!(
                "{} where {baseline} ran {}",
                plural(s.trials.1, "trial"),
                s.trials.0
            )
        });
    }
    match (s.first_other_result, zh) {
        (Some(id), true) => parts.push(format!(
            "共同的 {} 个 trial 中有 {} 个结果不同，最早是 trial {id}（同一配置的最终指标最多相差 {:.4}）",
            s.common, s.other_results, s.max_metric_difference
        )),
        (Some(id), false) => parts.push(format!(
            "{} of {} that both ran ended otherwise, the first being trial {id} (a final metric \
             differs by up to {:.4} for the same configuration)",
            s.other_results,
            plural(s.common, "trial"),
            s.max_metric_difference
        )),
        (None, true) => parts.push("共同的 trial 结果逐位一致".to_string()),
        (None, false) => parts.push("the trials both ran ended alike, to the bit".to_string()),
    }
    match (s.first_other_proposal, zh) {
        (Some(id), true) => parts.push(format!(
            "提议从 trial {id} 起不同（调参器看到了不同的结果）"
        )),
        (Some(id), false) => parts.push(format!(
            "proposals part from trial {id} on (the tuner saw other results)"
        )),
        (None, true) => parts.push("提议相同".to_string()),
        (None, false) => parts.push("the proposals are the same".to_string()),
    }
    let choice = match (s.same_choice, zh) {
        (true, true) => format!("选中同一配置（{}）", trial(s.chosen.1)),
        (true, false) => format!("the same configuration was chosen ({})", trial(s.chosen.1)),
        (false, true) => format!(
            "{machine} 选中 {}，{baseline} 选中 {}：配置不同，上表中该组的准确率差异有一部分来自选中的配置不同，而不只是机器",
            trial(s.chosen.1),
            trial(s.chosen.0)
        ),
        (false, false) => format!(
            "{machine} chose {} and {baseline} {}: another configuration, so the arm's accuracy \
             difference above is partly a different choice, not the machine alone",
            trial(s.chosen.1),
            trial(s.chosen.0)
        ),
    };
    parts.push(choice);
    if zh {
        format!(
            "{machine} 与 {baseline} 的搜索：{}。{time}",
            parts.join("；")
        )
    } else {
        format!(
            "{machine}'s search against {baseline}'s: {}.{time}",
            parts.join("; ")
        )
    }
}

/// " The search took 12.0 s on b against 15.0 s on a (×0.80)." — empty when a side has no
/// time (an interrupted search before its first trial).
fn search_time(s: &SearchAgreement, machine: &str, baseline: &str, zh: bool) -> String {
    let (b, m) = s.seconds;
    if b <= 0.0 || m <= 0.0 {
        return String::new();
    }
    if zh {
        format!(
            "搜索耗时：{machine} {m:.1} 秒，{baseline} {b:.1} 秒（×{:.2}）。",
            m / b
        )
    } else {
        format!(
            " The search took {m:.1} s on {machine} against {b:.1} s on {baseline} (×{:.2}).",
            m / b
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpo::TrialStatus;
    use crate::report::fixture::{search, trial};

    fn with_lr(mut t: Trial, lr: f64) -> Trial {
        t.params = serde_json::json!({ "lr": lr }).as_object().unwrap().clone();
        t
    }

    fn record(trials: Vec<Trial>, chosen: usize) -> HpoRecord {
        let params = trials
            .iter()
            .find(|t| t.id == chosen)
            .map(|t| t.params.clone());
        let mut r = search(trials, Some(chosen));
        r.chosen_trial = Some(chosen);
        r.chosen_params = params;
        r
    }

    fn baseline() -> HpoRecord {
        record(
            vec![
                with_lr(trial(0, TrialStatus::Succeeded, &[0.5, 0.9], vec![]), 0.1),
                with_lr(trial(1, TrialStatus::EarlyStopped, &[0.3], vec![]), 0.2),
                with_lr(trial(2, TrialStatus::Succeeded, &[0.6, 0.8], vec![]), 0.3),
            ],
            0,
        )
    }

    #[test]
    fn the_same_search_is_said_to_be_the_same() {
        let s = agreement(&baseline(), &baseline());
        assert!(s.identical(), "{s:?}");
        assert_eq!(
            describe(&s, "b", "a", Lang::En),
            "b's search is a's to the bit: 3 trials with the same proposals and curves, and the \
             same choice (trial 0). The search took 1.0 s on b against 1.0 s on a (×1.00)."
        );
    }

    /// Trial 1's numbers drift by 0.01 (the same parameters); from trial 2 on the tuner
    /// proposes otherwise, and the search chooses trial 2: the line names both points and
    /// says the accuracy difference is partly the choice.
    #[test]
    fn a_drifting_search_says_where_it_parted_and_what_it_chose() {
        let other = record(
            vec![
                with_lr(trial(0, TrialStatus::Succeeded, &[0.5, 0.9], vec![]), 0.1),
                with_lr(trial(1, TrialStatus::EarlyStopped, &[0.31], vec![]), 0.2),
                with_lr(trial(2, TrialStatus::Succeeded, &[0.7, 0.95], vec![]), 0.25),
            ],
            2,
        );
        let s = agreement(&baseline(), &other);
        assert_eq!(s.first_other_result, Some(1));
        assert_eq!(s.first_other_proposal, Some(2));
        assert!((s.max_metric_difference - 0.01).abs() < 1e-12, "{s:?}");
        assert_eq!(s.chosen, (Some(0), Some(2)));
        assert!(!s.same_choice && !s.identical());
        let line = describe(&s, "b", "a", Lang::En);
        assert_eq!(
            line,
            "b's search against a's: 2 of 3 trials that both ran ended otherwise, the first being \
             trial 1 (a final metric differs by up to 0.0100 for the same configuration); proposals \
             part from trial 2 on (the tuner saw other results); b chose trial 2 and a trial 0: another configuration, so \
             the arm's accuracy difference above is partly a different choice, not the machine \
             alone. The search took 1.0 s on b against 1.0 s on a (×1.00)."
        );
        let zh = describe(&s, "b", "a", Lang::Zh);
        assert!(
            zh.contains("提议从 trial 2 起不同") && zh.contains("b 选中 trial 2"),
            "{zh}"
        );
    }

    /// A search cut short (an interrupted run, a time limit) is compared on the trials both
    /// ran, and its count is named.
    #[test]
    fn a_shorter_search_is_compared_on_the_trials_both_ran() {
        let mut short = baseline();
        short.trials.truncate(2);
        short.chosen_trial = None;
        short.chosen_params = None;
        let s = agreement(&baseline(), &short);
        assert_eq!((s.first_other_proposal, s.first_other_result), (None, None));
        assert_eq!(s.trials, (3, 2));
        let line = describe(&s, "b", "a", Lang::En);
        assert!(
            line.starts_with(
                "b's search against a's: 2 trials where a ran 3; the trials both ran ended alike"
            ) && line.contains("b chose none yet and a trial 0"),
            "{line}"
        );
    }
}
