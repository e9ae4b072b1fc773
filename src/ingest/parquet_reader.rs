//! Streaming Parquet reader built on the `parquet` crate's column reader API (no Arrow).
//!
//! Row groups are opened one at a time. Within a row group each selected column is decoded in
//! batches of [`BATCH_ROWS`] values. Memory then contains one batch per column plus each column's
//! current page and dictionary page, not the whole row group.

use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType, FixedLenByteArray, Int96};
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, FileReader};
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::schema::types::ColumnDescriptor;
use rustc_hash::FxHashMap;

use super::parquet_pages::{add_bytes, count_chunk, ChunkLayout};
use super::{Cell, IngestError, RawRow, RecordReader};

/// Values decoded per column per call into the column reader.
const BATCH_ROWS: usize = 4096;

/// Values decoded per call when a whole column is counted: larger batches, fewer calls.
const COUNT_BATCH_ROWS: usize = 64 * 1024;

/// Maximum length of a decimal stored as bytes, because longer ones do not fit in `i128`.
const MAX_DECIMAL_BYTES: usize = 16;

/// Reads rows of a Parquet file from a [`ChunkReader`], such as a `std::fs::File` or an
/// in-memory `bytes::Bytes`.
///
/// Only top-level primitive columns are listed in [`columns`](RecordReader::columns). Nested
/// columns (lists, maps, structs) are skipped, so a schema that names one reports it missing.
pub struct ParquetReader<R: ChunkReader + 'static> {
    file_name: String,
    file: SerializedFileReader<R>,
    columns: Vec<String>,
    /// Per entry of `columns`: its leaf index in the Parquet schema and how to decode it.
    leaves: Vec<LeafColumn>,
    /// Per entry of `columns`: whether to decode it.
    selected: Vec<bool>,
    /// Readers of the open row group, per entry of `columns`, or `None` for a column not selected.
    cursors: Vec<Option<ColumnCursor>>,
    next_row_group: usize,
    rows_left_in_group: u64,
    group_rows: u64,
    group_bytes: u64,
    /// Compressed bytes of the row groups before the open one.
    finished_bytes: u64,
    total_bytes: u64,
    rows_read: u64,
    failed: bool,
}

struct LeafColumn {
    leaf_index: usize,
    decoding: Decoding,
}

/// Conversion of a column's physical values to cells, chosen from its logical or converted type.
#[derive(Clone, Copy, Debug)]
enum Decoding {
    Boolean,
    Integer,
    /// INT32 with an unsigned logical type, stored as the same bits in an `i32`.
    UnsignedInt32,
    /// INT64 with an unsigned logical type. Values above `i64::MAX` become numbers.
    UnsignedInt64,
    Float,
    Double,
    Float16,
    Decimal {
        scale: i32,
    },
    /// Days since the Unix epoch.
    Date,
    Timestamp(TimestampUnit),
    Int96Timestamp,
    Text,
    Uuid,
}

#[derive(Clone, Copy, Debug)]
enum TimestampUnit {
    Millis,
    Micros,
    Nanos,
}

impl<R: ChunkReader + 'static> ParquetReader<R> {
    /// Opens the file and reads its footer. Fails when the input is empty or is not a complete
    /// Parquet file, such as one cut short during upload.
    pub fn new(file_name: &str, input: R) -> Result<Self, IngestError> {
        let total_bytes = input.len();
        if total_bytes == 0 {
            return Err(IngestError::EmptyFile {
                file: file_name.to_string(),
            });
        }

        let file =
            SerializedFileReader::new(input).map_err(|error| invalid_parquet(file_name, &error))?;

        let schema = file.metadata().file_metadata().schema_descr();
        let mut columns = Vec::new();
        let mut leaves = Vec::new();
        for (leaf_index, descriptor) in schema.columns().iter().enumerate() {
            let is_top_level =
                descriptor.path().parts().len() == 1 && descriptor.max_rep_level() == 0;
            if !is_top_level {
                continue;
            }
            columns.push(descriptor.name().to_string());
            leaves.push(LeafColumn {
                leaf_index,
                decoding: decoding_for(descriptor),
            });
        }

        let column_count = columns.len();
        Ok(ParquetReader {
            file_name: file_name.to_string(),
            file,
            columns,
            leaves,
            selected: vec![true; column_count],
            cursors: Vec::new(),
            next_row_group: 0,
            rows_left_in_group: 0,
            group_rows: 0,
            group_bytes: 0,
            finished_bytes: 0,
            total_bytes,
            rows_read: 0,
            failed: false,
        })
    }

    /// Opens the next row group that has rows. Returns `Ok(false)` after the last one.
    fn open_next_row_group(&mut self) -> Result<bool, ParquetError> {
        self.finished_bytes += self.group_bytes;
        self.group_bytes = 0;
        self.cursors.clear();

        while self.next_row_group < self.file.num_row_groups() {
            let index = self.next_row_group;
            self.next_row_group += 1;

            let metadata = self.file.metadata().row_group(index);
            let rows = u64::try_from(metadata.num_rows()).unwrap_or(0);
            let bytes = u64::try_from(metadata.compressed_size()).unwrap_or(0);
            if rows == 0 {
                self.finished_bytes += bytes;
                continue;
            }

            let row_group = self.file.get_row_group(index)?;
            let mut cursors = Vec::with_capacity(self.leaves.len());
            for (leaf, selected) in self.leaves.iter().zip(&self.selected) {
                let cursor = if *selected {
                    let descriptor = row_group.metadata().column(leaf.leaf_index).column_descr();
                    Some(ColumnCursor {
                        reader: row_group.get_column_reader(leaf.leaf_index)?,
                        decoding: leaf.decoding,
                        max_def_level: descriptor.max_def_level(),
                        def_levels: Vec::with_capacity(BATCH_ROWS),
                        values: ValueBuffer::default(),
                        buffered: 0,
                        level_position: 0,
                        value_position: 0,
                    })
                } else {
                    None
                };
                cursors.push(cursor);
            }

            self.cursors = cursors;
            self.rows_left_in_group = rows;
            self.group_rows = rows;
            self.group_bytes = bytes;
            return Ok(true);
        }
        Ok(false)
    }

    /// Decodes one row from the open row group. A cell that cannot be converted (text that is not
    /// UTF-8) is a row error, raised after every column has advanced so the next row stays aligned.
    fn read_row(&mut self, row_number: u64) -> Result<Result<RawRow, IngestError>, ParquetError> {
        let mut cells = Vec::with_capacity(self.cursors.len());
        let mut cell_error = None;
        for (index, cursor) in self.cursors.iter_mut().enumerate() {
            let cell = match cursor {
                Some(cursor) => cursor.next_cell(&self.columns[index])?,
                None => Ok(Cell::Missing),
            };
            match cell {
                Ok(cell) => cells.push(cell),
                Err(problem) => {
                    cells.push(Cell::Missing);
                    if cell_error.is_none() {
                        cell_error = Some((index, problem));
                    }
                }
            }
        }

        if let Some((index, problem)) = cell_error {
            let location = format!("row {row_number}, column {:?}", self.columns[index]);
            let error = match problem {
                CellProblem::InvalidUtf8 => IngestError::InvalidUtf8 {
                    file: self.file_name.clone(),
                    location,
                },
                CellProblem::Unsupported(detail) => IngestError::InvalidParquet {
                    file: self.file_name.clone(),
                    message: format!("{location}: {detail}"),
                },
            };
            return Ok(Err(error));
        }
        Ok(Ok(RawRow { row_number, cells }))
    }
}

