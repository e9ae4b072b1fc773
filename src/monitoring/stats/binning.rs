//! Bins shared by PSI and Jensen-Shannon, built as Evidently 0.7.23 builds them.
//!
//! A numeric column with more than 20 distinct reference values gets equal-width bins over
//! reference ∪ current, counted with numpy's `histogram_bin_edges(bins="sturges")` and
//! `histogram` rules. Any other column gets one bin per distinct value of reference ∪ current.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{CategoricalDistribution, Distribution, NumericDistribution, StatError};

/// Largest number of distinct reference values for which a numeric column gets one bin per
/// value instead of Sturges bins.
pub const MAX_DISTINCT_FOR_VALUE_BINS: usize = 20;

/// Range or label of each bin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "bins")]
pub enum Bins {
    /// Equal-width bins: `edges.len() - 1` bins, each `[edges[i], edges[i + 1])` except the
    /// last, which also contains its right edge.
    Edges(Vec<f64>),
    /// One bin per distinct numeric value, ascending.
    Values(Vec<f64>),
    /// One bin per category label, in byte order of the labels.
    Categories(Vec<String>),
}

/// Bin layout with the counts and shares of both sides. Shares are `count / side total`
/// before PSI's zero fill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Binning {
    pub bins: Bins,
    pub reference_counts: Vec<u64>,
    pub current_counts: Vec<u64>,
    pub reference_shares: Vec<f64>,
    pub current_shares: Vec<f64>,
}

impl Binning {
    /// Number of bins.
    pub fn len(&self) -> usize {
        self.reference_counts.len()
    }

    /// True when there are no bins, which happens only for two empty sides.
    pub fn is_empty(&self) -> bool {
        self.reference_counts.is_empty()
    }

    fn from_counts(bins: Bins, reference_counts: Vec<u64>, current_counts: Vec<u64>) -> Self {
        let reference_shares = shares(&reference_counts);
        let current_shares = shares(&current_counts);
        Self { bins, reference_counts, current_counts, reference_shares, current_shares }
    }
}

/// Returns the bins PSI and Jensen-Shannon use for this pair (Evidently's `get_binned_data`).
pub fn binning(reference: &Distribution, current: &Distribution) -> Result<Binning, StatError> {
    super::check_pair(reference, current)?;
    Ok(match (reference, current) {
        (Distribution::Numeric(reference), Distribution::Numeric(current))
            if reference.distinct_count() > MAX_DISTINCT_FOR_VALUE_BINS =>
        {
            sturges_binning(reference, current)
        }
        _ => value_binning(reference, current)?,
    })
}

/// Puts every distinct value of reference ∪ current in its own bin. Chi-square and the
/// z-test count categories this way for every column, numeric or not.
pub(super) fn value_binning(
    reference: &Distribution,
    current: &Distribution,
) -> Result<Binning, StatError> {
    match (reference, current) {
        (Distribution::Numeric(reference), Distribution::Numeric(current)) => {
            Ok(numeric_value_binning(reference, current))
        }
        (Distribution::Categorical(reference), Distribution::Categorical(current)) => {
            Ok(categorical_binning(reference, current))
        }
        _ => Err(StatError::MismatchedKinds),
    }
}

fn numeric_value_binning(reference: &NumericDistribution, current: &NumericDistribution) -> Binning {
    let union = reference.merge(current);
    let reference_counts = counts_at(reference, &union.values);
    let current_counts = counts_at(current, &union.values);
    Binning::from_counts(Bins::Values(union.values), reference_counts, current_counts)
}

/// Returns the count of each of `values` in `distribution`, 0 where it does not occur.
fn counts_at(distribution: &NumericDistribution, values: &[f64]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(values.len());
    let mut index = 0;
    for &value in values {
        while index < distribution.values.len() && distribution.values[index] < value {
            index += 1;
        }
        let found = index < distribution.values.len() && distribution.values[index] == value;
        counts.push(if found { distribution.counts[index] } else { 0 });
    }
    counts
}

