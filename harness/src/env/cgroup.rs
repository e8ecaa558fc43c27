//! The limits Linux control groups put on this process: a CPU quota and a memory limit.
//!
//! A container (`docker run --cpus 2 --memory 16g`), a Kubernetes pod or a Slurm job sees
//! the host's CPUs in `nproc` and the host's RAM in `/proc/meminfo`, but is throttled to its
//! quota and killed past its memory limit. Two machines that look alike by those numbers can
//! differ by ten times in what a run gets, so the record keeps both limits.
//!
//! Read from `/proc/self/cgroup` (which cgroup this process is in, per controller),
//! `/proc/self/mountinfo` (where each hierarchy is mounted, and which part of it) and the
//! limit files of that cgroup and every ancestor up to the mount (the tightest one holds):
//! cgroup v2's `cpu.max` and `memory.max`, v1's `cpu.cfs_quota_us` / `cpu.cfs_period_us` and
//! `memory.limit_in_bytes`. On hybrid systems a controller mounted as v1 is read there.

use super::Fact;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A limit that may not be set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit<T> {
    /// No limit below what the machine has.
    Unlimited,
    Limited(T),
}

impl<T> Limit<T> {
    pub fn limited(self) -> Option<T> {
        match self {
            Limit::Unlimited => None,
            Limit::Limited(v) => Some(v),
        }
    }
}

pub struct CgroupLimits {
    /// CPUs' worth of time per period (2.0 = two CPUs), as `docker --cpus` sets it.
    pub cpu_quota: Fact<Limit<f64>>,
    pub memory_limit: Fact<Limit<u64>>,
}

/// This process's limits.
pub fn capture() -> CgroupLimits {
    if !cfg!(target_os = "linux") {
        return CgroupLimits {
            cpu_quota: Fact::unknown("control groups are Linux's"),
            memory_limit: Fact::unknown("control groups are Linux's"),
        };
    }
    let read = |p: &str| std::fs::read_to_string(p);
    match (read("/proc/self/cgroup"), read("/proc/self/mountinfo")) {
        (Ok(cgroup), Ok(mountinfo)) => limits(&cgroup, &mountinfo, Path::new("/")),
        (Err(e), _) | (_, Err(e)) => CgroupLimits {
            cpu_quota: Fact::unknown(format!("/proc/self: {e}")),
            memory_limit: Fact::unknown(format!("/proc/self: {e}")),
        },
    }
}

/// The limits for a process whose `/proc/self/cgroup` and `/proc/self/mountinfo` read
/// `cgroup` and `mountinfo`, with the file system under `root` (`/`, or a test's folder).
pub fn limits(cgroup: &str, mountinfo: &str, root: &Path) -> CgroupLimits {
    let mounts = Mounts::parse(cgroup, mountinfo, root);
    CgroupLimits {
        cpu_quota: mounts.cpu_quota(),
        memory_limit: mounts.memory_limit(),
    }
}

/// A cgroup hierarchy this process is in: its folder, and the folder it is mounted at.
struct Placement {
    dir: PathBuf,
    mount: PathBuf,
    v2: bool,
}

impl Placement {
    /// The folder and its ancestors up to the mount point.
    fn chain(&self) -> impl Iterator<Item = &Path> {
        self.dir
            .ancestors()
            .take_while(move |d| d.starts_with(&self.mount))
    }
}

struct Mounts {
    cpu: Option<Placement>,
    memory: Option<Placement>,
}

