//! Survival function of the one-sample, two-sided Kolmogorov-Smirnov statistic D_n for a
//! sample of n from a continuous distribution, `scipy.stats.kstwo.sf(x, n)` in scipy 1.17.
//!
//! The method for each (n, x) region follows Simard and L'Ecuyer, "Computing the two-sided
//! Kolmogorov-Smirnov distribution", J. Stat. Softw. 39(11), 2011, with the region limits
//! scipy uses, because the asymptotic regions give values that differ from the exact
//! distribution by more than the p-value tolerance:
//! - exact closed forms (Ruben and Gambino) when n·x <= 1 or n·x >= n - 1;
//! - 2 · P(D+_n >= x) from the Birnbaum-Tingey formula when x >= 0.5 (exact there), when
//!   n <= 140 and n·x² > 4, and when n > 140 and n·x² >= 2.2 (Miller's approximation);
//! - 0 when n > 140 and n·x² >= 370;
//! - 1 - the Durbin matrix CDF (Marsaglia, Tsang and Wang 2003) for the remaining n <= 140,
//!   and for n <= 100 000 with n·x^1.5 <= 1.4 (Simard and L'Ecuyer use Pomeranz's recursion
//!   for part of the n <= 140 region; both are exact, so the values agree to rounding);
//! - 1 - the Pelz-Good asymptotic series otherwise.

use std::f64::consts::PI;

use statrs::function::factorial::ln_factorial;

