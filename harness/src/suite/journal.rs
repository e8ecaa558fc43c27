//! The resume journal of a suite run.
//!
//! Beside the result file `<stem>.json`, the folder `<stem>.resume/` holds every finished unit
//! of work (a training run, an HPO trial, a DARTS search, a retrain) as its own JSON file, and
//! the epoch checkpoint of each unit in progress. `harness run --resume` replays the suite:
//! finished units come back from the journal exactly as they were (numbers and timings), the
//! unit in progress continues from its checkpoint, and everything after it runs as usual. The
//! files it wrote there are removed when the suite completes (a user's own files stay).
//!
//! Every file is written atomically, and the journal holds an exclusive lock (`flock`) for
//! as long as a process uses it: two `harness run --resume` of the same result never write
//! the same files, and a killed process releases its lock with its life.
//!
//! A damaged file (a disk error, a bad copy, a hand edit) is a [`CorruptResumeState`] naming
//! it: opening the journal checks every file before the run writes anything, so the user can
//! delete that one file and resume again. A resume refused so leaves the folder as it found it
//! ([`Journal::refused`]): the lock file goes again if this process created it, and the stale
//! temporaries of killed writes are only removed when the journal first writes.
use crate::checkpoint::CorruptResumeState;
use crate::fsutil;
use crate::train::TrainOptions;
use anyhow::{Context, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// Whether this process created the lock file (a resume folder whose lock was deleted, or
    /// one made by hand): a refused resume removes it again.
    created_lock: bool,
    /// Whether the stale temporaries were removed: at the first write, so that a resume
    /// refused while it replays the journal leaves them as they were.
    swept: AtomicBool,
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

/// Journal entry `path`, whose text is `bytes`.
fn parse<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, CorruptResumeState> {
    serde_json::from_slice(bytes).map_err(|e| CorruptResumeState {
        path: path.to_path_buf(),
        problem: format!("unreadable journal entry ({e})"),
        advice: "delete it and resume again to redo this unit".into(),
    })
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
        let lock_path = dir.join("lock");
        // A folder (or a pipe, which would block the open) where the lock belongs is the
        // folder's damage, not a failed run.
        if let Ok(meta) = std::fs::metadata(&lock_path) {
            if !meta.is_file() {
                return Err(CorruptResumeState {
                    path: lock_path,
                    problem: "not a file, so it cannot be the resume folder's lock".into(),
                    advice: "delete it and resume again (the lock holds nothing of the run)".into(),
                }
                .into());
            }
        }
        // Not truncated: a resume refused below leaves the folder as it found it.
        let created_lock = !lock_path.exists();
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
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
        let journal = Journal {
            dir,
            checkpoint_every: checkpoint_every.max(1),
            _lock: lock,
            created_lock,
            swept: AtomicBool::new(false),
        };
        match journal.check_files() {
            Ok(()) => Ok(journal),
            Err(e) => Err(journal.refused(e)),
        }
    }

    /// Ends the journal of a resume refused with `error` (damaged resume state): the folder is
    /// left as this process found it, so the lock file goes if it created it (it is still
    /// held, so no other process can have taken it meanwhile). Returns `error`.
    pub fn refused(self, error: anyhow::Error) -> anyhow::Error {
        if self.created_lock {
            let _ = std::fs::remove_file(self.dir.join("lock"));
        }
        error
    }

    /// Every entry parses and every checkpoint loads (whose run it is, and whether an entry
    /// has the shape its unit expects, is checked when the unit reads it).
    fn check_files(&self) -> Result<()> {
        let entries = std::fs::read_dir(&self.dir)
            .with_context(|| format!("{}: cannot list the resume folder", self.dir.display()))?;
        // Hidden files are a killed write's temporaries, never read.
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        paths.sort();
        for path in paths {
            match path.extension().and_then(|e| e.to_str()) {
                Some("json") => {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("{}: cannot read", path.display()))?;
                    parse::<serde::de::IgnoredAny>(&path, &bytes)?;
                }
                Some("ckpt") => crate::checkpoint::check(&path)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The keys of the finished units whose key starts with `prefix`, sorted.
    pub fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let entries = std::fs::read_dir(&self.dir)
            .with_context(|| format!("{}: cannot list the resume folder", self.dir.display()))?;
        let mut keys: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                // Hidden files are a killed write's temporaries, no entries.
                name.strip_suffix(".json")
                    .filter(|k| k.starts_with(prefix) && !k.starts_with('.'))
                    .map(str::to_string)
            })
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// The file of unit `key`'s entry.
    pub fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The finished unit `key`, if the journal has it.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let path = self.entry(key);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(parse(&path, &bytes)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("{}: cannot read", path.display())),
        }
    }

    /// Records unit `key` as finished and drops its checkpoint.
    pub fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        // The run writes: the temporaries of writes that a kill cut short can go.
        if !self.swept.swap(true, Ordering::SeqCst) {
            fsutil::remove_stale_temps(&self.dir);
        }
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

    /// The suite completed: the journal is no longer needed. Only what the harness writes here
    /// goes (entries, checkpoints, the lock, temporaries): the folder stays if it holds
    /// anything else, such as a user's own file, and those files are returned to be named.
    pub fn finish(self) -> Vec<PathBuf> {
        let mut kept = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let is_file = entry.file_type().is_ok_and(|t| t.is_file());
                let ours = is_file && written_here(&entry.file_name().to_string_lossy());
                if !(ours && std::fs::remove_file(&path).is_ok()) {
                    kept.push(path);
                }
            }
        }
        if kept.is_empty() {
            let _ = std::fs::remove_dir(&self.dir);
        }
        kept.sort();
        kept
    }
}

