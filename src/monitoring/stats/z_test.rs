//! Two-proportion z-test for a column with two categories, as Evidently 0.7.23's `z` test:
//! z = (p_cur - p_ref) / sqrt(P (1 - P) (1/n_ref + 1/n_cur)) for the share of the first
//! category in sorted order, P the pooled share, and the two-sided p-value 2 · (1 - Φ(|z|)).

use super::chi_square::upper_regularized_gamma;

use super::binning::value_binning;
use super::{Distribution, Measurement, StatError};

/// Returns (z, p-value) for counts of the first category and the side totals.
/// When the pooled share is 0 or 1 (one category on both sides) the shares are equal and
/// there is no variance, so this returns z = 0 and p = 1, as Evidently does.
pub fn z_test(reference_hits: u64, reference_total: u64, current_hits: u64, current_total: u64) -> (f64, f64) {
    let n_ref = reference_total as f64;
    let n_cur = current_total as f64;
    let pooled = (reference_hits + current_hits) as f64 / (n_ref + n_cur);
    if pooled <= 0.0 || pooled >= 1.0 {
        return (0.0, 1.0);
    }
    let reference_share = reference_hits as f64 / n_ref;
    let current_share = current_hits as f64 / n_cur;
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n_ref + 1.0 / n_cur)).sqrt();
    let z = (current_share - reference_share) / standard_error;
    // 2 · (1 - Φ(|z|)) = erfc(|z| / √2) = Q(1/2, z² / 2), which keeps its precision for
    // large |z|. statrs's erfc is about 4e-11 off near |z| = 2, its gamma_ur is not.
    let p_value = upper_regularized_gamma(0.5, z * z / 2.0);
    (z, p_value)
}

/// Measures the z-test, whose value is the p-value. Columns with more than two categories in
/// reference ∪ current are rejected, because the test compares one share.
pub(super) fn measure(reference: &Distribution, current: &Distribution) -> Result<Measurement, StatError> {
    super::check_pair(reference, current)?;
    let bins = value_binning(reference, current)?;
    if bins.len() > 2 {
        return Err(StatError::TooManyCategories { found: bins.len() });
    }
    let (z, p_value) = z_test(
        bins.reference_counts[0],
        reference.total(),
        bins.current_counts[0],
        current.total(),
    );
    Ok(Measurement::test(p_value, z, None))
}

#[cfg(test)]
mod tests {
    #[test]
    fn z_test_equal_shares_is_no_drift() {
        // Equal shares give z = 0 and p = 2 · (1 - Φ(0)) = 1.
        let (z, p_value) = super::z_test(2, 4, 1, 2);
        assert_eq!(z, 0.0);
        assert_eq!(p_value, 1.0);
    }

    use super::*;

    #[test]
    fn z_test_single_category_is_p_one() {
        assert_eq!(z_test(10, 10, 4, 4), (0.0, 1.0));
    }

    #[test]
    fn z_test_matches_scipy_formula() {
        // Evidently 0.7.23 z_stat_test on reference [a]*30 + [b]*70, current [a]*45 + [b]*55
        // gives p = 0.02845973691631065; z = 0.15 / sqrt(0.375 · 0.625 · 0.02) in Python.
        let (z, p_value) = z_test(30, 100, 45, 100);
        assert!((z - 2.1908902300206647).abs() <= 1e-14, "{z}");
        assert!((p_value - 0.02845973691631065).abs() <= 1e-14, "{p_value}");
    }

    #[test]
    fn z_test_disjoint_categories() {
        // Evidently 0.7.23 z_stat_test(reference [a]*10, current [b]*4) == 0.00018281063298175582
        let (_, p_value) = z_test(10, 10, 0, 4);
        assert!((p_value - 0.00018281063298175582).abs() <= 1e-16, "{p_value}");
    }
}
