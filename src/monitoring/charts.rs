//! Charts drawn with plotters as SVG on the server, each with hover targets in the same
//! pixel coordinates so the browser can show tooltips after hydration.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::prelude::*;

use crate::components::format_stat;
use crate::monitoring::drift::format_day;
use crate::types::{Chart, ChartMark};

const WIDTH: u32 = 760;
const HEIGHT: u32 = 320;
const REFERENCE_COLOR: RGBColor = RGBColor(76, 114, 176);
const CURRENT_COLOR: RGBColor = RGBColor(221, 132, 82);
const DRIFT_COLOR: RGBColor = RGBColor(196, 78, 82);
const LINE_COLOR: RGBColor = RGBColor(55, 65, 81);
const GRID_COLOR: RGBColor = RGBColor(229, 231, 235);

/// One histogram bin: a value range or a category, with counts on both sides.
#[derive(Clone, Debug)]
pub struct HistogramBin {
    pub label: String,
    pub reference_count: u64,
    pub current_count: u64,
}

/// Placement of the histogram's x-axis labels: under bin edges (numeric ranges) or under bin
/// centres (single values and categories).
#[derive(Clone, Debug)]
pub enum AxisLabels {
    /// One label per edge, `bins + 1` in all.
    Edges(Vec<String>),
    Centres,
}

/// One day (or year) of drift against the baseline.
#[derive(Clone, Debug)]
pub struct DriftPoint {
    pub day_ms: i64,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub drift: Option<bool>,
    pub rows: u64,
}

fn share(count: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { count as f64 / total as f64 }
}

fn empty_chart(message: &str) -> Chart {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let style = ("sans-serif", 16).into_font().color(&LINE_COLOR);
        let _ = root.draw_text(message, &style, (24, HEIGHT as i32 / 2));
        let _ = root.present();
    }
    Chart { svg, width: WIDTH, height: HEIGHT, marks: Vec::new() }
}

/// Draws reference and current shares side by side per bin, as Evidently's distribution plot.
pub fn histogram(bins: &[HistogramBin], axis_labels: &AxisLabels) -> Chart {
    if bins.is_empty() {
        return empty_chart("No data in the reference or the current window.");
    }
    let reference_total: u64 = bins.iter().map(|bin| bin.reference_count).sum();
    let current_total: u64 = bins.iter().map(|bin| bin.current_count).sum();
    let max_share = bins
        .iter()
        .flat_map(|bin| [share(bin.reference_count, reference_total), share(bin.current_count, current_total)])
        .fold(0.0_f64, f64::max)
        .max(1e-9)
        * 1.1;

    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        if draw_histogram(&root, bins, axis_labels, reference_total, current_total, max_share, &mut marks).is_err() {
            return empty_chart("The chart could not be drawn.");
        }
    }
    Chart { svg, width: WIDTH, height: HEIGHT, marks }
}