impl Mounts {
    fn parse(cgroup: &str, mountinfo: &str, root: &Path) -> Mounts {
        // /proc/self/cgroup: "ID:controllers:path"; v2's line is "0::path".
        let mut v1: Vec<(Vec<&str>, &str)> = Vec::new();
        let mut v2_path = None;
        for line in cgroup.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if controllers.is_empty() {
                v2_path = Some(path);
            } else {
                v1.push((controllers.split(',').collect(), path));
            }
        }
        // /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - TYPE SOURCE SUPER".
        let mut v1_mounts: Vec<(Vec<&str>, &str, &str)> = Vec::new();
        let mut v2_mount = None;
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let fields: Vec<&str> = left.split(' ').collect();
            let kind: Vec<&str> = right.split(' ').collect();
            let (Some(mount_root), Some(point), Some(fs)) =
                (fields.get(3), fields.get(4), kind.first())
            else {
                continue;
            };
            match *fs {
                "cgroup2" => v2_mount = Some((*mount_root, *point)),
                "cgroup" => {
                    let options = kind.get(2).map_or(Vec::new(), |o| o.split(',').collect());
                    v1_mounts.push((options, mount_root, point));
                }
                _ => {}
            }
        }
        let place = |mount_root: &str, point: &str, path: &str, v2: bool| {
            // The process's path is relative to the hierarchy's root; the mount shows the
            // part of it under `mount_root` (a container sees its own cgroup as "/").
            let inside = Path::new(path)
                .strip_prefix(mount_root)
                .unwrap_or(Path::new(""));
            let mount = root.join(unescape(point).trim_start_matches('/'));
            Placement {
                dir: mount.join(inside),
                mount,
                v2,
            }
        };
        let controller = |name: &str| {
            let path = v1
                .iter()
                .find(|(controllers, _)| controllers.contains(&name))
                .map(|(_, p)| *p);
            let mount = v1_mounts
                .iter()
                .find(|(options, _, _)| options.contains(&name));
            match (path, mount) {
                (Some(path), Some((_, mount_root, point))) => {
                    Some(place(mount_root, point, path, false))
                }
                _ => match (v2_path, v2_mount) {
                    (Some(path), Some((mount_root, point))) => {
                        Some(place(mount_root, point, path, true))
                    }
                    _ => None,
                },
            }
        };
        Mounts {
            cpu: controller("cpu"),
            memory: controller("memory"),
        }
    }

    fn cpu_quota(&self) -> Fact<Limit<f64>> {
        let Some(p) = &self.cpu else {
            return Fact::unknown("this process is in no cgroup with the cpu controller");
        };
        if p.v2 {
            tightest(p, "cpu.max", cpu_max, f64::total_cmp)
        } else {
            tightest(p, "cpu.cfs_quota_us", cfs_quota, f64::total_cmp)
        }
    }

    fn memory_limit(&self) -> Fact<Limit<u64>> {
        let Some(p) = &self.memory else {
            return Fact::unknown("this process is in no cgroup with the memory controller");
        };
        let file = if p.v2 {
            "memory.max"
        } else {
            "memory.limit_in_bytes"
        };
        let read = |d: &Path| -> Option<Limit<u64>> {
            let text = std::fs::read_to_string(d.join(file)).ok()?;
            let text = text.trim();
            if text == "max" {
                return Some(Limit::Unlimited);
            }
            let bytes: u64 = text.parse().ok()?;
            // v1 writes "no limit" as the largest page-aligned i64.
            Some(if bytes >= 1 << 62 {
                Limit::Unlimited
            } else {
                Limit::Limited(bytes)
            })
        };
        tightest(p, file, read, Ord::cmp)
    }
}

/// cgroup v2's `cpu.max` in `dir`: "QUOTA PERIOD" or "max PERIOD".
fn cpu_max(dir: &Path) -> Option<Limit<f64>> {
    let text = std::fs::read_to_string(dir.join("cpu.max")).ok()?;
    let mut parts = text.split_whitespace();
    let (quota, period) = (parts.next()?, parts.next()?);
    quota_of(quota.parse().ok(), period.parse().ok()?, quota == "max")
}

