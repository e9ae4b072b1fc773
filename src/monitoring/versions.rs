//! The versions tab: two versions of one model over the same production window, such as a
//! champion and a retrained challenger scoring the same traffic.

use std::collections::BTreeMap;

use crate::db::Db;
use crate::monitoring::charts;
use crate::monitoring::drift::{build_report, drift_row, empty_report, format_day, resolve_view};
use crate::monitoring::performance::{classification, performance_of_view, regression, PerformanceSummary};
use crate::pages::drift::DriftQuery;
use crate::server::errors::ApiError;
use crate::types::{ComparedMetric, Environment, VersionComparison};

/// Compares `query.version` (default: the latest) with `query.compare` (default: the next
/// version in the list) over the window and baseline kind of `query`.
pub async fn compare_versions(db: &Db, workspace_id: i64, model_name: &str, query: &DriftQuery) -> Result<VersionComparison, ApiError> {
    let Some(first) = resolve_view(db, workspace_id, model_name, query).await? else {
        return Ok(VersionComparison {
            drift: empty_report(db, workspace_id, model_name).await?,
            other: None,
            task: "none".into(),
            metrics: Vec::new(),
            columns: Vec::new(),
            over_time: charts::metric_by_day("", &[], (0, 0)),
        });
    };
    // A compare equal to the version shown (left over after the version select changed)
    // falls back to the next version, as when compare is absent.
    let second_name = match query.compare.as_deref().map(str::trim).filter(|name| !name.is_empty() && *name != first.version) {
        Some(name) if first.versions.iter().any(|version| version == name) => Some(name.to_string()),
        Some(name) => {
            return Err(ApiError::not_found(format!(
                "version \"{name}\" of model \"{model_name}\" not found; it has {}",
                first.versions.join(", ")
            )))
        }
        None => first.versions.iter().find(|version| **version != first.version).cloned(),
    };

    let (first_drift, first_window) = build_report(db, &first).await?;
    let first_performance = performance_of_view(db, &first, first_drift.clone()).await?;
    let Some(second_name) = second_name else {
        return Ok(VersionComparison {
            drift: first_drift,
            other: None,
            task: first_performance.task,
            metrics: Vec::new(),
            columns: Vec::new(),
            over_time: charts::metric_by_day("", &[], (0, 0)),
        });
    };
    // The first version's window applies to both, even when the second has later days.
    let second_query = DriftQuery {
        version: Some(second_name.clone()),
        from: Some(format_day(first.from_day_ms)),
        to: Some(format_day(first.to_day_ms)),
        ..query.clone()
    };
    let second = resolve_view(db, workspace_id, model_name, &second_query)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("version \"{second_name}\" has no data")))?;
    let (second_drift, second_window) = build_report(db, &second).await?;
    let second_performance = performance_of_view(db, &second, second_drift.clone()).await?;

    let metrics = first_performance
        .metrics
        .iter()
        .map(|row| {
            let other = second_performance.metrics.iter().find(|other| other.name == row.name);
            ComparedMetric {
                name: row.name.clone(),
                first_baseline: row.reference,
                first_current: row.current,
                second_baseline: other.and_then(|other| other.reference),
                second_current: other.and_then(|other| other.current),
            }
        })
        .collect();

    let mut columns: Vec<_> = first
        .model
        .schema
        .columns
        .iter()
        .map(|spec| drift_row(spec, first_window.current.get(&spec.name), second_window.current.get(&spec.name)).0)
        .collect();
    columns.sort_by(|a, b| b.drift.cmp(&a.drift).then(a.column.cmp(&b.column)));

    let task = first_performance.task.clone();
    let metric_name = if task == "regression" { "MAE" } else { "Accuracy" };
    let mut series = Vec::new();
    for view in [&first, &second] {
        let daily = view.performance(db, Environment::Production, i64::MIN, i64::MAX).await?;
        series.push((view.version.clone(), daily_metric(&daily, &task)));
    }
    let over_time = charts::metric_by_day(metric_name, &series, (first.from_day_ms, first.to_day_ms));

    Ok(VersionComparison { drift: first_drift, other: Some(second_drift), task, metrics, columns, over_time })
}

/// Returns the main metric of each day that has one: accuracy, or MAE for regression.
fn daily_metric(daily: &[(i64, PerformanceSummary)], task: &str) -> Vec<(i64, f64)> {
    let mut merged: BTreeMap<i64, PerformanceSummary> = BTreeMap::new();
    for (day, summary) in daily {
        merged.entry(*day).or_default().merge(summary);
    }
    merged
        .into_iter()
        .filter_map(|(day, summary)| {
            let value = if task == "regression" {
                regression(&summary).map(|metrics| metrics.mae)
            } else {
                classification(&summary).map(|metrics| metrics.accuracy)
            };
            value.map(|value| (day, value))
        })
        .collect()
}
