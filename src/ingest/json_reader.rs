//! Reader of JSON records: newline-delimited JSON (one object per line, streamed) or one JSON
//! document that is an array of objects or an object with a `records` array.
//!
//! The columns are the keys of the first record, sorted by name; later records may omit a
//! key (read as missing) or add keys (ignored).

use std::collections::VecDeque;
use std::io::{BufRead, Read};

use serde_json::{Map, Value};

use super::{Cell, IngestError, RawRow, RecordReader};

/// Largest JSON document read whole; NDJSON streams and has no such limit.
pub const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;

enum Source {
    Lines(Box<dyn BufRead + Send>),
    Items(VecDeque<Value>),
}

pub struct JsonReader {
    file_name: String,
    columns: Vec<String>,
    source: Source,
    /// The first record, read to learn the columns and returned first.
    pending: Option<Map<String, Value>>,
    row_number: u64,
    bytes_read: u64,
    total_bytes: Option<u64>,
}

impl JsonReader {
    pub fn new<R: Read + Send + 'static>(file_name: &str, input: R, total_bytes: Option<u64>) -> Result<JsonReader, IngestError> {
        let mut input: Box<dyn BufRead + Send> = Box::new(std::io::BufReader::new(input));
        let invalid = |message: String| IngestError::InvalidJson { file: file_name.to_string(), message };

        let mut first_line = String::new();
        let mut bytes_read = 0;
        while first_line.trim().is_empty() {
            first_line.clear();
            let read = input
                .read_line(&mut first_line)
                .map_err(|source| IngestError::Io { file: file_name.to_string(), source })?;
            if read == 0 {
                return Err(IngestError::EmptyFile { file: file_name.to_string() });
            }
            bytes_read += read as u64;
        }

        // One object per line, unless the line is the start of a larger document or wraps
        // its records in a `records` array.
        if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(first_line.trim()) {
            if !matches!(object.get("records"), Some(Value::Array(_))) {
                return Ok(JsonReader {
                    file_name: file_name.to_string(),
                    columns: object.keys().cloned().collect(),
                    source: Source::Lines(input),
                    pending: Some(object),
                    row_number: 0,
                    bytes_read,
                    total_bytes,
                });
            }
        }

        let mut document = first_line.into_bytes();
        let limit = MAX_DOCUMENT_BYTES;
        input
            .take(limit + 1 - document.len().min(limit as usize) as u64)
            .read_to_end(&mut document)
            .map_err(|source| IngestError::Io { file: file_name.to_string(), source })?;
        if document.len() as u64 > limit {
            return Err(invalid(format!(
                "the document is larger than {} MiB; send newline-delimited JSON (one record per line) instead",
                limit / 1024 / 1024
            )));
        }
        let value: Value = serde_json::from_slice(&document).map_err(|error| invalid(error.to_string()))?;
        let items = match value {
            Value::Array(items) => items,
            Value::Object(mut object) => match object.remove("records") {
                Some(Value::Array(items)) => items,
                _ => return Err(invalid("expected an array of records or an object with a \"records\" array".into())),
            },
            _ => return Err(invalid("expected an array of records or an object with a \"records\" array".into())),
        };
        let mut items: VecDeque<Value> = items.into();
        let first = match items.pop_front() {
            Some(Value::Object(object)) => object,
            Some(_) => return Err(invalid("record 1 is not a JSON object".into())),
            None => return Err(IngestError::EmptyFile { file: file_name.to_string() }),
        };
        Ok(JsonReader {
            file_name: file_name.to_string(),
            columns: first.keys().cloned().collect(),
            source: Source::Items(items),
            pending: Some(first),
            row_number: 0,
            bytes_read: document.len() as u64,
            total_bytes,
        })
    }

    fn row_from(&self, object: &Map<String, Value>) -> RawRow {
        let cells = self.columns.iter().map(|column| cell_from(object.get(column))).collect();
        RawRow { row_number: self.row_number, cells }
    }

    fn next_object(&mut self) -> Option<Result<Map<String, Value>, IngestError>> {
        if let Some(object) = self.pending.take() {
            return Some(Ok(object));
        }
        let row = self.row_number + 1;
        match &mut self.source {
            Source::Items(items) => match items.pop_front()? {
                Value::Object(object) => Some(Ok(object)),
                _ => Some(Err(IngestError::InvalidJson {
                    file: self.file_name.clone(),
                    message: format!("record {row} is not a JSON object"),
                })),
            },
            Source::Lines(lines) => loop {
                let mut line = String::new();
                match lines.read_line(&mut line) {
                    Ok(0) => return None,
                    Ok(read) => self.bytes_read += read as u64,
                    Err(source) => return Some(Err(IngestError::Io { file: self.file_name.clone(), source })),
                }
                if line.trim().is_empty() {
                    continue;
                }
                return Some(match serde_json::from_str::<Value>(line.trim()) {
                    Ok(Value::Object(object)) => Ok(object),
                    Ok(_) => Err(IngestError::InvalidJson {
                        file: self.file_name.clone(),
                        message: format!("line of record {row} is not a JSON object"),
                    }),
                    Err(error) => Err(IngestError::InvalidJson {
                        file: self.file_name.clone(),
                        message: format!("record {row}: {error}"),
                    }),
                });
            },
        }
    }
}

