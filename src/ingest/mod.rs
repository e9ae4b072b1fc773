//! Streaming ingestion of model inference files (CSV or Parquet) into validated records.
//!
//! A [`RecordReader`] turns a file into [`RawRow`]s one row at a time, so a large file never sits
//! in memory. A [`SchemaValidator`] then checks each row against the model's
//! [`ModelSchema`](crate::monitoring::schema::ModelSchema) and turns it into a [`ValidRecord`] or
//! a [`RowError`]. [`open_path`] and [`open_bytes`] pick the reader from the file name or content,
//! and [`validate_rows`] chains a reader with a validator.

mod csv_reader;
mod error;
mod json_reader;
mod parquet_pages;
mod parquet_reader;
mod timestamp;
mod validate;

#[cfg(test)]
mod test_support;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use bytes::Bytes;

pub use csv_reader::CsvReader;
pub use error::IngestError;
pub use json_reader::JsonReader;
pub use parquet_reader::{ParquetReader, ValueCounts};
pub use timestamp::{
    format_timestamp_ms, parse_timestamp_text, timestamp_from_float, timestamp_from_integer,
};
pub use validate::{cell_id, cell_value, ColumnValue, RowError, SchemaValidator, ValidRecord};

use crate::monitoring::schema::ModelSchema;

/// One cell of a file row, typed as the file stores it. CSV cells are always `Text` or `Missing`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Missing,
    Number(f64),
    Integer(i64),
    Text(String),
    Boolean(bool),
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp(i64),
}

/// One data row of a file, with its cells in the order of [`RecordReader::columns`].
#[derive(Clone, Debug, PartialEq)]
pub struct RawRow {
    /// 1-based number of the data row, not counting the CSV header row.
    pub row_number: u64,
    pub cells: Vec<Cell>,
}

/// A streaming reader of file rows.
///
/// After `next_row` returns an error for a single row (a ragged CSV row, invalid UTF-8 in a cell),
/// the next call continues with the following row. After an error that affects the whole file
/// (an I/O failure, a damaged Parquet page), every later call returns `None`.
pub trait RecordReader {
    /// Name of the file being read, used in error messages.
    fn file_name(&self) -> &str;

    /// Column names from the CSV header or the Parquet schema, in file order.
    fn columns(&self) -> &[String];

    /// Reads the next row, or returns `None` at the end of the file.
    fn next_row(&mut self) -> Option<Result<RawRow, IngestError>>;

    /// Bytes of the file consumed so far. For Parquet this is an estimate that grows with the
    /// share of rows read from the current row group.
    fn bytes_read(&self) -> u64;

    /// Size of the file in bytes, when known.
    fn total_bytes(&self) -> Option<u64>;

    /// Restricts decoding to the columns at these indices into [`columns`](Self::columns). The
    /// other cells of each row are then [`Cell::Missing`]. Readers that gain nothing from it
    /// (CSV) ignore the call.
    fn select_columns(&mut self, _indices: &[usize]) {}
}

/// File formats that can be ingested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Parquet,
    /// A JSON array of records, an object with a `records` array, or one object per line.
    Json,
}

/// File name extensions that [`FileFormat::from_file_name`] accepts, in lower case, for upload
/// forms and help text.
pub const ACCEPTED_EXTENSIONS: [&str; 6] = ["csv", "parquet", "pq", "json", "ndjson", "jsonl"];

/// Bytes read to detect the format of a file whose name has no extension.
const SNIFF_BYTES: usize = 512;

/// First four bytes (and last four bytes) of every Parquet file.
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

impl FileFormat {
    /// Detects the format from the file name's extension, ignoring case.
    ///
    /// Returns `Ok(None)` when the name has no extension, so the caller can fall back to
    /// [`FileFormat::from_content`], and an error for any extension other than `.csv`,
    /// `.parquet` or `.pq`.
    pub fn from_file_name(file_name: &str) -> Result<Option<FileFormat>, IngestError> {
        let base_name = Path::new(file_name)
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or(file_name);
        let Some((_, extension)) = base_name.rsplit_once('.') else {
            return Ok(None);
        };
        if extension.is_empty() {
            return Ok(None);
        }

        match extension.to_ascii_lowercase().as_str() {
            "csv" => Ok(Some(FileFormat::Csv)),
            "parquet" | "pq" => Ok(Some(FileFormat::Parquet)),
            "json" | "ndjson" | "jsonl" => Ok(Some(FileFormat::Json)),
            _ => Err(IngestError::UnsupportedExtension {
                file: file_name.to_string(),
                extension: extension.to_string(),
            }),
        }
    }

