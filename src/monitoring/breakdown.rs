//! The segments tab: one column's values, or a number's baseline quintiles, as segments.
//! Each segment gets its rows, its main performance metric on the baseline and in the window,
//! and its share of drifted columns, so the worst segments stand out.

use std::collections::BTreeMap;

use crate::db::Db;
use crate::ingest::ColumnValue;
use crate::monitoring::drift::{build_report, drift_row, empty_report, resolve_view};
use crate::monitoring::performance::{classification, regression, PerformanceSummary};
use crate::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec};
use crate::monitoring::segment::{GroupSummaries, RowScan};
use crate::monitoring::summary::ColumnSummary;
use crate::pages::drift::DriftQuery;
use crate::server::errors::ApiError;
use crate::types::{is_dataset_drift, Environment, SegmentRow, SegmentsReport, DEFAULT_DRIFT_SHARE, SEGMENT_MIN_RANKED_ROWS};

/// Most values of a categorical column listed as segments; the rest are counted in a note.
pub const MAX_SEGMENTS: usize = 30;
/// Bins a numeric column is cut into, at the baseline's quantiles.
const NUMERIC_BINS: usize = 5;

/// The rule that assigns a row to a segment of the broken-down column.
enum Grouping {
    Categories(Vec<String>),
    /// Inner bin edges, ascending: bin `i` contains values in `[edges[i-1], edges[i])`.
    Bins(Vec<f64>),
}

impl Grouping {
    fn group_of(&self, value: Option<&ColumnValue>) -> Option<usize> {
        match (self, value?) {
            (Grouping::Categories(labels), ColumnValue::Category(label)) => labels.iter().position(|known| known == label),
            (Grouping::Categories(labels), ColumnValue::Number(number)) => {
                labels.iter().position(|known| known.parse::<f64>().is_ok_and(|known| known == *number))
            }
            (Grouping::Bins(edges), ColumnValue::Number(number)) if number.is_finite() => {
                Some(edges.iter().take_while(|edge| **edge <= *number).count())
            }
            _ => None,
        }
    }

    fn len(&self) -> usize {
        match self {
            Grouping::Categories(labels) => labels.len(),
            Grouping::Bins(edges) => edges.len() + 1,
        }
    }

    /// Returns the label and the segment condition of group `index` of column `column`.
    fn describe(&self, column: &str, index: usize) -> (String, String) {
        let name = quoted_column(column);
        match self {
            Grouping::Categories(labels) => {
                let label = &labels[index];
                let quote = if label.contains('"') { '\'' } else { '"' };
                (label.clone(), format!("{name} = {quote}{label}{quote}"))
            }
            Grouping::Bins(edges) => {
                let lower = index.checked_sub(1).map(|i| edges[i]);
                let upper = edges.get(index).copied();
                match (lower, upper) {
                    (None, Some(upper)) => (format!("below {}", format_number(upper)), format!("{name} < {upper}")),
                    (Some(lower), None) => (format!("{} and above", format_number(lower)), format!("{name} >= {lower}")),
                    (Some(lower), Some(upper)) => (
                        format!("{} to {}", format_number(lower), format_number(upper)),
                        format!("{name} >= {lower} and {name} < {upper}"),
                    ),
                    (None, None) => ("all values".to_string(), format!("{name} > -1e308")),
                }
            }
        }
    }
}

/// Writes a column name as a segment condition reads it, backquoted when it is not one word.
fn quoted_column(column: &str) -> String {
    let plain = column.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && column.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_');
    if plain { column.to_string() } else { format!("`{}`", column.replace('`', "")) }
}

