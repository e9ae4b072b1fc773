//! Model performance from mergeable counts: classification metrics from (actual, prediction)
//! pair counts and per-score label counts, regression metrics from sums of errors.
//!
//! Definitions follow scikit-learn 1.9. Precision, recall and F1 are 0 when their denominator
//! is 0 (`zero_division=0`), and the macro and weighted averages run over the labels of
//! actual ∪ prediction. ROC AUC is the share of (positive, negative) pairs ranked correctly,
//! ties counting half, which equals the trapezoidal area. Log loss clips probabilities to
//! [1e-15, 1 - 1e-15]. Regression reports MAE, RMSE, R² (1 - SS_res / SS_tot) and the mean
//! error (prediction - actual).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::monitoring::charts;
use crate::monitoring::drift::{build_report, empty_report, format_day, resolve_view, ResolvedView, DAY_MS};
use crate::monitoring::schema::{ColumnKind, ColumnRole};
use crate::pages::drift::DriftQuery;
use crate::server::errors::ApiError;
use crate::types::{CalibrationBin, ClassRow, ClassScores, Environment, MetricRow, PerformanceReport};

/// Column name under which performance counts are stored with the per-column summaries.
pub const PERFORMANCE_KEY: &str = "__performance__";

/// Labels that mark the positive class of a binary model, in order of preference.
const POSITIVE_LABELS: [&str; 4] = ["1", "true", "yes", "positive"];

/// Mergeable performance counts for one time bucket or a merged window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PerformanceSummary {
    /// Classification: (actual, prediction, count).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<(String, String, u64)>,
    /// Prediction scores: (score, actual label, rows), ascending by score then label. The
    /// positive class is chosen when metrics are computed, from all labels seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scores: Vec<(f64, String, u64)>,
    /// Regression sums.
    #[serde(default)]
    pub regression: RegressionSums,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegressionSums {
    pub rows: u64,
    pub sum_error: f64,
    pub sum_absolute_error: f64,
    pub sum_squared_error: f64,
    pub sum_actual: f64,
    pub sum_squared_actual: f64,
    /// MAPE skips actuals of 0, as its value is undefined there.
    pub percentage_rows: u64,
    pub sum_absolute_percentage_error: f64,
}

impl PerformanceSummary {
    pub fn add_classification(&mut self, actual: &str, prediction: &str) {
        self.add_pairs(actual, prediction, 1);
    }

    fn add_pairs(&mut self, actual: &str, prediction: &str, rows: u64) {
        match self.pairs.iter_mut().find(|(a, p, _)| a == actual && p == prediction) {
            Some(pair) => pair.2 += rows,
            None => self.pairs.push((actual.to_string(), prediction.to_string(), rows)),
        }
    }

    pub fn add_score(&mut self, score: f64, actual: &str) {
        self.add_scores(score, actual, 1);
    }

    fn add_scores(&mut self, score: f64, actual: &str, rows: u64) {
        if !score.is_finite() {
            return;
        }
        let position = self
            .scores
            .partition_point(|(value, label, _)| *value < score || (*value == score && label.as_str() < actual));
        match self.scores.get_mut(position) {
            Some(entry) if entry.0 == score && entry.1 == actual => entry.2 += rows,
            _ => self.scores.insert(position, (score, actual.to_string(), rows)),
        }
    }

    pub fn add_regression(&mut self, actual: f64, prediction: f64) {
        if !actual.is_finite() || !prediction.is_finite() {
            return;
        }
        let sums = &mut self.regression;
        let error = prediction - actual;
        sums.rows += 1;
        sums.sum_error += error;
        sums.sum_absolute_error += error.abs();
        sums.sum_squared_error += error * error;
        sums.sum_actual += actual;
        sums.sum_squared_actual += actual * actual;
        if actual != 0.0 {
            sums.percentage_rows += 1;
            sums.sum_absolute_percentage_error += (error / actual).abs();
        }
    }

