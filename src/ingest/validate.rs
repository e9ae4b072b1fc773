//! Validation of file rows against a model's declared schema.

use crate::monitoring::schema::{ColumnKind, ModelSchema};

use super::timestamp::{
    format_timestamp_ms, parse_timestamp_text, timestamp_from_float, timestamp_from_integer,
};
use super::{Cell, IngestError, RawRow};

/// A monitored value after conversion to its declared kind.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnValue {
    /// Value of a numeric column. It may be infinite, but NaN is stored as a missing value instead.
    Number(f64),
    /// Value of a categorical column.
    Category(String),
}

/// A row that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidRecord {
    /// 1-based data row number in the file.
    pub row_number: u64,
    pub record_id: String,
    /// Milliseconds since the Unix epoch, UTC.
    pub timestamp_ms: i64,
    /// One entry per `ModelSchema::columns`, in that order, with `None` for a missing value.
    pub values: Vec<Option<ColumnValue>>,
}

/// A problem with one cell of one row. `message` states what is wrong and how to fix it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("row {row}, column {column:?}: {message}")]
pub struct RowError {
    pub row: u64,
    pub column: String,
    /// The cell as it appears in the file, or empty for a missing value.
    pub value: String,
    pub message: String,
}

/// Checks rows of one file against a schema. Built once per file from the file's columns.
#[derive(Clone, Debug)]
pub struct SchemaValidator {
    id_column: String,
    timestamp_column: String,
    id_index: usize,
    timestamp_index: usize,
    /// Per `ModelSchema::columns`: name, kind and index into the file's columns.
    monitored: Vec<(String, ColumnKind, usize)>,
}

impl SchemaValidator {
    /// Finds the schema's columns among `file_columns`. Fails with
    /// [`IngestError::MissingColumns`] listing every missing name and the columns the file has.
    pub fn new(
        schema: &ModelSchema,
        file_name: &str,
        file_columns: &[String],
    ) -> Result<Self, IngestError> {
        let mut missing = Vec::new();
        let mut find = |name: &str| {
            let index = file_columns.iter().position(|column| column == name);
            if index.is_none() && !missing.iter().any(|missing_name| missing_name == name) {
                missing.push(name.to_string());
            }
            index.unwrap_or(usize::MAX)
        };

        let id_index = find(&schema.id_column);
        let timestamp_index = find(&schema.timestamp_column);
        let monitored: Vec<(String, ColumnKind, usize)> = schema
            .columns
            .iter()
            .map(|spec| (spec.name.clone(), spec.kind, find(&spec.name)))
            .collect();

        if !missing.is_empty() {
            return Err(IngestError::MissingColumns {
                file: file_name.to_string(),
                missing,
                available: file_columns.to_vec(),
            });
        }

        Ok(SchemaValidator {
            id_column: schema.id_column.clone(),
            timestamp_column: schema.timestamp_column.clone(),
            id_index,
            timestamp_index,
            monitored,
        })
    }

    /// Indices into the file's columns that validation reads, without repeats.
    pub fn used_column_indices(&self) -> Vec<usize> {
        let mut indices = vec![self.id_index, self.timestamp_index];
        indices.extend(self.monitored.iter().map(|(_, _, index)| *index));
        indices.sort_unstable();
        indices.dedup();
        indices
    }

    /// Converts a row to a record, or returns the first problem found in column order: id,
    /// timestamp, then the monitored columns.
    pub fn validate(&self, row: &RawRow) -> Result<ValidRecord, RowError> {
        let cell_at = |index: usize| row.cells.get(index).unwrap_or(&Cell::Missing);
        let error = |column: &str, cell: &Cell, message: String| RowError {
            row: row.row_number,
            column: column.to_string(),
            value: cell_text(cell),
            message,
        };

        let id_cell = cell_at(self.id_index);
        let record_id = match cell_to_label(id_cell) {
            Some(id) => id,
            None => {
                let message =
                    "the record id is missing. Every row needs an id, so fill in the value or \
                               remove the row."
                        .to_string();
                return Err(error(&self.id_column, id_cell, message));
            }
        };

        let timestamp_cell = cell_at(self.timestamp_index);
        let timestamp_ms = cell_to_timestamp(timestamp_cell)
            .map_err(|message| error(&self.timestamp_column, timestamp_cell, message))?;

        let mut values = Vec::with_capacity(self.monitored.len());
        for (name, kind, index) in &self.monitored {
            let cell = cell_at(*index);
            let value = match kind {
                ColumnKind::Numeric => cell_to_number(cell)
                    .map_err(|message| error(name, cell, message))?
                    .map(ColumnValue::Number),
                ColumnKind::Categorical => cell_to_label(cell).map(ColumnValue::Category),
            };
            values.push(value);
        }

        Ok(ValidRecord {
            row_number: row.row_number,
            record_id,
            timestamp_ms,
            values,
        })
    }
}

