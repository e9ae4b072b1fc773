//! `orrery drift`: drift statistics between two files, with no server, for notebooks and CI
//! steps.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

use crate::ingest::{open_path, Cell};
use crate::monitoring::schema::ColumnKind;
use crate::monitoring::stats::{self, StatResult};
use crate::monitoring::summary::SummaryBuilder;

/// Share of drifted columns at which the dataset counts as drifted, as in Evidently.
pub const DEFAULT_DRIFT_SHARE: f64 = 0.5;

#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// Reference (baseline) data: a CSV or Parquet file.
    #[arg(long)]
    pub reference: PathBuf,
    /// Current data: a CSV or Parquet file with the same columns.
    #[arg(long)]
    pub current: PathBuf,
    /// Comma-separated numeric columns. With --numerical or --categorical, only the listed
    /// columns are compared; otherwise every column both files share, with inferred types.
    #[arg(long, value_delimiter = ',')]
    pub numerical: Vec<String>,
    /// Comma-separated categorical columns.
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// Share of drifted columns at which the whole dataset counts as drifted.
    #[arg(long, default_value_t = DEFAULT_DRIFT_SHARE)]
    pub drift_share: f64,
    /// Output format: a table for people, or JSON for programs.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// Both ways one column's values are counted until its type is known.
#[derive(Default)]
struct ColumnCounts {
    numbers: SummaryBuilder,
    labels: SummaryBuilder,
    /// Every non-missing value was a number (strings and booleans make a column categorical).
    all_numeric: bool,
    seen_value: bool,
    /// Timestamps are not compared unless a column list names the column.
    has_timestamps: bool,
}

impl ColumnCounts {
    fn new() -> ColumnCounts {
        ColumnCounts { all_numeric: true, ..ColumnCounts::default() }
    }

    fn add(&mut self, cell: &Cell) {
        match cell {
            Cell::Missing => {
                self.numbers.add_missing();
                self.labels.add_missing();
            }
            Cell::Number(value) => self.add_number(*value, &format_number(*value)),
            Cell::Integer(value) => self.add_number(*value as f64, &value.to_string()),
            Cell::Timestamp(value) => {
                self.has_timestamps = true;
                self.add_number(*value as f64, &value.to_string());
            }
            Cell::Boolean(value) => self.add_label(if *value { "true" } else { "false" }),
            Cell::Text(text) => {
                let trimmed = text.trim();
                if is_missing_marker(trimmed) {
                    self.numbers.add_missing();
                    self.labels.add_missing();
                } else if let Ok(number) = trimmed.parse::<f64>() {
                    self.add_number(number, trimmed);
                } else {
                    self.add_label(trimmed);
                }
            }
        }
    }

    fn add_number(&mut self, value: f64, label: &str) {
        self.seen_value = true;
        self.numbers.add_number(value);
        self.labels.add_category(label);
    }

    fn add_label(&mut self, label: &str) {
        self.seen_value = true;
        self.all_numeric = false;
        self.numbers.add_missing();
        self.labels.add_category(label);
    }
}

fn is_missing_marker(text: &str) -> bool {
    text.is_empty() || ["na", "nan", "null", "none"].contains(&text.to_ascii_lowercase().as_str())
}

/// Formats a float the way it would be written as a label: `2.0` as `2`.
fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

fn read_counts(path: &PathBuf) -> anyhow::Result<(Vec<String>, Vec<ColumnCounts>)> {
    let mut reader = open_path(path)?;
    let columns = reader.columns().to_vec();
    let mut counts: Vec<ColumnCounts> = columns.iter().map(|_| ColumnCounts::new()).collect();
    while let Some(row) = reader.next_row() {
        let row = row?;
        for (index, cell) in row.cells.iter().enumerate() {
            counts[index].add(cell);
        }
    }
    Ok((columns, counts))
}

