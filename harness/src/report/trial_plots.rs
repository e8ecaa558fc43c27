//! The HPO section's SVG plots: metric per trial, best so far by trial-epochs spent,
//! intermediate curves, durations and parallel coordinates. Each shows how a trial ended
//! (completed trials in colour, early-stopped, paused and failed ones faded or marked), and the
//! legend sits in a panel beside the chart, so that a search of a hundred trials neither hides
//! its curves behind the legend nor runs the legend off the canvas.
use super::plots::{
    cartesian, curve_ranges, draw_legend, label_at, plot_err, svg_file, whole_number, Canvas,
    MARKED_POINTS, PALETTE,
};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// How a trial ended, as its plots show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialEnd {
    Completed,
    EarlyStopped,
    /// Paused by a pausing assessor when the search was interrupted (WAITING).
    Paused,
    Failed,
}

/// The legend's words, in the report's language.
pub struct TrialWords {
    pub completed: String,
    pub early_stopped: String,
    pub paused: String,
    pub failed: String,
    /// Completed trials beyond the ones named in the curves' legend.
    pub other_completed: String,
    pub best_so_far: String,
    /// The search's trial-epoch budget (`max_trial_epochs`).
    pub budget: String,
}

/// Completed trials named (and coloured) one by one in the curves' legend; the rest share
/// one colour and one entry.
pub const NAMED_CURVES: usize = 8;

/// The canvas of a trial plot and the legend panel's share of its width.
const SIZE: (u32, u32) = (900, 440);
const LEGEND_WIDTH: u32 = 190;

const FADED: RGBColor = RGBColor(165, 165, 165);
const OTHER_COMPLETED: RGBColor = RGBColor(125, 155, 195);
const FAILED: RGBColor = RGBColor(214, 39, 40);
const BUDGET_LINE: RGBColor = RGBColor(110, 110, 110);
/// A failed trial's curve: the failure red, lightened.
const FAILED_CURVE: RGBColor = RGBColor(235, 147, 148);

/// What a legend entry shows before its words.
#[derive(Clone, Copy)]
enum Swatch {
    Line(RGBColor, u32),
    Dot(RGBColor),
    Ring(RGBColor),
    Cross(RGBColor),
    Block(RGBColor),
}

struct Entry {
    label: String,
    swatch: Swatch,
}

fn entry(label: impl Into<String>, swatch: Swatch) -> Entry {
    Entry {
        label: label.into(),
        swatch,
    }
}

/// Every way a trial ends, in the legends' order.
const ENDS: [TrialEnd; 4] = [
    TrialEnd::Completed,
    TrialEnd::EarlyStopped,
    TrialEnd::Paused,
    TrialEnd::Failed,
];

impl TrialWords {
    fn of(&self, end: TrialEnd) -> &str {
        match end {
            TrialEnd::Completed => &self.completed,
            TrialEnd::EarlyStopped => &self.early_stopped,
            TrialEnd::Paused => &self.paused,
            TrialEnd::Failed => &self.failed,
        }
    }
}

/// "early-stopped (21)": a group's words and its size.
fn counted(words: &str, n: usize) -> String {
    format!("{words} ({n})")
}

/// One entry for each of `ends` that some trial ended so, with how many.
fn end_entries(
    ends: &[TrialEnd],
    words: &TrialWords,
    count: impl Fn(TrialEnd) -> usize,
    swatch: impl Fn(TrialEnd) -> Swatch,
) -> Vec<Entry> {
    ends.iter()
        .filter_map(|&end| {
            let n = count(end);
            (n > 0).then(|| entry(counted(words.of(end), n), swatch(end)))
        })
        .collect()
}

/// The title across the canvas, the chart's area on the left, the legend panel on the right.
fn layout<'a>(root: &Canvas<'a>, title: &str) -> anyhow::Result<(Canvas<'a>, Canvas<'a>)> {
    let area = root.titled(title, ("sans-serif", 18)).map_err(plot_err)?;
    Ok(area.split_horizontally(SIZE.0 - LEGEND_WIDTH))
}

