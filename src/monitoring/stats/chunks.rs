//! Sample-size-robust drift thresholds.
//!
//! With hundreds of thousands of rows a test's p-value falls below 0.05 for changes too
//! small to act on. This view calibrates the threshold to the window's size instead: the
//! reference is split at random into chunks of as many rows as the current window, each chunk
//! is compared with the whole reference by the column's default method, and the current
//! window drifts when its value leaves mean ± 3 standard deviations of the chunk values.
//!
//! The value compared is a distance: the method's own value for distances, and the test
//! statistic (D for K-S, χ² for chi-square, |z| for the z-test) for tests, because chunk
//! p-values spread over [0, 1] whatever the sample size. The standard deviation is the
//! population one (divided by the number of chunks). Chunks are drawn without replacement
//! from a random generator seeded by the caller, so a page shows the same bounds on reload.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::components::format_count;

use super::{compute, CategoricalDistribution, Distribution, NumericDistribution, StatMethod};

/// Maximum number of chunks: enough for a stable mean and standard deviation, few enough
/// for a page to compute them quickly.
pub const MAX_CHUNKS: usize = 40;
/// Minimum number of chunks, below which the standard deviation is too unreliable.
pub const MIN_CHUNKS: usize = 3;
/// Bounds are this many standard deviations from the chunk mean.
pub const STD_DEVS: f64 = 3.0;

/// The chunk-based verdict of one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkBounds {
    /// The method whose value (or statistic, for tests) is compared.
    pub method: StatMethod,
    pub chunks: usize,
    /// Rows per chunk: the current window's valid rows.
    pub chunk_rows: u64,
    pub mean: f64,
    pub std_dev: f64,
    /// mean - 3 sd, never below 0; and mean + 3 sd.
    pub lower: f64,
    pub upper: f64,
    /// The current window's value on the same scale.
    pub value: f64,
    pub drift: bool,
}

/// Reason a column has no chunk bounds.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ChunkError {
    #[error("the current data has no valid rows to size chunks by")]
    EmptyCurrent,
    #[error(
        "the reference's {} valid rows make fewer than {MIN_CHUNKS} chunks of the current data's {} rows; compare a shorter window or a larger reference",
        format_count(*reference_rows),
        format_count(*current_rows)
    )]
    TooFewChunks { reference_rows: u64, current_rows: u64 },
    #[error("{0}")]
    Statistic(String),
}

/// Computes the number a chunk or the current data is judged by: a distance, or a test's
/// statistic (absolute, for z). `None` when it is not finite.
fn comparable(method: StatMethod, reference: &Distribution, other: &Distribution) -> Result<Option<f64>, ChunkError> {
    let result = compute(method, reference, other, None).map_err(|error| ChunkError::Statistic(error.to_string()))?;
    let value = if method.is_test() { result.statistic.map(f64::abs) } else { Some(result.value) };
    Ok(value.filter(|value| value.is_finite()))
}