/// Returns P(D_n >= x).
pub fn kolmogorov_sf(n: u64, x: f64) -> f64 {
    if x.is_nan() || n == 0 {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let size = n as f64;
    let t = size * x;
    if t <= 0.5 {
        return 1.0;
    }
    if t <= 1.0 {
        // Ruben-Gambino: P(D_n < x) = n! / n^n · (2nx - 1)^n for 1/(2n) < x <= 1/n.
        return clip(1.0 - small_x_cdf(n, t));
    }
    if t >= size - 1.0 {
        // Ruben-Gambino: P(D_n >= x) = 2 (1 - x)^n for x >= 1 - 1/n.
        return clip(2.0 * (1.0 - x).powf(size));
    }
    if x >= 0.5 {
        return clip(2.0 * smirnov_sf(n, x));
    }

    let n_x_squared = t * x;
    if n <= 140 {
        if n_x_squared <= 4.0 {
            return clip(1.0 - durbin_cdf(n, x));
        }
        return clip(2.0 * smirnov_sf(n, x));
    }
    if n_x_squared >= 370.0 {
        return 0.0;
    }
    if n_x_squared >= 2.2 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    if n <= 100_000 && size * x.powf(1.5) <= 1.4 {
        return clip(1.0 - durbin_cdf(n, x));
    }
    clip(1.0 - pelz_good_cdf(n, x))
}

fn clip(probability: f64) -> f64 {
    probability.clamp(0.0, 1.0)
}

/// n! / n^n · (2t - 1)^n with t = n·x in (0.5, 1].
fn small_x_cdf(n: u64, t: f64) -> f64 {
    let base = 2.0 * t - 1.0;
    if n <= 140 {
        (1..=n).map(|i| i as f64 / n as f64 * base).product()
    } else {
        (ln_factorial_over_power(n) + n as f64 * base.ln()).exp()
    }
}

/// ln(n! / n^n).
fn ln_factorial_over_power(n: u64) -> f64 {
    let size = n as f64;
    ln_factorial(n) - size * size.ln()
}

/// Largest n for which [`smirnov_sf`] sums the exact formula. Above it scipy 1.17's
/// `scipy.special.smirnov` returns the approximation exp(-(6nx + 1)² / (18n)), so this does too.
pub const SMIRNOV_MAX_EXACT_N: u64 = 1_000_000;

/// One-sided P(D+_n >= x) by the Birnbaum-Tingey formula
/// x · Σ_{j=0}^{⌊n(1-x)⌋} C(n, j) (1 - x - j/n)^(n-j) (x + j/n)^(j-1), whose terms are all
/// positive, summed in log space so that large n neither overflows nor underflows.
/// For n above [`SMIRNOV_MAX_EXACT_N`] it returns exp(-(6nx + 1)² / (18n)) instead, as scipy
/// does; that approximation is about 2e-6 (relative) from the exact value at n = 5·10⁶.
pub fn smirnov_sf(n: u64, x: f64) -> f64 {
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let size = n as f64;
    if n > SMIRNOV_MAX_EXACT_N {
        let log_sf = -(6.0 * size * x + 1.0).powi(2) / 18.0 / size;
        return log_sf.exp();
    }
    let last = (size * (1.0 - x)).floor() as u64;
    let mut log_terms = Vec::with_capacity(last as usize + 1);
    for j in 0..=last.min(n - 1) {
        if let Some(log_term) = smirnov_log_term(n, x, j) {
            log_terms.push(log_term);
        }
    }
    let Some(largest) = log_terms.iter().copied().reduce(f64::max) else {
        return 0.0;
    };
    let scaled_sum: f64 = log_terms.iter().map(|&term| (term - largest).exp()).sum();
    x * largest.exp() * scaled_sum
}

/// ln of the j-th Birnbaum-Tingey term C(n, j) (1 - x - j/n)^(n-j) (x + j/n)^(j-1), or None
/// when the term is 0 (1 - x - j/n <= 0) or j >= n.
///
/// With Stirling's formula ln k! = k ln k - k + ln(2πk)/2 + c(k), the terms of size n ln n
/// cancel exactly, leaving
/// ln n + (n-j) ln(1 - nx/(n-j)) + j ln(1 + nx/j) - ln(nx + j) + ln(n / (2π j (n-j)))/2
/// + c(n) - c(j) - c(n-j). Taking ln C(n, j) from log-gamma instead loses about 2e-6 of
/// relative accuracy at n = 5·10⁶, more than the p-value tolerance.
fn smirnov_log_term(n: u64, x: f64, j: u64) -> Option<f64> {
    if j >= n {
        return None;
    }
    let size = n as f64;
    let shift = size * x;
    let index = j as f64;
    let rest = size - index;
    if rest - shift <= 0.0 {
        return None;
    }
    if j == 0 {
        return Some(size * (-x).ln_1p() - x.ln());
    }
    let log_term = size.ln() + rest * (-shift / rest).ln_1p() + index * (shift / index).ln_1p()
        - (shift + index).ln()
        + 0.5 * (size / (2.0 * PI * index * rest)).ln()
        + stirling_correction(n)
        - stirling_correction(j)
        - stirling_correction(n - j);
    Some(log_term)
}

/// c(k) = ln k! - (k ln k - k + ln(2πk)/2): exact from the factorial table up to 170 and
/// from the asymptotic series 1/(12k) - 1/(360k³) + 1/(1260k⁵) - 1/(1680k⁷) above, where the
/// next term is below 1e-20.
fn stirling_correction(k: u64) -> f64 {
    let value = k as f64;
    if k <= 170 {
        return ln_factorial(k) - (value * value.ln() - value + 0.5 * (2.0 * PI * value).ln());
    }
    let inverse = 1.0 / value;
    let inverse_squared = inverse * inverse;
    inverse
        * (1.0 / 12.0
            - inverse_squared * (1.0 / 360.0 - inverse_squared * (1.0 / 1260.0 - inverse_squared / 1680.0)))
}

/// P(D_n < x) by the Durbin matrix method (Marsaglia, Tsang and Wang 2003): with
/// k = ⌊nx⌋ + 1, m = 2k - 1 and h = k - nx, the CDF is n!/n^n · (H^n)[k-1][k-1] for the m×m
/// matrix H[i][j] = 1/(i-j+1)! (0 when i - j + 1 < 0) with corrections of h^(i+1) on the first
/// column, h^(m-j) on the last row and (2h-1)^m in the corner when 2h > 1.
pub fn durbin_cdf(n: u64, x: f64) -> f64 {
    let size = n as f64;
    let k = (size * x).floor() as usize + 1;
    let m = 2 * k - 1;
    let h = k as f64 - size * x;

    let mut matrix = vec![0.0f64; m * m];
    for i in 0..m {
        for j in 0..m {
            if i + 1 >= j {
                matrix[i * m + j] = 1.0;
            }
        }
    }
    for i in 0..m {
        matrix[i * m] -= h.powi(i as i32 + 1);
        matrix[(m - 1) * m + i] -= h.powi((m - i) as i32);
    }
    if 2.0 * h - 1.0 > 0.0 {
        matrix[(m - 1) * m] += (2.0 * h - 1.0).powi(m as i32);
    }
    for i in 0..m {
        for j in 0..m {
            if i + 1 > j {
                let order = i + 1 - j;
                let factorial: f64 = (1..=order).map(|f| f as f64).product();
                matrix[i * m + j] /= factorial;
            }
        }
    }

    let (power, exponent) = matrix_power_scaled(&matrix, m, n);
    let center = power[(k - 1) * m + (k - 1)];
    if center <= 0.0 {
        return 0.0;
    }
    let log_cdf = center.ln() + exponent as f64 * std::f64::consts::LN_2 + ln_factorial_over_power(n);
    log_cdf.exp()
}

/// Returns (M, e) with matrix^power = M · 2^e, rescaling by powers of two (which is exact)
/// after each product so that no entry overflows.
fn matrix_power_scaled(matrix: &[f64], m: usize, power: u64) -> (Vec<f64>, i64) {
    let mut result = vec![0.0; m * m];
    for i in 0..m {
        result[i * m + i] = 1.0;
    }
    let mut result_exponent = 0i64;
    let mut base = matrix.to_vec();
    let mut base_exponent = 0i64;
    let mut remaining = power;
    while remaining > 0 {
        if remaining & 1 == 1 {
            result = multiply(&result, &base, m);
            result_exponent += base_exponent + rescale(&mut result);
        }
        remaining >>= 1;
        if remaining > 0 {
            base = multiply(&base, &base, m);
            base_exponent = 2 * base_exponent + rescale(&mut base);
        }
    }
    (result, result_exponent)
}

fn multiply(left: &[f64], right: &[f64], m: usize) -> Vec<f64> {
    let mut product = vec![0.0; m * m];
    for i in 0..m {
        for l in 0..m {
            let factor = left[i * m + l];
            if factor == 0.0 {
                continue;
            }
            for j in 0..m {
                product[i * m + j] += factor * right[l * m + j];
            }
        }
    }
    product
}

/// Divides the matrix by 2^e so that its largest entry is below 1, and returns e.
fn rescale(matrix: &mut [f64]) -> i64 {
    let largest = matrix.iter().fold(0.0f64, |acc, value| acc.max(value.abs()));
    if largest == 0.0 || !largest.is_finite() {
        return 0;
    }
    let exponent = largest.log2().floor() as i64 + 1;
    let scale = 2f64.powi(-exponent as i32);
    for value in matrix.iter_mut() {
        *value *= scale;
    }
    exponent
}

/// P(D_n <= x) by the Pelz-Good expansion K0(z) + K1(z)/√n + K2(z)/n + K3(z)/n^1.5 with
/// z = x√n, as given by Simard and L'Ecuyer (2011, section 3.3). Each series is summed
/// until its terms no longer change the sum.
pub fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    let size = n as f64;
    let z = x * size.sqrt();
    let z2 = z * z;
    let z4 = z2 * z2;
    let z6 = z4 * z2;
    let z8 = z4 * z4;
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let root_half_pi = (PI / 2.0).sqrt();

    // Sums over k of f((k + 1/2)²) · exp(-π² (k + 1/2)² / (2z²)), k = 0, 1, ...
    let half_integer_sum = |weight: &dyn Fn(f64) -> f64| -> f64 {
        sum_series(|k| {
            let s = (k as f64 + 0.5).powi(2);
            weight(s) * (-pi2 * s / (2.0 * z2)).exp()
        })
    };
    // Sums over k of f(k²) · exp(-π² k² / (2z²)), k = 1, 2, ...
    let integer_sum = |weight: &dyn Fn(f64) -> f64| -> f64 {
        sum_series(|k| {
            let s = ((k + 1) as f64).powi(2);
            weight(s) * (-pi2 * s / (2.0 * z2)).exp()
        })
    };

    let k0 = (2.0 * PI).sqrt() / z
        * sum_series(|k| {
            let odd = (2 * k + 1) as f64;
            (-odd * odd * pi2 / (8.0 * z2)).exp()
        });
    let k1 = root_half_pi / (3.0 * z4) * half_integer_sum(&|s| pi2 * s - z2);
    let k2 = root_half_pi / (36.0 * z4 * z2 * z)
        * half_integer_sum(&|s| {
            6.0 * z6 + 2.0 * z4 + pi2 * (2.0 * z4 - 5.0 * z2) * s + pi4 * (1.0 - 2.0 * z2) * s * s
        })
        - root_half_pi / (18.0 * z2 * z) * integer_sum(&|s| pi2 * s);
    let k3 = root_half_pi / (z8 * z2)
        * half_integer_sum(&|s| {
            (pi6 * s * s * s * (5.0 - 30.0 * z2)
                + pi4 * s * s * (-60.0 * z2 + 212.0 * z4)
                + pi2 * s * (135.0 * z4 - 96.0 * z6)
                - (30.0 * z6 + 90.0 * z8))
                / 3240.0
        })
        + root_half_pi / z6 * integer_sum(&|s| (3.0 * pi2 * s * z2 - pi4 * s * s) / 108.0);

    k0 + k1 / size.sqrt() + k2 / size + k3 / (size * size.sqrt())
}

