//! CPU, memory and OS facts (sysinfo, plus sched_getaffinity for the usable CPU count).
use super::Fact;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

pub struct SystemFacts {
    pub hostname: Fact<String>,
    pub cpu_model: Fact<String>,
    pub physical_cores: Fact<usize>,
    pub logical_cores: Fact<usize>,
    pub memory_bytes: Fact<u64>,
    pub os_name: Fact<String>,
    pub os_version: Fact<String>,
    pub kernel: Fact<String>,
    pub arch: Fact<String>,
}

pub fn capture() -> SystemFacts {
    let refresh = RefreshKind::nothing()
        .with_cpu(CpuRefreshKind::nothing())
        .with_memory(MemoryRefreshKind::nothing().with_ram());
    let sys = System::new_with_specifics(refresh);
    let (cpu_model, memory_bytes) = match &sys {
        Ok(sys) => {
            let brand = sys
                .cpus()
                .first()
                .map(|c| c.brand().trim().to_string())
                .filter(|b| !b.is_empty());
            let cpu = match brand {
                Some(b) => Fact::known(b, "sysinfo (CPU brand string)"),
                None => Fact::unknown("sysinfo reported no CPU brand string"),
            };
            let mem = match sys.total_memory() {
                0 => Fact::unknown("sysinfo reported 0 bytes of memory"),
                m => Fact::known(m, "sysinfo (total RAM)"),
            };
            (cpu, mem)
        }
        Err(e) => (
            Fact::unknown(format!("sysinfo: {e}")),
            Fact::unknown(format!("sysinfo: {e}")),
        ),
    };
    SystemFacts {
        hostname: Fact::from_result(System::host_name(), "sysinfo (host name)"),
        cpu_model,
        physical_cores: Fact::from_result(
            System::physical_core_count(),
            "sysinfo (physical cores)",
        ),
        logical_cores: usable_cpus(),
        memory_bytes,
        os_name: Fact::from_result(
            System::long_os_version().or_else(|_| System::name()),
            "sysinfo (OS name)",
        ),
        os_version: Fact::from_result(System::os_version(), "sysinfo (OS version)"),
        kernel: Fact::from_result(System::kernel_version(), "sysinfo (kernel version)"),
        arch: Fact::known(
            std::env::consts::ARCH.to_string(),
            "build target architecture",
        ),
    }
}

/// CPUs this process may run on: the affinity mask, as `nproc` counts them. Cgroup quotas are
/// not applied here (nproc ignores them too); the thread counts libtorch uses are recorded apart.
#[cfg(target_os = "linux")]
fn usable_cpus() -> Fact<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it for pid 0 (this process).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            let n = libc::CPU_COUNT(&set) as usize;
            return Fact::known(n, "sched_getaffinity (as nproc)");
        }
    }
    fallback_cpus()
}

#[cfg(not(target_os = "linux"))]
fn usable_cpus() -> Fact<usize> {
    fallback_cpus()
}

fn fallback_cpus() -> Fact<usize> {
    Fact::from_result(
        std::thread::available_parallelism().map(|n| n.get()),
        "std::thread::available_parallelism",
    )
}

/// The machine's total RAM in bytes (u64::MAX when sysinfo cannot tell: nothing is refused on
/// a guess).
pub fn total_memory_bytes() -> u64 {
    let sys = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    match sys.map(|s| s.total_memory()) {
        Ok(0) | Err(_) => u64::MAX,
        Ok(m) => m,
    }
}