/// Converts one cell of a column of `kind` as a row's cell would be converted: `Ok(None)` for a
/// missing value, an error message for a number that does not parse.
pub fn cell_value(kind: ColumnKind, cell: &Cell) -> Result<Option<ColumnValue>, String> {
    Ok(match kind {
        ColumnKind::Numeric => cell_to_number(cell)?.map(ColumnValue::Number),
        ColumnKind::Categorical => cell_to_label(cell).map(ColumnValue::Category),
    })
}

/// Converts a cell to the text of a record id, or `None` when it is missing.
pub fn cell_id(cell: &Cell) -> Option<String> {
    cell_to_label(cell)
}

/// Converts a cell to the text of an id or category, or `None` when it is missing.
///
/// Integers and whole floats give their integer text (`1`, not `1.0`), so a category stored as
/// numbers in Parquet and as `1.0` in a CSV written by pandas gives the same label. Other text is
/// kept as it is, including leading zeros (`02139`).
fn cell_to_label(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Missing => None,
        Cell::Number(number) if number.is_nan() => None,
        Cell::Number(number) => Some(format_number_label(*number)),
        Cell::Integer(integer) => Some(integer.to_string()),
        Cell::Boolean(flag) => Some(flag.to_string()),
        Cell::Timestamp(millis) => Some(format_timestamp_ms(*millis)),
        Cell::Text(text) => Some(strip_zero_fraction(text).to_string()),
    }
}

