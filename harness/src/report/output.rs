//! Where a report may be written. Checked before anything is written (the plots go first), so
//! a mistyped `-o` can neither replace a result file, a suite or any other file that is not an
//! earlier report with markdown, nor leave plots behind an error.
use std::path::{Path, PathBuf};

/// Why a report cannot be written to a path: an input error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {why}")]
pub struct OutputError {
    pub path: String,
    pub why: String,
}

/// Where the plots of the report written to `out` go: its folder, and the file stem their
/// names start with.
pub fn plot_place(out: &Path) -> (&Path, String) {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    (dir, stem)
}

/// A file the report is made from or with (a result file, the suite being run, a file the
/// suite names), which the report must never replace.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    /// What it is, completing "is …", e.g. "the suite file being run".
    pub what: String,
}

impl Input {
    pub fn new(path: impl Into<PathBuf>, what: impl Into<String>) -> Input {
        Input {
            path: path.into(),
            what: what.into(),
        }
    }

    /// The result files `harness report` renders.
    pub fn results(paths: &[PathBuf]) -> Vec<Input> {
        paths
            .iter()
            .map(|p| Input::new(p, "one of the result files being reported on"))
            .collect()
    }
}

/// Checks that the markdown can go to `out` (a file path) and its `plots` beside it
/// ([`super::plot_paths`]; none where they are not known yet): writing it replaces none of
/// `inputs`, and no existing file other than an earlier report (or an empty file).
pub fn check_output(out: &Path, inputs: &[Input], plots: &[PathBuf]) -> Result<(), OutputError> {
    let fail = |path: &Path, why: &str| {
        Err(OutputError {
            path: path.display().to_string(),
            why: why.to_string(),
        })
    };
    let overwrite = "the report would overwrite it (choose another output file)";
    if out.as_os_str().to_string_lossy().ends_with('/') || out.file_name().is_none() {
        return fail(
            out,
            "names a folder; give the report's file name, e.g. report.md",
        );
    }
    if let Ok(meta) = std::fs::metadata(out) {
        if meta.is_dir() {
            return fail(
                out,
                "is a folder; give the report's file name inside it, e.g. report.md",
            );
        }
        if let Some(input) = inputs.iter().find(|i| same_file(&i.path, out)) {
            return fail(out, &format!("is {}; {overwrite}", input.what));
        }
        if !meta.is_file() {
            return fail(out, &format!("is not a regular file; {overwrite}"));
        }
        if looks_like_result_file(out) {
            return fail(out, &format!("is a result file; {overwrite}"));
        }
        // Anything else there (a suite, notes, data) is not ours to replace: only a report,
        // e.g. the one an earlier `harness run --report` wrote, or an empty file.
        match read_head(out) {
            Err(e) => {
                return fail(
                    out,
                    &format!("cannot be read to check that it is a report ({e}); {overwrite}"),
                )
            }
            Ok(head) if !head.is_empty() && !super::starts_like_a_report(&head) => {
                let headings: Vec<String> = super::title_prefixes()
                    .iter()
                    .map(|p| format!("`{p}…`"))
                    .collect();
                return fail(
                    out,
                    &format!(
                        "exists and is not a report (its first line is not {}); {overwrite}",
                        headings.join(" or ")
                    ),
                );
            }
            Ok(_) => {}
        }
    }
    // The folder is created if missing, which fails if a part of the path is a file.
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Some(existing) = crate::fsutil::non_folder_in(parent) {
        return fail(
            out,
            &format!(
                "{} is not a folder, so nothing can be written under it",
                existing.display()
            ),
        );
    }
    // A plot replaces what has its name: only an earlier plot may (a folder would also fail the
    // report halfway, after other plots are written).
    for plot in plots {
        let Ok(meta) = std::fs::metadata(plot) else {
            continue;
        };
        let what = if meta.is_dir() {
            "is a folder".to_string()
        } else if !meta.is_file() {
            "is not a regular file".to_string()
        } else if let Some(input) = inputs.iter().find(|i| same_file(&i.path, plot)) {
            format!("is {}", input.what)
        } else if !read_head(plot).is_ok_and(|head| head.is_empty() || is_svg(&head)) {
            "exists and is not an SVG plot".to_string()
        } else {
            continue;
        };
        // A plot beside a report in the working folder is `./name`: said as `name`.
        return fail(
            plot.strip_prefix(".").unwrap_or(plot),
            &format!(
                "{what}, and the report writes a plot of that name (move it, or choose another \
                 output file)"
            ),
        );
    }
    Ok(())
}

