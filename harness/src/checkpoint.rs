//! Epoch checkpoints: named tensors and a JSON header in one file, replaced atomically, so a
//! killed run resumes from its last finished epoch and never finds half a checkpoint.
use crate::fsutil;
use anyhow::{Context, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::Tensor;

const HEADER: &str = "__checkpoint_header__";
const FORMAT: &str = "harness-checkpoint-1";

/// A run stopped by Ctrl-C / SIGTERM: not a result (its checkpoint stays for `--resume`).
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// A file of the state `--resume` continues from (an epoch checkpoint, a journal entry) is
/// damaged or belongs to another run. Bad input, not a failed run: the suite stops at once
/// and leaves the result file and the resume folder as they were, so that deleting this one
/// file and resuming again redoes only its unit.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}; {advice}", path.display())]
pub struct CorruptResumeState {
    pub path: PathBuf,
    /// What is wrong with it (one line).
    pub problem: String,
    /// What to do, e.g. "delete it and resume again to restart this run from its first epoch".
    pub advice: std::borrow::Cow<'static, str>,
}

impl CorruptResumeState {
    /// Whether `error` is (or was caused by) damaged resume state.
    pub fn in_chain(error: &anyhow::Error) -> bool {
        error.chain().any(|c| c.is::<CorruptResumeState>())
    }
}

/// What to do with a damaged checkpoint, and what it costs.
const REDO_RUN: &str = "delete it and resume again to restart this run from its first epoch";

fn corrupt(path: &Path, problem: impl Into<String>) -> CorruptResumeState {
    CorruptResumeState {
        path: path.to_path_buf(),
        problem: problem.into(),
        advice: REDO_RUN.into(),
    }
}

/// Whether Ctrl-C / SIGTERM has asked the run to stop (`flag` None: never).
pub fn interrupted(flag: Option<&std::sync::atomic::AtomicBool>) -> bool {
    flag.is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
}

/// Where a training loop keeps its epoch checkpoint, and how often it writes it.
#[derive(Debug, Clone)]
pub struct EpochCheckpoint {
    pub path: std::path::PathBuf,
    /// Epochs between writes (≥ 1).
    pub every: usize,
    /// Identifies the run; see [`fingerprint`].
    pub fingerprint: String,
}

impl EpochCheckpoint {
    /// Whether to write after `done` of `total` epochs (never after the last: the finished run
    /// is recorded instead).
    pub fn due(&self, done: usize, total: usize) -> bool {
        due(done, total, self.every)
    }
}

/// Whether a checkpoint is due after `done` of `total` epochs when writing every `every`.
pub fn due(done: usize, total: usize, every: usize) -> bool {
    done < total && done.is_multiple_of(every.max(1))
}

/// Named tensors `prefix.0`, `prefix.1`, … of a list.
pub fn indexed(prefix: &str, tensors: &[Tensor]) -> Vec<(String, Tensor)> {
    tensors
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("{prefix}.{i}"), t.shallow_clone()))
        .collect()
}

/// A loaded checkpoint.
pub struct Checkpoint {
    path: PathBuf,
    tensors: HashMap<String, Tensor>,
    header: serde_json::Value,
}

#[derive(Serialize, serde::Deserialize)]
struct Header<M> {
    format: String,
    /// Identifies the run (recipe, seed, data): a checkpoint of another run is refused.
    fingerprint: String,
    meta: M,
}

/// Writes `tensors` (copied to the CPU) and `meta` to `path` atomically.
pub fn save(
    path: &Path,
    fingerprint: &str,
    tensors: &[(String, Tensor)],
    meta: &impl Serialize,
) -> Result<()> {
    let header = serde_json::to_vec(&Header {
        format: FORMAT.to_string(),
        fingerprint: fingerprint.to_string(),
        meta,
    })?;
    let header = Tensor::from_slice(&header);
    let cpu: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(n, t)| (n.clone(), t.detach().to_device(tch::Device::Cpu)))
        .collect();
    let mut named: Vec<(&str, &Tensor)> = cpu.iter().map(|(n, t)| (n.as_str(), t)).collect();
    named.push((HEADER, &header));
    // Serialised in memory and written by us: libtorch's own file writer aborts the process
    // when the disk fills (it throws from a destructor), where we want a clear error.
    let buffer = SharedBuffer::default();
    Tensor::save_multi_to_stream(&named, buffer.clone())
        .with_context(|| format!("{}: cannot serialise the checkpoint", path.display()))?;
    let bytes = std::mem::take(&mut *buffer.0.lock().unwrap_or_else(|e| e.into_inner()));
    fsutil::write_atomic(path, &bytes)
        .with_context(|| format!("{}: cannot write the checkpoint", path.display()))
}