/// Integer text for whole numbers that `f64` stores exactly, Rust's shortest round-trip text
/// (`0.5`, `inf`) otherwise.
fn format_number_label(number: f64) -> String {
    // 2^53: above it, not every integer has an exact f64.
    const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;
    if number.fract() == 0.0 && number.abs() <= EXACT_INTEGER_LIMIT {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

/// Turns `12.0` or `-3.00` into `12` or `-3`, and returns any other text unchanged.
fn strip_zero_fraction(text: &str) -> &str {
    let Some((whole, fraction)) = text.split_once('.') else {
        return text;
    };
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    let is_whole_number = !digits.is_empty()
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && !fraction.is_empty()
        && fraction.bytes().all(|byte| byte == b'0');
    if is_whole_number {
        whole
    } else {
        text
    }
}

/// Converts a cell of a numeric column. `Ok(None)` is a missing value, and NaN counts as missing.
fn cell_to_number(cell: &Cell) -> Result<Option<f64>, String> {
    match cell {
        Cell::Missing => Ok(None),
        Cell::Number(number) if number.is_nan() => Ok(None),
        Cell::Number(number) => Ok(Some(*number)),
        Cell::Integer(integer) => Ok(Some(*integer as f64)),
        Cell::Boolean(flag) => Ok(Some(if *flag { 1.0 } else { 0.0 })),
        Cell::Text(text) => match text.trim().parse::<f64>() {
            Ok(number) if number.is_nan() => Ok(None),
            Ok(number) => Ok(Some(number)),
            Err(_) => Err(format!(
                "{text:?} is not a number. Declare the column categorical or fix the value."
            )),
        },
        Cell::Timestamp(millis) => Err(format!(
            "{:?} is a timestamp, not a number. Declare the column categorical or remove it from \
             the schema.",
            format_timestamp_ms(*millis)
        )),
    }
}

fn cell_to_timestamp(cell: &Cell) -> Result<i64, String> {
    let converted =
        match cell {
            Cell::Missing => return Err(
                "the timestamp is missing. Every row needs a timestamp, so fill in the value or \
                        remove the row."
                    .to_string(),
            ),
            Cell::Timestamp(millis) => Some(*millis),
            Cell::Integer(integer) => timestamp_from_integer(*integer),
            Cell::Number(number) => timestamp_from_float(*number),
            Cell::Text(text) => parse_timestamp_text(text),
            Cell::Boolean(_) => None,
        };
    converted.ok_or_else(|| {
        format!(
            "{:?} is not a timestamp. Write it in RFC 3339 (2015-01-31T08:00:00Z), as \
             \"YYYY-MM-DD HH:MM:SS\" in UTC, as \"YYYY-MM-DD\", as a four-digit year or as Unix \
             seconds.",
            cell_text(cell)
        )
    })
}

/// Formats a cell as text for error messages.
fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Missing => String::new(),
        Cell::Number(number) => format!("{number}"),
        Cell::Integer(integer) => integer.to_string(),
        Cell::Text(text) => text.clone(),
        Cell::Boolean(flag) => flag.to_string(),
        Cell::Timestamp(millis) => format_timestamp_ms(*millis),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{CsvReader, RecordReader};
    use crate::monitoring::schema::{ColumnRole, ColumnSpec};

    fn spec(name: &str, kind: ColumnKind, role: ColumnRole) -> ColumnSpec {
        ColumnSpec::new(name.to_string(), kind, role)
    }

    fn schema() -> ModelSchema {
        ModelSchema {
            id_column: "id".to_string(),
            timestamp_column: "ts".to_string(),
            columns: vec![
                spec("AGEP", ColumnKind::Numeric, ColumnRole::Feature),
                spec("SCHL", ColumnKind::Categorical, ColumnRole::Feature),
                spec(
                    "prediction",
                    ColumnKind::Categorical,
                    ColumnRole::Prediction,
                ),
            ],
        }
    }

    /// Validates every row of an inline CSV file against [`schema`].
    fn validate_csv(text: &str) -> Vec<Result<ValidRecord, RowError>> {
        let mut reader = CsvReader::new("inline.csv", text.as_bytes(), None).unwrap();
        let validator = SchemaValidator::new(&schema(), "inline.csv", reader.columns()).unwrap();
        std::iter::from_fn(|| reader.next_row())
            .map(|row| validator.validate(&row.unwrap()))
            .collect()
    }

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn csv_valid_rows_follow_schema_order() {
        let results = validate_csv(
            "prediction,SCHL,extra,AGEP,ts,id\n\
             1,16,x,62,2015,a1\n\
             0.0,021, ,NA,2016-03-01 08:00:00,a2\n",
        );

        let first = results[0].as_ref().unwrap();
        assert_eq!(first.row_number, 1);
        assert_eq!(first.record_id, "a1");
        assert_eq!(
            format_timestamp_ms(first.timestamp_ms),
            "2015-01-01T00:00:00Z"
        );
        assert_eq!(
            first.values,
            [
                Some(ColumnValue::Number(62.0)),
                Some(ColumnValue::Category("16".into())),
                Some(ColumnValue::Category("1".into())),
            ]
        );

        let second = results[1].as_ref().unwrap();
        assert_eq!(
            format_timestamp_ms(second.timestamp_ms),
            "2016-03-01T08:00:00Z"
        );
        assert_eq!(second.values[0], None, "NA is missing");
        assert_eq!(
            second.values[1],
            Some(ColumnValue::Category("021".into())),
            "leading zero kept"
        );
        assert_eq!(
            second.values[2],
            Some(ColumnValue::Category("0".into())),
            "0.0 becomes 0"
        );
    }

    #[test]
    fn csv_non_numeric_value_names_row() {
        let results = validate_csv("id,ts,AGEP,SCHL,prediction\n1,2015,40,1,1\n2,2015,abc,1,1\n");

        assert!(results[0].is_ok());
        let error = results[1].as_ref().unwrap_err();
        assert_eq!(error.row, 2);
        assert_eq!(error.column, "AGEP");
        assert_eq!(error.value, "abc");
        assert_eq!(
            error.to_string(),
            "row 2, column \"AGEP\": \"abc\" is not a number. Declare the column categorical or \
             fix the value."
        );
    }

    #[test]
    fn csv_bad_timestamp_names_row_and_formats() {
        let results = validate_csv("id,ts,AGEP,SCHL,prediction\n1,31/01/2015,40,1,1\n");

        let error = results[0].as_ref().unwrap_err();
        assert_eq!(error.column, "ts");
        assert_eq!(error.value, "31/01/2015");
        assert_eq!(
            error.to_string(),
            "row 1, column \"ts\": \"31/01/2015\" is not a timestamp. Write it in RFC 3339 \
             (2015-01-31T08:00:00Z), as \"YYYY-MM-DD HH:MM:SS\" in UTC, as \"YYYY-MM-DD\", as a \
             four-digit year or as Unix seconds."
        );
    }

    #[test]
    fn csv_missing_id_is_row_error() {
        let results = validate_csv("id,ts,AGEP,SCHL,prediction\n,2015,40,1,1\nnull,2015,40,1,1\n");

        for (index, result) in results.iter().enumerate() {
            let error = result.as_ref().unwrap_err();
            assert_eq!(error.row, index as u64 + 1);
            assert_eq!(error.column, "id");
            assert_eq!(error.value, "");
            assert_eq!(
                error.message,
                "the record id is missing. Every row needs an id, so fill in the value or remove \
                 the row."
            );
        }
    }

    #[test]
    fn csv_missing_timestamp_is_row_error() {
        let results = validate_csv("id,ts,AGEP,SCHL,prediction\n7,,40,1,1\n");

        let error = results[0].as_ref().unwrap_err();
        assert_eq!(error.column, "ts");
        assert!(
            error.message.starts_with("the timestamp is missing."),
            "{}",
            error.message
        );
    }

    #[test]
    fn csv_infinite_number_is_kept() {
        let results = validate_csv(
            "id,ts,AGEP,SCHL,prediction\n1,2015,inf,1,1\n2,2015,-inf,1,1\n3,2015,NaN,1,1\n",
        );

        assert_eq!(
            results[0].as_ref().unwrap().values[0],
            Some(ColumnValue::Number(f64::INFINITY))
        );
        assert_eq!(
            results[1].as_ref().unwrap().values[0],
            Some(ColumnValue::Number(f64::NEG_INFINITY))
        );
        assert_eq!(results[2].as_ref().unwrap().values[0], None);
    }

    #[test]
    fn validator_missing_columns_lists_names() {
        let file_columns = columns(&["id", "AGEP", "other"]);
        let error = SchemaValidator::new(&schema(), "inline.csv", &file_columns).unwrap_err();

        let IngestError::MissingColumns {
            missing, available, ..
        } = &error
        else {
            panic!("unexpected error {error:?}");
        };
        assert_eq!(missing, &columns(&["ts", "SCHL", "prediction"]));
        assert_eq!(available, &file_columns);
        assert_eq!(
            error.to_string(),
            "inline.csv: missing required columns \"ts\", \"SCHL\", \"prediction\". Rename the \
             columns in the file or change the model schema. The file has the columns \"id\", \
             \"AGEP\", \"other\"."
        );
    }

    #[test]
    fn validator_used_columns_are_sorted_and_unique() {
        let mut schema = schema();
        schema
            .columns
            .push(spec("id", ColumnKind::Categorical, ColumnRole::Feature));
        let file_columns = columns(&["x", "prediction", "SCHL", "AGEP", "ts", "id"]);
        let validator = SchemaValidator::new(&schema, "inline.csv", &file_columns).unwrap();

        assert_eq!(validator.used_column_indices(), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn typed_cells_convert_by_declared_kind() {
        let file_columns = columns(&["id", "ts", "AGEP", "SCHL", "prediction"]);
        let validator = SchemaValidator::new(&schema(), "typed.parquet", &file_columns).unwrap();
        let row = RawRow {
            row_number: 9,
            cells: vec![
                Cell::Integer(42),
                Cell::Timestamp(1_357_034_400_000),
                Cell::Integer(30),
                Cell::Number(3.0),
                Cell::Boolean(true),
            ],
        };

        let record = validator.validate(&row).unwrap();
        assert_eq!(record.record_id, "42");
        assert_eq!(record.timestamp_ms, 1_357_034_400_000);
        assert_eq!(
            record.values,
            [
                Some(ColumnValue::Number(30.0)),
                Some(ColumnValue::Category("3".into())),
                Some(ColumnValue::Category("true".into())),
            ]
        );
    }

    #[test]
    fn typed_cell_edge_cases() {
        assert_eq!(cell_to_label(&Cell::Number(2.5)), Some("2.5".into()));
        assert_eq!(cell_to_label(&Cell::Number(-7.0)), Some("-7".into()));
        assert_eq!(cell_to_label(&Cell::Number(f64::NAN)), None);
        assert_eq!(
            cell_to_label(&Cell::Number(1e300)),
            Some(format!("{}", 1e300))
        );
        assert_eq!(
            cell_to_label(&Cell::Text("1.50".into())),
            Some("1.50".into())
        );
        assert_eq!(
            cell_to_label(&Cell::Text("-3.00".into())),
            Some("-3".into())
        );
        assert_eq!(cell_to_label(&Cell::Text(".0".into())), Some(".0".into()));
        assert_eq!(cell_to_number(&Cell::Boolean(false)), Ok(Some(0.0)));
        assert_eq!(cell_to_number(&Cell::Number(f64::NAN)), Ok(None));
        assert!(cell_to_number(&Cell::Timestamp(0)).is_err());
        assert_eq!(
            cell_to_timestamp(&Cell::Integer(2015)),
            Ok(1_420_070_400_000)
        );
        assert_eq!(
            cell_to_timestamp(&Cell::Number(1_357_034_400.0)),
            Ok(1_357_034_400_000)
        );
        assert!(cell_to_timestamp(&Cell::Boolean(true)).is_err());
        assert!(cell_to_timestamp(&Cell::Integer(i64::MAX)).is_err());
    }

    #[test]
    fn row_shorter_than_header_reads_missing() {
        let file_columns = columns(&["id", "ts", "AGEP", "SCHL", "prediction"]);
        let validator = SchemaValidator::new(&schema(), "short.csv", &file_columns).unwrap();
        let row = RawRow {
            row_number: 1,
            cells: vec![Cell::Integer(1), Cell::Integer(2015)],
        };

        assert_eq!(validator.validate(&row).unwrap().values, [None, None, None]);
    }
}
