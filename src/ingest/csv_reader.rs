//! Streaming CSV reader: comma-separated, first row is the header, UTF-8.

use std::io::Read;

use csv::{ByteRecord, ReaderBuilder, Trim};

use super::{Cell, IngestError, RawRow, RecordReader};

/// Cell texts read as missing values, compared without case after trimming whitespace.
/// An empty cell is missing too.
const MISSING_MARKERS: [&str; 3] = ["NA", "NaN", "null"];

/// UTF-8 byte order mark, which Excel writes at the start of "CSV UTF-8" files.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads CSV rows from any [`Read`], one record at a time through the `csv` crate's buffer.
///
/// Every cell comes out as [`Cell::Text`] with surrounding whitespace trimmed, or as
/// [`Cell::Missing`] when it is empty or one of `NA`, `NaN` and `null` in any case. The
/// validator converts text to numbers and timestamps according to the schema.
pub struct CsvReader<R: Read> {
    file_name: String,
    reader: csv::Reader<R>,
    columns: Vec<String>,
    record: ByteRecord,
    rows_read: u64,
    total_bytes: Option<u64>,
    finished: bool,
}

impl<R: Read> CsvReader<R> {
    /// Reads the header row. `total_bytes` is the size of the input when known, for progress.
    ///
    /// Fails when the input is empty, the header is not UTF-8, or a column name repeats.
    pub fn new(file_name: &str, input: R, total_bytes: Option<u64>) -> Result<Self, IngestError> {
        let mut reader = ReaderBuilder::new()
            .has_headers(true)
            // Rows of the wrong length are reported by `next_row` with the row number.
            .flexible(true)
            .trim(Trim::All)
            .from_reader(input);

        let header = reader
            .byte_headers()
            .map_err(|error| csv_error(file_name, error))?
            .clone();
        if header.is_empty() {
            return Err(IngestError::EmptyFile {
                file: file_name.to_string(),
            });
        }

        let columns = decode_header(file_name, &header)?;
        Ok(CsvReader {
            file_name: file_name.to_string(),
            reader,
            columns,
            record: ByteRecord::new(),
            rows_read: 0,
            total_bytes,
            finished: false,
        })
    }

    fn convert_record(&self, row_number: u64) -> Result<RawRow, IngestError> {
        if self.record.len() != self.columns.len() {
            return Err(IngestError::RaggedRow {
                file: self.file_name.clone(),
                row: row_number,
                expected: self.columns.len(),
                found: self.record.len(),
            });
        }

        let mut cells = Vec::with_capacity(self.columns.len());
        for (index, field) in self.record.iter().enumerate() {
            let Ok(text) = std::str::from_utf8(field) else {
                return Err(IngestError::InvalidUtf8 {
                    file: self.file_name.clone(),
                    location: format!("row {row_number}, column {:?}", self.columns[index]),
                });
            };
            cells.push(text_cell(text));
        }
        Ok(RawRow { row_number, cells })
    }
}