/// A `Write` into memory that libtorch's `'static` stream writer can own.
#[derive(Clone, Default)]
struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Loads the checkpoint at `path` if there is one. A checkpoint of another run (different
/// fingerprint) or an unreadable one is a [`CorruptResumeState`].
pub fn load(path: &Path, fingerprint: &str) -> Result<Option<Checkpoint>> {
    if !path.exists() {
        return Ok(None);
    }
    let (tensors, header) = read(path)?;
    of_run(path, &header, fingerprint)?;
    Ok(Some(Checkpoint {
        path: path.to_path_buf(),
        tensors,
        header: header.meta,
    }))
}

/// Checks that `path` is a whole checkpoint of this harness, whichever run it belongs to (a
/// resume checks every file before it writes anything).
pub fn check(path: &Path) -> Result<(), CorruptResumeState> {
    read(path).map(drop)
}

/// Checks that `path` is a whole checkpoint of the run `fingerprint` identifies, for a
/// checkpoint a resume would otherwise read only after it has written newer state.
pub fn check_of_run(path: &Path, fingerprint: &str) -> Result<(), CorruptResumeState> {
    let (_, header) = read(path)?;
    of_run(path, &header, fingerprint)
}

fn of_run(
    path: &Path,
    header: &Header<serde_json::Value>,
    fingerprint: &str,
) -> Result<(), CorruptResumeState> {
    if header.fingerprint != fingerprint {
        return Err(corrupt(
            path,
            "checkpoint of another run (its settings differ from this run's)",
        ));
    }
    Ok(())
}

type Contents = (HashMap<String, Tensor>, Header<serde_json::Value>);

fn read(path: &Path) -> Result<Contents, CorruptResumeState> {
    let tensors: HashMap<String, Tensor> = Tensor::load_multi(path)
        .map_err(|e| {
            corrupt(
                path,
                format!("not a readable checkpoint ({})", torch_line(&e)),
            )
        })?
        .into_iter()
        .collect();
    let header = tensors
        .get(HEADER)
        .ok_or_else(|| corrupt(path, "checkpoint without a header"))?;
    let bytes = Vec::<u8>::try_from(header)
        .map_err(|e| corrupt(path, format!("bad checkpoint header ({})", torch_line(&e))))?;
    let header: Header<serde_json::Value> = serde_json::from_slice(&bytes)
        .map_err(|e| corrupt(path, format!("bad checkpoint header ({e})")))?;
    if header.format != FORMAT {
        return Err(corrupt(
            path,
            format!(
                "checkpoint format \"{}\" (this harness writes \"{FORMAT}\")",
                header.format
            ),
        ));
    }
    Ok((tensors, header))
}

/// libtorch's message in one line: its first, without tch's prefix or the C++ stack trace.
fn torch_line(error: &tch::TchError) -> String {
    let text = crate::error_text::without_torch_trace(&error.to_string());
    let text = text.strip_prefix("Internal torch error: ").unwrap_or(&text);
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

impl Checkpoint {
    pub fn meta<M: DeserializeOwned>(&self) -> Result<M> {
        serde_json::from_value(self.header.clone())
            .map_err(|e| corrupt(&self.path, format!("bad checkpoint header ({e})")).into())
    }

    /// The tensor saved under `name`.
    pub fn tensor(&self, name: &str) -> Result<Tensor> {
        self.tensors
            .get(name)
            .map(|t| t.shallow_clone())
            .ok_or_else(|| {
                corrupt(
                    &self.path,
                    format!("the checkpoint has no tensor \"{name}\""),
                )
                .into()
            })
    }

    /// Copies the saved values into `targets` (same names, same shapes).
    pub fn restore(&self, targets: &[(String, Tensor)]) -> Result<()> {
        tch::no_grad(|| {
            for (name, target) in targets {
                let src = self.tensor(name)?;
                if src.size() != target.size() {
                    return Err(corrupt(
                        &self.path,
                        format!(
                            "tensor \"{name}\" has shape {:?}, the model needs {:?}",
                            src.size(),
                            target.size()
                        ),
                    )
                    .into());
                }
                target
                    .shallow_clone()
                    .copy_(&src.to_kind(target.kind()).to_device(target.device()));
            }
            Ok(())
        })
    }
}

/// A fingerprint of everything that determines a run (hex SHA-256 of the parts).
pub fn fingerprint(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes a checkpoint (a run that finished no longer needs it).
pub fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// Named variables of a var store in a fixed (sorted) order: model parameters and buffers such
/// as batch-norm running statistics.
pub fn named_variables(vs: &tch::nn::VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// A seed for epoch `epoch` of a run seeded `seed`: the random state is set afresh at every
/// epoch so that a run resumed at an epoch boundary draws the same numbers as one that never
/// stopped (libtorch's generator state cannot be saved through tch).
pub fn epoch_seed(seed: u64, epoch: usize) -> i64 {
    let mut z = seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 1) as i64
}

/// The seed of one training step of a run that shares the process with other runs: see
/// [`exclusive_generator`].
pub fn step_seed(seed: u64, epoch: usize, step: usize) -> i64 {
    epoch_seed(epoch_seed(seed, epoch) as u64, step)
}

/// libtorch has one random generator per device for the whole process. Runs that train at
/// the same time (concurrent HPO trials) hold this lock while they seed it and draw from it
/// (initialisation, the epoch's shuffle, a step's augmentation and dropout), so no run's
/// numbers depend on when another drew. Sequential runs do not need it.
pub fn exclusive_generator() -> std::sync::MutexGuard<'static, ()> {
    static GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());
    GENERATOR.lock().unwrap_or_else(|e| e.into_inner())
}

/// Seeds every generator libtorch uses for `device`.
pub fn seed_all(seed: i64, device: tch::Device) {
    tch::manual_seed(seed);
    if device.is_cuda() {
        tch::Cuda::manual_seed_all(seed as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_restore_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ckpt");
        let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
        save(
            &path,
            "fp",
            &[("a".into(), a.shallow_clone())],
            &(7usize, "x"),
        )
        .unwrap();
        let ck = load(&path, "fp").unwrap().unwrap();
        let (n, s): (usize, String) = ck.meta().unwrap();
        assert_eq!((n, s.as_str()), (7, "x"));
        let b = Tensor::zeros([3], (tch::Kind::Float, tch::Device::Cpu));
        ck.restore(&[("a".into(), b.shallow_clone())]).unwrap();
        assert!(a.equal(&b));
        let wrong = Tensor::zeros([2], (tch::Kind::Float, tch::Device::Cpu));
        let e = ck.restore(&[("a".into(), wrong)]).unwrap_err().to_string();
        assert!(e.contains("shape [3]"), "{e}");
    }

    #[test]
    fn refuses_another_runs_checkpoint_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ckpt");
        save(&path, "fp-a", &[], &()).unwrap();
        let e = load(&path, "fp-b").err().unwrap().to_string();
        assert!(e.contains("another run") && e.contains("delete it"), "{e}");
        std::fs::write(&path, b"not a checkpoint").unwrap();
        let e = load(&path, "fp-a").err().unwrap();
        assert!(CorruptResumeState::in_chain(&e));
        // libtorch's first line, in one line: no C++ stack frames.
        let e = e.to_string();
        assert!(
            e.contains("run.ckpt: not a readable checkpoint (PytorchStreamReader failed")
                && e.ends_with(
                    "; delete it and resume again to restart this run from its first epoch"
                )
                && !e.contains("frame #")
                && !e.contains('\n'),
            "{e}"
        );
        assert!(check(&path).is_err());
        assert!(load(&dir.path().join("none.ckpt"), "fp-a")
            .unwrap()
            .is_none());
    }

    /// A full disk while a checkpoint is replaced: a clear error naming the file, and the
    /// previous checkpoint still loads (libtorch's own file writer would abort the process).
    #[test]
    fn a_full_disk_keeps_the_previous_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ckpt");
        let one = Tensor::from_slice(&[1.0f32]);
        save(&path, "fp", &[("w".into(), one.shallow_clone())], &1usize).unwrap();
        crate::fsutil::FAIL_WRITES_WITH.with(|f| f.set(Some(libc::ENOSPC)));
        let two = Tensor::from_slice(&[2.0f32]);
        let err = save(&path, "fp", &[("w".into(), two)], &2usize).unwrap_err();
        crate::fsutil::FAIL_WRITES_WITH.with(|f| f.set(None));
        let msg = format!("{err:#}");
        assert!(
            msg.contains("run.ckpt: cannot write the checkpoint")
                && msg.contains("No space left on device"),
            "{msg}"
        );
        let ck = load(&path, "fp").unwrap().unwrap();
        assert_eq!(ck.meta::<usize>().unwrap(), 1);
        assert!(ck.tensor("w").unwrap().equal(&one));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp left"
        );
    }

    #[test]
    fn epoch_seeds_differ_and_repeat() {
        assert_eq!(epoch_seed(1, 0), epoch_seed(1, 0));
        assert_ne!(epoch_seed(1, 0), epoch_seed(1, 1));
        assert_ne!(epoch_seed(1, 0), epoch_seed(2, 0));
        assert!(epoch_seed(u64::MAX, 5) >= 0);
    }
}
