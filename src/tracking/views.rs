//! The data of the experiment and registry pages, assembled on the server from the database.

use crate::db::tracking::ViewType;
use crate::db::workspaces::Membership;
use crate::db::Db;
use crate::server::errors::ApiError;
use crate::tracking::charts::{metric_chart, BUCKETS};
use crate::tracking::promotion::{approval_refusal, Policy};
use crate::tracking::search::{parse_filter, parse_order_by, Clause, Field, Op, Value};
use crate::tracking::{Experiment, RegisteredModel, RegistryVersion, Run, RunDetail};
use crate::types::{
    MetricValue,
    AliasSpan, ArtifactInfo, CompareView, DatasetInfo, GateResult, ProjectSummary, RegistryModelView, RegistrySummary,
    RegistryVersionRow, RegistryVersionView, RegistryView, RequestView, RunRow, RunView, RunsPage, VersionHealth, WebhooksView,
};
use crate::url::percent_encode;

pub const RUNS_PAGE_SIZE: i64 = 50;
/// The maximum number of runs the compare view takes.
pub const MAX_COMPARED_RUNS: usize = 1000;

fn project_summary(experiment: &Experiment, runs: i64) -> ProjectSummary {
    ProjectSummary {
        id: experiment.id,
        name: experiment.name.clone(),
        runs,
        created_at_ms: experiment.created_at,
        updated_at_ms: experiment.updated_at,
    }
}

fn run_row(detail: &RunDetail) -> RunRow {
    RunRow {
        run_id: detail.run.run_uuid.clone(),
        name: detail.run.name.clone(),
        status: detail.run.status.clone(),
        user: detail.run.user_name.clone(),
        start_ms: detail.run.start_time,
        end_ms: detail.run.end_time,
        metrics: detail.metrics.iter().map(|point| (point.key.clone(), MetricValue(point.value))).collect(),
        params: detail.params.clone(),
        parent_run_id: detail.tags.iter().find(|(key, _)| key == "mlflow.parentRunId").map(|(_, value)| value.clone()),
    }
}

async fn project(db: &Db, workspace: &Membership, id: i64) -> Result<Experiment, ApiError> {
    db.experiment(workspace.workspace_id, id)
        .await?
        .filter(|experiment| experiment.lifecycle_stage == "active")
        .ok_or_else(|| ApiError::not_found(format!("project {id} not found")))
}

async fn run_count(db: &Db, workspace: &Membership, id: i64) -> Result<i64, ApiError> {
    Ok(db.run_counts(workspace.workspace_id).await?.into_iter().find(|(project, _)| *project == id).map(|(_, runs)| runs).unwrap_or(0))
}

pub async fn projects(db: &Db, workspace: &Membership) -> Result<Vec<ProjectSummary>, ApiError> {
    let counts: std::collections::HashMap<i64, i64> = db.run_counts(workspace.workspace_id).await?.into_iter().collect();
    let order = vec![parse_order_by("last_update_time DESC").map_err(|error| ApiError::internal(error.to_string()))?];
    let experiments = db
        .search_experiments(workspace.workspace_id, ViewType::ActiveOnly, &[], &order, 1000, 0)
        .await
        .map_err(search_error)?;
    Ok(experiments.iter().map(|experiment| project_summary(experiment, counts.get(&experiment.id).copied().unwrap_or(0))).collect())
}

fn search_error(failure: crate::db::tracking::SearchFailure) -> ApiError {
    match failure {
        crate::db::tracking::SearchFailure::Invalid(message) => ApiError::bad_request(message),
        crate::db::tracking::SearchFailure::Db(error) => error.into(),
    }
}

