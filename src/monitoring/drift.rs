//! Drift reports for pages: load the summaries of the baseline and of the current window,
//! merge them per column, and run the drift statistics.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::db::models::Model;
use crate::db::workspaces::Membership;
use crate::db::Db;
use crate::monitoring::charts;
use crate::monitoring::performance::PerformanceSummary;
use crate::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec};
use crate::monitoring::segment::{summarize_segment, Segment, SegmentSummaries};
use crate::monitoring::stats::{self, chunks, Bins, ColumnDrift, Distribution, StatMethod};
use crate::monitoring::summary::ColumnSummary;
use crate::pages::drift::DriftQuery;
use crate::server::errors::ApiError;
use crate::types::{
    Baseline, ChunkVerdict, ColumnDriftRow, DriftReport, Environment, FeatureReport, ModelInfo, WorkspaceDetail,
};

pub(crate) const DAY_MS: i64 = 86_400_000;
/// Length of the default current window, ending at the latest day with production data.
pub const DEFAULT_WINDOW_DAYS: i64 = 30;

pub async fn workspace_detail(db: &Db, workspace: &Membership) -> Result<WorkspaceDetail, ApiError> {
    let mut models = Vec::new();
    for model in db.models(workspace.workspace_id).await? {
        models.push(ModelInfo {
            versions: db.versions(model.id).await?,
            name: model.name,
            description: model.description,
            schema: model.schema,
        });
    }
    Ok(WorkspaceDetail {
        slug: workspace.slug.clone(),
        name: workspace.name.clone(),
        role: workspace.role,
        members: db.members(workspace.workspace_id).await?,
        models,
    })
}

/// The resolved view of a drift URL: which model, version, baseline and window.
pub(crate) struct ResolvedView {
    pub model: Model,
    pub versions: Vec<String>,
    pub version: String,
    pub version_id: i64,
    pub baseline: Baseline,
    /// Inclusive first and last day of the current window, as Unix ms at 00:00 UTC.
    pub from_day_ms: i64,
    pub to_day_ms: i64,
    /// Whether to add the sample-size-robust (chunk-based) verdict to each column.
    pub chunked: bool,
    /// Conditions that select the rows compared; `None` compares every row.
    pub segment: Option<Segment>,
    /// Segment summaries already built, by (environment, first day, last day).
    segment_cache: std::sync::Mutex<std::collections::HashMap<(Environment, i64, i64), std::sync::Arc<SegmentSummaries>>>,
}

pub(crate) async fn resolve_view(
    db: &Db,
    workspace_id: i64,
    model_name: &str,
    query: &DriftQuery,
) -> Result<Option<ResolvedView>, ApiError> {
    let model = db
        .model(workspace_id, model_name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model \"{model_name}\" not found")))?;
    let versions: Vec<String> = db.versions(model.id).await?.into_iter().map(|v| v.version).collect();
    let version = match &query.version {
        Some(version) if versions.contains(version) => version.clone(),
        Some(version) => {
            return Err(ApiError::not_found(format!(
                "version \"{version}\" of model \"{model_name}\" not found; it has {}",
                if versions.is_empty() { "no versions yet".to_string() } else { versions.join(", ") }
            )))
        }
        None => match versions.first() {
            Some(version) => version.clone(),
            None => return Ok(None),
        },
    };
    let version_id = db.version_id(model.id, &version).await?.ok_or_else(|| ApiError::not_found("version not found"))?;

    let latest_day_ms = db
        .bucket_range(version_id, Environment::Production)
        .await?
        .map(|(_, last)| last)
        .unwrap_or_else(|| crate::db::now_ms().div_euclid(DAY_MS) * DAY_MS);
    let to_day_ms = match &query.to {
        Some(text) => parse_day("to", text)?,
        None => latest_day_ms,
    };
    let from_day_ms = match &query.from {
        Some(text) => parse_day("from", text)?,
        None => to_day_ms - (DEFAULT_WINDOW_DAYS - 1) * DAY_MS,
    };
    if from_day_ms > to_day_ms {
        return Err(ApiError::bad_request(format!(
            "the window starts ({}) after it ends ({}); swap the dates",
            format_day(from_day_ms),
            format_day(to_day_ms)
        )));
    }

    let baseline = match parse_baseline(query)? {
        Some(baseline) => baseline,
        None => model.default_baseline.clone().unwrap_or(Baseline::Training),
    };
    let chunked = match query.chunks.as_deref() {
        None | Some("off" | "false" | "0") => false,
        Some("on" | "true" | "1") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid chunks \"{other}\"; use chunks=on to add the chunk-based verdict, or leave it out"
            )))
        }
    };
    let segment = match query.segment.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => Some(
            Segment::parse(text, &model.schema)
                .map_err(|message| ApiError::bad_request(format!("invalid segment \"{}\": {message}", shortened(text))))?,
        ),
        None => None,
    };
    Ok(Some(ResolvedView {
        model,
        versions,
        version,
        version_id,
        baseline,
        from_day_ms,
        to_day_ms,
        chunked,
        segment,
        segment_cache: Default::default(),
    }))
}

