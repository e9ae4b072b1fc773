//! The drift overview: every monitored column of a model version, current window against the
//! baseline, sorted by drift. The URL's query carries the whole view.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{format_count, format_stat, LoadError, Notice};
use crate::types::{ColumnDriftRow, DriftReport};
use crate::url::percent_encode;

/// The view a drift URL selects; every field is optional and defaults on the server.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DriftQuery {
    pub version: Option<String>,
    pub baseline: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl DriftQuery {
    /// Builds the query string that reproduces `report`'s view exactly.
    pub fn of_report(report: &DriftReport) -> String {
        format!(
            "?version={}&baseline={}&from={}&to={}",
            percent_encode(&report.version),
            report.baseline.as_str(),
            report.window_from,
            report.window_to
        )
    }
}

/// Reads the route's workspace and model and the query's view settings.
pub fn use_drift_target() -> impl Fn() -> (String, String, DriftQuery) + Copy {
    let params = use_params_map();
    let query = use_query_map();
    move || {
        let params = params.read();
        let query = query.read();
        let non_empty = |key: &str| query.get(key).filter(|value| !value.is_empty());
        (
            params.get("workspace").unwrap_or_default(),
            params.get("model").unwrap_or_default(),
            DriftQuery {
                version: non_empty("version"),
                baseline: non_empty("baseline"),
                from: non_empty("from"),
                to: non_empty("to"),
            },
        )
    }
}

#[server(input = GetUrl)]
pub async fn get_drift_report(
    workspace: String,
    model: String,
    #[server(default)] query: DriftQuery,
) -> Result<DriftReport, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::monitoring::drift::drift_report(&state.db, membership.workspace_id, &model, &query)
        .await
        .map_err(to_server_error)
}

