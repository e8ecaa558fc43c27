//! Reading and writing result files, crash-safely.
use super::{ResultFile, SCHEMA_VERSION};
use crate::fsutil;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error("{path}: cannot read the result file: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a valid result file: {message}")]
    Parse { path: String, message: String },
    #[error(
        "{path}: schema version {found} is newer than this harness understands (≤ {SCHEMA_VERSION}); \
         upgrade the harness to read it"
    )]
    TooNew { path: String, found: u64 },
    #[error("{path}: cannot write the result file: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Reads a result file, checking its schema version first so a newer file gets a clear message
/// instead of a confusing field error.
pub fn read_result(path: &Path) -> Result<ResultFile, ResultError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ResultError::Read {
        path: shown.clone(),
        source,
    })?;
    parse_result(&text, &shown)
}

pub fn parse_result(text: &str, shown: &str) -> Result<ResultFile, ResultError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ResultError::Parse {
        path: shown.to_string(),
        message: e.to_string(),
    })?;
    let version = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| ResultError::Parse {
            path: shown.to_string(),
            message: "no numeric \"schema_version\" field".to_string(),
        })?;
    if version > u64::from(SCHEMA_VERSION) {
        return Err(ResultError::TooNew {
            path: shown.to_string(),
            found: version,
        });
    }
    serde_json::from_value(value).map_err(|e| ResultError::Parse {
        path: shown.to_string(),
        message: e.to_string(),
    })
}

/// Owns one result file for the length of a suite run: created under a unique name at the
/// start (never replacing another file), then replaced atomically after every finished run, so
/// an interrupted suite loses at most the run in progress.
pub struct ResultWriter {
    path: PathBuf,
}

impl ResultWriter {
    pub fn create(
        dir: &Path,
        stem: &str,
        result: &ResultFile,
    ) -> Result<ResultWriter, ResultError> {
        let bytes = to_bytes(result);
        let path = fsutil::create_unique(dir, stem, "json", &bytes).map_err(|source| {
            ResultError::Write {
                path: dir.join(format!("{stem}.json")).display().to_string(),
                source,
            }
        })?;
        Ok(ResultWriter { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn update(&self, result: &ResultFile) -> Result<(), ResultError> {
        fsutil::write_atomic(&self.path, &to_bytes(result)).map_err(|source| ResultError::Write {
            path: self.path.display().to_string(),
            source,
        })
    }
}

fn to_bytes(result: &ResultFile) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(result).expect("a result file serialises");
    bytes.push(b'\n');
    bytes
}
