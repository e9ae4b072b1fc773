//! A server-drawn SVG chart with hover targets laid over it. The SVG comes from plotters on
//! the server. After hydration, hovering a bar or point shows its tooltip. Dragging across the
//! points of a time series makes their days the page's window.

use leptos::prelude::*;

use leptos_router::hooks::{use_location, use_navigate, use_query_map};

use crate::types::Chart;
use crate::url::percent_encode;

#[component]
pub fn ChartView(chart: Chart, #[prop(into)] label: String) -> impl IntoView {
    let hovered = RwSignal::new(None::<usize>);
    // The marks a drag has covered so far: where it started and where the pointer is.
    let brush = RwSignal::new(None::<(usize, usize)>);
    let marks = chart.marks.clone();
    let view_box = format!("0 0 {} {}", chart.width, chart.height);
    let width = chart.width;
    let height = chart.height;
    let brushable = marks.iter().any(|mark| mark.day.is_some());
    let query = use_query_map();
    let location = use_location();
    let navigate = use_navigate();

    let finish_marks = marks.clone();
    let finish = move || {
        let Some((start, end)) = brush.get_untracked() else { return };
        brush.set(None);
        let day = |index: usize| finish_marks.get(index).and_then(|mark| mark.day.clone());
        let (Some(from), Some(to)) = (day(start.min(end)), day(start.max(end))) else { return };
        let mut pairs: Vec<(String, String)> = query
            .get_untracked()
            .into_iter()
            .filter(|(key, _)| key != "from" && key != "to")
            .map(|(key, value)| (key.to_string(), value))
            .collect();
        pairs.push(("from".to_string(), from));
        pairs.push(("to".to_string(), to));
        let search: Vec<String> = pairs.iter().map(|(key, value)| format!("{key}={}", percent_encode(value))).collect();
        navigate(&format!("{}?{}", location.pathname.get_untracked(), search.join("&")), Default::default());
    };

    let targets = marks
        .iter()
        .enumerate()
        .map(|(index, mark)| {
            let has_day = mark.day.is_some();
            let finish = finish.clone();
            view! {
                <rect
                    class="chart-target"
                    class:brushable=has_day
                    data-index=index
                    data-day=mark.day.clone()
                    x=mark.x
                    y=mark.y
                    width=mark.width
                    height=mark.height
                    on:mouseenter=move |_| {
                        hovered.set(Some(index));
                        if let Some((start, _)) = brush.get_untracked() {
                            brush.set(Some((start, index)));
                        }
                    }
                    on:mouseleave=move |_| hovered.set(None)
                    on:mousedown=move |event| {
                        if has_day {
                            event.prevent_default();
                            brush.set(Some((index, index)));
                        }
                    }
                    on:mouseup=move |_| finish()
                ></rect>
            }
        })
        .collect_view();

    let brush_marks = marks.clone();
    let selection = move || {
        let (start, end) = brush.get()?;
        let (first, last) = (brush_marks.get(start.min(end))?, brush_marks.get(start.max(end))?);
        Some(view! {
            <rect
                class="chart-brush"
                x=first.x
                y=first.y
                width=last.x + last.width - first.x
                height=first.height
            ></rect>
        })
    };

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
    let caption = if brushable { format!("{label}. Drag across points, or click one, to make their days the window.") } else { label };

    view! {
        <figure class="chart">
            <div class="chart-frame">
                <div class="chart-svg" inner_html=chart.svg.clone()></div>
                <svg
                    class="chart-overlay"
                    viewBox=view_box
                    preserveAspectRatio="none"
                    on:mouseleave=move |_| brush.set(None)
                >
                    {selection}
                    {targets}
                </svg>
                {tooltip}
            </div>
            <figcaption>{caption}</figcaption>
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
