//! Pearson's chi-square goodness-of-fit test of the current counts against the reference
//! shares, as Evidently 0.7.23 runs `scipy.stats.chisquare`: one category per distinct value
//! of reference ∪ current, expected count = reference count · n_cur / n_ref,
//! χ² = Σ (observed - expected)² / expected, k - 1 degrees of freedom.

use statrs::function::gamma::checked_gamma_ur;

use super::binning::value_binning;
use super::{Distribution, Measurement, StatError};

/// Computes Q(a, x), the upper regularized incomplete gamma function, for a > 0 and x ≥ 0.
/// statrs panics at x = 0, which identical distributions produce; Q(a, 0) = 1 by definition.
pub(super) fn upper_regularized_gamma(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    checked_gamma_ur(a, x).unwrap_or(0.0)
}

/// Returns (χ², degrees of freedom, p-value) for per-category counts of equal length.
///
/// Edge cases, each with a defined result:
/// - a category only the current side has gets an expected count of 0, where scipy returns
///   χ² = inf and p = 0, so this returns χ² = inf and p = 0;
/// - a category only the reference side has adds its expected count to χ²;
/// - a single category (0 degrees of freedom) has no test, where scipy returns p = NaN, so
///   this returns χ² = 0 and p = 1 (both sides are all one value, which is no drift, and
///   Evidently flags no drift for the NaN either).
pub fn chi_square(reference_counts: &[u64], current_counts: &[u64]) -> (f64, u32, f64) {
    let reference_total: u64 = reference_counts.iter().sum();
    let current_total: u64 = current_counts.iter().sum();
    let scale = current_total as f64 / reference_total as f64;
    let degrees_of_freedom = reference_counts.len().saturating_sub(1) as u32;
    if degrees_of_freedom == 0 {
        return (0.0, 0, 1.0);
    }

    let mut statistic = 0.0;
    for (&reference, &current) in reference_counts.iter().zip(current_counts) {
        let expected = reference as f64 * scale;
        if expected == 0.0 {
            // Only the current side has this category.
            return (f64::INFINITY, degrees_of_freedom, 0.0);
        }
        let deviation = current as f64 - expected;
        statistic += deviation * deviation / expected;
    }
    let p_value = upper_regularized_gamma(degrees_of_freedom as f64 / 2.0, statistic / 2.0);
    (statistic, degrees_of_freedom, p_value)
}

/// Measures chi-square, whose value is the p-value. An infinite χ² (a category new in current)
/// is reported as no statistic, because JSON has no infinity.
pub(super) fn measure(reference: &Distribution, current: &Distribution) -> Result<Measurement, StatError> {
    super::check_pair(reference, current)?;
    let bins = value_binning(reference, current)?;
    let (statistic, degrees_of_freedom, p_value) = chi_square(&bins.reference_counts, &bins.current_counts);
    let statistic = statistic.is_finite().then_some(statistic);
    Ok(Measurement { value: p_value, statistic, p_value: Some(p_value), degrees_of_freedom: Some(degrees_of_freedom) })
}

#[cfg(test)]
mod tests {
    #[test]
    fn chi_square_identical_counts_is_no_drift() {
        // scipy.stats.chisquare([2, 2], [2, 2]) gives statistic 0.0, pvalue 1.0.
        let (statistic, degrees_of_freedom, p_value) = super::chi_square(&[2, 2], &[2, 2]);
        assert_eq!(statistic, 0.0);
        assert_eq!(degrees_of_freedom, 1);
        assert_eq!(p_value, 1.0);
    }

    use super::*;

    /// (reference counts, current counts, χ², p-value) from scipy 1.17.1
    /// `scipy.stats.chisquare(current, reference * current.sum() / reference.sum())`.
    const CHISQUARE_CASES: &[(&[u64], &[u64], f64, f64)] = &[
    (&[10, 20, 30], &[12, 18, 33], 0.7142857142857142, 0.6996725373751304),
    (&[5, 1, 1, 100], &[3, 0, 2, 140], 3.9144827586206907, 0.27084774584381294),
    (&[1000, 2000], &[1100, 1900], 15.0, 0.00010751117672950066),
    (&[50, 50, 50, 50, 50], &[90, 20, 60, 40, 50], 51.53846153846155, 1.7226663311092004e-10),
    (&[1, 1], &[400, 1], 397.00997506234415, 2.4650828947748113e-88),
    ];

    #[test]
    fn chi_square_matches_scipy() {
        for &(reference, current, statistic, p_value) in CHISQUARE_CASES {
            let (value, degrees_of_freedom, p) = chi_square(reference, current);
            assert_eq!(degrees_of_freedom as usize, reference.len() - 1);
            assert!((value - statistic).abs() <= 1e-12 * statistic, "{reference:?} {current:?}: {value} != {statistic}");
            let tolerance = (1e-9 * p_value).max(1e-15);
            assert!((p - p_value).abs() <= tolerance, "{reference:?} {current:?}: {p} != {p_value}");
        }
    }

    #[test]
    fn chi_square_new_category_is_p_zero() {
        let (statistic, degrees_of_freedom, p_value) = chi_square(&[5, 5, 0], &[4, 4, 2]);
        assert_eq!(statistic, f64::INFINITY);
        assert_eq!(degrees_of_freedom, 2);
        assert_eq!(p_value, 0.0);
    }

    #[test]
    fn chi_square_vanished_category() {
        // Evidently 0.7.23 chi_stat_test(reference [a]*5 + [b]*5 + [c]*3, current [a]*4 + [b]*4)
        let (_, degrees_of_freedom, p_value) = chi_square(&[5, 5, 3], &[4, 4, 0]);
        assert_eq!(degrees_of_freedom, 2);
        assert!((p_value - 0.3011942119122021).abs() <= 1e-15, "{p_value}");
    }

    #[test]
    fn chi_square_single_category_is_p_one() {
        assert_eq!(chi_square(&[7], &[3]), (0.0, 0, 1.0));
    }
}
