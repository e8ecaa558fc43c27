//! Reading and writing result files, crash-safely.
use super::{ResultFile, SCHEMA_VERSION};
use crate::fsutil;
use std::path::{Path, PathBuf};

// The I/O errors are shown in the message and not chained as `source`: `{:#}` would print
// them twice ("No such file or directory (os error 2): No such file or directory …").
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error("{path}: cannot read the result file: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: not a valid result file: {message}")]
    Parse { path: String, message: String },
    #[error(
        "{path}: schema version {found} is newer than this harness understands (≤ {SCHEMA_VERSION}); \
         upgrade the harness to read it"
    )]
    TooNew { path: String, found: u64 },
    #[error(
        "{path}: unfinished result, {why}: a regression gate needs the whole suite; \
         finish it with `{resume}`"
    )]
    Unfinished {
        path: String,
        why: String,
        resume: String,
    },
    #[error("{path}: cannot write the result file: {error}")]
    Write { path: String, error: std::io::Error },
}

/// Reads a result file, checking its schema version first so a newer file gets a clear message
/// instead of a confusing field error.
pub fn read_result(path: &Path) -> Result<ResultFile, ResultError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| ResultError::Read {
        path: shown.clone(),
        error,
    })?;
    parse_result(&text, &shown)
}

/// Reads a result file that must hold a finished suite (`harness check`): an interrupted or
/// still-running file would gate on the few runs that happened to finish.
pub fn read_complete_result(path: &Path) -> Result<ResultFile, ResultError> {
    let result = read_result(path)?;
    match result.unfinished() {
        None => Ok(result),
        Some(why) => {
            let shown = path.display().to_string();
            Err(ResultError::Unfinished {
                resume: result.resume_command(&shown),
                path: shown,
                why,
            })
        }
    }
}

/// Parses a result file. Errors name the JSON path of the bad field
/// (`arms[2].runs[0].final_test_acc: invalid type: …, expected f64 at line 120 column 36`).
pub fn parse_result(text: &str, shown: &str) -> Result<ResultFile, ResultError> {
    let parse = |message: String| ResultError::Parse {
        path: shown.to_string(),
        message,
    };
    // One pass over the text when the file is valid (result files hold every trial's curves);
    // from the text, not a parsed value, so that serde_json's line and column stay in the message.
    let mut de = serde_json::Deserializer::from_str(text);
    let typed = serde_path_to_error::deserialize::<_, ResultFile>(&mut de)
        .map_err(|e| (e.path().to_string(), e.into_inner()))
        .and_then(|r| de.end().map(|()| r).map_err(|e| (".".to_string(), e)));
    let mut result = match typed {
        Ok(result) => {
            check_version(u64::from(result.schema_version), shown)?;
            result
        }
        // Before the field error, what says more: not JSON, not an object, or the version (a
        // newer file gets a clear message instead of a confusing field error).
        Err((field, error)) => {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                // Where the typed pass stopped at the same place, it knows the field.
                let same = (e.line(), e.column()) == (error.line(), error.column());
                let at = (same && field != ".").then_some(field.as_str());
                parse(bad_number(text, &e, at).unwrap_or_else(|| e.to_string()))
            })?;
            let Some(object) = value.as_object() else {
                return Err(parse(format!(
                    "expected a JSON object at the top level, found {}",
                    json_kind(&value)
                )));
            };
            let version = match object.get("schema_version") {
                None => return Err(parse("missing field `schema_version`".to_string())),
                Some(v) => v.as_u64().ok_or_else(|| {
                    parse(format!(
                        "schema_version: expected a whole number such as {SCHEMA_VERSION}, \
                         found {v}"
                    ))
                })?,
            };
            check_version(version, shown)?;
            return Err(parse(if field == "." {
                error.to_string()
            } else {
                format!("{field}: {error}")
            }));
        }
    };
    super::legacy::mend(&mut result);
    if let Some(message) = super::validate::problem(&result) {
        return Err(parse(message));
    }
    Ok(result)
}

