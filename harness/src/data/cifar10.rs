//! CIFAR-10, binary version (`cifar-10-binary.tar.gz`).
//!
//! Each of `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin` holds records of
//! 1 label byte followed by 3,072 pixel bytes: the R plane, then G, then B, each 32×32
//! row-major. The official files hold exactly 10,000 records (30,730,000 bytes).
//!
//! [`write_synthetic`] writes small files in the same format (with a `synthetic.json` marker,
//! which is what allows sizes other than the official one) for tests and CI. [`download`]
//! fetches, verifies and installs the official archive atomically.

use md5::{Digest, Md5};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

pub const URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/// MD5 of `cifar-10-binary.tar.gz`, as published on the CIFAR page.
pub const ARCHIVE_MD5: &str = "c32a1d4ab5d03f1284b67883e8d87530";
/// Directory the archive extracts to.
pub const BATCHES_DIR: &str = "cifar-10-batches-bin";
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
pub const TEST_FILE: &str = "test_batch.bin";
pub const IMAGE_BYTES: usize = 3 * 32 * 32;
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
pub const RECORDS_PER_OFFICIAL_FILE: usize = 10_000;
pub const OFFICIAL_FILE_BYTES: u64 = (RECORD_BYTES * RECORDS_PER_OFFICIAL_FILE) as u64;
/// Marker written by [`write_synthetic`].
pub const SYNTHETIC_MARKER: &str = "synthetic.json";
pub const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("CIFAR-10 directory {0} does not exist; run `harness data cifar10 --dir DIR` to download and verify it")]
    MissingDir(PathBuf),
    #[error("CIFAR-10 directory {0} is a file, not a folder")]
    NotADir(PathBuf),
    #[error("CIFAR-10 file {0} is a folder, not a file")]
    NotAFile(PathBuf),
    #[error("CIFAR-10 file {0} is missing (looked in {1} and {1}/cifar-10-batches-bin); run `harness data cifar10 --dir DIR` to download and verify it")]
    MissingFile(String, PathBuf),
    #[error("CIFAR-10 file {path} has {found} bytes, expected {expected}; the file is truncated or not the binary version; replace it with a good copy (`harness data cifar10 --dir DIR` downloads and verifies one into DIR/cifar-10-batches-bin)")]
    BadSize {
        path: PathBuf,
        found: u64,
        expected: String,
    },
    #[error("CIFAR-10 file {path}: record {record} has label {label}, labels must be 0..=9; the file is corrupt or not CIFAR-10 (CIFAR-100 binaries have 2 label bytes); run `harness data cifar10 --dir DIR` to download and verify it")]
    BadLabel {
        path: PathBuf,
        record: usize,
        label: u8,
    },
    // `error`, not `source`: shown in the message, so not chained as a cause to print twice.
    #[error("I/O error on {path}: {error}")]
    Io { path: PathBuf, error: io::Error },
    #[error("checksum mismatch for {path}: md5 {actual}, expected {expected}; the download is corrupt or incomplete, run the download again")]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("download of {url} failed: {msg}; without network access, fetch the file elsewhere, check its md5 (c32a1d4ab5d03f1284b67883e8d87530) and extract it into the data directory")]
    Download { url: String, msg: String },
    #[error("archive {path} is not a valid CIFAR-10 binary archive: {msg}")]
    Archive { path: PathBuf, msg: String },
    #[error("bad synthetic-data request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DataError + '_ {
    move |error| DataError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// The dataset, on the CPU.
#[derive(Debug)]
pub struct Cifar10 {
    /// u8 `[N, 3, 32, 32]`.
    pub train_images: Tensor,
    /// i64 `[N]`.
    pub train_labels: Tensor,
    /// u8 `[M, 3, 32, 32]`.
    pub test_images: Tensor,
    /// i64 `[M]`.
    pub test_labels: Tensor,
}

/// Finds the directory holding the batch files: `dir` itself or `dir/cifar-10-batches-bin`.
pub fn resolve_dir(dir: &Path) -> Result<PathBuf, DataError> {
    if dir.exists() && !dir.is_dir() {
        return Err(DataError::NotADir(dir.to_path_buf()));
    }
    if !dir.is_dir() {
        return Err(DataError::MissingDir(dir.to_path_buf()));
    }
    let nested = dir.join(BATCHES_DIR);
    for cand in [dir.to_path_buf(), nested] {
        if cand.join(TRAIN_FILES[0]).is_file() || cand.join(TEST_FILE).is_file() {
            return Ok(cand);
        }
    }
    Err(DataError::MissingFile(
        TRAIN_FILES[0].to_string(),
        dir.to_path_buf(),
    ))
}

