//! The environment record: what machine and software a result was produced on.
//!
//! Every field is a [`Fact`]: a value plus how it was obtained. A field that could not be read
//! holds no value and says why; nothing here guesses and nothing here panics.

mod build_info;
pub mod cgroup;
mod gpu;
mod system;
pub mod torch;

use serde::{Deserialize, Serialize};

pub use cgroup::Limit;
pub use gpu::{GpuDevice, GpuRecord};
pub use system::total_memory_bytes;

/// The git commit this binary was built from (unknown outside a git checkout).
pub fn build_commit() -> Fact<String> {
    build_info::capture().commit
}

/// The memory a training step of this process may take: the machine's RAM, or its control
/// group's limit where that is lower (past it the kernel kills the process). Says which in
/// refusals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryBudget {
    pub bytes: u64,
    /// Whether `bytes` is a cgroup's limit rather than the machine's RAM.
    pub cgroup_limit: bool,
}

impl MemoryBudget {
    /// `bytes` of RAM and no lower limit.
    pub fn machine(bytes: u64) -> MemoryBudget {
        MemoryBudget {
            bytes,
            cgroup_limit: false,
        }
    }

    /// This process's budget (u64::MAX bytes when nothing can tell: nothing is refused on a
    /// guess). Read once: every training run asks, and neither changes while harness runs.
    pub fn of_this_process() -> MemoryBudget {
        static BUDGET: std::sync::OnceLock<MemoryBudget> = std::sync::OnceLock::new();
        *BUDGET.get_or_init(|| {
            let ram = total_memory_bytes();
            match cgroup::capture().memory_limit.value {
                Some(Limit::Limited(limit)) if limit < ram => MemoryBudget {
                    bytes: limit,
                    cgroup_limit: true,
                },
                _ => MemoryBudget::machine(ram),
            }
        })
    }
}

impl std::fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gb = self.bytes as f64 / 1e9;
        if self.cgroup_limit {
            write!(
                f,
                "this process may use {gb:.1} GB of memory (its cgroup's limit)"
            )
        } else {
            write!(f, "this machine has {gb:.1} GB of memory")
        }
    }
}
pub use torch::{DeterminismRecord, TorchRecord};

/// A device as `--device` spells it (`cpu`, `cuda:0`, `mps`), not Rust's `Cpu` / `Cuda(0)`.
pub fn device_name(device: tch::Device) -> String {
    match device {
        tch::Device::Cpu => "cpu".into(),
        tch::Device::Cuda(i) => format!("cuda:{i}"),
        tch::Device::Mps => "mps".into(),
        tch::Device::Vulkan => "vulkan".into(),
    }
}

/// Why `label` cannot name a machine, or None. It heads a report column and a table row, and
/// names the result file: not empty, and one line. `--label` and result files are held to it.
pub fn label_problem(label: &str) -> Option<&'static str> {
    if label.trim().is_empty() {
        Some("must not be empty")
    } else if label.chars().any(char::is_control) {
        Some("must be one line without control characters (tabs, line breaks)")
    } else {
        None
    }
}

/// One measured value and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact<T> {
    /// The value, or `None` when it could not be read.
    pub value: Option<T>,
    /// How the value was obtained, or why it is missing ("not available: ...").
    pub source: String,
}

impl<T> Fact<T> {
    pub fn known(value: T, source: impl Into<String>) -> Self {
        Fact {
            value: Some(value),
            source: source.into(),
        }
    }

    pub fn unknown(why: impl std::fmt::Display) -> Self {
        Fact {
            value: None,
            source: format!("not available: {why}"),
        }
    }

    pub fn from_result<E: std::fmt::Display>(result: Result<T, E>, source: &str) -> Self {
        match result {
            Ok(v) => Fact::known(v, source),
            Err(e) => Fact::unknown(format!("{source}: {e}")),
        }
    }

    /// A field a result file of an older harness does not have.
    pub fn not_recorded() -> Self {
        Fact::unknown("not recorded (the file was written by a harness that did not record it)")
    }
}

impl<T: std::fmt::Display> Fact<T> {
    /// The value for a table cell, or "n/a" when missing.
    pub fn display(&self) -> String {
        match &self.value {
            Some(v) => v.to_string(),
            None => "n/a".to_string(),
        }
    }
}

