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
