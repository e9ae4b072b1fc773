//! One column in depth: reference against current histogram, and drift over time.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::drift::{use_drift_target, DriftHeader, DriftQuery};
use crate::components::chart::ChartView;
use crate::components::{format_stat, sentence_start, LoadError};
use crate::types::FeatureReport;

#[server(input = GetUrl)]
pub async fn get_feature_report(
    workspace: String,
    model: String,
    feature: String,
    #[server(default)] query: DriftQuery,
) -> Result<FeatureReport, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::monitoring::drift::feature_report(&state.db, membership.workspace_id, &model, &feature, &query)
        .await
        .map_err(to_server_error)
}

#[component]
pub fn FeaturePage() -> impl IntoView {
    let target = use_drift_target();
    let params = use_params_map();
    let feature = move || params.read().get("feature").unwrap_or_default();
    let report = Resource::new(
        move || (target(), feature()),
        |((workspace, model, query), feature)| get_feature_report(workspace, model, feature, query),
    );

    view! {
        <Suspense fallback=|| view! { <p>"Computing drift…"</p> }>
            {move || Suspend::new(async move {
                let (workspace, model, _) = target();
                match report.await {
                    Ok(report) => view_feature(workspace, report).into_any(),
                    Err(error) => view! { <LoadError error back=format!("/w/{workspace}/models/{model}")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn view_feature(workspace: String, report: FeatureReport) -> impl IntoView {
    let column = report.column.clone();
    let verdict = match column.drift {
        Some(true) => view! { <span class="badge drift">"Drift"</span> }.into_any(),
        Some(false) => view! { <span class="badge ok">"No drift"</span> }.into_any(),
        None => view! { <span class="badge">"n/a"</span> }.into_any(),
    };
    let value = column.value.map(format_stat).unwrap_or_else(|| "—".into());
    let threshold = column.threshold.map(format_stat).unwrap_or_else(|| "—".into());
    let psi = column.psi.map(format_stat).unwrap_or_else(|| "—".into());

    view! {
        <Title text=format!("{} · {} · Orrery", column.column, report.drift.model)/>
        <DriftHeader workspace=workspace report=report.drift.clone() feature=column.column.clone()/>
        <div class="page-head">
            <h1>{column.column.clone()}</h1>
            {verdict}
        </div>
        <p class="lead" data-testid="feature-stat">
            {sentence_start(&column.kind)}" "{column.role.clone()}". "{column.method.clone()}": "
            <strong>{value}</strong>" (threshold "{threshold}"), PSI "{psi}"."
            {column.note.clone().map(|note| view! { " " <span class="muted">{note}</span> })}
        </p>
        <div class="charts">
            <ChartView chart=report.histogram label="Reference and current distribution"/>
            <ChartView chart=report.drift_over_time label="Drift over time"/>
        </div>
    }
}