/// Checks that all six files exist with valid sizes; returns the number of records per file.
/// Official data (no [`SYNTHETIC_MARKER`]) must have exactly [`OFFICIAL_FILE_BYTES`] per file.
pub fn check_files(dir: &Path) -> Result<(PathBuf, Vec<usize>), DataError> {
    let base = resolve_dir(dir)?;
    let synthetic = base.join(SYNTHETIC_MARKER).is_file();
    let mut counts = Vec::with_capacity(6);
    for name in TRAIN_FILES.iter().chain(std::iter::once(&TEST_FILE)) {
        let path = base.join(name);
        let meta = fs::metadata(&path)
            .map_err(|_| DataError::MissingFile(name.to_string(), dir.to_path_buf()))?;
        if meta.is_dir() {
            return Err(DataError::NotAFile(path));
        }
        let size = meta.len();
        if synthetic {
            if size == 0 || size % RECORD_BYTES as u64 != 0 {
                return Err(DataError::BadSize {
                    path,
                    found: size,
                    expected: format!(
                        "a non-zero multiple of {RECORD_BYTES} (synthetic data; {} whole records and {} stray bytes found)",
                        size / RECORD_BYTES as u64,
                        size % RECORD_BYTES as u64
                    ),
                });
            }
        } else if size != OFFICIAL_FILE_BYTES {
            // CIFAR-100's binaries have two label bytes per record.
            const CIFAR100_RECORD_BYTES: u64 = RECORD_BYTES as u64 + 1;
            let note = if size % RECORD_BYTES as u64 == 0 {
                format!("{} records found", size / RECORD_BYTES as u64)
            } else if size % CIFAR100_RECORD_BYTES == 0 {
                format!(
                    "{} records of {CIFAR100_RECORD_BYTES} bytes: this looks like CIFAR-100, not \
                     CIFAR-10",
                    size / CIFAR100_RECORD_BYTES
                )
            } else {
                format!("not a multiple of the {RECORD_BYTES}-byte record")
            };
            return Err(DataError::BadSize {
                path,
                found: size,
                expected: format!(
                    "{OFFICIAL_FILE_BYTES} (10,000 records of {RECORD_BYTES} bytes; {note})"
                ),
            });
        }
        counts.push((size / RECORD_BYTES as u64) as usize);
    }
    Ok((base, counts))
}

/// Reads up to `limit` records from `files` into (pixels, labels).
fn read_records(
    base: &Path,
    files: &[&str],
    limit: Option<usize>,
) -> Result<(Vec<u8>, Vec<i64>), DataError> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut buf = Vec::new();
    for name in files {
        if limit.is_some_and(|l| labels.len() >= l) {
            break;
        }
        let path = base.join(name);
        buf.clear();
        fs::File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map_err(io_err(&path))?;
        for (i, rec) in buf.chunks_exact(RECORD_BYTES).enumerate() {
            if limit.is_some_and(|l| labels.len() >= l) {
                break;
            }
            if rec[0] > 9 {
                return Err(DataError::BadLabel {
                    path,
                    record: i,
                    label: rec[0],
                });
            }
            labels.push(rec[0] as i64);
            pixels.extend_from_slice(&rec[1..]);
        }
    }
    Ok((pixels, labels))
}

fn to_tensors(pixels: Vec<u8>, labels: Vec<i64>) -> (Tensor, Tensor) {
    let n = labels.len() as i64;
    let images = Tensor::from_slice(&pixels).view([n, 3, 32, 32]);
    let labels = Tensor::from_slice(&labels);
    debug_assert_eq!(labels.kind(), Kind::Int64);
    (images, labels)
}

/// Loads CIFAR-10 from `dir` (or `dir/cifar-10-batches-bin`), keeping the first `limit_train`
/// training and `limit_test` test records when given.
pub fn load(
    dir: &Path,
    limit_train: Option<usize>,
    limit_test: Option<usize>,
) -> Result<Cifar10, DataError> {
    let (base, _) = check_files(dir)?;
    let (p, l) = read_records(&base, &TRAIN_FILES, limit_train)?;
    let (train_images, train_labels) = to_tensors(p, l);
    let (p, l) = read_records(&base, &[TEST_FILE], limit_test)?;
    let (test_images, test_labels) = to_tensors(p, l);
    Ok(Cifar10 {
        train_images,
        train_labels,
        test_images,
        test_labels,
    })
}