fn draw_histogram(
    root: &DrawingArea<SVGBackend, Shift>,
    bins: &[HistogramBin],
    axis_labels: &AxisLabels,
    reference_total: u64,
    current_total: u64,
    max_share: f64,
    marks: &mut Vec<ChartMark>,
) -> Result<(), Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let count = bins.len();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(56)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..count as f64, 0f64..max_share)?;

    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID_COLOR)
        .y_desc("share of rows")
        .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
        .label_style(("sans-serif", 12))
        .draw()?;
    draw_x_labels(root, &chart, bins, axis_labels)?;

    for (index, bin) in bins.iter().enumerate() {
        let x = index as f64;
        let reference_share = share(bin.reference_count, reference_total);
        let current_share = share(bin.current_count, current_total);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.08, 0.0), (x + 0.5, reference_share)],
            REFERENCE_COLOR.filled(),
        )))?;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.5, 0.0), (x + 0.92, current_share)],
            CURRENT_COLOR.filled(),
        )))?;

        let (left, top) = chart.backend_coord(&(x, max_share));
        let (right, bottom) = chart.backend_coord(&(x + 1.0, 0.0));
        marks.push(ChartMark {
            x: left as f64,
            y: top as f64,
            width: (right - left) as f64,
            height: (bottom - top) as f64,
            tooltip: vec![
                bin.label.clone(),
                format!("reference: {} rows ({:.2}%)", bin.reference_count, reference_share * 100.0),
                format!("current: {} rows ({:.2}%)", bin.current_count, current_share * 100.0),
            ],
            day: None,
        });
    }

    // The legend, drawn by hand in the top right corner.
    let (right, top) = chart.backend_coord(&(count as f64, max_share));
    for (row, (name, color)) in [("reference", REFERENCE_COLOR), ("current", CURRENT_COLOR)].into_iter().enumerate() {
        let y = top + 8 + row as i32 * 18;
        root.draw(&Rectangle::new([(right - 110, y), (right - 98, y + 12)], color.filled()))?;
        root.draw_text(name, &("sans-serif", 12).into_font().color(&LINE_COLOR), (right - 92, y))?;
    }
    root.present()?;
    Ok(())
}

/// Writes the x-axis labels under the plot, skipping labels evenly so none overlap.
fn draw_x_labels(
    root: &DrawingArea<SVGBackend, Shift>,
    chart: &ChartContext<SVGBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    bins: &[HistogramBin],
    axis_labels: &AxisLabels,
) -> Result<(), Box<dyn std::error::Error>> {
    let positioned: Vec<(f64, String)> = match axis_labels {
        AxisLabels::Edges(edges) => edges.iter().enumerate().map(|(i, label)| (i as f64, label.clone())).collect(),
        AxisLabels::Centres => bins.iter().enumerate().map(|(i, bin)| (i as f64 + 0.5, bin.label.clone())).collect(),
    };
    let (left, baseline) = chart.backend_coord(&(0.0, 0.0));
    let (right, _) = chart.backend_coord(&(bins.len() as f64, 0.0));
    root.draw(&PathElement::new(vec![(left, baseline), (right, baseline)], LINE_COLOR))?;

    // About 7 px per character at 11 px; keep a gap of two characters between labels.
    let longest = positioned.iter().map(|(_, label)| label.chars().count().min(14)).max().unwrap_or(1);
    let label_width = (longest + 2) as f64 * 7.0;
    let spacing = (right - left) as f64 / positioned.len().max(1) as f64;
    let every = (label_width / spacing).ceil().max(1.0) as usize;
    let style = ("sans-serif", 11)
        .into_font()
        .color(&LINE_COLOR)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (index, (position, label)) in positioned.iter().enumerate() {
        if index % every != 0 {
            continue;
        }
        let (x, y) = chart.backend_coord(&(*position, 0.0));
        let text: String = label.chars().take(14).collect();
        root.draw(&PathElement::new(vec![(x, y), (x, y + 4)], LINE_COLOR))?;
        root.draw_text(&text, &style, (x, y + 7))?;
    }
    Ok(())
}

/// Draws the drift statistic per day (or per year) with its threshold, shading the current
/// window.
/// `line_label` names the horizontal line: the drift threshold, or the baseline's value.
pub fn drift_over_time(method: &str, points: &[DriftPoint], yearly: bool, window: (i64, i64), line_label: &str) -> Chart {
    let values: Vec<(usize, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(index, point)| point.value.map(|value| (index, value)))
        .collect();
    if values.is_empty() {
        return empty_chart("No values to compare: the baseline or the production data is empty.");
    }
    let threshold = points.iter().find_map(|point| point.threshold).unwrap_or(0.0);
    let max_value = values.iter().map(|(_, value)| *value).fold(threshold, f64::max).max(1e-9) * 1.15;

    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let drawn = draw_drift_over_time(&root, method, points, &values, threshold, max_value, yearly, window, line_label, &mut marks);
        if drawn.is_err() {
            return empty_chart("The chart could not be drawn.");
        }
    }
    Chart { svg, width: WIDTH, height: HEIGHT, marks }
}