/// serde_json's "expected value" or "number out of range" said plainly when the token there is
/// NaN, Infinity or -Infinity (Python's json.dump writes them by default) or a number beyond
/// f64: `arms[1].runs[2].final_test_acc (line 1, column 11707): NaN is not a valid JSON number …`.
/// `field` is the token's JSON path when known. None for any other syntax error.
fn bad_number(text: &str, error: &serde_json::Error, field: Option<&str>) -> Option<String> {
    if !error.is_syntax() {
        return None;
    }
    // serde_json counts lines from 1 and columns in bytes from 1; its column is the token's
    // first byte for NaN/Infinity, the last digit read for a number out of range.
    let line_start: usize = text
        .split_inclusive('\n')
        .take(error.line().saturating_sub(1))
        .map(str::len)
        .sum();
    let at = (line_start + error.column()).checked_sub(1)?;
    let bytes = text.as_bytes();
    let in_token = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');
    if !bytes.get(at).is_some_and(in_token) {
        return None;
    }
    let start = bytes[..at]
        .iter()
        .rposition(|b| !in_token(b))
        .map_or(0, |p| p + 1);
    let end = bytes[at..]
        .iter()
        .position(|b| !in_token(b))
        .map_or(bytes.len(), |p| at + p);
    let token = &text[start..end];
    let why = match token {
        "NaN" | "Infinity" | "-Infinity" => format!(
            "{token} is not a valid JSON number (Python's json.dump writes it unless \
             allow_nan=False); a run that diverged is recorded with its \"diverged_at_epoch\" \
             and null accuracies"
        ),
        _ if token.parse::<f64>().is_ok_and(f64::is_infinite) => {
            format!("{token} is out of the range of a 64-bit float (±1.8e308 at most)")
        }
        _ => return None,
    };
    let place = format!("line {}, column {}", error.line(), start - line_start + 1);
    Some(match field {
        Some(field) => format!("{field} ({place}): {why}"),
        None => format!("{place}: {why}"),
    })
}