    pub fn merge(&mut self, other: &PerformanceSummary) {
        for (actual, prediction, rows) in &other.pairs {
            self.add_pairs(actual, prediction, *rows);
        }
        for (score, actual, rows) in &other.scores {
            self.add_scores(*score, actual, *rows);
        }
        let (left, right) = (&mut self.regression, &other.regression);
        left.rows += right.rows;
        left.sum_error += right.sum_error;
        left.sum_absolute_error += right.sum_absolute_error;
        left.sum_squared_error += right.sum_squared_error;
        left.sum_actual += right.sum_actual;
        left.sum_squared_actual += right.sum_squared_actual;
        left.percentage_rows += right.percentage_rows;
        left.sum_absolute_percentage_error += right.sum_absolute_percentage_error;
    }
}

/// Returns the positive label of a binary model: "1", "true", "yes" or "positive" when one is
/// among the labels, otherwise the last label in byte order.
pub fn positive_label<'a>(labels: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let labels: BTreeSet<&str> = labels.into_iter().collect();
    POSITIVE_LABELS
        .iter()
        .find(|label| labels.contains(*label))
        .map(|label| label.to_string())
        .or_else(|| labels.iter().next_back().map(|label| label.to_string()))
}

/// Precision, recall and F1 of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Rows whose actual is this label.
    pub support: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    pub rows: u64,
    pub accuracy: f64,
    pub classes: Vec<ClassMetrics>,
    pub macro_f1: f64,
    pub weighted_f1: f64,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub weighted_precision: f64,
    pub weighted_recall: f64,
    /// Binary models: the positive label and its precision, recall and F1.
    pub positive_label: Option<String>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub roc_auc: Option<f64>,
    /// Area under the precision-recall curve, as average precision.
    pub pr_auc: Option<f64>,
    pub log_loss: Option<f64>,
    /// Reliability of the scores: ten equal-width score bins with rows.
    pub calibration: Vec<CalibrationBin>,
    /// Rows of the confusion matrix: actual label, then counts per predicted label in
    /// `classes` order.
    pub confusion_matrix: Vec<(String, Vec<u64>)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    pub rows: u64,
    pub mae: f64,
    pub rmse: f64,
    pub mape: Option<f64>,
    pub r2: Option<f64>,
    pub mean_error: f64,
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 { 0.0 } else { numerator / denominator }
}

