//! Wire types shared by the server and the browser: what server functions return and pages show.

use serde::{Deserialize, Serialize};

use crate::monitoring::schema::ModelSchema;

/// A member's role in a workspace, from most to least privileged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Owners and admins rename the workspace and manage its members.
    pub fn can_administer(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Everyone but viewers creates models and ingests data.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }
}

/// Data environment a record belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Training,
    Validation,
    Production,
}

impl Environment {
    pub const ALL: [Environment; 3] =
        [Environment::Training, Environment::Validation, Environment::Production];

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Training => "training",
            Environment::Validation => "validation",
            Environment::Production => "production",
        }
    }

    pub fn parse(text: &str) -> Option<Environment> {
        Environment::ALL.into_iter().find(|environment| environment.as_str() == text)
    }
}

/// Data a monitoring page compares the current window with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Baseline {
    /// All training data of the version.
    Training,
    /// All validation data of the version.
    Validation,
    /// Production data of a fixed range of days, both inclusive, as `YYYY-MM-DD`.
    Production { from: String, to: String },
    /// Production data of the `days` days just before the current window.
    Trailing { days: u32 },
}

impl Baseline {
    /// Maximum length of a trailing baseline, in days (ten years).
    pub const MAX_TRAILING_DAYS: u32 = 3650;

    /// Returns the value of the `baseline` query parameter.
    pub fn kind(&self) -> &'static str {
        match self {
            Baseline::Training => "training",
            Baseline::Validation => "validation",
            Baseline::Production { .. } => "production",
            Baseline::Trailing { .. } => "trailing",
        }
    }

    /// Builds the query parameters that select this baseline, each after a `&`.
    pub fn query(&self) -> String {
        match self {
            Baseline::Training | Baseline::Validation => format!("&baseline={}", self.kind()),
            Baseline::Production { from, to } => format!("&baseline=production&baseline_from={from}&baseline_to={to}"),
            Baseline::Trailing { days } => format!("&baseline=trailing&baseline_days={days}"),
        }
    }

    /// Names the baseline's data in a sentence, such as "production data of the 7 days before
    /// the window".
    pub fn describe(&self) -> String {
        match self {
            Baseline::Training => "training data".to_string(),
            Baseline::Validation => "validation data".to_string(),
            Baseline::Production { from, to } => format!("production data from {from} to {to}"),
            Baseline::Trailing { days: 1 } => "production data of the day before the window".to_string(),
            Baseline::Trailing { days } => format!("production data of the {days} days before the window"),
        }
    }
}

/// The signed-in user and the workspaces they belong to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: i64,
    pub username: String,
    pub is_admin: bool,
    pub csrf_token: String,
    pub workspaces: Vec<WorkspaceSummary>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceSummary {
    pub slug: String,
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub username: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceDetail {
    pub slug: String,
    pub name: String,
    pub role: Role,
    pub members: Vec<MemberInfo>,
    pub models: Vec<ModelInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub description: String,
    pub schema: ModelSchema,
    pub versions: Vec<VersionInfo>,
}

/// A model version with how many rows each environment holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: String,
    pub training_rows: i64,
    pub validation_rows: i64,
    pub production_rows: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    /// Slug of the one workspace the token may act in; `None` for all of the user's.
    pub workspace: Option<String>,
}

/// Everything the drift overview and feature pages show, computed on the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub model: String,
    pub version: String,
    pub baseline: Baseline,
    /// True when `baseline` is the model's saved default, so the page offers no "save" button.
    pub baseline_is_default: bool,
    pub versions: Vec<String>,
    /// Inclusive window of the current data, as `YYYY-MM-DD` (UTC).
    pub window_from: String,
    pub window_to: String,
    pub reference_rows: u64,
    pub current_rows: u64,
    /// First and last day with production data for this version, as `YYYY-MM-DD`.
    pub production_first_day: Option<String>,
    pub production_last_day: Option<String>,
    pub drifted_columns: usize,
    /// Whether the rows carry the sample-size-robust (chunk-based) verdict as well.
    #[serde(default)]
    pub chunked: bool,
    /// Columns the chunk-based view flags, when `chunked`.
    #[serde(default)]
    pub chunk_drifted_columns: usize,
    /// Conditions that select the rows compared, as the user wrote them; none means all rows.
    #[serde(default)]
    pub segment: Option<String>,
    pub columns: Vec<ColumnDriftRow>,
}

