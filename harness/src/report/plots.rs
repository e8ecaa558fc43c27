//! SVG plots (plotters' SVG backend: no fonts or system libraries needed).
use plotters::prelude::*;
use std::path::Path;

/// One line of a plot: a name and its (x, y) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Dashed-looking (drawn thinner) — e.g. the training curve next to the test curve.
    pub secondary: bool,
    /// Index into the palette, so an arm keeps its colour across plots.
    pub colour: usize,
}

pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// A tick label of an axis counted in whole units (epochs, trials): "4", not "4.0"; none
/// between two units.
pub(super) fn whole_number(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else {
        String::new()
    }
}

/// A line chart written to `path` as SVG; x counts whole units (epochs).
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> anyhow::Result<()> {
    let (x, y) = curve_ranges(series.iter().flat_map(|s| s.points.iter().copied()));
    svg_file(path, (760, 440), |root| {
        let mut chart = cartesian(root, Some(title), x, y)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .x_label_formatter(&whole_number)
            .y_desc(y_label)
            .draw()
            .map_err(plot_err)?;
        for s in series {
            let colour = PALETTE[s.colour % PALETTE.len()];
            let style = if s.secondary {
                colour.mix(0.55).stroke_width(1)
            } else {
                colour.stroke_width(2)
            };
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), style))
                .map_err(plot_err)?
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            // A line needs two points: a one-epoch run (or a trial stopped at its first epoch)
            // would be invisible without a marker, and on a short curve the markers show
            // which epochs were measured.
            if s.points.len() <= MARKED_POINTS {
                let radius = if s.secondary { 2 } else { 3 };
                chart
                    .draw_series(
                        s.points
                            .iter()
                            .map(|&p| Circle::new(p, radius, colour.filled())),
                    )
                    .map_err(plot_err)?;
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}

/// The axes' ranges of curves over epochs: from epoch 0 to a little past the last (so that
/// its markers are drawn whole; a one-epoch curve sits in the middle), and the values with a
/// margin.
pub(super) fn curve_ranges(
    points: impl Iterator<Item = (f64, f64)>,
) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in points {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if !y_min.is_finite() {
        (y_min, y_max) = (0.0, 1.0);
    }
    let pad = ((y_max - y_min) * 0.05).max(1e-3);
    let x_end = if x_max <= 1.0 { 2.0 } else { x_max * 1.03 };
    (0.0..x_end, (y_min - pad)..(y_max + pad))
}

/// A plot drawn to a temporary file, read back (for tests).
#[cfg(test)]
pub(super) fn svg_of(draw: impl FnOnce(&Path) -> anyhow::Result<()>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.svg");
    draw(&path).unwrap();
    std::fs::read_to_string(&path).unwrap()
}

/// Series with at most this many points get a marker on every point.
pub(super) const MARKED_POINTS: usize = 20;

use plotters::coord::types::RangedCoordf64;

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
pub(super) type Canvas<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// Runs `draw` on a white SVG canvas of `size` pixels, then writes the SVG to `path`. The file
/// is written here, not by plotters, whose file errors are nested debug values and whose
/// final flush is unchecked: a failure is `PATH: cannot write the plot: <the OS's reason>`.
pub(super) fn svg_file(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Canvas<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    std::fs::write(path, svg)
        .map_err(|e| anyhow::anyhow!("{}: cannot write the plot: {e}", path.display()))
}

/// The plot area every cartesian chart shares: margins and label areas, and the title when
/// the chart has the canvas to itself (a trial plot's legend panel sits beside its chart,
/// under the canvas's title, so the chart has none).
pub(super) fn cartesian<'a, 'b>(
    area: &'a Canvas<'b>,
    title: Option<&str>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> anyhow::Result<Chart<'a, 'b>> {
    let mut builder = ChartBuilder::on(area);
    if let Some(title) = title {
        builder.caption(title, ("sans-serif", 18));
    }
    builder
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x, y)
        .map_err(plot_err)
}

/// The legend box of the labelled series, in a corner clear of the data.
pub(super) fn draw_legend<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    position: SeriesLabelPosition,
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(plot_err)
}

pub(super) fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plot: {e}")
}

