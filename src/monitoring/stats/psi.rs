//! Population Stability Index, PSI = Σ (r_i - c_i) · ln(r_i / c_i) over the bins of
//! [`super::binning`], with Evidently 0.7.23's replacement of empty shares.

use super::{binning, Distribution, Measurement, StatError};

/// Share that replaces an empty bin's share of 0 (Evidently's fill value).
pub const EMPTY_SHARE: f64 = 1e-4;

/// Ratio of the smallest non-empty share to the fill value used when that share is itself
/// at most [`EMPTY_SHARE`], so that empty bins stay far below every occupied one.
pub const SMALL_SHARE_DIVISOR: f64 = 1e6;

/// Replaces the zero shares of one side as Evidently does before PSI: with 1e-4, or with
/// (smallest non-zero share) / 1e6 when that smallest share is at most 1e-4. A side with
/// no non-zero share is returned unchanged, because a non-empty side always has one.
pub fn zero_filled(shares: &[f64]) -> Vec<f64> {
    let smallest = shares.iter().copied().filter(|&share| share != 0.0).reduce(f64::min);
    let fill = match smallest {
        Some(smallest) if smallest <= EMPTY_SHARE => smallest / SMALL_SHARE_DIVISOR,
        Some(_) => EMPTY_SHARE,
        None => return shares.to_vec(),
    };
    shares.iter().map(|&share| if share == 0.0 { fill } else { share }).collect()
}

/// Returns PSI for two share vectors of equal length, filling empty shares first.
pub fn psi(reference_shares: &[f64], current_shares: &[f64]) -> f64 {
    let reference = zero_filled(reference_shares);
    let current = zero_filled(current_shares);
    reference
        .iter()
        .zip(&current)
        .map(|(&r, &c)| (r - c) * (r / c).ln())
        .sum()
}

pub(super) fn measure(reference: &Distribution, current: &Distribution) -> Result<Measurement, StatError> {
    let bins = binning(reference, current)?;
    let value = psi(&bins.reference_shares, &bins.current_shares);
    Ok(Measurement::distance(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::stats::CategoricalDistribution;

    fn categorical(labels: &[&str]) -> Distribution {
        Distribution::Categorical(CategoricalDistribution::from_labels(labels.iter().copied()))
    }

    #[test]
    fn zero_filled_uses_fixed_share() {
        assert_eq!(zero_filled(&[0.5, 0.0, 0.5]), vec![0.5, 1e-4, 0.5]);
    }

    #[test]
    fn zero_filled_scales_tiny_shares() {
        assert_eq!(zero_filled(&[0.99995, 0.00005, 0.0]), vec![0.99995, 0.00005, 0.00005 / 1e6]);
    }

    #[test]
    fn psi_identical_distributions_is_zero() {
        let side = categorical(&["a", "b", "b"]);
        assert_eq!(measure(&side, &side).unwrap().value, 0.0);
    }

    #[test]
    fn psi_empty_current_bin() {
        // Evidently 0.7.23 psi_stat_test(reference [a, a, b, c], current [a, b, b, b])
        let reference = categorical(&["a", "a", "b", "c"]);
        let current = categorical(&["a", "b", "b", "b"]);
        let value = measure(&reference, &current).unwrap().value;
        assert!((value - 2.6778220375870285).abs() <= 1e-15, "{value}");
    }

    #[test]
    fn psi_tiny_share_fill() {
        // Evidently 0.7.23 psi_stat_test(reference [a]*19999 + [b], current [a]*10 + [c]*3):
        // the reference's empty bin c gets 5e-5 / 1e6 because its smallest share is <= 1e-4.
        let mut labels = vec!["a"; 19999];
        labels.push("b");
        let reference = categorical(&labels);
        let mut labels = vec!["a"; 10];
        labels.extend(["c"; 3]);
        let current = categorical(&labels);
        let value = measure(&reference, &current).unwrap().value;
        assert!((value - 5.195785072438871).abs() <= 1e-14, "{value}");
    }
}