/// Reads the baseline a URL selects: `baseline` with `baseline_from` and `baseline_to` for a
/// production range, or `baseline_days` for a trailing window. `None` when the URL names none.
pub(crate) fn parse_baseline(query: &DriftQuery) -> Result<Option<Baseline>, ApiError> {
    let Some(kind) = query.baseline.as_deref() else { return Ok(None) };
    let baseline = match kind {
        "training" => Baseline::Training,
        "validation" => Baseline::Validation,
        "production" => {
            let (Some(from), Some(to)) = (query.baseline_from.as_deref(), query.baseline_to.as_deref()) else {
                return Err(ApiError::bad_request(
                    "a production baseline needs baseline_from and baseline_to dates, such as baseline_from=2024-01-01&baseline_to=2024-01-31",
                ));
            };
            let (from_ms, to_ms) = (parse_day("baseline_from", from)?, parse_day("baseline_to", to)?);
            if from_ms > to_ms {
                return Err(ApiError::bad_request(format!(
                    "the baseline starts ({from}) after it ends ({to}); swap the dates"
                )));
            }
            Baseline::Production { from: format_day(from_ms), to: format_day(to_ms) }
        }
        "trailing" => {
            let text = query.baseline_days.as_deref().unwrap_or("");
            let days = text.trim().parse::<u32>().ok().filter(|days| (1..=Baseline::MAX_TRAILING_DAYS).contains(days));
            match days {
                Some(days) => Baseline::Trailing { days },
                None => {
                    return Err(ApiError::bad_request(format!(
                        "invalid baseline_days \"{text}\" for a trailing baseline; use a whole number of days from 1 to {}, such as baseline_days=7",
                        Baseline::MAX_TRAILING_DAYS
                    )))
                }
            }
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "invalid baseline \"{other}\"; use training, validation, production (with baseline_from and baseline_to) or trailing (with baseline_days)"
            )))
        }
    };
    Ok(Some(baseline))
}

impl ResolvedView {
    /// Returns the environment and the inclusive range of bucket starts (Unix ms) the
    /// baseline covers.
    pub(crate) fn baseline_range(&self) -> Result<(Environment, i64, i64), ApiError> {
        Ok(match &self.baseline {
            Baseline::Training => (Environment::Training, i64::MIN, i64::MAX),
            Baseline::Validation => (Environment::Validation, i64::MIN, i64::MAX),
            Baseline::Production { from, to } => {
                (Environment::Production, parse_day("baseline_from", from)?, parse_day("baseline_to", to)? + DAY_MS - 1)
            }
            Baseline::Trailing { days } => {
                (Environment::Production, self.from_day_ms - i64::from(*days) * DAY_MS, self.from_day_ms - 1)
            }
        })
    }