// ---------------------------------------------------------------------------------------------
// Synthetic data.

/// splitmix64: a tiny deterministic generator, so synthetic files do not depend on libtorch.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes one synthetic record: the class sets a colour and a stripe orientation/frequency,
/// plus uniform noise of ±48 and a random brightness shift, so a small CNN can learn it but
/// not from a single pixel.
fn synthetic_record(rng: &mut SplitMix, label: u8, out: &mut Vec<u8>) {
    const COLOURS: [[i32; 3]; 10] = [
        [200, 60, 60],
        [60, 200, 60],
        [60, 60, 200],
        [200, 200, 60],
        [200, 60, 200],
        [60, 200, 200],
        [230, 140, 40],
        [120, 120, 120],
        [40, 140, 230],
        [140, 40, 230],
    ];
    out.push(label);
    let c = label as usize;
    let period = 4 + (c % 5) as i32 * 2; // 4..12
    let vertical = c >= 5;
    let shift = rng.below(41) as i32 - 20;
    let phase = rng.below(period as u64) as i32;
    for &base in &COLOURS[c] {
        for y in 0..32i32 {
            for x in 0..32i32 {
                let t = if vertical { x } else { y };
                let stripe = if ((t + phase) / (period / 2)) % 2 == 0 {
                    30
                } else {
                    -30
                };
                let noise = rng.below(97) as i32 - 48;
                let v = base + stripe + noise + shift;
                out.push(v.clamp(0, 255) as u8);
            }
        }
    }
}

#[derive(serde::Serialize)]
struct SyntheticMeta {
    n_train_per_batch: usize,
    n_test: usize,
    seed: u64,
}