impl<R: Read> RecordReader for CsvReader<R> {
    fn file_name(&self) -> &str {
        &self.file_name
    }

    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<RawRow, IngestError>> {
        if self.finished {
            return None;
        }

        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {
                self.rows_read += 1;
                Some(self.convert_record(self.rows_read))
            }
            Ok(false) => {
                self.finished = true;
                None
            }
            Err(error) => {
                // The csv crate cannot resynchronise after an I/O error, so reading stops here.
                self.finished = true;
                Some(Err(csv_error(&self.file_name, error)))
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    fn total_bytes(&self) -> Option<u64> {
        self.total_bytes
    }
}

/// Converts a trimmed CSV field to a cell, mapping empty text and missing markers to `Missing`.
fn text_cell(text: &str) -> Cell {
    let is_missing = text.is_empty()
        || MISSING_MARKERS
            .iter()
            .any(|marker| text.eq_ignore_ascii_case(marker));
    if is_missing {
        Cell::Missing
    } else {
        Cell::Text(text.to_string())
    }
}

fn decode_header(file_name: &str, header: &ByteRecord) -> Result<Vec<String>, IngestError> {
    let mut columns: Vec<String> = Vec::with_capacity(header.len());
    for (index, field) in header.iter().enumerate() {
        let field = if index == 0 {
            field.strip_prefix(UTF8_BOM).unwrap_or(field)
        } else {
            field
        };
        let Ok(name) = std::str::from_utf8(field) else {
            return Err(IngestError::InvalidUtf8 {
                file: file_name.to_string(),
                location: format!("header, column {}", index + 1),
            });
        };
        // Trim again because the byte order mark sits before any leading whitespace.
        let name = name.trim();
        if columns.iter().any(|existing| existing == name) {
            return Err(IngestError::DuplicateColumn {
                file: file_name.to_string(),
                column: name.to_string(),
            });
        }
        columns.push(name.to_string());
    }
    Ok(columns)
}

fn csv_error(file_name: &str, error: csv::Error) -> IngestError {
    if error.is_io_error() {
        if let csv::ErrorKind::Io(source) = error.into_kind() {
            return IngestError::Io {
                file: file_name.to_string(),
                source,
            };
        }
        unreachable!("is_io_error() implies ErrorKind::Io");
    }

    let detail = error.to_string();
    let message = match error.position() {
        // The csv crate counts the header as record 0, which matches 1-based data rows.
        Some(position) => format!("row {}: {detail}", position.record()),
        None => detail,
    };
    IngestError::InvalidCsv {
        file: file_name.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> CsvReader<&[u8]> {
        CsvReader::new("inferences.csv", text.as_bytes(), Some(text.len() as u64)).unwrap()
    }

    fn read_all(reader: &mut CsvReader<&[u8]>) -> Vec<Result<RawRow, IngestError>> {
        std::iter::from_fn(|| reader.next_row()).collect()
    }

    #[test]
    fn csv_reads_header_and_rows() {
        let mut reader = reader("id, score ,label\n1,0.5,cat\n2, 7 ,dog\n");

        assert_eq!(reader.columns(), ["id", "score", "label"]);
        let rows: Vec<RawRow> = read_all(&mut reader)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row_number, 1);
        assert_eq!(
            rows[0].cells,
            [
                Cell::Text("1".into()),
                Cell::Text("0.5".into()),
                Cell::Text("cat".into())
            ]
        );
        assert_eq!(rows[1].row_number, 2);
        assert_eq!(rows[1].cells[1], Cell::Text("7".into()));
    }

    #[test]
    fn csv_missing_markers_become_missing() {
        let mut reader = reader("a,b,c,d,e,f\n,NA,NaN,null,nan,\"\"\n");

        let row = reader.next_row().unwrap().unwrap();
        assert!(
            row.cells.iter().all(|cell| *cell == Cell::Missing),
            "{:?}",
            row.cells
        );
    }

    #[test]
    fn csv_quoted_fields_keep_commas() {
        let mut reader = reader("id,name\n1,\"Smith, Jane\"\n");

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.cells[1], Cell::Text("Smith, Jane".into()));
    }

    #[test]
    fn csv_byte_order_mark_is_stripped() {
        let reader = reader("\u{feff}id,value\n1,2\n");

        assert_eq!(reader.columns(), ["id", "value"]);
    }

    #[test]
    fn csv_ragged_row_names_row_and_continues() {
        let mut reader = reader("id,a,b\n1,2,3\n2,3\n3,4,5,6\n4,5,6\n");

        let results = read_all(&mut reader);
        assert_eq!(results.len(), 4);
        assert!(results[0].is_ok());
        let error = results[1].as_ref().unwrap_err();
        assert!(
            matches!(
                error,
                IngestError::RaggedRow {
                    row: 2,
                    expected: 3,
                    found: 2,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "inferences.csv, row 2: the row has 2 fields but the header has 3. Check the row for \
             an unquoted comma or a missing field."
        );
        let error = results[2].as_ref().unwrap_err();
        assert!(
            matches!(
                error,
                IngestError::RaggedRow {
                    row: 3,
                    found: 4,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(results[3].as_ref().unwrap().row_number, 4);
    }

    #[test]
    fn csv_empty_file_is_error() {
        let error = CsvReader::new("empty.csv", &b""[..], Some(0))
            .err()
            .unwrap();

        assert!(matches!(error, IngestError::EmptyFile { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            "empty.csv is empty. Upload a CSV file with a header row or a Parquet file."
        );
    }

    #[test]
    fn csv_header_only_has_no_rows() {
        let mut reader = reader("id,value\n");

        assert_eq!(reader.columns(), ["id", "value"]);
        assert!(reader.next_row().is_none());
    }

    #[test]
    fn csv_invalid_utf8_names_row_and_column() {
        let input: &[u8] = b"id,name\n1,ok\n2,caf\xe9\n3,fine\n";
        let mut reader = CsvReader::new("latin1.csv", input, None).unwrap();

        assert!(reader.next_row().unwrap().is_ok());
        let error = reader.next_row().unwrap().unwrap_err();
        assert_eq!(
            error.to_string(),
            "latin1.csv, row 2, column \"name\": the text is not valid UTF-8. Save the file with \
             UTF-8 encoding and upload it again."
        );
        assert_eq!(reader.next_row().unwrap().unwrap().row_number, 3);
    }

    #[test]
    fn csv_invalid_utf8_header_is_error() {
        let input: &[u8] = b"id,caf\xe9\n1,2\n";
        let error = CsvReader::new("latin1.csv", input, None).err().unwrap();

        assert!(
            matches!(error, IngestError::InvalidUtf8 { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("header, column 2"), "{error}");
    }

    #[test]
    fn csv_duplicate_header_is_error() {
        let error = CsvReader::new("dup.csv", &b"id,a,a\n"[..], None)
            .err()
            .unwrap();

        assert_eq!(
            error.to_string(),
            "dup.csv: column \"a\" appears more than once in the header. Rename one of them."
        );
    }

    #[test]
    fn csv_bytes_read_reaches_total() {
        let text = "id,value\n1,2\n3,4\n";
        let mut reader = reader(text);

        assert_eq!(reader.total_bytes(), Some(text.len() as u64));
        while let Some(row) = reader.next_row() {
            row.unwrap();
        }
        assert_eq!(reader.bytes_read(), text.len() as u64);
    }

    #[test]
    fn csv_io_error_stops_reading() {
        struct FailingRead;
        impl Read for FailingRead {
            fn read(&mut self, _buffer: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk unplugged"))
            }
        }

        let error = CsvReader::new("broken.csv", FailingRead, None)
            .err()
            .unwrap();
        assert_eq!(
            error.to_string(),
            "failed to read broken.csv: disk unplugged"
        );
    }
}
