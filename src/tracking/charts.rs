//! Metric-series charts for run and compare pages, drawn on the server as SVG.
//!
//! Long series are reduced before drawing: the steps are split into buckets and each bucket
//! keeps its first, smallest, largest and last point, so peaks and dips survive and a
//! million-point series draws as a few thousand points.

use plotters::prelude::*;

use crate::components::chart::SERIES_COLORS;
use crate::components::format_stat;
use crate::types::{Chart, ChartMark};

const WIDTH: u32 = 760;
const HEIGHT: u32 = 280;
/// Buckets per series; each keeps at most four points.
pub const BUCKETS: usize = 500;

fn palette(index: usize) -> RGBColor {
    let (r, g, b) = SERIES_COLORS[index % SERIES_COLORS.len()];
    RGBColor(r, g, b)
}
/// Hover bands across the x axis.
const BANDS: usize = 60;

/// Reduces `points` (sorted by step) to at most four per bucket: first, minimum, maximum and
/// last, in step order. Non-finite values are dropped, as they cannot be drawn.
pub fn downsample(points: &[(i64, f64)], buckets: usize) -> Vec<(i64, f64)> {
    let finite: Vec<(i64, f64)> = points.iter().copied().filter(|(_, value)| value.is_finite()).collect();
    if finite.len() <= buckets.max(1) * 4 {
        return finite;
    }
    let per_bucket = finite.len().div_ceil(buckets);
    let mut kept = Vec::with_capacity(buckets * 4);
    for chunk in finite.chunks(per_bucket) {
        let mut chosen = vec![0, chunk.len() - 1];
        let (mut low, mut high) = (0, 0);
        for (index, (_, value)) in chunk.iter().enumerate() {
            if *value < chunk[low].1 {
                low = index;
            }
            if *value > chunk[high].1 {
                high = index;
            }
        }
        chosen.push(low);
        chosen.push(high);
        chosen.sort_unstable();
        chosen.dedup();
        kept.extend(chosen.into_iter().map(|index| chunk[index]));
    }
    kept
}

/// Draws one or more series of a metric against the step, each with its label and colour.
pub fn metric_chart(metric: &str, series: &[(String, Vec<(i64, f64)>)]) -> Chart {
    let drawn: Vec<(String, Vec<(i64, f64)>)> =
        series.iter().map(|(label, points)| (label.clone(), downsample(points, BUCKETS))).collect();
    let all = || drawn.iter().flat_map(|(_, points)| points.iter());
    let (Some(min_step), Some(max_step)) = (all().map(|p| p.0).min(), all().map(|p| p.0).max()) else {
        return text_chart(&format!("{metric}: no finite values to draw"));
    };
    let low = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let high = all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let pad = if high > low { (high - low) * 0.08 } else { low.abs().max(1.0) * 0.1 };
    let (y0, y1) = (low - pad, high + pad);
    let (x0, x1) = if max_step > min_step { (min_step as f64, max_step as f64) } else { (min_step as f64 - 1.0, max_step as f64 + 1.0) };
    // Steps are whole numbers, so a span of a few steps gets one label per step. More labels
    // would fall between steps and round to repeats.
    let x_labels = ((x1 - x0) as usize + 1).min(10);

    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let result: Result<(), Box<dyn std::error::Error>> = (|| {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(32)
                .y_label_area_size(64)
                .build_cartesian_2d(x0..x1, y0..y1)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(229, 231, 235))
                .x_desc("step")
                .x_labels(x_labels)
                .y_desc(metric)
                .x_label_formatter(&|x| format!("{}", x.round() as i64))
                .y_label_formatter(&|y| format_stat(*y))
                .label_style(("sans-serif", 12))
                .draw()?;
            for (index, (_, points)) in drawn.iter().enumerate() {
                let color = palette(index);
                chart.draw_series(LineSeries::new(points.iter().map(|(step, value)| (*step as f64, *value)), color.stroke_width(2)))?;
                if points.len() <= 60 {
                    chart.draw_series(points.iter().map(|(step, value)| Circle::new((*step as f64, *value), 3, color.filled())))?;
                }
            }
            // Hover bands: each lists every series' last point at or before the band's end.
            for band in 0..BANDS {
                let start = x0 + (x1 - x0) * band as f64 / BANDS as f64;
                let end = x0 + (x1 - x0) * (band + 1) as f64 / BANDS as f64;
                let mut tooltip = vec![format!("steps {} to {}", start.round() as i64, end.round() as i64)];
                for (label, points) in &drawn {
                    if let Some((step, value)) = points.iter().rev().find(|(step, _)| (*step as f64) <= end) {
                        tooltip.push(format!("{label}: {} at step {step}", format_stat(*value)));
                    }
                }
                let (left, top) = chart.backend_coord(&(start, y1));
                let (right, bottom) = chart.backend_coord(&(end, y0));
                marks.push(ChartMark {
                    x: left as f64,
                    y: top as f64,
                    width: (right - left).max(1) as f64,
                    height: (bottom - top) as f64,
                    tooltip,
                    day: None,
                });
            }
            root.present()?;
            Ok(())
        })();
        if result.is_err() {
            return text_chart(&format!("{metric}: the chart could not be drawn"));
        }
    }
    Chart { svg, width: WIDTH, height: HEIGHT, marks }
}

fn text_chart(message: &str) -> Chart {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 60)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let _ = root.draw_text(message, &("sans-serif", 14).into_font().color(&RGBColor(55, 65, 81)), (12, 24));
        let _ = root.present();
    }
    Chart { svg, width: WIDTH, height: 60, marks: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_peaks_and_ends() {
        let mut points: Vec<(i64, f64)> = (0..1_000_000).map(|step| (step, (step % 100) as f64)).collect();
        points[777_777].1 = 1e6;
        points[333_333].1 = -1e6;
        let kept = downsample(&points, BUCKETS);
        assert!(kept.len() <= BUCKETS * 4, "{} points kept", kept.len());
        assert!(kept.contains(&(777_777, 1e6)) && kept.contains(&(333_333, -1e6)));
        assert_eq!((kept.first(), kept.last()), (Some(&(0, 0.0)), Some(&(999_999, 99.0))));
        assert!(kept.windows(2).all(|pair| pair[0].0 < pair[1].0), "steps stay in order");
    }

    #[test]
    fn few_steps_get_one_label_each() {
        let series = vec![("a".to_string(), vec![(0, 1.0), (1, 0.5)]), ("b".to_string(), vec![(0, 0.9), (1, 0.7)])];
        let chart = metric_chart("loss", &series);
        // Before one label per step, 0.1 to 0.9 drew as "0" or "1" too.
        assert_eq!(chart.svg.matches(">\n0\n</text>").count(), 1, "{}", chart.svg);
        assert_eq!(chart.svg.matches(">\n1\n</text>").count(), 1, "{}", chart.svg);
    }

    #[test]
    fn short_series_are_kept_whole_without_non_finite_values() {
        let points = vec![(0, 1.0), (1, f64::NAN), (2, 0.5)];
        assert_eq!(downsample(&points, BUCKETS), vec![(0, 1.0), (2, 0.5)]);
    }
}
