//! The declared schema of a monitored model: which input column plays which role.

use serde::{Deserialize, Serialize};

/// Comparison kind of a column's values: numbers on a line, or unordered labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

/// Role of a column in a model's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnRole {
    Feature,
    Prediction,
    PredictionScore,
    Actual,
}

/// One monitored column: a feature, the prediction, the prediction score or the actual.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    pub kind: ColumnKind,
    pub role: ColumnRole,
    /// Drift method used instead of Evidently's default pick, by Evidently's stattest name
    /// (`psi`, `jensenshannon`, `wasserstein`, `ks`, `chisquare` or `z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_method: Option<String>,
    /// Drift threshold used instead of the method's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_threshold: Option<f64>,
}

impl ColumnSpec {
    /// A column with Evidently's default drift method and threshold.
    pub fn new(name: impl Into<String>, kind: ColumnKind, role: ColumnRole) -> ColumnSpec {
        ColumnSpec { name: name.into(), kind, role, drift_method: None, drift_threshold: None }
    }
}

/// Schema of a model's records. Every file ingested for the model must have the id and
/// timestamp columns and every monitored column; other columns in the file are ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSchema {
    pub id_column: String,
    pub timestamp_column: String,
    pub columns: Vec<ColumnSpec>,
}

impl ModelSchema {
    /// Returns the monitored column with this name, if the schema declares one.
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|column| column.name == name)
    }
}