    /// Loads the baseline's summaries, merged per column.
    pub(crate) async fn baseline_summaries(&self, db: &Db) -> Result<BTreeMap<String, ColumnSummary>, ApiError> {
        let (environment, from_ms, to_ms) = self.baseline_range()?;
        Ok(merge_by_column(self.summaries(db, environment, from_ms, to_ms, None).await?))
    }

    /// Loads the per-day column summaries of days starting in `[from_ms, to_ms]`: the stored
    /// ones, or for a segment, those rebuilt from the segment's stored rows.
    pub(crate) async fn summaries(
        &self,
        db: &Db,
        environment: Environment,
        from_ms: i64,
        to_ms: i64,
        column: Option<&str>,
    ) -> Result<Vec<(i64, String, ColumnSummary)>, ApiError> {
        if self.segment.is_none() {
            return Ok(db.load_summaries(self.version_id, environment, Some(from_ms), Some(to_ms), column).await?);
        }
        let built = self.segment_summaries(db, environment, from_ms, to_ms).await?;
        Ok(built
            .columns
            .iter()
            .filter(|(_, name, _)| column.is_none_or(|column| column == name))
            .cloned()
            .collect())
    }

    /// Loads the per-day performance counts of days starting in `[from_ms, to_ms]`, of the
    /// segment's rows when the view has a segment.
    pub(crate) async fn performance(
        &self,
        db: &Db,
        environment: Environment,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, PerformanceSummary)>, ApiError> {
        if self.segment.is_none() {
            return Ok(db.load_performance(self.version_id, environment, from_ms, to_ms).await?);
        }
        Ok(self.segment_summaries(db, environment, from_ms, to_ms).await?.performance.clone())
    }

    async fn segment_summaries(
        &self,
        db: &Db,
        environment: Environment,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<std::sync::Arc<SegmentSummaries>, ApiError> {
        let Some(segment) = &self.segment else { return Ok(Default::default()) };
        let key = (environment, from_ms, to_ms);
        if let Some(built) = self.segment_cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(built.clone());
        }
        let built = std::sync::Arc::new(
            summarize_segment(db, &self.model.schema, segment, self.version_id, environment, from_ms, to_ms).await?,
        );
        self.segment_cache.lock().unwrap_or_else(|e| e.into_inner()).insert(key, built.clone());
        Ok(built)
    }

    /// Reports whether the baseline is the one the model's pages use by default.
    pub(crate) fn baseline_is_default(&self) -> bool {
        self.model.default_baseline.as_ref().unwrap_or(&Baseline::Training) == &self.baseline
    }
}

/// Returns `text` cut to 80 characters with an ellipsis, for echoing user input in messages.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

fn parse_day(field: &str, text: &str) -> Result<i64, ApiError> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(format!("invalid {field} date \"{text}\"; use YYYY-MM-DD, such as 2018-01-31"))
    })?;
    Ok(date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp_millis())
}

pub fn format_day(day_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day_ms)
        .map(|time| time.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The merged summaries behind a drift report, and the drift of each column that could be
/// compared, for pages that show more than the table.
pub(crate) struct WindowData {
    pub reference: BTreeMap<String, ColumnSummary>,
    pub current: BTreeMap<String, ColumnSummary>,
    pub drifts: BTreeMap<String, ColumnDrift>,
}

/// Merges summaries per column.
pub(crate) fn merge_by_column(rows: Vec<(i64, String, ColumnSummary)>) -> BTreeMap<String, ColumnSummary> {
    let mut merged: BTreeMap<String, ColumnSummary> = BTreeMap::new();
    for (_, column, summary) in rows {
        merged.entry(column).or_default().merge(&summary);
    }
    merged
}

pub(crate) fn role_name(role: ColumnRole) -> &'static str {
    match role {
        ColumnRole::Feature => "feature",
        ColumnRole::Prediction => "prediction",
        ColumnRole::PredictionScore => "prediction score",
        ColumnRole::Actual => "actual",
    }
}