/// Writes synthetic CIFAR-10-format files (`data_batch_1..5.bin` with `n_train_per_batch`
/// records each, `test_batch.bin` with `n_test`) plus `batches.meta.txt` and the
/// [`SYNTHETIC_MARKER`] into `dir` (created if needed). Labels cycle through the ten classes in
/// a seeded random order; the content is a deterministic function of `seed`.
pub fn write_synthetic(
    dir: &Path,
    n_train_per_batch: usize,
    n_test: usize,
    seed: u64,
) -> Result<(), DataError> {
    if n_train_per_batch == 0 || n_test == 0 {
        return Err(DataError::BadRequest(
            "n_train_per_batch and n_test must be positive".into(),
        ));
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut rng = SplitMix(seed ^ 0x00C1_FA10);
    let files: Vec<(&str, usize)> = TRAIN_FILES
        .iter()
        .map(|f| (*f, n_train_per_batch))
        .chain(std::iter::once((TEST_FILE, n_test)))
        .collect();
    for (name, n) in files {
        let mut buf = Vec::with_capacity(n * RECORD_BYTES);
        for i in 0..n {
            let label = if i % 10 == 0 || n < 10 {
                rng.below(10) as u8
            } else {
                ((i + rng.below(10) as usize) % 10) as u8
            };
            synthetic_record(&mut rng, label, &mut buf);
        }
        let path = dir.join(name);
        fs::write(&path, &buf).map_err(io_err(&path))?;
    }
    let meta_path = dir.join("batches.meta.txt");
    fs::write(&meta_path, CLASSES.join("\n") + "\n").map_err(io_err(&meta_path))?;
    let marker = dir.join(SYNTHETIC_MARKER);
    let json = serde_json::to_string_pretty(&SyntheticMeta {
        n_train_per_batch,
        n_test,
        seed,
    })
    .expect("serialize");
    fs::write(&marker, json).map_err(io_err(&marker))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Download.

/// What [`download`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadOutcome {
    /// Valid files were already there; nothing was fetched.
    AlreadyPresent(PathBuf),
    /// The archive was fetched, verified and extracted into this directory.
    Downloaded(PathBuf),
}

impl DownloadOutcome {
    pub fn dir(&self) -> &Path {
        match self {
            DownloadOutcome::AlreadyPresent(p) | DownloadOutcome::Downloaded(p) => p,
        }
    }
}

/// MD5 of a file, lowercase hex.
pub fn md5_file(path: &Path) -> Result<String, DataError> {
    let mut f = fs::File::open(path).map_err(io_err(path))?;
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// Downloads the official archive into `dir/cifar-10-batches-bin/` unless valid files are
/// already in `dir` or `dir/cifar-10-batches-bin/`. Atomic: the archive goes to a temporary
/// file in `dir`, is MD5-verified, extracted into a temporary directory and only then renamed
/// into place; a failure leaves no partial dataset behind, nor the folders it created.
pub fn download(dir: &Path) -> Result<DownloadOutcome, DataError> {
    download_from(URL, ARCHIVE_MD5, dir)
}

/// [`download`] from `url` (a mirror of the official archive), checked against `md5`.
pub fn download_from(url: &str, md5: &str, dir: &Path) -> Result<DownloadOutcome, DataError> {
    if let Ok((base, _)) = check_files(dir) {
        return Ok(DownloadOutcome::AlreadyPresent(base));
    }
    // The folders about to be created, deepest first, to take back on failure.
    let created: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .collect();
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let tmp = dir.join(format!(
        ".cifar-10-binary.tar.gz.part-{}",
        std::process::id()
    ));
    let result = fetch(url, &tmp).and_then(|()| install_archive(&tmp, dir, md5));
    let _ = fs::remove_file(&tmp);
    let result = result.and_then(|base| check_files(&base).map(|_| base));
    if result.is_err() {
        // remove_dir only removes empty folders: anything else put there stays.
        for d in created {
            let _ = fs::remove_dir(d);
        }
    }
    Ok(DownloadOutcome::Downloaded(result?))
}

/// Streams `url` into `dest`.
fn fetch(url: &str, dest: &Path) -> Result<(), DataError> {
    let derr = |msg: String| DataError::Download {
        url: url.to_string(),
        msg,
    };
    let resp = ureq::get(url).call().map_err(|e| derr(e.to_string()))?;
    let mut reader = resp.into_body().into_reader();
    let mut file = fs::File::create(dest).map_err(io_err(dest))?;
    io::copy(&mut reader, &mut file).map_err(|e| derr(e.to_string()))?;
    file.flush()
        .and_then(|()| file.sync_all())
        .map_err(io_err(dest))?;
    Ok(())
}

/// Verifies `archive` against `expected_md5`, extracts it into a temporary directory inside
/// `dir` and renames its `cifar-10-batches-bin/` to `dir/cifar-10-batches-bin/` (replacing an
/// invalid one). Only regular files directly inside `cifar-10-batches-bin/` are extracted.
/// Checks that the six batch files are present (sizes are checked by the caller).
pub fn install_archive(
    archive: &Path,
    dir: &Path,
    expected_md5: &str,
) -> Result<PathBuf, DataError> {
    let actual = md5_file(archive)?;
    if !actual.eq_ignore_ascii_case(expected_md5) {
        return Err(DataError::Checksum {
            path: archive.to_path_buf(),
            expected: expected_md5.to_string(),
            actual,
        });
    }
    let staging = dir.join(format!(".cifar-10-extract-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(io_err(&staging))?;
    let result = extract_into(archive, &staging).and_then(|()| {
        let extracted = staging.join(BATCHES_DIR);
        for name in TRAIN_FILES.iter().chain(std::iter::once(&TEST_FILE)) {
            if !extracted.join(name).is_file() {
                return Err(DataError::Archive {
                    path: archive.to_path_buf(),
                    msg: format!("{BATCHES_DIR}/{name} is missing"),
                });
            }
        }
        let target = dir.join(BATCHES_DIR);
        if target.exists() {
            let old = dir.join(format!(".cifar-10-old-{}", std::process::id()));
            fs::rename(&target, &old).map_err(io_err(&target))?;
            let _ = fs::remove_dir_all(&old);
        }
        fs::rename(&extracted, &target).map_err(io_err(&target))?;
        Ok(target)
    });
    let _ = fs::remove_dir_all(&staging);
    result
}

fn extract_into(archive: &Path, staging: &Path) -> Result<(), DataError> {
    let aerr = |msg: String| DataError::Archive {
        path: archive.to_path_buf(),
        msg,
    };
    let file = fs::File::open(archive).map_err(io_err(archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let out = staging.join(BATCHES_DIR);
    fs::create_dir_all(&out).map_err(io_err(&out))?;
    for entry in tar.entries().map_err(|e| aerr(e.to_string()))? {
        let mut entry = entry.map_err(|e| aerr(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(|e| aerr(e.to_string()))?.into_owned();
        let mut comps = path
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir));
        let (Some(first), Some(name), None) = (comps.next(), comps.next(), comps.next()) else {
            continue;
        };
        if first.as_os_str() != BATCHES_DIR {
            continue;
        }
        let std::path::Component::Normal(name) = name else {
            continue;
        };
        let dest = out.join(name);
        entry
            .unpack(&dest)
            .map_err(|e| aerr(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn synthetic_roundtrip_and_limits() {
        let d = tmp();
        write_synthetic(d.path(), 20, 30, 7).unwrap();
        let c = load(d.path(), None, None).unwrap();
        assert_eq!(c.train_images.size(), vec![100, 3, 32, 32]);
        assert_eq!(c.train_images.kind(), Kind::Uint8);
        assert_eq!(c.train_labels.size(), vec![100]);
        assert_eq!(c.train_labels.kind(), Kind::Int64);
        assert_eq!(c.test_images.size(), vec![30, 3, 32, 32]);
        let max = c.train_labels.max().int64_value(&[]);
        assert!((0..=9).contains(&max));
        // All ten classes appear.
        assert_eq!(
            c.train_labels
                .bincount(None::<Tensor>, 10)
                .count_nonzero(None)
                .int64_value(&[]),
            10
        );
        let l = load(d.path(), Some(25), Some(5)).unwrap();
        assert_eq!(l.train_images.size()[0], 25);
        assert_eq!(l.test_labels.size(), vec![5]);
        assert!(
            (l.train_images
                .eq_tensor(&c.train_images.narrow(0, 0, 25))
                .all()
                .int64_value(&[])
                != 0)
        );
        // Determinism.
        let d2 = tmp();
        write_synthetic(d2.path(), 20, 30, 7).unwrap();
        assert_eq!(
            fs::read(d.path().join(TEST_FILE)).unwrap(),
            fs::read(d2.path().join(TEST_FILE)).unwrap()
        );
    }

    #[test]
    fn synthetic_classes_are_learnable() {
        // A nearest-class-mean classifier on pixels already separates the classes.
        let d = tmp();
        write_synthetic(d.path(), 40, 100, 11).unwrap();
        let c = load(d.path(), None, None).unwrap();
        let flat = |t: &Tensor| t.to_kind(Kind::Float).flatten(1, -1);
        let (xtr, xte) = (flat(&c.train_images), flat(&c.test_images));
        let onehot = c.train_labels.one_hot(10).to_kind(Kind::Float); // [N, 10]
        let means = onehot.transpose(0, 1).matmul(&xtr)
            / onehot
                .sum_dim_intlist([0i64].as_slice(), false, Kind::Float)
                .unsqueeze(1);
        let dist = xte
            .unsqueeze(1)
            .f_sub(&means.unsqueeze(0))
            .unwrap()
            .square()
            .sum_dim_intlist([2i64].as_slice(), false, Kind::Float);
        let pred = dist.argmin(1, false);
        let acc = pred
            .eq_tensor(&c.test_labels)
            .to_kind(Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]);
        assert!(acc > 0.9, "nearest-mean accuracy {acc}");
    }

    #[test]
    fn record_layout_is_planar_rgb() {
        let d = tmp();
        write_synthetic(d.path(), 1, 1, 1).unwrap();
        let mut rec = vec![3u8];
        rec.extend((0..IMAGE_BYTES).map(|i| (i / 1024) as u8 * 100 + (i % 32 == 5) as u8));
        fs::write(d.path().join(TEST_FILE), &rec).unwrap();
        let c = load(d.path(), None, None).unwrap();
        assert_eq!(c.test_labels.int64_value(&[0]), 3);
        assert_eq!(c.test_images.int64_value(&[0, 0, 0, 0]), 0);
        assert_eq!(c.test_images.int64_value(&[0, 1, 7, 0]), 100);
        assert_eq!(c.test_images.int64_value(&[0, 2, 31, 5]), 201);
    }

    #[test]
    fn nested_dir_accepted_and_errors_explain() {
        let d = tmp();
        let missing = load(&d.path().join("nope"), None, None)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("harness data cifar10 --dir"), "{missing}");
        let empty = load(d.path(), None, None).unwrap_err().to_string();
        assert!(
            empty.contains("data_batch_1.bin") && empty.contains("harness data cifar10"),
            "{empty}"
        );

        let nested = d.path().join(BATCHES_DIR);
        write_synthetic(&nested, 3, 3, 2).unwrap();
        assert_eq!(
            load(d.path(), None, None).unwrap().train_labels.size(),
            vec![15]
        );

        // Truncated synthetic file.
        let f = nested.join("data_batch_3.bin");
        let bytes = fs::read(&f).unwrap();
        fs::write(&f, &bytes[..bytes.len() - 10]).unwrap();
        let e = load(d.path(), None, None).unwrap_err().to_string();
        assert!(
            e.contains("data_batch_3.bin") && e.contains("2 whole records and 3063 stray bytes"),
            "{e}"
        );

        // Without the synthetic marker the official size is required.
        fs::write(&f, &bytes).unwrap();
        fs::remove_file(nested.join(SYNTHETIC_MARKER)).unwrap();
        let e = load(d.path(), None, None).unwrap_err().to_string();
        assert!(
            e.contains("30730000") && e.contains("3 records found"),
            "{e}"
        );

        // Bad label.
        write_synthetic(&nested, 3, 3, 2).unwrap();
        let mut t = fs::read(nested.join(TEST_FILE)).unwrap();
        t[RECORD_BYTES] = 12;
        fs::write(nested.join(TEST_FILE), &t).unwrap();
        let e = load(d.path(), None, None).unwrap_err().to_string();
        assert!(e.contains("record 1 has label 12"), "{e}");
    }

    /// Builds a tar.gz holding `cifar-10-batches-bin/*` from a synthetic dataset.
    fn make_archive(dir: &Path) -> PathBuf {
        let src = dir.join("src");
        write_synthetic(&src, 2, 2, 3).unwrap();
        let archive = dir.join("test.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            fs::File::create(&archive).unwrap(),
            flate2::Compression::fast(),
        );
        let mut b = tar::Builder::new(gz);
        b.append_dir_all(BATCHES_DIR, &src).unwrap();
        b.into_inner().unwrap().finish().unwrap();
        archive
    }

    #[test]
    fn install_archive_verifies_and_extracts() {
        let d = tmp();
        let archive = make_archive(d.path());
        let dest = d.path().join("data");
        fs::create_dir_all(&dest).unwrap();

        let e = install_archive(&archive, &dest, "00000000000000000000000000000000").unwrap_err();
        assert!(matches!(e, DataError::Checksum { .. }), "{e}");
        assert!(
            !dest.join(BATCHES_DIR).exists(),
            "nothing installed on checksum mismatch"
        );
        assert_eq!(
            fs::read_dir(&dest).unwrap().count(),
            0,
            "no temp files left"
        );

        let md5 = md5_file(&archive).unwrap();
        let base = install_archive(&archive, &dest, &md5).unwrap();
        assert_eq!(base, dest.join(BATCHES_DIR));
        assert_eq!(
            fs::read_dir(&dest).unwrap().count(),
            1,
            "only the batches dir remains"
        );
        let c = load(&dest, None, None).unwrap();
        assert_eq!(c.train_labels.size(), vec![10]);
        assert_eq!(c.test_labels.size(), vec![2]);
        // Re-installing over an existing directory works.
        install_archive(&archive, &dest, &md5).unwrap();
    }

    #[test]
    fn a_failed_download_removes_the_folders_it_created() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("data/cifar10");
        // Nothing listens on the discard port: the connection is refused at once.
        let e = download_from("http://127.0.0.1:9/cifar.tar.gz", ARCHIVE_MD5, &target);
        assert!(matches!(e, Err(DataError::Download { .. })), "{e:?}");
        assert!(!d.path().join("data").exists());
        // A folder that was there before stays, with what is in it.
        fs::create_dir_all(&target).unwrap();
        fs::write(target.join("notes.txt"), "mine").unwrap();
        assert!(download_from("http://127.0.0.1:9/cifar.tar.gz", ARCHIVE_MD5, &target).is_err());
        assert_eq!(
            fs::read_to_string(target.join("notes.txt")).unwrap(),
            "mine"
        );
        assert_eq!(fs::read_dir(&target).unwrap().count(), 1);
    }

    #[test]
    fn download_is_noop_when_present() {
        let d = tmp();
        write_synthetic(&d.path().join(BATCHES_DIR), 2, 2, 5).unwrap();
        let out = download(d.path()).unwrap();
        assert_eq!(
            out,
            DownloadOutcome::AlreadyPresent(d.path().join(BATCHES_DIR))
        );
    }
}
