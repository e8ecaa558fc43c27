//! Crash-safe file writing: a reader never sees a half-written file.
//!
//! Data goes to a temporary file in the same folder, is flushed to disk (fsync), and is then
//! moved into place with one atomic step. A `kill -9` at any moment leaves either the old file
//! or the new one, plus at most a stray `.tmp-*` file that readers ignore.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = format!(
        ".tmp-{}-{}-{name}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    target.with_file_name(unique)
}

#[cfg(test)]
thread_local! {
    /// Tests set an errno here to make the next writes on this thread fail half-way, as on a
    /// full disk (ENOSPC).
    pub static FAIL_WRITES_WITH: std::cell::Cell<Option<i32>> = const { std::cell::Cell::new(None) };
}

fn write_temp(target: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let tmp = temp_path(target);
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        #[cfg(test)]
        if let Some(errno) = FAIL_WRITES_WITH.with(|f| f.get()) {
            f.write_all(&bytes[..bytes.len() / 2])?;
            return Err(io::Error::from_raw_os_error(errno));
        }
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Replaces (or creates) `path` atomically. On any error the previous file is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path);
    Ok(())
}

/// Removes this folder's `.tmp-*` files left by processes that are no longer running (a
/// `kill -9` between writing a temporary file and renaming it). Returns how many.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(".tmp-") else {
            continue;
        };
        let pid: Option<u32> = rest.split('-').next().and_then(|p| p.parse().ok());
        let alive = pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Creates `path` atomically, failing with `AlreadyExists` rather than replacing a file.
pub fn create_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    // A hard link fails if the target exists, which rename would silently replace.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    linked?;
    sync_dir(path);
    Ok(())
}

/// The part of `dir` that stops files being created in it (the folder is created if missing):
/// the first existing one of `dir` and the folders above it, when that is not a folder.
pub fn non_folder_in(dir: &Path) -> Option<PathBuf> {
    // Rebuilt from its components: `file/` fails `exists()` (ENOTDIR) where `file` does not.
    let dir: PathBuf = dir.components().collect();
    let existing = dir.ancestors().find(|a| a.exists() || a.is_symlink())?;
    (!existing.is_dir()).then(|| existing.to_path_buf())
}

/// Creates `dir/stem.ext`, or `dir/stem-2.ext`, `-3`, ... if taken; returns the path used.
/// Two processes racing for a name never both get it.
pub fn create_unique(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    for n in 1..10_000 {
        let name = if n == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{n}.{ext}")
        };
        let path = dir.join(name);
        match create_atomic(&path, bytes) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free file name for {stem}.{ext} in {}", dir.display()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_unique_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let a = create_unique(dir.path(), "r", "json", b"one").unwrap();
        let b = create_unique(dir.path(), "r", "json", b"two").unwrap();
        assert_ne!(a, b);
        assert_eq!(fs::read(&a).unwrap(), b"one");
        assert_eq!(fs::read(&b).unwrap(), b"two");
        assert!(b.to_string_lossy().ends_with("r-2.json"));
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".tmp-")
            })
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn write_atomic_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second, longer").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second, longer");
        assert_eq!(
            create_atomic(&p, b"x").unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(fs::read(&p).unwrap(), b"second, longer");
    }
}