/// Whether a file of the resume folder is one the harness writes there: `lock`, a unit's entry
/// or checkpoint (`<arm>.<unit>.json` / `.ckpt`), or a write's temporary (`.tmp-*`).
fn written_here(name: &str) -> bool {
    let unit_file = (name.ends_with(".json") || name.ends_with(".ckpt"))
        && super::ArmKind::ALL
            .iter()
            .any(|arm| name.starts_with(&format!("{}.", arm.name())));
    name == "lock" || name.starts_with(".tmp-") || unit_file
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
        assert!(j.finish().is_empty());
        assert!(!dir.path().join("quick-host-1.resume").exists());
        // The lock went with the journal.
        Journal::open(&result, 1).unwrap();
    }

    /// Finishing removes what the journal writes and keeps anything else, which it names.
    #[test]
    fn finishing_keeps_files_the_journal_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let result = dir.path().join("quick-host-1.json");
        let j = Journal::open(&result, 1).unwrap();
        j.put("tuned.job-0", &1u32).unwrap();
        std::fs::write(j.checkpoint("nas.search"), b"x").unwrap();
        std::fs::write(journal_dir(&result).join(".tmp-1-tuned.job-1.json"), b"{").unwrap();
        std::fs::write(journal_dir(&result).join("notes.json"), b"{}").unwrap();
        std::fs::create_dir(journal_dir(&result).join("original.seed-1.json")).unwrap();
        let kept = j.finish();
        let names: Vec<String> = kept
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["notes.json", "original.seed-1.json"]);
        let left = std::fs::read_dir(journal_dir(&result)).unwrap().count();
        assert_eq!(
            left, 2,
            "the lock, the entry, the checkpoint and the temporary are gone"
        );
    }

    /// A damaged entry or checkpoint is refused when the journal opens, naming the file and
    /// what to do; an entry of the wrong shape when its unit reads it.
    #[test]
    fn damaged_files_are_corrupt_resume_state() {
        let dir = tempfile::tempdir().unwrap();
        let result = dir.path().join("quick-host-1.json");
        let j = Journal::open(&result, 1).unwrap();
        j.put("manual.seed-1", &vec![1u32]).unwrap();
        let e = j.get::<String>("manual.seed-1").unwrap_err();
        assert!(CorruptResumeState::in_chain(&e), "{e}");
        drop(j);
        let entry = journal_dir(&result).join("manual.seed-1.json");
        std::fs::write(&entry, "garbage").unwrap();
        let e = Journal::open(&result, 1).err().unwrap();
        assert!(CorruptResumeState::in_chain(&e), "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: unreadable journal entry (expected value at line 1 column 1); delete it \
                 and resume again to redo this unit",
                entry.display()
            )
        );
        std::fs::remove_file(&entry).unwrap();
        let ckpt = journal_dir(&result).join("manual.seed-2.ckpt");
        std::fs::write(&ckpt, [7u8; 100]).unwrap();
        let e = Journal::open(&result, 1).err().unwrap().to_string();
        assert!(
            e.starts_with(&format!("{}: not a readable checkpoint", ckpt.display())),
            "{e}"
        );
        std::fs::remove_file(&ckpt).unwrap();
        // A killed write's half-written temporary is no entry.
        std::fs::write(journal_dir(&result).join(".tmp-1-manual.seed-3.json"), "{").unwrap();
        let j = Journal::open(&result, 1).unwrap();
        assert_eq!(j.keys("").unwrap(), Vec::<String>::new(), "no entry");
    }

    /// A journal that refuses to open leaves its folder as it found it: no lock file where
    /// there was none, the temporaries of killed writes kept; those go at the first write.
    #[test]
    fn a_refused_open_leaves_the_folder_as_it_found_it() {
        let dir = tempfile::tempdir().unwrap();
        let result = dir.path().join("quick-host-1.json");
        let folder = journal_dir(&result);
        std::fs::create_dir(&folder).unwrap();
        // No process has this pid: a stale temporary.
        let temp = folder.join(".tmp-4294967295-0-manual.seed-2.json");
        std::fs::write(&temp, "{").unwrap();
        std::fs::write(folder.join("manual.seed-1.json"), "garbage").unwrap();
        let listing = || {
            let mut names: Vec<String> = std::fs::read_dir(&folder)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let before = listing();
        assert!(Journal::open(&result, 1).is_err());
        assert_eq!(listing(), before);
        // Opened, a refusal found later (by a unit) removes the lock this open created...
        std::fs::write(folder.join("manual.seed-1.json"), "[1]").unwrap();
        let j = Journal::open(&result, 1).unwrap();
        assert!(folder.join("lock").is_file() && temp.is_file());
        let e = j.refused(anyhow::anyhow!("refused"));
        assert_eq!(e.to_string(), "refused");
        assert_eq!(listing(), before);
        // ...not one that was there before it.
        std::fs::write(folder.join("lock"), "").unwrap();
        Journal::open(&result, 1)
            .unwrap()
            .refused(anyhow::anyhow!("x"));
        assert!(folder.join("lock").is_file());
        let j = Journal::open(&result, 1).unwrap();
        assert!(temp.is_file(), "kept until the journal writes");
        j.put("manual.seed-2", &vec![2u32]).unwrap();
        assert!(!temp.exists());
    }
}
