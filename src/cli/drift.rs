//! `orrery drift`: drift statistics between two files, with no server, for notebooks and CI
//! steps.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use crate::ingest::{open_parquet_path, open_path, Cell, ParquetReader, RecordReader, ValueCounts};
use crate::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec};
use crate::monitoring::stats::chunks::{chunk_bounds, seed_for, ChunkBounds};
use crate::monitoring::stats::{self, StatResult};
use crate::monitoring::summary::SummaryBuilder;

pub use crate::types::DEFAULT_DRIFT_SHARE;

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
    /// Also judge each column against random reference chunks as large as the current file:
    /// drift when its value leaves mean ± 3 standard deviations of the chunks' values. Large
    /// files make p-values tiny; this view sizes the threshold to the sample instead.
    #[arg(long)]
    pub chunks: bool,
    /// Comma-separated COLUMN=METHOD pairs that replace Evidently's pick of drift method, by
    /// stattest name: psi, jensenshannon, wasserstein or ks for numeric columns, and psi,
    /// jensenshannon, chisquare or z for categorical ones. Example: --method age=psi.
    #[arg(long = "method", value_delimiter = ',', value_name = "COLUMN=METHOD")]
    pub methods: Vec<String>,
    /// Comma-separated COLUMN=THRESHOLD pairs that replace the method's default threshold: a
    /// p-value for tests, a distance otherwise. Example: --threshold age=0.2.
    #[arg(long = "threshold", value_delimiter = ',', value_name = "COLUMN=THRESHOLD")]
    pub thresholds: Vec<String>,
    /// Output format: a table for people, or JSON for programs.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// The counts a column needs: both until its type is known, or only those of its listed
/// type, or none for a column that is not compared.
#[derive(Clone, Copy, Default, PartialEq)]
enum CountMode {
    #[default]
    Both,
    Numbers,
    Labels,
    Skip,
}

/// Both ways one column's values are counted until its type is known.
#[derive(Default)]
struct ColumnCounts {
    mode: CountMode,
    numbers: SummaryBuilder,
    labels: SummaryBuilder,
    /// Every non-missing value was a number (strings and booleans make a column categorical).
    all_numeric: bool,
    seen_value: bool,
    /// Timestamps are not compared unless a column list names the column.
    has_timestamps: bool,
    /// The values come from a file with typed columns (Parquet), where missing values are
    /// nulls, so text such as "NA" or "" is a category like any other.
    typed: bool,
    /// Whether the first text that is not a number was checked for a timestamp. Only the
    /// first is checked, because parsing every text value as a date would slow large files.
    timestamp_checked: bool,
}

impl ColumnCounts {
    fn new(mode: CountMode, typed: bool) -> ColumnCounts {
        ColumnCounts { mode, all_numeric: true, typed, ..ColumnCounts::default() }
    }

    fn add(&mut self, cell: &Cell) {
        self.add_times(cell, 1);
    }

    /// Counts `times` copies of one value.
    fn add_times(&mut self, cell: &Cell, times: u64) {
        if self.mode == CountMode::Skip || times == 0 {
            return;
        }
        match cell {
            Cell::Missing => self.add_missing(times),
            Cell::Number(value) => self.add_number(*value, || format_number(*value), times),
            Cell::Integer(value) => self.add_number(*value as f64, || value.to_string(), times),
            Cell::Timestamp(value) => {
                self.has_timestamps = true;
                self.add_number(*value as f64, || value.to_string(), times);
            }
            Cell::Boolean(value) => self.add_label(if *value { "true" } else { "false" }, times),
            Cell::Text(text) if self.typed => match text.trim().parse::<f64>() {
                Ok(number) => self.add_number(number, || text.clone(), times),
                Err(_) => self.add_label(text, times),
            },
            Cell::Text(text) => {
                let trimmed = text.trim();
                if is_missing_marker(trimmed) {
                    self.add_missing(times);
                } else if let Ok(number) = trimmed.parse::<f64>() {
                    self.add_number(number, || trimmed.to_string(), times);
                } else {
                    if !self.timestamp_checked {
                        self.timestamp_checked = true;
                        self.has_timestamps = crate::ingest::parse_timestamp_text(trimmed).is_some();
                    }
                    self.add_label(trimmed, times);
                }
            }
        }
    }