/// Loads one page of a project's runs, filtered and ordered with MLflow's syntax.
pub async fn runs_page(
    db: &Db,
    workspace: &Membership,
    project_id: i64,
    filter: &str,
    order: &str,
    page: i64,
) -> Result<RunsPage, ApiError> {
    let experiment = project(db, workspace, project_id).await?;
    let clauses = parse_filter(filter).map_err(|error| ApiError::bad_request(error.to_string()))?;
    let orders = if order.trim().is_empty() {
        Vec::new()
    } else {
        vec![parse_order_by(order).map_err(|error| ApiError::bad_request(error.to_string()))?]
    };
    let page = page.max(1);
    let runs = db
        .search_runs(&[experiment.id], ViewType::ActiveOnly, &clauses, &orders, RUNS_PAGE_SIZE + 1, (page - 1) * RUNS_PAGE_SIZE)
        .await
        .map_err(search_error)?;
    let has_more = runs.len() as i64 > RUNS_PAGE_SIZE;
    let details = db.run_details(runs.into_iter().take(RUNS_PAGE_SIZE as usize).collect()).await?;
    let mut metric_keys: Vec<String> = details.iter().flat_map(|detail| detail.metrics.iter().map(|point| point.key.clone())).collect();
    metric_keys.sort();
    metric_keys.dedup();
    let mut param_keys: Vec<String> = details.iter().flat_map(|detail| detail.params.iter().map(|(key, _)| key.clone())).collect();
    param_keys.sort();
    param_keys.dedup();
    Ok(RunsPage {
        project: project_summary(&experiment, run_count(db, workspace, experiment.id).await?),
        filter: filter.to_string(),
        order: order.to_string(),
        page,
        page_size: RUNS_PAGE_SIZE,
        has_more,
        metric_keys,
        param_keys,
        runs: details.iter().map(run_row).collect(),
    })
}

/// Builds the run page, with the artifacts of `folder` (relative to the run's artifact root).
pub async fn run_view(state: &crate::server::AppState, workspace: &Membership, run_id: &str, folder: &str) -> Result<RunView, ApiError> {
    let db = &state.db;
    let run = db.run(workspace.workspace_id, run_id).await?.ok_or_else(|| ApiError::not_found(format!("run {run_id} not found")))?;
    let experiment = project(db, workspace, run.experiment_id).await?;
    let detail = db.run_details(vec![run.clone()]).await?.remove(0);

    let mut charts = Vec::new();
    for point in detail.metrics.iter().take(24) {
        let (points, _) = db.metric_series(run.id, &point.key, BUCKETS as i64).await?;
        if points.len() > 1 {
            let series = vec![(run.name.clone(), points)];
            charts.push((point.key.clone(), metric_chart(&point.key, &series)));
        }
    }

    let folder = folder.trim_matches('/');
    crate::tracking::artifacts::check_path(folder).map_err(ApiError::bad_request)?;
    let root = run.artifact_uri.strip_prefix("mlflow-artifacts:/").unwrap_or_default().to_string();
    let listed = if folder.is_empty() { root.clone() } else { format!("{root}/{folder}") };
    let entries = state.artifacts.list(&listed).await.map_err(|error| ApiError::internal(format!("listing artifacts failed: {error}")))?;
    let slug = &workspace.slug;
    let artifacts = entries
        .into_iter()
        .map(|entry| {
            let relative = if folder.is_empty() { entry.path.clone() } else { format!("{folder}/{}", entry.path) };
            let href = if entry.is_dir {
                format!("/w/{slug}/runs/{}?folder={}", run.run_uuid, percent_encode(&relative))
            } else {
                format!("/api/2.0/mlflow-artifacts/artifacts/{listed}/{}", percent_encode(&entry.path))
            };
            ArtifactInfo { path: relative, is_dir: entry.is_dir, size: entry.size, href }
        })
        .collect();

    let versions = db
        .search_registry_versions(workspace.workspace_id, &[run_clause(&run.run_uuid)], &[], 100, 0)
        .await
        .map_err(search_error)?
        .into_iter()
        .map(|version| (version.model_name, version.version))
        .collect();
    let children_clause = Clause { field: Field::Tag("mlflow.parentRunId".into()), op: Op::Eq, value: Value::Text(run.run_uuid.clone()) };
    let children = db.search_runs(&[experiment.id], ViewType::ActiveOnly, &[children_clause], &[], 200, 0).await.map_err(search_error)?;
    let children = db.run_details(children).await?.iter().map(run_row).collect();

    Ok(RunView {
        run: run_row(&detail),
        project: project_summary(&experiment, run_count(db, workspace, experiment.id).await?),
        tags: detail.tags.iter().filter(|(key, _)| !key.starts_with("mlflow.log-model")).cloned().collect(),
        inputs: detail.inputs.iter().map(dataset_info).collect(),
        artifact_folder: folder.to_string(),
        artifacts,
        charts,
        versions,
        children,
    })
}

