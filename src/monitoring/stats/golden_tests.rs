//! Every golden value of the US Census (Massachusetts) 2015 vs 2018 comparison, recomputed
//! from exact value counts.
//!
//! The golden file contains Evidently 0.7.23 and scipy 1.17.1 results. The counts fixture was
//! made once with pandas 2.3.3 from us_census_ma_employment.parquet: `value_counts()` of every
//! golden column for rows with `year == 2015` (reference) and `year == 2018` (current), numeric
//! columns as float64 values with non-finite values dropped, categorical columns as strings.

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;

const GOLDEN: &str =
    include_str!("../../../tests/fixtures/golden/golden_us_census_ma_employment_2015_vs_2018.json");
const COUNTS: &str = include_str!("../../../tests/fixtures/census_2015_2018_counts.json");

/// Relative tolerance for distances and test statistics.
const DISTANCE_TOLERANCE: f64 = 1e-9;
/// Relative and absolute tolerance for p-values; the looser one applies.
const P_VALUE_RELATIVE_TOLERANCE: f64 = 1e-6;
const P_VALUE_ABSOLUTE_TOLERANCE: f64 = 1e-12;
/// The golden shares are rounded to 10 decimals.
const SHARE_TOLERANCE: f64 = 5.1e-11;

struct Column {
    name: String,
    kind: ColumnKind,
    reference: Distribution,
    current: Distribution,
    golden: Value,
}

fn columns() -> Vec<Column> {
    let golden: Value = serde_json::from_str(GOLDEN).expect("golden file is JSON");
    let counts: Value = serde_json::from_str(COUNTS).expect("counts fixture is JSON");
    let mut columns = Vec::new();
    for (kind, list) in [(ColumnKind::Numeric, "numerical"), (ColumnKind::Categorical, "categorical")] {
        for name in golden["meta"][list].as_array().unwrap() {
            let name = name.as_str().unwrap().to_string();
            let side = |side: &str| match kind {
                ColumnKind::Numeric => numeric_side(&counts["numeric"][&name][side]),
                ColumnKind::Categorical => categorical_side(&counts["categorical"][&name][side]),
            };
            columns.push(Column {
                reference: side("reference"),
                current: side("current"),
                golden: golden["columns"][&name].clone(),
                name,
                kind,
            });
        }
    }
    assert_eq!(columns.len(), 19);
    columns
}