impl<R: ChunkReader + 'static> RecordReader for ParquetReader<R> {
    fn file_name(&self) -> &str {
        &self.file_name
    }

    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<RawRow, IngestError>> {
        if self.failed {
            return None;
        }

        if self.rows_left_in_group == 0 {
            match self.open_next_row_group() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(error) => {
                    self.failed = true;
                    return Some(Err(invalid_parquet(&self.file_name, &error)));
                }
            }
        }

        let row_number = self.rows_read + 1;
        match self.read_row(row_number) {
            Ok(row) => {
                self.rows_read = row_number;
                self.rows_left_in_group -= 1;
                Some(row)
            }
            Err(error) => {
                self.failed = true;
                let message = format!("row {row_number}: {error}");
                Some(Err(IngestError::InvalidParquet {
                    file: self.file_name.clone(),
                    message,
                }))
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        if self.group_rows == 0 {
            return self.finished_bytes;
        }
        let rows_done = self.group_rows - self.rows_left_in_group;
        let group_share = self.group_bytes as u128 * rows_done as u128 / self.group_rows as u128;
        self.finished_bytes + group_share as u64
    }

    fn total_bytes(&self) -> Option<u64> {
        Some(self.total_bytes)
    }

    /// Takes effect from the next row group. Call it before the first `next_row`.
    fn select_columns(&mut self, indices: &[usize]) {
        self.selected = (0..self.columns.len())
            .map(|index| indices.contains(&index))
            .collect();
    }
}

impl<R: ChunkReader + 'static> ParquetReader<R> {
    /// Counts the distinct values of one column (an index into [`columns`](RecordReader::columns))
    /// over the whole file. Dictionary-encoded pages are counted per dictionary index, other
    /// pages by their stored value, and each distinct value becomes a [`Cell`] once, as
    /// [`next_row`](RecordReader::next_row) would decode it. Callers that only need counts, such as `orrery drift`, skip building
    /// rows this way, and can count several columns of one file on several threads, each with
    /// its own reader.
    pub fn count_values(&self, column: usize) -> Result<ValueCounts, IngestError> {
        let leaf = &self.leaves[column];
        let name = &self.columns[column];
        let damaged = |error: ParquetError| IngestError::InvalidParquet {
            file: self.file_name.clone(),
            message: format!("column \"{name}\": {error}"),
        };
        let mut distinct: Option<DistinctValues> = None;
        let mut missing = 0;
        for index in 0..self.file.num_row_groups() {
            let row_group = self.file.get_row_group(index).map_err(damaged)?;
            let descriptor = row_group.metadata().column(leaf.leaf_index).column_descr();
            let layout = ChunkLayout {
                physical: descriptor.physical_type(),
                type_length: usize::try_from(descriptor.type_length()).unwrap_or(0),
                max_def_level: descriptor.max_def_level(),
            };
            let distinct = distinct.get_or_insert_with(|| DistinctValues::for_physical(layout.physical));
            let mut pages = row_group.get_column_page_reader(leaf.leaf_index).map_err(damaged)?;
            match count_chunk(pages.as_mut(), &layout, |raw, times| distinct.tally_plain(raw, times)).map_err(damaged)? {
                Some(nulls) => missing += nulls,
                None => {
                    let reader = row_group.get_column_reader(leaf.leaf_index).map_err(damaged)?;
                    missing += distinct.count(reader, layout.max_def_level > 0).map_err(damaged)?;
                }
            }
        }
        let values = match distinct {
            Some(distinct) => distinct.into_cells(leaf.decoding).map_err(|problem| match problem {
                CellProblem::InvalidUtf8 => IngestError::InvalidUtf8 {
                    file: self.file_name.clone(),
                    location: format!("column \"{name}\""),
                },
                CellProblem::Unsupported(detail) => IngestError::InvalidParquet {
                    file: self.file_name.clone(),
                    message: format!("column \"{name}\": {detail}"),
                },
            })?,
            None => Vec::new(),
        };
        Ok(ValueCounts { missing, values })
    }
}

/// One column's distinct values with how often each occurs, and how many rows have no value.
#[derive(Debug, Default, PartialEq)]
pub struct ValueCounts {
    pub missing: u64,
    pub values: Vec<(Cell, u64)>,
}

/// Counts per stored value, keyed by the value's bits so that every distinct bit pattern
/// decodes to its cell exactly as a row read would.
enum DistinctValues {
    Boolean([u64; 2]),
    Int32(FxHashMap<i32, u64>),
    Int64(FxHashMap<i64, u64>),
    Int96(FxHashMap<[u32; 3], u64>),
    Float(FxHashMap<u32, u64>),
    Double(FxHashMap<u64, u64>),
    Bytes(FxHashMap<Vec<u8>, u64>),
}

impl DistinctValues {
    fn for_physical(physical: PhysicalType) -> DistinctValues {
        match physical {
            PhysicalType::BOOLEAN => DistinctValues::Boolean([0; 2]),
            PhysicalType::INT32 => DistinctValues::Int32(FxHashMap::default()),
            PhysicalType::INT64 => DistinctValues::Int64(FxHashMap::default()),
            PhysicalType::INT96 => DistinctValues::Int96(FxHashMap::default()),
            PhysicalType::FLOAT => DistinctValues::Float(FxHashMap::default()),
            PhysicalType::DOUBLE => DistinctValues::Double(FxHashMap::default()),
            PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY => DistinctValues::Bytes(FxHashMap::default()),
        }
    }

    /// Adds `times` to the count of one value given in its PLAIN encoding, which
    /// [`count_chunk`] has already cut to the column's width.
    fn tally_plain(&mut self, raw: &[u8], times: u64) {
        let word = |index: usize| u32::from_le_bytes(raw[index * 4..index * 4 + 4].try_into().expect("four bytes"));
        let double_word = || u64::from_le_bytes(raw[..8].try_into().expect("eight bytes"));
        match self {
            DistinctValues::Int32(counts) => *counts.entry(word(0) as i32).or_default() += times,
            DistinctValues::Float(counts) => *counts.entry(word(0)).or_default() += times,
            DistinctValues::Int64(counts) => *counts.entry(double_word() as i64).or_default() += times,
            DistinctValues::Double(counts) => *counts.entry(double_word()).or_default() += times,
            DistinctValues::Int96(counts) => *counts.entry([word(0), word(1), word(2)]).or_default() += times,
            DistinctValues::Bytes(counts) => add_bytes(counts, raw, times),
            // count_chunk leaves BOOLEAN columns to the column reader.
            DistinctValues::Boolean(_) => unreachable!("BOOLEAN values are not counted from pages"),
        }
    }