    fn add_missing(&mut self, times: u64) {
        self.numbers.add_missing_times(times);
        self.labels.add_missing_times(times);
    }

    /// Counts a number, and its label (built only when labels are counted).
    fn add_number(&mut self, value: f64, label: impl FnOnce() -> String, times: u64) {
        self.seen_value = true;
        if self.mode != CountMode::Labels {
            self.numbers.add_number_times(value, times);
        }
        if self.mode != CountMode::Numbers {
            self.labels.add_category_times(&label(), times);
        }
    }

    fn add_label(&mut self, label: &str, times: u64) {
        self.seen_value = true;
        self.all_numeric = false;
        if self.mode != CountMode::Labels {
            self.numbers.add_missing_times(times);
        }
        if self.mode != CountMode::Numbers {
            self.labels.add_category_times(label, times);
        }
    }
}

/// Names the column pandas writes for a DataFrame's index (`to_parquet(index=True)`), which
/// pandas reads back as the index, not as data.
fn is_pandas_index(name: &str) -> bool {
    name.starts_with("__index_level_") && name.ends_with("__")
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

/// Counts each column of a file. With column lists, only the listed columns are counted,
/// each only as its listed type; without, every column is counted both ways. Parquet files
/// are counted column by column on every core; other formats row by row.
fn read_counts(path: &Path, args: &DriftArgs) -> anyhow::Result<(Vec<String>, Vec<ColumnCounts>)> {
    let listed = !args.numerical.is_empty() || !args.categorical.is_empty();
    let mode = |name: &String| match (args.numerical.contains(name), args.categorical.contains(name)) {
        _ if !listed => CountMode::Both,
        (true, true) => CountMode::Both,
        (true, false) => CountMode::Numbers,
        (false, true) => CountMode::Labels,
        (false, false) => CountMode::Skip,
    };

    if let Some(reader) = open_parquet_path(path)? {
        let columns = reader.columns().to_vec();
        let mut counts: Vec<ColumnCounts> = columns.iter().map(|name| ColumnCounts::new(mode(name), true)).collect();
        let selected: Vec<usize> = (0..columns.len()).filter(|index| counts[*index].mode != CountMode::Skip).collect();
        for (index, values) in selected.iter().zip(count_parquet_columns(path, reader, &selected)?) {
            // A column of stored numbers is compared as numeric, so its values need no labels,
            // which would cost a string per distinct value.
            let numbers_only = values.values.iter().all(|(cell, _)| matches!(cell, Cell::Number(_) | Cell::Integer(_) | Cell::Timestamp(_)));
            if counts[*index].mode == CountMode::Both && numbers_only {
                counts[*index].mode = CountMode::Numbers;
            }
            counts[*index].add_times(&Cell::Missing, values.missing);
            for (cell, times) in &values.values {
                counts[*index].add_times(cell, *times);
            }
        }
        return Ok((columns, counts));
    }

    let mut reader = open_path(path)?;
    let columns = reader.columns().to_vec();
    let mut counts: Vec<ColumnCounts> = columns.iter().map(|name| ColumnCounts::new(mode(name), false)).collect();
    if listed {
        let selected: Vec<usize> = (0..columns.len()).filter(|index| counts[*index].mode != CountMode::Skip).collect();
        reader.select_columns(&selected);
    }
    while let Some(row) = reader.next_row() {
        let row = row?;
        for (index, cell) in row.cells.iter().enumerate() {
            counts[index].add(cell);
        }
    }
    Ok((columns, counts))
}

/// Counts the distinct values of the `selected` columns of a Parquet file, one column at a time
/// per thread, with a thread per core. Returns the counts in the order of `selected`.
fn count_parquet_columns(
    path: &Path,
    reader: ParquetReader<std::fs::File>,
    selected: &[usize],
) -> anyhow::Result<Vec<ValueCounts>> {
    let threads = std::thread::available_parallelism().map_or(1, |cores| cores.get()).clamp(1, selected.len().max(1));
    let next = AtomicUsize::new(0);
    let counted: Mutex<Vec<Option<ValueCounts>>> = Mutex::new((0..selected.len()).map(|_| None).collect());
    let work = |reader: &ParquetReader<std::fs::File>| -> anyhow::Result<()> {
        loop {
            let job = next.fetch_add(1, Ordering::Relaxed);
            let Some(column) = selected.get(job) else { return Ok(()) };
            let values = reader.count_values(*column)?;
            counted.lock().expect("no thread panics while holding the lock")[job] = Some(values);
        }
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads)
            .map(|_| {
                scope.spawn(|| match open_parquet_path(path)? {
                    Some(reader) => work(&reader),
                    None => anyhow::bail!("{} stopped being a Parquet file while it was read", path.display()),
                })
            })
            .collect();
        let own_result = work(&reader);
        for helper in helpers {
            helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        }
        own_result
    })?;
    Ok(counted
        .into_inner()
        .expect("no thread panics while holding the lock")
        .into_iter()
        .map(|values| values.expect("every job ran"))
        .collect())
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
    /// With --chunks: the chunk-based verdict, or why it could not be computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<ChunkBounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DriftOutput {
    pub reference_rows: u64,
    pub current_rows: u64,
    pub drifted_columns: usize,
    pub compared_columns: usize,
    pub drift_share: f64,
    pub dataset_drift: bool,
    /// With --chunks: columns the chunk-based view flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_drifted_columns: Option<usize>,
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
        if reference[r].has_timestamps || current[c].has_timestamps || is_pandas_index(name) {
            continue;
        }
        let numeric = reference[r].all_numeric && current[c].all_numeric && reference[r].seen_value;
        let kind = if numeric { ColumnKind::Numeric } else { ColumnKind::Categorical };
        planned.push((name.clone(), kind, r, c));
    }
    Ok(planned)
}

