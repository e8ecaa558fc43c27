//! Report wording in English and in the lab template's Chinese.
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    En,
    Zh,
}

/// Every piece of fixed text in a report.
pub struct Text {
    pub title: &'static str,
    pub environment: &'static str,
    pub hardware: &'static str,
    pub software: &'static str,
    pub cpu_vcpus: &'static str,
    pub cpu_model: &'static str,
    pub memory: &'static str,
    /// After the vCPUs and the memory: what a control group allows ("(cgroup quota: 1.5)").
    pub cpu_quota: (&'static str, &'static str),
    pub memory_limit: (&'static str, &'static str),
    pub gpu: &'static str,
    pub os: &'static str,
    pub framework: &'static str,
    pub cuda: &'static str,
    pub threads: &'static str,
    pub results: &'static str,
    pub method: &'static str,
    pub hyperparameters: &'static str,
    pub accuracy: &'static str,
    pub gap: &'static str,
    pub runs: &'static str,
    pub curves: &'static str,
    pub notes: &'static str,
    pub none: &'static str,
    pub diverged: &'static str,
    /// An arm that stopped short of a result (its error follows).
    pub failed: &'static str,
}

pub fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

/// "1 epoch", "6 epochs": a count and an English noun that takes "s" in the plural (Chinese
/// nouns have no plural; its sentences use a measure word instead).
pub fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// A command-line override as recorded (`epochs=4 (all arms)`, `seeds=[1, 2]`), in the
/// report's language: the setting is kept as typed, the words around it translated. Said
/// only within a file's list ([`overrides_text`]).
fn override_text(lang: Lang, recorded: &str) -> String {
    match lang {
        Lang::En => recorded.to_string(),
        Lang::Zh => recorded.replace(" (all arms)", "（所有实验组）"),
    }
}

/// A result file's command-line overrides as one list in the report's language, separated
/// as the language separates a list (`, ` or `，`); empty for none. The report's notes and
/// warnings and `compare` all say the list this way, each framing it as its sentence needs.
pub fn overrides_text(lang: Lang, recorded: &[String]) -> String {
    let said: Vec<String> = recorded.iter().map(|o| override_text(lang, o)).collect();
    said.join(match lang {
        Lang::En => ", ",
        Lang::Zh => "，",
    })
}

/// `text (label)`, with full-width parentheses in Chinese.
pub fn labelled(lang: Lang, text: &str, label: &str) -> String {
    match lang {
        Lang::En => format!("{text} ({label})"),
        Lang::Zh => format!("{text}（{label}）"),
    }
}

/// A result file's status as the report says it.
pub fn status_word(lang: Lang, status: &crate::results::RunStatus) -> &'static str {
    use crate::results::RunStatus::*;
    match (lang, status) {
        (Lang::En, s) => s.as_str(),
        (Lang::Zh, Running) => "运行中（或已被强行终止）",
        (Lang::Zh, Complete) => "已完成",
        (Lang::Zh, Interrupted) => "已中断",
    }
}

/// The accuracy table's row name for an arm.
pub fn arm_label(lang: Lang, arm: &str) -> String {
    let label = match (lang, arm) {
        (Lang::En, "original") => "Original code",
        (Lang::En, "manual") => "Manual tuning",
        (Lang::En, "tuned") => "Automatic HPO",
        (Lang::En, "nas") => "Architecture search (optional)",
        (Lang::Zh, "original") => "原始代码",
        (Lang::Zh, "manual") => "手动调参",
        (Lang::Zh, "tuned") => "NNI自动调参",
        (Lang::Zh, "nas") => "网络架构搜索（可选）",
        (_, other) => other,
    };
    label.to_string()
}

static EN: Text = Text {
    title: "Benchmark report",
    environment: "Environment",
    hardware: "Hardware",
    software: "Software",
    cpu_vcpus: "CPU (vCPUs)",
    cpu_model: "CPU model",
    memory: "Memory",
    cpu_quota: (" (cgroup quota: ", " CPUs)"),
    memory_limit: (" (cgroup limit: ", ")"),
    gpu: "GPU (model, count)",
    os: "OS version",
    framework: "Framework and version",
    cuda: "CUDA version",
    threads: "Threads (intra-op / inter-op)",
    results: "Results",
    method: "Tuning method",
    hyperparameters: "Hyper-parameter names and values",
    accuracy: "Accuracy",
    gap: "Train − test gap",
    runs: "Runs",
    curves: "Learning curves",
    notes: "Notes",
    none: "none",
    diverged: "diverged",
    failed: "failed",
};

static ZH: Text = Text {
    title: "实验报告",
    environment: "实验环境",
    hardware: "硬件环境",
    software: "软件环境",
    cpu_vcpus: "CPU（vCPU数目）",
    cpu_model: "CPU型号",
    memory: "内存",
    cpu_quota: ("（cgroup配额：", " 个CPU）"),
    memory_limit: ("（cgroup上限：", "）"),
    gpu: "GPU(型号，数目)",
    os: "OS版本",
    framework: "深度学习框架 python包名称及版本",
    cuda: "CUDA版本",
    threads: "线程数（算子内 / 算子间）",
    results: "实验结果",
    method: "调参方式",
    hyperparameters: "超参名称和设置值",
    accuracy: "模型准确率",
    gap: "训练−测试差距",
    runs: "各次运行",
    curves: "学习曲线",
    notes: "说明",
    none: "无",
    diverged: "发散",
    failed: "失败",
};

#[cfg(test)]
mod tests {
    use super::*;

    /// One list of overrides, said alike wherever the report says it: a Chinese report
    /// separates its items with the full-width comma.
    #[test]
    fn overrides_are_said_as_a_list_in_the_reports_language() {
        let recorded = ["epochs=1 (all arms)".to_string(), "threads=2".to_string()];
        assert_eq!(
            overrides_text(Lang::En, &recorded),
            "epochs=1 (all arms), threads=2"
        );
        assert_eq!(
            overrides_text(Lang::Zh, &recorded),
            "epochs=1（所有实验组），threads=2"
        );
        assert_eq!(overrides_text(Lang::Zh, &[]), "");
    }
}
