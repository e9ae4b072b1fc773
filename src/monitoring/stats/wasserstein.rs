//! First Wasserstein distance of two 1-D samples, W1 = ∫ |F_ref(x) - F_cur(x)| dx
//! (`scipy.stats.wasserstein_distance`), and Evidently's version divided by the reference's
//! population standard deviation.

use super::{Distribution, Measurement, NumericDistribution, StatError};

/// Smallest divisor of the normed distance: Evidently 0.7.23 divides by
/// max(std(reference), 0.001), so a constant reference does not divide by zero.
pub const MIN_NORM: f64 = 0.001;

/// Returns W1 between two non-empty distributions, in the column's units.
pub fn wasserstein_distance(reference: &NumericDistribution, current: &NumericDistribution) -> f64 {
    let reference_total = reference.total() as f64;
    let current_total = current.total() as f64;
    let union = reference.merge(current);

    // Between consecutive distinct values both empirical CDFs are constant.
    let (mut i, mut j) = (0, 0);
    let (mut reference_below, mut current_below) = (0u64, 0u64);
    let mut distance = 0.0;
    for pair in union.values.windows(2) {
        let value = pair[0];
        if i < reference.values.len() && reference.values[i] == value {
            reference_below += reference.counts[i];
            i += 1;
        }
        if j < current.values.len() && current.values[j] == value {
            current_below += current.counts[j];
            j += 1;
        }
        let cdf_gap = reference_below as f64 / reference_total - current_below as f64 / current_total;
        distance += cdf_gap.abs() * (pair[1] - pair[0]);
    }
    distance
}

/// Returns W1 divided by max(population std of the reference, [`MIN_NORM`]).
pub fn wasserstein_distance_normed(reference: &NumericDistribution, current: &NumericDistribution) -> f64 {
    wasserstein_distance(reference, current) / reference.std_dev().max(MIN_NORM)
}

/// Measures the normed distance as the value, with the raw W1 in the column's units as the
/// statistic.
pub(super) fn measure(reference: &Distribution, current: &Distribution) -> Result<Measurement, StatError> {
    let (reference, current) = super::numeric_pair(reference, current, "wasserstein")?;
    let raw = wasserstein_distance(reference, current);
    let value = raw / reference.std_dev().max(MIN_NORM);
    Ok(Measurement { value, statistic: Some(raw), p_value: None, degrees_of_freedom: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(values: &[f64]) -> NumericDistribution {
        NumericDistribution::from_values(values)
    }

    #[test]
    fn wasserstein_shifted_sample() {
        // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0
        assert_eq!(wasserstein_distance(&numeric(&[0.0, 1.0, 3.0]), &numeric(&[5.0, 6.0, 8.0])), 5.0);
    }

    #[test]
    fn wasserstein_unequal_sizes() {
        // scipy.stats.wasserstein_distance([0, 1], [0, 0, 2]) == 0.5
        let value = wasserstein_distance(&numeric(&[0.0, 1.0]), &numeric(&[0.0, 0.0, 2.0]));
        assert_eq!(value, 0.5);
    }

    #[test]
    fn wasserstein_constant_reference_uses_min_norm() {
        // Evidently 0.7.23 wasserstein_stat_test([1.0, 1.0], [3.0]) == 2000.0: std 0, so 2.0 / 0.001.
        let value = wasserstein_distance_normed(&numeric(&[1.0, 1.0]), &numeric(&[3.0]));
        assert_eq!(value, 2.0 / MIN_NORM);
    }
}
