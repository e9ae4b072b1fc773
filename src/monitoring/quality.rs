//! Data-quality checks of the current window against the baseline, from the stored
//! summaries: missing and infinite values, numbers outside the baseline's range, categories
//! the baseline never saw, cardinality, volume and freshness.
//!
//! Thresholds (shares of current rows; each check warns first, then fails):
//! - missing values: the current share exceeds the baseline's by more than 0.01, or 0.10;
//! - infinite numbers: any, or more than 0.01;
//! - out of the baseline's [min, max]: more than 0.01, or 0.05;
//! - categories new to the baseline: any, or more than 0.05;
//! - distinct categories: more than 1.2 times the baseline's (warn only);
//! - freshness: the latest production row is more than 1 day, or 7 days, old.

use std::collections::BTreeMap;

use crate::db::Db;
use crate::monitoring::drift::{build_report, empty_report, format_day, kind_name, resolve_view, role_name, ResolvedView, WindowData, DAY_MS};
use crate::monitoring::schema::{ColumnKind, ColumnSpec};
use crate::monitoring::summary::ColumnSummary;
use crate::pages::drift::DriftQuery;
use crate::server::errors::ApiError;
use crate::types::{ColumnQuality, Environment, QualityReport, QualityStatus};

/// New categories listed by name on the page.
const LISTED_NEW_CATEGORIES: usize = 5;

/// Returns the status of a share: fail above `fail`, warn above `warn`, pass otherwise.
fn grade(share: f64, warn: f64, fail: f64) -> QualityStatus {
    if share > fail {
        QualityStatus::Fail
    } else if share > warn {
        QualityStatus::Warn
    } else {
        QualityStatus::Pass
    }
}

fn share(count: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { count as f64 / total as f64 }
}

/// Runs every column check for one column.
pub fn column_quality(spec: &ColumnSpec, reference: &ColumnSummary, current: &ColumnSummary) -> ColumnQuality {
    let mut status = QualityStatus::Pass;
    let mut findings = Vec::new();
    let mut record = |check: QualityStatus, finding: String| {
        if check > QualityStatus::Pass {
            findings.push(finding);
        }
        status = status.max(check);
    };

    let reference_missing = share(reference.missing, reference.rows);
    let current_missing = share(current.missing, current.rows);
    let missing_increase = current_missing - reference_missing;
    record(
        grade(missing_increase, 0.01, 0.10),
        format!("{:.1}% of values are missing, against {:.1}% in the baseline", current_missing * 100.0, reference_missing * 100.0),
    );

    let invalid = share(current.non_finite, current.rows);
    record(
        if current.non_finite == 0 { QualityStatus::Pass } else { grade(invalid, 0.0, 0.01).max(QualityStatus::Warn) },
        format!("{} values ({:.2}%) are infinite", current.non_finite, invalid * 100.0),
    );

    let mut quality = ColumnQuality {
        column: spec.name.clone(),
        role: role_name(spec.role).to_string(),
        kind: kind_name(spec.kind).to_string(),
        reference_missing_share: reference_missing,
        current_missing_share: current_missing,
        current_invalid_share: invalid,
        out_of_range_share: None,
        reference_min: None,
        reference_max: None,
        new_category_share: None,
        new_categories: Vec::new(),
        reference_distinct: 0,
        current_distinct: 0,
        status: QualityStatus::Pass,
        findings: Vec::new(),
    };

    match spec.kind {
        ColumnKind::Numeric => {
            quality.reference_distinct = reference.numbers.len();
            quality.current_distinct = current.numbers.len();
            let min = reference.numbers.first().map(|(value, _)| *value);
            let max = reference.numbers.last().map(|(value, _)| *value);
            if let (Some(min), Some(max)) = (min, max) {
                let outside: u64 = current
                    .numbers
                    .iter()
                    .filter(|(value, _)| *value < min || *value > max)
                    .map(|(_, count)| count)
                    .sum();
                let outside_share = share(outside, current.valid_rows());
                record(
                    grade(outside_share, 0.01, 0.05),
                    format!("{:.1}% of values lie outside the baseline's range {min} to {max}", outside_share * 100.0),
                );
                quality.out_of_range_share = Some(outside_share);
                quality.reference_min = Some(min);
                quality.reference_max = Some(max);
            }
        }
        ColumnKind::Categorical => {
            quality.reference_distinct = reference.categories.len();
            quality.current_distinct = current.categories.len();
            let new: BTreeMap<&String, u64> = current
                .categories
                .iter()
                .filter(|(category, _)| !reference.categories.contains_key(*category))
                .map(|(category, count)| (category, *count))
                .collect();
            let new_rows: u64 = new.values().sum();
            let new_share = share(new_rows, current.valid_rows());
            record(
                if new.is_empty() { QualityStatus::Pass } else { grade(new_share, 0.0, 0.05).max(QualityStatus::Warn) },
                match new.len() {
                    1 => format!("1 category the baseline never saw covers {:.1}% of rows", new_share * 100.0),
                    count => format!("{count} categories the baseline never saw cover {:.1}% of rows", new_share * 100.0),
                },
            );
            let mut listed: Vec<(&String, u64)> = new.into_iter().collect();
            listed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            quality.new_categories = listed.iter().take(LISTED_NEW_CATEGORIES).map(|(category, _)| (*category).clone()).collect();
            quality.new_category_share = Some(new_share);

            let grew = quality.reference_distinct > 0 && quality.current_distinct as f64 > 1.2 * quality.reference_distinct as f64;
            record(
                if grew { QualityStatus::Warn } else { QualityStatus::Pass },
                format!("{} distinct categories, against {} in the baseline", quality.current_distinct, quality.reference_distinct),
            );
        }
    }

    quality.status = status;
    quality.findings = findings;
    quality
}