/// The label of the item at integer position `x` of a categorical axis; nothing between
/// positions (plotters asks for tick labels there too).
pub(super) fn label_at(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        labels.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// One machine's runs of one arm in a [`dot_plot`].
pub struct Dots {
    /// Each run's value.
    pub runs: Vec<f64>,
    /// The mean's confidence interval (n >= 2); the mean alone is marked without one.
    pub interval: Option<(f64, f64)>,
}

/// One machine in a [`dot_plot`]: its legend name and, per category, its runs (None where it
/// did not run that category).
pub struct DotGroup {
    pub name: String,
    pub categories: Vec<Option<Dots>>,
}

/// Categories side by side (x), one colour per group within each: every run a hollow circle,
/// beside it the mean (a short bar) with its interval (a whisker with caps). `y_max` caps the
/// axis (an accuracy's interval can reach past 1).
pub fn dot_plot(
    path: &Path,
    title: &str,
    y_label: &str,
    categories: &[String],
    groups: &[DotGroup],
    y_max: f64,
) -> anyhow::Result<()> {
    let values = groups
        .iter()
        .flat_map(|g| g.categories.iter().flatten())
        .flat_map(|d| {
            d.runs
                .iter()
                .copied()
                .chain(d.interval.into_iter().flat_map(|(a, b)| [a, b]))
        })
        .map(|v| v.min(y_max));
    let (y_lo, y_hi) = bounds(values);
    let y_hi = y_hi.min(y_max + (y_hi - y_lo) * 0.02);
    // Room under the lowest mark for the legend in the lower right corner.
    let y_lo = y_lo - (y_hi - y_lo) * 0.3;
    let n = categories.len().max(1) as f64;
    // Each category's slot is split among the groups. A group's runs, mean and whisker share
    // one x: the mean's bar is wider than a circle, so it shows through the runs.
    let part = 0.7 / groups.len().max(1) as f64;
    svg_file(path, (760, 440), |root| {
        let mut chart = cartesian(root, Some(title), -0.5f64..(n - 0.5), y_lo..y_hi)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(categories.len().min(30))
            .x_label_formatter(&|x| label_at(categories, *x))
            .y_desc(y_label)
            .draw()
            .map_err(plot_err)?;
        let clamp = |y: f64| y.clamp(y_lo, y_hi);
        for (g, group) in groups.iter().enumerate() {
            let colour = PALETTE[g % PALETTE.len()];
            let mut marks: Vec<PathElement<(f64, f64)>> = Vec::new();
            let mut circles = Vec::new();
            for (c, dots) in group.categories.iter().enumerate() {
                let Some(dots) = dots else { continue };
                let centre = c as f64 - 0.35 + part * (g as f64 + 0.5);
                circles.extend(
                    dots.runs
                        .iter()
                        .map(|&y| Circle::new((centre, clamp(y)), 4, colour.stroke_width(2))),
                );
                let Some(mean) = crate::stats::describe::mean(&dots.runs) else {
                    continue;
                };
                let half = (part * 0.35).min(0.12);
                let bar = |y: f64, w: f64, width| {
                    PathElement::new(
                        vec![(centre - w, clamp(y)), (centre + w, clamp(y))],
                        colour.stroke_width(width),
                    )
                };
                marks.push(bar(mean, half, 3));
                if let Some((lo, hi)) = dots.interval {
                    marks.push(PathElement::new(
                        vec![(centre, clamp(lo)), (centre, clamp(hi))],
                        colour.stroke_width(1),
                    ));
                    marks.push(bar(lo, half * 0.5, 1));
                    marks.push(bar(hi, half * 0.5, 1));
                }
            }
            chart.draw_series(marks).map_err(plot_err)?;
            chart
                .draw_series(circles)
                .map_err(plot_err)?
                .label(group.name.clone())
                .legend(move |(x, y)| Circle::new((x + 9, y), 4, colour.stroke_width(2)));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}

pub(super) fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A curve of one point (a run of `--epochs 1`, a trial stopped at its first epoch) is
    /// drawn as a marker: a line through one point draws nothing.
    #[test]
    fn a_one_point_series_is_drawn_as_a_marker() {
        let one = |secondary| Series {
            name: "one".into(),
            points: vec![(1.0, 0.5)],
            secondary,
            colour: 0,
        };
        for secondary in [false, true] {
            let svg = svg_of(|p| line_chart(p, "t", "x", "y", &[one(secondary)]));
            // plotters writes colours upper-case: PALETTE[0] is #1F77B4.
            assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
            assert!(svg.contains("fill=\"#1F77B4\""), "{svg}");
        }
        let long = Series {
            name: "long".into(),
            points: (1..=MARKED_POINTS + 1).map(|i| (i as f64, 0.5)).collect(),
            secondary: false,
            colour: 0,
        };
        let svg = svg_of(|p| line_chart(p, "t", "x", "y", &[long]));
        assert!(!svg.contains("<circle"), "a long curve is a plain line");
    }

    /// Epochs are whole numbers: their ticks say "4", never "4.0" or "2.5" (trial ids too:
    /// trial_plots' tests).
    #[test]
    fn epoch_axes_are_labelled_in_whole_numbers() {
        assert_eq!(whole_number(&4.0), "4");
        assert_eq!(whole_number(&0.0), "0");
        assert_eq!(whole_number(&2.5), "");
        let curve = Series {
            name: "c".into(),
            points: (1..=15).map(|i| (i as f64, 0.9)).collect(),
            secondary: false,
            colour: 0,
        };
        let svg = svg_of(|p| line_chart(p, "t", "epoch", "y", &[curve]));
        // plotters writes a label on a line of its own.
        assert!(
            svg.contains("\n14\n</text>") && !svg.contains("14.0"),
            "{svg}"
        );
    }

    /// A plot that cannot be written says which file and the OS's reason, nothing more.
    #[test]
    fn a_plot_that_cannot_be_written_is_a_plain_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.svg");
        std::fs::create_dir(&path).unwrap();
        let e = line_chart(&path, "t", "x", "y", &[]).unwrap_err();
        let os = std::io::Error::from_raw_os_error(libc::EISDIR);
        assert_eq!(
            format!("{e:#}"),
            format!("{}: cannot write the plot: {os}", path.display())
        );
    }
}
