//! Exact, mergeable value counts of one column on one side of a comparison.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::StatError;

/// Distinct finite values in ascending order with how often each occurs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NumericDistribution {
    pub values: Vec<f64>,
    pub counts: Vec<u64>,
}

/// Count per category label. Missing values have no label and are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoricalDistribution {
    pub counts: BTreeMap<String, u64>,
}

/// One side of a comparison: numeric values or category labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Distribution {
    Numeric(NumericDistribution),
    Categorical(CategoricalDistribution),
}

impl NumericDistribution {
    /// Counts the finite values of a sample. NaN and ±inf are dropped, as Evidently drops
    /// missing and infinite values before any statistic, and -0.0 is counted as 0.0.
    pub fn from_values(values: &[f64]) -> Self {
        let mut finite: Vec<f64> = values
            .iter()
            .copied()
            .filter(|value| value.is_finite())
            .map(|value| if value == 0.0 { 0.0 } else { value })
            .collect();
        finite.sort_by(f64::total_cmp);

        let mut distribution = Self::default();
        for value in finite {
            match distribution.values.last() {
                Some(&last) if last == value => *distribution.counts.last_mut().unwrap() += 1,
                _ => {
                    distribution.values.push(value);
                    distribution.counts.push(1);
                }
            }
        }
        distribution
    }

    /// Builds a distribution from stored counts after checking them with [`Self::validate`].
    pub fn from_counts(values: Vec<f64>, counts: Vec<u64>) -> Result<Self, StatError> {
        let distribution = Self { values, counts };
        distribution.validate()?;
        Ok(distribution)
    }

    /// Checks the invariants every statistic relies on: one count per value, finite values
    /// in strictly ascending order, and no zero counts (a value that never occurs is omitted).
    pub fn validate(&self) -> Result<(), StatError> {
        if self.values.len() != self.counts.len() {
            return Err(StatError::InvalidDistribution(format!(
                "numeric distribution has {} values but {} counts; pass one count per value",
                self.values.len(),
                self.counts.len()
            )));
        }
        if let Some(value) = self.values.iter().find(|value| !value.is_finite()) {
            return Err(StatError::InvalidDistribution(format!(
                "numeric distribution contains the non-finite value {value}; drop NaN and infinite values first"
            )));
        }
        if let Some(pair) = self.values.windows(2).find(|pair| pair[0] >= pair[1]) {
            return Err(StatError::InvalidDistribution(format!(
                "numeric values must be distinct and ascending, but {} is followed by {}",
                pair[0], pair[1]
            )));
        }
        if let Some(index) = self.counts.iter().position(|&count| count == 0) {
            return Err(StatError::InvalidDistribution(format!(
                "value {} has a count of 0; omit values that do not occur",
                self.values[index]
            )));
        }
        Ok(())
    }

    /// Number of observations.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Number of distinct values (pandas `nunique`).
    pub fn distinct_count(&self) -> usize {
        self.values.len()
    }

    /// Adds the counts of two distributions, as if their samples were concatenated.
    pub fn merge(&self, other: &Self) -> Self {
        let mut merged = Self::default();
        let (mut i, mut j) = (0, 0);
        while i < self.values.len() || j < other.values.len() {
            let take_left = j == other.values.len()
                || (i < self.values.len() && self.values[i] <= other.values[j]);
            let take_right = i == self.values.len()
                || (j < other.values.len() && other.values[j] <= self.values[i]);
            let value = if take_left { self.values[i] } else { other.values[j] };
            let mut count = 0;
            if take_left {
                count += self.counts[i];
                i += 1;
            }
            if take_right {
                count += other.counts[j];
                j += 1;
            }
            merged.values.push(value);
            merged.counts.push(count);
        }
        merged
    }

    /// Arithmetic mean of the observations. NaN for an empty distribution.
    pub fn mean(&self) -> f64 {
        let weighted: f64 = self.values.iter().zip(&self.counts).map(|(v, &c)| v * c as f64).sum();
        weighted / self.total() as f64
    }

    /// Population standard deviation (ddof = 0, as `numpy.std`). NaN for an empty distribution.
    pub fn std_dev(&self) -> f64 {
        let mean = self.mean();
        let squares: f64 = self
            .values
            .iter()
            .zip(&self.counts)
            .map(|(v, &c)| (v - mean) * (v - mean) * c as f64)
            .sum();
        (squares / self.total() as f64).sqrt()
    }

    /// Turns each distinct value into a category label, for numeric codes compared as
    /// categories. Labels use Rust's shortest round-trip formatting, so 1.0 becomes "1".
    pub fn to_categorical(&self) -> CategoricalDistribution {
        let counts = self
            .values
            .iter()
            .zip(&self.counts)
            .map(|(value, &count)| (value.to_string(), count))
            .collect();
        CategoricalDistribution { counts }
    }
}

impl CategoricalDistribution {
    /// Counts the labels of a sample.
    pub fn from_labels<I, S>(labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut counts = BTreeMap::new();
        for label in labels {
            *counts.entry(label.into()).or_insert(0) += 1;
        }
        Self { counts }
    }

