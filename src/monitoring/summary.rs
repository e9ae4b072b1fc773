//! Mergeable per-column summaries: exact value counts per time bucket.
//!
//! A summary keeps every distinct finite number (or category) with its count, so merging the
//! buckets of any window gives the exact distribution the drift statistics need, and the
//! result equals a computation over the raw rows.
//! NOTE: exact counts grow with the number of distinct values; a column with millions of
//! distinct values per day needs a quantile sketch instead.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::monitoring::schema::ColumnKind;
use crate::monitoring::stats::{CategoricalDistribution, Distribution, NumericDistribution};

/// Counts for one column over one time bucket (or a merged window).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnSummary {
    /// Rows seen, including missing and non-finite values.
    pub rows: u64,
    pub missing: u64,
    /// Infinite numbers, which the statistics drop as Evidently does.
    pub non_finite: u64,
    /// Distinct finite numbers in ascending order with their counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<(f64, u64)>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<String, u64>,
}

impl ColumnSummary {
    /// Adds `other`'s counts to this summary.
    pub fn merge(&mut self, other: &ColumnSummary) {
        self.rows += other.rows;
        self.missing += other.missing;
        self.non_finite += other.non_finite;
        for (category, count) in &other.categories {
            *self.categories.entry(category.clone()).or_default() += count;
        }
        if !other.numbers.is_empty() {
            self.numbers = merge_sorted_counts(&self.numbers, &other.numbers);
        }
    }

    /// Converts the counts to the distribution the drift statistics take.
    pub fn distribution(&self, kind: ColumnKind) -> Distribution {
        match kind {
            ColumnKind::Numeric => Distribution::Numeric(NumericDistribution {
                values: self.numbers.iter().map(|(value, _)| *value).collect(),
                counts: self.numbers.iter().map(|(_, count)| *count).collect(),
            }),
            ColumnKind::Categorical => Distribution::Categorical(CategoricalDistribution {
                counts: self.categories.clone(),
            }),
        }
    }

    /// Rows with a usable value: not missing and finite.
    pub fn valid_rows(&self) -> u64 {
        self.rows - self.missing - self.non_finite
    }
}

fn merge_sorted_counts(left: &[(f64, u64)], right: &[(f64, u64)]) -> Vec<(f64, u64)> {
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        let (a, b) = (left[i], right[j]);
        if a.0 < b.0 {
            merged.push(a);
            i += 1;
        } else if b.0 < a.0 {
            merged.push(b);
            j += 1;
        } else {
            merged.push((a.0, a.1 + b.1));
            i += 1;
            j += 1;
        }
    }
    merged.extend_from_slice(&left[i..]);
    merged.extend_from_slice(&right[j..]);
    merged
}

/// Accumulates one column's values before they are frozen into a [`ColumnSummary`].
#[derive(Debug, Default)]
pub struct SummaryBuilder {
    rows: u64,
    missing: u64,
    non_finite: u64,
    /// Keyed by the f64's bits; `-0.0` is folded into `0.0` so both count as one value.
    numbers: HashMap<u64, u64>,
    categories: HashMap<String, u64>,
}

impl SummaryBuilder {
    pub fn add_missing(&mut self) {
        self.rows += 1;
        self.missing += 1;
    }

    pub fn add_number(&mut self, value: f64) {
        self.rows += 1;
        if value.is_nan() {
            self.missing += 1;
        } else if value.is_infinite() {
            self.non_finite += 1;
        } else {
            let value = if value == 0.0 { 0.0 } else { value };
            *self.numbers.entry(value.to_bits()).or_default() += 1;
        }
    }

    pub fn add_category(&mut self, value: &str) {
        self.rows += 1;
        match self.categories.get_mut(value) {
            Some(count) => *count += 1,
            None => {
                self.categories.insert(value.to_string(), 1);
            }
        }
    }

    pub fn finish(self) -> ColumnSummary {
        let mut numbers: Vec<(f64, u64)> =
            self.numbers.into_iter().map(|(bits, count)| (f64::from_bits(bits), count)).collect();
        numbers.sort_by(|a, b| a.0.total_cmp(&b.0));
        ColumnSummary {
            rows: self.rows,
            missing: self.missing,
            non_finite: self.non_finite,
            numbers,
            categories: self.categories.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_counts_of_equal_values() {
        let mut left = SummaryBuilder::default();
        for value in [1.0, 2.0, 2.0, f64::INFINITY] {
            left.add_number(value);
        }
        let mut right = SummaryBuilder::default();
        for value in [2.0, 3.0] {
            right.add_number(value);
        }
        right.add_missing();

        let mut merged = left.finish();
        merged.merge(&right.finish());

        assert_eq!(merged.numbers, vec![(1.0, 1), (2.0, 3), (3.0, 1)]);
        assert_eq!(merged.rows, 7);
        assert_eq!(merged.missing, 1);
        assert_eq!(merged.non_finite, 1);
        assert_eq!(merged.valid_rows(), 5);
    }

    #[test]
    fn negative_zero_counts_as_zero() {
        let mut builder = SummaryBuilder::default();
        builder.add_number(-0.0);
        builder.add_number(0.0);
        assert_eq!(builder.finish().numbers, vec![(0.0, 2)]);
    }

    #[test]
    fn summary_round_trips_through_json() {
        let mut builder = SummaryBuilder::default();
        builder.add_category("UA");
        builder.add_category("UA");
        builder.add_category("DL");
        let summary = builder.finish();
        let json = serde_json::to_string(&summary).unwrap();
        assert_eq!(serde_json::from_str::<ColumnSummary>(&json).unwrap(), summary);
    }
}