/// The files beside `out` that could be plots of its report (`<stem>-….svg`), for a check made
/// before the plots' names are known (`harness run --report`, before the run).
pub fn possible_plots(out: &Path) -> Vec<PathBuf> {
    let (dir, stem) = plot_place(out);
    let prefix = format!("{stem}-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".svg"))
        })
        .collect()
}

/// An SVG document (the plots are written by plotters: `<svg …`, maybe after an XML header).
fn is_svg(head: &str) -> bool {
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<svg") || (head.starts_with("<?xml") && head.contains("<svg"))
}

/// The first bytes of a file, enough for its first line's heading.
fn read_head(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(256)
        .read_to_end(&mut head)?;
    Ok(String::from_utf8_lossy(&head).into_owned())
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// A result file starts with `{` and names its `schema_version` near the top.
fn looks_like_result_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(4096).read_to_end(&mut head));
    let head = String::from_utf8_lossy(&head);
    read.is_ok() && head.trim_start().starts_with('{') && head.contains("\"schema_version\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_inputs_result_files_folders_and_paths_under_files() {
        let dir = tempfile::tempdir().unwrap();
        let result = dir.path().join("r.json");
        std::fs::write(
            &result,
            "{\n  \"schema_version\": 1,\n  \"status\": \"complete\"\n}",
        )
        .unwrap();
        let other = dir.path().join("other.json");
        std::fs::copy(&result, &other).unwrap();
        let suite = dir.path().join("s.toml");
        std::fs::write(&suite, "[suite]\n").unwrap();
        let mut inputs = Input::results(std::slice::from_ref(&result));
        inputs.push(Input::new(&suite, "the suite file being run"));
        let why = |out: &Path| check_output(out, &inputs, &[]).unwrap_err().to_string();

        assert!(
            why(&result).contains("r.json: is one of the result files"),
            "{}",
            why(&result)
        );
        // The same file by another spelling.
        let dotted = dir.path().join(".").join("r.json");
        assert!(why(&dotted).contains("is one of the result files"));
        assert!(why(&other).contains("other.json: is a result file"));
        assert!(why(dir.path()).contains("is a folder"));
        let under_file = result.join("report.md");
        assert!(
            why(&under_file).contains(&format!("{} is not a folder", result.display())),
            "{}",
            why(&under_file)
        );
        assert!(why(&result.join("deeper/report.md")).contains("is not a folder"));
        assert!(why(Path::new("reports/")).contains("names a folder"));
        assert!(
            why(&suite).contains("s.toml: is the suite file being run; the report would overwrite"),
            "{}",
            why(&suite)
        );
        // Any other file that is not a report: markdown of one's own, a heading that is not
        // the first line, a file that is not regular.
        for (name, text) in [
            ("notes.md", "# My notes\n"),
            ("late.md", "\n# Benchmark report: quick (v1)\n"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            assert!(
                why(&path).contains(&format!(
                    "{name}: exists and is not a report (its first line is not \
                     `# Benchmark report: …` or `# 实验报告: …`)"
                )),
                "{}",
                why(&path)
            );
        }
        assert!(why(Path::new("/dev/null")).contains("is not a regular file"));

        // Fine: a new file, a new folder, an empty file, an earlier report in either language.
        check_output(&dir.path().join("new/deeper/report.md"), &inputs, &[]).unwrap();
        for (name, text) in [
            ("empty.md", ""),
            (
                "old.md",
                "# Benchmark report: quick (v1)\n\n## Environment\n",
            ),
            ("old-zh.md", "# 实验报告: quick (v1)\n"),
        ] {
            let md = dir.path().join(name);
            std::fs::write(&md, text).unwrap();
            check_output(&md, &inputs, &[]).unwrap();
        }
        check_output(Path::new("report.md"), &inputs, &[]).unwrap();
    }
}
