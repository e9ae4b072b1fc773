//! The segments page: one feature's values as segments, the worst by performance drop and
//! by drift first, each linking to the other tabs narrowed to it.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;

use super::drift::{model_tab, DriftHeader, DriftQuery};
use crate::components::{format_count, format_stat};
use crate::types::{SegmentRow, SegmentsReport};
use crate::url::percent_encode;

/// Rows in each of the two "worst" tables.
const WORST_ROWS: usize = 10;

#[server(input = GetUrl)]
pub async fn get_segments_report(
    workspace: String,
    model: String,
    #[server(default)] query: DriftQuery,
) -> Result<SegmentsReport, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::monitoring::breakdown::segments_report(&state.db, membership.workspace_id, &model, &query)
        .await
        .map_err(to_server_error)
}

#[component]
pub fn SegmentsPage() -> impl IntoView {
    model_tab("Comparing segments…", "/segments", get_segments_report, view_segments)
}

fn view_segments(workspace: String, report: SegmentsReport) -> impl IntoView {
    let metric = report.metric.clone();
    let ranked: Vec<&SegmentRow> = report.segments.iter().filter(|row| row.ranked).collect();
    let unranked = report.segments.len() - ranked.len();

    let mut by_drop: Vec<&SegmentRow> = ranked.iter().copied().filter(|row| row.drop.is_some()).collect();
    by_drop.truncate(WORST_ROWS);
    let mut by_drift = ranked.clone();
    by_drift.sort_by(|a, b| {
        let share = |row: &SegmentRow| if row.compared_columns == 0 { 0.0 } else { row.drifted_columns as f64 / row.compared_columns as f64 };
        share(b).total_cmp(&share(a)).then(b.current_rows.cmp(&a.current_rows))
    });
    by_drift.truncate(WORST_ROWS);

    let base = format!("/w/{workspace}/models/{}", percent_encode(&report.drift.model));
    let query = DriftQuery::of_report(&report.drift);
    // Each segment's links replace the view's segment with the segment's own condition, which
    // already includes the view's.
    let view_query = query.split("&segment=").next().unwrap_or(&query).to_string();
    let table = |rows: Vec<&SegmentRow>, testid: &'static str| {
        let metric = metric.clone();
        let body = rows
            .into_iter()
            .map(|row| view_row(row, &base, &view_query, metric.is_some()))
            .collect_view();
        view! {
            <table class="data segments-table" data-testid=testid>
                <thead>
                    <tr>
                        <th>"Segment"</th>
                        <th class="num">"Baseline rows"</th>
                        <th class="num">"Current rows"</th>
                        {metric.clone().map(|name| view! {
                            <th class="num">{format!("{name}, baseline")}</th>
                            <th class="num">{format!("{name}, current")}</th>
                            <th class="num" title="How much worse the segment does in the window">"Drop"</th>
                        })}
                        <th class="num">"Drifted features"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        }
    };

    let direction = if report.lower_is_better { "rose" } else { "fell" };
    let drop_section = match &report.metric {
        Some(name) => view! {
            <h2>"Largest performance drop"</h2>
            <p class="muted">{format!("Segments whose {name} {direction} most from the baseline to the window.")}</p>
            {table(by_drop, "segments-by-drop")}
        }
        .into_any(),
        None => view! {
            <p class="notice">"Performance needs a prediction column and an actual (label) column in the model's schema; segments are ranked by drift only."</p>
        }
        .into_any(),
    };
    let notes = [
        (unranked > 0).then(|| {
            format!(
                "{unranked} segment{} with fewer than {} rows on a side {} not ranked; the full list below shows {}.",
                if unranked == 1 { "" } else { "s" },
                crate::types::SEGMENT_MIN_RANKED_ROWS,
                if unranked == 1 { "is" } else { "are" },
                if unranked == 1 { "it" } else { "them" },
            )
        }),
        (report.unlisted > 0).then(|| {
            format!(
                "{} smaller value{} of {} {} not listed.",
                report.unlisted,
                if report.unlisted == 1 { "" } else { "s" },
                report.by,
                if report.unlisted == 1 { "is" } else { "are" },
            )
        }),
    ]
    .into_iter()
    .flatten()
    .map(|note| view! { <p class="muted">{note}</p> })
    .collect_view();
    let all_rows: Vec<&SegmentRow> = report.segments.iter().collect();
    // The summaries count the window's rows, but segments are rebuilt from stored raw rows.
    let no_raw_rows = report.drift.current_rows > 0 && report.segments.iter().all(|row| row.current_rows == 0);
    let raw_rows_notice = no_raw_rows.then(|| {
        let cause = if report.drift.segment.is_some() {
            "no stored row of the window meets the segment, or"
        } else {
            "the"
        };
        view! {
            <p class="notice" data-testid="no-segment-rows">
                {format!("No segment has rows in this window: {cause} raw rows of these days are no longer stored (the server's raw-row retention deletes old production rows; their summaries, which the other tabs read, stay).")}
            </p>
        }
    });
    // The full list adds nothing when the first table already shows every segment.
    let full_list = unranked > 0 || report.segments.len() > WORST_ROWS || report.metric.is_none();
    let unit = if report.numeric { "range of the baseline's quintiles of" } else { "value of" };

    view! {
        <Title text=format!("{} segments · Orrery", report.drift.model)/>
        <DriftHeader workspace=workspace.clone() report=report.drift.clone() tab="segments" by=report.by.clone()/>
        {raw_rows_notice}
        <p class="lead">
            {format!("Each {unit} ")}<strong>{report.by.clone()}</strong>" is a segment, compared with the same segment of the baseline. "
            "Pick another feature under Break down by; numeric features are cut at the baseline's quintiles."
        </p>
        {drop_section}
        <h2>"Most drift"</h2>
        <p class="muted">"Segments with the largest share of drifted features, each judged against the same segment of the baseline."</p>
        {table(by_drift, "segments-by-drift")}
        {full_list.then(|| view! {
            <h2>"All segments"</h2>
            {notes}
            {table(all_rows, "segments-all")}
        })}
    }
}