/// The legend, one entry under the other from the panel's top.
fn side_legend(panel: &Canvas<'_>, entries: &[Entry]) -> anyhow::Result<()> {
    let font = ("sans-serif", 12)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, e) in entries.iter().enumerate() {
        let y = 24 + 20 * i as i32;
        let centre = (16, y);
        let drawn = match e.swatch {
            Swatch::Line(c, w) => {
                panel.draw(&PathElement::new(vec![(6, y), (26, y)], c.stroke_width(w)))
            }
            Swatch::Dot(c) => panel.draw(&Circle::new(centre, 4, c.filled())),
            Swatch::Ring(c) => panel.draw(&Circle::new(centre, 4, c.stroke_width(1))),
            Swatch::Cross(c) => panel.draw(&Cross::new(centre, 4, c.stroke_width(2))),
            Swatch::Block(c) => panel.draw(&Rectangle::new([(9, y - 5), (23, y + 5)], c.filled())),
        };
        drawn.map_err(plot_err)?;
        panel
            .draw(&Text::new(e.label.clone(), (32, y), font.clone()))
            .map_err(plot_err)?;
    }
    Ok(())
}

/// A best-so-far line drawn as steps: it changes at a point and holds until the next.
fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * points.len());
    for (i, &(x, y)) in points.iter().enumerate() {
        if let Some(previous) = i.checked_sub(1).map(|j| points[j].1) {
            out.push((x, previous));
        }
        out.push((x, y));
    }
    out
}

/// One trial's final metric in a [`trial_scatter`]: `None` for a trial that reported none
/// (a failed one).
pub struct TrialPoint {
    pub id: usize,
    pub metric: Option<f64>,
    pub end: TrialEnd,
}

/// The metric per trial (x = trial id) with the best-so-far line: completed trials filled,
/// early-stopped and paused ones hollow (their number is a shorter run's), failed ones a red
/// cross on the lower edge.
pub fn trial_scatter(
    path: &Path,
    title: &str,
    y_label: &str,
    points: &[TrialPoint],
    best_so_far: &[(f64, f64)],
    words: &TrialWords,
) -> anyhow::Result<()> {
    let x_max = points.iter().map(|p| p.id as f64).fold(1.0, f64::max) + 1.0;
    let (y_min, y_max) = super::plots::bounds(points.iter().filter_map(|p| p.metric));
    let blue = PALETTE[0];
    svg_file(path, SIZE, |root| {
        let (plot, panel) = layout(root, title)?;
        let mut chart = cartesian(&plot, None, -0.5f64..x_max, y_min..y_max)?;
        chart
            .configure_mesh()
            .x_desc("trial")
            .x_label_formatter(&whole_number)
            .y_desc(y_label)
            .draw()
            .map_err(plot_err)?;
        let of = |end: TrialEnd| points.iter().filter(move |p| p.end == end);
        let at = |p: &TrialPoint| (p.id as f64, p.metric.unwrap_or(y_min));
        let rings = of(TrialEnd::EarlyStopped).chain(of(TrialEnd::Paused));
        chart
            .draw_series(rings.map(|p| Circle::new(at(p), 4, blue.stroke_width(1))))
            .map_err(plot_err)?;
        chart
            .draw_series(of(TrialEnd::Completed).map(|p| Circle::new(at(p), 4, blue.filled())))
            .map_err(plot_err)?;
        chart
            .draw_series(of(TrialEnd::Failed).map(|p| Cross::new(at(p), 5, FAILED.stroke_width(2))))
            .map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new(
                steps(best_so_far),
                PALETTE[3].stroke_width(2),
            ))
            .map_err(plot_err)?;
        let mut entries = end_entries(
            &ENDS,
            words,
            |end| of(end).count(),
            |end| match end {
                TrialEnd::Completed => Swatch::Dot(blue),
                TrialEnd::EarlyStopped | TrialEnd::Paused => Swatch::Ring(blue),
                TrialEnd::Failed => Swatch::Cross(FAILED),
            },
        );
        if !best_so_far.is_empty() {
            entries.push(entry(&words.best_so_far, Swatch::Line(PALETTE[3], 2)));
        }
        side_legend(&panel, &entries)
    })
}