    /// Counts every value of one column chunk and returns its number of nulls.
    fn count(&mut self, reader: ColumnReader, nullable: bool) -> Result<u64, ParquetError> {
        fn tally<K: std::hash::Hash + Eq>(counts: &mut FxHashMap<K, u64>, key: K) {
            *counts.entry(key).or_default() += 1;
        }
        match (self, reader) {
            (DistinctValues::Boolean(counts), ColumnReader::BoolColumnReader(mut reader)) => {
                read_chunk(&mut reader, nullable, |values| {
                    values.iter().for_each(|value| counts[usize::from(*value)] += 1)
                })
            }
            (DistinctValues::Int32(counts), ColumnReader::Int32ColumnReader(mut reader)) => {
                read_chunk(&mut reader, nullable, |values| values.iter().for_each(|value| tally(counts, *value)))
            }
            (DistinctValues::Int64(counts), ColumnReader::Int64ColumnReader(mut reader)) => {
                read_chunk(&mut reader, nullable, |values| values.iter().for_each(|value| tally(counts, *value)))
            }
            (DistinctValues::Int96(counts), ColumnReader::Int96ColumnReader(mut reader)) => {
                read_chunk(&mut reader, nullable, |values| {
                    values.iter().for_each(|value| {
                        let words = value.data();
                        tally(counts, [words[0], words[1], words[2]])
                    })
                })
            }
            (DistinctValues::Float(counts), ColumnReader::FloatColumnReader(mut reader)) => {
                read_chunk(&mut reader, nullable, |values| {
                    values.iter().for_each(|value| tally(counts, value.to_bits()))
                })
            }
            (DistinctValues::Double(counts), ColumnReader::DoubleColumnReader(mut reader)) => {
                read_chunk(&mut reader, nullable, |values| {
                    values.iter().for_each(|value| tally(counts, value.to_bits()))
                })
            }
            (DistinctValues::Bytes(counts), ColumnReader::ByteArrayColumnReader(mut reader)) => {
                read_chunk(&mut reader, nullable, |values| {
                    values.iter().for_each(|value| add_bytes(counts, value.data(), 1))
                })
            }
            (DistinctValues::Bytes(counts), ColumnReader::FixedLenByteArrayColumnReader(mut reader)) => {
                read_chunk(&mut reader, nullable, |values| {
                    values.iter().for_each(|value| add_bytes(counts, value.data(), 1))
                })
            }
            _ => Err(ParquetError::General("the column's stored type differs between row groups".to_string())),
        }
    }

    /// Decodes each distinct stored value into its cell, keeping its count.
    fn into_cells(self, decoding: Decoding) -> Result<Vec<(Cell, u64)>, CellProblem> {
        let cells = match self {
            DistinctValues::Boolean([no, yes]) => [(Cell::Boolean(false), no), (Cell::Boolean(true), yes)]
                .into_iter()
                .filter(|(_, count)| *count > 0)
                .collect(),
            DistinctValues::Int32(counts) => {
                counts.into_iter().map(|(value, count)| (int32_cell(value, decoding), count)).collect()
            }
            DistinctValues::Int64(counts) => {
                counts.into_iter().map(|(value, count)| (int64_cell(value, decoding), count)).collect()
            }
            DistinctValues::Int96(counts) => counts
                .into_iter()
                .map(|([low, middle, high], count)| {
                    let mut value = Int96::new();
                    value.set_data(low, middle, high);
                    (Cell::Timestamp(value.to_millis()), count)
                })
                .collect(),
            DistinctValues::Float(counts) => counts
                .into_iter()
                .map(|(bits, count)| (Cell::Number(f64::from(f32::from_bits(bits))), count))
                .collect(),
            DistinctValues::Double(counts) => {
                counts.into_iter().map(|(bits, count)| (Cell::Number(f64::from_bits(bits)), count)).collect()
            }
            DistinctValues::Bytes(counts) => counts
                .into_iter()
                .map(|(bytes, count)| bytes_cell(&bytes, decoding).map(|cell| (cell, count)))
                .collect::<Result<_, _>>()?,
        };
        Ok(cells)
    }
}

/// Reads a whole column chunk in batches, handing each batch's non-null values to `count`,
/// and returns the number of nulls.
fn read_chunk<T: DataType>(
    reader: &mut ColumnReaderImpl<T>,
    nullable: bool,
    mut count: impl FnMut(&[T::T]),
) -> Result<u64, ParquetError> {
    let mut levels = Vec::with_capacity(if nullable { COUNT_BATCH_ROWS } else { 0 });
    let mut values = Vec::with_capacity(COUNT_BATCH_ROWS);
    let mut nulls = 0;
    loop {
        levels.clear();
        values.clear();
        let (records, read_values, _) =
            reader.read_records(COUNT_BATCH_ROWS, nullable.then_some(&mut levels), None, &mut values)?;
        if records == 0 {
            return Ok(nulls);
        }
        nulls += (records - read_values) as u64;
        count(&values[..read_values]);
    }
}

/// Reason one cell could not be converted while the file itself is still readable.
enum CellProblem {
    InvalidUtf8,
    Unsupported(String),
}

/// Decoded values of one column chunk, one batch at a time.
struct ColumnCursor {
    reader: ColumnReader,
    decoding: Decoding,
    max_def_level: i16,
    /// Definition levels of the batch, left empty for a required column.
    def_levels: Vec<i16>,
    /// Non-null values of the batch.
    values: ValueBuffer,
    /// Rows in the batch.
    buffered: usize,
    level_position: usize,
    value_position: usize,
}