fn categorical_binning(
    reference: &CategoricalDistribution,
    current: &CategoricalDistribution,
) -> Binning {
    let labels: BTreeSet<&String> = reference.counts.keys().chain(current.counts.keys()).collect();
    let count_of = |side: &CategoricalDistribution, label: &String| -> u64 {
        side.counts.get(label).copied().unwrap_or(0)
    };
    let reference_counts = labels.iter().map(|label| count_of(reference, label)).collect();
    let current_counts = labels.iter().map(|label| count_of(current, label)).collect();
    let labels = labels.into_iter().cloned().collect();
    Binning::from_counts(Bins::Categories(labels), reference_counts, current_counts)
}

fn sturges_binning(reference: &NumericDistribution, current: &NumericDistribution) -> Binning {
    let union = reference.merge(current);
    let min = union.values[0];
    let max = union.values[union.values.len() - 1];
    let edges = sturges_edges(min, max, union.total());
    let reference_counts = histogram(reference, &edges);
    let current_counts = histogram(current, &edges);
    Binning::from_counts(Bins::Edges(edges), reference_counts, current_counts)
}

/// Computes numpy's `histogram_bin_edges(a, bins="sturges")` for data with this minimum,
/// maximum and size: width = (max - min) / (log2(size) + 1), ceil(range / width) bins, and
/// edges placed as `numpy.linspace` places them (`start + i * step`, last edge = max).
/// A constant sample gets one bin over [value - 0.5, value + 0.5], as numpy does.
///
/// NOTE: numpy widens the bins to 1 for integer dtypes when the width is below 1. The values
/// here are f64, so that rule is not applied, and a column stored as integers with fewer than
/// log2(size) + 1 distinct values in its range could get different edges from numpy's.
pub fn sturges_edges(min: f64, max: f64, size: u64) -> Vec<f64> {
    let (first, last) = if min == max { (min - 0.5, max + 0.5) } else { (min, max) };
    let width = (max - min) / ((size as f64).log2() + 1.0);
    let bin_count = if width != 0.0 { ((last - first) / width).ceil() as usize } else { 1 };
    linspace(first, last, bin_count + 1)
}

/// Places `count` points from `start` to `stop` with numpy.linspace's rounding.
fn linspace(start: f64, stop: f64, count: usize) -> Vec<f64> {
    let intervals = (count - 1) as f64;
    let step = (stop - start) / intervals;
    let mut points: Vec<f64> = (0..count).map(|i| i as f64 * step + start).collect();
    points[count - 1] = stop;
    points
}

