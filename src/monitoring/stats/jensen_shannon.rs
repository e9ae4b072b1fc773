//! Jensen-Shannon distance with natural logarithms, as `scipy.spatial.distance.jensenshannon`:
//! sqrt((KL(p‖m) + KL(q‖m)) / 2) with m = (p + q) / 2, over the bins of [`super::binning`].

use super::{binning, Distribution, Measurement, StatError};

/// Returns the Jensen-Shannon distance of two non-negative weight vectors of equal length.
/// Each vector is normalized to sum 1 first, as scipy does, and a bin empty on one side
/// contributes only through the other side's term. A vector summing to 0 yields NaN.
pub fn jensen_shannon_distance(p: &[f64], q: &[f64]) -> f64 {
    let p_total: f64 = p.iter().sum();
    let q_total: f64 = q.iter().sum();
    let mut divergence = 0.0;
    for (&p_weight, &q_weight) in p.iter().zip(q) {
        let p_share = p_weight / p_total;
        let q_share = q_weight / q_total;
        let mixture = (p_share + q_share) / 2.0;
        divergence += relative_entropy(p_share, mixture) + relative_entropy(q_share, mixture);
    }
    // Rounding can push a divergence of exactly 0 slightly below it, and sqrt would give NaN.
    (divergence / 2.0).max(0.0).sqrt()
}

/// Returns x · ln(x / y), taken as 0 for x = 0 (scipy.special.rel_entr). Here y >= x / 2 > 0
/// whenever x > 0, so the infinite case of rel_entr cannot occur.
fn relative_entropy(x: f64, y: f64) -> f64 {
    if x > 0.0 {
        x * (x / y).ln()
    } else {
        0.0
    }
}

pub(super) fn measure(reference: &Distribution, current: &Distribution) -> Result<Measurement, StatError> {
    let bins = binning(reference, current)?;
    let value = jensen_shannon_distance(&bins.reference_shares, &bins.current_shares);
    Ok(Measurement::distance(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jensen_shannon_identical_is_zero() {
        assert_eq!(jensen_shannon_distance(&[0.25, 0.75], &[0.25, 0.75]), 0.0);
    }

    #[test]
    fn jensen_shannon_disjoint_is_sqrt_ln2() {
        // scipy.spatial.distance.jensenshannon([1, 0], [0, 1]) == sqrt(ln 2)
        let value = jensen_shannon_distance(&[1.0, 0.0], &[0.0, 1.0]);
        assert!((value - 2f64.ln().sqrt()).abs() < 1e-15, "{value}");
    }

    #[test]
    fn jensen_shannon_empty_current_bin() {
        // scipy.spatial.distance.jensenshannon([0.5, 0.25, 0.25], [0.25, 0.75, 0.0])
        let value = jensen_shannon_distance(&[0.5, 0.25, 0.25], &[0.25, 0.75, 0.0]);
        assert!((value - 0.41627730557884884).abs() <= 1e-15, "{value}");
    }
}