/// Drift of one column, as printed.
#[derive(Debug, Serialize)]
pub struct ColumnReport {
    pub column: String,
    pub kind: ColumnKind,
    pub method: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub drift: Option<bool>,
    /// Every applicable statistic, with its p-value where the test has one.
    pub statistics: Vec<StatResult>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DriftOutput {
    pub reference_rows: u64,
    pub current_rows: u64,
    pub drifted_columns: usize,
    pub compared_columns: usize,
    pub drift_share: f64,
    pub dataset_drift: bool,
    pub columns: Vec<ColumnReport>,
}

/// Decides which columns to compare and as what: the lists when given, inference otherwise.
fn plan_columns(
    args: &DriftArgs,
    reference_columns: &[String],
    current_columns: &[String],
    reference: &[ColumnCounts],
    current: &[ColumnCounts],
) -> anyhow::Result<Vec<(String, ColumnKind, usize, usize)>> {
    let index_in = |columns: &[String], name: &str| columns.iter().position(|column| column == name);
    let mut planned = Vec::new();

    if !args.numerical.is_empty() || !args.categorical.is_empty() {
        let listed = args
            .numerical
            .iter()
            .map(|name| (name, ColumnKind::Numeric))
            .chain(args.categorical.iter().map(|name| (name, ColumnKind::Categorical)));
        for (name, kind) in listed {
            let (Some(r), Some(c)) = (index_in(reference_columns, name), index_in(current_columns, name)) else {
                anyhow::bail!(
                    "column \"{name}\" is missing from {}; the reference has {} and the current file has {}",
                    if index_in(reference_columns, name).is_none() { "the reference" } else { "the current file" },
                    reference_columns.join(", "),
                    current_columns.join(", ")
                );
            };
            if kind == ColumnKind::Numeric && !(reference[r].all_numeric && current[c].all_numeric) {
                anyhow::bail!(
                    "column \"{name}\" has values that are not numbers; list it under --categorical instead"
                );
            }
            planned.push((name.clone(), kind, r, c));
        }
        return Ok(planned);
    }

    let current_names: BTreeSet<&String> = current_columns.iter().collect();
    for (r, name) in reference_columns.iter().enumerate() {
        if !current_names.contains(name) {
            continue;
        }
        let c = index_in(current_columns, name).expect("the name is in the set");
        if reference[r].has_timestamps || current[c].has_timestamps {
            continue;
        }
        let numeric = reference[r].all_numeric && current[c].all_numeric && reference[r].seen_value;
        let kind = if numeric { ColumnKind::Numeric } else { ColumnKind::Categorical };
        planned.push((name.clone(), kind, r, c));
    }
    Ok(planned)
}

pub fn compute(args: &DriftArgs) -> anyhow::Result<DriftOutput> {
    if !(args.drift_share > 0.0 && args.drift_share <= 1.0) {
        anyhow::bail!("invalid --drift-share {}; use a share above 0 and at most 1, such as 0.5", args.drift_share);
    }
    let (reference_columns, reference) = read_counts(&args.reference)?;
    let (current_columns, current) = read_counts(&args.current)?;
    let planned = plan_columns(args, &reference_columns, &current_columns, &reference, &current)?;
    if planned.is_empty() {
        anyhow::bail!("the files share no columns to compare; check that both have the same header");
    }

    let mut reference_counts: BTreeMap<usize, _> = reference.into_iter().enumerate().collect();
    let mut current_counts: BTreeMap<usize, _> = current.into_iter().enumerate().collect();
    let mut reference_rows = 0;
    let mut current_rows = 0;
    let mut columns = Vec::new();
    for (name, kind, r, c) in planned {
        let reference = reference_counts.remove(&r).expect("each column is planned once");
        let current = current_counts.remove(&c).expect("each column is planned once");
        let (reference, current) = match kind {
            ColumnKind::Numeric => (reference.numbers.finish(), current.numbers.finish()),
            ColumnKind::Categorical => (reference.labels.finish(), current.labels.finish()),
        };
        reference_rows = reference.rows;
        current_rows = current.rows;

        let report = match stats::column_drift(kind, &reference.distribution(kind), &current.distribution(kind)) {
            Ok(drift) => {
                let default = drift.default_result().clone();
                ColumnReport {
                    column: name,
                    kind,
                    method: Some(default.method.display_name().to_string()),
                    value: Some(default.value),
                    threshold: Some(default.threshold),
                    drift: Some(default.drift),
                    statistics: drift.results,
                    error: None,
                }
            }
            Err(error) => ColumnReport {
                column: name,
                kind,
                method: None,
                value: None,
                threshold: None,
                drift: None,
                statistics: Vec::new(),
                error: Some(error.to_string()),
            },
        };
        columns.push(report);
    }

    let drifted_columns = columns.iter().filter(|column| column.drift == Some(true)).count();
    let compared_columns = columns.iter().filter(|column| column.drift.is_some()).count();
    let dataset_drift = compared_columns > 0 && drifted_columns as f64 >= args.drift_share * compared_columns as f64;
    Ok(DriftOutput {
        reference_rows,
        current_rows,
        drifted_columns,
        compared_columns,
        drift_share: args.drift_share,
        dataset_drift,
        columns,
    })
}

pub fn run(args: DriftArgs) -> anyhow::Result<()> {
    let output = compute(&args)?;
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&output)?),
        OutputFormat::Table => print_table(&output),
    }
    Ok(())
}

fn print_table(output: &DriftOutput) {
    println!(
        "{} of {} columns drift ({} reference rows, {} current rows): {}",
        output.drifted_columns,
        output.compared_columns,
        output.reference_rows,
        output.current_rows,
        if output.dataset_drift { "dataset drift" } else { "no dataset drift" }
    );
    println!("{:<24} {:<11} {:<30} {:>12} {:>9} {:<6} other statistics", "column", "type", "method", "value", "threshold", "drift");
    for column in &output.columns {
        let kind = match column.kind {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        };
        if let Some(error) = &column.error {
            println!("{:<24} {:<11} {}", column.column, kind, error);
            continue;
        }
        let others: Vec<String> = column
            .statistics
            .iter()
            .map(|result| match result.p_value {
                Some(p) => format!("{}={:.6} (p={:.3e})", result.method.name(), result.statistic.unwrap_or(f64::NAN), p),
                None => format!("{}={:.6}", result.method.name(), result.value),
            })
            .collect();
        println!(
            "{:<24} {:<11} {:<30} {:>12.6} {:>9} {:<6} {}",
            column.column,
            kind,
            column.method.as_deref().unwrap_or(""),
            column.value.unwrap_or(f64::NAN),
            column.threshold.map(|t| t.to_string()).unwrap_or_default(),
            if column.drift == Some(true) { "yes" } else { "no" },
            others.join(", ")
        );
    }
}