/// The best metric so far against the trial-epochs spent (`points`: after each trial ended,
/// its cumulative epochs and the best so far): the search's cost axis, on which a trial stopped
/// after one epoch costs one epoch. A step line, a dot where the best improved, and the
/// budget (`max_trial_epochs`) as a vertical line when the search had one.
pub fn spend_curve(
    path: &Path,
    title: &str,
    y_label: &str,
    points: &[(f64, f64)],
    budget: Option<usize>,
    words: &TrialWords,
) -> anyhow::Result<()> {
    let spent = points.last().map_or(1.0, |p| p.0);
    let x_end = spent.max(budget.map_or(0.0, |b| b as f64)).max(1.0) * 1.03;
    let (y_min, y_max) = super::plots::bounds(points.iter().map(|p| p.1));
    svg_file(path, SIZE, |root| {
        let (plot, panel) = layout(root, title)?;
        let mut chart = cartesian(&plot, None, 0f64..x_end, y_min..y_max)?;
        chart
            .configure_mesh()
            .x_desc("trial-epochs")
            .x_label_formatter(&whole_number)
            .y_desc(y_label)
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new(steps(points), PALETTE[3].stroke_width(2)))
            .map_err(plot_err)?;
        let improved = points
            .iter()
            .enumerate()
            .filter(|(i, p)| *i == 0 || p.1 != points[i - 1].1)
            .map(|(_, &p)| Circle::new(p, 4, PALETTE[3].filled()));
        chart.draw_series(improved).map_err(plot_err)?;
        let mut entries = vec![entry(&words.best_so_far, Swatch::Line(PALETTE[3], 2))];
        if let Some(b) = budget {
            let b = b as f64;
            chart
                .draw_series(LineSeries::new(
                    [(b, y_min), (b, y_max)],
                    BUDGET_LINE.stroke_width(1),
                ))
                .map_err(plot_err)?;
            entries.push(entry(
                format!("{} ({})", words.budget, b),
                Swatch::Line(BUDGET_LINE, 1),
            ));
        }
        side_legend(&panel, &entries)
    })
}

/// One trial's intermediate results in [`trial_curves`].
pub struct TrialCurve {
    pub id: usize,
    pub points: Vec<(f64, f64)>,
    pub end: TrialEnd,
}

/// Intermediate results per trial (x = epoch). `curves` lists the completed trials first,
/// best first: the first [`NAMED_CURVES`] of them get a colour and a legend line each, the
/// others one shared colour and entry; early-stopped and paused trials are thin grey lines,
/// failed ones thin red, each group one entry with its size. Short curves carry a marker on
/// every point (a trial stopped after one epoch is a single point).
pub fn trial_curves(
    path: &Path,
    title: &str,
    y_label: &str,
    curves: &[TrialCurve],
    words: &TrialWords,
) -> anyhow::Result<()> {
    let (x, y) = curve_ranges(curves.iter().flat_map(|c| c.points.iter().copied()));
    // Each curve's look: colour, line width, marker radius, and its place in the legend.
    let mut completed = 0;
    let looks: Vec<(RGBColor, u32, i32, Option<usize>)> = curves
        .iter()
        .map(|c| match c.end {
            TrialEnd::Completed => {
                completed += 1;
                if completed <= NAMED_CURVES {
                    (
                        PALETTE[(completed - 1) % PALETTE.len()],
                        2,
                        3,
                        Some(completed - 1),
                    )
                } else {
                    (OTHER_COMPLETED, 1, 2, None)
                }
            }
            TrialEnd::EarlyStopped | TrialEnd::Paused => (FADED, 1, 2, None),
            TrialEnd::Failed => (FAILED_CURVE, 1, 2, None),
        })
        .collect();
    svg_file(path, SIZE, |root| {
        let (plot, panel) = layout(root, title)?;
        let mut chart = cartesian(&plot, None, x, y)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .x_label_formatter(&whole_number)
            .y_desc(y_label)
            .draw()
            .map_err(plot_err)?;
        // Faded curves first, the named ones last and the best on top.
        let mut order: Vec<usize> = (0..curves.len()).collect();
        order.sort_by_key(|&i| match looks[i].3 {
            Some(rank) => (2, usize::MAX - rank),
            None if curves[i].end == TrialEnd::Completed => (1, 0),
            None => (0, 0),
        });
        for i in order {
            let (colour, width, radius, _) = looks[i];
            let points = &curves[i].points;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(width),
                ))
                .map_err(plot_err)?;
            if points.len() <= MARKED_POINTS {
                chart
                    .draw_series(
                        points
                            .iter()
                            .map(|&p| Circle::new(p, radius, colour.filled())),
                    )
                    .map_err(plot_err)?;
            }
        }
        let mut entries: Vec<Entry> = curves
            .iter()
            .zip(&looks)
            .filter(|(_, look)| look.3.is_some())
            .map(|(c, look)| entry(format!("trial {}", c.id), Swatch::Line(look.0, 2)))
            .collect();
        let count = |end: TrialEnd| curves.iter().filter(|c| c.end == end).count();
        let others = count(TrialEnd::Completed).saturating_sub(NAMED_CURVES);
        if others > 0 {
            entries.push(entry(
                counted(&words.other_completed, others),
                Swatch::Line(OTHER_COMPLETED, 1),
            ));
        }
        // The completed trials are named above.
        entries.extend(end_entries(&ENDS[1..], words, count, |end| {
            let colour = if end == TrialEnd::Failed {
                FAILED_CURVE
            } else {
                FADED
            };
            Swatch::Line(colour, 1)
        }));
        side_legend(&panel, &entries)
    })
}