/// Reads --method and --threshold into one column spec per planned column, checked as a
/// model schema's overrides are.
fn parse_overrides(
    args: &DriftArgs,
    planned: &[(String, ColumnKind, usize, usize)],
) -> anyhow::Result<BTreeMap<String, ColumnSpec>> {
    let mut specs: BTreeMap<String, ColumnSpec> = planned
        .iter()
        .map(|(name, kind, _, _)| (name.clone(), ColumnSpec::new(name.as_str(), *kind, ColumnRole::Feature)))
        .collect();
    let compared: Vec<&str> = planned.iter().map(|(name, ..)| name.as_str()).collect();
    for (option, pairs) in [("--method", &args.methods), ("--threshold", &args.thresholds)] {
        for pair in pairs {
            let Some((column, value)) = pair.split_once('=') else {
                anyhow::bail!("invalid {option} \"{pair}\"; write COLUMN=VALUE, such as {option} age={}", if option == "--method" { "psi" } else { "0.2" });
            };
            let Some(spec) = specs.get_mut(column.trim()) else {
                anyhow::bail!("{option} names column \"{column}\", which is not compared; the compared columns are {}", compared.join(", "));
            };
            if option == "--method" {
                spec.drift_method = Some(value.trim().to_string());
            } else {
                let threshold = value.trim().parse::<f64>().map_err(|_| {
                    anyhow::anyhow!("invalid {option} \"{pair}\"; the threshold must be a number, such as {column}=0.2")
                })?;
                spec.drift_threshold = Some(threshold);
            }
        }
    }
    for spec in specs.values() {
        crate::server::forms::validate_drift_override(spec).map_err(|message| anyhow::anyhow!(message))?;
    }
    Ok(specs)
}

