//! Experiment tracking pages: the projects of a workspace, a project's runs table, the run
//! page and the compare view. Runs arrive through the MLflow-compatible API.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::chart::ChartView;
use crate::components::{format_stat, format_time, LoadError};
use crate::types::{CompareView, ProjectSummary, RunRow, RunView, RunsPage};
use crate::url::percent_encode;

#[server(input = GetUrl)]
pub async fn get_projects(workspace: String) -> Result<Vec<ProjectSummary>, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::tracking::views::projects(&state.db, &membership).await.map_err(to_server_error)
}

#[server(input = GetUrl)]
pub async fn get_runs(workspace: String, project: i64, filter: String, order: String, page: i64) -> Result<RunsPage, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::tracking::views::runs_page(&state.db, &membership, project, &filter, &order, page).await.map_err(to_server_error)
}

#[server(input = GetUrl)]
pub async fn get_run(workspace: String, run: String, folder: String) -> Result<RunView, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::tracking::views::run_view(&state, &membership, &run, &folder).await.map_err(to_server_error)
}

#[server(input = GetUrl)]
pub async fn get_compare(workspace: String, project: i64, runs: String) -> Result<CompareView, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    let ids: Vec<String> = runs.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_string).collect();
    crate::tracking::views::compare_view(&state.db, &membership, project, &ids).await.map_err(to_server_error)
}

fn param(name: &'static str) -> impl Fn() -> String + Copy {
    let params = use_params_map();
    move || params.read().get(name).unwrap_or_default()
}

fn query(name: &'static str) -> impl Fn() -> String + Copy {
    let query = use_query_map();
    move || query.read().get(name).unwrap_or_default()
}

/// Formats a run's duration, or "running" when it has not ended.
fn duration(run: &RunRow) -> String {
    match (run.start_ms, run.end_ms) {
        (Some(start), Some(end)) if end >= start => {
            let seconds = (end - start) / 1000;
            if seconds < 60 {
                format!("{seconds} s")
            } else if seconds < 3600 {
                format!("{} min {} s", seconds / 60, seconds % 60)
            } else {
                format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60)
            }
        }
        (Some(_), None) => "running".to_string(),
        _ => "—".to_string(),
    }
}