    /// Detects the format from the first bytes of the file: Parquet when they are the `PAR1`
    /// magic number, JSON when the first non-blank byte opens an object or array, CSV
    /// otherwise.
    pub fn from_content(first_bytes: &[u8]) -> FileFormat {
        let first_text = first_bytes.iter().find(|byte| !byte.is_ascii_whitespace());
        if first_bytes.starts_with(PARQUET_MAGIC) {
            FileFormat::Parquet
        } else if matches!(first_text, Some(b'{') | Some(b'[')) {
            FileFormat::Json
        } else {
            FileFormat::Csv
        }
    }

    /// Detects the format from the file name, or from the content when the name has no extension.
    pub fn detect(file_name: &str, first_bytes: &[u8]) -> Result<FileFormat, IngestError> {
        match FileFormat::from_file_name(file_name)? {
            Some(format) => Ok(format),
            None => Ok(FileFormat::from_content(first_bytes)),
        }
    }
}

/// Opens a file on disk with the reader for its format.
pub fn open_path(path: &Path) -> Result<Box<dyn RecordReader + Send>, IngestError> {
    open_path_as(path, &path.display().to_string())
}

/// Opens a file on disk, naming it `file_name` in messages and picking its format by that
/// name: an upload spooled to a temporary path keeps the name its sender gave it.
pub fn open_path_as(path: &Path, file_name: &str) -> Result<Box<dyn RecordReader + Send>, IngestError> {
    let format = path_format(path, file_name)?;
    let file = File::open(path).map_err(|source| io_error(file_name, source))?;
    let total_bytes = file.metadata().map_err(|source| io_error(file_name, source))?.len();
    match format {
        FileFormat::Csv => Ok(Box::new(CsvReader::new(file_name, file, Some(total_bytes))?)),
        FileFormat::Parquet => Ok(Box::new(ParquetReader::new(file_name, file)?)),
        FileFormat::Json => Ok(Box::new(JsonReader::new(file_name, file, Some(total_bytes))?)),
    }
}

/// Opens a file on disk as Parquet when its name or first bytes mark it as one, for callers
/// that read Parquet column by column and everything else row by row.
pub fn open_parquet_path(path: &Path) -> Result<Option<ParquetReader<File>>, IngestError> {
    let file_name = path.display().to_string();
    if path_format(path, &file_name)? != FileFormat::Parquet {
        return Ok(None);
    }
    let file = File::open(path).map_err(|source| io_error(&file_name, source))?;
    Ok(Some(ParquetReader::new(&file_name, file)?))
}

/// Detects the format of a file on disk from its extension, or from its first bytes without one.
fn path_format(path: &Path, file_name: &str) -> Result<FileFormat, IngestError> {
    if let Some(format) = FileFormat::from_file_name(file_name)? {
        return Ok(format);
    }
    let mut first_bytes = Vec::with_capacity(SNIFF_BYTES);
    File::open(path)
        .and_then(|file| file.take(SNIFF_BYTES as u64).read_to_end(&mut first_bytes))
        .map_err(|source| io_error(file_name, source))?;
    Ok(FileFormat::from_content(&first_bytes))
}

fn io_error(file_name: &str, source: std::io::Error) -> IngestError {
    IngestError::Io { file: file_name.to_string(), source }
}

/// Opens an in-memory file, such as a demo file embedded in the binary, with the reader for its
/// format. `file_name` picks the format and names the file in error messages.
pub fn open_bytes(
    file_name: &str,
    data: Bytes,
) -> Result<Box<dyn RecordReader + Send>, IngestError> {
    let format = FileFormat::detect(file_name, &data)?;
    match format {
        FileFormat::Csv => {
            let total_bytes = data.len() as u64;
            let reader = std::io::Cursor::new(data);
            Ok(Box::new(CsvReader::new(
                file_name,
                reader,
                Some(total_bytes),
            )?))
        }
        FileFormat::Parquet => Ok(Box::new(ParquetReader::new(file_name, data)?)),
        FileFormat::Json => {
            let total_bytes = data.len() as u64;
            Ok(Box::new(JsonReader::new(file_name, std::io::Cursor::new(data), Some(total_bytes))?))
        }
    }
}

/// Iterator of validated records from a reader. A row that fails validation comes out as
/// [`IngestError::Row`], and iteration goes on with the next row.
pub struct ValidatedRows<R: RecordReader + ?Sized> {
    validator: SchemaValidator,
    reader: Box<R>,
}

impl<R: RecordReader + ?Sized> ValidatedRows<R> {
    /// Returns the underlying reader, for progress through [`RecordReader::bytes_read`].
    pub fn reader(&self) -> &R {
        &self.reader
    }

