//! The resume journal of a suite run.
//!
//! Beside the result file `<stem>.json`, the folder `<stem>.resume/` holds every finished unit
//! of work (a training run, an HPO trial, a DARTS search, a retrain) as its own JSON file, and
//! the epoch checkpoint of each unit in progress. `harness run --resume` replays the suite:
//! finished units come back from the journal exactly as they were (numbers and timings), the
//! unit in progress continues from its checkpoint, and everything after it runs as usual. The
//! folder is removed when the suite completes.
//!
//! Every file is written atomically, and the journal holds an exclusive lock (`flock`) for
//! as long as a process uses it: two `harness run --resume` of the same result never write
//! the same files, and a killed process releases its lock with its life.
use crate::fsutil;
use crate::train::TrainOptions;
use anyhow::{Context, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Another process holds the journal: it is writing the same result file.
#[derive(Debug, thiserror::Error)]
#[error(
    "{result}: another `harness run` is writing this result (its resume folder {dir} is \
     locked); wait for it to finish or stop it first"
)]
pub struct Locked {
    pub result: String,
    pub dir: String,
}

pub struct Journal {
    dir: PathBuf,
    checkpoint_every: usize,
    _lock: File,
}

/// The value of unit `key` if `journal` has it finished (never without a journal).
pub fn finished<T: DeserializeOwned>(journal: Option<&Journal>, key: &str) -> Result<Option<T>> {
    journal.map_or(Ok(None), |j| j.get(key))
}

/// Records unit `key` as finished in `journal`, if there is one.
pub fn record<T: Serialize>(journal: Option<&Journal>, key: &str, value: &T) -> Result<()> {
    journal.map_or(Ok(()), |j| j.put(key, value))
}

/// `base` with the epoch checkpoint of unit `key` in `journal` (none without a journal).
pub fn train_options(journal: Option<&Journal>, base: &TrainOptions, key: &str) -> TrainOptions {
    let mut options = base.with_checkpoint(journal.map(|j| j.checkpoint(key)));
    if let Some(j) = journal {
        options.checkpoint_every = j.checkpoint_every();
    }
    options
}

/// The journal folder of a result file.
pub fn journal_dir(result_path: &Path) -> PathBuf {
    let stem = result_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    result_path.with_file_name(format!("{stem}.resume"))
}

impl Journal {
    /// Opens (creating if needed) and locks the journal of `result_path`.
    pub fn open(result_path: &Path, checkpoint_every: usize) -> Result<Journal> {
        let dir = journal_dir(result_path);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("{}: cannot create the resume folder", dir.display()))?;
        fsutil::remove_stale_temps(&dir);
        let lock_path = dir.join("lock");
        let lock = File::create(&lock_path)
            .with_context(|| format!("{}: cannot create", lock_path.display()))?;
        // SAFETY: flock on a file descriptor we own; no memory is shared with the call.
        let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            return Err(Locked {
                result: result_path.display().to_string(),
                dir: dir.display().to_string(),
            }
            .into());
        }
        Ok(Journal {
            dir,
            checkpoint_every: checkpoint_every.max(1),
            _lock: lock,
        })
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The finished unit `key`, if the journal has it.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let path = self.entry(key);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| {
                format!(
                    "{}: unreadable journal entry; delete it to redo this unit",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("{}: cannot read", path.display())),
        }
    }

    /// Records unit `key` as finished and drops its checkpoint.
    pub fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let path = self.entry(key);
        let bytes = serde_json::to_vec(value)?;
        fsutil::write_atomic(&path, &bytes)
            .with_context(|| format!("{}: cannot write the journal entry", path.display()))?;
        crate::checkpoint::remove(&self.checkpoint(key));
        Ok(())
    }

    /// Where unit `key` keeps its epoch checkpoint.
    pub fn checkpoint(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.ckpt"))
    }

    pub fn checkpoint_every(&self) -> usize {
        self.checkpoint_every
    }

    /// The suite completed: the journal is no longer needed.
    pub fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_a_second_opener_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let result = dir.path().join("quick-host-1.json");
        let j = Journal::open(&result, 1).unwrap();
        assert!(j.get::<Vec<u32>>("manual.seed-1").unwrap().is_none());
        std::fs::write(j.checkpoint("manual.seed-1"), b"x").unwrap();
        j.put("manual.seed-1", &vec![1u32, 2]).unwrap();
        assert_eq!(
            j.get::<Vec<u32>>("manual.seed-1").unwrap(),
            Some(vec![1, 2])
        );
        assert!(
            !j.checkpoint("manual.seed-1").exists(),
            "checkpoint dropped"
        );
        let e = Journal::open(&result, 1).err().unwrap().to_string();
        assert!(e.contains("another `harness run`"), "{e}");
        j.finish();
        assert!(!dir.path().join("quick-host-1.resume").exists());
        // The lock went with the journal.
        Journal::open(&result, 1).unwrap();
    }
}