fn cell_from(value: Option<&Value>) -> Cell {
    match value {
        None | Some(Value::Null) => Cell::Missing,
        Some(Value::Bool(value)) => Cell::Boolean(*value),
        Some(Value::Number(number)) => match number.as_i64() {
            Some(integer) => Cell::Integer(integer),
            None => Cell::Number(number.as_f64().unwrap_or(f64::NAN)),
        },
        Some(Value::String(text)) => Cell::Text(text.clone()),
        Some(other) => Cell::Text(other.to_string()),
    }
}

impl RecordReader for JsonReader {
    fn file_name(&self) -> &str {
        &self.file_name
    }

    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<RawRow, IngestError>> {
        let object = self.next_object()?;
        self.row_number += 1;
        Some(object.map(|object| self.row_from(&object)))
    }

    fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    fn total_bytes(&self) -> Option<u64> {
        self.total_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> (Vec<String>, Vec<RawRow>) {
        let mut reader = JsonReader::new("batch.json", std::io::Cursor::new(text.to_string()), None).unwrap();
        let columns = reader.columns().to_vec();
        let mut rows = Vec::new();
        while let Some(row) = reader.next_row() {
            rows.push(row.unwrap());
        }
        (columns, rows)
    }

    #[test]
    fn ndjson_reads_one_record_per_line() {
        let (columns, rows) = rows("{\"id\": 1, \"age\": 30.5, \"plan\": \"pro\"}\n\n{\"id\": 2, \"plan\": null}\n");
        assert_eq!(columns, vec!["age", "id", "plan"]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].cells, vec![Cell::Number(30.5), Cell::Integer(1), Cell::Text("pro".into())]);
        assert_eq!(rows[1].row_number, 2);
        assert_eq!(rows[1].cells, vec![Cell::Missing, Cell::Integer(2), Cell::Missing]);
    }

    #[test]
    fn json_array_and_records_object_read_alike() {
        let (_, array) = rows("[\n {\"id\": \"a\", \"ok\": true},\n {\"id\": \"b\", \"ok\": false}\n]");
        let (_, wrapped) = rows("{\"records\": [{\"id\": \"a\", \"ok\": true}, {\"id\": \"b\", \"ok\": false}]}");
        assert_eq!(array, wrapped);
        assert_eq!(array[1].cells, vec![Cell::Text("b".into()), Cell::Boolean(false)], "columns id, ok");
    }

    #[test]
    fn ndjson_invalid_line_is_error_naming_record() {
        let mut reader = JsonReader::new("batch.ndjson", std::io::Cursor::new("{\"id\": 1}\n{\"id\": \n".to_string()), None).unwrap();
        assert!(reader.next_row().unwrap().is_ok());
        let error = reader.next_row().unwrap().unwrap_err().to_string();
        assert!(error.contains("record 2"), "{error}");
    }

    #[test]
    fn json_empty_body_is_error() {
        let error = JsonReader::new("batch.json", std::io::Cursor::new(" \n".to_string()), None).err().unwrap();
        assert!(matches!(error, IngestError::EmptyFile { .. }));
    }
}
