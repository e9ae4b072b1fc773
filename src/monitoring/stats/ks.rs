//! Two-sample Kolmogorov-Smirnov test, two-sided, as `scipy.stats.ks_2samp(method="auto")`
//! in scipy 1.17: D = max |F_ref(x) - F_cur(x)|, with the exact null distribution when both
//! samples have at most 10 000 observations and `kstwo.sf(D, round(m·n / (m + n)))` otherwise.

use serde::{Deserialize, Serialize};

use super::kolmogorov::kolmogorov_sf;
use super::{Distribution, Measurement, NumericDistribution, StatError};

/// Largest sample size for which the exact p-value is computed (scipy's `MAX_AUTO_N`).
pub const MAX_EXACT_SIZE: u64 = 10_000;

/// Method that produced the p-value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMode {
    Exact,
    Asymptotic,
}

/// Statistic D, its p-value and how the p-value was computed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KsOutcome {
    pub statistic: f64,
    pub p_value: f64,
    pub mode: KsMode,
}

/// Returns D = max over x of |F_ref(x) - F_cur(x)| for two non-empty distributions.
pub fn ks_statistic(reference: &NumericDistribution, current: &NumericDistribution) -> f64 {
    let reference_total = reference.total() as f64;
    let current_total = current.total() as f64;
    let (mut i, mut j) = (0, 0);
    let (mut reference_below, mut current_below) = (0u64, 0u64);
    let mut statistic = 0.0f64;
    while i < reference.values.len() || j < current.values.len() {
        let value = match (reference.values.get(i), current.values.get(j)) {
            (Some(&left), Some(&right)) => left.min(right),
            (Some(&left), None) => left,
            (None, Some(&right)) => right,
            (None, None) => unreachable!("loop condition"),
        };
        if reference.values.get(i) == Some(&value) {
            reference_below += reference.counts[i];
            i += 1;
        }
        if current.values.get(j) == Some(&value) {
            current_below += current.counts[j];
            j += 1;
        }
        let gap = reference_below as f64 / reference_total - current_below as f64 / current_total;
        statistic = statistic.max(gap.abs());
    }
    statistic
}

/// Runs the two-sided test on two non-empty distributions.
pub fn ks_2samp(reference: &NumericDistribution, current: &NumericDistribution) -> KsOutcome {
    let statistic = ks_statistic(reference, current);
    let m = reference.total();
    let n = current.total();
    if m.max(n) <= MAX_EXACT_SIZE {
        return exact_outcome(m, n, statistic);
    }
    let m_f = m as f64;
    let n_f = n as f64;
    // scipy rounds the effective size with numpy.round, which rounds halves to even.
    let effective_size = (m_f * n_f / (m_f + n_f)).round_ties_even() as u64;
    KsOutcome {
        statistic,
        p_value: kolmogorov_sf(effective_size.max(1), statistic),
        mode: KsMode::Asymptotic,
    }
}

/// Exact p-value P(D >= d). D only takes values h / lcm(m, n) for integer h, so d is snapped
/// to the nearest such value first, and that snapped value is returned as the statistic,
/// as scipy does.
fn exact_outcome(m: u64, n: u64, statistic: f64) -> KsOutcome {
    let divisor = gcd(m, n);
    let lcm = (m / divisor) * n;
    let h = (statistic * lcm as f64).round_ties_even() as u64;
    let statistic = h as f64 / lcm as f64;
    let p_value = if h == 0 { 1.0 } else { probability_outside(m, n, h).clamp(0.0, 1.0) };
    KsOutcome { statistic, p_value, mode: KsMode::Exact }
}

