//! A server-drawn SVG chart with hover targets laid over it. The SVG comes from plotters on
//! the server; after hydration, hovering a bar or point shows its tooltip.

use leptos::prelude::*;

use crate::types::Chart;

#[component]
pub fn ChartView(chart: Chart, #[prop(into)] label: String) -> impl IntoView {
    let hovered = RwSignal::new(None::<usize>);
    let marks = chart.marks.clone();
    let view_box = format!("0 0 {} {}", chart.width, chart.height);
    let width = chart.width;
    let height = chart.height;

    let targets = marks
        .iter()
        .enumerate()
        .map(|(index, mark)| {
            view! {
                <rect
                    class="chart-target"
                    data-index=index
                    x=mark.x
                    y=mark.y
                    width=mark.width
                    height=mark.height
                    on:mouseenter=move |_| hovered.set(Some(index))
                    on:mouseleave=move |_| hovered.set(None)
                ></rect>
            }
        })
        .collect_view();

    let tooltip_marks = marks.clone();
    let tooltip = move || {
        let index = hovered.get()?;
        let mark = tooltip_marks.get(index)?;
        // Place the tooltip right of the target, or left of it in the chart's right third.
        let left_pct = (mark.x + mark.width) / width as f64 * 100.0;
        let top_pct = (mark.y / height as f64 * 100.0).max(2.0);
        let style = if left_pct > 66.0 {
            let right_pct = 100.0 - mark.x / width as f64 * 100.0;
            format!("right: {right_pct:.2}%; top: {top_pct:.2}%")
        } else {
            format!("left: {left_pct:.2}%; top: {top_pct:.2}%")
        };
        let lines = mark.tooltip.iter().map(|line| view! { <div>{line.clone()}</div> }).collect_view();
        Some(view! { <div class="chart-tooltip" role="tooltip" style=style>{lines}</div> })
    };

    view! {
        <figure class="chart">
            <div class="chart-frame">
                <div class="chart-svg" inner_html=chart.svg.clone()></div>
                <svg class="chart-overlay" viewBox=view_box preserveAspectRatio="none">
                    {targets}
                </svg>
                {tooltip}
            </div>
            <figcaption>{label}</figcaption>
        </figure>
    }
}

/// Colours of the series in multi-series charts, in order; legends drawn in HTML use them too.
pub const SERIES_COLORS: [(u8, u8, u8); 8] = [
    (76, 114, 176),
    (221, 132, 82),
    (85, 168, 104),
    (196, 78, 82),
    (129, 114, 179),
    (147, 120, 96),
    (218, 139, 195),
    (140, 140, 140),
];

/// Returns the CSS colour of series `index`.
pub fn series_color(index: usize) -> String {
    let (r, g, b) = SERIES_COLORS[index % SERIES_COLORS.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}