/// Grades how old the latest production row is.
pub fn freshness_status(latest_row_ms: Option<i64>, now_ms: i64) -> QualityStatus {
    match latest_row_ms {
        None => QualityStatus::Fail,
        Some(latest) => {
            let age_days = (now_ms - latest) as f64 / DAY_MS as f64;
            grade(age_days, 1.0, 7.0)
        }
    }
}

pub async fn quality_report(
    db: &Db,
    workspace_id: i64,
    model_name: &str,
    query: &DriftQuery,
) -> Result<QualityReport, ApiError> {
    let Some(view) = resolve_view(db, workspace_id, model_name, query).await? else {
        return Ok(QualityReport {
            drift: empty_report(db, workspace_id, model_name).await?,
            columns: Vec::new(),
            daily_rows: Vec::new(),
            latest_row_ms: None,
            freshness_status: QualityStatus::Fail,
        });
    };
    let (drift, window) = build_report(db, &view).await?;
    quality_of_view(db, &view, drift, &window).await
}

/// Computes the data-quality report of a resolved view from its drift report and window.
pub(crate) async fn quality_of_view(
    db: &Db,
    view: &ResolvedView,
    drift: crate::types::DriftReport,
    window: &WindowData,
) -> Result<QualityReport, ApiError> {
    // Every row adds one value to each column, so the first column's counts are the volume.
    let mut daily: BTreeMap<i64, u64> = BTreeMap::new();
    if let Some(first) = view.model.schema.columns.first() {
        let window_end = view.to_day_ms + DAY_MS - 1;
        let first_column =
            view.summaries(db, Environment::Production, view.from_day_ms, window_end, Some(&first.name)).await?;
        for (day, _, summary) in first_column {
            *daily.entry(day).or_default() += summary.rows;
        }
    }

    let empty = ColumnSummary::default();
    let mut columns: Vec<ColumnQuality> = view
        .model
        .schema
        .columns
        .iter()
        .map(|spec| {
            let reference = window.reference.get(&spec.name).unwrap_or(&empty);
            column_quality(spec, reference, window.current.get(&spec.name).unwrap_or(&empty))
        })
        .collect();
    columns.sort_by(|a, b| b.status.cmp(&a.status).then(a.column.cmp(&b.column)));

    let latest_row_ms = db.latest_timestamp(view.version_id, Environment::Production).await?;
    Ok(QualityReport {
        drift,
        columns,
        daily_rows: daily.into_iter().map(|(day, rows)| (format_day(day), rows)).collect(),
        latest_row_ms,
        freshness_status: freshness_status(latest_row_ms, crate::db::now_ms()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::schema::ColumnRole;
    use crate::monitoring::summary::SummaryBuilder;

    fn numeric(values: &[Option<f64>]) -> ColumnSummary {
        let mut builder = SummaryBuilder::default();
        for value in values {
            match value {
                Some(value) => builder.add_number(*value),
                None => builder.add_missing(),
            }
        }
        builder.finish()
    }

    fn categorical(values: &[&str]) -> ColumnSummary {
        let mut builder = SummaryBuilder::default();
        for value in values {
            builder.add_category(value);
        }
        builder.finish()
    }

    fn spec(kind: ColumnKind) -> ColumnSpec {
        ColumnSpec::new("x", kind, ColumnRole::Feature)
    }

    #[test]
    fn quality_out_of_range_share_fails() {
        let reference = numeric(&[Some(1.0), Some(5.0), Some(10.0)]);
        let current = numeric(&[Some(2.0), Some(11.0), Some(-1.0), Some(3.0)]);

        let quality = column_quality(&spec(ColumnKind::Numeric), &reference, &current);

        assert_eq!(quality.out_of_range_share, Some(0.5));
        assert_eq!(quality.reference_min, Some(1.0));
        assert_eq!(quality.reference_max, Some(10.0));
        assert_eq!(quality.status, QualityStatus::Fail);
    }

    #[test]
    fn quality_missing_increase_warns() {
        let reference = numeric(&[Some(1.0); 100]);
        let mut values = vec![Some(1.0); 95];
        values.extend([None; 5]);
        let current = numeric(&values);

        let quality = column_quality(&spec(ColumnKind::Numeric), &reference, &current);

        assert_eq!(quality.current_missing_share, 0.05);
        assert_eq!(quality.status, QualityStatus::Warn);
        assert_eq!(quality.findings.len(), 1);
    }

    #[test]
    fn quality_new_category_is_listed() {
        let reference = categorical(&["a", "b", "a"]);
        let current = categorical(&["a", "c", "c", "b"]);

        let quality = column_quality(&spec(ColumnKind::Categorical), &reference, &current);

        assert_eq!(quality.new_categories, vec!["c".to_string()]);
        assert_eq!(quality.new_category_share, Some(0.5));
        assert_eq!(quality.status, QualityStatus::Fail);
    }

    #[test]
    fn quality_identical_data_passes() {
        let reference = categorical(&["a", "b"]);

        let quality = column_quality(&spec(ColumnKind::Categorical), &reference, &reference.clone());

        assert_eq!(quality.status, QualityStatus::Pass);
        assert!(quality.findings.is_empty());
    }

    #[test]
    fn freshness_grades_age() {
        let now = 100 * DAY_MS;
        assert_eq!(freshness_status(Some(now - DAY_MS / 2), now), QualityStatus::Pass);
        assert_eq!(freshness_status(Some(now - 3 * DAY_MS), now), QualityStatus::Warn);
        assert_eq!(freshness_status(Some(now - 8 * DAY_MS), now), QualityStatus::Fail);
        assert_eq!(freshness_status(None, now), QualityStatus::Fail);
    }
}