fn run_clause(run_uuid: &str) -> Clause {
    Clause { field: Field::Attribute("run_id".into()), op: Op::Eq, value: Value::Text(run_uuid.to_string()) }
}

fn dataset_info(input: &crate::tracking::DatasetInput) -> DatasetInfo {
    DatasetInfo {
        name: input.name.clone(),
        digest: input.digest.clone(),
        source_type: input.source_type.clone(),
        source: input.source.clone(),
        context: input.tags.iter().find(|(key, _)| key == "mlflow.data.context").map(|(_, value)| value.clone()).unwrap_or_default(),
    }
}

/// Up to [`MAX_COMPARED_RUNS`] runs side by side: overlaid metric charts and diff tables.
pub async fn compare_view(db: &Db, workspace: &Membership, project_id: i64, run_ids: &[String]) -> Result<CompareView, ApiError> {
    let experiment = project(db, workspace, project_id).await?;
    if run_ids.is_empty() {
        return Err(ApiError::bad_request("pick at least one run to compare"));
    }
    if run_ids.len() > MAX_COMPARED_RUNS {
        return Err(ApiError::bad_request(format!("{} runs picked; compare at most {MAX_COMPARED_RUNS}", run_ids.len())));
    }
    let mut found: std::collections::HashMap<String, Run> = db
        .runs_by_uuid(workspace.workspace_id, run_ids)
        .await?
        .into_iter()
        .filter(|run| run.experiment_id == experiment.id)
        .map(|run| (run.run_uuid.clone(), run))
        .collect();
    let mut runs = Vec::new();
    for id in run_ids {
        match found.remove(id) {
            Some(run) => runs.push(run),
            None if runs.iter().any(|run: &Run| &run.run_uuid == id) => {}
            None => return Err(ApiError::not_found(format!("run {id} not found in project \"{}\"", experiment.name))),
        }
    }
    let details = db.run_details(runs).await?;
    let run_ids: Vec<i64> = details.iter().map(|detail| detail.run.id).collect();
    let mut metric_keys: Vec<String> = details.iter().flat_map(|detail| detail.metrics.iter().map(|point| point.key.clone())).collect();
    metric_keys.sort();
    metric_keys.dedup();
    let mut param_keys: Vec<String> = details.iter().flat_map(|detail| detail.params.iter().map(|(key, _)| key.clone())).collect();
    param_keys.sort();
    param_keys.dedup();

    let (mut drawn, mut logged) = (0u64, 0u64);
    let mut charts = Vec::new();
    for key in metric_keys.iter().take(12) {
        let mut series = Vec::new();
        let mut by_run = db.metric_series_of_runs(&run_ids, key, BUCKETS as i64).await?;
        for detail in &details {
            let (points, count) = by_run.remove(&detail.run.id).unwrap_or_default();
            if !points.is_empty() {
                logged += count;
                drawn += points.len() as u64;
                series.push((detail.run.name.clone(), points));
            }
        }
        // A metric logged once per run reads better in the table than as dots on a chart.
        if series.iter().any(|(_, points)| points.len() > 1) {
            charts.push((key.clone(), metric_chart(key, &series)));
        }
    }
    let params = param_keys
        .iter()
        .map(|key| {
            let values: Vec<Option<String>> =
                details.iter().map(|detail| detail.params.iter().find(|(k, _)| k == key).map(|(_, value)| value.clone())).collect();
            let differs = values.windows(2).any(|pair| pair[0] != pair[1]);
            (key.clone(), values, differs)
        })
        .collect();
    let metrics = metric_keys
        .iter()
        .map(|key| (key.clone(), details.iter().map(|detail| detail.metrics.iter().find(|p| &p.key == key).map(|p| MetricValue(p.value))).collect()))
        .collect();
    Ok(CompareView {
        project: project_summary(&experiment, run_count(db, workspace, experiment.id).await?),
        runs: details.iter().map(run_row).collect(),
        charts,
        params,
        metrics,
        points_drawn: drawn,
        points_logged: logged,
    })
}