#[derive(Default)]
enum ValueBuffer {
    #[default]
    Empty,
    Boolean(Vec<bool>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Int96(Vec<Int96>),
    Float(Vec<f32>),
    Double(Vec<f64>),
    ByteArray(Vec<ByteArray>),
    FixedLenByteArray(Vec<FixedLenByteArray>),
}

impl ColumnCursor {
    /// Returns the next row's cell. An outer error means the file is damaged.
    fn next_cell(&mut self, column: &str) -> Result<Result<Cell, CellProblem>, ParquetError> {
        if self.level_position == self.buffered {
            self.read_batch()?;
            if self.buffered == 0 {
                return Err(ParquetError::General(format!(
                    "column \"{column}\" has fewer values than the row group's row count"
                )));
            }
        }

        let is_null =
            self.max_def_level > 0 && self.def_levels[self.level_position] < self.max_def_level;
        self.level_position += 1;
        if is_null {
            return Ok(Ok(Cell::Missing));
        }

        let position = self.value_position;
        self.value_position += 1;
        let out_of_values = || {
            ParquetError::General(format!(
                "column \"{column}\" has fewer values than its definition levels announce"
            ))
        };
        let decoding = self.decoding;
        let cell = match &self.values {
            ValueBuffer::Empty => return Err(out_of_values()),
            ValueBuffer::Boolean(values) => Ok(Cell::Boolean(
                *values.get(position).ok_or_else(out_of_values)?,
            )),
            ValueBuffer::Int32(values) => Ok(int32_cell(
                *values.get(position).ok_or_else(out_of_values)?,
                decoding,
            )),
            ValueBuffer::Int64(values) => Ok(int64_cell(
                *values.get(position).ok_or_else(out_of_values)?,
                decoding,
            )),
            ValueBuffer::Int96(values) => Ok(Cell::Timestamp(
                values.get(position).ok_or_else(out_of_values)?.to_millis(),
            )),
            ValueBuffer::Float(values) => Ok(Cell::Number(f64::from(
                *values.get(position).ok_or_else(out_of_values)?,
            ))),
            ValueBuffer::Double(values) => Ok(Cell::Number(
                *values.get(position).ok_or_else(out_of_values)?,
            )),
            ValueBuffer::ByteArray(values) => bytes_cell(
                values.get(position).ok_or_else(out_of_values)?.data(),
                decoding,
            ),
            ValueBuffer::FixedLenByteArray(values) => bytes_cell(
                values.get(position).ok_or_else(out_of_values)?.data(),
                decoding,
            ),
        };
        Ok(cell)
    }

    /// Replaces the buffered batch with the next [`BATCH_ROWS`] rows of the column chunk.
    ///
    /// NOTE: parquet 60 still has `expect` calls in its page decoders, so some malformed pages may
    /// panic instead of returning an error. Tests cover truncated files and a damaged zstd page.
    fn read_batch(&mut self) -> Result<(), ParquetError> {
        self.def_levels.clear();
        self.level_position = 0;
        self.value_position = 0;

        // Only flat columns are read, so each record is exactly one level.
        let def_levels = if self.max_def_level > 0 {
            Some(&mut self.def_levels)
        } else {
            None
        };
        let records = match &mut self.reader {
            ColumnReader::BoolColumnReader(reader) => {
                let mut values = Vec::with_capacity(BATCH_ROWS);
                let (records, _, _) =
                    reader.read_records(BATCH_ROWS, def_levels, None, &mut values)?;
                self.values = ValueBuffer::Boolean(values);
                records
            }
            ColumnReader::Int32ColumnReader(reader) => {
                let mut values = Vec::with_capacity(BATCH_ROWS);
                let (records, _, _) =
                    reader.read_records(BATCH_ROWS, def_levels, None, &mut values)?;
                self.values = ValueBuffer::Int32(values);
                records
            }
            ColumnReader::Int64ColumnReader(reader) => {
                let mut values = Vec::with_capacity(BATCH_ROWS);
                let (records, _, _) =
                    reader.read_records(BATCH_ROWS, def_levels, None, &mut values)?;
                self.values = ValueBuffer::Int64(values);
                records
            }
            ColumnReader::Int96ColumnReader(reader) => {
                let mut values = Vec::with_capacity(BATCH_ROWS);
                let (records, _, _) =
                    reader.read_records(BATCH_ROWS, def_levels, None, &mut values)?;
                self.values = ValueBuffer::Int96(values);
                records
            }
            ColumnReader::FloatColumnReader(reader) => {
                let mut values = Vec::with_capacity(BATCH_ROWS);
                let (records, _, _) =
                    reader.read_records(BATCH_ROWS, def_levels, None, &mut values)?;
                self.values = ValueBuffer::Float(values);
                records
            }
            ColumnReader::DoubleColumnReader(reader) => {
                let mut values = Vec::with_capacity(BATCH_ROWS);
                let (records, _, _) =
                    reader.read_records(BATCH_ROWS, def_levels, None, &mut values)?;
                self.values = ValueBuffer::Double(values);
                records
            }
            ColumnReader::ByteArrayColumnReader(reader) => {
                let mut values = Vec::with_capacity(BATCH_ROWS);
                let (records, _, _) =
                    reader.read_records(BATCH_ROWS, def_levels, None, &mut values)?;
                self.values = ValueBuffer::ByteArray(values);
                records
            }
            ColumnReader::FixedLenByteArrayColumnReader(reader) => {
                let mut values = Vec::with_capacity(BATCH_ROWS);
                let (records, _, _) =
                    reader.read_records(BATCH_ROWS, def_levels, None, &mut values)?;
                self.values = ValueBuffer::FixedLenByteArray(values);
                records
            }
        };

        if self.max_def_level > 0 && self.def_levels.len() != records {
            return Err(ParquetError::General(format!(
                "read {records} rows but {} definition levels",
                self.def_levels.len()
            )));
        }
        self.buffered = records;
        Ok(())
    }
}

/// Picks the conversion for a column from its logical type, falling back to the older converted
/// type that files written before Parquet format 2.4 carry.
fn decoding_for(descriptor: &ColumnDescriptor) -> Decoding {
    let physical = descriptor.physical_type();
    if let Some(logical) = descriptor.logical_type_ref() {
        match (logical, physical) {
            (LogicalType::Timestamp(timestamp), PhysicalType::INT64) => {
                let unit = match timestamp.unit {
                    TimeUnit::MILLIS => TimestampUnit::Millis,
                    TimeUnit::MICROS => TimestampUnit::Micros,
                    TimeUnit::NANOS => TimestampUnit::Nanos,
                };
                return Decoding::Timestamp(unit);
            }
            (LogicalType::Date, PhysicalType::INT32) => return Decoding::Date,
            (LogicalType::Decimal(decimal), _) => {
                return Decoding::Decimal {
                    scale: decimal.scale,
                }
            }
            (LogicalType::Integer(integer), PhysicalType::INT32) if !integer.is_signed => {
                return Decoding::UnsignedInt32
            }
            (LogicalType::Integer(integer), PhysicalType::INT64) if !integer.is_signed => {
                return Decoding::UnsignedInt64
            }
            (LogicalType::Float16, PhysicalType::FIXED_LEN_BYTE_ARRAY) => return Decoding::Float16,
            (LogicalType::Uuid, PhysicalType::FIXED_LEN_BYTE_ARRAY) => return Decoding::Uuid,
            _ => {}
        }
    }

    match (descriptor.converted_type(), physical) {
        (ConvertedType::TIMESTAMP_MILLIS, PhysicalType::INT64) => {
            return Decoding::Timestamp(TimestampUnit::Millis)
        }
        (ConvertedType::TIMESTAMP_MICROS, PhysicalType::INT64) => {
            return Decoding::Timestamp(TimestampUnit::Micros)
        }
        (ConvertedType::DATE, PhysicalType::INT32) => return Decoding::Date,
        (ConvertedType::DECIMAL, _) => {
            return Decoding::Decimal {
                scale: descriptor.type_scale(),
            }
        }
        (
            ConvertedType::UINT_8 | ConvertedType::UINT_16 | ConvertedType::UINT_32,
            PhysicalType::INT32,
        ) => return Decoding::UnsignedInt32,
        (ConvertedType::UINT_64, PhysicalType::INT64) => return Decoding::UnsignedInt64,
        _ => {}
    }

    // NOTE: TIME columns (time of day) come out as plain integers in their stored unit.
    match physical {
        PhysicalType::BOOLEAN => Decoding::Boolean,
        PhysicalType::INT32 | PhysicalType::INT64 => Decoding::Integer,
        PhysicalType::INT96 => Decoding::Int96Timestamp,
        PhysicalType::FLOAT => Decoding::Float,
        PhysicalType::DOUBLE => Decoding::Double,
        PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY => Decoding::Text,
    }
}

fn int32_cell(value: i32, decoding: Decoding) -> Cell {
    match decoding {
        Decoding::Date => Cell::Timestamp(i64::from(value) * 86_400_000),
        Decoding::UnsignedInt32 => Cell::Integer(i64::from(value as u32)),
        Decoding::Decimal { scale } => Cell::Number(scale_decimal(i128::from(value), scale)),
        _ => Cell::Integer(i64::from(value)),
    }
}

fn int64_cell(value: i64, decoding: Decoding) -> Cell {
    match decoding {
        Decoding::Timestamp(TimestampUnit::Millis) => Cell::Timestamp(value),
        Decoding::Timestamp(TimestampUnit::Micros) => Cell::Timestamp(value.div_euclid(1_000)),
        Decoding::Timestamp(TimestampUnit::Nanos) => Cell::Timestamp(value.div_euclid(1_000_000)),
        Decoding::UnsignedInt64 if value < 0 => Cell::Number(value as u64 as f64),
        Decoding::Decimal { scale } => Cell::Number(scale_decimal(i128::from(value), scale)),
        _ => Cell::Integer(value),
    }
}

fn bytes_cell(bytes: &[u8], decoding: Decoding) -> Result<Cell, CellProblem> {
    match decoding {
        Decoding::Decimal { scale } => {
            if bytes.is_empty() || bytes.len() > MAX_DECIMAL_BYTES {
                return Err(CellProblem::Unsupported(format!(
                    "a decimal of {} bytes is not supported (at most {MAX_DECIMAL_BYTES})",
                    bytes.len()
                )));
            }
            Ok(Cell::Number(scale_decimal(big_endian_i128(bytes), scale)))
        }
        Decoding::Float16 => match bytes {
            [low, high] => Ok(Cell::Number(f16_to_f64(u16::from_le_bytes([*low, *high])))),
            _ => Err(CellProblem::Unsupported(format!(
                "a FLOAT16 value must have 2 bytes, not {}",
                bytes.len()
            ))),
        },
        Decoding::Uuid => Ok(Cell::Text(format_uuid(bytes))),
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Cell::Text(text.to_string())),
            Err(_) => Err(CellProblem::InvalidUtf8),
        },
    }
}

