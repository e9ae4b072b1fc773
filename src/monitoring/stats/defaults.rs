//! Evidently 0.7.23's choice of drift method for a column when none is configured.
//!
//! Evidently counts distinct values over reference ∪ current here (checked by calling its
//! `_get_default_stattest`), not over the reference alone as its docstrings state.

use crate::monitoring::schema::ColumnKind;

use super::{Distribution, StatMethod};

/// Largest reference size, in observations, that gets a statistical test instead of a
/// distance.
pub const SMALL_REFERENCE_MAX_ROWS: u64 = 1000;

/// Largest number of distinct values for which a numeric column is treated like a
/// categorical one.
pub const FEW_VALUES_MAX: usize = 5;

/// Returns the method Evidently picks for a column:
/// - reference of at most 1000 observations: K-S for a numeric column with more than 5
///   distinct values, otherwise chi-square for 3 or more distinct values and the z-test for
///   1 or 2;
/// - larger reference: the normed Wasserstein distance for a numeric column with more than
///   5 distinct values, otherwise Jensen-Shannon.
///
/// Distinct values are counted over reference ∪ current, and missing values are not counted.
pub fn default_method(kind: ColumnKind, reference: &Distribution, current: &Distribution) -> StatMethod {
    let distinct = union_distinct_count(reference, current);
    let many_numeric_values = kind == ColumnKind::Numeric && distinct > FEW_VALUES_MAX;
    if reference.total() <= SMALL_REFERENCE_MAX_ROWS {
        if many_numeric_values {
            StatMethod::Ks
        } else if distinct > 2 {
            StatMethod::ChiSquare
        } else {
            StatMethod::ZTest
        }
    } else if many_numeric_values {
        StatMethod::Wasserstein
    } else {
        StatMethod::JensenShannon
    }
}

fn union_distinct_count(reference: &Distribution, current: &Distribution) -> usize {
    match reference.merge(current) {
        Ok(union) => union.distinct_count(),
        // Mixed kinds cannot be compared at all, and computing the method reports that error.
        Err(_) => reference.distinct_count().max(current.distinct_count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::stats::{CategoricalDistribution, NumericDistribution};

    fn numeric(values: &[f64], repeat: usize) -> Distribution {
        let values: Vec<f64> = values.iter().copied().cycle().take(values.len() * repeat).collect();
        Distribution::Numeric(NumericDistribution::from_values(&values))
    }

    fn categorical(labels: &[&str], repeat: usize) -> Distribution {
        let labels = labels.iter().copied().cycle().take(labels.len() * repeat);
        Distribution::Categorical(CategoricalDistribution::from_labels(labels))
    }

    // Expected methods from Evidently 0.7.23
    // `registry._get_default_stattest(pd.Series(reference), pd.Series(current), column_type).name`.

    #[test]
    fn default_small_numeric_many_values_is_ks() {
        let method = default_method(ColumnKind::Numeric, &numeric(&[1., 2., 3., 4., 5.], 10), &numeric(&[1., 2., 3., 4., 5., 6.], 10));
        assert_eq!(method, StatMethod::Ks);
    }

    #[test]
    fn default_small_numeric_three_values_is_chisquare() {
        let method = default_method(ColumnKind::Numeric, &numeric(&[1., 2.], 10), &numeric(&[1., 2., 3.], 10));
        assert_eq!(method, StatMethod::ChiSquare);
    }

    #[test]
    fn default_small_numeric_one_value_is_z() {
        let method = default_method(ColumnKind::Numeric, &numeric(&[1.], 10), &numeric(&[1.], 10));
        assert_eq!(method, StatMethod::ZTest);
    }

    #[test]
    fn default_small_categorical_two_values_is_z() {
        let method = default_method(ColumnKind::Categorical, &categorical(&["a", "b"], 10), &categorical(&["a"], 10));
        assert_eq!(method, StatMethod::ZTest);
    }

    #[test]
    fn default_small_categorical_three_values_is_chisquare() {
        let method = default_method(ColumnKind::Categorical, &categorical(&["a", "b"], 10), &categorical(&["a", "b", "c"], 10));
        assert_eq!(method, StatMethod::ChiSquare);
    }

    #[test]
    fn default_large_numeric_six_values_is_wasserstein() {
        let method = default_method(ColumnKind::Numeric, &numeric(&[1., 2., 3., 4., 5.], 300), &numeric(&[1., 2., 3., 4., 5., 6.], 10));
        assert_eq!(method, StatMethod::Wasserstein);
    }

    #[test]
    fn default_large_numeric_five_values_is_jensenshannon() {
        let method = default_method(ColumnKind::Numeric, &numeric(&[1., 2., 3., 4., 5.], 300), &numeric(&[1.], 10));
        assert_eq!(method, StatMethod::JensenShannon);
    }

    #[test]
    fn default_large_categorical_is_jensenshannon() {
        let method = default_method(ColumnKind::Categorical, &categorical(&["a", "b"], 600), &categorical(&["a"], 10));
        assert_eq!(method, StatMethod::JensenShannon);
    }

    #[test]
    fn default_reference_size_boundary() {
        let thousand: Vec<f64> = (0..1000).map(f64::from).collect();
        let thousand_one: Vec<f64> = (0..1001).map(f64::from).collect();
        let current = numeric(&[1.0], 10);
        assert_eq!(default_method(ColumnKind::Numeric, &numeric(&thousand, 1), &current), StatMethod::Ks);
        assert_eq!(default_method(ColumnKind::Numeric, &numeric(&thousand_one, 1), &current), StatMethod::Wasserstein);
    }
}
