//! The drift overview: every monitored column of a model version, current window against the
//! baseline, sorted by drift. The URL's query carries the whole view.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{format_count, format_stat, CsrfField, LoadError, Notice};
use crate::types::{Baseline, ColumnDriftRow, DriftReport};
use crate::url::percent_encode;

/// The view a drift URL selects; every field is optional and defaults on the server.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DriftQuery {
    pub version: Option<String>,
    /// `training`, `validation`, `production` (with `baseline_from` and `baseline_to`) or
    /// `trailing` (with `baseline_days`); absent means the model's default.
    pub baseline: Option<String>,
    pub baseline_from: Option<String>,
    pub baseline_to: Option<String>,
    pub baseline_days: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `on` adds the sample-size-robust (chunk-based) verdict to every column.
    pub chunks: Option<String>,
    /// Conditions on feature values, such as `carrier = "UA" and distance > 1000`, that
    /// select the rows every page compares.
    pub segment: Option<String>,
    /// The feature column the segments tab breaks down.
    pub by: Option<String>,
    /// The version the versions tab compares `version` with.
    pub compare: Option<String>,
}

impl DriftQuery {
    /// Builds the query string that reproduces `report`'s view exactly.
    pub fn of_report(report: &DriftReport) -> String {
        format!(
            "?version={}{}&from={}&to={}",
            percent_encode(&report.version),
            report.baseline.query(),
            report.window_from,
            report.window_to
        ) + if report.chunked { "&chunks=on" } else { "" }
            + &report.segment.as_deref().map(|segment| format!("&segment={}", percent_encode(segment))).unwrap_or_default()
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
                baseline_from: non_empty("baseline_from"),
                baseline_to: non_empty("baseline_to"),
                baseline_days: non_empty("baseline_days"),
                from: non_empty("from"),
                to: non_empty("to"),
                chunks: non_empty("chunks"),
                segment: query.get("segment").filter(|value| !value.trim().is_empty()),
                by: non_empty("by"),
                compare: non_empty("compare"),
            },
        )
    }
}