pub(crate) fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric => "numeric",
        ColumnKind::Categorical => "categorical",
    }
}

/// Computes one drift-table row; a column that cannot be compared gets a note, not an error.
pub(crate) fn drift_row(
    spec: &ColumnSpec,
    reference: Option<&ColumnSummary>,
    current: Option<&ColumnSummary>,
) -> (ColumnDriftRow, Option<ColumnDrift>) {
    let empty = ColumnSummary::default();
    let reference = reference.unwrap_or(&empty);
    let current = current.unwrap_or(&empty);
    let mut row = ColumnDriftRow {
        column: spec.name.clone(),
        role: role_name(spec.role).to_string(),
        kind: kind_name(spec.kind).to_string(),
        method: String::new(),
        value: None,
        threshold: None,
        drift: None,
        psi: None,
        note: None,
        chunk: None,
        chunk_note: None,
    };

    let reference_distribution = reference.distribution(spec.kind);
    let current_distribution = current.distribution(spec.kind);
    match stats::column_drift(spec.kind, &reference_distribution, &current_distribution) {
        Ok(drift) => {
            let overridden = match effective_method(spec, &drift) {
                method if method != drift.default_method || spec.drift_threshold.is_some() => {
                    let (reference, current) = (as_kind(spec, reference), as_kind(spec, current));
                    match stats::compute(method, &reference, &current, spec.drift_threshold) {
                        Ok(result) => Some(result),
                        Err(error) => {
                            row.method = method.display_name().to_string();
                            row.note = Some(error.to_string());
                            return (row, None);
                        }
                    }
                }
                _ => None,
            };
            let default = overridden.as_ref().unwrap_or_else(|| drift.default_result());
            row.method = default.method.display_name().to_string();
            row.value = Some(default.value);
            row.threshold = Some(default.threshold);
            row.drift = Some(default.drift);
            row.psi = drift.result(StatMethod::Psi).map(|psi| psi.value);
            (row, Some(drift))
        }
        Err(error) => {
            // With one side empty, Evidently's pick counts too few values and names a test meant
            // for two categories. So the column's override, or the side with data, decides.
            let (reference_total, current_total) = (reference_distribution.total(), current_distribution.total());
            let method = match spec.drift_method.as_deref().and_then(StatMethod::from_name) {
                Some(method) => method,
                None if reference_total == 0 && current_total > 0 => {
                    stats::default_method(spec.kind, &current_distribution, &current_distribution)
                }
                None if current_total == 0 && reference_total > 0 => {
                    stats::default_method(spec.kind, &reference_distribution, &reference_distribution)
                }
                None if reference_total == 0 && current_total == 0 => {
                    row.method = "—".to_string();
                    row.note = Some(error.to_string());
                    return (row, None);
                }
                None => stats::default_method(spec.kind, &reference_distribution, &current_distribution),
            };
            row.method = method.display_name().to_string();
            row.note = Some(error.to_string());
            (row, None)
        }
    }
}

/// Returns the method a column's drift is judged by: its schema's override, else Evidently's
/// default pick.
fn effective_method(spec: &ColumnSpec, drift: &ColumnDrift) -> StatMethod {
    spec.drift_method.as_deref().and_then(StatMethod::from_name).unwrap_or(drift.default_method)
}

/// Converts a summary to the distribution its column's kind compares: a categorical column
/// stored as numbers becomes categories named by the numbers.
fn as_kind(spec: &ColumnSpec, summary: &ColumnSummary) -> Distribution {
    match (spec.kind, summary.distribution(spec.kind)) {
        (ColumnKind::Categorical, Distribution::Numeric(numbers)) => Distribution::Categorical(numbers.to_categorical()),
        (_, distribution) => distribution,
    }
}