/// Splits `reference` into random chunks of `current`'s size and judges `current` against
/// mean ± 3 sd of the chunks' values under `method`. Both distributions must be of the kind
/// `method` takes (categorical columns stored as numbers converted beforehand).
pub fn chunk_bounds(
    method: StatMethod,
    reference: &Distribution,
    current: &Distribution,
    seed: u64,
) -> Result<ChunkBounds, ChunkError> {
    let chunk_rows = current.total();
    if chunk_rows == 0 {
        return Err(ChunkError::EmptyCurrent);
    }
    let reference_rows = reference.total();
    let chunks = usize::try_from(reference_rows / chunk_rows).unwrap_or(usize::MAX).min(MAX_CHUNKS);
    if chunks < MIN_CHUNKS {
        return Err(ChunkError::TooFewChunks { reference_rows, current_rows: chunk_rows });
    }

    // Sampled rows, as indices of the reference's distinct values, in random order.
    let counts = distinct_counts(reference);
    let wanted = chunks * chunk_rows as usize;
    let mut rng = StdRng::seed_from_u64(seed);
    let positions = rand::seq::index::sample(&mut rng, reference_rows as usize, wanted);
    let mut cumulative = Vec::with_capacity(counts.len());
    let mut total = 0u64;
    for count in &counts {
        total += count;
        cumulative.push(total);
    }
    let mut rows: Vec<u32> = positions
        .iter()
        .map(|position| cumulative.partition_point(|&end| end <= position as u64) as u32)
        .collect();
    rows.shuffle(&mut rng);

    let mut values = Vec::with_capacity(chunks);
    let mut chunk_counts = vec![0u64; counts.len()];
    for chunk in rows.chunks(chunk_rows as usize) {
        chunk_counts.iter_mut().for_each(|count| *count = 0);
        for &index in chunk {
            chunk_counts[index as usize] += 1;
        }
        let sample = with_counts(reference, &chunk_counts);
        if let Some(value) = comparable(method, reference, &sample)? {
            values.push(value);
        }
    }
    if values.len() < MIN_CHUNKS {
        return Err(ChunkError::Statistic(format!("{} gave a finite value for too few chunks", method.display_name())));
    }
    let value = comparable(method, reference, current)?
        .ok_or_else(|| ChunkError::Statistic(format!("{} of the current window is not finite", method.display_name())))?;

    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let variance = values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / values.len() as f64;
    let std_dev = variance.sqrt();
    let lower = (mean - STD_DEVS * std_dev).max(0.0);
    let upper = mean + STD_DEVS * std_dev;
    Ok(ChunkBounds {
        method,
        chunks: values.len(),
        chunk_rows,
        mean,
        std_dev,
        lower,
        upper,
        value,
        drift: value < lower || value > upper,
    })
}

/// Lists the counts of a distribution's distinct values, in its own order.
fn distinct_counts(distribution: &Distribution) -> Vec<u64> {
    match distribution {
        Distribution::Numeric(numeric) => numeric.counts.clone(),
        Distribution::Categorical(categorical) => categorical.counts.values().copied().collect(),
    }
}

/// Builds a distribution over `template`'s distinct values with `counts`, dropping zeros.
fn with_counts(template: &Distribution, counts: &[u64]) -> Distribution {
    match template {
        Distribution::Numeric(numeric) => {
            let mut sample = NumericDistribution::default();
            for (value, &count) in numeric.values.iter().zip(counts) {
                if count > 0 {
                    sample.values.push(*value);
                    sample.counts.push(count);
                }
            }
            Distribution::Numeric(sample)
        }
        Distribution::Categorical(categorical) => Distribution::Categorical(CategoricalDistribution {
            counts: categorical
                .counts
                .keys()
                .zip(counts)
                .filter(|(_, &count)| count > 0)
                .map(|(category, &count)| (category.clone(), count))
                .collect(),
        }),
    }
}