/// Computes classification metrics, or `None` when no row has both an actual and a prediction.
pub fn classification(summary: &PerformanceSummary) -> Option<ClassificationMetrics> {
    let rows: u64 = summary.pairs.iter().map(|(_, _, count)| count).sum();
    if rows == 0 {
        return None;
    }
    let labels: Vec<String> = summary
        .pairs
        .iter()
        .flat_map(|(actual, prediction, _)| [actual.clone(), prediction.clone()])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut matrix: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for (actual, prediction, count) in &summary.pairs {
        *matrix.entry((actual.as_str(), prediction.as_str())).or_default() += count;
    }
    let cell = |actual: &str, prediction: &str| matrix.get(&(actual, prediction)).copied().unwrap_or(0);

    let correct: u64 = labels.iter().map(|label| cell(label, label)).sum();
    let classes: Vec<ClassMetrics> = labels
        .iter()
        .map(|label| {
            let true_positives = cell(label, label) as f64;
            let predicted: u64 = labels.iter().map(|actual| cell(actual, label)).sum();
            let support: u64 = labels.iter().map(|prediction| cell(label, prediction)).sum();
            let precision = ratio(true_positives, predicted as f64);
            let recall = ratio(true_positives, support as f64);
            let f1 = ratio(2.0 * true_positives, (predicted + support) as f64);
            ClassMetrics { label: label.clone(), precision, recall, f1, support }
        })
        .collect();

    let count = classes.len() as f64;
    let macro_of = |metric: fn(&ClassMetrics) -> f64| classes.iter().map(metric).sum::<f64>() / count;
    let weighted_of = |metric: fn(&ClassMetrics) -> f64| {
        classes.iter().map(|class| metric(class) * class.support as f64).sum::<f64>() / rows as f64
    };

    let binary = labels.len() == 2;
    let positive = if binary { positive_label(labels.iter().map(String::as_str)) } else { None };
    let positive_metrics = positive.as_ref().and_then(|label| classes.iter().find(|class| &class.label == label));
    let counts = positive.as_ref().map(|label| positive_counts(&summary.scores, label)).unwrap_or_default();
    let (roc_auc, log_loss) = score_metrics(&counts);

    Some(ClassificationMetrics {
        rows,
        accuracy: correct as f64 / rows as f64,
        macro_f1: macro_of(|class| class.f1),
        weighted_f1: weighted_of(|class| class.f1),
        macro_precision: macro_of(|class| class.precision),
        macro_recall: macro_of(|class| class.recall),
        weighted_precision: weighted_of(|class| class.precision),
        weighted_recall: weighted_of(|class| class.recall),
        precision: positive_metrics.map(|class| class.precision),
        recall: positive_metrics.map(|class| class.recall),
        f1: positive_metrics.map(|class| class.f1),
        positive_label: positive,
        roc_auc,
        pr_auc: average_precision(&counts),
        log_loss,
        calibration: calibration_bins(&counts),
        confusion_matrix: labels
            .iter()
            .map(|actual| (actual.clone(), labels.iter().map(|prediction| cell(actual, prediction)).collect()))
            .collect(),
        classes,
    })
}

/// Folds (score, actual, rows) into (score, positive rows, negative rows), ascending by score.
fn positive_counts(scores: &[(f64, String, u64)], positive: &str) -> Vec<(f64, u64, u64)> {
    let mut counts: Vec<(f64, u64, u64)> = Vec::new();
    for (score, actual, rows) in scores {
        if counts.last().map(|last| last.0 != *score).unwrap_or(true) {
            counts.push((*score, 0, 0));
        }
        let entry = counts.last_mut().expect("pushed above");
        if actual == positive { entry.1 += rows } else { entry.2 += rows }
    }
    counts
}

/// Returns the average precision of per-score class counts (ascending by score): the
/// precision at each distinct score, from the highest down, weighted by the recall it adds.
/// `None` without positives.
fn average_precision(scores: &[(f64, u64, u64)]) -> Option<f64> {
    let positives: u64 = scores.iter().map(|(_, positive, _)| positive).sum();
    if positives == 0 {
        return None;
    }
    let (mut true_positives, mut false_positives, mut previous_recall, mut area) = (0u64, 0u64, 0.0, 0.0);
    for (_, positive, negative) in scores.iter().rev() {
        true_positives += positive;
        false_positives += negative;
        let recall = true_positives as f64 / positives as f64;
        let precision = true_positives as f64 / (true_positives + false_positives) as f64;
        area += (recall - previous_recall) * precision;
        previous_recall = recall;
    }
    Some(area)
}

/// Bins per-score class counts into ten equal-width score bins over [0, 1], as
/// scikit-learn's `calibration_curve(n_bins=10)` does: a score on an inner edge falls in the
/// lower bin, and scores outside [0, 1] count in the end bins. Empty bins are left out.
fn calibration_bins(scores: &[(f64, u64, u64)]) -> Vec<CalibrationBin> {
    const BINS: usize = 10;
    let mut sums = [(0u64, 0u64, 0.0f64); BINS];
    for (score, positive, negative) in scores {
        let bin = (1..BINS).filter(|edge| (*edge as f64 * 0.1) < *score).count();
        let rows = positive + negative;
        sums[bin].0 += rows;
        sums[bin].1 += positive;
        sums[bin].2 += score * rows as f64;
    }
    sums.iter()
        .enumerate()
        .filter(|(_, (rows, _, _))| *rows > 0)
        .map(|(bin, (rows, positives, score_sum))| CalibrationBin {
            lower: bin as f64 * 0.1,
            upper: (bin + 1) as f64 * 0.1,
            rows: *rows,
            mean_score: score_sum / *rows as f64,
            positive_share: *positives as f64 / *rows as f64,
        })
        .collect()
}