fn point_label(day_ms: i64, yearly: bool) -> String {
    let day = format_day(day_ms);
    if yearly { day[..4].to_string() } else { day }
}

type DayChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Builds a chart with one slot per day on the x axis, labels under about eight of them, values
/// from 0 to `max_value` on the y axis, and the days inside `window` shaded.
fn day_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    days: &[i64],
    label: impl Fn(i64) -> String,
    y_desc: &str,
    max_value: f64,
    window: (i64, i64),
) -> Result<DayChart<'a, 'b>, Box<dyn std::error::Error>> {
    let count = days.len();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5f64..(count as f64 - 0.5), 0f64..max_value)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID_COLOR)
        .y_desc(y_desc)
        .y_label_formatter(&|y| format_stat(*y))
        .label_style(("sans-serif", 12))
        .draw()?;

    let label_every = count.div_ceil(8).max(1);
    let style = ("sans-serif", 11).into_font().color(&LINE_COLOR).pos(Pos::new(HPos::Center, VPos::Top));
    for index in (0..count).step_by(label_every) {
        let (x, y) = chart.backend_coord(&(index as f64, 0.0));
        root.draw(&PathElement::new(vec![(x, y), (x, y + 4)], LINE_COLOR))?;
        root.draw_text(&label(days[index]), &style, (x, y + 7))?;
    }

    let inside: Vec<usize> = (0..count).filter(|index| days[*index] >= window.0 && days[*index] <= window.1).collect();
    if let (Some(first), Some(last)) = (inside.first(), inside.last()) {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(*first as f64 - 0.5, 0.0), (*last as f64 + 0.5, max_value)],
            RGBColor(254, 243, 199).filled(),
        )))?;
    }
    Ok(chart)
}

#[allow(clippy::too_many_arguments)]
fn draw_drift_over_time(
    root: &DrawingArea<SVGBackend, Shift>,
    method: &str,
    points: &[DriftPoint],
    values: &[(usize, f64)],
    threshold: f64,
    max_value: f64,
    yearly: bool,
    window: (i64, i64),
    line_label: &str,
    marks: &mut Vec<ChartMark>,
) -> Result<(), Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let count = points.len();
    let days: Vec<i64> = points.iter().map(|point| point.day_ms).collect();
    let mut chart = day_chart(root, &days, |day| point_label(day, yearly), method, max_value, window)?;

    chart.draw_series(LineSeries::new(
        [(-0.5, threshold), (count as f64 - 0.5, threshold)],
        DRIFT_COLOR.stroke_width(1),
    ))?;
    let (_, threshold_y) = chart.backend_coord(&(0.0, threshold));
    let (plot_right, _) = chart.backend_coord(&(count as f64 - 0.5, 0.0));
    // Left-anchored and measured, because SVG viewers differ in how they anchor text.
    let label_style = ("sans-serif", 11).into_font().color(&DRIFT_COLOR).pos(Pos::new(HPos::Left, VPos::Bottom));
    let label_width = line_label.chars().count() as i32 * 7;
    root.draw_text(line_label, &label_style, (plot_right - label_width - 6, threshold_y - 3))?;
    chart.draw_series(LineSeries::new(
        values.iter().map(|(index, value)| (*index as f64, *value)),
        LINE_COLOR.stroke_width(2),
    ))?;
    chart.draw_series(values.iter().map(|(index, value)| {
        let drifted = points[*index].drift == Some(true);
        let color = if drifted { DRIFT_COLOR } else { LINE_COLOR };
        let radius = if count > 60 { 2 } else { 4 };
        Circle::new((*index as f64, *value), radius, color.filled())
    }))?;

    for (index, point) in points.iter().enumerate() {
        let (left, top) = chart.backend_coord(&(index as f64 - 0.5, max_value));
        let (right, bottom) = chart.backend_coord(&(index as f64 + 0.5, 0.0));
        let value_line = match (point.value, point.drift) {
            (Some(value), Some(true)) => format!("{method}: {} (drift)", format_stat(value)),
            (Some(value), _) => format!("{method}: {}", format_stat(value)),
            (None, _) => "no value".to_string(),
        };
        marks.push(ChartMark {
            x: left as f64,
            y: top as f64,
            width: (right - left).max(1) as f64,
            height: (bottom - top) as f64,
            tooltip: vec![
                point_label(point.day_ms, yearly),
                value_line,
                format!("{line_label}: {}", format_stat(point.threshold.unwrap_or(threshold))),
                format!("{} rows", point.rows),
            ],
            day: Some(format_day(point.day_ms)),
        });
    }
    root.present()?;
    Ok(())
}