/// Derives a seed that stays the same for a column across page loads: FNV-1a of its name.
pub fn seed_for(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn numeric(values: &[f64]) -> Distribution {
        Distribution::Numeric(NumericDistribution::from_values(values))
    }

    fn categorical(counts: &[(&str, u64)]) -> Distribution {
        Distribution::Categorical(CategoricalDistribution {
            counts: counts.iter().map(|(name, count)| (name.to_string(), *count)).collect::<BTreeMap<_, _>>(),
        })
    }

    /// Pseudo-random values from a normal with mean `shift` and standard deviation 1: the
    /// Box-Muller transform of a seeded generator's uniforms. (A low-discrepancy sequence
    /// would sit closer to the reference than random chunks do, below the lower bound.)
    fn normal_sample(n: usize, shift: f64, seed: u64) -> Vec<f64> {
        use rand::Rng;
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
                let u2: f64 = rng.gen();
                shift + (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            })
            .collect()
    }

    #[test]
    fn constant_reference_gives_zero_bounds() {
        // Every chunk of a constant column equals the reference, so each Wasserstein distance
        // is 0 and so are the mean, the standard deviation and both bounds.
        let reference = numeric(&vec![4.0; 1_000]);
        let current = numeric(&vec![4.0; 100]);
        let bounds = chunk_bounds(StatMethod::Wasserstein, &reference, &current, 7).unwrap();
        assert_eq!((bounds.chunks, bounds.chunk_rows), (10, 100));
        assert_eq!((bounds.mean, bounds.std_dev, bounds.lower, bounds.upper, bounds.value), (0.0, 0.0, 0.0, 0.0, 0.0));
        assert!(!bounds.drift);
    }

    #[test]
    fn chunk_count_is_capped_and_needs_three_chunks() {
        let reference = numeric(&normal_sample(10_000, 0.0, 1));
        let current = numeric(&normal_sample(50, 0.0, 2));
        assert_eq!(chunk_bounds(StatMethod::Ks, &reference, &current, 1).unwrap().chunks, MAX_CHUNKS);

        let too_big = numeric(&normal_sample(4_000, 0.0, 3));
        assert_eq!(
            chunk_bounds(StatMethod::Ks, &reference, &too_big, 1).unwrap_err(),
            ChunkError::TooFewChunks { reference_rows: 10_000, current_rows: 4_000 }
        );
        assert_eq!(chunk_bounds(StatMethod::Ks, &reference, &numeric(&[]), 1).unwrap_err(), ChunkError::EmptyCurrent);
    }

    #[test]
    fn same_seed_same_bounds() {
        let reference = numeric(&normal_sample(20_000, 0.0, 4));
        let current = numeric(&normal_sample(1_000, 0.0, 5));
        let first = chunk_bounds(StatMethod::Wasserstein, &reference, &current, 42).unwrap();
        assert_eq!(first, chunk_bounds(StatMethod::Wasserstein, &reference, &current, 42).unwrap());
    }

    #[test]
    fn ks_bounds_flag_only_shifted_window() {
        // 100,000 reference rows and windows of 20,000: one from the same distribution stays
        // inside the spread of random chunks' K-S D, one shifted by half a standard deviation
        // leaves it.
        let reference = numeric(&normal_sample(100_000, 0.0, 6));
        let same = numeric(&normal_sample(20_000, 0.0, 7));
        let shifted = numeric(&normal_sample(20_000, 0.5, 8));
        let calm = chunk_bounds(StatMethod::Ks, &reference, &same, 3).unwrap();
        assert_eq!(calm.chunks, 5);
        assert!(!calm.drift, "{calm:?}");
        assert!(calm.upper > calm.lower, "{calm:?}");
        assert!(calm.upper < 0.05, "{calm:?}");
        let moved = chunk_bounds(StatMethod::Ks, &reference, &shifted, 3).unwrap();
        assert!(moved.drift, "{moved:?}");
        assert!(moved.value > 0.15, "{moved:?}");
    }

    #[test]
    fn categorical_chunks_use_the_chi_square_statistic() {
        let reference = categorical(&[("a", 6_000), ("b", 3_000), ("c", 1_000)]);
        let same = categorical(&[("a", 600), ("b", 300), ("c", 100)]);
        let bounds = chunk_bounds(StatMethod::ChiSquare, &reference, &same, 11).unwrap();
        assert_eq!(bounds.chunks, 10);
        // The window has exactly the reference's shares, so χ² is 0: inside any bounds.
        assert_eq!(bounds.value, 0.0);
        assert!(!bounds.drift);
        let flipped = categorical(&[("a", 100), ("b", 300), ("c", 600)]);
        assert!(chunk_bounds(StatMethod::ChiSquare, &reference, &flipped, 11).unwrap().drift);
    }

    #[test]
    fn seeds_differ_per_column() {
        assert_ne!(seed_for("age"), seed_for("income"));
        assert_eq!(seed_for("age"), seed_for("age"));
    }
}