fn numeric_side(side: &Value) -> Distribution {
    // The fixture writes values as strings because serde_json's default float parsing may be
    // one ulp off, and str::parse rounds correctly.
    let values = side["values"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().parse().unwrap()).collect();
    let counts = side["counts"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
    Distribution::Numeric(NumericDistribution::from_counts(values, counts).unwrap())
}

fn categorical_side(side: &Value) -> Distribution {
    let counts: BTreeMap<String, u64> = side
        .as_object()
        .unwrap()
        .iter()
        .map(|(label, count)| (label.clone(), count.as_u64().unwrap()))
        .collect();
    Distribution::Categorical(CategoricalDistribution { counts })
}

fn assert_distance(actual: f64, expected: &Value, label: &str) {
    let expected = expected.as_f64().unwrap_or_else(|| panic!("{label}: golden value missing"));
    let tolerance = DISTANCE_TOLERANCE * expected.abs();
    assert!((actual - expected).abs() <= tolerance, "{label}: {actual} != {expected}");
}

fn assert_p_value(actual: f64, expected: &Value, label: &str) {
    let expected = expected.as_f64().unwrap_or_else(|| panic!("{label}: golden value missing"));
    let tolerance = (P_VALUE_RELATIVE_TOLERANCE * expected.abs()).max(P_VALUE_ABSOLUTE_TOLERANCE);
    assert!((actual - expected).abs() <= tolerance, "{label}: {actual} != {expected}");
}

fn drift_of(column: &Column) -> ColumnDrift {
    column_drift(column.kind, &column.reference, &column.current)
        .unwrap_or_else(|error| panic!("{}: {error}", column.name))
}

#[test]
fn golden_row_counts() {
    let golden: Value = serde_json::from_str(GOLDEN).unwrap();
    for column in columns() {
        assert_eq!(column.reference.total(), golden["meta"]["n_ref_rows"].as_u64().unwrap(), "{}", column.name);
        assert_eq!(column.current.total(), golden["meta"]["n_cur_rows"].as_u64().unwrap(), "{}", column.name);
        assert_eq!(column.reference.distinct_count() as u64, column.golden["n_unique_ref"].as_u64().unwrap(), "{}", column.name);
    }
}

#[test]
fn golden_default_method_and_drift() {
    for column in columns() {
        let drift = drift_of(&column);
        let golden = &column.golden["default"];
        let name = &column.name;
        assert_eq!(drift.default_method.name(), golden["stat_expected_by_rule"].as_str().unwrap(), "{name}");
        assert_eq!(drift.default_method.display_name(), golden["stat_evidently"].as_str().unwrap(), "{name}");
        let result = drift.default_result();
        assert_eq!(result.threshold, golden["threshold"].as_f64().unwrap(), "{name}");
        assert_distance(result.value, &golden["scipy_value"], &format!("{name} default value"));
        assert_distance(result.value, &golden["evidently_value"], &format!("{name} default value vs Evidently"));
        assert_eq!(result.drift, golden["scipy_drift"].as_bool().unwrap(), "{name}");
        assert_eq!(result.drift, golden["evidently_drift"].as_bool().unwrap(), "{name}");
    }
}

#[test]
fn golden_every_statistic() {
    for column in columns() {
        let drift = drift_of(&column);
        let stats = column.golden["stats"].as_object().unwrap();
        let computed: Vec<&str> = drift.results.iter().map(|result| result.method.name()).collect();
        let golden_methods: Vec<&str> = stats.keys().map(String::as_str).collect();
        for method in &golden_methods {
            assert!(computed.contains(method), "{}: {method} not computed", column.name);
        }

        for (method_name, golden) in stats {
            let label = format!("{} {method_name}", column.name);
            let method = StatMethod::from_name(method_name).unwrap();
            let result = drift.result(method).unwrap();
            assert_eq!(result.threshold, golden["threshold"].as_f64().unwrap(), "{label}");
            assert_eq!(result.drift, golden["drift"].as_bool().unwrap(), "{label} drift");
            assert_eq!(result.drift, golden["evidently_drift"].as_bool().unwrap(), "{label} Evidently drift");
            if method.is_test() {
                assert_p_value(result.value, &golden["p_value"], &label);
                assert_p_value(result.value, &golden["evidently"], &format!("{label} vs Evidently"));
                assert_distance(result.statistic.unwrap(), &golden["statistic"], &format!("{label} statistic"));
            } else {
                assert_distance(result.value, &golden["value"], &label);
                assert_distance(result.value, &golden["evidently"], &format!("{label} vs Evidently"));
            }
            if method == StatMethod::ChiSquare {
                assert_eq!(result.degrees_of_freedom.map(u64::from), golden["dof"].as_u64(), "{label} dof");
            }
            if method == StatMethod::Wasserstein {
                assert_distance(result.statistic.unwrap(), &golden["raw_distance"], &format!("{label} raw"));
                let Distribution::Numeric(reference) = &column.reference else { unreachable!() };
                assert_distance(reference.std_dev(), &golden["norm_std_ref_ddof0"], &format!("{label} std"));
            }
        }
    }
}

#[test]
fn golden_binning_edges_and_shares() {
    for column in columns() {
        let drift = drift_of(&column);
        let golden = &column.golden["stats"]["psi"]["binning"];
        let name = &column.name;
        assert_eq!(drift.binning.len() as u64, golden["n_bins"].as_u64().unwrap(), "{name}");
        match &drift.binning.bins {
            Bins::Edges(edges) => {
                let expected = golden["edges"].as_array().unwrap();
                assert_eq!(edges.len(), expected.len(), "{name} edges");
                for (index, (edge, expected)) in edges.iter().zip(expected).enumerate() {
                    // serde_json's default parsing of the golden number may be one ulp off.
                    let expected = expected.as_f64().unwrap();
                    let one_ulp = f64::EPSILON * expected.abs();
                    assert!((edge - expected).abs() <= one_ulp, "{name} edges[{index}]: {edge} != {expected}");
                }
            }
            Bins::Categories(labels) => {
                let expected: Vec<&str> = golden["categories"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
                assert_eq!(labels, &expected, "{name} categories");
            }
            Bins::Values(values) => panic!("{name}: unexpected per-value bins {values:?}"),
        }
        let sides = [
            (zero_filled(&drift.binning.reference_shares), "ref_share"),
            (zero_filled(&drift.binning.current_shares), "cur_share"),
        ];
        for (shares, key) in sides {
            let expected = golden[key].as_array().unwrap();
            assert_eq!(shares.len(), expected.len(), "{name} {key}");
            for (index, (share, expected)) in shares.iter().zip(expected).enumerate() {
                let expected = expected.as_f64().unwrap();
                assert!((share - expected).abs() <= SHARE_TOLERANCE, "{name} {key}[{index}]: {share} != {expected}");
            }
        }
    }
}

#[test]
fn golden_dataset_drift_share() {
    let golden: Value = serde_json::from_str(GOLDEN).unwrap();
    let drifted = columns().iter().filter(|column| drift_of(column).drift).count();
    assert_eq!(drifted as f64, golden["evidently_dataset_drift"]["drifted_columns"]["count"].as_f64().unwrap());
}