fn format_number(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e12 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Picks the inner edges that cut a numeric column into bins of about equal baseline rows.
/// Repeated edges (a value that fills more than one bin) collapse into one. A baseline with a
/// single value is cut at it, so window values below it form their own segment.
fn quantile_edges(summary: &ColumnSummary) -> Vec<f64> {
    let total: u64 = summary.numbers.iter().map(|(_, count)| count).sum();
    let mut edges: Vec<f64> = Vec::new();
    if total == 0 {
        return edges;
    }
    let mut seen = 0u64;
    let mut next_bin = 1;
    for (value, count) in &summary.numbers {
        // The edge is the first value past each quantile's share of rows.
        while next_bin < NUMERIC_BINS && seen as f64 >= total as f64 * next_bin as f64 / NUMERIC_BINS as f64 {
            if edges.last() != Some(value) && summary.numbers.first().map(|(first, _)| first) != Some(value) {
                edges.push(*value);
            }
            next_bin += 1;
        }
        seen += count;
    }
    if edges.is_empty() {
        edges.extend(summary.numbers.first().map(|(value, _)| *value));
    }
    edges
}

/// Builds the segments tab of a model for the view `query` selects, broken down by column
/// `query.by` (default: the first categorical feature, else the first feature).
pub async fn segments_report(db: &Db, workspace_id: i64, model_name: &str, query: &DriftQuery) -> Result<SegmentsReport, ApiError> {
    let Some(view) = resolve_view(db, workspace_id, model_name, query).await? else {
        return Ok(SegmentsReport {
            drift: empty_report(db, workspace_id, model_name).await?,
            by: String::new(),
            numeric: false,
            metric: None,
            lower_is_better: false,
            segments: Vec::new(),
            unlisted: 0,
        });
    };
    let schema = &view.model.schema;
    let features: Vec<&ColumnSpec> = schema.columns.iter().filter(|spec| spec.role == ColumnRole::Feature).collect();
    let by = match query.by.as_deref().map(str::trim).filter(|by| !by.is_empty()) {
        Some(name) => features.iter().find(|spec| spec.name == name).copied().ok_or_else(|| {
            let names: Vec<&str> = features.iter().map(|spec| spec.name.as_str()).collect();
            ApiError::bad_request(format!("invalid by \"{name}\": segments break down a feature column; use one of {}", names.join(", ")))
        })?,
        None => match features.iter().find(|spec| spec.kind == ColumnKind::Categorical).or(features.first()) {
            Some(spec) => *spec,
            None => return Err(ApiError::bad_request("the model has no feature column to break down")),
        },
    };
    let (drift, window) = build_report(db, &view).await?;

    let empty = ColumnSummary::default();
    let reference_summary = window.reference.get(&by.name).unwrap_or(&empty);
    let current_summary = window.current.get(&by.name).unwrap_or(&empty);
    let (grouping, unlisted) = match by.kind {
        ColumnKind::Numeric => (Grouping::Bins(quantile_edges(reference_summary)), 0),
        ColumnKind::Categorical => {
            let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
            for summary in [reference_summary, current_summary] {
                for (label, count) in &summary.categories {
                    *totals.entry(label.as_str()).or_default() += count;
                }
            }
            let mut labels: Vec<(&str, u64)> = totals.into_iter().collect();
            labels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let unlisted = labels.len().saturating_sub(MAX_SEGMENTS);
            (Grouping::Categories(labels.into_iter().take(MAX_SEGMENTS).map(|(label, _)| label.to_string()).collect()), unlisted)
        }
    };

    let by_index = schema.columns.iter().position(|spec| spec.name == by.name).expect("the column is in the schema");
    let (reference_environment, reference_from, reference_to) = view.baseline_range()?;
    let mut sides = Vec::new();
    for (environment, from_ms, to_ms) in
        [(reference_environment, reference_from, reference_to), (Environment::Production, view.from_day_ms, view.to_day_ms)]
    {
        let scan = RowScan {
            db,
            schema,
            model_version_id: view.version_id,
            environment,
            from_day_ms: from_ms,
            to_day_ms: to_ms,
        };
        let (groups, _) = scan
            .summarize_groups(|_, values| {
                if view.segment.as_ref().is_some_and(|segment| !segment.matches(values)) {
                    return None;
                }
                grouping.group_of(values.get(by_index).and_then(Option::as_ref))
            })
            .await?;
        sides.push(groups);
    }
    let (reference_groups, current_groups) = (&sides[0], &sides[1]);

    let task = performance_task(&schema.columns);
    let mut segments: Vec<SegmentRow> = (0..grouping.len())
        .map(|index| {
            let (label, condition) = grouping.describe(&by.name, index);
            let view_segment = view.segment.as_ref().map(|segment| format!("{} and {condition}", segment.text)).unwrap_or(condition);
            segment_row(schema.columns.as_slice(), label, view_segment, reference_groups.get(&index), current_groups.get(&index), task)
        })
        .filter(|row| row.reference_rows > 0 || row.current_rows > 0)
        .collect();
    segments.sort_by(|a, b| {
        b.ranked
            .cmp(&a.ranked)
            .then(b.drop.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.drop.unwrap_or(f64::NEG_INFINITY)))
            .then(b.current_rows.cmp(&a.current_rows))
    });

    Ok(SegmentsReport {
        drift,
        by: by.name.clone(),
        numeric: by.kind == ColumnKind::Numeric,
        metric: task.map(|task| task.metric_name().to_string()),
        lower_is_better: task == Some(Task::Regression),
        segments,
        unlisted,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Task {
    Classification,
    Regression,
}

impl Task {
    fn metric_name(self) -> &'static str {
        match self {
            Task::Classification => "Accuracy",
            Task::Regression => "MAE",
        }
    }

    fn metric(self, summary: &PerformanceSummary) -> Option<f64> {
        match self {
            Task::Classification => classification(summary).map(|metrics| metrics.accuracy),
            Task::Regression => regression(summary).map(|metrics| metrics.mae),
        }
    }
}

fn performance_task(columns: &[ColumnSpec]) -> Option<Task> {
    let has_actual = columns.iter().any(|spec| spec.role == ColumnRole::Actual);
    let prediction = columns.iter().find(|spec| spec.role == ColumnRole::Prediction)?;
    match prediction.kind {
        _ if !has_actual => None,
        ColumnKind::Numeric => Some(Task::Regression),
        ColumnKind::Categorical => Some(Task::Classification),
    }
}

fn segment_row(
    columns: &[ColumnSpec],
    label: String,
    segment: String,
    reference: Option<&GroupSummaries>,
    current: Option<&GroupSummaries>,
    task: Option<Task>,
) -> SegmentRow {
    let rows_of = |group: Option<&GroupSummaries>| group.map(|group| group.columns.values().map(|s| s.rows).max().unwrap_or(0)).unwrap_or(0);
    let (reference_rows, current_rows) = (rows_of(reference), rows_of(current));
    let ranked = reference_rows >= SEGMENT_MIN_RANKED_ROWS && current_rows >= SEGMENT_MIN_RANKED_ROWS;

    let metric = |group: Option<&GroupSummaries>| task.zip(group).and_then(|(task, group)| task.metric(&group.performance));
    let (metric_reference, metric_current) = (metric(reference), metric(current));
    // A drop is positive when the segment got worse: accuracy fell, or the error grew.
    let drop = match (task, metric_reference, metric_current) {
        (Some(Task::Regression), Some(reference), Some(current)) => Some(current - reference),
        (Some(Task::Classification), Some(reference), Some(current)) => Some(reference - current),
        _ => None,
    };

    let (mut drifted, mut compared) = (0, 0);
    let empty = BTreeMap::new();
    let reference_columns = reference.map(|group| &group.columns).unwrap_or(&empty);
    let current_columns = current.map(|group| &group.columns).unwrap_or(&empty);
    for spec in columns.iter().filter(|spec| spec.role == ColumnRole::Feature) {
        let (row, _) = drift_row(spec, reference_columns.get(&spec.name), current_columns.get(&spec.name));
        if let Some(drift) = row.drift {
            compared += 1;
            drifted += usize::from(drift);
        }
    }
    SegmentRow {
        label,
        segment,
        reference_rows,
        current_rows,
        ranked,
        metric_reference,
        metric_current,
        drop,
        drifted_columns: drifted,
        compared_columns: compared,
        dataset_drift: is_dataset_drift(drifted, compared, DEFAULT_DRIFT_SHARE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(values: &[(f64, u64)]) -> ColumnSummary {
        ColumnSummary { numbers: values.to_vec(), ..ColumnSummary::default() }
    }

    #[test]
    fn quintile_edges_split_rows_evenly() {
        let summary = numbers(&(1..=10).map(|value| (f64::from(value), 1)).collect::<Vec<_>>());

        assert_eq!(quantile_edges(&summary), vec![3.0, 5.0, 7.0, 9.0]);
    }

    #[test]
    fn quantile_edges_skip_a_heavy_value() {
        let summary = numbers(&[(0.0, 70), (1.0, 10), (2.0, 10), (3.0, 10)]);

        assert_eq!(quantile_edges(&summary), vec![1.0, 2.0]);
    }

    #[test]
    fn quantile_edges_cut_a_single_value() {
        let summary = numbers(&[(20.0, 50)]);

        assert_eq!(quantile_edges(&summary), vec![20.0]);
        assert_eq!(quantile_edges(&ColumnSummary::default()), Vec::<f64>::new());
    }

    #[test]
    fn bins_take_values_at_their_lower_edge() {
        let grouping = Grouping::Bins(vec![3.0, 5.0]);

        assert_eq!(grouping.group_of(Some(&ColumnValue::Number(2.9))), Some(0));
        assert_eq!(grouping.group_of(Some(&ColumnValue::Number(3.0))), Some(1));
        assert_eq!(grouping.group_of(Some(&ColumnValue::Number(5.0))), Some(2));
        assert_eq!(grouping.group_of(None), None);
        assert_eq!(grouping.describe("dep delay", 1).1, "`dep delay` >= 3 and `dep delay` < 5");
        assert_eq!(grouping.describe("distance", 0), ("below 3".to_string(), "distance < 3".to_string()));
    }
}
