//! Drift statistics between the reference and current distribution of one column.
//!
//! Every statistic reproduces Evidently 0.7.23 with scipy 1.17 (distances to 1e-9 relative,
//! p-values to 1e-6 relative or 1e-12 absolute), computed from exact value counts instead
//! of raw rows so that stored distributions can be merged.

mod binning;
mod chi_square;
pub mod chunks;
mod defaults;
mod distribution;
mod jensen_shannon;
mod kolmogorov;
pub(crate) mod ks;
mod psi;
pub(crate) mod wasserstein;
mod z_test;

#[cfg(test)]
mod golden_tests;

use serde::{Deserialize, Serialize};

use crate::monitoring::schema::ColumnKind;

pub use binning::{binning, histogram, sturges_edges, Binning, Bins, MAX_DISTINCT_FOR_VALUE_BINS};
pub use chi_square::chi_square;
pub use defaults::{default_method, FEW_VALUES_MAX, SMALL_REFERENCE_MAX_ROWS};
pub use distribution::{CategoricalDistribution, Distribution, NumericDistribution};
pub use jensen_shannon::jensen_shannon_distance;
pub use kolmogorov::{kolmogorov_sf, smirnov_sf};
pub use ks::{ks_2samp, ks_statistic, KsMode, KsOutcome, MAX_EXACT_SIZE};
pub use psi::{psi, zero_filled, EMPTY_SHARE};
pub use wasserstein::{wasserstein_distance, wasserstein_distance_normed, MIN_NORM};
pub use z_test::z_test;

/// Error of a statistic that could not be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StatError {
    #[error("reference distribution is empty: it has no finite values; drift needs at least one reference value")]
    EmptyReference,
    #[error("current distribution is empty: it has no finite values; drift needs at least one current value")]
    EmptyCurrent,
    #[error("reference and current distributions are of different kinds; pass two numeric or two categorical distributions")]
    MismatchedKinds,
    #[error("{method} needs numeric distributions, but the column is categorical; use psi, jensenshannon, chisquare or z")]
    NotNumeric { method: &'static str },
    #[error("the z-test compares two categories, but reference and current together have {found}; use chisquare")]
    TooManyCategories { found: usize },
    #[error("threshold {0} is not a finite number")]
    InvalidThreshold(f64),
    #[error("invalid distribution: {0}")]
    InvalidDistribution(String),
}

/// A drift statistic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatMethod {
    #[serde(rename = "psi")]
    Psi,
    #[serde(rename = "jensenshannon")]
    JensenShannon,
    #[serde(rename = "wasserstein")]
    Wasserstein,
    #[serde(rename = "ks")]
    Ks,
    #[serde(rename = "chisquare")]
    ChiSquare,
    #[serde(rename = "z")]
    ZTest,
}

/// When a value counts as drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftRule {
    /// A distance: drift when value >= threshold.
    DistanceAtLeast,
    /// A p-value: drift when value <= threshold (Evidently's K-S).
    PValueAtMost,
    /// A p-value: drift when value < threshold (Evidently's chi-square and z-test).
    PValueBelow,
}

impl DriftRule {
    /// Applies the rule to a value and threshold.
    pub fn is_drift(self, value: f64, threshold: f64) -> bool {
        match self {
            DriftRule::DistanceAtLeast => value >= threshold,
            DriftRule::PValueAtMost => value <= threshold,
            DriftRule::PValueBelow => value < threshold,
        }
    }
}

/// Fixed properties of a method and the function that measures it.
#[derive(Clone, Copy, Debug)]
pub struct MethodDescriptor {
    pub method: StatMethod,
    /// Evidently's stattest name, also the serialized form of [`StatMethod`].
    pub name: &'static str,
    /// Evidently's display name.
    pub display_name: &'static str,
    /// Evidently 0.7.23's default threshold.
    pub default_threshold: f64,
    pub drift_rule: DriftRule,
    /// True when the method needs numeric values (a distance along the value axis).
    pub numeric_only: bool,
    measure: fn(&Distribution, &Distribution) -> Result<Measurement, StatError>,
}