pub fn compute(args: &DriftArgs) -> anyhow::Result<DriftOutput> {
    if !(args.drift_share > 0.0 && args.drift_share <= 1.0) {
        anyhow::bail!("invalid --drift-share {}; use a share above 0 and at most 1, such as 0.5", args.drift_share);
    }
    let (reference, current) = std::thread::scope(|scope| {
        let current = scope.spawn(|| read_counts(&args.current, args));
        let reference = read_counts(&args.reference, args);
        (reference, current.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let (reference_columns, reference) = reference?;
    let (current_columns, current) = current?;
    let planned = plan_columns(args, &reference_columns, &current_columns, &reference, &current)?;
    if planned.is_empty() {
        anyhow::bail!("the files share no columns to compare; check that both have the same header");
    }

    let overrides = parse_overrides(args, &planned)?;

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

        let (reference_distribution, current_distribution) = (reference.distribution(kind), current.distribution(kind));
        let report = match stats::column_drift(kind, &reference_distribution, &current_distribution) {
            Ok(drift) => {
                let spec = &overrides[&name];
                let method = spec.drift_method.as_deref().and_then(stats::StatMethod::from_name).unwrap_or(drift.default_method);
                let default = if method != drift.default_method || spec.drift_threshold.is_some() {
                    stats::compute(method, &reference_distribution, &current_distribution, spec.drift_threshold)?
                } else {
                    drift.default_result().clone()
                };
                let (chunks, chunks_error) = if args.chunks {
                    match chunk_bounds(default.method, &reference_distribution, &current_distribution, seed_for(&name)) {
                        Ok(bounds) => (Some(bounds), None),
                        Err(error) => (None, Some(error.to_string())),
                    }
                } else {
                    (None, None)
                };
                ColumnReport {
                    column: name,
                    kind,
                    method: Some(default.method.display_name().to_string()),
                    value: Some(default.value),
                    threshold: Some(default.threshold),
                    drift: Some(default.drift),
                    statistics: drift.results,
                    error: None,
                    chunks,
                    chunks_error,
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
                chunks_error: args.chunks.then(|| error.to_string()),
                error: Some(error.to_string()),
                chunks: None,
            },
        };
        columns.push(report);
    }

    let drifted_columns = columns.iter().filter(|column| column.drift == Some(true)).count();
    let compared_columns = columns.iter().filter(|column| column.drift.is_some()).count();
    let dataset_drift = crate::types::is_dataset_drift(drifted_columns, compared_columns, args.drift_share);
    Ok(DriftOutput {
        reference_rows,
        current_rows,
        drifted_columns,
        compared_columns,
        drift_share: args.drift_share,
        dataset_drift,
        chunk_drifted_columns: args
            .chunks
            .then(|| columns.iter().filter(|column| column.chunks.as_ref().is_some_and(|chunks| chunks.drift)).count()),
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
    if let Some(flagged) = output.chunk_drifted_columns {
        println!(
            "{flagged} of {} columns leave mean ± 3 standard deviations of random reference chunks as large as the current file",
            output.compared_columns
        );
    }
    let chunked = output.chunk_drifted_columns.is_some();
    let chunk_header = if chunked { format!(" {:<27} {:<11}", "chunk range", "chunk drift") } else { String::new() };
    println!(
        "{:<24} {:<11} {:<30} {:>12} {:>9} {:<6}{chunk_header} other statistics",
        "column", "type", "method", "value", "threshold", "drift"
    );
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
        let chunk_cells = match (&column.chunks, chunked) {
            (Some(chunks), _) => format!(
                " {:<27} {:<11}",
                format!("{:.6}–{:.6}", chunks.lower, chunks.upper),
                format!("{} ({:.6})", if chunks.drift { "yes" } else { "no" }, chunks.value)
            ),
            (None, true) => format!(" {:<27} {:<11}", "n/a", ""),
            (None, false) => String::new(),
        };
        println!(
            "{:<24} {:<11} {:<30} {:>12.6} {:>9} {:<6}{chunk_cells} {}",
            column.column,
            kind,
            column.method.as_deref().unwrap_or(""),
            column.value.unwrap_or(f64::NAN),
            column.threshold.map(|t| t.to_string()).unwrap_or_default(),
            if column.drift == Some(true) { "yes" } else { "no" },
            others.join(", ")
        );
    }
    for column in &output.columns {
        if let (Some(reason), None) = (&column.chunks_error, &column.error) {
            println!("{}: no chunk-based verdict: {reason}", column.column);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    use super::*;

    fn args(reference: PathBuf, current: PathBuf) -> DriftArgs {
        DriftArgs {
            reference,
            current,
            numerical: Vec::new(),
            categorical: Vec::new(),
            drift_share: DEFAULT_DRIFT_SHARE,
            chunks: false,
            methods: Vec::new(),
            thresholds: Vec::new(),
            format: OutputFormat::Json,
        }
    }

    /// Writes one required text column `country` to a Parquet file.
    fn write_countries(path: &Path, values: &[&str]) {
        let schema = Arc::new(parse_message_type("message m { required binary country (UTF8); }").unwrap());
        let file = std::fs::File::create(path).unwrap();
        let mut writer = SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build())).unwrap();
        let mut group = writer.next_row_group().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        let values: Vec<ByteArray> = values.iter().map(|value| ByteArray::from(*value)).collect();
        column.typed::<ByteArrayType>().write_batch(&values, None, None).unwrap();
        column.close().unwrap();
        group.close().unwrap();
        writer.close().unwrap();
    }

    #[test]
    fn parquet_na_text_is_a_category() {
        let folder = tempfile::tempdir().unwrap();
        let (reference, current) = (folder.path().join("reference.parquet"), folder.path().join("current.parquet"));
        // "NA" is Namibia's country code here. Parquet marks missing values as nulls, so the
        // text "NA" is not missing.
        let mut values = vec!["NA"; 1000];
        values.extend(vec!["ZA"; 1000]);
        write_countries(&reference, &values);
        write_countries(&current, &vec!["ZA"; 2000]);

        let output = compute(&args(reference, current)).unwrap();

        let column = &output.columns[0];
        assert_eq!(column.kind, ColumnKind::Categorical);
        assert_eq!(column.drift, Some(true));
        // Jensen-Shannon distance (natural log) of shares [0.5, 0.5] and [0, 1], by hand:
        // m = [0.25, 0.75], KL(p, m) = 0.5 ln 2 + 0.5 ln(2/3) = 0.1438410,
        // KL(q, m) = ln(4/3) = 0.2876821, sqrt((0.1438410 + 0.2876821) / 2) = 0.4645014.
        assert_eq!(column.method.as_deref(), Some("Jensen-Shannon distance"));
        assert!((column.value.unwrap() - 0.4645014).abs() < 1e-6, "{:?}", column.value);
    }

    #[test]
    fn skips_csv_timestamps_and_pandas_index() {
        let folder = tempfile::tempdir().unwrap();
        let (reference, current) = (folder.path().join("reference.csv"), folder.path().join("current.csv"));
        std::fs::write(&reference, "__index_level_0__,seen_at,plan\n0,2024-01-10 20:17:04,free\n1,2024-01-11,pro\n").unwrap();
        std::fs::write(&current, "__index_level_0__,seen_at,plan\n7,2024-02-01T09:00:00Z,free\n8,2024-02-02,free\n").unwrap();

        let output = compute(&args(reference, current)).unwrap();

        let compared: Vec<&str> = output.columns.iter().map(|column| column.column.as_str()).collect();
        assert_eq!(compared, ["plan"]);
    }
}
