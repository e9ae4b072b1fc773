//! Errors of file ingestion.

use super::validate::RowError;

/// An ingestion failure. Every variant names the file, and the row where one is involved.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("failed to read {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{file} has the unsupported extension \".{extension}\". Upload a file ending in .csv, \
         .parquet, .pq, .json, .ndjson or .jsonl, or remove the extension to detect the format \
         from the content."
    )]
    UnsupportedExtension { file: String, extension: String },

    #[error("{file} is empty. Upload a CSV file with a header row or a Parquet file.")]
    EmptyFile { file: String },

    #[error("{file} is not a valid CSV file: {message}")]
    InvalidCsv { file: String, message: String },

    #[error(
        "{file}, row {row}: the row has {found} fields but the header has {expected}. Check the \
         row for an unquoted comma or a missing field."
    )]
    RaggedRow {
        file: String,
        row: u64,
        expected: usize,
        found: usize,
    },

    #[error(
        "{file}, {location}: the text is not valid UTF-8. Save the file with UTF-8 encoding and \
         upload it again."
    )]
    InvalidUtf8 {
        file: String,
        /// Location of the invalid bytes, such as `header, column 3` or `row 12, column "name"`.
        location: String,
    },

    #[error(
        "{file}: column \"{column}\" appears more than once in the header. Rename one of them."
    )]
    DuplicateColumn { file: String, column: String },

    #[error(
        "{file} is not a readable Parquet file: {message}. If the upload was cut short, upload the \
         file again."
    )]
    InvalidParquet { file: String, message: String },

    #[error("{file} is not valid JSON records: {message}. Send one JSON object per line, or an array of objects.")]
    InvalidJson { file: String, message: String },

    #[error(
        "{file}: missing required columns {}. Rename the columns in the file or change the \
         model schema. The file has the columns {}.",
        quote_list(missing),
        quote_list(available)
    )]
    MissingColumns {
        file: String,
        missing: Vec<String>,
        available: Vec<String>,
    },

    #[error("{file}: {error}")]
    Row {
        file: String,
        #[source]
        error: RowError,
    },
}

/// Formats names as `"a", "b", "c"`, or `(none)` for an empty list.
fn quote_list(names: &[String]) -> String {
    if names.is_empty() {
        return "(none)".to_string();
    }
    names
        .iter()
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