/// All methods, in the order of [`StatMethod`]'s variants.
pub const METHODS: [MethodDescriptor; 6] = [
    MethodDescriptor {
        method: StatMethod::Psi,
        name: "psi",
        display_name: "PSI",
        default_threshold: 0.1,
        drift_rule: DriftRule::DistanceAtLeast,
        numeric_only: false,
        measure: psi::measure,
    },
    MethodDescriptor {
        method: StatMethod::JensenShannon,
        name: "jensenshannon",
        display_name: "Jensen-Shannon distance",
        default_threshold: 0.1,
        drift_rule: DriftRule::DistanceAtLeast,
        numeric_only: false,
        measure: jensen_shannon::measure,
    },
    MethodDescriptor {
        method: StatMethod::Wasserstein,
        name: "wasserstein",
        display_name: "Wasserstein distance (normed)",
        default_threshold: 0.1,
        drift_rule: DriftRule::DistanceAtLeast,
        numeric_only: true,
        measure: wasserstein::measure,
    },
    MethodDescriptor {
        method: StatMethod::Ks,
        name: "ks",
        display_name: "K-S p_value",
        default_threshold: 0.05,
        drift_rule: DriftRule::PValueAtMost,
        numeric_only: true,
        measure: ks::measure,
    },
    MethodDescriptor {
        method: StatMethod::ChiSquare,
        name: "chisquare",
        display_name: "chi-square p_value",
        default_threshold: 0.05,
        drift_rule: DriftRule::PValueBelow,
        numeric_only: false,
        measure: chi_square::measure,
    },
    MethodDescriptor {
        method: StatMethod::ZTest,
        name: "z",
        display_name: "Z-test p_value",
        default_threshold: 0.05,
        drift_rule: DriftRule::PValueBelow,
        numeric_only: false,
        measure: z_test::measure,
    },
];

impl StatMethod {
    /// All methods in table order.
    pub const ALL: [StatMethod; 6] = [
        StatMethod::Psi,
        StatMethod::JensenShannon,
        StatMethod::Wasserstein,
        StatMethod::Ks,
        StatMethod::ChiSquare,
        StatMethod::ZTest,
    ];

    /// Returns this method's row of [`METHODS`].
    pub fn descriptor(self) -> &'static MethodDescriptor {
        &METHODS[self as usize]
    }

    /// Evidently's stattest name ("psi", "jensenshannon", "wasserstein", "ks", "chisquare", "z").
    pub fn name(self) -> &'static str {
        self.descriptor().name
    }

    pub fn display_name(self) -> &'static str {
        self.descriptor().display_name
    }

    pub fn default_threshold(self) -> f64 {
        self.descriptor().default_threshold
    }

    pub fn drift_rule(self) -> DriftRule {
        self.descriptor().drift_rule
    }

    /// True for tests whose value is a p-value, false for distances.
    pub fn is_test(self) -> bool {
        self.drift_rule() != DriftRule::DistanceAtLeast
    }

    /// Looks a method up by its Evidently name.
    pub fn from_name(name: &str) -> Option<StatMethod> {
        METHODS.iter().find(|descriptor| descriptor.name == name).map(|descriptor| descriptor.method)
    }
}

/// Outcome of one method on one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatResult {
    pub method: StatMethod,
    /// The number compared to the threshold: the p-value for tests, the distance otherwise.
    pub value: f64,
    /// The test statistic (D for K-S, χ² for chi-square, z for the z-test) or, for
    /// Wasserstein, the raw distance in the column's units. None for PSI and Jensen-Shannon,
    /// and for chi-square when χ² is infinite.
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    /// Degrees of freedom of chi-square, k - 1 for k categories.
    pub degrees_of_freedom: Option<u32>,
    pub threshold: f64,
    pub drift: bool,
}

/// Numbers one method produces before the threshold is applied.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Measurement {
    value: f64,
    statistic: Option<f64>,
    p_value: Option<f64>,
    degrees_of_freedom: Option<u32>,
}

impl Measurement {
    fn distance(value: f64) -> Self {
        Self { value, statistic: None, p_value: None, degrees_of_freedom: None }
    }

    fn test(p_value: f64, statistic: f64, degrees_of_freedom: Option<u32>) -> Self {
        Self { value: p_value, statistic: Some(statistic), p_value: Some(p_value), degrees_of_freedom }
    }
}

/// Computes one method on a column. `threshold` defaults to the method's default threshold.
pub fn compute(
    method: StatMethod,
    reference: &Distribution,
    current: &Distribution,
    threshold: Option<f64>,
) -> Result<StatResult, StatError> {
    check_pair(reference, current)?;
    let descriptor = method.descriptor();
    let threshold = threshold.unwrap_or(descriptor.default_threshold);
    if !threshold.is_finite() {
        return Err(StatError::InvalidThreshold(threshold));
    }
    let measurement = (descriptor.measure)(reference, current)?;
    Ok(StatResult {
        method,
        value: measurement.value,
        statistic: measurement.statistic,
        p_value: measurement.p_value,
        degrees_of_freedom: measurement.degrees_of_freedom,
        threshold,
        drift: descriptor.drift_rule.is_drift(measurement.value, threshold),
    })
}