/// Computes the sample-size-robust verdict of one column under its method `method`.
fn chunk_verdict(
    spec: &ColumnSpec,
    reference: &ColumnSummary,
    current: &ColumnSummary,
    method: StatMethod,
) -> Result<ChunkVerdict, String> {
    let bounds = chunks::chunk_bounds(method, &as_kind(spec, reference), &as_kind(spec, current), chunks::seed_for(&spec.name))
        .map_err(|error| error.to_string())?;
    let measure = match method {
        StatMethod::Ks => "K-S statistic D".to_string(),
        StatMethod::ChiSquare => "chi-square statistic".to_string(),
        StatMethod::ZTest => "|z|".to_string(),
        other => other.display_name().to_string(),
    };
    Ok(ChunkVerdict {
        measure,
        chunks: bounds.chunks,
        chunk_rows: bounds.chunk_rows,
        lower: bounds.lower,
        upper: bounds.upper,
        value: bounds.value,
        drift: bounds.drift,
    })
}

/// Orders drifted columns first, then by how far each value is past its threshold.
fn drift_severity(row: &ColumnDriftRow) -> f64 {
    let (Some(value), Some(threshold)) = (row.value, row.threshold) else { return f64::NEG_INFINITY };
    let is_test = StatMethod::ALL
        .into_iter()
        .any(|method| method.is_test() && method.display_name() == row.method);
    let score = if is_test {
        // Tests flag drift for small p-values: compare on a log scale.
        (-(value.max(1e-300)).ln()) / (-(threshold.ln()))
    } else {
        value / threshold
    };
    if row.drift == Some(true) { 1e6 + score } else { score }
}

pub async fn drift_report(
    db: &Db,
    workspace_id: i64,
    model_name: &str,
    query: &DriftQuery,
) -> Result<DriftReport, ApiError> {
    match resolve_view(db, workspace_id, model_name, query).await? {
        Some(view) => build_report(db, &view).await.map(|(report, _)| report),
        None => empty_report(db, workspace_id, model_name).await,
    }
}

/// Builds the report of a model with no data yet: every column, each with a note saying so.
pub(crate) async fn empty_report(db: &Db, workspace_id: i64, model_name: &str) -> Result<DriftReport, ApiError> {
    let model = db
        .model(workspace_id, model_name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model \"{model_name}\" not found")))?;
    let today = format_day(crate::db::now_ms().div_euclid(DAY_MS) * DAY_MS);
    let columns = model
        .schema
        .columns
        .iter()
        .map(|spec| {
            let (mut row, _) = drift_row(spec, None, None);
            row.note = Some("no data yet: upload a training file, then production data".to_string());
            row
        })
        .collect();
    Ok(DriftReport {
        model: model.name,
        version: String::new(),
        baseline: model.default_baseline.clone().unwrap_or(Baseline::Training),
        baseline_is_default: true,
        versions: Vec::new(),
        window_from: today.clone(),
        window_to: today,
        reference_rows: 0,
        current_rows: 0,
        production_first_day: None,
        production_last_day: None,
        drifted_columns: 0,
        chunked: false,
        chunk_drifted_columns: 0,
        segment: None,
        columns,
    })
}