fn status_class(status: &str) -> &'static str {
    match status {
        "FINISHED" => "badge ok",
        "FAILED" | "KILLED" => "badge drift",
        _ => "badge",
    }
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let workspace = param("workspace");
    let projects = Resource::new(workspace, get_projects);
    view! {
        <Title text="Experiments · Orrery"/>
        <div class="page-head"><h1>"Experiments"</h1></div>
        <p class="muted">
            "Projects and their runs, logged from training code with the MLflow client. Set "
            <code>"MLFLOW_TRACKING_URI"</code>" to this server's address and "<code>"MLFLOW_TRACKING_TOKEN"</code>
            " to an API token; MLflow calls projects experiments."
        </p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let slug = workspace();
                match projects.await {
                    Ok(projects) if projects.iter().all(|project| project.runs == 0 && project.name == "Default") => view! {
                        <p class="muted" data-testid="no-projects">"No runs yet. Log one with "<code>"mlflow.start_run()"</code>" and it appears here."</p>
                    }.into_any(),
                    Ok(projects) => {
                        let rows = projects.into_iter().map(|project| {
                            let href = format!("/w/{slug}/projects/{}", project.id);
                            view! {
                                <tr>
                                    <td><a class="strong" href=href>{project.name}</a></td>
                                    <td class="num">{project.runs}</td>
                                    <td>{format_time(project.created_at_ms)}</td>
                                    <td>{format_time(project.updated_at_ms)}</td>
                                </tr>
                            }
                        }).collect_view();
                        view! {
                            <table class="data" data-testid="projects">
                                <thead><tr><th>"Project"</th><th>"Runs"</th><th>"Created"</th><th>"Updated"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error back=format!("/w/{slug}")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn RunsPage() -> impl IntoView {
    let workspace = param("workspace");
    let project = param("project");
    let filter = query("filter");
    let order = query("order");
    let page = query("page");
    let runs = Resource::new(
        move || (workspace(), project(), filter(), order(), page()),
        |(workspace, project, filter, order, page)| {
            get_runs(workspace, project.parse().unwrap_or(0), filter, order, page.parse().unwrap_or(1))
        },
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading runs…"</p> }>
            {move || Suspend::new(async move {
                let slug = workspace();
                match runs.await {
                    Ok(page) => view_runs(slug, page).into_any(),
                    Err(error) => view! {
                        <h1>"Runs"</h1>
                        <LoadError error back=format!("/w/{slug}/projects/{}", project())/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn view_runs(slug: String, page: RunsPage) -> impl IntoView {
    let base = format!("/w/{slug}/projects/{}", page.project.id);
    let metric_keys: Vec<String> = page.metric_keys.iter().take(8).cloned().collect();
    let param_keys: Vec<String> = page.param_keys.iter().take(6).cloned().collect();
    let link = {
        let base = base.clone();
        let filter = page.filter.clone();
        move |order: &str, number: i64| {
            format!("{base}?filter={}&order={}&page={number}", percent_encode(&filter), percent_encode(order))
        }
    };
    // A header link sorts by its column; a second click reverses the direction.
    let sort_header = {
        let link = link.clone();
        let current = page.order.clone();
        move |label: String, field: String| {
            let ascending = format!("{field} ASC");
            let (target, marker) = if current == ascending {
                (format!("{field} DESC"), " ▲")
            } else if current == format!("{field} DESC") {
                (ascending, " ▼")
            } else {
                (ascending, "")
            };
            view! { <th><a href=link(&target, 1)>{label}{marker}</a></th> }
        }
    };
    let metric_headers = metric_keys
        .iter()
        .map(|key| sort_header(key.clone(), format!("metrics.`{key}`")))
        .collect_view();
    let param_headers = param_keys
        .iter()
        .map(|key| sort_header(key.clone(), format!("params.`{key}`")))
        .collect_view();
    let name_header = sort_header("Run".into(), "attributes.run_name".into());
    let start_header = sort_header("Started".into(), "attributes.start_time".into());
    let rows = page
        .runs
        .iter()
        .map(|run| {
            let href = format!("/w/{slug}/runs/{}", run.run_id);
            let metrics = metric_keys
                .iter()
                .map(|key| {
                    let value = run.metrics.iter().find(|(k, _)| k == key).map(|(_, value)| format_stat(value.0)).unwrap_or_default();
                    view! { <td class="num">{value}</td> }
                })
                .collect_view();
            let params = param_keys
                .iter()
                .map(|key| {
                    let value = run.params.iter().find(|(k, _)| k == key).map(|(_, value)| value.clone()).unwrap_or_default();
                    view! { <td>{value}</td> }
                })
                .collect_view();
            let nested = run.parent_run_id.is_some().then(|| view! { <span class="muted small">" (nested)"</span> });
            view! {
                <tr>
                    <td><input type="checkbox" name="run" value=run.run_id.clone() form="compare-form" aria-label=format!("compare {}", run.name)/></td>
                    <td><a class="strong" href=href>{run.name.clone()}</a>{nested}</td>
                    <td><span class=status_class(&run.status)>{run.status.to_lowercase()}</span></td>
                    <td>{run.start_ms.map(format_time).unwrap_or_default()}</td>
                    <td>{duration(run)}</td>
                    <td>{run.user.clone()}</td>
                    {metrics}
                    {params}
                </tr>
            }
        })
        .collect_view();
    let empty = page.runs.is_empty().then(|| {
        let message = if page.filter.is_empty() { "This project has no runs yet." } else { "No run matches the filter." };
        view! { <p class="muted" data-testid="no-runs">{message}</p> }
    });
    let previous = (page.page > 1).then(|| view! { <a href=link(&page.order, page.page - 1)>"← Newer"</a> });
    let next = page.has_more.then(|| view! { <a href=link(&page.order, page.page + 1)>"Older →"</a> });
    let compare_action = format!("{base}/compare");

    view! {
        <Title text=format!("{} · Experiments · Orrery", page.project.name)/>
        <nav class="crumbs"><a href=format!("/w/{slug}/projects")>"Experiments"</a>" / "<span>{page.project.name.clone()}</span></nav>
        <div class="page-head">
            <h1>{page.project.name.clone()}</h1>
            <span class="badge">{format!("{} runs", page.project.runs)}</span>
        </div>
        <form method="get" action=base.clone() class="row-form filter-form">
            <label class="grow">"Filter "
                <input name="filter" value=page.filter.clone() data-testid="run-filter"
                    placeholder="metrics.rmse < 0.8 and params.model = \"xgb\""/>
            </label>
            <input type="hidden" name="order" value=page.order.clone()/>
            <button type="submit">"Search"</button>
            <a href=base.clone()>"Clear"</a>
        </form>
        <p class="muted small">"MLflow's search syntax: metrics.<key>, params.<key>, tags.<key> and attributes (status, run_name, start_time), joined with and."</p>
        {empty}
        <form id="compare-form" method="get" action=compare_action class="row-form">
            <button type="submit">"Compare selected runs"</button>
        </form>
        <div class="table-scroll">
            <table class="data runs" data-testid="runs">
                <thead>
                    <tr>
                        <th></th>{name_header}<th>"Status"</th>{start_header}<th>"Duration"</th><th>"User"</th>
                        {metric_headers}{param_headers}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager">{previous}<span class="muted">{format!("Page {}", page.page)}</span>{next}</nav>
    }
}

#[component]
pub fn RunPage() -> impl IntoView {
    let workspace = param("workspace");
    let run = param("run");
    let folder = query("folder");
    let view = Resource::new(move || (workspace(), run(), folder()), |(workspace, run, folder)| get_run(workspace, run, folder));
    view! {
        <Suspense fallback=|| view! { <p>"Loading the run…"</p> }>
            {move || Suspend::new(async move {
                let slug = workspace();
                match view.await {
                    Ok(run) => view_run(slug, run).into_any(),
                    Err(error) => view! { <h1>"Run"</h1><LoadError error back=format!("/w/{slug}/projects")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn pairs_table(pairs: Vec<(String, String)>, empty: &'static str, testid: &'static str) -> impl IntoView {
    if pairs.is_empty() {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    let rows = pairs
        .into_iter()
        .map(|(key, value)| view! { <tr><td><code>{key}</code></td><td class="wrap">{value}</td></tr> })
        .collect_view();
    view! { <table class="data compact" data-testid=testid><tbody>{rows}</tbody></table> }.into_any()
}

fn view_run(slug: String, view: RunView) -> impl IntoView {
    let run = view.run.clone();
    let project_href = format!("/w/{slug}/projects/{}", view.project.id);
    let metrics = pairs_table(
        run.metrics.iter().map(|(key, value)| (key.clone(), format_stat(value.0))).collect(),
        "No metrics logged.",
        "run-metrics",
    );
    let params = pairs_table(run.params.clone(), "No params logged.", "run-params");
    let tags = pairs_table(view.tags.clone(), "No tags.", "run-tags");
    let charts = view
        .charts
        .into_iter()
        .map(|(key, chart)| view! { <ChartView chart label=key/> })
        .collect_view();
    let inputs = if view.inputs.is_empty() {
        view! { <p class="muted">"No datasets logged with "<code>"mlflow.log_input"</code>"."</p> }.into_any()
    } else {
        let rows = view
            .inputs
            .iter()
            .map(|input| view! {
                <tr>
                    <td class="strong">{input.name.clone()}</td>
                    <td>{input.context.clone()}</td>
                    <td><code>{input.digest.clone()}</code></td>
                    <td>{input.source_type.clone()}</td>
                    <td class="wrap">{input.source.clone()}</td>
                </tr>
            })
            .collect_view();
        view! {
            <table class="data" data-testid="run-inputs">
                <thead><tr><th>"Dataset"</th><th>"Context"</th><th>"Digest"</th><th>"Source type"</th><th>"Source"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }.into_any()
    };
    let up = (!view.artifact_folder.is_empty()).then(|| {
        let parent = view.artifact_folder.rsplit_once('/').map(|(parent, _)| parent.to_string()).unwrap_or_default();
        let href = format!("/w/{slug}/runs/{}?folder={}", run.run_id, percent_encode(&parent));
        view! { <p><a href=href>"↑ Up one folder"</a>" · "<code>{view.artifact_folder.clone()}</code></p> }
    });
    let artifacts = if view.artifacts.is_empty() {
        view! { <p class="muted">"No artifacts here."</p> }.into_any()
    } else {
        let rows = view
            .artifacts
            .iter()
            .map(|artifact| {
                let size = artifact.size.map(|size| crate::components::format_count(size)).map(|size| format!("{size} bytes")).unwrap_or_else(|| "folder".into());
                let name = if artifact.is_dir { format!("{}/", artifact.path) } else { artifact.path.clone() };
                view! { <tr><td><a href=artifact.href.clone()>{name}</a></td><td class="num">{size}</td></tr> }
            })
            .collect_view();
        view! { <table class="data compact" data-testid="run-artifacts"><tbody>{rows}</tbody></table> }.into_any()
    };
    let versions = if view.versions.is_empty() {
        view! { <p class="muted">"No registered model version comes from this run."</p> }.into_any()
    } else {
        view.versions
            .iter()
            .map(|(model, version)| {
                let href = format!("/w/{slug}/registry/{}/versions/{version}", percent_encode(model));
                view! { <p><a href=href>{format!("{model} version {version}")}</a></p> }
            })
            .collect_view()
            .into_any()
    };
    let parent = run.parent_run_id.clone().map(|parent| {
        let href = format!("/w/{slug}/runs/{parent}");
        view! { <span>" · nested in "<a href=href>"its parent run"</a></span> }
    });
    let children = (!view.children.is_empty()).then(|| {
        let links = view
            .children
            .iter()
            .map(|child| view! { <li><a href=format!("/w/{slug}/runs/{}", child.run_id)>{child.name.clone()}</a></li> })
            .collect_view();
        view! { <section class="card"><h2>"Nested runs"</h2><ul>{links}</ul></section> }
    });

    view! {
        <Title text=format!("{} · Run · Orrery", run.name)/>
        <nav class="crumbs">
            <a href=format!("/w/{slug}/projects")>"Experiments"</a>" / "
            <a href=project_href>{view.project.name.clone()}</a>" / "<span>{run.name.clone()}</span>
        </nav>
        <div class="page-head">
            <h1>{run.name.clone()}</h1>
            <span class=status_class(&run.status) data-testid="run-status">{run.status.to_lowercase()}</span>
        </div>
        <p class="muted">
            {format!("Run {} by {}", run.run_id, run.user)}
            {run.start_ms.map(|start| format!(" · started {}", format_time(start)))}
            {format!(" · {}", duration(&run))}
            {parent}
        </p>
        <div class="two-columns">
            <section class="card"><h2>"Metrics"</h2>{metrics}</section>
            <section class="card"><h2>"Params"</h2>{params}</section>
        </div>
        {charts}
        <section class="card"><h2>"Datasets"</h2>{inputs}</section>
        <section class="card"><h2>"Artifacts"</h2>{up}{artifacts}</section>
        <section class="card"><h2>"Model versions"</h2>{versions}</section>
        {children}
        <details class="card"><summary>"Tags"</summary>{tags}</details>
    }
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let workspace = param("workspace");
    let project = param("project");
    let query_map = use_query_map();
    let runs = move || {
        let query = query_map.read();
        let mut ids: Vec<String> = query.get_all("run").unwrap_or_default();
        if let Some(list) = query.get("runs") {
            ids.extend(list.split(',').map(str::to_string));
        }
        ids.join(",")
    };
    let view = Resource::new(move || (workspace(), project(), runs()), |(workspace, project, runs)| {
        get_compare(workspace, project.parse().unwrap_or(0), runs)
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading the runs…"</p> }>
            {move || Suspend::new(async move {
                let slug = workspace();
                match view.await {
                    Ok(compare) => view_compare(slug, compare).into_any(),
                    Err(error) => view! {
                        <h1>"Compare runs"</h1>
                        <LoadError error back=format!("/w/{slug}/projects/{}", project())/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn view_compare(slug: String, view: CompareView) -> impl IntoView {
    let legend = view
        .runs
        .iter()
        .enumerate()
        .map(|(index, run)| {
            let color = crate::components::chart::series_color(index);
            view! {
                <span class="legend-item">
                    <span class="swatch" style=format!("background:{color}")></span>
                    <a href=format!("/w/{slug}/runs/{}", run.run_id)>{run.name.clone()}</a>
                </span>
            }
        })
        .collect_view();
    let heads = view.runs.iter().map(|run| view! { <th>{run.name.clone()}</th> }).collect_view();
    let heads_again = view.runs.iter().map(|run| view! { <th>{run.name.clone()}</th> }).collect_view();
    let param_rows = view
        .params
        .iter()
        .map(|(key, values, differs)| {
            let cells = values.iter().map(|value| view! { <td>{value.clone().unwrap_or_default()}</td> }).collect_view();
            view! { <tr class=if *differs { "differs" } else { "" }><td><code>{key.clone()}</code></td>{cells}</tr> }
        })
        .collect_view();
    let metric_rows = view
        .metrics
        .iter()
        .map(|(key, values)| {
            let best = values.iter().flatten().map(|value| value.0).fold(f64::INFINITY, f64::min);
            let cells = values
                .iter()
                .map(|value| {
                    let text = value.map(|value| format_stat(value.0)).unwrap_or_default();
                    let class = if value.map(|value| value.0) == Some(best) { "num strong" } else { "num" };
                    view! { <td class=class>{text}</td> }
                })
                .collect_view();
            view! { <tr><td><code>{key.clone()}</code></td>{cells}</tr> }
        })
        .collect_view();
    let charts = view
        .charts
        .into_iter()
        .map(|(key, chart)| view! { <ChartView chart label=key/> })
        .collect_view();
    let note = (view.points_logged > view.points_drawn).then(|| {
        format!(
            "Charts draw {} of {} logged points: a long series shows the lowest and highest value of each of 500 equal step ranges.",
            crate::components::format_count(view.points_drawn),
            crate::components::format_count(view.points_logged)
        )
    });
    view! {
        <Title text=format!("Compare runs · {} · Orrery", view.project.name)/>
        <nav class="crumbs">
            <a href=format!("/w/{slug}/projects")>"Experiments"</a>" / "
            <a href=format!("/w/{slug}/projects/{}", view.project.id)>{view.project.name.clone()}</a>" / "<span>"Compare"</span>
        </nav>
        <h1>{format!("Compare {} runs", view.runs.len())}</h1>
        <p class="legend" data-testid="compare-legend">{legend}</p>
        {charts}
        <p class="muted small">{note}</p>
        <section class="card">
            <h2>"Metrics"</h2>
            <p class="muted small">"Latest value of each metric; the lowest value in a row is bold."</p>
            <div class="table-scroll"><table class="data compact" data-testid="compare-metrics"><thead><tr><th>"Metric"</th>{heads}</tr></thead><tbody>{metric_rows}</tbody></table></div>
        </section>
        <section class="card">
            <h2>"Params"</h2>
            <p class="muted small">"Rows whose values differ between runs are highlighted."</p>
            <div class="table-scroll"><table class="data compact" data-testid="compare-params"><thead><tr><th>"Param"</th>{heads_again}</tr></thead><tbody>{param_rows}</tbody></table></div>
        </section>
    }
}
