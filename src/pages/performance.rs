//! The performance page: model metrics on the baseline and in the current window, the
//! confusion matrix, and the main metric per day.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;

use super::drift::{model_tab, DriftHeader, DriftQuery};
use crate::components::chart::ChartView;
use crate::components::{format_count, format_stat, sentence_start};
use crate::types::PerformanceReport;

#[server(input = GetUrl)]
pub async fn get_performance_report(
    workspace: String,
    model: String,
    #[server(default)] query: DriftQuery,
) -> Result<PerformanceReport, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::monitoring::performance::performance_report(&state.db, membership.workspace_id, &model, &query)
        .await
        .map_err(to_server_error)
}

#[component]
pub fn PerformancePage() -> impl IntoView {
    model_tab("Computing performance…", "/performance", get_performance_report, view_performance)
}

fn view_performance(workspace: String, report: PerformanceReport) -> impl IntoView {
    let notice = (report.task == "none").then(|| {
        view! {
            <p class="notice" data-testid="no-performance">
                "Performance needs a prediction column and an actual (label) column in the model's schema."
            </p>
        }
    });
    let rows = report
        .metrics
        .iter()
        .map(|metric| {
            let show = |value: Option<f64>| value.map(format_stat).unwrap_or_else(|| "—".into());
            let change = match (metric.reference, metric.current) {
                (Some(reference), Some(current)) => format_stat(current - reference),
                _ => "—".into(),
            };
            view! {
                <tr data-metric=metric.name.clone()>
                    <td class="strong">{metric.name.clone()}</td>
                    <td class="num" data-value=metric.reference.map(|v| v.to_string())>{show(metric.reference)}</td>
                    <td class="num" data-value=metric.current.map(|v| v.to_string())>{show(metric.current)}</td>
                    <td class="num">{change}</td>
                </tr>
            }
        })
        .collect_view();
    let header = report.labels.iter().map(|label| view! { <th class="num">{label.clone()}</th> }).collect_view();
    let matrix = report
        .confusion_matrix
        .iter()
        .map(|(actual, counts)| {
            let cells = counts.iter().map(|count| view! { <td class="num">{format_count(*count)}</td> }).collect_view();
            view! { <tr><th>{actual.clone()}</th>{cells}</tr> }
        })
        .collect_view();
    let has_matrix = !report.confusion_matrix.is_empty();
    let class_rows = report
        .classes
        .iter()
        .map(|class| {
            let cells = [class.reference, class.current]
                .into_iter()
                .flat_map(|scores| {
                    let score = |value: Option<f64>| (value.map(format_stat).unwrap_or_else(|| "—".into()), value.map(|v| v.to_string()));
                    [
                        score(scores.map(|scores| scores.precision)),
                        score(scores.map(|scores| scores.recall)),
                        score(scores.map(|scores| scores.f1)),
                        (format_count(scores.map_or(0, |scores| scores.support)), None),
                    ]
                })
                .map(|(text, value)| view! { <td class="num" data-value=value>{text}</td> })
                .collect_view();
            view! { <tr data-class=class.label.clone()><th>{class.label.clone()}</th>{cells}</tr> }
        })
        .collect_view();
    let has_classes = !report.classes.is_empty();
    let calibration_rows = report
        .calibration
        .iter()
        .map(|bin| {
            view! {
                <tr>
                    <td>{format!("{:.1} – {:.1}", bin.lower, bin.upper)}</td>
                    <td class="num">{format_count(bin.rows)}</td>
                    <td class="num" data-value=bin.mean_score.to_string()>{format_stat(bin.mean_score)}</td>
                    <td class="num" data-value=bin.positive_share.to_string()>{format_stat(bin.positive_share)}</td>
                </tr>
            }
        })
        .collect_view();
    let has_calibration = !report.calibration.is_empty();

    view! {
        <Title text=format!("{} performance · Orrery", report.drift.model)/>
        <DriftHeader workspace=workspace report=report.drift.clone() tab="performance"/>
        {notice}
        <p class="lead">
            {sentence_start(&report.task)}" metrics on "{format_count(report.reference_rows)}" baseline rows and "
            {format_count(report.current_rows)}" current rows with an actual."
        </p>
        <table class="data metrics-table" data-testid="metrics-table">
            <thead><tr><th>"Metric"</th><th class="num">"Baseline"</th><th class="num">"Current"</th><th class="num">"Change"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {has_classes.then(|| view! {
            <h2>"Per class"</h2>
            <table class="data per-class" data-testid="per-class">
                <thead>
                    <tr><th></th><th class="num" colspan="4">"Baseline"</th><th class="num" colspan="4">"Current"</th></tr>
                    <tr>
                        <th>"Label"</th>
                        <th class="num">"Precision"</th><th class="num">"Recall"</th><th class="num">"F1"</th><th class="num">"Support"</th>
                        <th class="num">"Precision"</th><th class="num">"Recall"</th><th class="num">"F1"</th><th class="num">"Support"</th>
                    </tr>
                </thead>
                <tbody>{class_rows}</tbody>
            </table>
        })}
        {has_matrix.then(|| view! {
            <h2>"Confusion matrix (current window; rows: actual, columns: prediction)"</h2>
            <table class="data confusion" data-testid="confusion-matrix">
                <thead><tr><th></th>{header}</tr></thead>
                <tbody>{matrix}</tbody>
            </table>
        })}
        {has_calibration.then(|| view! {
            <h2>"Calibration (current window)"</h2>
            <p class="muted">"Rows by prediction score in ten equal bins: a well calibrated model's positive share matches its mean score."</p>
            <table class="data calibration" data-testid="calibration">
                <thead>
                    <tr><th>"Score"</th><th class="num">"Rows"</th><th class="num">"Mean score"</th><th class="num">"Positive share"</th></tr>
                </thead>
                <tbody>{calibration_rows}</tbody>
            </table>
        })}
        <h2>"Over time"</h2>
        <ChartView chart=report.over_time label="Main metric per day, against its baseline value"/>
    }
}

