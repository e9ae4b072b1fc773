//! The data-quality page: per-column checks of the current window against the baseline, with
//! volume and freshness.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;

use super::drift::{model_tab, DriftHeader, DriftQuery};
use crate::components::{format_count, format_time};
use crate::types::{ColumnQuality, QualityReport, QualityStatus};

#[server(input = GetUrl)]
pub async fn get_quality_report(
    workspace: String,
    model: String,
    #[server(default)] query: DriftQuery,
) -> Result<QualityReport, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::monitoring::quality::quality_report(&state.db, membership.workspace_id, &model, &query)
        .await
        .map_err(to_server_error)
}

#[component]
pub fn QualityPage() -> impl IntoView {
    model_tab("Checking data quality…", "/quality", get_quality_report, view_quality)
}

/// Renders a pass, warn or fail badge.
pub(crate) fn status_badge(status: QualityStatus) -> impl IntoView {
    let class = match status {
        QualityStatus::Pass => "badge ok",
        QualityStatus::Warn => "badge warn",
        QualityStatus::Fail => "badge drift",
    };
    view! { <span class=class data-status=status.as_str()>{status.as_str()}</span> }
}

fn percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

fn view_quality(workspace: String, report: QualityReport) -> impl IntoView {
    let rows = report.columns.iter().map(view_column).collect_view();
    let failing = report.columns.iter().filter(|column| column.status == QualityStatus::Fail).count();
    let warning = report.columns.iter().filter(|column| column.status == QualityStatus::Warn).count();
    let window_rows: u64 = report.daily_rows.iter().map(|(_, rows)| rows).sum();
    let days = report.daily_rows.len().max(1) as u64;
    let latest = report.latest_row_ms.map(format_time).unwrap_or_else(|| "no production data".into());

    view! {
        <Title text=format!("{} data quality · Orrery", report.drift.model)/>
        <DriftHeader workspace=workspace report=report.drift.clone() tab="quality"/>
        <div class="quality-cards">
            <div class="card stat" data-testid="quality-columns">
                <div class="muted small">"Columns"</div>
                <strong>{failing}" failing, "{warning}" warning"</strong>
                <div class="muted small">"of "{report.columns.len()}" checked"</div>
            </div>
            <div class="card stat" data-testid="quality-volume">
                <div class="muted small">"Volume in the window"</div>
                <strong>{format_count(window_rows)}" rows"</strong>
                <div class="muted small">{format_count(window_rows / days)}" per day with data, over "{report.daily_rows.len()}" days"</div>
            </div>
            <div class="card stat" data-testid="quality-freshness">
                <div class="muted small">"Freshness"</div>
                <strong>{latest}</strong>
                <div>{status_badge(report.freshness_status)}</div>
            </div>
        </div>
        <table class="data quality-table" data-testid="quality-table">
            <thead>
                <tr>
                    <th>"Column"</th><th>"Type"</th><th>"Status"</th><th class="num">"Missing"</th>
                    <th class="num">"Baseline missing"</th><th class="num">"Out of range"</th>
                    <th class="num">"New categories"</th><th class="num">"Distinct"</th><th>"Findings"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn view_column(column: &ColumnQuality) -> impl IntoView {
    let out_of_range = column.out_of_range_share.map(percent).unwrap_or_else(|| "—".into());
    let new_categories = match column.new_category_share {
        Some(share) if !column.new_categories.is_empty() => format!("{} ({})", percent(share), column.new_categories.join(", ")),
        Some(share) => percent(share),
        None => "—".into(),
    };
    let findings = column.findings.iter().map(|finding| view! { <div>{finding.clone()}</div> }).collect_view();
    view! {
        <tr data-column=column.column.clone()>
            <td class="strong">{column.column.clone()}</td>
            <td>{column.kind.clone()}</td>
            <td>{status_badge(column.status)}</td>
            <td class="num">{percent(column.current_missing_share)}</td>
            <td class="num">{percent(column.reference_missing_share)}</td>
            <td class="num">{out_of_range}</td>
            <td class="num">{new_categories}</td>
            <td class="num">{column.current_distinct}" / "{column.reference_distinct}</td>
            <td class="small">{findings}</td>
        </tr>
    }
}