impl DriftReport {
    /// Counts the columns with a verdict: those whose statistic could be computed.
    pub fn compared_columns(&self) -> usize {
        self.columns.iter().filter(|column| column.drift.is_some()).count()
    }

    /// Returns whether the drifted columns reach the default share of the compared ones.
    pub fn dataset_drift(&self) -> bool {
        is_dataset_drift(self.drifted_columns, self.compared_columns(), DEFAULT_DRIFT_SHARE)
    }
}

/// The versions tab: two versions of a model over the same production window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionComparison {
    /// The first version's drift report, which also carries the view.
    pub drift: DriftReport,
    /// The second version's drift report against its own baseline; none when the model has
    /// one version.
    pub other: Option<DriftReport>,
    /// "classification", "regression" or "none".
    pub task: String,
    pub metrics: Vec<ComparedMetric>,
    /// Each column of the second version's window judged against the first version's window.
    pub columns: Vec<ColumnDriftRow>,
    /// The main metric per production day, one line per version.
    pub over_time: Chart,
}

/// One metric of both versions, on each version's baseline and in the shared window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparedMetric {
    pub name: String,
    pub first_baseline: Option<f64>,
    pub first_current: Option<f64>,
    pub second_baseline: Option<f64>,
    pub second_current: Option<f64>,
}

/// The segments tab: one feature column's values (or baseline quintiles, for a number) as
/// segments, ranked by how much worse each performs in the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentsReport {
    pub drift: DriftReport,
    /// The feature column broken down.
    pub by: String,
    /// Whether `by` is numeric, so its segments are ranges.
    pub numeric: bool,
    /// "Accuracy" or "MAE"; none when the schema lacks a prediction or an actual.
    pub metric: Option<String>,
    pub lower_is_better: bool,
    /// Ranked segments first, by performance drop, then the rest.
    pub segments: Vec<SegmentRow>,
    /// Categories left out after the largest ones.
    pub unlisted: usize,
}

/// Segments with fewer rows than this on either side are listed but not ranked, because
/// their metrics and drift tests vary too much.
pub const SEGMENT_MIN_RANKED_ROWS: u64 = 30;

/// One segment of the segments tab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentRow {
    /// The value or range, as the table shows it.
    pub label: String,
    /// The segment condition that selects its rows, for links to the other tabs.
    pub segment: String,
    pub reference_rows: u64,
    pub current_rows: u64,
    /// Whether both sides have enough rows for the segment to be ranked.
    pub ranked: bool,
    pub metric_reference: Option<f64>,
    pub metric_current: Option<f64>,
    /// How much worse the metric got: positive when accuracy fell or the error grew.
    pub drop: Option<f64>,
    pub drifted_columns: usize,
    pub compared_columns: usize,
    pub dataset_drift: bool,
}

/// Share of drifted columns at which the whole dataset counts as drifted, as in Evidently.
pub const DEFAULT_DRIFT_SHARE: f64 = 0.5;

/// Decides dataset drift: at least `share` of the compared columns drift, and at least one
/// column was compared.
pub fn is_dataset_drift(drifted: usize, compared: usize, share: f64) -> bool {
    compared > 0 && drifted as f64 >= share * compared as f64
}

/// A column's sample-size-robust verdict: its value against mean ± 3 standard deviations of
/// the values of random reference chunks as large as the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkVerdict {
    /// Name of the measure of `value` and the bounds, such as "K-S statistic D".
    pub measure: String,
    pub chunks: usize,
    pub chunk_rows: u64,
    pub lower: f64,
    pub upper: f64,
    pub value: f64,
    pub drift: bool,
}

/// One row of the drift table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDriftRow {
    pub column: String,
    pub role: String,
    pub kind: String,
    /// Display name of the statistic Evidently would pick by default.
    pub method: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub drift: Option<bool>,
    pub psi: Option<f64>,
    /// Reason no value could be computed (for example, no current rows in the window).
    pub note: Option<String>,
    /// The chunk-based verdict, when the report is `chunked` and it could be computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<ChunkVerdict>,
    /// Reason the chunk-based verdict is missing, when the report is `chunked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_note: Option<String>,
}

