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
}

/// Everything the drift overview and feature pages show, computed on the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub model: String,
    pub version: String,
    pub baseline: Environment,
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
    pub columns: Vec<ColumnDriftRow>,
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
    pub confusion_matrix: Vec<(String, Vec<u64>)>,
    pub over_time: Chart,
}
