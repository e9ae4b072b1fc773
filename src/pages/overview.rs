//! The model overview: one health summary of the current window against the baseline, with
//! drift, data quality, performance and volume side by side, each linking to its tab.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::drift::{model_tab, DriftHeader, DriftQuery};
use super::quality::status_badge;
use crate::components::chart::ChartView;
use crate::components::{format_count, format_stat, format_time};
use crate::types::{DriftReport, PerformanceReport, QualityReport, QualityStatus};
use crate::url::percent_encode;

/// Everything the overview shows: the data-quality report (which carries the drift report)
/// and the performance report, for the same view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewReport {
    pub quality: QualityReport,
    pub performance: PerformanceReport,
}

#[server(input = GetUrl)]
pub async fn get_overview_report(
    workspace: String,
    model: String,
    #[server(default)] query: DriftQuery,
) -> Result<OverviewReport, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    let workspace_id = membership.workspace_id;
    let (quality, performance) = crate::monitoring::performance::overview_reports(&state.db, workspace_id, &model, &query)
        .await
        .map_err(to_server_error)?;
    Ok(OverviewReport { quality, performance })
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    model_tab("Summarising the model's health…", "/overview", get_overview_report, view_overview)
}

/// Grades the three areas the status line covers: drift, the worst column's data quality,
/// and freshness.
fn area_grades(report: &OverviewReport) -> [(QualityStatus, &'static str); 3] {
    let quality = report.quality.columns.iter().map(|column| column.status).max().unwrap_or(QualityStatus::Pass);
    [
        (drift_status(&report.quality.drift).0, "drift"),
        (quality, "data quality"),
        (report.quality.freshness_status, "freshness"),
    ]
}

/// Grades the model as the worst of its drift, data-quality and freshness grades.
fn overall_status(report: &OverviewReport) -> QualityStatus {
    area_grades(report).into_iter().map(|(grade, _)| grade).max().unwrap_or(QualityStatus::Pass)
}

/// Grades drift: fail on dataset drift (at least half of the compared columns drift), warn
/// on any drifted column. Also returns the number of compared columns.
fn drift_status(drift: &DriftReport) -> (QualityStatus, usize) {
    let compared = drift.compared_columns();
    let status = if drift.dataset_drift() {
        QualityStatus::Fail
    } else if drift.drifted_columns > 0 {
        QualityStatus::Warn
    } else {
        QualityStatus::Pass
    };
    (status, compared)
}

/// Names the areas graded `status` with the verb in agreement, such as "freshness fails" or
/// "drift and freshness fail".
fn areas_at(report: &OverviewReport, status: QualityStatus, singular: &str, plural: &str) -> String {
    let areas: Vec<&str> =
        area_grades(report).into_iter().filter(|(grade, _)| *grade == status).map(|(_, name)| name).collect();
    match areas.as_slice() {
        [] => format!("some checks {plural}"),
        [one] => format!("{one} {singular}"),
        [rest @ .., last] => format!("{} and {last} {plural}", rest.join(", ")),
    }
}

fn view_overview(workspace: String, report: OverviewReport) -> impl IntoView {
    let drift = report.quality.drift.clone();
    let query = DriftQuery::of_report(&drift);
    let model_path = format!("/w/{workspace}/models/{}", percent_encode(&drift.model));
    let status = overall_status(&report);
    let headline = match status {
        QualityStatus::Pass => "Healthy: no drift, no data-quality problem, and the data is fresh.".to_string(),
        QualityStatus::Warn => format!("Needs a look: {}.", areas_at(&report, QualityStatus::Warn, "warns", "warn")),
        QualityStatus::Fail => format!("Needs action: {}.", areas_at(&report, QualityStatus::Fail, "fails", "fail")),
    };

    view! {
        <Title text=format!("{} overview · Orrery", drift.model)/>
        <DriftHeader workspace=workspace.clone() report=drift.clone() tab="overview"/>
        <p class="overview-headline" data-testid="overview-status">{status_badge(status)}" "{headline}</p>
        <div class="overview-grid">
            {view_drift_card(&report, &model_path, &query)}
            {view_quality_card(&report, &model_path, &query)}
            {view_performance_card(&report, &model_path, &query)}
            {view_volume_card(&report)}
        </div>
        <h2>"Main metric per day"</h2>
        <ChartView chart=report.performance.over_time.clone() label="Main metric per day, against its baseline value"/>
    }
}

fn view_drift_card(report: &OverviewReport, model_path: &str, query: &str) -> impl IntoView {
    let drift = &report.quality.drift;
    let (status, compared) = drift_status(drift);
    // The drift report lists drifted columns first, most drifted first.
    let worst = drift
        .columns
        .iter()
        .filter(|row| row.drift == Some(true))
        .take(5)
        .map(|row| {
            let href = format!("{model_path}/features/{}{query}", percent_encode(&row.column));
            let value = row.value.map(format_stat).unwrap_or_default();
            view! { <li><a href=href>{row.column.clone()}</a>" "<span class="muted small">{row.method.clone()}" "{value}</span></li> }
        })
        .collect_view();
    view! {
        <section class="card stat" data-testid="overview-drift">
            <div class="muted small">"Drift"</div>
            <strong>{status_badge(status)}" "{drift.drifted_columns}" of "{compared}" columns drift"</strong>
            <ul class="plain">{worst}</ul>
            <a class="small" href=format!("{model_path}{query}")>"All columns"</a>
        </section>
    }
}

fn view_quality_card(report: &OverviewReport, model_path: &str, query: &str) -> impl IntoView {
    let columns = &report.quality.columns;
    let failing = columns.iter().filter(|column| column.status == QualityStatus::Fail).count();
    let warning = columns.iter().filter(|column| column.status == QualityStatus::Warn).count();
    let status = columns.iter().map(|column| column.status).max().unwrap_or(QualityStatus::Pass);
    let mut flagged: Vec<_> = columns.iter().filter(|column| column.status != QualityStatus::Pass).collect();
    flagged.sort_by_key(|column| std::cmp::Reverse(column.status));
    let findings = flagged
        .into_iter()
        .take(4)
        .filter_map(|column| column.findings.first().map(|finding| (column.column.clone(), finding.clone())))
        .map(|(column, finding)| view! { <li><span class="strong">{column}</span>": "<span class="small">{finding}</span></li> })
        .collect_view();
    view! {
        <section class="card stat" data-testid="overview-quality">
            <div class="muted small">"Data quality"</div>
            <strong>{status_badge(status)}" "{failing}" failing, "{warning}" warning"</strong>
            <ul class="plain">{findings}</ul>
            <a class="small" href=format!("{model_path}/quality{query}")>"All checks"</a>
        </section>
    }
}

fn view_performance_card(report: &OverviewReport, model_path: &str, query: &str) -> impl IntoView {
    let performance = &report.performance;
    let main = performance.metrics.first().cloned();
    let body = match (performance.task.as_str(), main) {
        ("none", _) | (_, None) => view! {
            <strong>"Not measured"</strong>
            <p class="muted small">"The schema needs a prediction and an actual column."</p>
        }
        .into_any(),
        (_, Some(metric)) => {
            let show = |value: Option<f64>| value.map(format_stat).unwrap_or_else(|| "—".into());
            let change = match (metric.reference, metric.current) {
                (Some(reference), Some(current)) => format!("{:+.4}", current - reference),
                _ => "—".into(),
            };
            view! {
                <strong data-testid="overview-main-metric">{metric.name.clone()}" "{show(metric.current)}</strong>
                <p class="small">"Baseline "{show(metric.reference)}", change "{change}"; "
                    {format_count(performance.current_rows)}" current rows with an actual."</p>
            }
            .into_any()
        }
    };
    view! {
        <section class="card stat" data-testid="overview-performance">
            <div class="muted small">"Performance"</div>
            {body}
            <a class="small" href=format!("{model_path}/performance{query}")>"All metrics"</a>
        </section>
    }
}

fn view_volume_card(report: &OverviewReport) -> impl IntoView {
    let quality = &report.quality;
    let window_rows: u64 = quality.daily_rows.iter().map(|(_, rows)| rows).sum();
    let days = quality.daily_rows.len().max(1) as u64;
    let latest = quality.latest_row_ms.map(format_time).unwrap_or_else(|| "no production data".into());
    view! {
        <section class="card stat" data-testid="overview-volume">
            <div class="muted small">"Volume and freshness"</div>
            <strong>{format_count(window_rows)}" rows"</strong>
            <p class="small">
                {format_count(window_rows / days)}" per day with data, over "{quality.daily_rows.len()}
                {if quality.daily_rows.len() == 1 { " day." } else { " days." }}
            </p>
            <p class="small">"Latest row: "{latest}" "{status_badge(quality.freshness_status)}</p>
        </section>
    }
}