/// Builds the registry list page: every registered model and the workspace's default policy.
pub async fn registry(db: &Db, workspace: &Membership) -> Result<RegistryView, ApiError> {
    let models = db.search_registered_models(workspace.workspace_id, &[], &[], 1000, 0).await.map_err(search_error)?;
    let pending = db.promotion_requests(workspace.workspace_id, None, true).await?;
    let mut summaries = Vec::with_capacity(models.len());
    for model in models {
        let latest = db
            .search_registry_versions(workspace.workspace_id, &[name_clause(&model.name)], &[parse_order_by("version_number DESC").expect("a valid ordering")], 1, 0)
            .await
            .map_err(search_error)?;
        summaries.push(RegistrySummary {
            pending_requests: pending.iter().filter(|request| request.model_name == model.name).count() as i64,
            name: model.name,
            description: model.description,
            latest_version: latest.first().map(|version| version.version),
            aliases: model.aliases,
            updated_at_ms: model.updated_at,
        });
    }
    Ok(RegistryView {
        models: summaries,
        default_policy: db.promotion_policy(workspace.workspace_id, None).await?.info(),
        can_administer: workspace.role.can_administer(),
    })
}

fn name_clause(name: &str) -> Clause {
    Clause { field: Field::Attribute("name".into()), op: Op::Eq, value: Value::Text(name.to_string()) }
}

async fn registered_model(db: &Db, workspace: &Membership, name: &str) -> Result<RegisteredModel, ApiError> {
    db.registered_model(workspace.workspace_id, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("registered model \"{name}\" not found")))
}

/// Production rows per monitored version of the model with the same name, keyed by the
/// registry version number the monitored version names ("3" or "v3").
async fn monitored_versions(db: &Db, workspace: &Membership, name: &str) -> Result<(bool, Vec<(i64, String, i64)>), ApiError> {
    let Some(model) = db.model(workspace.workspace_id, name).await? else { return Ok((false, Vec::new())) };
    let versions = db
        .versions(model.id)
        .await?
        .into_iter()
        .filter_map(|info| {
            let number = info.version.trim_start_matches(['v', 'V']).parse::<i64>().ok()?;
            Some((number, info.version, info.production_rows))
        })
        .collect();
    Ok((true, versions))
}

fn version_row(version: &RegistryVersion, run_name: Option<String>, production_rows: Option<i64>) -> RegistryVersionRow {
    RegistryVersionRow {
        version: version.version,
        created_at_ms: version.created_at,
        user: version.user_name.clone(),
        run_id: version.run_uuid.clone(),
        run_name,
        source: version.source.clone(),
        description: version.description.clone(),
        aliases: version.aliases.clone(),
        production_rows,
    }
}

async fn latest_metrics(db: &Db, workspace: &Membership, run_uuid: &str) -> Result<Vec<(String, f64)>, ApiError> {
    if run_uuid.is_empty() {
        return Ok(Vec::new());
    }
    let Some(run) = db.run(workspace.workspace_id, run_uuid).await? else { return Ok(Vec::new()) };
    Ok(db.run_details(vec![run]).await?.remove(0).metrics.into_iter().map(|point| (point.key, point.value)).collect())
}

