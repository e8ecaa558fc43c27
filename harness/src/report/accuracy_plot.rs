//! The plot under the lab's accuracy table: every arm's runs on every machine, each seed a
//! circle, with the mean and its 95 % confidence interval, so that a difference between arms
//! or machines can be seen against the seed-to-seed noise rather than read off two means.
use super::i18n::Lang;
use super::plots::{self, DotGroup, Dots};
use crate::results::ResultFile;
use crate::stats::hypothesis::mean_interval;
use std::path::{Path, PathBuf};

/// The interval drawn around each mean (as `compare`'s).
const LEVEL: f64 = 0.95;

/// `out_dir/{stem}-accuracy.svg`: one plot for the whole report. No machine's plot can take
/// this name: theirs are `{stem}-{slug}-{kind}.svg`, and no kind is empty.
pub(super) fn path(out_dir: &Path, stem: &str) -> PathBuf {
    out_dir.join(format!("{stem}-accuracy.svg"))
}

/// The arms some file has an accuracy for (a run that finished without diverging).
fn arms_drawn(files: &[ResultFile]) -> Vec<&'static str> {
    super::ARM_ORDER
        .into_iter()
        .filter(|name| {
            files.iter().any(|f| {
                f.arms
                    .iter()
                    .any(|a| a.name == *name && !a.accuracies().is_empty())
            })
        })
        .collect()
}

/// Whether [`write`] draws a plot for `files` (it needs one accuracy).
pub(super) fn is_drawn(files: &[ResultFile]) -> bool {
    !arms_drawn(files).is_empty()
}

/// Draws the plot at [`path`]; returns the markdown's alt text and the path, or None when no
/// arm has an accuracy to draw.
pub(super) fn write(
    files: &[ResultFile],
    labels: &[String],
    lang: Lang,
    out_dir: &Path,
    stem: &str,
) -> anyhow::Result<Option<(String, PathBuf)>> {
    let arms = arms_drawn(files);
    if arms.is_empty() {
        return Ok(None);
    }
    let groups: Vec<DotGroup> = files
        .iter()
        .zip(labels)
        .map(|(file, label)| DotGroup {
            name: label.clone(),
            categories: arms
                .iter()
                .map(|name| {
                    let runs = file.arms.iter().find(|a| a.name == *name)?.accuracies();
                    (!runs.is_empty()).then(|| Dots {
                        interval: mean_interval(&runs, LEVEL),
                        runs,
                    })
                })
                .collect(),
        })
        .collect();
    // Arm names as the curve plots' legends give them, in both languages.
    let categories: Vec<String> = arms.iter().map(|a| a.to_string()).collect();
    let (title, alt) = match lang {
        Lang::En => (
            "Accuracy per arm: runs (circles), mean (bar) and 95% CI (whisker)",
            "Accuracy per arm: each seed's run (circle), the mean (bar) and its 95% confidence \
             interval (whisker)",
        ),
        Lang::Zh => (
            "Accuracy per arm / 各实验组准确率",
            "各实验组准确率：每个种子的运行（圆圈），均值（横线）及其 95% 置信区间（竖线）",
        ),
    };
    let path = path(out_dir, stem);
    plots::dot_plot(&path, title, "accuracy", &categories, &groups, 1.0)?;
    Ok(Some((alt.to_string(), path)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    /// The plot's marks are the table's numbers: a circle per run (and one in the legend per
    /// machine), and the interval is the t interval of the mean.
    #[test]
    fn every_run_is_a_circle_and_the_interval_is_the_means() {
        let files = [
            fixture::two_arms("a", &[0.90, 0.92, 0.94]),
            fixture::two_arms("b", &[0.91]),
        ];
        let dir = tempfile::tempdir().unwrap();
        let labels = vec!["a".to_string(), "b".to_string()];
        let (alt, path) = write(&files, &labels, Lang::En, dir.path(), "r")
            .unwrap()
            .unwrap();
        assert!(alt.starts_with("Accuracy per arm"), "{alt}");
        assert_eq!(path, dir.path().join("r-accuracy.svg"));
        let svg = std::fs::read_to_string(&path).unwrap();
        let runs: usize = files
            .iter()
            .flat_map(|f| &f.arms)
            .map(|a| a.accuracies().len())
            .sum();
        assert_eq!(svg.matches("<circle").count(), runs + files.len(), "{svg}");
        assert!(svg.contains("Accuracy per arm"), "{svg}");

        // 0.90, 0.92, 0.94: mean 0.92, s = 0.02, t(0.975, 2) = 4.3027.
        let (lo, hi) = mean_interval(&[0.90, 0.92, 0.94], LEVEL).unwrap();
        let half = 4.302_652_7 * 0.02 / 3f64.sqrt();
        assert!((lo - (0.92 - half)).abs() < 1e-6 && (hi - (0.92 + half)).abs() < 1e-6);
        assert_eq!(mean_interval(&[0.9], LEVEL), None);
        assert_eq!(mean_interval(&[0.9, 0.9], LEVEL), Some((0.9, 0.9)));
    }

    /// Nothing finished (or every run diverged): no plot, and no file.
    #[test]
    fn no_accuracy_draws_no_plot() {
        let mut file = fixture::two_arms("a", &[0.9]);
        for arm in &mut file.arms {
            arm.runs.clear();
        }
        let dir = tempfile::tempdir().unwrap();
        let files = [file];
        assert!(!is_drawn(&files));
        let drawn = write(&files, &["a".into()], Lang::En, dir.path(), "r").unwrap();
        assert!(drawn.is_none());
        assert!(!path(dir.path(), "r").exists());
    }
}