/// Returns ROC AUC and log loss from per-score class counts; `None` where undefined (one
/// class only, or no scores).
fn score_metrics(scores: &[(f64, u64, u64)]) -> (Option<f64>, Option<f64>) {
    let positives: u64 = scores.iter().map(|(_, positive, _)| positive).sum();
    let negatives: u64 = scores.iter().map(|(_, _, negative)| negative).sum();
    if positives + negatives == 0 {
        return (None, None);
    }

    // AUC = P(score of a positive > score of a negative) + P(equal) / 2, counted in
    // ascending score order: each positive beats every negative seen below its score.
    let roc_auc = (positives > 0 && negatives > 0).then(|| {
        let mut negatives_below = 0.0;
        let mut wins = 0.0;
        for (_, positive, negative) in scores {
            wins += *positive as f64 * (negatives_below + *negative as f64 / 2.0);
            negatives_below += *negative as f64;
        }
        wins / (positives as f64 * negatives as f64)
    });

    const EPSILON: f64 = 1e-15;
    let mut loss = 0.0;
    for (score, positive, negative) in scores {
        let probability = score.clamp(EPSILON, 1.0 - EPSILON);
        loss -= *positive as f64 * probability.ln() + *negative as f64 * (1.0 - probability).ln();
    }
    (roc_auc, Some(loss / (positives + negatives) as f64))
}

/// Computes regression metrics, or `None` without rows.
pub fn regression(summary: &PerformanceSummary) -> Option<RegressionMetrics> {
    let sums = &summary.regression;
    if sums.rows == 0 {
        return None;
    }
    let n = sums.rows as f64;
    let total_sum_of_squares = sums.sum_squared_actual - sums.sum_actual * sums.sum_actual / n;
    Some(RegressionMetrics {
        rows: sums.rows,
        mae: sums.sum_absolute_error / n,
        rmse: (sums.sum_squared_error / n).sqrt(),
        mape: (sums.percentage_rows > 0).then(|| sums.sum_absolute_percentage_error / sums.percentage_rows as f64),
        r2: (total_sum_of_squares > 0.0).then(|| 1.0 - sums.sum_squared_error / total_sum_of_squares),
        mean_error: sums.sum_error / n,
    })
}