    pub fn validator(&self) -> &SchemaValidator {
        &self.validator
    }
}

impl<R: RecordReader + ?Sized> Iterator for ValidatedRows<R> {
    type Item = Result<ValidRecord, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        let row = match self.reader.next_row()? {
            Ok(row) => row,
            Err(error) => return Some(Err(error)),
        };
        let record = self
            .validator
            .validate(&row)
            .map_err(|error| IngestError::Row {
                file: self.reader.file_name().to_string(),
                error,
            });
        Some(record)
    }
}

/// Checks the reader's columns against the schema and returns an iterator of validated records.
///
/// Fails with [`IngestError::MissingColumns`] when the file lacks the id column, the timestamp
/// column or any monitored column. Only the columns the schema uses are decoded.
pub fn validate_rows<R: RecordReader + ?Sized>(
    mut reader: Box<R>,
    schema: &ModelSchema,
) -> Result<ValidatedRows<R>, IngestError> {
    let validator = SchemaValidator::new(schema, reader.file_name(), reader.columns())?;
    reader.select_columns(&validator.used_column_indices());
    Ok(ValidatedRows { validator, reader })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::test_support::{demo_data_bytes, demo_data_path};
    use super::*;
    use crate::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec};

    fn spec(name: &str, kind: ColumnKind, role: ColumnRole) -> ColumnSpec {
        ColumnSpec::new(name.to_string(), kind, role)
    }

    /// Census model schema as the demo declares it: the `year` column is the timestamp.
    fn census_schema() -> ModelSchema {
        ModelSchema {
            id_column: "id".to_string(),
            timestamp_column: "year".to_string(),
            columns: vec![
                spec("AGEP", ColumnKind::Numeric, ColumnRole::Feature),
                spec("SCHL", ColumnKind::Categorical, ColumnRole::Feature),
                spec("SEX", ColumnKind::Categorical, ColumnRole::Feature),
                spec(
                    "prediction",
                    ColumnKind::Categorical,
                    ColumnRole::Prediction,
                ),
                spec(
                    "predicted_probability",
                    ColumnKind::Numeric,
                    ColumnRole::PredictionScore,
                ),
                spec("employed", ColumnKind::Categorical, ColumnRole::Actual),
            ],
        }
    }

    /// Writes `contents` to a new file in the temporary folder and returns its path.
    fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
        let folder =
            std::env::temp_dir().join(format!("orrery-ingest-test-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn format_from_file_name() {
        let cases = [
            ("data.csv", Some(FileFormat::Csv)),
            ("DATA.CSV", Some(FileFormat::Csv)),
            ("dir.v2/data.parquet", Some(FileFormat::Parquet)),
            ("data.pq", Some(FileFormat::Parquet)),
            ("data", None),
            ("dir.v2/data", None),
            ("data.", None),
        ];
        for (name, expected) in cases {
            assert_eq!(
                FileFormat::from_file_name(name).unwrap(),
                expected,
                "name {name:?}"
            );
        }
    }

    #[test]
    fn format_unknown_extension_names_file() {
        let error = FileFormat::from_file_name("inferences.xlsx").unwrap_err();

        assert_eq!(
            error.to_string(),
            "inferences.xlsx has the unsupported extension \".xlsx\". Upload a file ending in \
             .csv, .parquet, .pq, .json, .ndjson or .jsonl, or remove the extension to detect the \
             format from the content."
        );
    }

    #[test]
    fn format_from_content_magic() {
        assert_eq!(
            FileFormat::from_content(b"PAR1\x15\x04"),
            FileFormat::Parquet
        );
        assert_eq!(FileFormat::from_content(b"id,ts\n"), FileFormat::Csv);
        assert_eq!(FileFormat::from_content(b""), FileFormat::Csv);
        assert_eq!(
            FileFormat::detect("upload", b"PAR1").unwrap(),
            FileFormat::Parquet
        );
        assert_eq!(
            FileFormat::detect("upload.csv", b"PAR1").unwrap(),
            FileFormat::Csv
        );
    }

    #[test]
    fn open_path_detects_parquet_without_extension() {
        let data = demo_data_bytes("us_census_ma_employment.parquet");
        let path = temp_file("census-no-extension", &data);

        let mut reader = open_path(&path).unwrap();
        assert_eq!(reader.columns()[0], "id");
        assert_eq!(
            reader.next_row().unwrap().unwrap().cells[0],
            Cell::Integer(0)
        );
        assert_eq!(reader.total_bytes(), Some(data.len() as u64));
    }

    #[test]
    fn open_path_reads_csv() {
        let path = temp_file("small.csv", b"id,year\n1,2015\n");

        let mut reader = open_path(&path).unwrap();
        assert_eq!(reader.columns(), ["id", "year"]);
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(
            row.cells,
            [Cell::Text("1".into()), Cell::Text("2015".into())]
        );
        assert!(reader.next_row().is_none());
    }

    #[test]
    fn open_path_empty_files_are_errors() {
        for name in ["empty.csv", "empty.parquet", "empty"] {
            let path = temp_file(name, b"");
            let error = open_path(&path).err().unwrap();
            assert!(
                matches!(error, IngestError::EmptyFile { .. }),
                "{name}: {error:?}"
            );
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn open_path_missing_file_names_path() {
        let error = open_path(Path::new("/nonexistent/orrery/data.csv"))
            .err()
            .unwrap();

        assert!(matches!(error, IngestError::Io { .. }), "{error:?}");
        assert!(
            error
                .to_string()
                .starts_with("failed to read /nonexistent/orrery/data.csv: "),
            "{error}"
        );
    }

    #[test]
    fn open_bytes_reads_csv_and_parquet() {
        let mut csv = open_bytes("inline.csv", Bytes::from_static(b"a,b\n1,2\n")).unwrap();
        assert_eq!(csv.columns(), ["a", "b"]);
        assert_eq!(csv.next_row().unwrap().unwrap().row_number, 1);

        let parquet =
            open_bytes("flights", demo_data_bytes("nycflights13_flights.parquet")).unwrap();
        assert_eq!(parquet.columns()[1], "time_hour");
    }

    #[test]
    fn census_validated_rows_per_year() {
        let reader = open_path(&demo_data_path("us_census_ma_employment.parquet")).unwrap();
        let mut rows = validate_rows(reader, &census_schema()).unwrap();

        // First row from pyarrow 26:
        // pq.read_table("demo-data/us_census_ma_employment.parquet").slice(0, 1).to_pylist()
        // gives id 0, AGEP 62.0, SCHL "16", SEX "2", prediction 0, predicted_probability
        // 0.12121149704607134, employed 0, year 2015.
        let first = rows.next().unwrap().unwrap();
        assert_eq!(first.row_number, 1);
        assert_eq!(first.record_id, "0");
        assert_eq!(
            format_timestamp_ms(first.timestamp_ms),
            "2015-01-01T00:00:00Z"
        );
        let expected = vec![
            Some(ColumnValue::Number(62.0)),
            Some(ColumnValue::Category("16".into())),
            Some(ColumnValue::Category("2".into())),
            Some(ColumnValue::Category("0".into())),
            Some(ColumnValue::Number(0.12121149704607134)),
            Some(ColumnValue::Category("0".into())),
        ];
        assert_eq!(first.values, expected);

        let mut rows_per_year = BTreeMap::from([(format_timestamp_ms(first.timestamp_ms), 1u64)]);
        for record in rows.by_ref() {
            let record = record.unwrap();
            *rows_per_year
                .entry(format_timestamp_ms(record.timestamp_ms))
                .or_insert(0) += 1;
        }

        // Counts from pyarrow: pc.value_counts(table["year"]).
        let expected = BTreeMap::from([
            ("2015-01-01T00:00:00Z".to_string(), 68_785),
            ("2016-01-01T00:00:00Z".to_string(), 69_126),
            ("2017-01-01T00:00:00Z".to_string(), 69_635),
            ("2018-01-01T00:00:00Z".to_string(), 70_131),
        ]);
        assert_eq!(rows_per_year, expected);
        assert_eq!(rows_per_year.values().sum::<u64>(), 277_677);
        assert_eq!(
            rows.reader().bytes_read(),
            rows.reader().total_bytes().unwrap()
                - footer_bytes(&demo_data_path("us_census_ma_employment.parquet"))
        );
    }

    /// Bytes after the last row group: footer metadata, its length and the closing magic number.
    fn footer_bytes(path: &Path) -> u64 {
        let data = std::fs::read(path).unwrap();
        let metadata_length =
            u32::from_le_bytes(data[data.len() - 8..data.len() - 4].try_into().unwrap());
        // The file starts with a 4-byte magic number that no row group covers.
        u64::from(metadata_length) + 8 + 4
    }

    #[test]
    fn flights_validated_with_time_hour() {
        let schema = ModelSchema {
            id_column: "id".to_string(),
            timestamp_column: "time_hour".to_string(),
            columns: vec![
                spec("dep_delay", ColumnKind::Numeric, ColumnRole::Feature),
                spec("distance", ColumnKind::Numeric, ColumnRole::Feature),
                spec("carrier", ColumnKind::Categorical, ColumnRole::Feature),
                spec("y_pred", ColumnKind::Categorical, ColumnRole::Prediction),
                spec(
                    "y_pred_proba",
                    ColumnKind::Numeric,
                    ColumnRole::PredictionScore,
                ),
                spec("delayed", ColumnKind::Categorical, ColumnRole::Actual),
            ],
        };
        let reader = open_bytes(
            "nycflights13_flights.parquet",
            demo_data_bytes("nycflights13_flights.parquet"),
        )
        .unwrap();
        let mut rows = validate_rows(reader, &schema).unwrap();

        // First row from pyarrow 26: id 1, time_hour 2013-01-01 10:00 UTC, dep_delay 2.0,
        // distance 1400, carrier "UA", y_pred 0, y_pred_proba 0.138493, delayed 0.
        let first = rows.next().unwrap().unwrap();
        assert_eq!(first.record_id, "1");
        assert_eq!(
            format_timestamp_ms(first.timestamp_ms),
            "2013-01-01T10:00:00Z"
        );
        let expected = vec![
            Some(ColumnValue::Number(2.0)),
            Some(ColumnValue::Number(1400.0)),
            Some(ColumnValue::Category("UA".into())),
            Some(ColumnValue::Category("0".into())),
            Some(ColumnValue::Number(0.138493)),
            Some(ColumnValue::Category("0".into())),
        ];
        assert_eq!(first.values, expected);

        let mut count = 1u64;
        let mut earliest = first.timestamp_ms;
        let mut latest = first.timestamp_ms;
        for record in rows {
            let record = record.unwrap();
            earliest = earliest.min(record.timestamp_ms);
            latest = latest.max(record.timestamp_ms);
            count += 1;
        }
        assert_eq!(count, 327_346);
        // pc.min_max(table["time_hour"]) gives 2013-01-01 10:00 and 2014-01-01 04:00 UTC.
        assert_eq!(format_timestamp_ms(earliest), "2013-01-01T10:00:00Z");
        assert_eq!(format_timestamp_ms(latest), "2014-01-01T04:00:00Z");
    }

    #[test]
    fn validate_rows_missing_column_is_file_error() {
        let reader = open_bytes(
            "flights.parquet",
            demo_data_bytes("nycflights13_flights.parquet"),
        )
        .unwrap();
        let error = validate_rows(reader, &census_schema()).err().unwrap();

        let IngestError::MissingColumns {
            missing, available, ..
        } = &error
        else {
            panic!("unexpected error {error:?}");
        };
        let expected_missing = [
            "year",
            "AGEP",
            "SCHL",
            "SEX",
            "prediction",
            "predicted_probability",
            "employed",
        ];
        assert_eq!(missing, &expected_missing);
        assert_eq!(available.len(), 21);
    }

    #[test]
    fn validate_rows_reports_row_errors_and_continues() {
        let csv = "id,year,AGEP,SCHL,SEX,prediction,predicted_probability,employed\n\
                   1,2015,40,16,1,0,0.2,0\n\
                   2,2015,forty,16,1,0,0.2,0\n\
                   3,2015,40,16\n\
                   ,2015,40,16,1,0,0.2,0\n\
                   5,someday,40,16,1,0,0.2,0\n\
                   6,2018-06-30,40,16,1,1,0.9,1\n";
        let reader = open_bytes("mixed.csv", Bytes::from(csv)).unwrap();
        let results: Vec<_> = validate_rows(reader, &census_schema()).unwrap().collect();

        assert_eq!(results.len(), 6);
        assert_eq!(results[0].as_ref().unwrap().record_id, "1");
        let messages: Vec<String> = results[1..5]
            .iter()
            .map(|result| result.as_ref().unwrap_err().to_string())
            .collect();
        assert_eq!(
            messages[0],
            "mixed.csv: row 2, column \"AGEP\": \"forty\" is not a number. Declare the column \
             categorical or fix the value."
        );
        assert!(
            messages[1].starts_with("mixed.csv, row 3: the row has 4 fields but the header has 8."),
            "{}",
            messages[1]
        );
        assert!(
            messages[2].starts_with("mixed.csv: row 4, column \"id\": the record id is missing."),
            "{}",
            messages[2]
        );
        assert!(
            messages[3]
                .starts_with("mixed.csv: row 5, column \"year\": \"someday\" is not a timestamp."),
            "{}",
            messages[3]
        );
        let last = results[5].as_ref().unwrap();
        assert_eq!(last.row_number, 6);
        assert_eq!(
            format_timestamp_ms(last.timestamp_ms),
            "2018-06-30T00:00:00Z"
        );
    }
}