/// Renders one of a model's tabs: loads its report for the view in the URL and shows it, or
/// the error with a link to the tab's default view. `tab_path` is the tab's path after the
/// model, such as "/quality".
pub fn model_tab<T, Fut, V>(
    loading: &'static str,
    tab_path: &'static str,
    load: impl Fn(String, String, DriftQuery) -> Fut + Send + Sync + 'static,
    render: impl Fn(String, T) -> V + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    Fut: std::future::Future<Output = Result<T, ServerFnError>> + Send + 'static,
    V: IntoView + 'static,
{
    let target = use_drift_target();
    let report = Resource::new(target, move |(workspace, model, query)| load(workspace, model, query));

    view! {
        <Suspense fallback=move || view! { <p>{loading}</p> }>
            {move || Suspend::new(async move {
                let (workspace, model, _) = target();
                match report.await {
                    Ok(report) => render(workspace, report).into_any(),
                    Err(error) => view! {
                        <LoadError error back=format!("/w/{workspace}/models/{model}{tab_path}")/>
                        <SegmentRetry/>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Offers the segment of a view that failed to load for editing, with the rest of the view
/// kept, so a mistyped segment is fixed in place instead of starting over.
#[component]
fn SegmentRetry() -> impl IntoView {
    let query = use_query_map();
    let query = query.get_untracked();
    let segment = query.get("segment").unwrap_or_default();
    let hidden_fields = ["version", "baseline", "baseline_from", "baseline_to", "baseline_days", "from", "to", "chunks"]
        .into_iter()
        .filter_map(|key| query.get(key).map(|value| view! { <input type="hidden" name=key value=value/> }))
        .collect_view();
    view! {
        <form method="get" class="controls" data-testid="segment-retry">
            {hidden_fields}
            <label class="segment">
                "Segment"
                <input type="text" name="segment" data-testid="segment" value=segment.clone() prop:value=segment/>
            </label>
            <button type="submit">"Apply"</button>
        </form>
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
    model_tab("Computing drift…", "", get_drift_report, view_report)
}

/// Renders the breadcrumb, the view controls and the window summary, shared with the feature
/// page.
#[component]
pub fn DriftHeader(
    workspace: String,
    report: DriftReport,
    #[prop(optional)] feature: Option<String>,
    /// The page's tab: "overview", "drift", "quality", "performance" or "segments".
    #[prop(default = "drift")]
    tab: &'static str,
    /// The feature the segments tab breaks down.
    #[prop(optional)]
    by: Option<String>,
    /// The version the versions tab compares with; empty for none yet.
    #[prop(optional)]
    compare: Option<String>,
) -> impl IntoView {
    let query = DriftQuery::of_report(&report);
    let model_href = format!("/w/{workspace}/models/{}{query}", report.model);
    let overview_href = format!("/w/{workspace}/models/{}/overview{query}", report.model);
    let quality_href = format!("/w/{workspace}/models/{}/quality{query}", report.model);
    let performance_href = format!("/w/{workspace}/models/{}/performance{query}", report.model);
    let segments_href = format!("/w/{workspace}/models/{}/segments{query}", report.model);
    let versions_href = format!("/w/{workspace}/models/{}/versions{query}", report.model);
    let tab_class = move |name: &str| if name == tab { "tab active" } else { "tab" };
    let versions = report
        .versions
        .iter()
        .map(|version| view! { <option value=version.clone() selected=*version == report.version>{version.clone()}</option> })
        .collect_view();
    let baseline_kind = report.baseline.kind();
    let baselines = [
        ("training", "Training data"),
        ("validation", "Validation data"),
        ("production", "Production, fixed dates"),
        ("trailing", "Production, days before the window"),
    ]
    .into_iter()
    .map(|(value, label)| view! { <option value=value selected=value == baseline_kind>{label}</option> })
    .collect_view();
    let (baseline_from, baseline_to) = match &report.baseline {
        Baseline::Production { from, to } => (from.clone(), to.clone()),
        _ => (String::new(), String::new()),
    };
    let baseline_days = match report.baseline {
        Baseline::Trailing { days } => days.to_string(),
        _ => String::new(),
    };
    let tab_path = match (tab, &feature) {
        (_, Some(feature)) => format!("/features/{}", percent_encode(feature)),
        ("quality", None) => "/quality".to_string(),
        ("overview", None) => "/overview".to_string(),
        ("performance", None) => "/performance".to_string(),
        ("segments", None) => "/segments".to_string(),
        ("versions", None) => "/versions".to_string(),
        _ => String::new(),
    };
    let save_baseline = (!report.baseline_is_default && !report.versions.is_empty()).then(|| {
        let action = format!("/w/{workspace}/models/{}/baseline", percent_encode(&report.model));
        let back = format!("/w/{workspace}/models/{}{tab_path}{query}", percent_encode(&report.model));
        view! {
            <form method="post" action=action class="inline save-baseline" data-testid="save-baseline">
                <CsrfField/>
                <input type="hidden" name="baseline" value=baseline_kind/>
                <input type="hidden" name="baseline_from" value=baseline_from.clone()/>
                <input type="hidden" name="baseline_to" value=baseline_to.clone()/>
                <input type="hidden" name="baseline_days" value=baseline_days.clone()/>
                <input type="hidden" name="back" value=back/>
                <button type="submit" class="small" title="Pages of this model that name no baseline in their link will use this one">
                    "Make this the model's default baseline"
                </button>
            </form>
        }
    });
    let segment = report.segment.clone().unwrap_or_default();
    // An example built from the model's own features.
    let feature_of = |kind: &str| report.columns.iter().find(|row| row.role == "feature" && row.kind == kind).map(|row| row.column.clone());
    let segment_placeholder = match (feature_of("categorical"), feature_of("numeric")) {
        (Some(category), Some(number)) => format!("{category} = \"value\" and {number} > 100"),
        (Some(category), None) => format!("{category} = \"value\""),
        (None, Some(number)) => format!("{number} > 100"),
        (None, None) => String::new(),
    };
    let segment_summary = report.segment.clone().map(|segment| {
        view! { " Segment: " <code data-testid="segment-summary">{segment}</code> " (rows that meet it, on both sides)." }
    });
    let crumb_feature = feature.clone().map(|feature| view! { " / " <span>{feature}</span> });
    let compared = report.compared_columns();
    let (badge_class, badge_text) = if compared == 0 {
        ("badge", "Nothing to compare")
    } else if report.dataset_drift() {
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
            <a class=tab_class("overview") href=overview_href>"Overview"</a>
            <a class=tab_class("drift") href=model_href>"Drift"</a>
            <a class=tab_class("quality") href=quality_href>"Data quality"</a>
            <a class=tab_class("performance") href=performance_href>"Performance"</a>
            <a class=tab_class("segments") href=segments_href>"Segments"</a>
            <a class=tab_class("versions") href=versions_href>"Versions"</a>
        </nav>
        <form method="get" class="controls" data-testid="view-controls">
            <label>"Version" <select name="version">{versions}</select></label>
            <label>"Baseline" <select name="baseline">{baselines}</select></label>
            <label class="baseline-production">"Baseline from" <input type="date" name="baseline_from" value=baseline_from.clone() prop:value=baseline_from.clone()/></label>
            <label class="baseline-production">"Baseline to" <input type="date" name="baseline_to" value=baseline_to.clone() prop:value=baseline_to.clone()/></label>
            <label class="baseline-trailing">"Days before" <input type="number" name="baseline_days" min="1" max=Baseline::MAX_TRAILING_DAYS placeholder="7" value=baseline_days.clone() prop:value=baseline_days.clone()/></label>
            <label>"From" <input type="date" name="from" value=report.window_from.clone() prop:value=report.window_from.clone()/></label>
            <label>"To" <input type="date" name="to" value=report.window_to.clone() prop:value=report.window_to.clone()/></label>
            {compare.filter(|_| report.versions.len() > 1).map(|compare| {
                let options = report
                    .versions
                    .iter()
                    .filter(|version| **version != report.version)
                    .map(|version| view! { <option value=version.clone() selected=*version == compare>{version.clone()}</option> })
                    .collect_view();
                view! { <label>"Compare with" <select name="compare" data-testid="compare-version">{options}</select></label> }
            })}
            {by.map(|by| {
                let options = report
                    .columns
                    .iter()
                    .filter(|row| row.role == "feature")
                    .map(|row| view! { <option value=row.column.clone() selected=row.column == by>{row.column.clone()}</option> })
                    .collect_view();
                view! { <label>"Break down by" <select name="by" data-testid="segments-by">{options}</select></label> }
            })}
            {(tab == "drift").then(|| view! {
                <label class="check" title="Also judge each column against random baseline chunks as large as the window, which large windows need">
                    <input type="checkbox" name="chunks" value="on" checked=report.chunked prop:checked=report.chunked/>
                    "Chunk-based thresholds"
                </label>
            })}
            <label class="segment" title="Only rows that meet every condition are compared, on the baseline and in the window">
                "Segment"
                <input
                    type="text"
                    name="segment"
                    data-testid="segment"
                    placeholder=segment_placeholder.clone()
                    value=segment.clone()
                    prop:value=segment.clone()
                />
            </label>
            <button type="submit">"Apply"</button>
        </form>
        <p class="summary" data-testid="drift-summary">
            <span class=badge_class title="The dataset drifts when at least half of the compared columns drift.">
                {badge_text}
            </span>
            " "
            <strong>{report.drifted_columns}" of "{compared}</strong>
            " compared columns drift. Reference: "{report.baseline.describe()}" of version "{report.version.clone()}
             " ("{format_count(report.reference_rows)}" rows). Current: production, "
            {report.window_from.clone()}" to "{report.window_to.clone()}" ("{format_count(report.current_rows)}" rows)."
            {segment_summary}
        </p>
        {report.chunked.then(|| view_chunk_summary(&report))}
        {save_baseline}
    }
}

fn view_report(workspace: String, report: DriftReport) -> impl IntoView {
    let query = DriftQuery::of_report(&report);
    let rows = report
        .columns
        .iter()
        .map(|row| view_row(&workspace, &report.model, &query, row, report.chunked))
        .collect_view();

    let no_current = (!report.versions.is_empty() && report.current_rows == 0).then(|| {
        let full_range = report.production_first_day.clone().zip(report.production_last_day.clone());
        let text = match (&full_range, &report.segment) {
            (Some(_), Some(segment)) => format!(
                "No production row in this window meets the segment {segment}. Category values are case-sensitive; rows past the server's raw-row retention are no longer stored."
            ),
            (Some((first, last)), None) => format!("No production data in this window. Production data of version {} spans {first} to {last}.", report.version),
            (None, _) => format!("Version {} has no production data yet. Upload production data from the workspace page.", report.version),
        };
        let link = full_range.map(|(first, last)| {
            let href = format!("?version={}{}&from={first}&to={last}", percent_encode(&report.version), report.baseline.query());
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
                    {report.chunked.then(|| view! {
                        <th class="num" title="mean ± 3 standard deviations of the chunks' values">"Chunk range"</th>
                        <th class="num">"Window"</th>
                        <th>"Chunk drift"</th>
                    })}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn view_row(workspace: &str, model: &str, query: &str, row: &ColumnDriftRow, chunked: bool) -> impl IntoView {
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
            {chunked.then(|| view_chunk_cells(row))}
        </tr>
    }
}

/// Renders the chunk-based cells of a row: the range, the window's value on the same scale
/// and the flag.
fn view_chunk_cells(row: &ColumnDriftRow) -> impl IntoView {
    match &row.chunk {
        Some(chunk) => {
            let title = format!("{} over {} chunks of {} rows", chunk.measure, chunk.chunks, format_count(chunk.chunk_rows));
            let flag = if chunk.drift {
                view! { <span class="badge drift">"Drift"</span> }.into_any()
            } else {
                view! { <span class="badge ok">"OK"</span> }.into_any()
            };
            view! {
                <td class="num" title=title.clone()>{format!("{} – {}", format_stat(chunk.lower), format_stat(chunk.upper))}</td>
                <td class="num" title=title data-testid="chunk-value">{format_stat(chunk.value)}</td>
                <td data-testid="chunk-drift">{flag}</td>
            }
            .into_any()
        }
        None => view! {
            <td class="num">"—"</td>
            <td class="num">"—"</td>
            <td><span class="muted" title=row.chunk_note.clone().unwrap_or_default()>"n/a"</span></td>
        }
        .into_any(),
    }
}

/// Renders the chunk-based view's summary, or the reason no column has a chunk verdict.
fn view_chunk_summary(report: &DriftReport) -> impl IntoView {
    let judged = report.columns.iter().filter(|row| row.chunk.is_some()).count();
    let reason = report.columns.iter().find_map(|row| row.chunk_note.clone());
    let text = match (judged, reason) {
        (0, Some(reason)) => view! { "No chunk-based verdict: "{reason}"." }.into_any(),
        (0, None) => view! { "No chunk-based verdict: nothing to compare." }.into_any(),
        (judged, _) => view! {
            <strong>{report.chunk_drifted_columns}" of "{judged}</strong>
            " columns leave mean ± 3 standard deviations of random baseline chunks as large as the window. "
        }
        .into_any(),
    };
    view! {
        <p class="summary" data-testid="chunk-summary">
            {text}
            " Tests on many rows give tiny p-values for small changes, so this view sizes the threshold to the window instead."
        </p>
    }
}
