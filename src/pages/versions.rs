//! The versions page: two versions of a model side by side over the same production window.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;

use super::drift::{model_tab, DriftHeader, DriftQuery};
use crate::components::chart::{series_color, ChartView};
use crate::components::{format_count, format_stat};
use crate::types::{ColumnDriftRow, VersionComparison};

#[server(input = GetUrl)]
pub async fn get_version_comparison(
    workspace: String,
    model: String,
    #[server(default)] query: DriftQuery,
) -> Result<VersionComparison, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::monitoring::versions::compare_versions(&state.db, membership.workspace_id, &model, &query)
        .await
        .map_err(to_server_error)
}

#[component]
pub fn VersionsPage() -> impl IntoView {
    model_tab("Comparing versions…", "/versions", get_version_comparison, view_comparison)
}

fn view_comparison(workspace: String, report: VersionComparison) -> impl IntoView {
    let first = report.drift.version.clone();
    let Some(other) = report.other.clone() else {
        let text = if report.drift.versions.len() < 2 {
            "This model has one version. Upload data for another version to compare the two here."
        } else {
            "Pick a version to compare with."
        };
        return view! {
            <Title text=format!("{} versions · Orrery", report.drift.model)/>
            <DriftHeader workspace=workspace report=report.drift.clone() tab="versions" compare=String::new()/>
            <p class="notice" data-testid="no-comparison">{text}</p>
        }
        .into_any();
    };
    let second = other.version.clone();

    let show = |value: Option<f64>| value.map(format_stat).unwrap_or_else(|| "—".into());
    let metric_rows = report
        .metrics
        .iter()
        .map(|metric| {
            let difference = match (metric.first_current, metric.second_current) {
                (Some(first), Some(second)) => format_stat(second - first),
                _ => "—".into(),
            };
            view! {
                <tr data-metric=metric.name.clone()>
                    <td class="strong">{metric.name.clone()}</td>
                    <td class="num">{show(metric.first_baseline)}</td>
                    <td class="num" data-value=metric.first_current.map(|v| v.to_string())>{show(metric.first_current)}</td>
                    <td class="num">{show(metric.second_baseline)}</td>
                    <td class="num" data-value=metric.second_current.map(|v| v.to_string())>{show(metric.second_current)}</td>
                    <td class="num">{difference}</td>
                </tr>
            }
        })
        .collect_view();
    let column_rows = report.columns.iter().map(view_column).collect_view();
    let verdict = |report: &crate::types::DriftReport| {
        let compared = report.compared_columns();
        let (class, text) = if compared == 0 {
            ("badge", "nothing to compare".to_string())
        } else if report.dataset_drift() {
            ("badge drift", format!("{} of {compared} columns drift", report.drifted_columns))
        } else {
            ("badge ok", format!("{} of {compared} columns drift", report.drifted_columns))
        };
        view! { <span class=class>{text}</span> }
    };
    let legend = [&first, &second]
        .into_iter()
        .enumerate()
        .map(|(index, version)| {
            let style = format!("background: {}", series_color(index));
            view! { <span class="legend-item"><span class="swatch" style=style></span>{version.clone()}</span> }
        })
        .collect_view();
    let has_metrics = !report.metrics.is_empty();

    view! {
        <Title text=format!("{} versions · Orrery", report.drift.model)/>
        <DriftHeader workspace=workspace report=report.drift.clone() tab="versions" compare=second.clone()/>
        <table class="data versions-table" data-testid="version-rows">
            <thead>
                <tr><th>"Version"</th><th class="num">"Baseline rows"</th><th class="num">"Window rows"</th><th>"Drift against its baseline"</th></tr>
            </thead>
            <tbody>
                <tr data-version=first.clone()>
                    <td class="strong">{first.clone()}</td>
                    <td class="num">{format_count(report.drift.reference_rows)}</td>
                    <td class="num">{format_count(report.drift.current_rows)}</td>
                    <td>{verdict(&report.drift)}</td>
                </tr>
                <tr data-version=second.clone()>
                    <td class="strong">{second.clone()}</td>
                    <td class="num">{format_count(other.reference_rows)}</td>
                    <td class="num">{format_count(other.current_rows)}</td>
                    <td>{verdict(&other)}</td>
                </tr>
            </tbody>
        </table>
        {has_metrics.then(|| view! {
            <h2>"Performance"</h2>
            <p class="muted">"Each version on its own baseline and in the shared window; the last column is the window's difference."</p>
            <table class="data metrics-table" data-testid="version-metrics">
                <thead>
                    <tr>
                        <th>"Metric"</th>
                        <th class="num">{format!("{first}, baseline")}</th>
                        <th class="num">{format!("{first}, window")}</th>
                        <th class="num">{format!("{second}, baseline")}</th>
                        <th class="num">{format!("{second}, window")}</th>
                        <th class="num">{format!("{second} − {first}")}</th>
                    </tr>
                </thead>
                <tbody>{metric_rows}</tbody>
            </table>
            <h2>"Over time"</h2>
            <div class="legend">{legend}</div>
            <ChartView chart=report.over_time.clone() label="Main metric per day, one line per version"/>
        })}
        <h2>{format!("{second} against {first} in the window")}</h2>
        <p class="muted">
            "Each column of "{second.clone()}"'s rows judged against "{first.clone()}
            "'s rows in the same window. Two versions scoring the same traffic share their inputs, so drift here points at the predictions."
        </p>
        <table class="data drift-table" data-testid="version-columns">
            <thead>
                <tr>
                    <th>"Column"</th><th>"Role"</th><th>"Statistic"</th>
                    <th class="num">"Value"</th><th class="num">"Threshold"</th><th>"Drift"</th>
                </tr>
            </thead>
            <tbody>{column_rows}</tbody>
        </table>
    }
    .into_any()
}

fn view_column(row: &ColumnDriftRow) -> impl IntoView {
    let flag = match row.drift {
        Some(true) => view! { <span class="badge drift">"Drift"</span> }.into_any(),
        Some(false) => view! { <span class="badge ok">"OK"</span> }.into_any(),
        None => view! { <span class="muted" title=row.note.clone().unwrap_or_default()>"n/a"</span> }.into_any(),
    };
    view! {
        <tr data-column=row.column.clone()>
            <td class="strong">{row.column.clone()}</td>
            <td>{row.role.clone()}</td>
            <td>{row.method.clone()}</td>
            <td class="num" data-value=row.value.map(|v| v.to_string())>{row.value.map(format_stat).unwrap_or_else(|| "—".into())}</td>
            <td class="num">{row.threshold.map(format_stat).unwrap_or_else(|| "—".into())}</td>
            <td>{flag}</td>
        </tr>
    }
}