pub(crate) async fn build_report(
    db: &Db,
    view: &ResolvedView,
) -> Result<(DriftReport, WindowData), ApiError> {
    let reference = view.baseline_summaries(db).await?;
    let window_end = view.to_day_ms + DAY_MS - 1;
    let current = merge_by_column(view.summaries(db, Environment::Production, view.from_day_ms, window_end, None).await?);

    let mut columns = Vec::new();
    let mut drifts = BTreeMap::new();
    for spec in &view.model.schema.columns {
        let (mut row, drift) = drift_row(spec, reference.get(&spec.name), current.get(&spec.name));
        if view.chunked {
            match (&drift, reference.get(&spec.name), current.get(&spec.name)) {
                (Some(drift), Some(reference), Some(current)) => {
                    match chunk_verdict(spec, reference, current, effective_method(spec, drift)) {
                        Ok(verdict) => row.chunk = Some(verdict),
                        Err(note) => row.chunk_note = Some(note),
                    }
                }
                _ => row.chunk_note = row.note.clone().or_else(|| Some("no data to compare".to_string())),
            }
        }
        columns.push(row);
        if let Some(drift) = drift {
            drifts.insert(spec.name.clone(), drift);
        }
    }
    columns.sort_by(|a, b| drift_severity(b).total_cmp(&drift_severity(a)).then(a.column.cmp(&b.column)));

    let rows_of = |summaries: &BTreeMap<String, ColumnSummary>| summaries.values().map(|s| s.rows).max().unwrap_or(0);
    let production_range = db.bucket_range(view.version_id, Environment::Production).await?;
    let report = DriftReport {
        model: view.model.name.clone(),
        version: view.version.clone(),
        baseline: view.baseline.clone(),
        baseline_is_default: view.baseline_is_default(),
        versions: view.versions.clone(),
        window_from: format_day(view.from_day_ms),
        window_to: format_day(view.to_day_ms),
        reference_rows: rows_of(&reference),
        current_rows: rows_of(&current),
        production_first_day: production_range.map(|(first, _)| format_day(first)),
        production_last_day: production_range.map(|(_, last)| format_day(last)),
        drifted_columns: columns.iter().filter(|row| row.drift == Some(true)).count(),
        chunked: view.chunked,
        chunk_drifted_columns: columns.iter().filter(|row| row.chunk.as_ref().is_some_and(|chunk| chunk.drift)).count(),
        segment: view.segment.as_ref().map(|segment| segment.text.clone()),
        columns,
    };
    Ok((report, WindowData { reference, current, drifts }))
}

/// Labels each bin of the drift statistics' binning for the histogram.
fn histogram_bins(drift: &ColumnDrift) -> Vec<charts::HistogramBin> {
    let binning = &drift.binning;
    let labels: Vec<String> = match &binning.bins {
        Bins::Edges(edges) => edges
            .windows(2)
            .map(|pair| format!("{}–{}", format_edge(pair[0]), format_edge(pair[1])))
            .collect(),
        Bins::Values(values) => values.iter().map(|value| format_edge(*value)).collect(),
        Bins::Categories(categories) => categories.clone(),
    };
    let mut bins: Vec<charts::HistogramBin> = labels
        .into_iter()
        .enumerate()
        .map(|(index, label)| charts::HistogramBin {
            label,
            reference_count: binning.reference_counts[index],
            current_count: binning.current_counts[index],
        })
        .collect();
    // Category codes such as "2" and "10" read better in numeric order than in byte order.
    let numeric: Option<Vec<f64>> = bins.iter().map(|bin| bin.label.parse::<f64>().ok()).collect();
    if let (Bins::Categories(_), Some(values)) = (&binning.bins, numeric) {
        let mut order: Vec<usize> = (0..bins.len()).collect();
        order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
        bins = order.into_iter().map(|index| bins[index].clone()).collect();
    }
    bins
}

fn axis_labels(drift: &ColumnDrift) -> charts::AxisLabels {
    match &drift.binning.bins {
        Bins::Edges(edges) => charts::AxisLabels::Edges(edges.iter().map(|edge| format_edge(*edge)).collect()),
        Bins::Values(_) | Bins::Categories(_) => charts::AxisLabels::Centres,
    }
}