/// Drift of one column: the default method's verdict, every applicable method and the bins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    pub kind: ColumnKind,
    pub default_method: StatMethod,
    /// The default method's drift flag.
    pub drift: bool,
    /// One result per applicable method, in [`StatMethod::ALL`] order.
    pub results: Vec<StatResult>,
    /// The bins PSI and Jensen-Shannon used, for drawing histograms.
    pub binning: Binning,
}

impl ColumnDrift {
    /// Returns the result of a method, if it was computed for this column.
    pub fn result(&self, method: StatMethod) -> Option<&StatResult> {
        self.results.iter().find(|result| result.method == method)
    }

    /// Returns the default method's result.
    pub fn default_result(&self) -> &StatResult {
        self.result(self.default_method).expect("column_drift always computes the default method")
    }
}

/// Computes the default method and every other applicable one with default thresholds.
/// PSI and Jensen-Shannon apply to every column, Wasserstein and K-S to numeric columns, and
/// chi-square to categorical ones. The z-test applies when reference ∪ current has at most two
/// categories, and the default method is always computed.
///
/// A categorical column stored as numeric codes is compared as categories labelled with
/// the formatted numbers. A numeric column with categorical distributions is rejected.
pub fn column_drift(
    kind: ColumnKind,
    reference: &Distribution,
    current: &Distribution,
) -> Result<ColumnDrift, StatError> {
    check_pair(reference, current)?;
    let (reference, current) = match (kind, reference, current) {
        (ColumnKind::Categorical, Distribution::Numeric(reference), Distribution::Numeric(current)) => (
            Distribution::Categorical(reference.to_categorical()),
            Distribution::Categorical(current.to_categorical()),
        ),
        (ColumnKind::Numeric, Distribution::Categorical(_), _) => {
            return Err(StatError::NotNumeric { method: "numeric drift" });
        }
        _ => (reference.clone(), current.clone()),
    };

    let default = default_method(kind, &reference, &current);
    let bins = binning(&reference, &current)?;
    let categories = binning::value_binning(&reference, &current)?.len();
    let applicable = |method: StatMethod| -> bool {
        method == default
            || match method {
                StatMethod::Psi | StatMethod::JensenShannon => true,
                StatMethod::Wasserstein | StatMethod::Ks => kind == ColumnKind::Numeric,
                StatMethod::ChiSquare => kind == ColumnKind::Categorical,
                StatMethod::ZTest => kind == ColumnKind::Categorical && categories <= 2,
            }
    };

    let mut results = Vec::new();
    for method in StatMethod::ALL.into_iter().filter(|&method| applicable(method)) {
        results.push(compute(method, &reference, &current, None)?);
    }
    let drift = results.iter().find(|result| result.method == default).is_some_and(|result| result.drift);
    Ok(ColumnDrift { kind, default_method: default, drift, results, binning: bins })
}

/// Checks that both sides are valid, non-empty and of the same kind.
fn check_pair(reference: &Distribution, current: &Distribution) -> Result<(), StatError> {
    reference.validate()?;
    current.validate()?;
    if reference.kind_name() != current.kind_name() {
        return Err(StatError::MismatchedKinds);
    }
    if reference.total() == 0 {
        return Err(StatError::EmptyReference);
    }
    if current.total() == 0 {
        return Err(StatError::EmptyCurrent);
    }
    Ok(())
}