fn view_row(row: &SegmentRow, base: &str, view_query: &str, with_metric: bool) -> impl IntoView {
    let segment = percent_encode(&row.segment);
    let drift_href = format!("{base}{view_query}&segment={segment}");
    let performance_href = format!("{base}/performance{view_query}&segment={segment}");
    let show = |value: Option<f64>| value.map(format_stat).unwrap_or_else(|| "—".into());
    let drift_badge = if row.compared_columns == 0 {
        view! { <span class="muted">"n/a"</span> }.into_any()
    } else {
        let class = if row.dataset_drift { "badge drift" } else { "badge ok" };
        view! { <span class=class>{format!("{} of {}", row.drifted_columns, row.compared_columns)}</span> }.into_any()
    };
    // A drop of more than 5% of the baseline value is highlighted.
    let drop_class = match (row.drop, row.metric_reference) {
        (Some(drop), Some(reference)) if drop > 0.05 * reference.abs() => "num worse",
        _ => "num",
    };
    view! {
        <tr data-segment=row.segment.clone() class:unranked=!row.ranked>
            <td><a href=drift_href.clone() class="strong" title=row.segment.clone()>{row.label.clone()}</a></td>
            <td class="num">{format_count(row.reference_rows)}</td>
            <td class="num">{format_count(row.current_rows)}</td>
            {with_metric.then(|| view! {
                <td class="num" data-value=row.metric_reference.map(|v| v.to_string())>{show(row.metric_reference)}</td>
                <td class="num" data-value=row.metric_current.map(|v| v.to_string())>{show(row.metric_current)}</td>
                <td class=drop_class data-value=row.drop.map(|v| v.to_string())>{show(row.drop)}</td>
            })}
            <td class="num">{drift_badge}</td>
            <td class="links">
                <a href=drift_href>"Drift"</a>
                " · "
                <a href=performance_href>"Performance"</a>
            </td>
        </tr>
    }
}