/// Formats a bin edge with up to four significant digits and no trailing zeros.
fn format_edge(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e9 {
        return format!("{value:.0}");
    }
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub async fn feature_report(
    db: &Db,
    workspace_id: i64,
    model_name: &str,
    feature: &str,
    query: &DriftQuery,
) -> Result<FeatureReport, ApiError> {
    let Some(view) = resolve_view(db, workspace_id, model_name, query).await? else {
        let drift = empty_report(db, workspace_id, model_name).await?;
        let column = drift.columns.iter().find(|row| row.column == feature).cloned().ok_or_else(|| {
            ApiError::not_found(format!("model \"{model_name}\" has no column \"{feature}\""))
        })?;
        return Ok(FeatureReport {
            drift,
            column,
            histogram: charts::histogram(&[], &charts::AxisLabels::Centres),
            drift_over_time: charts::drift_over_time("", &[], false, (0, 0), "threshold"),
        });
    };
    let spec = view.model.schema.column(feature).cloned().ok_or_else(|| {
        ApiError::not_found(format!("model \"{model_name}\" has no column \"{feature}\""))
    })?;
    let (report, window) = build_report(db, &view).await?;
    let column = report
        .columns
        .iter()
        .find(|row| row.column == spec.name)
        .cloned()
        .expect("the report has a row for every schema column");
    let empty = ColumnSummary::default();
    let reference = window.reference.get(&spec.name).unwrap_or(&empty);

    let histogram = match window.drifts.get(&spec.name) {
        Some(drift) => charts::histogram(&histogram_bins(drift), &axis_labels(drift)),
        None => charts::histogram(&[], &charts::AxisLabels::Centres),
    };

    // Drift over time: every production day against the same baseline.
    let daily = view.summaries(db, Environment::Production, i64::MIN, i64::MAX, Some(&spec.name)).await?;
    let mut by_day: BTreeMap<i64, ColumnSummary> = BTreeMap::new();
    for (day, _, summary) in daily {
        by_day.entry(day).or_default().merge(&summary);
    }
    let mut points = Vec::new();
    for (day, summary) in &by_day {
        let (row, _) = drift_row(&spec, Some(reference), Some(summary));
        points.push(charts::DriftPoint {
            day_ms: *day,
            value: row.value,
            threshold: row.threshold,
            drift: row.drift,
            rows: summary.rows,
        });
    }
    let yearly = !by_day.is_empty() && by_day.keys().all(|day| format_day(*day).ends_with("-01-01"));
    let drift_over_time = charts::drift_over_time(
        &column.method,
        &points,
        yearly,
        (view.from_day_ms, view.to_day_ms),
        "threshold",
    );

    Ok(FeatureReport { drift: report, column, histogram, drift_over_time })
}

/// Drift of one version's `current` environment against its `reference` environment, over
/// all their data: the evidence a promotion gate checks (validation against training).
/// Returns `None` when the monitored model, the version or either environment has no data.
pub async fn environment_drift(
    db: &Db,
    workspace_id: i64,
    model_name: &str,
    version: &str,
    reference: Environment,
    current: Environment,
) -> Result<Option<EnvironmentDrift>, ApiError> {
    let Some(model) = db.model(workspace_id, model_name).await? else { return Ok(None) };
    let Some(version_id) = db.version_id(model.id, version).await? else { return Ok(None) };
    let reference = merge_by_column(db.load_summaries(version_id, reference, None, None, None).await?);
    let current = merge_by_column(db.load_summaries(version_id, current, None, None, None).await?);
    if reference.is_empty() || current.is_empty() {
        return Ok(None);
    }
    let mut drifted = Vec::new();
    let mut compared = 0;
    for spec in &model.schema.columns {
        let (row, _) = drift_row(spec, reference.get(&spec.name), current.get(&spec.name));
        match row.drift {
            Some(true) => {
                compared += 1;
                drifted.push(row.column);
            }
            Some(false) => compared += 1,
            None => {}
        }
    }
    Ok(Some(EnvironmentDrift { compared, drifted }))
}

/// The outcome of [`environment_drift`].
#[derive(Clone, Debug, PartialEq)]
pub struct EnvironmentDrift {
    pub compared: usize,
    pub drifted: Vec<String>,
}

impl EnvironmentDrift {
    /// Dataset drift: at least half of the compared columns drifted (Evidently's default).
    pub fn dataset_drift(&self) -> bool {
        crate::types::is_dataset_drift(self.drifted.len(), self.compared, crate::types::DEFAULT_DRIFT_SHARE)
    }
}