/// Metric rows for the page, baseline and current side by side.
fn metric_rows(reference: &PerformanceSummary, current: &PerformanceSummary, task: &str) -> (Vec<MetricRow>, u64, u64) {
    let row = |name: &str, reference: Option<f64>, current: Option<f64>| MetricRow { name: name.to_string(), reference, current };
    if task == "regression" {
        let (r, c) = (regression(reference), regression(current));
        let get = |metrics: &Option<RegressionMetrics>, pick: fn(&RegressionMetrics) -> Option<f64>| metrics.as_ref().and_then(pick);
        let rows = vec![
            row("MAE", get(&r, |m| Some(m.mae)), get(&c, |m| Some(m.mae))),
            row("RMSE", get(&r, |m| Some(m.rmse)), get(&c, |m| Some(m.rmse))),
            row("MAPE", get(&r, |m| m.mape), get(&c, |m| m.mape)),
            row("R²", get(&r, |m| m.r2), get(&c, |m| m.r2)),
            row("Mean error", get(&r, |m| Some(m.mean_error)), get(&c, |m| Some(m.mean_error))),
        ];
        return (rows, r.map(|m| m.rows).unwrap_or(0), c.map(|m| m.rows).unwrap_or(0));
    }
    let (r, c) = (classification(reference), classification(current));
    let get = |metrics: &Option<ClassificationMetrics>, pick: fn(&ClassificationMetrics) -> Option<f64>| metrics.as_ref().and_then(pick);
    let rows = vec![
        row("Accuracy", get(&r, |m| Some(m.accuracy)), get(&c, |m| Some(m.accuracy))),
        row("Precision", get(&r, |m| m.precision), get(&c, |m| m.precision)),
        row("Recall", get(&r, |m| m.recall), get(&c, |m| m.recall)),
        row("F1", get(&r, |m| m.f1), get(&c, |m| m.f1)),
        row("ROC AUC", get(&r, |m| m.roc_auc), get(&c, |m| m.roc_auc)),
        row("PR AUC", get(&r, |m| m.pr_auc), get(&c, |m| m.pr_auc)),
        row("Log loss", get(&r, |m| m.log_loss), get(&c, |m| m.log_loss)),
        row("Macro precision", get(&r, |m| Some(m.macro_precision)), get(&c, |m| Some(m.macro_precision))),
        row("Macro recall", get(&r, |m| Some(m.macro_recall)), get(&c, |m| Some(m.macro_recall))),
        row("Macro F1", get(&r, |m| Some(m.macro_f1)), get(&c, |m| Some(m.macro_f1))),
        row("Weighted precision", get(&r, |m| Some(m.weighted_precision)), get(&c, |m| Some(m.weighted_precision))),
        row("Weighted recall", get(&r, |m| Some(m.weighted_recall)), get(&c, |m| Some(m.weighted_recall))),
        row("Weighted F1", get(&r, |m| Some(m.weighted_f1)), get(&c, |m| Some(m.weighted_f1))),
        // With one label per row, micro-averaged precision, recall and F1 all equal accuracy.
        row("Micro F1", get(&r, |m| Some(m.accuracy)), get(&c, |m| Some(m.accuracy))),
    ];
    (rows, r.map(|m| m.rows).unwrap_or(0), c.map(|m| m.rows).unwrap_or(0))
}

fn merge_all<'a>(summaries: impl IntoIterator<Item = &'a PerformanceSummary>) -> PerformanceSummary {
    let mut merged = PerformanceSummary::default();
    for summary in summaries {
        merged.merge(summary);
    }
    merged
}

pub async fn performance_report(
    db: &Db,
    workspace_id: i64,
    model_name: &str,
    query: &DriftQuery,
) -> Result<PerformanceReport, ApiError> {
    let Some(view) = resolve_view(db, workspace_id, model_name, query).await? else {
        return Ok(PerformanceReport {
            drift: empty_report(db, workspace_id, model_name).await?,
            task: "none".into(),
            reference_rows: 0,
            current_rows: 0,
            metrics: Vec::new(),
            labels: Vec::new(),
            classes: Vec::new(),
            confusion_matrix: Vec::new(),
            calibration: Vec::new(),
            over_time: charts::drift_over_time("", &[], false, (0, 0), "baseline"),
        });
    };
    let (drift, _) = build_report(db, &view).await?;
    performance_of_view(db, &view, drift).await
}

/// Builds the overview's two reports from one resolved view, so the drift summaries are
/// merged (and a segment's rows read) once for both.
pub async fn overview_reports(
    db: &Db,
    workspace_id: i64,
    model_name: &str,
    query: &DriftQuery,
) -> Result<(crate::types::QualityReport, PerformanceReport), ApiError> {
    let Some(view) = resolve_view(db, workspace_id, model_name, query).await? else {
        let quality = crate::monitoring::quality::quality_report(db, workspace_id, model_name, query).await?;
        let performance = performance_report(db, workspace_id, model_name, query).await?;
        return Ok((quality, performance));
    };
    let (drift, window) = build_report(db, &view).await?;
    let quality = crate::monitoring::quality::quality_of_view(db, &view, drift.clone(), &window).await?;
    let performance = performance_of_view(db, &view, drift).await?;
    Ok((quality, performance))
}