/// One bar per trial (x = trial id), coloured by how the trial ended.
pub fn duration_bars(
    path: &Path,
    title: &str,
    y_label: &str,
    bars: &[(usize, f64, TrialEnd)],
    words: &TrialWords,
) -> anyhow::Result<()> {
    let y_max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-9) * 1.1;
    let n = bars.len().max(1) as f64;
    let colour = |end: TrialEnd| match end {
        TrialEnd::Completed => PALETTE[0],
        TrialEnd::EarlyStopped | TrialEnd::Paused => FADED,
        TrialEnd::Failed => FAILED,
    };
    svg_file(path, SIZE, |root| {
        let (plot, panel) = layout(root, title)?;
        let mut chart = cartesian(&plot, None, -0.5f64..(n - 0.5), 0f64..y_max)?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.to_string()).collect();
        chart
            .configure_mesh()
            .x_desc("trial")
            .y_desc(y_label)
            .x_labels(bars.len().min(30))
            .x_label_formatter(&|x| label_at(&labels, *x))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let x = i as f64;
                Rectangle::new([(x - 0.35, 0.0), (x + 0.35, b.1)], colour(b.2).filled())
            }))
            .map_err(plot_err)?;
        let count = |end| bars.iter().filter(|b| b.2 == end).count();
        let entries = end_entries(&ENDS, words, count, |end| Swatch::Block(colour(end)));
        side_legend(&panel, &entries)
    })
}

/// One axis of a parallel-coordinates plot: its name, and labels at positions in [0, 1] that
/// say what the scaled values stand for (a choice's options, a range's values).
pub struct ParallelAxis {
    pub name: String,
    pub ticks: Vec<(f64, String)>,
}

/// One trial's polyline in a parallel-coordinates plot.
pub struct ParallelLine {
    /// Each axis's value scaled to [0, 1]; None where the trial has no value for that
    /// parameter (Adam has no momentum, a nested choice's parameter was not taken).
    pub values: Vec<Option<f64>>,
    /// How good the trial is, scaled to [0, 1] (1 = the best metric, whatever the direction).
    pub goodness: f64,
}

/// The legend's words (the caller's language): the best trial, the colour scale of the
/// others, and the "n/a" position.
pub struct ParallelLegend {
    pub best: String,
    pub others: String,
    pub not_applicable: String,
}

/// Where a missing value is drawn: below the axes, at a labelled "n/a" position, so that no
/// trial looks as if it had a value it did not have.
const NOT_APPLICABLE_Y: f64 = -0.15;