/// A schema version this harness reads: 1 to [`SCHEMA_VERSION`].
fn check_version(version: u64, shown: &str) -> Result<(), ResultError> {
    if version == 0 {
        return Err(ResultError::Parse {
            path: shown.to_string(),
            message: format!(
                "schema_version: 0 is not a known version (this harness reads 1 to \
                 {SCHEMA_VERSION})"
            ),
        });
    }
    if version > u64::from(SCHEMA_VERSION) {
        return Err(ResultError::TooNew {
            path: shown.to_string(),
            found: version,
        });
    }
    Ok(())
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
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
        let path = fsutil::create_unique(dir, stem, "json", &bytes).map_err(|error| {
            ResultError::Write {
                path: dir.join(format!("{stem}.json")).display().to_string(),
                error,
            }
        })?;
        Ok(ResultWriter { path })
    }

    /// Takes over an existing result file (`--resume`); the caller holds the run's lock.
    pub fn open(path: &Path) -> ResultWriter {
        ResultWriter {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn update(&self, result: &ResultFile) -> Result<(), ResultError> {
        fsutil::write_atomic(&self.path, &to_bytes(result)).map_err(|error| ResultError::Write {
            path: self.path.display().to_string(),
            error,
        })
    }
}

fn to_bytes(result: &ResultFile) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(result).expect("a result file serialises");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsutil::FAIL_WRITES_WITH;
    use crate::hpo::TrialStatus;
    use crate::report::fixture;
    use crate::results::HpoRecord;

    /// The message of `parse_result` on the fixture's JSON after `edit`.
    fn error_after(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let file = fixture::result("a", vec![fixture::arm("manual", &[(1, 0.9), (2, 0.8)], 2)]);
        let mut value = serde_json::to_value(&file).unwrap();
        edit(&mut value);
        let text = serde_json::to_string_pretty(&value).unwrap();
        parse_result(&text, "r.json").unwrap_err().to_string()
    }

    #[test]
    fn the_resume_command_repeats_the_runs_arguments_or_states_old_overrides() {
        let mut file = fixture::result("a", vec![]);
        assert_eq!(
            file.resume_command("results/my run.json"),
            "harness run suites/quick.toml --resume 'results/my run.json'"
        );
        file.suite.overrides = vec!["epochs=2 (all arms)".into(), "data_dir=d d".into()];
        file.suite.override_args = ["--epochs", "2", "--data-dir", "d d"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            file.resume_command("r.json"),
            "harness run suites/quick.toml --epochs 2 --data-dir 'd d' --resume r.json"
        );
        // A file written before the arguments were recorded (no override_args in its JSON).
        let mut value = serde_json::to_value(&file).unwrap();
        value["suite"]
            .as_object_mut()
            .unwrap()
            .remove("override_args");
        let old = parse_result(&value.to_string(), "r.json").unwrap();
        assert_eq!(
            old.resume_command_as("RESULT"),
            "harness run suites/quick.toml --resume RESULT (with the options it was run with: \
             epochs=2 (all arms), data_dir=d d)"
        );
    }

    #[test]
    fn schema_errors_name_the_field_and_its_line() {
        let e = error_after(|v| v["arms"][0]["runs"][1]["final_test_acc"] = "high".into());
        assert!(
            e.starts_with(
                "r.json: not a valid result file: arms[0].runs[1].final_test_acc: \
                 invalid type: string \"high\", expected f64 at line "
            ),
            "{e}"
        );
        let e = error_after(|v| {
            v["dataset"].as_object_mut().unwrap().remove("n_test");
        });
        assert!(e.contains("dataset: missing field `n_test` at line"), "{e}");
        let e = error_after(|v| {
            v["arms"][0]["runs"][0]["epochs"][1]["test_acc"] = serde_json::Value::Null
        });
        assert!(
            e.contains("arms[0].runs[0].epochs[1].test_acc: invalid type: null, expected f64"),
            "{e}"
        );
    }

    #[test]
    fn accuracies_outside_zero_to_one_are_refused_by_field() {
        let e = error_after(|v| v["arms"][0]["runs"][1]["final_test_acc"] = 97.5.into());
        assert!(
            e.contains(
                "arms[0].runs[1].final_test_acc: 97.5 is not an accuracy (a fraction in [0, 1])"
            ),
            "{e}"
        );
        let e = error_after(|v| v["arms"][0]["runs"][0]["epochs"][1]["test_acc"] = (-0.1).into());
        assert!(
            e.contains("arms[0].runs[0].epochs[1].test_acc: -0.1 is not"),
            "{e}"
        );
        // A search's trial curves and fidelity entries are accuracies too (val_acc here).
        let with_search = |edit: &dyn Fn(&mut HpoRecord)| {
            let mut file = fixture::result("a", vec![fixture::arm("tuned", &[(1, 0.9)], 2)]);
            let trials = vec![fixture::trial(
                0,
                TrialStatus::Succeeded,
                &[0.5, 0.9],
                vec![],
            )];
            let mut search = fixture::search(trials, Some(0));
            edit(&mut search);
            file.arms[0].hpo = Some(search);
            let text = serde_json::to_string(&file).unwrap();
            parse_result(&text, "r.json").err().map(|e| e.to_string())
        };
        assert_eq!(with_search(&|_| ()), None);
        let e = with_search(&|s| s.trials[0].intermediate[1] = 90.0).unwrap();
        assert!(
            e.contains("arms[0].hpo.trials[0].intermediate[1]: 90 is not an accuracy"),
            "{e}"
        );
        let e = with_search(&|s| s.trials[0].final_metric = Some(-1.0)).unwrap();
        assert!(
            e.contains("arms[0].hpo.trials[0].final_metric: -1 is not"),
            "{e}"
        );
        // A trial's details hold its epoch records (`test_acc` is the validation accuracy here).
        let details = |acc: f64| serde_json::json!([{"train_acc": 0.5, "test_acc": acc}]);
        assert_eq!(with_search(&|s| s.trials[0].details = details(0.9)), None);
        let e = with_search(&|s| s.trials[0].details = details(2.0)).unwrap();
        assert!(
            e.contains(
                "r.json: not a valid result file: arms[0].hpo.trials[0].details[0].test_acc: 2 is \
                 not an accuracy (a fraction in [0, 1])"
            ),
            "{e}"
        );
        let e = with_search(&|s| {
            s.fidelity = Some(crate::results::FidelityCheck {
                seed: 0,
                retrain_top_k: Some(1),
                entries: vec![crate::results::FidelityEntry {
                    trial_id: 0,
                    search_metric: 0.9,
                    full_budget_metric: Some(1.5),
                    full_budget_test_acc: None,
                }],
                spearman: None,
                warning: None,
                search_was_full_budget: false,
            })
        })
        .unwrap();
        assert!(
            e.contains("arms[0].hpo.fidelity.entries[0].full_budget_metric: 1.5 is not"),
            "{e}"
        );
        // The bounds themselves are accuracies.
        let mut edge = fixture::result("a", vec![fixture::arm("manual", &[(1, 1.0)], 2)]);
        edge.arms[0].runs[0].epochs[0].test_acc = 0.0;
        parse_result(&serde_json::to_string(&edge).unwrap(), "r.json").unwrap();
    }

    /// An arm with no runs and no error: a complete result never holds one, an interrupted
    /// one does (the tuned arm stopped during its search), and so does a failed arm.
    #[test]
    fn an_arm_without_runs_or_error_is_refused_only_in_a_complete_result() {
        let mut file = fixture::two_arms("a", &[0.9, 0.8]);
        file.arms[1].runs.clear();
        file.arms[1].summarize();
        let text = |f: &ResultFile| serde_json::to_string(f).unwrap();
        let e = parse_result(&text(&file), "r.json")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "r.json: not a valid result file: arms[1].runs: empty, and the arm records no"
            ),
            "{e}"
        );
        file.arms[1].error = Some("every trial failed".into());
        parse_result(&text(&file), "r.json").unwrap();
        file.arms[1].error = None;
        file.status = crate::results::RunStatus::Interrupted;
        parse_result(&text(&file), "r.json").unwrap();
    }

    /// NaN and ±Infinity (Python's json.dump default) and numbers beyond f64 are named with
    /// their place and field, and what a diverged run looks like instead.
    #[test]
    fn non_json_numbers_say_what_they_are_and_where() {
        let mut file = fixture::two_arms("a", &[0.9, 0.8]);
        file.arms[0].runs[1].final_test_acc = Some(0.125);
        let text = serde_json::to_string(&file)
            .unwrap()
            .replace("0.125", "NaN");
        let bad = |text: &str| parse_result(text, "r.json").unwrap_err().to_string();
        let column = text.find("NaN").unwrap() + 1;
        assert_eq!(
            bad(&text),
            format!(
                "r.json: not a valid result file: arms[0].runs[1].final_test_acc (line 1, column \
                 {column}): NaN is not a valid JSON number (Python's json.dump writes it unless \
                 allow_nan=False); a run that diverged is recorded with its \"diverged_at_epoch\" \
                 and null accuracies"
            )
        );
        let e = bad(&text.replace("NaN", "-Infinity"));
        assert!(
            e.contains(&format!(
                "final_test_acc (line 1, column {column}): -Infinity is not a valid JSON"
            )),
            "{e}"
        );
        let e = bad(&text.replace("NaN", "1e400"));
        assert!(
            e.contains(&format!(
                "arms[0].runs[1].final_test_acc (line 1, column {column}): 1e400 is out of the \
                 range of a 64-bit float (±1.8e308 at most)"
            )),
            "{e}"
        );
        // A field error before it: the typed pass stopped elsewhere, so only the place is known.
        let early = text.replacen("\"n_test\":360", "\"n_test\":\"many\"", 1);
        let e = bad(&early);
        assert!(
            e.contains(": not a valid result file: line 1, column ")
                && e.contains("NaN is not a valid JSON number"),
            "{e}"
        );
    }

    #[test]
    fn schema_version_errors_say_what_is_wrong() {
        let e = error_after(|v| v["schema_version"] = serde_json::json!(1.0));
        assert!(
            e.contains("schema_version: expected a whole number such as 1, found 1.0"),
            "{e}"
        );
        let e = error_after(|v| v["schema_version"] = "1".into());
        assert!(e.contains("found \"1\""), "{e}");
        let e = error_after(|v| v["schema_version"] = 0.into());
        assert!(
            e.contains("schema_version: 0 is not a known version"),
            "{e}"
        );
        let e = error_after(|v| {
            v.as_object_mut().unwrap().remove("schema_version");
        });
        assert!(e.contains("missing field `schema_version`"), "{e}");
        let e = parse_result("[1]", "r.json").unwrap_err().to_string();
        assert!(e.contains("found an array"), "{e}");
    }

    /// A full disk while the result is rewritten: the error names the file and the cause, the
    /// previous version stays intact and readable, and no temporary file is left behind.
    #[test]
    fn a_full_disk_keeps_the_previous_file_intact() {
        let dir = tempfile::tempdir().unwrap();
        let mut result = fixture::result("a", vec![fixture::arm("manual", &[(1, 0.9)], 2)]);
        let writer = ResultWriter::create(dir.path(), "quick-a", &result).unwrap();
        let before = std::fs::read(writer.path()).unwrap();
        result.arms.push(fixture::arm("original", &[(1, 0.8)], 2));
        FAIL_WRITES_WITH.with(|f| f.set(Some(libc::ENOSPC)));
        let err = writer.update(&result).unwrap_err().to_string();
        FAIL_WRITES_WITH.with(|f| f.set(None));
        assert!(
            err.contains("quick-a.json: cannot write the result file")
                && err.contains("No space left on device"),
            "{err}"
        );
        assert_eq!(std::fs::read(writer.path()).unwrap(), before);
        assert_eq!(read_result(writer.path()).unwrap().arms.len(), 1);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["quick-a.json".to_string()]);
        // Space again: the next update goes through.
        writer.update(&result).unwrap();
        assert_eq!(read_result(writer.path()).unwrap().arms.len(), 2);
    }
}