/// Computes the probability that a uniformly random monotone lattice path from (0, 0) to (m, n) leaves the
/// points with |i/m - j/n| < h / lcm(m, n), that is |i·(n/g) - j·(m/g)| < h with g = gcd(m, n).
/// Under the null hypothesis every ordering of the pooled sample is equally likely, so this is
/// P(D >= h / lcm). The recursion carries probabilities instead of path counts, stepping from
/// (i, j) to (i + 1, j) with probability (m - i) / (m + n - i - j), so nothing overflows. The
/// mass of each step out of the band is added up directly, because 1 - P(inside) loses every
/// digit below about 1e-16, where strongly drifted columns have their p-values.
fn probability_outside(m: u64, n: u64, h: u64) -> f64 {
    let divisor = gcd(m, n);
    let step_i = n / divisor;
    let step_j = m / divisor;
    let band = |i: u64| -> (u64, u64) {
        let center = i * step_i;
        // Smallest j with j·step_j > center - h, and largest j with j·step_j < center + h.
        let low = if center < h { 0 } else { (center - h) / step_j + 1 };
        let high = ((center + h - 1) / step_j).min(n);
        (low, high)
    };

    let mut row = vec![0.0f64; n as usize + 1];
    let mut previous_low = 0u64;
    let mut outside = 0.0;
    for i in 0..=m {
        let (low, high) = band(i);
        for j in previous_low..low.min(n + 1) {
            row[j as usize] = 0.0;
        }
        for j in low..=high {
            if i == 0 && j == 0 {
                row[0] = 1.0;
                continue;
            }
            let remaining = (m + n + 1 - i - j) as f64;
            let from_below = if i > 0 { row[j as usize] * (m + 1 - i) as f64 / remaining } else { 0.0 };
            let from_left = if j > low { row[j as usize - 1] * (n + 1 - j) as f64 / remaining } else { 0.0 };
            row[j as usize] = from_below + from_left;
        }
        // Steps that leave the band from this row: to the right past `high`, or up to a row
        // whose band does not contain j.
        let next = (i < m).then(|| band(i + 1));
        for j in low..=high {
            let mass = row[j as usize];
            if mass == 0.0 {
                continue;
            }
            let remaining = (m + n - i - j) as f64;
            if j == high && j < n {
                outside += mass * (n - j) as f64 / remaining;
            }
            if let Some((next_low, next_high)) = next {
                if j < next_low || j > next_high {
                    outside += mass * (m - i) as f64 / remaining;
                }
            }
        }
        previous_low = low;
    }
    outside
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Measures the test, with the p-value as the value and D as the statistic.
pub(super) fn measure(reference: &Distribution, current: &Distribution) -> Result<Measurement, StatError> {
    let (reference, current) = super::numeric_pair(reference, current, "ks")?;
    let outcome = ks_2samp(reference, current);
    Ok(Measurement::test(outcome.p_value, outcome.statistic, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(values: &[f64]) -> NumericDistribution {
        NumericDistribution::from_values(values)
    }

    /// (reference, current, statistic, p-value) from scipy 1.17.1 `ks_2samp(reference, current)`.
    const KS_2SAMP_CASES: &[(&[f64], &[f64], f64, f64)] = &[
    (&[0.0, 0.3, -0.3], &[-0.8, -0.2, -0.9, 0.4, 1.9], 0.4, 0.8571428571428572),
    (&[-0.5, -0.6, 0.5, 0.4, 0.1], &[-0.8, 0.3, 1.1, -1.3, -0.2], 0.4, 0.873015873015873),
    (&[-1.9, -1.3, -1.8, -0.2, -1.3, 0.3, 0.2, -0.2], &[-2.7, -0.3, 0.2, 0.4, -1.5, -0.3, -0.9, -0.7, 1.6, -0.7, 0.3, 1.4, -0.4], 0.34615384615384615, 0.4763182465968844),
    (&[-0.1, 0.1, 0.1, -1.2, 0.1, 1.4, -1.5, 0.9, 0.1, -0.6, 2.0, 0.8, -1.2, 0.1, 0.6, -0.2, 0.7, -0.1, 0.7, 1.4], &[-0.5, 0.5, -0.3, 0.5, -1.1, -0.4, 0.1, 1.4, 1.7, -1.3, -0.7, 1.1, -2.1, -0.3, 0.2, 1.8, 1.1, -0.1, -0.1, -0.0], 0.2, 0.8319696107963263),
    (&[1.5, -0.4, -0.3, 0.4, -0.1, -0.2, -1.1, -0.0, -0.4, 1.2, 0.7, -0.0, 0.7, -0.3, 1.1, -0.0, 0.6, -1.3, 0.3, -1.7, -2.0, -0.3, -0.9, 0.2, 2.2], &[-0.7, -0.4, 0.5, 0.9, 0.1, 0.1, 1.1, 0.9, -0.9, 0.2, 0.3, -1.0, 0.6, -0.7, 1.5, 0.5, 0.4, -0.4, 0.2, -2.1, -1.1, 0.7, -2.3, 1.3, -1.8, 1.2, -0.7, 1.2, 0.5, -1.5, 1.8, 2.0, 0.2, -0.0, 0.1, -0.9, 1.6, -0.4, 0.2, -0.7], 0.2, 0.5046848636217183),
    (&[-0.6, -1.3, 1.3, -0.2, 1.0, 0.0, -0.7, -0.3, -0.6, 0.0, -0.4, -0.3, -1.4, -0.8, 1.7, -0.7, -1.1, 0.3, 1.4, -1.5, -0.2, -0.6, -1.8, 0.7, -0.0, 0.1, -0.8, 0.5, -0.5, -0.1, -1.1, -1.2, 1.3, -0.5, 0.3, -0.0, -0.4], &[-0.3, 1.1, -0.1, 0.1, 0.3, 1.7, 1.1, 0.8, -0.4, -1.4, 1.4, 1.5, 0.1, 1.0, 1.2, 1.3, 1.4, -0.2, 2.1], 0.4665718349928876, 0.005199059984100575),
    (&[-1.2, 0.9, 0.5, 0.9, 1.9, 1.5, -1.1, -1.7, 0.8, -1.0, -0.0, 0.8, -1.6, -2.1, 0.3, 0.0, -0.2, 0.0, -0.9, -1.5, -0.2, -1.0, -1.6, 0.5, -0.1, 0.4, -1.0, -0.7, -1.0, -0.9, 0.2, -0.8, 0.4, 0.3, 2.0, -1.4, 0.9, -0.1, -0.0, -1.4, -0.5, 0.7, -0.1, 0.1, -0.3, 1.2, -0.0, -2.2, -0.7, -2.0, -3.3, -0.5, 1.3, 0.0, -1.2, -0.9, 1.1, 0.2, 0.0, -0.1], &[0.3, 1.3, 1.0, 0.6, -1.0, 0.9, -0.5, 1.6, -1.2, 0.1, 0.3, -1.3, 2.4, 2.1, -0.3, 1.2, 0.8, -2.8, 0.6, 0.2, 0.4, -1.0, -0.0, 0.1, 1.7, 0.7, 0.3, 2.1, -0.4, -0.2, -1.9, 2.2, 1.5, 1.4, 1.1, 0.4, 0.6, -0.0, 0.1, 0.4, 2.1, 1.0, 0.2, -0.4, -0.5], 0.3388888888888889, 0.004185361256442244),
    (&[1.6, 0.5, 0.1, -0.3, -1.1, -0.1, 0.9, -0.4, -0.2, -0.2, 0.1, -1.6, -0.2, -0.9, 0.9, -0.8, 0.6, 1.5, -0.3, -0.6, 0.2, -0.0, -1.0, 0.5, 2.0, -0.3, -0.2, -1.0, 0.3, -1.2, -1.1, 1.3, -0.9, 1.1, 1.5, 0.3, 0.6, 2.0, -0.2, -0.6, -1.4, 0.0, 1.5, 1.0, -0.9, -0.9, -0.5, 0.3, -0.2, 0.2, 0.3, -0.3, -0.0, 0.2, -0.1, 0.5, 1.9, 0.6, 0.1, -1.7, 0.4, -1.9, -1.4, 0.9, 0.7, -0.1, -1.7, -0.4, -0.7, 0.6, 2.3, 0.2, -0.8, -1.2, -0.1, -0.2, -1.2, 0.1, -1.2, 1.1, 1.1, 1.1, -0.5, 0.5, -0.1, -0.4, -0.3, -1.3, -1.4, 0.8, -0.2, 0.2, 1.0, -1.7, -0.8, 0.2, 0.4, -0.4, 1.0, 0.2], &[-1.2, -0.8, 1.3, 0.9, -2.0, 1.9, 1.0], 0.38142857142857145, 0.22800722168700188),
    ];

    #[test]
    fn ks_exact_small_samples() {
        for &(reference, current, statistic, p_value) in KS_2SAMP_CASES {
            let outcome = ks_2samp(&numeric(reference), &numeric(current));
            assert_eq!(outcome.mode, KsMode::Exact);
            assert!((outcome.statistic - statistic).abs() <= 1e-15, "{reference:?} {current:?}: D {}", outcome.statistic);
            let tolerance = (1e-10 * p_value).max(1e-14);
            assert!((outcome.p_value - p_value).abs() <= tolerance, "{reference:?} {current:?}: p {} != {p_value}", outcome.p_value);
        }
    }

    /// Sample i of size m is ((i · step) mod modulus) · scale, the same formula as the script
    /// that produced the expected values.
    fn generated(size: u64, step: u64, modulus: u64, scale: f64) -> NumericDistribution {
        let values: Vec<f64> = (0..size).map(|i| ((i * step) % modulus) as f64 * scale).collect();
        NumericDistribution::from_values(&values)
    }

    /// (m, n, statistic, p-value) from scipy 1.17.1 `ks_2samp(a, b)` with
    /// a = [((i * 7) % 101) * 0.5 for i in range(m)], b = [((i * 13) % 97) * 0.52 for i in range(n)].
    const KS_2SAMP_GENERATED: &[(u64, u64, f64, f64)] = &[
    (10000, 30, 0.0514, 0.9999861439487571),
    (10001, 30, 0.051314868513148704, 0.9999862454879987),
    (300, 10000, 0.0165, 0.9999961005831081),
    (20000, 20000, 0.010850000000000026, 0.18836326711719897),
    (15000, 12000, 0.010783333333333367, 0.41732415833651726),
    (50000, 400, 0.015000000000000013, 0.9999835515922239),
    ];

    #[test]
    fn ks_auto_mode_switch() {
        for &(m, n, statistic, p_value) in KS_2SAMP_GENERATED {
            let outcome = ks_2samp(&generated(m, 7, 101, 0.5), &generated(n, 13, 97, 0.52));
            let expected_mode = if m.max(n) <= MAX_EXACT_SIZE { KsMode::Exact } else { KsMode::Asymptotic };
            assert_eq!(outcome.mode, expected_mode, "m={m} n={n}");
            assert!((outcome.statistic - statistic).abs() <= 1e-15, "m={m} n={n}: D {} != {statistic}", outcome.statistic);
            let tolerance = (1e-10 * p_value).max(1e-14);
            assert!((outcome.p_value - p_value).abs() <= tolerance, "m={m} n={n}: p {} != {p_value}", outcome.p_value);
        }
    }

    #[test]
    fn ks_identical_samples() {
        let sample = numeric(&[1.0, 2.0, 3.0]);
        let outcome = ks_2samp(&sample, &sample);
        assert_eq!(outcome.statistic, 0.0);
        assert_eq!(outcome.p_value, 1.0);
    }

    #[test]
    fn ks_exact_tail_keeps_small_p_values() {
        // scipy 1.17.1 ks_2samp(..., method="exact") p-values:
        // ones(100) against arange(5, 105): 2.2087606931995054e-59 (2 / C(200, 100));
        // arange(300) against arange(150, 500): 2.98701125585277e-49.
        let constant = numeric(&[1.0; 100]);
        let shifted: Vec<f64> = (5..105).map(f64::from).collect();
        let outcome = ks_2samp(&constant, &numeric(&shifted));
        assert_eq!(outcome.mode, KsMode::Exact);
        assert!((outcome.p_value / 2.2087606931995054e-59 - 1.0).abs() < 1e-9, "{}", outcome.p_value);

        let first: Vec<f64> = (0..300).map(f64::from).collect();
        let second: Vec<f64> = (150..500).map(f64::from).collect();
        let outcome = ks_2samp(&numeric(&first), &numeric(&second));
        assert!((outcome.p_value / 2.98701125585277e-49 - 1.0).abs() < 1e-9, "{}", outcome.p_value);
    }

    #[test]
    fn ks_constant_columns_differ() {
        // scipy.stats.ks_2samp([1.0] * 5, [2.0] * 5) gives D = 1, p = 2 / C(10, 5) = 0.007936507936507936
        let outcome = ks_2samp(&numeric(&[1.0; 5]), &numeric(&[2.0; 5]));
        assert_eq!(outcome.statistic, 1.0);
        assert!((outcome.p_value - 0.007936507936507936).abs() < 1e-15, "{}", outcome.p_value);
    }
}