/// Everything recorded about the machine and the software stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvRecord {
    /// The machine's name in reports: `--label`, or the hostname.
    pub label: String,
    pub hostname: Fact<String>,
    pub cpu_model: Fact<String>,
    pub physical_cores: Fact<usize>,
    /// CPUs this process may run on (what `nproc` prints).
    pub logical_cores: Fact<usize>,
    /// The CPU time a control group allows this process, in CPUs (`docker --cpus`, a pod's
    /// or a Slurm job's limit): `nproc` does not show it.
    #[serde(default = "Fact::not_recorded")]
    pub cpu_quota: Fact<Limit<f64>>,
    /// The machine's RAM.
    pub memory_bytes: Fact<u64>,
    /// The memory a control group allows this process (beyond it the kernel kills it).
    #[serde(default = "Fact::not_recorded")]
    pub memory_limit: Fact<Limit<u64>>,
    pub os_name: Fact<String>,
    pub os_version: Fact<String>,
    pub kernel: Fact<String>,
    pub arch: Fact<String>,
    pub gpus: GpuRecord,
    pub torch: TorchRecord,
    pub determinism: DeterminismRecord,
    pub harness_version: String,
    pub git_commit: Fact<String>,
    pub git_dirty: Fact<bool>,
    /// The device training ran on ("cpu", "cuda:0"), set by the runner; `None` for `harness env`.
    #[serde(default)]
    pub compute_device: Option<String>,
}

impl EnvRecord {
    /// Reads the environment of this process. `label` defaults to the hostname.
    pub fn capture(label: Option<&str>) -> EnvRecord {
        let sys = system::capture();
        let hostname = sys.hostname.clone();
        // A hostname that could not be a `--label` is not one either: the file would be refused.
        let label = label
            .map(str::to_string)
            .or_else(|| {
                hostname
                    .value
                    .clone()
                    .filter(|h| label_problem(h).is_none())
            })
            .unwrap_or_else(|| "unknown-host".to_string());
        let build = build_info::capture();
        let limits = cgroup::capture();
        EnvRecord {
            label,
            hostname,
            cpu_model: sys.cpu_model,
            physical_cores: sys.physical_cores,
            logical_cores: sys.logical_cores,
            cpu_quota: limits.cpu_quota,
            memory_bytes: sys.memory_bytes,
            memory_limit: limits.memory_limit,
            os_name: sys.os_name,
            os_version: sys.os_version,
            kernel: sys.kernel,
            arch: sys.arch,
            gpus: gpu::capture(),
            torch: torch::capture(),
            determinism: torch::capture_determinism(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: build.commit,
            git_dirty: build.dirty,
            compute_device: None,
        }
    }

    /// Rows (field, value, source) for a human-readable table.
    pub fn rows(&self) -> Vec<(String, String, String)> {
        fn row<T: std::fmt::Display>(name: &str, f: &Fact<T>) -> (String, String, String) {
            (name.to_string(), f.display(), f.source.clone())
        }
        let mut rows = vec![
            (
                "label".to_string(),
                self.label.clone(),
                "--label or hostname".to_string(),
            ),
            row("hostname", &self.hostname),
            row("CPU model", &self.cpu_model),
            row("physical cores", &self.physical_cores),
            row("logical CPUs", &self.logical_cores),
            (
                "CPU quota (cgroup)".to_string(),
                self.cpu_quota_text(),
                self.cpu_quota.source.clone(),
            ),
            (
                "memory".to_string(),
                self.memory_bytes.value.map_or("n/a".into(), format_bytes),
                self.memory_bytes.source.clone(),
            ),
            (
                "memory limit (cgroup)".to_string(),
                self.memory_limit_text(),
                self.memory_limit.source.clone(),
            ),
            row("OS", &self.os_name),
            row("OS version", &self.os_version),
            row("kernel", &self.kernel),
            row("architecture", &self.arch),
        ];
        rows.extend(self.gpus.rows());
        rows.extend(self.torch.rows());
        rows.extend(self.determinism.rows());
        rows.push((
            "harness version".into(),
            self.harness_version.clone(),
            "Cargo package version".into(),
        ));
        rows.push(row("git commit", &self.git_commit));
        rows.push(row("git tree dirty", &self.git_dirty));
        if let Some(device) = &self.compute_device {
            rows.push((
                "compute device".into(),
                device.clone(),
                "harness run --device".into(),
            ));
        }
        rows
    }

    /// "none", "1.5 CPUs" or "n/a".
    pub fn cpu_quota_text(&self) -> String {
        match self.cpu_quota.value {
            Some(Limit::Unlimited) => "none".into(),
            Some(Limit::Limited(cpus)) => format!("{cpus:.1} CPUs"),
            None => "n/a".into(),
        }
    }

    /// "none", "8.0 GiB" or "n/a".
    pub fn memory_limit_text(&self) -> String {
        match self.memory_limit.value {
            Some(Limit::Unlimited) => "none".into(),
            Some(Limit::Limited(bytes)) => format_bytes(bytes),
            None => "n/a".into(),
        }
    }
}

/// "23.4 GiB" style sizes for people.
pub fn format_bytes(bytes: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    const MIB: f64 = 1024.0 * 1024.0;
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.0} MiB", b / MIB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record written before the cgroup limits were kept still loads, and says so.
    #[test]
    fn a_record_without_cgroup_limits_loads_as_not_recorded() {
        let env = EnvRecord::capture(Some("old-box"));
        let mut json = serde_json::to_value(&env).unwrap();
        let fields = json.as_object_mut().unwrap();
        assert!(fields.remove("cpu_quota").is_some() && fields.remove("memory_limit").is_some());
        let old: EnvRecord = serde_json::from_value(json).unwrap();
        assert_eq!(old.cpu_quota.value, None);
        assert!(old
            .memory_limit
            .source
            .starts_with("not available: not recorded"));
        assert_eq!(
            (old.cpu_quota_text(), old.memory_limit_text()),
            ("n/a".into(), "n/a".into())
        );
    }