/// Sign-extends big-endian two's complement bytes (at most 16) into an `i128`.
fn big_endian_i128(bytes: &[u8]) -> i128 {
    let fill = if bytes[0] & 0x80 != 0 { 0xFF } else { 0x00 };
    let mut buffer = [fill; 16];
    buffer[16 - bytes.len()..].copy_from_slice(bytes);
    i128::from_be_bytes(buffer)
}

fn scale_decimal(unscaled: i128, scale: i32) -> f64 {
    unscaled as f64 / 10f64.powi(scale)
}

/// Converts IEEE 754 half-precision bits to `f64`.
fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1F);
    let fraction = f64::from(bits & 0x03FF);
    match exponent {
        0 => sign * fraction * 2f64.powi(-24),
        0x1F if fraction == 0.0 => sign * f64::INFINITY,
        0x1F => f64::NAN,
        _ => sign * (1.0 + fraction / 1024.0) * 2f64.powi(exponent - 15),
    }
}

fn format_uuid(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    if hex.len() != 32 {
        return hex;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn invalid_parquet(file_name: &str, error: &ParquetError) -> IngestError {
    IngestError::InvalidParquet {
        file: file_name.to_string(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use parquet::data_type::{
        BoolType, ByteArrayType, DataType, DoubleType, FixedLenByteArrayType, FloatType, Int32Type,
        Int64Type, Int96Type,
    };
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter};
    use parquet::schema::parser::parse_message_type;

    use super::*;
    use crate::ingest::test_support::{demo_data_bytes, demo_data_path};

    const CENSUS: &str = "us_census_ma_employment.parquet";
    const FLIGHTS: &str = "nycflights13_flights.parquet";

    fn column_index(reader: &dyn RecordReader, name: &str) -> usize {
        reader
            .columns()
            .iter()
            .position(|column| column == name)
            .unwrap()
    }

    fn text(value: &str) -> Cell {
        Cell::Text(value.to_string())
    }

    #[test]
    fn parquet_census_columns_and_first_row() {
        let mut reader = ParquetReader::new(CENSUS, demo_data_bytes(CENSUS)).unwrap();

        // Columns and values from pyarrow 26:
        // pq.read_table("demo-data/us_census_ma_employment.parquet").slice(0, 1).to_pylist()
        let expected_columns = [
            "id",
            "AGEP",
            "SCHL",
            "MAR",
            "RELP",
            "DIS",
            "ESP",
            "CIT",
            "MIG",
            "MIL",
            "ANC",
            "NATIVITY",
            "DEAR",
            "DEYE",
            "DREM",
            "SEX",
            "RAC1P",
            "employed",
            "year",
            "prediction",
            "predicted_probability",
            "period",
        ];
        assert_eq!(reader.columns(), expected_columns);

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.row_number, 1);
        let expected_cells = vec![
            Cell::Integer(0),
            Cell::Number(62.0),
            text("16"),
            text("1"),
            text("17"),
            text("1"),
            text("0"),
            text("1"),
            text("1"),
            text("4"),
            text("2"),
            text("1"),
            text("2"),
            text("2"),
            text("2"),
            text("2"),
            text("1"),
            Cell::Integer(0),
            Cell::Integer(2015),
            Cell::Integer(0),
            Cell::Number(0.12121149704607134),
            text("reference"),
        ];
        assert_eq!(row.cells, expected_cells);
    }

    #[test]
    fn parquet_census_row_count_and_last_row() {
        let mut reader = ParquetReader::new(CENSUS, demo_data_bytes(CENSUS)).unwrap();
        let id = column_index(&reader, "id");
        let year = column_index(&reader, "year");
        let probability = column_index(&reader, "predicted_probability");

        let mut last = None;
        let mut rows_per_year = std::collections::BTreeMap::new();
        while let Some(row) = reader.next_row() {
            let row = row.unwrap();
            let Cell::Integer(row_year) = row.cells[year] else {
                panic!(
                    "year is not an integer in row {}: {:?}",
                    row.row_number, row.cells[year]
                );
            };
            *rows_per_year.entry(row_year).or_insert(0u64) += 1;
            last = Some(row);
        }

        // Counts from pyarrow: pc.value_counts(table["year"]).
        let expected: std::collections::BTreeMap<i64, u64> = [
            (2015, 68_785),
            (2016, 69_126),
            (2017, 69_635),
            (2018, 70_131),
        ]
        .into();
        assert_eq!(rows_per_year, expected);
        let last = last.unwrap();
        assert_eq!(last.row_number, 277_677);
        // Last row from pyarrow: table.slice(table.num_rows - 1, 1).to_pylist().
        assert_eq!(last.cells[id], Cell::Integer(277_676));
        assert_eq!(last.cells[probability], Cell::Number(0.0001559150040561598));
    }

    #[test]
    fn parquet_flights_time_hour_is_timestamp() {
        let mut reader = ParquetReader::new(FLIGHTS, demo_data_bytes(FLIGHTS)).unwrap();
        let time_hour = column_index(&reader, "time_hour");
        let carrier = column_index(&reader, "carrier");
        let distance = column_index(&reader, "distance");
        reader.select_columns(&[time_hour, carrier, distance]);

        // time_hour is INT64 TIMESTAMP(NANOS, UTC). pyarrow reads row 1 as 2013-01-01T10:00:00Z
        // and the last row as 2013-10-01T03:00:00Z. The milliseconds come from Python's
        // datetime(..., tzinfo=timezone.utc).timestamp() * 1000.
        let first = reader.next_row().unwrap().unwrap();
        assert_eq!(first.cells[time_hour], Cell::Timestamp(1_357_034_400_000));
        assert_eq!(first.cells[carrier], text("UA"));
        assert_eq!(first.cells[distance], Cell::Integer(1400));
        assert_eq!(
            first.cells[column_index(&reader, "id")],
            Cell::Missing,
            "id was not selected"
        );

        let mut rows = 1u64;
        let mut last = first;
        while let Some(row) = reader.next_row() {
            last = row.unwrap();
            rows += 1;
        }
        assert_eq!(rows, 327_346);
        assert_eq!(last.cells[time_hour], Cell::Timestamp(1_380_596_400_000));
        assert_eq!(last.cells[carrier], text("B6"));
    }

    #[test]
    fn parquet_file_and_bytes_give_same_rows() {
        let file = std::fs::File::open(demo_data_path(FLIGHTS)).unwrap();
        let mut from_file = ParquetReader::new(FLIGHTS, file).unwrap();
        let mut from_bytes = ParquetReader::new(FLIGHTS, demo_data_bytes(FLIGHTS)).unwrap();

        assert_eq!(from_file.columns(), from_bytes.columns());
        assert_eq!(from_file.total_bytes(), Some(6_058_605));
        for _ in 0..5000 {
            let file_row = from_file.next_row().unwrap().unwrap();
            let bytes_row = from_bytes.next_row().unwrap().unwrap();
            assert_eq!(file_row, bytes_row);
        }
    }

    #[test]
    fn parquet_bytes_read_grows_to_row_group_size() {
        let data = demo_data_bytes(CENSUS);
        let total = data.len() as u64;
        let mut reader = ParquetReader::new(CENSUS, data).unwrap();
        let compressed: u64 = reader
            .file
            .metadata()
            .row_groups()
            .iter()
            .map(|group| group.compressed_size() as u64)
            .sum();

        assert_eq!(reader.bytes_read(), 0);
        let mut previous = 0;
        let mut halfway = 0;
        while let Some(row) = reader.next_row() {
            let row = row.unwrap();
            let bytes_read = reader.bytes_read();
            assert!(
                bytes_read >= previous,
                "bytes_read went back at row {}",
                row.row_number
            );
            previous = bytes_read;
            if row.row_number == 277_677 / 2 {
                halfway = bytes_read;
            }
        }
        assert_eq!(reader.bytes_read(), compressed);
        assert!(compressed <= total);
        assert!(
            halfway > compressed / 3 && halfway < compressed * 2 / 3,
            "halfway {halfway} of {compressed}"
        );
    }

    #[test]
    fn parquet_truncated_file_is_error() {
        let data = demo_data_bytes(CENSUS);

        for length in [data.len() / 2, data.len() - 1, 3] {
            let truncated = data.slice(..length);
            let error = ParquetReader::new("cut.parquet", truncated).err().unwrap();
            assert!(
                matches!(error, IngestError::InvalidParquet { .. }),
                "length {length}: {error:?}"
            );
            let message = error.to_string();
            assert!(
                message.starts_with("cut.parquet is not a readable Parquet file: "),
                "{message}"
            );
            assert!(message.ends_with("upload the file again."), "{message}");
        }
    }

    #[test]
    fn parquet_empty_input_is_error() {
        let error = ParquetReader::new("empty.parquet", Bytes::new())
            .err()
            .unwrap();

        assert!(matches!(error, IngestError::EmptyFile { .. }), "{error:?}");
    }

    #[test]
    fn parquet_damaged_page_is_error_not_panic() {
        let data = demo_data_bytes(CENSUS);
        let metadata = ParquetReader::new(CENSUS, data.clone())
            .unwrap()
            .file
            .metadata()
            .clone();
        let id_chunk = metadata.row_group(0).column(0);
        let (start, length) = id_chunk.byte_range();

        // Overwrite the middle of the id column chunk, leaving the footer intact.
        let mut damaged = data.to_vec();
        let middle = (start + length / 2) as usize;
        for byte in &mut damaged[middle..middle + 64] {
            *byte = 0xA5;
        }
        let mut reader = ParquetReader::new("damaged.parquet", Bytes::from(damaged)).unwrap();

        let mut error = None;
        while let Some(row) = reader.next_row() {
            if let Err(row_error) = row {
                error = Some(row_error);
                break;
            }
        }
        let error = error.expect("a damaged page must produce an error");
        assert!(
            matches!(error, IngestError::InvalidParquet { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("damaged.parquet is not a readable Parquet file: row "),
            "{error}"
        );
        assert!(
            reader.next_row().is_none(),
            "reading stops after a damaged page"
        );
    }

    const FIXTURE_SCHEMA: &str = "
        message fixture {
            required int64 id;
            optional int64 ts_millis (TIMESTAMP(MILLIS, true));
            optional int64 ts_micros (TIMESTAMP(MICROS, true));
            optional int64 ts_nanos (TIMESTAMP(NANOS, true));
            optional int32 day (DATE);
            optional boolean flag;
            optional int32 unsigned (INTEGER(32, false));
            optional binary name (UTF8);
            optional double score;
            optional float ratio;
            optional int64 price (DECIMAL(10, 2));
            optional group point {
                optional double x;
            }
        }
    ";

    fn write_column<T: DataType>(
        group: &mut SerializedRowGroupWriter<'_, Vec<u8>>,
        values: &[T::T],
        def_levels: Option<&[i16]>,
    ) {
        let mut column = group.next_column().unwrap().unwrap();
        column
            .typed::<T>()
            .write_batch(values, def_levels, None)
            .unwrap();
        column.close().unwrap();
    }

    /// Writes a file with every supported type: row group 1 has rows 1-3 (row 2 all null, row 3
    /// with invalid UTF-8 in `name`), row group 2 has rows 4-5.
    fn write_fixture() -> Bytes {
        let schema = Arc::new(parse_message_type(FIXTURE_SCHEMA).unwrap());
        let properties = Arc::new(WriterProperties::builder().build());
        let mut writer = SerializedFileWriter::new(Vec::new(), schema, properties).unwrap();

        // 2024-02-29T12:30:15.123Z is 1709209815123 ms and 2024-02-29 is day 19782, both from
        // Python's datetime module.
        let present_null_present: &[i16] = &[1, 0, 1];
        let mut group = writer.next_row_group().unwrap();
        write_column::<Int64Type>(&mut group, &[1, 2, 3], None);
        write_column::<Int64Type>(
            &mut group,
            &[1_709_209_815_123, -1],
            Some(present_null_present),
        );
        write_column::<Int64Type>(
            &mut group,
            &[1_709_209_815_123_456, -1],
            Some(present_null_present),
        );
        write_column::<Int64Type>(
            &mut group,
            &[1_709_209_815_123_456_789, -1],
            Some(present_null_present),
        );
        write_column::<Int32Type>(&mut group, &[19_782, -1], Some(present_null_present));
        write_column::<BoolType>(&mut group, &[true, false], Some(present_null_present));
        write_column::<Int32Type>(
            &mut group,
            &[4_000_000_000u32 as i32, 7],
            Some(present_null_present),
        );
        let names = [
            ByteArray::from("alpha"),
            ByteArray::from(b"caf\xe9".to_vec()),
        ];
        write_column::<ByteArrayType>(&mut group, &names, Some(present_null_present));
        write_column::<DoubleType>(&mut group, &[0.5, f64::NAN], Some(present_null_present));
        write_column::<FloatType>(&mut group, &[0.25, -2.0], Some(present_null_present));
        write_column::<Int64Type>(&mut group, &[12_345, -5], Some(present_null_present));
        write_column::<DoubleType>(&mut group, &[1.5, 2.5], Some(&[2, 0, 2]));
        group.close().unwrap();

        let mut group = writer.next_row_group().unwrap();
        write_column::<Int64Type>(&mut group, &[4, 5], None);
        write_column::<Int64Type>(&mut group, &[0], Some(&[1, 0]));
        write_column::<Int64Type>(&mut group, &[0], Some(&[1, 0]));
        write_column::<Int64Type>(&mut group, &[0], Some(&[1, 0]));
        write_column::<Int32Type>(&mut group, &[0], Some(&[1, 0]));
        write_column::<BoolType>(&mut group, &[false], Some(&[1, 0]));
        write_column::<Int32Type>(&mut group, &[0], Some(&[1, 0]));
        write_column::<ByteArrayType>(&mut group, &[ByteArray::from("omega")], Some(&[1, 0]));
        write_column::<DoubleType>(&mut group, &[f64::INFINITY], Some(&[1, 0]));
        write_column::<FloatType>(&mut group, &[1.0], Some(&[1, 0]));
        write_column::<Int64Type>(&mut group, &[0], Some(&[1, 0]));
        write_column::<DoubleType>(&mut group, &[0.0], Some(&[2, 0]));
        group.close().unwrap();

        Bytes::from(writer.into_inner().unwrap())
    }

    #[test]
    fn parquet_logical_types_and_nulls() {
        let mut reader = ParquetReader::new("fixture.parquet", write_fixture()).unwrap();

        let expected_columns = [
            "id",
            "ts_millis",
            "ts_micros",
            "ts_nanos",
            "day",
            "flag",
            "unsigned",
            "name",
            "score",
            "ratio",
            "price",
        ];
        assert_eq!(
            reader.columns(),
            expected_columns,
            "the nested column point.x is skipped"
        );

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.row_number, 1);
        let expected = vec![
            Cell::Integer(1),
            Cell::Timestamp(1_709_209_815_123),
            Cell::Timestamp(1_709_209_815_123),
            Cell::Timestamp(1_709_209_815_123),
            Cell::Timestamp(19_782 * 86_400_000),
            Cell::Boolean(true),
            Cell::Integer(4_000_000_000),
            text("alpha"),
            Cell::Number(0.5),
            Cell::Number(0.25),
            Cell::Number(123.45),
        ];
        assert_eq!(row.cells, expected);

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.row_number, 2);
        assert_eq!(row.cells[0], Cell::Integer(2));
        assert!(
            row.cells[1..].iter().all(|cell| *cell == Cell::Missing),
            "{:?}",
            row.cells
        );
    }

    #[test]
    fn parquet_negative_timestamps_round_down() {
        // Row 3 has invalid UTF-8 in `name`, so skip that column to read the row's other cells.
        let mut reader_without_name =
            ParquetReader::new("fixture.parquet", write_fixture()).unwrap();
        reader_without_name.select_columns(&[0, 1, 2, 3, 4, 8, 10]);
        reader_without_name.next_row();
        reader_without_name.next_row();
        let row = reader_without_name.next_row().unwrap().unwrap();
        assert_eq!(row.cells[1], Cell::Timestamp(-1), "millis");
        assert_eq!(
            row.cells[2],
            Cell::Timestamp(-1),
            "-1 µs is in the millisecond before the epoch"
        );
        assert_eq!(
            row.cells[3],
            Cell::Timestamp(-1),
            "-1 ns is in the millisecond before the epoch"
        );
        assert_eq!(
            row.cells[4],
            Cell::Timestamp(-86_400_000),
            "day -1 is 1969-12-31"
        );
        assert!(
            matches!(row.cells[8], Cell::Number(score) if score.is_nan()),
            "{:?}",
            row.cells[8]
        );
        assert_eq!(row.cells[10], Cell::Number(-0.05));
    }

    #[test]
    fn parquet_invalid_utf8_is_row_error_and_reading_continues() {
        let mut reader = ParquetReader::new("fixture.parquet", write_fixture()).unwrap();
        reader.next_row().unwrap().unwrap();
        reader.next_row().unwrap().unwrap();

        let error = reader.next_row().unwrap().unwrap_err();
        assert_eq!(
            error.to_string(),
            "fixture.parquet, row 3, column \"name\": the text is not valid UTF-8. Save the file \
             with UTF-8 encoding and upload it again."
        );

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(
            row.row_number, 4,
            "row numbers continue into the second row group"
        );
        assert_eq!(row.cells[0], Cell::Integer(4));
        assert_eq!(row.cells[7], text("omega"));
        assert_eq!(row.cells[8], Cell::Number(f64::INFINITY));
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.row_number, 5);
        assert_eq!(row.cells[7], Cell::Missing);
        assert!(reader.next_row().is_none());
    }

    #[test]
    fn parquet_helpers_convert_edge_values() {
        assert_eq!(big_endian_i128(&[0xFF, 0xFE]), -2);
        assert_eq!(big_endian_i128(&[0x01, 0x00]), 256);
        assert_eq!(f16_to_f64(0x3C00), 1.0);
        assert_eq!(f16_to_f64(0xC000), -2.0);
        assert_eq!(f16_to_f64(0x7C00), f64::INFINITY);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert_eq!(
            format_uuid(&[
                0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
                0xde, 0xf0
            ]),
            "12345678-9abc-def0-1234-56789abcdef0"
        );
        assert_eq!(
            int64_cell(-1, Decoding::UnsignedInt64),
            Cell::Number(u64::MAX as f64)
        );
    }

    /// Tallies each column's cells as `next_row` returns them, keyed by the cell's debug form.
    fn row_tallies(file: &str, data: Bytes) -> Vec<std::collections::BTreeMap<String, u64>> {
        let mut reader = ParquetReader::new(file, data).unwrap();
        let mut tallies = vec![std::collections::BTreeMap::new(); reader.columns().len()];
        while let Some(row) = reader.next_row() {
            for (tally, cell) in tallies.iter_mut().zip(row.unwrap().cells) {
                *tally.entry(format!("{cell:?}")).or_insert(0) += 1;
            }
        }
        tallies
    }

    /// Asserts that counting each column gives what reading the rows gives.
    fn assert_counts_match_rows(file: &str, data: Bytes) {
        let reader = ParquetReader::new(file, data.clone()).unwrap();
        for (index, expected) in row_tallies(file, data).into_iter().enumerate() {
            let counts = reader.count_values(index).unwrap();
            let mut counted = std::collections::BTreeMap::new();
            if counts.missing > 0 {
                counted.insert(format!("{:?}", Cell::Missing), counts.missing);
            }
            for (cell, times) in counts.values {
                assert!(counted.insert(format!("{cell:?}"), times).is_none(), "{cell:?} counted twice");
            }
            assert_eq!(counted, expected, "{file}, column {}", reader.columns()[index]);
        }
    }

    #[test]
    fn count_values_agrees_with_demo_rows() {
        for file in [CENSUS, FLIGHTS] {
            assert_counts_match_rows(file, demo_data_bytes(file));
        }
    }

    /// Writes 3,000 rows in two row groups with `properties`: every physical type, nulls in
    /// every optional column, and few distinct values so that pages hold long runs.
    fn write_counting_fixture(properties: WriterProperties) -> Bytes {
        let schema = parse_message_type(
            "message counting {
                required int32 small;
                optional int64 big;
                optional double score;
                optional float ratio;
                optional binary label (UTF8);
                optional fixed_len_byte_array(2) code;
                optional boolean flag;
                optional int96 legacy_time;
            }",
        )
        .unwrap();
        let mut writer = SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(properties)).unwrap();
        for group_index in 0..2 {
            let rows: Vec<usize> = (0..1500).map(|row| row + group_index * 1500).collect();
            let levels: Vec<i16> = rows.iter().map(|row| i16::from(row % 7 != 0)).collect();
            let present: Vec<usize> = rows.iter().copied().filter(|row| row % 7 != 0).collect();
            let mut group = writer.next_row_group().unwrap();
            let small: Vec<i32> = rows.iter().map(|row| (row % 5) as i32 - 2).collect();
            write_column::<Int32Type>(&mut group, &small, None);
            let big: Vec<i64> = present.iter().map(|row| (row % 11) as i64 * 1_000_000_007).collect();
            write_column::<Int64Type>(&mut group, &big, Some(&levels));
            let score: Vec<f64> = present.iter().map(|row| (row % 13) as f64 / 4.0 - 1.0).collect();
            write_column::<DoubleType>(&mut group, &score, Some(&levels));
            let ratio: Vec<f32> = present.iter().map(|row| (row % 3) as f32 * 0.5).collect();
            write_column::<FloatType>(&mut group, &ratio, Some(&levels));
            // Every 50th label is unique, so a small dictionary limit makes later pages PLAIN.
            let label: Vec<ByteArray> = present
                .iter()
                .map(|row| ByteArray::from(if row % 50 == 1 { format!("unique-{row}") } else { format!("label-{}", row % 9) }.as_str()))
                .collect();
            write_column::<ByteArrayType>(&mut group, &label, Some(&levels));
            let code: Vec<FixedLenByteArray> =
                present.iter().map(|row| FixedLenByteArray::from(vec![b'A' + (row % 4) as u8, b'z'])).collect();
            write_column::<FixedLenByteArrayType>(&mut group, &code, Some(&levels));
            let flag: Vec<bool> = present.iter().map(|row| row % 2 == 0).collect();
            write_column::<BoolType>(&mut group, &flag, Some(&levels));
            let legacy_time: Vec<Int96> = present
                .iter()
                .map(|row| {
                    let mut value = Int96::new();
                    value.set_data(0, 0, 2_460_000 + (row % 6) as u32);
                    value
                })
                .collect();
            write_column::<Int96Type>(&mut group, &legacy_time, Some(&levels));
            group.close().unwrap();
        }
        Bytes::from(writer.into_inner().unwrap())
    }

    #[test]
    fn counts_match_rows_per_page_layout() {
        use parquet::file::properties::WriterVersion;
        let layouts = [
            ("dictionary, v1 pages", WriterProperties::builder().build()),
            ("plain, v1 pages", WriterProperties::builder().set_dictionary_enabled(false).build()),
            ("dictionary, v2 pages", WriterProperties::builder().set_writer_version(WriterVersion::PARQUET_2_0).build()),
            (
                "dictionary then plain",
                WriterProperties::builder().set_dictionary_page_size_limit(64).set_data_page_row_count_limit(100).build(),
            ),
            (
                "brotli pages",
                WriterProperties::builder().set_compression(parquet::basic::Compression::BROTLI(Default::default())).build(),
            ),
            (
                "v2 with delta encodings",
                WriterProperties::builder()
                    .set_writer_version(WriterVersion::PARQUET_2_0)
                    .set_dictionary_enabled(false)
                    .build(),
            ),
        ];
        for (name, properties) in layouts {
            assert_counts_match_rows(name, write_counting_fixture(properties));
        }
    }
}