/// Draws one line per series of a metric's value per day, such as each version's accuracy,
/// with the current window shaded. Series are (label, points by day start), and the colours
/// follow the page's series palette.
pub fn metric_by_day(metric: &str, series: &[(String, Vec<(i64, f64)>)], window: (i64, i64)) -> Chart {
    let days: Vec<i64> = series
        .iter()
        .flat_map(|(_, points)| points.iter().map(|(day, _)| *day))
        .collect::<std::collections::BTreeSet<i64>>()
        .into_iter()
        .collect();
    let values: Vec<f64> = series.iter().flat_map(|(_, points)| points.iter().map(|(_, value)| *value)).filter(|v| v.is_finite()).collect();
    if days.is_empty() || values.is_empty() {
        return empty_chart("No values to draw: no production day has rows with an actual.");
    }
    let max_value = values.iter().copied().fold(f64::MIN, f64::max).max(1e-9) * 1.1;
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        if draw_metric_by_day(&root, metric, series, &days, max_value, window, &mut marks).is_err() {
            return empty_chart("The chart could not be drawn.");
        }
    }
    Chart { svg, width: WIDTH, height: HEIGHT, marks }
}

fn draw_metric_by_day(
    root: &DrawingArea<SVGBackend, Shift>,
    metric: &str,
    series: &[(String, Vec<(i64, f64)>)],
    days: &[i64],
    max_value: f64,
    window: (i64, i64),
    marks: &mut Vec<ChartMark>,
) -> Result<(), Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let count = days.len();
    let index_of = |day: i64| days.binary_search(&day).unwrap_or(0) as f64;
    let mut chart = day_chart(root, days, format_day, metric, max_value, window)?;
    for (index, (_, points)) in series.iter().enumerate() {
        let (r, g, b) = crate::components::chart::SERIES_COLORS[index % crate::components::chart::SERIES_COLORS.len()];
        let color = RGBColor(r, g, b);
        let finite: Vec<(f64, f64)> = points.iter().filter(|(_, v)| v.is_finite()).map(|(day, v)| (index_of(*day), *v)).collect();
        chart.draw_series(LineSeries::new(finite.iter().copied(), color.stroke_width(2)))?;
        let radius = if count > 60 { 2 } else { 3 };
        chart.draw_series(finite.iter().map(|point| Circle::new(*point, radius, color.filled())))?;
    }

    for (index, day) in days.iter().enumerate() {
        let (left, top) = chart.backend_coord(&(index as f64 - 0.5, max_value));
        let (right, bottom) = chart.backend_coord(&(index as f64 + 0.5, 0.0));
        let mut tooltip = vec![format_day(*day)];
        for (label, points) in series {
            let value = points.iter().find(|(point_day, _)| point_day == day).map(|(_, value)| format_stat(*value));
            tooltip.push(format!("{label}: {}", value.unwrap_or_else(|| "no rows".to_string())));
        }
        marks.push(ChartMark {
            x: left as f64,
            y: top as f64,
            width: (right - left).max(1) as f64,
            height: (bottom - top) as f64,
            tooltip,
            day: Some(format_day(*day)),
        });
    }
    root.present()?;
    Ok(())
}