    /// A refusal says whose memory it is: the machine's, or the cgroup's limit.
    #[test]
    fn a_memory_budget_says_whether_it_is_a_cgroups_limit() {
        assert_eq!(
            MemoryBudget::machine(24_000_000_000).to_string(),
            "this machine has 24.0 GB of memory"
        );
        let limited = MemoryBudget {
            bytes: 8_000_000_000,
            cgroup_limit: true,
        };
        assert_eq!(
            limited.to_string(),
            "this process may use 8.0 GB of memory (its cgroup's limit)"
        );
        let budget = MemoryBudget::of_this_process();
        assert!(budget.bytes <= total_memory_bytes());
    }

    #[test]
    fn devices_are_named_as_device_takes_them() {
        assert_eq!(super::device_name(tch::Device::Cpu), "cpu");
        assert_eq!(super::device_name(tch::Device::Cuda(1)), "cuda:1");
        assert_eq!(super::device_name(tch::Device::Mps), "mps");
    }

    #[test]
    fn capture_without_gpu_says_none_with_a_reason_and_counts_cpus() {
        let env = EnvRecord::capture(Some("test-box"));
        assert_eq!(env.label, "test-box");
        // This project's machines have no NVIDIA driver: the record must say so, not guess.
        if env.gpus.count.value.unwrap_or(0) == 0 {
            assert!(env.gpus.none_reason.is_some(), "{:?}", env.gpus);
        }
        let nproc = std::process::Command::new("nproc").output().unwrap();
        let nproc: usize = String::from_utf8_lossy(&nproc.stdout)
            .trim()
            .parse()
            .unwrap();
        assert_eq!(env.logical_cores.value, Some(nproc));
        assert_eq!(
            env.torch
                .libtorch_version
                .value
                .as_deref()
                .map(|v| v.starts_with("2.11.0")),
            Some(true)
        );
        assert_eq!(env.torch.tch_version, "0.24.0");
        let json = serde_json::to_string(&env).unwrap();
        let back: EnvRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, env);
    }

    #[test]
    fn missing_facts_render_as_na_with_the_reason() {
        let f: Fact<String> = Fact::unknown("no NVML");
        assert_eq!(f.display(), "n/a");
        assert_eq!(f.source, "not available: no NVML");
    }

    #[test]
    fn bytes_are_formatted_for_people() {
        assert_eq!(format_bytes(24 * 1024 * 1024 * 1024), "24.0 GiB");
        assert_eq!(format_bytes(512 * 1024 * 1024), "512 MiB");
    }
}