/// Builds the registered model page: versions, aliases, requests with evidence, history.
pub async fn registry_model(db: &Db, workspace: &Membership, viewer: (i64, &str), name: &str) -> Result<RegistryModelView, ApiError> {
    let model = registered_model(db, workspace, name).await?;
    let versions = db
        .search_registry_versions(workspace.workspace_id, &[name_clause(name)], &[parse_order_by("version_number DESC").expect("a valid ordering")], 500, 0)
        .await
        .map_err(search_error)?;
    let (monitored, monitored_versions) = monitored_versions(db, workspace, name).await?;
    let mut rows = Vec::with_capacity(versions.len());
    for version in &versions {
        let run_name = match version.run_uuid.as_str() {
            "" => None,
            run => db.run(workspace.workspace_id, run).await?.map(|run| run.name),
        };
        let production = monitored_versions.iter().find(|(number, _, _)| *number == version.version).map(|(_, _, rows)| *rows);
        rows.push(version_row(version, run_name, production));
    }

    let policy = db.promotion_policy(workspace.workspace_id, Some(model.id)).await?;
    let mut requests = Vec::new();
    for request in db.promotion_requests(workspace.workspace_id, Some(model.id), false).await?.into_iter().take(30) {
        let gates: Vec<GateResult> = serde_json::from_str(&request.gates_json).unwrap_or_default();
        let request_policy: Policy = serde_json::from_str(&request.policy_json).unwrap_or_default();
        let current_version = model.aliases.iter().find(|(alias, _)| alias == &request.alias).map(|(_, version)| *version);
        let requested_run = versions.iter().find(|v| v.version == request.version).map(|v| v.run_uuid.clone()).unwrap_or_default();
        let current_run = current_version
            .and_then(|current| versions.iter().find(|v| v.version == current))
            .map(|v| v.run_uuid.clone())
            .unwrap_or_default();
        let metric_diff = if request.status == "pending" {
            let requested = latest_metrics(db, workspace, &requested_run).await?;
            let current = latest_metrics(db, workspace, &current_run).await?;
            let mut keys: Vec<String> = requested.iter().chain(current.iter()).map(|(key, _)| key.clone()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .map(|key| {
                    let find = |list: &[(String, f64)]| list.iter().find(|(k, _)| *k == key).map(|(_, value)| MetricValue(*value));
                    let (a, b) = (find(&requested), find(&current));
                    (key, a, b)
                })
                .collect()
        } else {
            Vec::new()
        };
        let approvals = request.reviews.iter().filter(|review| review.decision == "approve").count() as i64;
        let already = request.reviews.iter().any(|review| review.username == viewer.1);
        let review_refusal = if request.status != "pending" {
            Some(format!("the request is {}", request.status))
        } else if already {
            Some("you have reviewed this request".to_string())
        } else {
            approval_refusal(&request_policy, workspace.role, request.requested_by == viewer.1)
        };
        requests.push(RequestView {
            can_cancel: request.status == "pending" && (request.requested_by == viewer.1 || workspace.role.can_administer()),
            required_approvals: request_policy.required_approvals.max(1),
            request,
            gates,
            current_version,
            metric_diff,
            approvals,
            review_refusal,
        });
    }

    let history = db.registry_events(workspace.workspace_id, name, 500).await?;
    Ok(RegistryModelView {
        name: model.name.clone(),
        description: model.description.clone(),
        aliases: model.aliases.clone(),
        versions: rows,
        requests,
        timeline: alias_timeline(&history),
        history,
        can_request: workspace.role.can_write(),
        can_change_directly: policy.direct_change_roles.contains(&workspace.role),
        can_administer: workspace.role.can_administer(),
        own_policy: db.has_own_policy(workspace.workspace_id, model.id).await?,
        policy: policy.info(),
        monitored,
    })
}

/// Turns alias moves in the history (newest first) into spans of which version held each
/// alias when, oldest first.
pub fn alias_timeline(history: &[crate::types::RegistryEventInfo]) -> Vec<AliasSpan> {
    let mut spans: Vec<AliasSpan> = Vec::new();
    for event in history.iter().rev() {
        let Some(alias) = &event.alias else { continue };
        let moved = matches!(event.kind.as_str(), "alias_moved" | "alias_set_directly");
        let removed = event.kind == "alias_removed";
        if !(moved || removed) {
            continue;
        }
        if let Some(open) = spans.iter_mut().rev().find(|span| &span.alias == alias && span.to_ms.is_none()) {
            open.to_ms = Some(event.created_at_ms);
        }
        if moved {
            if let Some(version) = event.version {
                spans.push(AliasSpan {
                    alias: alias.clone(),
                    version,
                    from_ms: event.created_at_ms,
                    to_ms: None,
                    actor: event.actor.clone(),
                    request_id: event.request_id,
                });
            }
        }
    }
    spans
}

/// Builds a version's lineage (run, datasets, logged model, promotions) and production health.
pub async fn version_view(db: &Db, workspace: &Membership, name: &str, number: i64) -> Result<RegistryVersionView, ApiError> {
    let model = registered_model(db, workspace, name).await?;
    let version = db
        .registry_version(model.id, number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("version {number} of \"{name}\" not found")))?;
    let (run, project, inputs) = match db.run(workspace.workspace_id, &version.run_uuid).await? {
        Some(run) if !version.run_uuid.is_empty() => {
            let experiment = db.experiment(workspace.workspace_id, run.experiment_id).await?;
            let detail = db.run_details(vec![run]).await?.remove(0);
            let project = match experiment {
                Some(experiment) => Some(project_summary(&experiment, run_count(db, workspace, experiment.id).await?)),
                None => None,
            };
            (Some(run_row(&detail)), project, detail.inputs.iter().map(dataset_info).collect())
        }
        _ => (None, None, Vec::new()),
    };
    let events: Vec<_> = db
        .registry_events(workspace.workspace_id, name, 2000)
        .await?
        .into_iter()
        .filter(|event| event.version == Some(number) || event.previous_version == Some(number))
        .collect();
    let (_, monitored) = monitored_versions(db, workspace, name).await?;
    let monitored = monitored.into_iter().find(|(n, _, _)| *n == number);
    let health = match &monitored {
        Some((_, label, rows)) if *rows > 0 => {
            let query = crate::pages::drift::DriftQuery { version: Some(label.clone()), ..Default::default() };
            let report = crate::monitoring::drift::drift_report(db, workspace.workspace_id, name, &query).await?;
            Some(VersionHealth {
                window_from: report.window_from.clone(),
                window_to: report.window_to.clone(),
                current_rows: report.current_rows,
                drifted_columns: report.drifted_columns,
                compared_columns: report.columns.iter().filter(|column| column.drift.is_some()).count(),
                link: format!("/w/{}/models/{}?version={}", workspace.slug, percent_encode(name), percent_encode(label)),
            })
        }
        _ => None,
    };
    let run_name = run.as_ref().map(|run| run.name.clone());
    Ok(RegistryVersionView {
        model: name.to_string(),
        version: version_row(&version, run_name, monitored.map(|(_, _, rows)| rows)),
        run,
        project,
        inputs,
        logged_model: version.model_uuid.clone(),
        events,
        health,
    })
}

pub async fn webhooks(db: &Db, workspace: &Membership) -> Result<WebhooksView, ApiError> {
    Ok(WebhooksView {
        webhooks: db.webhooks(workspace.workspace_id).await?,
        deliveries: db.webhook_deliveries(workspace.workspace_id, 100).await?,
        events: crate::tracking::webhooks::EVENTS.iter().map(|event| event.to_string()).collect(),
    })
}