/// A chart drawn on the server: the SVG and the hover targets laid over it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub svg: String,
    pub width: u32,
    pub height: u32,
    pub marks: Vec<ChartMark>,
}

/// A hover target in chart pixel coordinates, with the lines its tooltip shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartMark {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub tooltip: Vec<String>,
    /// The day (`YYYY-MM-DD`) of a time-series mark; dragging across such marks
    /// makes their days the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureReport {
    pub drift: DriftReport,
    pub column: ColumnDriftRow,
    pub histogram: Chart,
    pub drift_over_time: Chart,
}

/// Verdict of a data-quality check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QualityStatus {
    Pass,
    Warn,
    Fail,
}

impl QualityStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QualityStatus::Pass => "pass",
            QualityStatus::Warn => "warn",
            QualityStatus::Fail => "fail",
        }
    }
}

/// Data quality of one column in the current window, compared with the baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnQuality {
    pub column: String,
    pub role: String,
    pub kind: String,
    pub reference_missing_share: f64,
    pub current_missing_share: f64,
    /// Share of current rows with an infinite number.
    pub current_invalid_share: f64,
    /// Numeric columns: share of current values outside the baseline's [min, max].
    pub out_of_range_share: Option<f64>,
    pub reference_min: Option<f64>,
    pub reference_max: Option<f64>,
    /// Categorical columns: share of current rows whose category the baseline lacks, and the
    /// first of those categories.
    pub new_category_share: Option<f64>,
    pub new_categories: Vec<String>,
    pub reference_distinct: usize,
    pub current_distinct: usize,
    pub status: QualityStatus,
    /// One sentence per failed or warned check.
    pub findings: Vec<String>,
}

/// The data-quality page: per-column checks plus volume and freshness of the model's data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    pub drift: DriftReport,
    pub columns: Vec<ColumnQuality>,
    /// Rows per day with production data in the window, as (`YYYY-MM-DD`, rows).
    pub daily_rows: Vec<(String, u64)>,
    pub latest_row_ms: Option<i64>,
    pub freshness_status: QualityStatus,
}

/// One metric of the performance page, on the baseline and in the current window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    pub name: String,
    pub reference: Option<f64>,
    pub current: Option<f64>,
}

/// The performance page: metrics against the baseline, the confusion matrix of the window,
/// and the main metric per day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerformanceReport {
    pub drift: DriftReport,
    /// "classification", "regression", or "none" when the schema lacks a prediction or actual.
    pub task: String,
    pub reference_rows: u64,
    pub current_rows: u64,
    pub metrics: Vec<MetricRow>,
    /// Labels in confusion-matrix order, and its rows (actual) in the current window.
    pub labels: Vec<String>,
    /// Classification: every label of either side with its scores on each.
    #[serde(default)]
    pub classes: Vec<ClassRow>,
    pub confusion_matrix: Vec<(String, Vec<u64>)>,
    /// Calibration of the positive class's score in the current window (binary models with
    /// a score column).
    #[serde(default)]
    pub calibration: Vec<CalibrationBin>,
    pub over_time: Chart,
}

/// One score bin of a calibration table: how often rows with scores in it were positive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub lower: f64,
    pub upper: f64,
    pub rows: u64,
    pub mean_score: f64,
    pub positive_share: f64,
}

/// One label's scores on the baseline and in the current window, each missing when the
/// label does not occur on that side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassRow {
    pub label: String,
    pub reference: Option<ClassScores>,
    pub current: Option<ClassScores>,
}

/// Precision, recall and F1 of one label, and its support: rows whose actual is the label.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// A request to point a registry alias at a version, with its reviews.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromotionRequestInfo {
    pub id: i64,
    pub model_name: String,
    pub alias: String,
    pub version: i64,
    pub requested_by: String,
    pub comment: String,
    /// pending, approved, rejected, cancelled or superseded.
    pub status: String,
    /// The policy in force when the request was made.
    pub policy_json: String,
    /// The evidence gates' results when the request was made.
    pub gates_json: String,
    pub created_at_ms: i64,
    pub decided_at_ms: Option<i64>,
    pub reviews: Vec<ReviewInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewInfo {
    pub username: String,
    /// approve or reject.
    pub decision: String,
    pub comment: String,
    pub created_at_ms: i64,
}