/// Computes the performance report of a resolved view whose drift report is `drift`.
pub(crate) async fn performance_of_view(db: &Db, view: &ResolvedView, drift: crate::types::DriftReport) -> Result<PerformanceReport, ApiError> {
    let schema = &view.model.schema;
    let prediction = schema.columns.iter().find(|column| column.role == ColumnRole::Prediction);
    let has_actual = schema.columns.iter().any(|column| column.role == ColumnRole::Actual);
    let task = match prediction {
        Some(column) if has_actual && column.kind == ColumnKind::Numeric => "regression",
        Some(_) if has_actual => "classification",
        _ => "none",
    };

    let (baseline_environment, baseline_from, baseline_to) = view.baseline_range()?;
    let reference = merge_all(
        view.performance(db, baseline_environment, baseline_from, baseline_to).await?.iter().map(|(_, s)| s),
    );
    let daily = view.performance(db, Environment::Production, i64::MIN, i64::MAX).await?;
    let window_end = view.to_day_ms + DAY_MS - 1;
    let current = merge_all(
        daily.iter().filter(|(day, _)| *day >= view.from_day_ms && *day <= window_end).map(|(_, s)| s),
    );
    let (metrics, reference_rows, current_rows) = metric_rows(&reference, &current, task);

    let classified = classification(&current);
    let labels = classified.as_ref().map(|m| m.classes.iter().map(|c| c.label.clone()).collect()).unwrap_or_default();
    let classes = if task == "classification" {
        class_rows(classification(&reference).as_ref(), classified.as_ref())
    } else {
        Vec::new()
    };
    let calibration = classified.as_ref().map(|m| m.calibration.clone()).unwrap_or_default();
    let confusion_matrix = classified.map(|m| m.confusion_matrix).unwrap_or_default();

    // The main metric per day: accuracy for classification, MAE for regression.
    let metric_name = if task == "regression" { "MAE" } else { "Accuracy" };
    let points: Vec<charts::DriftPoint> = daily
        .iter()
        .map(|(day, summary)| {
            let (value, rows) = if task == "regression" {
                regression(summary).map(|m| (Some(m.mae), m.rows)).unwrap_or((None, 0))
            } else {
                classification(summary).map(|m| (Some(m.accuracy), m.rows)).unwrap_or((None, 0))
            };
            let baseline = metrics.first().and_then(|row| row.reference);
            charts::DriftPoint { day_ms: *day, value, threshold: baseline, drift: None, rows }
        })
        .collect();
    let yearly = !daily.is_empty() && daily.iter().all(|(day, _)| format_day(*day).ends_with("-01-01"));
    let over_time = charts::drift_over_time(metric_name, &points, yearly, (view.from_day_ms, view.to_day_ms), "baseline");

    Ok(PerformanceReport {
        drift,
        task: task.into(),
        reference_rows,
        current_rows,
        metrics,
        labels,
        classes,
        confusion_matrix,
        calibration,
        over_time,
    })
}