/// cgroup v1's `cpu.cfs_quota_us` (-1: none) over `cpu.cfs_period_us` in `dir`.
fn cfs_quota(dir: &Path) -> Option<Limit<f64>> {
    let number = |name: &str| -> Option<f64> {
        std::fs::read_to_string(dir.join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    let quota = number("cpu.cfs_quota_us")?;
    quota_of(Some(quota), number("cpu.cfs_period_us")?, quota < 0.0)
}

/// A quota of `quota` µs per `period` µs as CPUs, or none.
fn quota_of(quota: Option<f64>, period: f64, unlimited: bool) -> Option<Limit<f64>> {
    if unlimited {
        return Some(Limit::Unlimited);
    }
    let quota = quota?;
    (period > 0.0).then(|| Limit::Limited(quota / period))
}

/// The tightest limit along the placement's folder and its ancestors, each read by `read`
/// from `file`; the source names the folder that sets it.
fn tightest<T: Copy>(
    p: &Placement,
    file: &str,
    read: impl Fn(&Path) -> Option<Limit<T>>,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> Fact<Limit<T>> {
    let version = if p.v2 { "v2" } else { "v1" };
    let mut best: Option<(T, &Path)> = None;
    let mut read_any = false;
    for dir in p.chain() {
        match read(dir) {
            Some(Limit::Limited(v)) => {
                read_any = true;
                if best.is_none_or(|(b, _)| cmp(&v, &b).is_lt()) {
                    best = Some((v, dir));
                }
            }
            Some(Limit::Unlimited) => read_any = true,
            None => {}
        }
    }
    match best {
        Some((v, dir)) => Fact::known(
            Limit::Limited(v),
            format!("cgroup {version} {}", dir.join(file).display()),
        ),
        None if read_any => Fact::known(
            Limit::Unlimited,
            format!("cgroup {version} {} (no limit)", p.dir.join(file).display()),
        ),
        // v2's root cgroup has no limit files: nothing can limit it.
        None if p.v2 && p.dir == p.mount => Fact::known(
            Limit::Unlimited,
            format!("cgroup v2 root {} (no limit)", p.dir.display()),
        ),
        None => Fact::unknown(format!(
            "cgroup {version}: no readable {file} in {}",
            p.dir.display()
        )),
    }
}

/// mountinfo writes space, tab, newline and backslash in paths as octal escapes.
fn unescape(path: &str) -> String {
    path.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, file: &str, text: &str) {
        let path = root.join(file.trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const V2_MOUNT: &str = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";

    /// A Slurm job on cgroup v2: the job's folder limits memory, its parent limits the CPU;
    /// the tightest of the chain is taken and named.
    #[test]
    fn v2_limits_are_the_tightest_along_the_path() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let job = "/sys/fs/cgroup/slurm/job_7";
        write(r, "/sys/fs/cgroup/cpu.max", "max 100000\n");
        write(r, "/sys/fs/cgroup/memory.max", "max\n");
        write(r, "/sys/fs/cgroup/slurm/cpu.max", "400000 100000\n");
        write(r, "/sys/fs/cgroup/slurm/memory.max", "68719476736\n");
        write(r, &format!("{job}/cpu.max"), "max 100000\n");
        write(r, &format!("{job}/memory.max"), "17179869184\n");
        let l = limits("0::/slurm/job_7\n", V2_MOUNT, r);
        assert_eq!(l.cpu_quota.value, Some(Limit::Limited(4.0)));
        assert!(
            l.cpu_quota.source.ends_with("sys/fs/cgroup/slurm/cpu.max"),
            "{}",
            l.cpu_quota.source
        );
        assert!(l.cpu_quota.source.starts_with("cgroup v2 "));
        assert_eq!(l.memory_limit.value, Some(Limit::Limited(17_179_869_184)));
        assert!(l.memory_limit.source.ends_with("slurm/job_7/memory.max"));
    }

    /// A container sees its own cgroup as "/": the mount's root is its path.
    #[test]
    fn a_containers_own_cgroup_is_read_at_the_mount() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(r, "/sys/fs/cgroup/cpu.max", "150000 100000\n");
        write(r, "/sys/fs/cgroup/memory.max", "max\n");
        let l = limits("0::/\n", V2_MOUNT, r);
        assert_eq!(l.cpu_quota.value, Some(Limit::Limited(1.5)));
        assert_eq!(l.memory_limit.value, Some(Limit::Unlimited));
        assert!(l.memory_limit.source.ends_with("memory.max (no limit)"));
        // A mount of a cgroup's subtree (the host's path under the mount's root).
        let mount = "30 23 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let l = limits("0::/docker/abc\n", mount, r);
        assert_eq!(l.cpu_quota.value, Some(Limit::Limited(1.5)));
    }

    /// A hybrid system (this project's machines): cpu and memory on v1 mounts, an empty v2.
    #[test]
    fn v1_controllers_are_read_where_they_are_mounted() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let cgroup = "4:memory:/process_api/68\n1:cpu,cpuacct:/\n0::/\n";
        let mountinfo = "\
            40 30 0:35 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
            41 30 0:36 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
            42 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        write(r, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
        write(
            r,
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us",
            "100000\n",
        );
        let memory = "/sys/fs/cgroup/memory";
        write(
            r,
            &format!("{memory}/memory.limit_in_bytes"),
            "9223372036854771712\n",
        );
        write(
            r,
            &format!("{memory}/process_api/68/memory.limit_in_bytes"),
            "9223372036854771712\n",
        );
        let l = limits(cgroup, mountinfo, r);
        assert_eq!(l.cpu_quota.value, Some(Limit::Unlimited));
        assert!(l.cpu_quota.source.starts_with("cgroup v1 "));
        assert_eq!(l.memory_limit.value, Some(Limit::Unlimited));
        write(r, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "200000\n");
        write(
            r,
            &format!("{memory}/process_api/68/memory.limit_in_bytes"),
            "8589934592\n",
        );
        let l = limits(cgroup, mountinfo, r);
        assert_eq!(l.cpu_quota.value, Some(Limit::Limited(2.0)));
        assert_eq!(l.memory_limit.value, Some(Limit::Limited(8_589_934_592)));
    }

    /// No cgroup file system, or no limit file: said, not guessed.
    #[test]
    fn missing_cgroups_are_unknown_with_the_reason() {
        let root = tempfile::tempdir().unwrap();
        let l = limits("", "", root.path());
        assert_eq!(l.cpu_quota.value, None);
        assert!(l
            .cpu_quota
            .source
            .contains("no cgroup with the cpu controller"));
        let l = limits("0::/job\n", V2_MOUNT, root.path());
        assert_eq!(l.memory_limit.value, None);
        assert!(
            l.memory_limit.source.contains("no readable memory.max"),
            "{}",
            l.memory_limit.source
        );
        // The root cgroup of v2 has no limit files, and nothing above it.
        let l = limits("0::/\n", V2_MOUNT, root.path());
        assert_eq!(l.memory_limit.value, Some(Limit::Unlimited));
        assert!(l.cpu_quota.source.starts_with("cgroup v2 root "));
    }

    /// This machine's own files parse (whatever limits it has).
    #[test]
    fn this_process_is_read_without_error() {
        let l = capture();
        if cfg!(target_os = "linux") && Path::new("/sys/fs/cgroup").is_dir() {
            assert!(l.memory_limit.value.is_some(), "{}", l.memory_limit.source);
        }
    }
}