#[component]
pub fn DriftPage() -> impl IntoView {
    let target = use_drift_target();
    let report = Resource::new(target, |(workspace, model, query)| get_drift_report(workspace, model, query));

    view! {
        <Suspense fallback=|| view! { <p>"Computing drift…"</p> }>
            {move || Suspend::new(async move {
                let (workspace, model, _) = target();
                match report.await {
                    Ok(report) => view_report(workspace, report).into_any(),
                    Err(error) => view! { <LoadError error back=format!("/w/{workspace}/models/{model}")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Renders the breadcrumb, the view controls and the window summary, shared with the feature
/// page.
#[component]
pub fn DriftHeader(
    workspace: String,
    report: DriftReport,
    #[prop(optional)] feature: Option<String>,
    /// The page's tab: "drift", "quality" or "performance".
    #[prop(default = "drift")]
    tab: &'static str,
) -> impl IntoView {
    let query = DriftQuery::of_report(&report);
    let model_href = format!("/w/{workspace}/models/{}{query}", report.model);
    let quality_href = format!("/w/{workspace}/models/{}/quality{query}", report.model);
    let performance_href = format!("/w/{workspace}/models/{}/performance{query}", report.model);
    let tab_class = move |name: &str| if name == tab { "tab active" } else { "tab" };
    let versions = report
        .versions
        .iter()
        .map(|version| view! { <option value=version.clone() selected=*version == report.version>{version.clone()}</option> })
        .collect_view();
    let baselines = ["training", "validation"]
        .into_iter()
        .map(|baseline| view! { <option value=baseline selected=baseline == report.baseline.as_str()>{baseline}</option> })
        .collect_view();
    let crumb_feature = feature.clone().map(|feature| view! { " / " <span>{feature}</span> });
    let compared = report.columns.iter().filter(|column| column.drift.is_some()).count();
    let share = if compared == 0 { 0.0 } else { report.drifted_columns as f64 / compared as f64 };
    let dataset_drift = share >= 0.5;
    let (badge_class, badge_text) = if compared == 0 {
        ("badge", "Nothing to compare")
    } else if dataset_drift {
        ("badge drift", "Dataset drift")
    } else {
        ("badge ok", "No dataset drift")
    };

    view! {
        <nav class="crumbs">
            <a href=format!("/w/{workspace}")>{workspace.clone()}</a>
            " / "
            <a href=model_href.clone()>{report.model.clone()}</a>
            {crumb_feature}
        </nav>
        <nav class="tabs">
            <a class=tab_class("drift") href=model_href>"Drift"</a>
            <a class=tab_class("quality") href=quality_href>"Data quality"</a>
            <a class=tab_class("performance") href=performance_href>"Performance"</a>
        </nav>
        <form method="get" class="controls" data-testid="view-controls">
            <label>"Version" <select name="version">{versions}</select></label>
            <label>"Baseline" <select name="baseline">{baselines}</select></label>
            <label>"From" <input type="date" name="from" value=report.window_from.clone() prop:value=report.window_from.clone()/></label>
            <label>"To" <input type="date" name="to" value=report.window_to.clone() prop:value=report.window_to.clone()/></label>
            <button type="submit">"Apply"</button>
        </form>
        <p class="summary" data-testid="drift-summary">
            <span class=badge_class title="The dataset drifts when at least half of the compared columns drift.">
                {badge_text}
            </span>
            " "
            <strong>{report.drifted_columns}" of "{compared}</strong>
            " compared columns drift. Reference: "{report.baseline.as_str()}" data of version "{report.version.clone()}
             " ("{format_count(report.reference_rows)}" rows). Current: production, "
            {report.window_from.clone()}" to "{report.window_to.clone()}" ("{format_count(report.current_rows)}" rows)."
        </p>
    }
}

fn view_report(workspace: String, report: DriftReport) -> impl IntoView {
    let query = DriftQuery::of_report(&report);
    let rows = report
        .columns
        .iter()
        .map(|row| view_row(&workspace, &report.model, &query, row))
        .collect_view();

    let no_current = (!report.versions.is_empty() && report.current_rows == 0).then(|| {
        let full_range = report.production_first_day.clone().zip(report.production_last_day.clone());
        let text = match &full_range {
            Some((first, last)) => format!("No production data in this window. Production data of version {} spans {first} to {last}.", report.version),
            None => format!("Version {} has no production data yet. Upload production data from the workspace page.", report.version),
        };
        let link = full_range.map(|(first, last)| {
            let href = format!("?version={}&baseline={}&from={first}&to={last}", percent_encode(&report.version), report.baseline.as_str());
            view! { " " <a href=href>"Show all production data"</a> }
        });
        view! { <p class="notice" data-testid="no-current-data">{text}{link}</p> }
    });
    let empty = report.versions.is_empty().then(|| {
        view! {
            <p class="notice" data-testid="no-data">
                "This model has no data yet. Upload its training data, then production data, from the workspace page."
            </p>
        }
    });
    view! {
        <Title text=format!("{} drift · Orrery", report.model)/>
        <DriftHeader workspace=workspace.clone() report=report.clone()/>
        {empty}
        {no_current}
        <Notice/>
        <table class="data drift-table" data-testid="drift-table">
            <thead>
                <tr>
                    <th>"Column"</th><th>"Role"</th><th>"Type"</th><th>"Statistic"</th>
                    <th class="num">"Value"</th><th class="num">"Threshold"</th><th>"Drift"</th>
                    <th class="num">"PSI"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn view_row(workspace: &str, model: &str, query: &str, row: &ColumnDriftRow) -> impl IntoView {
    let href = format!("/w/{workspace}/models/{model}/features/{}{query}", percent_encode(&row.column));
    let value = row.value.map(format_stat).unwrap_or_else(|| "—".into());
    let threshold = row.threshold.map(format_stat).unwrap_or_else(|| "—".into());
    let psi = row.psi.map(format_stat).unwrap_or_else(|| "—".into());
    let flag = match row.drift {
        Some(true) => view! { <span class="badge drift">"Drift"</span> }.into_any(),
        Some(false) => view! { <span class="badge ok">"OK"</span> }.into_any(),
        None => view! { <span class="muted" title=row.note.clone().unwrap_or_default()>"n/a"</span> }.into_any(),
    };
    view! {
        <tr data-column=row.column.clone()>
            <td><a href=href class="strong">{row.column.clone()}</a></td>
            <td>{row.role.clone()}</td>
            <td>{row.kind.clone()}</td>
            <td>{row.method.clone()}</td>
            <td class="num" data-testid="drift-value" data-value=row.value.map(|v| v.to_string())>{value}</td>
            <td class="num">{threshold}</td>
            <td>{flag}</td>
            <td class="num">{psi}</td>
        </tr>
    }
}