/// Returns the numeric inner distributions, or the error for a method that needs numbers.
fn numeric_pair<'a>(
    reference: &'a Distribution,
    current: &'a Distribution,
    method: &'static str,
) -> Result<(&'a NumericDistribution, &'a NumericDistribution), StatError> {
    check_pair(reference, current)?;
    match (reference, current) {
        (Distribution::Numeric(reference), Distribution::Numeric(current)) => Ok((reference, current)),
        _ => Err(StatError::NotNumeric { method }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(values: &[f64]) -> Distribution {
        Distribution::Numeric(NumericDistribution::from_values(values))
    }

    fn categorical(labels: &[&str]) -> Distribution {
        Distribution::Categorical(CategoricalDistribution::from_labels(labels.iter().copied()))
    }

    #[test]
    fn method_table_matches_variant_order() {
        for (index, method) in StatMethod::ALL.into_iter().enumerate() {
            assert_eq!(METHODS[index].method, method);
            assert_eq!(StatMethod::from_name(method.name()), Some(method));
        }
    }

    #[test]
    fn method_serializes_as_evidently_name() {
        for method in StatMethod::ALL {
            let json = serde_json::to_string(&method).unwrap();
            assert_eq!(json, format!("\"{}\"", method.name()));
        }
    }

    #[test]
    fn drift_rule_boundaries() {
        assert!(DriftRule::DistanceAtLeast.is_drift(0.1, 0.1));
        assert!(DriftRule::PValueAtMost.is_drift(0.05, 0.05));
        assert!(!DriftRule::PValueBelow.is_drift(0.05, 0.05));
    }

    #[test]
    fn compute_empty_current_is_error() {
        let error = compute(StatMethod::Psi, &numeric(&[1.0]), &numeric(&[f64::NAN]), None).unwrap_err();
        assert_eq!(error, StatError::EmptyCurrent);
        assert!(error.to_string().contains("current distribution is empty"));
    }

    #[test]
    fn compute_empty_reference_is_error() {
        let error = compute(StatMethod::Ks, &numeric(&[]), &numeric(&[1.0]), None).unwrap_err();
        assert_eq!(error, StatError::EmptyReference);
    }

    #[test]
    fn compute_mixed_kinds_is_error() {
        let error = compute(StatMethod::Psi, &numeric(&[1.0]), &categorical(&["a"]), None).unwrap_err();
        assert_eq!(error, StatError::MismatchedKinds);
    }

    #[test]
    fn compute_ks_on_categories_is_error() {
        let error = compute(StatMethod::Ks, &categorical(&["a"]), &categorical(&["b"]), None).unwrap_err();
        assert_eq!(error, StatError::NotNumeric { method: "ks" });
    }

    #[test]
    fn compute_z_three_categories_is_error() {
        let error = compute(StatMethod::ZTest, &categorical(&["a", "b"]), &categorical(&["c"]), None).unwrap_err();
        assert_eq!(error, StatError::TooManyCategories { found: 3 });
    }

    #[test]
    fn compute_nan_threshold_is_error() {
        let side = categorical(&["a"]);
        let error = compute(StatMethod::Psi, &side, &side, Some(f64::NAN)).unwrap_err();
        assert!(matches!(error, StatError::InvalidThreshold(_)));
    }

    #[test]
    fn compute_custom_threshold_applies() {
        let reference = categorical(&["a", "a", "b"]);
        let current = categorical(&["a", "b", "b"]);
        let result = compute(StatMethod::JensenShannon, &reference, &current, Some(1e-3)).unwrap();
        assert_eq!(result.threshold, 1e-3);
        assert!(result.drift);
    }

    #[test]
    fn compute_constant_columns_equal() {
        let side = numeric(&[4.0, 4.0, 4.0]);
        for method in [StatMethod::Psi, StatMethod::JensenShannon, StatMethod::Wasserstein, StatMethod::Ks, StatMethod::ChiSquare, StatMethod::ZTest] {
            let result = compute(method, &side, &side, None).unwrap();
            let expected = if method.is_test() { 1.0 } else { 0.0 };
            assert_eq!(result.value, expected, "{method:?}");
            assert!(!result.drift, "{method:?}");
        }
    }

    #[test]
    fn column_drift_categorical_two_values() {
        let reference = categorical(&["x", "y", "y", "y"]);
        let current = categorical(&["x", "x", "y"]);
        let drift = column_drift(ColumnKind::Categorical, &reference, &current).unwrap();
        assert_eq!(drift.default_method, StatMethod::ZTest);
        let methods: Vec<StatMethod> = drift.results.iter().map(|result| result.method).collect();
        assert_eq!(methods, vec![StatMethod::Psi, StatMethod::JensenShannon, StatMethod::ChiSquare, StatMethod::ZTest]);
        assert_eq!(drift.drift, drift.default_result().drift);
    }

    #[test]
    fn column_drift_numeric_codes_as_categories() {
        let reference = numeric(&[0.0, 1.0, 1.0]);
        let current = numeric(&[0.0, 0.0, 1.0]);
        let drift = column_drift(ColumnKind::Categorical, &reference, &current).unwrap();
        assert_eq!(drift.binning.bins, Bins::Categories(vec!["0".into(), "1".into()]));
        assert!(drift.result(StatMethod::Ks).is_none());
    }

    #[test]
    fn column_drift_numeric_with_labels_is_error() {
        let side = categorical(&["a"]);
        let error = column_drift(ColumnKind::Numeric, &side, &side).unwrap_err();
        assert!(matches!(error, StatError::NotNumeric { .. }));
    }

    #[test]
    fn stat_result_round_trips_through_json() {
        let reference = categorical(&["a", "b", "b"]);
        let current = categorical(&["a", "a", "c"]);
        let drift = column_drift(ColumnKind::Categorical, &reference, &current).unwrap();
        let json = serde_json::to_string(&drift).unwrap();
        let parsed: ColumnDrift = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, drift);
    }
}