    /// Checks that no category has a zero count, because a listed category counts as
    /// observed when distinct values are counted.
    pub fn validate(&self) -> Result<(), StatError> {
        match self.counts.iter().find(|(_, &count)| count == 0) {
            Some((label, _)) => Err(StatError::InvalidDistribution(format!(
                "category {label:?} has a count of 0; omit categories that do not occur"
            ))),
            None => Ok(()),
        }
    }

    /// Number of observations.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Number of distinct categories (pandas `nunique`).
    pub fn distinct_count(&self) -> usize {
        self.counts.len()
    }

    /// Adds the counts of two distributions, as if their samples were concatenated.
    pub fn merge(&self, other: &Self) -> Self {
        let mut counts = self.counts.clone();
        for (label, &count) in &other.counts {
            *counts.entry(label.clone()).or_insert(0) += count;
        }
        Self { counts }
    }
}

impl Distribution {
    /// Number of observations.
    pub fn total(&self) -> u64 {
        match self {
            Distribution::Numeric(numeric) => numeric.total(),
            Distribution::Categorical(categorical) => categorical.total(),
        }
    }

    /// Number of distinct values or categories.
    pub fn distinct_count(&self) -> usize {
        match self {
            Distribution::Numeric(numeric) => numeric.distinct_count(),
            Distribution::Categorical(categorical) => categorical.distinct_count(),
        }
    }

    /// Checks the invariants of the inner distribution.
    pub fn validate(&self) -> Result<(), StatError> {
        match self {
            Distribution::Numeric(numeric) => numeric.validate(),
            Distribution::Categorical(categorical) => categorical.validate(),
        }
    }

    /// Adds the counts of two distributions of the same kind.
    pub fn merge(&self, other: &Self) -> Result<Self, StatError> {
        match (self, other) {
            (Distribution::Numeric(left), Distribution::Numeric(right)) => {
                Ok(Distribution::Numeric(left.merge(right)))
            }
            (Distribution::Categorical(left), Distribution::Categorical(right)) => {
                Ok(Distribution::Categorical(left.merge(right)))
            }
            _ => Err(StatError::MismatchedKinds),
        }
    }

    /// Kind name used in error messages.
    pub(super) fn kind_name(&self) -> &'static str {
        match self {
            Distribution::Numeric(_) => "numeric",
            Distribution::Categorical(_) => "categorical",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_from_values_drops_non_finite() {
        let distribution =
            NumericDistribution::from_values(&[2.0, f64::NAN, 1.0, f64::INFINITY, 2.0, -0.0, 0.0]);
        assert_eq!(distribution.values, vec![0.0, 1.0, 2.0]);
        assert_eq!(distribution.counts, vec![2, 1, 2]);
        assert_eq!(distribution.total(), 5);
    }

    #[test]
    fn numeric_merge_adds_counts() {
        let left = NumericDistribution::from_values(&[1.0, 3.0, 3.0]);
        let right = NumericDistribution::from_values(&[2.0, 3.0, 4.0]);
        let merged = left.merge(&right);
        assert_eq!(merged.values, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(merged.counts, vec![1, 1, 3, 1]);
    }

    #[test]
    fn numeric_validate_rejects_unsorted() {
        let result = NumericDistribution::from_counts(vec![2.0, 1.0], vec![1, 1]);
        assert!(matches!(result, Err(StatError::InvalidDistribution(_))));
    }

    #[test]
    fn numeric_validate_rejects_zero_count() {
        let result = NumericDistribution::from_counts(vec![1.0, 2.0], vec![1, 0]);
        assert!(matches!(result, Err(StatError::InvalidDistribution(_))));
    }

    #[test]
    fn numeric_validate_rejects_length_mismatch() {
        let result = NumericDistribution::from_counts(vec![1.0, 2.0], vec![1]);
        assert!(matches!(result, Err(StatError::InvalidDistribution(_))));
    }

    #[test]
    fn numeric_std_dev_is_population() {
        let distribution = NumericDistribution::from_values(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(distribution.mean(), 2.5);
        assert_eq!(distribution.std_dev(), 1.25f64.sqrt());
    }

    #[test]
    fn categorical_merge_adds_counts() {
        let left = CategoricalDistribution::from_labels(["a", "b", "a"]);
        let right = CategoricalDistribution::from_labels(["b", "c"]);
        let merged = left.merge(&right);
        assert_eq!(merged.counts.get("a"), Some(&2));
        assert_eq!(merged.counts.get("b"), Some(&2));
        assert_eq!(merged.counts.get("c"), Some(&1));
    }

    #[test]
    fn distribution_merge_rejects_mixed_kinds() {
        let numeric = Distribution::Numeric(NumericDistribution::from_values(&[1.0]));
        let categorical = Distribution::Categorical(CategoricalDistribution::from_labels(["a"]));
        assert_eq!(numeric.merge(&categorical), Err(StatError::MismatchedKinds));
    }

    #[test]
    fn numeric_to_categorical_formats_integers() {
        let distribution = NumericDistribution::from_values(&[0.0, 1.0, 1.0, 2.5]);
        let categorical = distribution.to_categorical();
        assert_eq!(categorical.counts.get("0"), Some(&1));
        assert_eq!(categorical.counts.get("1"), Some(&2));
        assert_eq!(categorical.counts.get("2.5"), Some(&1));
    }
}