/// Sums term(0) + term(1) + ... until a term is too small to change the sum, at most 1000
/// terms (the series here converge geometrically, so fewer than 100 are ever needed).
fn sum_series(term: impl Fn(u64) -> f64) -> f64 {
    let mut sum = 0.0;
    for k in 0..1000 {
        let value = term(k);
        sum += value;
        if value.abs() <= f64::EPSILON * 1e-3 * sum.abs() {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (n, x, scipy.stats.kstwo.sf(x, n)) from scipy 1.17.1, one or more per region.
    const KSTWO_SF: &[(u64, f64, f64)] = &[
    (1, 0.3, 1.0),
    (1, 0.75, 0.5),
    (1, 0.3, 1.0),
    (1, 0.6, 0.8),
    (1, 0.8, 0.3999999999999999),
    (1, 0.5, 1.0),
    (1, 0.7, 0.6000000000000001),
    (1, 0.95, 0.10000000000000009),
    (1, 0.5, 1.0),
    (2, 0.15, 1.0),
    (2, 0.375, 0.875),
    (2, 0.5, 0.5),
    (2, 0.75, 0.125),
    (2, 0.21213203435596423, 1.0),
    (2, 0.42426406871192845, 0.7570562748477142),
    (2, 0.565685424949238, 0.37725830020304796),
    (2, 0.7071067811865475, 0.17157287525381),
    (2, 0.8485281374238569, 0.045887450304571954),
    (2, 0.9899494936611664, 0.00020202535533387045),
    (2, 0.5, 0.5),
    (2, 0.7, 0.18000000000000005),
    (2, 0.95, 0.005000000000000009),
    (2, 0.75, 0.125),
    (5, 0.06, 1.0),
    (5, 0.15, 0.9988),
    (5, 0.2, 0.9616),
    (5, 0.3, 0.664),
    (5, 0.13416407864998736, 0.9998212772701431),
    (5, 0.2683281572999747, 0.7836692682117719),
    (5, 0.35777087639996635, 0.4415172023820515),
    (5, 0.4472135954999579, 0.19951883851095398),
    (5, 0.5366563145999494, 0.07107678230606948),
    (5, 0.626099033699941, 0.020341470622224973),
    (5, 0.7155417527999327, 0.004089054214687797),
    (5, 0.8944271909999159, 2.6229522294832813e-05),
    (5, 0.5, 0.112),
    (5, 0.7, 0.005560000000000004),
    (5, 0.95, 6.250000000000028e-07),
    (5, 0.9, 1.9999999999999978e-05),
    (10, 0.03, 1.0),
    (10, 0.075, 0.999999645625),
    (10, 0.1, 0.99963712),
    (10, 0.15, 0.95396527),
    (10, 0.09486832980505137, 0.9998771254261866),
    (10, 0.18973665961010275, 0.8007676669997676),
    (10, 0.25298221281347033, 0.46922582172431215),
    (10, 0.31622776601683794, 0.21828385386284888),
    (10, 0.3794733192202055, 0.08380667350243654),
    (10, 0.44271887242357305, 0.026485436333008372),
    (10, 0.5059644256269407, 0.006771732455286577),
    (10, 0.6324555320336759, 0.000209088213448878),
    (10, 0.9486832980505138, 2.5328960507819476e-13),
    (10, 0.5, 0.00777741),
    (10, 0.7, 1.9544800000000034e-05),
    (10, 0.95, 1.9531250000000172e-13),
    (10, 0.95, 1.9531250000000172e-13),
    (50, 0.006, 1.0),
    (50, 0.015, 1.0),
    (50, 0.02, 1.0),
    (50, 0.03, 0.9999999991521389),
    (50, 0.04242640687119285, 0.9999555282293853),
    (50, 0.0848528137423857, 0.8344437791960821),
    (50, 0.1131370849898476, 0.5081313822203297),
    (50, 0.1414213562373095, 0.24581239735690597),
    (50, 0.1697056274847714, 0.09960275827669895),
    (50, 0.1979898987322333, 0.03414140579380742),
    (50, 0.2262741699796952, 0.009889675201623538),
    (50, 0.282842712474619, 0.0004949032425073385),
    (50, 0.4242640687119285, 1.1111031760225101e-08),
    (50, 0.7071067811865475, 1.100575359463242e-25),
    (50, 0.5, 4.392853499119748e-12),
    (50, 0.7, 4.405451055671056e-25),
    (50, 0.95, 1.7763568621337656e-65),
    (50, 0.99, 2.0000000000000889e-100),
    (140, 0.002142857142857143, 1.0),
    (140, 0.005357142857142857, 1.0),
    (140, 0.007142857142857143, 1.0),
    (140, 0.010714285714285714, 1.0),
    (140, 0.025354627641855497, 0.9999736451248569),
    (140, 0.050709255283710994, 0.8461062544735598),
    (140, 0.06761234037828133, 0.522084041434605),
    (140, 0.08451542547285165, 0.25530484459737574),
    (140, 0.10141851056742199, 0.10468682507194148),
    (140, 0.11832159566199231, 0.03644183421402464),
    (140, 0.13522468075656266, 0.01077801009055065),
    (140, 0.1690308509457033, 0.0005761521040005592),
    (140, 0.253546276418555, 2.0234371565524952e-08),
    (140, 0.4225771273642583, 3.4655579885233975e-23),
    (140, 0.5, 6.869300438276986e-33),
    (140, 0.7, 2.7611948816463573e-69),
    (140, 0.95, 1.4349315159318279e-182),
    (140, 0.9964285714285714, 0.0),
    (141, 0.002127659574468085, 1.0),
    (141, 0.005319148936170213, 1.0),
    (141, 0.0070921985815602835, 1.0),
    (141, 0.010638297872340425, 1.0),
    (141, 0.025264557631995567, 0.9999737264249865),
    (141, 0.050529115263991134, 0.846171510746462),
    (141, 0.06737215368532153, 0.5221577963245764),
    (141, 0.0842151921066519, 0.2553544927215675),
    (141, 0.10105823052798227, 0.10471366448734887),
    (141, 0.11790126894931265, 0.036454276766098026),
    (141, 0.13474430737064305, 0.010782502579705781),
    (141, 0.1684303842133038, 0.0005765489591390132),
    (141, 0.2526455763199557, 2.0282471365668938e-08),
    (141, 0.42107596053325946, 3.5279048855551754e-23),
    (141, 0.5, 4.034017661079683e-33),
    (141, 0.7, 8.911602304669148e-70),
    (141, 0.95, 7.174657754560657e-184),
    (141, 0.9964539007092199, 0.0),
    (500, 0.0006, 1.0),
    (500, 0.0015, 1.0),
    (500, 0.002, 1.0),
    (500, 0.003, 1.0),
    (500, 0.013416407864998738, 0.9999831029091724),
    (500, 0.026832815729997475, 0.8545433622007345),
    (500, 0.03577708763999664, 0.5322609545817769),
    (500, 0.044721359549995794, 0.26212693581294755),
    (500, 0.05366563145999495, 0.10824335474199998),
    (500, 0.0626099033699941, 0.037994419578795235),
    (500, 0.07155417527999328, 0.011354046044617962),
    (500, 0.08944271909999159, 0.0006252679097921064),
    (500, 0.13416407864998736, 2.609814109607651e-08),
    (500, 0.22360679774997896, 1.9166940156188108e-22),
    (500, 0.872066511224918, 0.0),
    (500, 0.5, 4.1132799581816557e-116),
    (500, 0.7, 4.2709883022831154e-246),
    (500, 0.95, 0.0),
    (500, 0.999, 0.0),
    (1000, 0.0003, 1.0),
    (1000, 0.00075, 1.0),
    (1000, 0.001, 1.0),
    (1000, 0.0015, 1.0),
    (1000, 0.009486832980505138, 0.9999856452042073),
    (1000, 0.018973665961010275, 0.8573684410456419),
    (1000, 0.025298221281347035, 0.5356909657557909),
    (1000, 0.03162277660168379, 0.2644092421903177),
    (1000, 0.03794733192202055, 0.10941541429803348),
    (1000, 0.04427188724235731, 0.03849503290830236),
    (1000, 0.05059644256269407, 0.011534825282457833),
    (1000, 0.06324555320336758, 0.0006397648803336532),
    (1000, 0.09486832980505139, 2.7683606440184413e-08),
    (1000, 0.15811388300841897, 2.647229538840343e-22),
    (1000, 0.6166441437328339, 0.0),
    (1000, 0.5, 1.064517291557782e-231),
    (1000, 0.7, 0.0),
    (1000, 0.95, 0.0),
    (1000, 0.9995, 0.0),
    (5000, 5.9999999999999995e-05, 1.0),
    (5000, 0.00015, 1.0),
    (5000, 0.0002, 1.0),
    (5000, 0.0003, 1.0),
    (5000, 0.004242640687119285, 0.9999886201459484),
    (5000, 0.00848528137423857, 0.8611745104587194),
    (5000, 0.01131370849898476, 0.5403324616290442),
    (5000, 0.01414213562373095, 0.2674850951575305),
    (5000, 0.01697056274847714, 0.11098122447398728),
    (5000, 0.01979898987322333, 0.039154957841269655),
    (5000, 0.02262741699796952, 0.011768898449115267),
    (5000, 0.0282842712474619, 0.0006576876062563699),
    (5000, 0.04242640687119285, 2.9420948688910262e-08),
    (5000, 0.07071067811865475, 3.488001020816532e-22),
    (5000, 0.2757716446627535, 0.0),
    (5000, 0.5, 0.0),
    (5000, 0.7, 0.0),
    (5000, 0.95, 0.0),
    (5000, 0.9999, 0.0),
    (34726, 8.639060070264355e-06, 1.0),
    (34726, 2.159765017566089e-05, 1.0),
    (34726, 2.8796866900881185e-05, 1.0),
    (34726, 4.319530035132178e-05, 1.0),
    (34726, 0.0016098813686353745, 0.9999899410577517),
    (34726, 0.003219762737270749, 0.8631003314549747),
    (34726, 0.0042930169830276655, 0.5426908503233034),
    (34726, 0.005366271228784581, 0.2690426893455833),
    (34726, 0.006439525474541498, 0.11176815798151496),
    (34726, 0.007512779720298414, 0.03948268000974975),
    (34726, 0.008586033966055331, 0.011883218646150114),
    (34726, 0.010732542457569163, 0.0006660394327248515),
    (34726, 0.016098813686353745, 3.0107008555606334e-08),
    (34726, 0.02683135614392291, 3.76009961298813e-22),
    (34726, 0.10464228896129935, 0.0),
    (34726, 0.5, 0.0),
    (34726, 0.7, 0.0),
    (34726, 0.95, 0.0),
    (34726, 0.9999856015665496, 0.0),
    (100000, 3e-06, 1.0),
    (100000, 7.5e-06, 1.0),
    (100000, 1e-05, 1.0),
    (100000, 1.5e-05, 1.0),
    (100000, 0.0009486832980505137, 0.9999902553169786),
    (100000, 0.0018973665961010274, 0.8635855357589762),
    (100000, 0.0025298221281347035, 0.5432861510901741),
    (100000, 0.003162277660168379, 0.269435312462768),
    (100000, 0.003794733192202055, 0.11196588953063102),
    (100000, 0.004427188724235731, 0.03956460408944951),
    (100000, 0.005059644256269407, 0.01191158659878191),
    (100000, 0.006324555320336758, 0.00066806667710579),
    (100000, 0.009486832980505138, 3.02582317155749e-08),
    (100000, 0.015811388300841896, 3.8068818361729104e-22),
    (100000, 0.06166441437328339, 0.0),
    (100000, 0.5, 0.0),
    (100000, 0.7, 0.0),
    (100000, 0.95, 0.0),
    (100000, 0.999995, 0.0),
    (100001, 2.9999700002999967e-06, 1.0),
    (100001, 7.499925000749993e-06, 1.0),
    (100001, 9.99990000099999e-06, 1.0),
    (100001, 1.4999850001499985e-05, 1.0),
    (100001, 0.0009486785546695988, 0.9999902553192083),
    (100001, 0.0018973571093391975, 0.8635855392420047),
    (100001, 0.0025298094791189303, 0.543286155365172),
    (100001, 0.0031622618488986627, 0.26943531528151476),
    (100001, 0.003794714218678395, 0.11196589094928922),
    (100001, 0.0044271665884581275, 0.039564604676615045),
    (100001, 0.005059618958237861, 0.011911586801793524),
    (100001, 0.006324523697797325, 0.0006680666915465733),
    (100001, 0.009486785546695988, 3.0258232769331796e-08),
    (100001, 0.015811309244493314, 3.8068821384025157e-22),
    (100001, 0.061664106053523925, 0.0),
    (100001, 0.5, 0.0),
    (100001, 0.7, 0.0),
    (100001, 0.95, 0.0),
    (100001, 0.9999950000499995, 0.0),
    (200000, 1.5e-06, 1.0),
    (200000, 3.75e-06, 1.0),
    (200000, 5e-06, 1.0),
    (200000, 7.5e-06, 1.0),
    (200000, 0.0006708203932499369, 0.9999903853219917),
    (200000, 0.0013416407864998738, 0.863789622706921),
    (200000, 0.0017888543819998318, 0.5435366840363682),
    (200000, 0.00223606797749979, 0.2696004839203867),
    (200000, 0.0026832815729997475, 0.11204899692211012),
    (200000, 0.0031304951684997056, 0.03959898611886592),
    (200000, 0.0035777087639996636, 0.011923466549699387),
    (200000, 0.00447213595499958, 0.0006689100724084132),
    (200000, 0.006708203932499369, 3.031918908623258e-08),
    (200000, 0.011180339887498949, 3.8237512627961377e-22),
    (200000, 0.0436033255612459, 0.0),
    (200000, 0.5, 0.0),
    (200000, 0.7, 0.0),
    (200000, 0.95, 0.0),
    (200000, 0.9999975, 0.0),
    (1000000, 0.0008, 0.5438713666611479),
    (1000000, 0.0012, 0.11215991901443556),
    (1000000, 0.0016, 0.011939282537735608),
    (1000000, 0.002, 0.0006700277103670718),
    (1000000, 0.003, 3.039812751939269e-08),
    (1000000, 0.005, 3.8436375474778123e-22),
    (1000000, 0.5, 0.0),
    (1000000, 0.7, 0.0),
    (1000001, 0.0007999996000003, 0.5438713667966073),
    (1000001, 0.0011999994000004499, 0.11215991905930711),
    (1000001, 0.0015999992000006, 0.011939303081211992),
    (1000001, 0.00199999900000075, 0.0006700312481330848),
    (1000001, 0.002999998500001125, 3.039909879133437e-08),
    (1000001, 0.004999997500001875, 3.8446625631856733e-22),
    (1000001, 0.5, 0.0),
    (1000001, 0.7, 0.0),
    (5000000, 0.00035777087639996636, 0.5440211655093766),
    (5000000, 0.0005366563145999494, 0.11220952920875138),
    (5000000, 0.0007155417527999327, 0.011946345558406284),
    (5000000, 0.0008944271909999158, 0.0006705253050786945),
    (5000000, 0.0013416407864998738, 3.0432727115631877e-08),
    (5000000, 0.0022360679774997894, 3.8517535160835007e-22),
    (5000000, 0.5, 0.0),
    (5000000, 0.7, 0.0),
    ];

    #[test]
    fn kolmogorov_sf_matches_scipy_kstwo() {
        let mut failures = Vec::new();
        for &(n, x, expected) in KSTWO_SF {
            let value = kolmogorov_sf(n, x);
            let tolerance = (1e-9 * expected).max(1e-14);
            if (value - expected).abs() > tolerance {
                failures.push(format!("n={n} x={x}: {value} != {expected}"));
            }
        }
        assert!(failures.is_empty(), "{} of {} points differ:\n{}", failures.len(), KSTWO_SF.len(), failures.join("\n"));
    }

    #[test]
    fn kolmogorov_sf_bounds() {
        assert_eq!(kolmogorov_sf(10, 0.0), 1.0);
        assert_eq!(kolmogorov_sf(10, 1.0), 0.0);
        assert_eq!(kolmogorov_sf(10, 0.04), 1.0);
        assert!(kolmogorov_sf(0, 0.5).is_nan());
    }
}