/// One entry of a registered model's append-only history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryEventInfo {
    pub id: i64,
    pub kind: String,
    pub alias: Option<String>,
    pub version: Option<i64>,
    pub previous_version: Option<i64>,
    pub request_id: Option<i64>,
    pub actor: String,
    pub comment: String,
    pub created_at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookInfo {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub active: bool,
    pub created_at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookDeliveryInfo {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub event: String,
    /// pending, delivered or failed.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: String,
    pub created_at_ms: i64,
    pub delivered_at_ms: Option<i64>,
    pub next_attempt_at_ms: i64,
}

/// One evidence gate's result, kept with a promotion request and shown to approvers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    pub gate: String,
    pub passed: bool,
    pub detail: String,
}

/// A project (MLflow's experiment) in the projects list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: i64,
    pub name: String,
    pub runs: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A run as a table row: its latest metric values and its params.
/// A logged metric value on its way to the browser. JSON has no NaN or infinities (serde_json
/// writes them as `null`, which then fails to read back as a number), so those travel as the
/// strings "NaN", "Infinity" and "-Infinity", as MLflow's API writes them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricValue(pub f64);

impl Serialize for MetricValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            value if value.is_finite() => serializer.serialize_f64(value),
            value if value.is_nan() => serializer.serialize_str("NaN"),
            value if value > 0.0 => serializer.serialize_str("Infinity"),
            _ => serializer.serialize_str("-Infinity"),
        }
    }
}

impl<'de> Deserialize<'de> for MetricValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<MetricValue, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Sent {
            Number(f64),
            Text(String),
        }
        match Sent::deserialize(deserializer)? {
            Sent::Number(value) => Ok(MetricValue(value)),
            Sent::Text(text) => match text.as_str() {
                "NaN" => Ok(MetricValue(f64::NAN)),
                "Infinity" => Ok(MetricValue(f64::INFINITY)),
                "-Infinity" => Ok(MetricValue(f64::NEG_INFINITY)),
                other => Err(serde::de::Error::custom(format!("metric value \"{other}\" is not a number, NaN or an infinity"))),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub run_id: String,
    pub name: String,
    pub status: String,
    pub user: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub metrics: Vec<(String, MetricValue)>,
    pub params: Vec<(String, String)>,
    pub parent_run_id: Option<String>,
}

/// One page of a project's runs table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunsPage {
    pub project: ProjectSummary,
    pub filter: String,
    pub order: String,
    pub page: i64,
    pub page_size: i64,
    pub has_more: bool,
    pub metric_keys: Vec<String>,
    pub param_keys: Vec<String>,
    pub runs: Vec<RunRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub name: String,
    pub digest: String,
    pub source_type: String,
    pub source: String,
    pub context: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    pub path: String,
    pub is_dir: bool,
    pub size: Option<u64>,
    /// Download address (files) or the run page address listing the folder (folders).
    pub href: String,
}

/// Everything the run page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub run: RunRow,
    pub project: ProjectSummary,
    pub tags: Vec<(String, String)>,
    pub inputs: Vec<DatasetInfo>,
    pub artifact_folder: String,
    pub artifacts: Vec<ArtifactInfo>,
    pub charts: Vec<(String, Chart)>,
    /// Registry versions made from this run, as (model, version).
    pub versions: Vec<(String, i64)>,
    pub children: Vec<RunRow>,
}

/// The compare view of several runs of one project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareView {
    pub project: ProjectSummary,
    pub runs: Vec<RunRow>,
    pub charts: Vec<(String, Chart)>,
    /// One row per param: its value in each run, and whether the values differ.
    pub params: Vec<(String, Vec<Option<String>>, bool)>,
    pub metrics: Vec<(String, Vec<Option<MetricValue>>)>,
    /// Points drawn against points logged, for the note under the charts.
    pub points_drawn: u64,
    pub points_logged: u64,
}

/// A registered model in the registry list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistrySummary {
    pub name: String,
    pub description: String,
    pub latest_version: Option<i64>,
    pub aliases: Vec<(String, i64)>,
    pub pending_requests: i64,
    pub updated_at_ms: i64,
}

/// The registry list page: the models and the workspace's default promotion policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryView {
    pub models: Vec<RegistrySummary>,
    pub default_policy: PolicyInfo,
    pub can_administer: bool,
}