/// Lists every label seen on either side with its scores on the baseline and in the window.
fn class_rows(reference: Option<&ClassificationMetrics>, current: Option<&ClassificationMetrics>) -> Vec<ClassRow> {
    let find = |metrics: Option<&ClassificationMetrics>, label: &str| {
        metrics.and_then(|metrics| metrics.classes.iter().find(|class| class.label == label)).map(|class| ClassScores {
            precision: class.precision,
            recall: class.recall,
            f1: class.f1,
            support: class.support,
        })
    };
    let labels: BTreeSet<&str> = [reference, current]
        .into_iter()
        .flatten()
        .flat_map(|metrics| metrics.classes.iter().map(|class| class.label.as_str()))
        .collect();
    labels
        .into_iter()
        .map(|label| ClassRow { label: label.to_string(), reference: find(reference, label), current: find(current, label) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y_true = [0, 0, 1, 1, 1], y_pred = [0, 1, 1, 1, 0], y_score = [0.1, 0.6, 0.8, 0.6, 0.3].
    fn binary_example() -> PerformanceSummary {
        let mut summary = PerformanceSummary::default();
        for ((actual, prediction), score) in [("0", "0"), ("0", "1"), ("1", "1"), ("1", "1"), ("1", "0")].iter().zip([0.1, 0.6, 0.8, 0.6, 0.3]) {
            summary.add_classification(actual, prediction);
            summary.add_score(score, actual);
        }
        summary
    }

    #[test]
    fn binary_metrics_match_scikit_learn() {
        let metrics = classification(&binary_example()).unwrap();

        // scikit-learn 1.9.1: accuracy_score 0.6, precision_score, recall_score and f1_score
        // 0.6666666666666666, roc_auc_score 0.75, log_loss 0.5919186453876236.
        assert_eq!(metrics.accuracy, 0.6);
        assert!((metrics.precision.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((metrics.recall.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((metrics.f1.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((metrics.roc_auc.unwrap() - 0.75).abs() < 1e-12);
        assert!((metrics.log_loss.unwrap() - 0.5919186453876236).abs() < 1e-12);
        // average_precision_score 0.8055555555555556; calibration_curve(n_bins=10) gives
        // fractions of positives [0, 1, 0.5, 1] at mean scores [0.1, 0.3, 0.6, 0.8].
        assert!((metrics.pr_auc.unwrap() - 0.8055555555555556).abs() < 1e-12);
        let shares: Vec<f64> = metrics.calibration.iter().map(|bin| bin.positive_share).collect();
        let means: Vec<f64> = metrics.calibration.iter().map(|bin| bin.mean_score).collect();
        assert_eq!(shares, vec![0.0, 1.0, 0.5, 1.0]);
        assert!(means.iter().zip([0.1, 0.3, 0.6, 0.8]).all(|(mean, expected)| (mean - expected).abs() < 1e-12), "{means:?}");
        assert_eq!(metrics.confusion_matrix, vec![("0".to_string(), vec![1, 1]), ("1".to_string(), vec![1, 2])]);
    }

    #[test]
    fn multiclass_averages_match_scikit_learn() {
        let actual = ["cat", "cat", "dog", "dog", "dog", "fox", "fox", "cat", "fox", "dog", "dog"];
        let predicted = ["cat", "dog", "dog", "cat", "fox", "fox", "cat", "cat", "fox", "dog", "dog"];
        let mut summary = PerformanceSummary::default();
        for (actual, prediction) in actual.iter().zip(predicted) {
            summary.add_classification(actual, prediction);
        }

        let metrics = classification(&summary).unwrap();

        // scikit-learn 1.9.1, precision_recall_fscore_support(y_true, y_pred, zero_division=0)
        // on these labels: per class (cat, dog, fox) precision [0.5, 0.75, 0.6666666666666666],
        // recall [0.6666666666666666, 0.6, 0.6666666666666666], F1 [0.5714285714285714,
        // 0.6666666666666666, 0.6666666666666666], support [3, 5, 3]; average="macro" gives
        // 0.6388888888888888, 0.6444444444444444, 0.6349206349206349; average="weighted"
        // 0.6590909090909091, 0.6363636363636364, 0.6406926406926406; accuracy_score and
        // average="micro" 0.6363636363636364.
        let close = |left: f64, right: f64| (left - right).abs() < 1e-12;
        let labels: Vec<&str> = metrics.classes.iter().map(|class| class.label.as_str()).collect();
        assert_eq!(labels, ["cat", "dog", "fox"]);
        for (class, (precision, recall, f1, support)) in metrics.classes.iter().zip([
            (0.5, 0.6666666666666666, 0.5714285714285714, 3),
            (0.75, 0.6, 0.6666666666666666, 5),
            (0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 3),
        ]) {
            assert!(close(class.precision, precision), "{}: precision {}", class.label, class.precision);
            assert!(close(class.recall, recall), "{}: recall {}", class.label, class.recall);
            assert!(close(class.f1, f1), "{}: F1 {}", class.label, class.f1);
            assert_eq!(class.support, support, "{}: support", class.label);
        }
        assert!(close(metrics.macro_precision, 0.6388888888888888));
        assert!(close(metrics.macro_recall, 0.6444444444444444));
        assert!(close(metrics.macro_f1, 0.6349206349206349));
        assert!(close(metrics.weighted_precision, 0.6590909090909091));
        assert!(close(metrics.weighted_recall, 0.6363636363636364));
        assert!(close(metrics.weighted_f1, 0.6406926406926406));
        assert!(close(metrics.accuracy, 0.6363636363636364));
        assert_eq!(metrics.positive_label, None, "three labels have no positive one");
    }

    #[test]
    fn class_rows_cover_labels_of_both_sides() {
        let mut reference = PerformanceSummary::default();
        reference.add_classification("cat", "cat");
        reference.add_classification("dog", "cat");
        let mut current = PerformanceSummary::default();
        current.add_classification("fox", "fox");

        let rows = class_rows(classification(&reference).as_ref(), classification(&current).as_ref());

        let labels: Vec<&str> = rows.iter().map(|row| row.label.as_str()).collect();
        assert_eq!(labels, ["cat", "dog", "fox"]);
        // Baseline: cat is predicted twice and right once, so precision 0.5 and recall 1.
        assert_eq!(rows[0].reference, Some(ClassScores { precision: 0.5, recall: 1.0, f1: 2.0 / 3.0, support: 1 }));
        assert_eq!(rows[0].current, None);
        assert_eq!(rows[2].reference, None);
        assert_eq!(rows[2].current, Some(ClassScores { precision: 1.0, recall: 1.0, f1: 1.0, support: 1 }));
    }

    #[test]
    fn merged_summaries_equal_one_summary() {
        let whole = binary_example();
        let mut first = PerformanceSummary::default();
        first.add_classification("0", "0");
        first.add_score(0.1, "0");
        first.add_classification("0", "1");
        first.add_score(0.6, "0");
        let mut second = PerformanceSummary::default();
        for ((actual, prediction), score) in [("1", "1"), ("1", "1"), ("1", "0")].iter().zip([0.8, 0.6, 0.3]) {
            second.add_classification(actual, prediction);
            second.add_score(score, actual);
        }

        first.merge(&second);

        assert_eq!(classification(&first), classification(&whole));
    }

    #[test]
    fn regression_metrics_match_definitions() {
        let mut summary = PerformanceSummary::default();
        for (actual, prediction) in [(3.0, 2.5), (-0.5, 0.0), (2.0, 2.0), (7.0, 8.0)] {
            summary.add_regression(actual, prediction);
        }

        let metrics = regression(&summary).unwrap();

        // sklearn.metrics on y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0, 2, 8]:
        // mean_absolute_error 0.5, mean_squared_error 0.375, r2_score 0.9486081370449679.
        assert_eq!(metrics.mae, 0.5);
        assert!((metrics.rmse - 0.375f64.sqrt()).abs() < 1e-12);
        assert!((metrics.r2.unwrap() - 0.9486081370449679).abs() < 1e-12);
        assert_eq!(metrics.mean_error, 0.25);
    }

    #[test]
    fn positive_label_prefers_one() {
        assert_eq!(positive_label(["0", "1"]), Some("1".to_string()));
        assert_eq!(positive_label(["no", "yes"]), Some("yes".to_string()));
        assert_eq!(positive_label(["cat", "dog"]), Some("dog".to_string()));
    }
}