/// The best trial, drawn on top of the others in a colour the scale never reaches.
const BEST: RGBColor = RGBColor(220, 30, 30);

/// The other trials: light grey (worst) to dark blue (as good as the best).
fn scale_colour(goodness: f64) -> RGBColor {
    let t = goodness.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(lerp(175.0, 20.0), lerp(175.0, 60.0), lerp(175.0, 170.0))
}

/// Parallel coordinates: one vertical axis per parameter (values scaled to [0, 1] per axis,
/// labelled with what they stand for), one polyline per trial. Line `best` is red and thick;
/// the others run from light grey (worst) to dark blue by their metric; a missing value sits
/// at the "n/a" position under its axis, marked with a hollow circle. The legend says all
/// three.
pub fn parallel_coordinates(
    path: &Path,
    title: &str,
    axes: &[ParallelAxis],
    lines: &[ParallelLine],
    best: Option<usize>,
    legend: &ParallelLegend,
) -> anyhow::Result<()> {
    let n_axes = axes.len().max(2);
    svg_file(path, (900, 500), |root| {
        // Room left of the first axis for its value labels.
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(10)
            .build_cartesian_2d(-0.5f64..(n_axes as f64 - 0.8), -0.25f64..1.5)
            .map_err(plot_err)?;
        let axis_names: Vec<String> = axes.iter().map(|a| a.name.clone()).collect();
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_y_axis()
            .x_labels(n_axes)
            .x_label_formatter(&|x| label_at(&axis_names, *x))
            .draw()
            .map_err(plot_err)?;
        for i in 0..axes.len() {
            let x = i as f64;
            chart
                .draw_series(LineSeries::new([(x, 0.0), (x, 1.0)], BLACK.mix(0.4)))
                .map_err(plot_err)?;
            // The "n/a" position is labelled where some trial sits there.
            if lines.iter().any(|l| l.values.get(i) == Some(&None)) {
                chart
                    .draw_series(std::iter::once(Text::new(
                        "n/a",
                        (x + 0.07, NOT_APPLICABLE_Y + 0.03),
                        ("sans-serif", 11).into_font().color(&BLACK.mix(0.6)),
                    )))
                    .map_err(plot_err)?;
            }
        }
        // The best last, on top of the others.
        let mut order: Vec<usize> = (0..lines.len()).filter(|&i| Some(i) != best).collect();
        order.sort_by(|&a, &b| lines[a].goodness.total_cmp(&lines[b].goodness));
        order.extend(best);
        for i in order {
            let line = &lines[i];
            let (colour, width) = if Some(i) == best {
                (BEST, 3)
            } else {
                (scale_colour(line.goodness), 1)
            };
            let pts: Vec<(f64, f64)> = line
                .values
                .iter()
                .enumerate()
                .map(|(x, v)| (x as f64, v.unwrap_or(NOT_APPLICABLE_Y)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, colour.stroke_width(width)))
                .map_err(plot_err)?;
            let missing = line
                .values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_none())
                .map(|(x, _)| Circle::new((x as f64, NOT_APPLICABLE_Y), 4, colour.stroke_width(1)));
            chart.draw_series(missing).map_err(plot_err)?;
        }
        // The axes' labels over the lines, each on a white patch so that no line crosses
        // its words.
        let tick_font = ("sans-serif", 10)
            .into_font()
            .color(&BLACK.mix(0.75))
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, axis) in axes.iter().enumerate() {
            let x = i as f64;
            for (y, label) in &axis.ticks {
                chart
                    .draw_series([PathElement::new(
                        vec![(x - 0.03, *y), (x, *y)],
                        BLACK.mix(0.5),
                    )])
                    .map_err(plot_err)?;
                let (px, py) = chart.backend_coord(&(x - 0.04, *y));
                // About 6 pixels a character at this size.
                let width = 6 * label.chars().count() as i32 + 2;
                root.draw(&Rectangle::new(
                    [(px - width, py - 6), (px + 1, py + 6)],
                    WHITE.mix(0.85).filled(),
                ))
                .map_err(plot_err)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        label.clone(),
                        (x - 0.04, *y),
                        tick_font.clone(),
                    )))
                    .map_err(plot_err)?;
            }
        }
        let mid = scale_colour(0.6);
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(plot_err)?
            .label(legend.best.clone())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BEST.stroke_width(3)));
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(plot_err)?
            .label(legend.others.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], mid.stroke_width(1)));
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(plot_err)?
            .label(legend.not_applicable.clone())
            .legend(|(x, y)| Circle::new((x + 9, y), 4, BLACK.stroke_width(1)));
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