/// A promotion policy as pages show and edit it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyInfo {
    pub required_approvals: u32,
    pub approver_roles: Vec<String>,
    pub allow_self_approval: bool,
    pub direct_change_roles: Vec<String>,
    pub metric_gates: Vec<String>,
    pub require_no_drift: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryVersionRow {
    pub version: i64,
    pub created_at_ms: i64,
    pub user: String,
    pub run_id: String,
    pub run_name: Option<String>,
    pub source: String,
    pub description: String,
    pub aliases: Vec<String>,
    /// Production rows the monitoring side holds for this version, when it has any.
    pub production_rows: Option<i64>,
}

/// A pending or past request with the evidence approvers see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestView {
    pub request: PromotionRequestInfo,
    pub gates: Vec<GateResult>,
    /// The version the alias points at now.
    pub current_version: Option<i64>,
    /// Metrics of the requested version's run against the current holder's: (metric, requested, current).
    pub metric_diff: Vec<(String, Option<MetricValue>, Option<MetricValue>)>,
    pub approvals: i64,
    pub required_approvals: u32,
    /// The reason the viewer may not approve, when they may not.
    pub review_refusal: Option<String>,
    pub can_cancel: bool,
}

/// The version an alias pointed at over a span of time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AliasSpan {
    pub alias: String,
    pub version: i64,
    pub from_ms: i64,
    pub to_ms: Option<i64>,
    pub actor: String,
    pub request_id: Option<i64>,
}

/// Everything the registered model page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryModelView {
    pub name: String,
    pub description: String,
    pub aliases: Vec<(String, i64)>,
    pub versions: Vec<RegistryVersionRow>,
    pub requests: Vec<RequestView>,
    pub history: Vec<RegistryEventInfo>,
    pub timeline: Vec<AliasSpan>,
    pub policy: PolicyInfo,
    pub own_policy: bool,
    pub can_request: bool,
    pub can_change_directly: bool,
    pub can_administer: bool,
    /// The monitored model with the same name, when there is one.
    pub monitored: bool,
}

/// A version's lineage and health, for the version page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryVersionView {
    pub model: String,
    pub version: RegistryVersionRow,
    pub run: Option<RunRow>,
    pub project: Option<ProjectSummary>,
    pub inputs: Vec<DatasetInfo>,
    pub logged_model: Option<String>,
    pub events: Vec<RegistryEventInfo>,
    /// Drift of the latest production window, when the monitoring side has data.
    pub health: Option<VersionHealth>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionHealth {
    pub window_from: String,
    pub window_to: String,
    pub current_rows: u64,
    pub drifted_columns: usize,
    pub compared_columns: usize,
    pub link: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhooksView {
    pub webhooks: Vec<WebhookInfo>,
    pub deliveries: Vec<WebhookDeliveryInfo>,
    pub events: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_value_round_trips_non_finite() {
        let row = RunRow {
            run_id: "r".into(),
            name: "run".into(),
            status: "FINISHED".into(),
            user: "ada".into(),
            start_ms: None,
            end_ms: None,
            metrics: vec![
                ("loss".into(), MetricValue(0.25)),
                ("nan".into(), MetricValue(f64::NAN)),
                ("up".into(), MetricValue(f64::INFINITY)),
                ("down".into(), MetricValue(f64::NEG_INFINITY)),
            ],
            params: Vec::new(),
            parent_run_id: None,
        };

        let json = serde_json::to_string(&row).unwrap();
        let read: RunRow = serde_json::from_str(&json).unwrap();

        assert!(json.contains(r#"["nan","NaN"],["up","Infinity"],["down","-Infinity"]"#), "{json}");
        assert_eq!(read.metrics[0].1, MetricValue(0.25));
        assert!(read.metrics[1].1 .0.is_nan());
        assert_eq!(read.metrics[2].1, MetricValue(f64::INFINITY));
        assert_eq!(read.metrics[3].1, MetricValue(f64::NEG_INFINITY));
    }

    #[test]
    fn metric_value_rejects_other_text() {
        let error = serde_json::from_str::<MetricValue>(r#""high""#).unwrap_err();
        assert!(error.to_string().contains("\"high\""), "{error}");
    }
}