/// Counts values per bin with `numpy.histogram` semantics: bin i contains
/// `edges[i] <= v < edges[i + 1]`, the last bin also contains `v == edges[last]`, and values
/// outside the edges are not counted.
pub fn histogram(distribution: &NumericDistribution, edges: &[f64]) -> Vec<u64> {
    let bin_count = edges.len().saturating_sub(1);
    let mut counts = vec![0u64; bin_count];
    if bin_count == 0 {
        return counts;
    }
    let last_edge = edges[bin_count];
    for (&value, &count) in distribution.values.iter().zip(&distribution.counts) {
        if value < edges[0] || value > last_edge {
            continue;
        }
        // Number of edges <= value, so the bin whose left edge is the last of them.
        let edges_at_or_below = edges.partition_point(|&edge| edge <= value);
        let bin = (edges_at_or_below - 1).min(bin_count - 1);
        counts[bin] += count;
    }
    counts
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    counts.iter().map(|&count| count as f64 / total as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(values: &[f64]) -> Distribution {
        Distribution::Numeric(NumericDistribution::from_values(values))
    }

    #[test]
    fn sturges_edges_match_numpy() {
        // numpy.histogram_bin_edges(np.arange(0.0, 95.0 + 1), bins="sturges") has
        // width 95 / (log2(96) + 1) = 12.52, so 8 bins with step 11.875.
        let edges = sturges_edges(0.0, 95.0, 96);
        assert_eq!(edges.len(), 9);
        assert_eq!(edges[1], 11.875);
        assert_eq!(edges[8], 95.0);
    }

    #[test]
    fn sturges_edges_match_numpy_float_placement() {
        // v = np.sqrt(np.arange(1, 5001) * 0.37) - 1.3; np.histogram_bin_edges(v, bins="sturges")
        // and np.histogram(v, those edges) with numpy 2.4.
        let values: Vec<f64> = (1..=5000).map(|i| (i as f64 * 0.37).sqrt() - 1.3).collect();
        let distribution = NumericDistribution::from_values(&values);
        let edges = sturges_edges(values[0], values[4999], 5000);
        assert_eq!(edges.len(), 15);
        assert_eq!(&edges[..4], &[-0.6917237469701781, 2.337086973185773, 5.365897693341725, 8.394708413497677]);
        assert_eq!(edges[13], 38.682815615057194);
        let expected = [35, 85, 134, 183, 233, 283, 332, 382, 431, 481, 531, 580, 630, 680];
        assert_eq!(histogram(&distribution, &edges), expected);
    }

    #[test]
    fn sturges_edges_constant_sample() {
        // numpy.histogram_bin_edges([3.0, 3.0], bins="sturges") == [2.5, 3.5]
        assert_eq!(sturges_edges(3.0, 3.0, 2), vec![2.5, 3.5]);
    }

    #[test]
    fn histogram_last_bin_closed() {
        let distribution = NumericDistribution::from_values(&[0.0, 1.0, 2.0, 2.0]);
        assert_eq!(histogram(&distribution, &[0.0, 1.0, 2.0]), vec![1, 3]);
    }

    #[test]
    fn histogram_left_edge_inclusive() {
        let distribution = NumericDistribution::from_values(&[0.5, 1.0, 1.5]);
        assert_eq!(histogram(&distribution, &[0.0, 1.0, 2.0]), vec![1, 2]);
    }

    #[test]
    fn histogram_ignores_values_outside_edges() {
        let distribution = NumericDistribution::from_values(&[-1.0, 0.5, 3.0]);
        assert_eq!(histogram(&distribution, &[0.0, 1.0, 2.0]), vec![1, 0]);
    }

    #[test]
    fn binning_few_values_one_bin_per_value() {
        let result = binning(&numeric(&[1.0, 2.0, 2.0]), &numeric(&[2.0, 3.0])).unwrap();
        assert_eq!(result.bins, Bins::Values(vec![1.0, 2.0, 3.0]));
        assert_eq!(result.reference_counts, vec![1, 2, 0]);
        assert_eq!(result.current_counts, vec![0, 1, 1]);
        assert_eq!(result.reference_shares, vec![1.0 / 3.0, 2.0 / 3.0, 0.0]);
        assert_eq!(result.current_shares, vec![0.0, 0.5, 0.5]);
    }

    #[test]
    fn binning_many_values_uses_sturges() {
        let reference: Vec<f64> = (0..21).map(f64::from).collect();
        let current = [0.0, 20.0];
        let result = binning(&numeric(&reference), &numeric(&current)).unwrap();
        // 23 values over [0, 20]: width 20 / (log2(23) + 1) = 3.62, so 6 bins.
        let Bins::Edges(edges) = &result.bins else { panic!("expected edges, got {:?}", result.bins) };
        assert_eq!(edges.len(), 7);
        assert_eq!(result.reference_counts.iter().sum::<u64>(), 21);
        assert_eq!(result.current_counts, vec![1, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn binning_categories_union_sorted() {
        let reference = CategoricalDistribution::from_labels(["b", "a", "b"]);
        let current = CategoricalDistribution::from_labels(["c"]);
        let result = binning(
            &Distribution::Categorical(reference),
            &Distribution::Categorical(current),
        )
        .unwrap();
        assert_eq!(result.bins, Bins::Categories(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(result.reference_counts, vec![1, 2, 0]);
        assert_eq!(result.current_counts, vec![0, 0, 1]);
    }

    #[test]
    fn binning_empty_current_is_error() {
        let result = binning(&numeric(&[1.0]), &numeric(&[]));
        assert_eq!(result, Err(StatError::EmptyCurrent));
    }
}