#[cfg(test)]
mod tests {
    use super::super::plots::svg_of;
    use super::*;

    /// Every text of an SVG with its anchor point: plotters writes `<text x=".." y=".." ..>`,
    /// the words on a line of their own, then `</text>`.
    fn texts(svg: &str) -> Vec<(f64, f64, String)> {
        let lines: Vec<&str> = svg.lines().collect();
        let attr = |line: &str, name: &str| -> f64 {
            let start = line.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            let len = line[start..].find('"').unwrap();
            line[start..start + len].parse().unwrap()
        };
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with("<text"))
            .map(|(i, l)| (attr(l, "x"), attr(l, "y"), lines[i + 1].to_string()))
            .collect()
    }

    fn words() -> TrialWords {
        TrialWords {
            completed: "completed".into(),
            early_stopped: "early-stopped".into(),
            paused: "paused".into(),
            failed: "failed".into(),
            other_completed: "other completed".into(),
            best_so_far: "best so far".into(),
            budget: "budget".into(),
        }
    }

    /// The spending curve is a step that rises where the best improved (a dot there), and the
    /// budget is a line the legend names with its size.
    #[test]
    fn the_spending_curve_steps_up_and_shows_the_budget() {
        let points = [(1.0, 0.5), (4.0, 0.8), (7.0, 0.8), (10.0, 0.9)];
        let svg = svg_of(|p| spend_curve(p, "t", "val_acc", &points, Some(105), &words()));
        assert_eq!(
            svg.matches("<circle").count(),
            3,
            "a dot where it improved: {svg}"
        );
        let labels: Vec<String> = texts(&svg).into_iter().map(|t| t.2).collect();
        assert!(labels.iter().any(|l| l == "budget (105)"), "{labels:?}");
        assert!(labels.iter().any(|l| l == "trial-epochs"), "{labels:?}");
        let without = svg_of(|p| spend_curve(p, "t", "val_acc", &points, None, &words()));
        assert!(!without.contains("budget ("), "{without}");
    }

    /// A search of forty trials: the legend names the best eight completed trials, sums up
    /// the rest by how they ended, and sits in its panel right of the chart, every entry on
    /// the canvas (it used to list all forty over the curves and run off the bottom).
    #[test]
    fn a_long_search_keeps_its_curve_legend_short_and_beside_the_chart() {
        let curve = |id: usize, end: TrialEnd, epochs: usize| TrialCurve {
            id,
            points: (1..=epochs).map(|e| (e as f64, 0.1 * e as f64)).collect(),
            end,
        };
        let mut curves: Vec<TrialCurve> =
            (0..12).map(|i| curve(i, TrialEnd::Completed, 9)).collect();
        curves.extend((12..37).map(|i| curve(i, TrialEnd::EarlyStopped, 3)));
        curves.extend((37..40).map(|i| curve(i, TrialEnd::Failed, 2)));
        let svg = svg_of(|p| trial_curves(p, "curves", "val_acc", &curves, &words()));
        let legend: Vec<(f64, f64, String)> = texts(&svg)
            .into_iter()
            .filter(|t| t.0 >= f64::from(SIZE.0 - LEGEND_WIDTH))
            .collect();
        let labels: Vec<&str> = legend.iter().map(|t| t.2.as_str()).collect();
        let named: Vec<String> = (0..NAMED_CURVES).map(|i| format!("trial {i}")).collect();
        let mut expected: Vec<&str> = named.iter().map(String::as_str).collect();
        expected.extend(["other completed (4)", "early-stopped (25)", "failed (3)"]);
        assert_eq!(labels, expected);
        assert!(legend.iter().all(|t| t.1 < f64::from(SIZE.1)), "{legend:?}");
        // Nothing else is written in the panel: the chart's own labels stay left of it.
        assert!(!texts(&svg).iter().any(|t| t.2.starts_with("trial 8")));
    }

    /// Completed trials are filled dots, early-stopped ones rings (their number is a shorter
    /// run's), a failed trial a cross; the legend counts each kind.
    #[test]
    fn the_metric_plot_marks_how_each_trial_ended() {
        let point = |id, metric, end| TrialPoint { id, metric, end };
        let points = [
            point(0, Some(0.9), TrialEnd::Completed),
            point(1, Some(0.5), TrialEnd::EarlyStopped),
            point(2, Some(0.4), TrialEnd::EarlyStopped),
            point(3, None, TrialEnd::Failed),
            point(4, Some(0.95), TrialEnd::Completed),
        ];
        let best = [(0.0, 0.9), (1.0, 0.9), (2.0, 0.9), (3.0, 0.9), (4.0, 0.95)];
        let svg = svg_of(|p| trial_scatter(p, "t", "val_acc", &points, &best, &words()));
        // Two rings in the chart and one in the legend; two dots and one.
        assert_eq!(svg.matches("<circle").count(), 6, "{svg}");
        assert_eq!(
            svg.matches("opacity=\"1\" fill=\"none\" stroke=\"#1F77B4\"")
                .count(),
            3,
            "{svg}"
        );
        let labels: Vec<String> = texts(&svg).into_iter().map(|t| t.2).collect();
        for label in [
            "completed (2)",
            "early-stopped (2)",
            "failed (1)",
            "best so far",
        ] {
            assert!(labels.iter().any(|l| l == label), "{label}: {labels:?}");
        }
        // Trial ids are whole numbers.
        assert!(labels.iter().any(|l| l == "4") && !labels.iter().any(|l| l.ends_with(".0")));
    }

    /// Bars take the colour of how the trial ended, and the legend says which is which.
    #[test]
    fn duration_bars_are_coloured_by_how_the_trial_ended() {
        let bars = [
            (0, 2.0, TrialEnd::Completed),
            (1, 0.5, TrialEnd::EarlyStopped),
            (2, 0.1, TrialEnd::Failed),
        ];
        let svg = svg_of(|p| duration_bars(p, "t", "seconds", &bars, &words()));
        for colour in ["#1F77B4", "#A5A5A5", "#D62728"] {
            // The bar and its legend block.
            assert_eq!(
                svg.matches(&format!("fill=\"{colour}\"")).count(),
                2,
                "{colour}: {svg}"
            );
        }
        let labels: Vec<String> = texts(&svg).into_iter().map(|t| t.2).collect();
        for label in ["completed (1)", "early-stopped (1)", "failed (1)"] {
            assert!(labels.iter().any(|l| l == label), "{label}: {labels:?}");
        }
    }

    /// Each axis of the parallel plot is labelled with what its positions stand for.
    #[test]
    fn parallel_axes_carry_their_values() {
        let axes = [
            ParallelAxis {
                name: "optimizer".into(),
                ticks: vec![(0.0, "sgd".into()), (1.0, "adam".into())],
            },
            ParallelAxis {
                name: "metric".into(),
                ticks: vec![(0.0, "0.5000".into()), (1.0, "0.9000".into())],
            },
        ];
        let lines = [
            ParallelLine {
                values: vec![Some(0.0), Some(0.0)],
                goodness: 0.0,
            },
            ParallelLine {
                values: vec![Some(1.0), Some(1.0)],
                goodness: 1.0,
            },
        ];
        let legend = ParallelLegend {
            best: "best".into(),
            others: "others".into(),
            not_applicable: "n/a".into(),
        };
        let svg = svg_of(|p| parallel_coordinates(p, "t", &axes, &lines, Some(1), &legend));
        let labels: Vec<String> = texts(&svg).into_iter().map(|t| t.2).collect();
        for label in ["sgd", "adam", "0.5000", "0.9000", "optimizer", "metric"] {
            assert!(labels.iter().any(|l| l == label), "{label}: {labels:?}");
        }
        assert!(!svg.contains("scaled value"));
    }
}
