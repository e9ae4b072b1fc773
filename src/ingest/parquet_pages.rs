//! Counts a column chunk's values straight from its pages. A dictionary-encoded page is
//! counted per dictionary index, so each value stored in the dictionary is handled once per
//! chunk instead of once per row. Only what counting needs is decoded: definition levels
//! (to count nulls), dictionary indices and PLAIN values.

use std::ops::Range;

use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::{Page, PageReader};
use parquet::errors::ParquetError;
use rustc_hash::FxHashMap;

/// Layout of one column chunk, as the page decoder needs it.
pub(super) struct ChunkLayout {
    pub physical: PhysicalType,
    /// Bytes per value of a FIXED_LEN_BYTE_ARRAY column.
    pub type_length: usize,
    pub max_def_level: i16,
}

/// Counts every value of one column chunk and returns its number of nulls. Each distinct
/// stored value goes to `tally` once, as its PLAIN bytes, with its count. Returns `Ok(None)`,
/// before calling `tally`, when a page uses an encoding that is not decoded here (BOOLEAN
/// values, DELTA or BYTE_STREAM_SPLIT encodings, bit-packed levels). The caller then counts
/// the chunk with the column reader instead.
pub(super) fn count_chunk(
    pages: &mut dyn PageReader,
    layout: &ChunkLayout,
    mut tally: impl FnMut(&[u8], u64),
) -> Result<Option<u64>, ParquetError> {
    if layout.physical == PhysicalType::BOOLEAN {
        return Ok(None);
    }
    let mut dictionary: Option<(bytes::Bytes, Vec<Range<usize>>)> = None;
    let mut index_counts: Vec<u64> = Vec::new();
    let mut plain: FxHashMap<Vec<u8>, u64> = FxHashMap::default();
    let mut nulls = 0u64;

    while let Some(page) = pages.get_next_page()? {
        let (buf, values_start, levels, encoding) = match page {
            Page::DictionaryPage { buf, num_values, encoding, .. } => {
                if !matches!(encoding, Encoding::PLAIN | Encoding::PLAIN_DICTIONARY) {
                    return Ok(None);
                }
                let entries = plain_values(&buf, 0, num_values as usize, layout)?;
                index_counts = vec![0; entries.len()];
                dictionary = Some((buf, entries));
                continue;
            }
            Page::DataPage { buf, num_values, encoding, def_level_encoding, .. } => {
                let (page_nulls, values_start) = if layout.max_def_level > 0 {
                    if def_level_encoding != Encoding::RLE {
                        return Ok(None);
                    }
                    count_v1_nulls(&buf, num_values as usize, layout.max_def_level)?
                } else {
                    (0, 0)
                };
                (buf, values_start, (num_values as u64, page_nulls), encoding)
            }
            Page::DataPageV2 { buf, num_values, num_nulls, encoding, def_levels_byte_len, rep_levels_byte_len, .. } => {
                let values_start = def_levels_byte_len as usize + rep_levels_byte_len as usize;
                (buf, values_start, (num_values as u64, num_nulls as u64), encoding)
            }
        };
        let (num_values, page_nulls) = levels;
        let present = num_values.checked_sub(page_nulls).ok_or_else(|| damaged("a page has more nulls than values"))?;
        nulls += page_nulls;
        match encoding {
            Encoding::PLAIN => {
                for range in plain_values(&buf, values_start, present as usize, layout)? {
                    add_bytes(&mut plain, &buf[range], 1);
                }
            }
            Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY => {
                let data = buf.get(values_start..).ok_or_else(|| damaged("a page is shorter than its levels"))?;
                let (&bit_width, indices) = data.split_first().ok_or_else(|| damaged("a dictionary page has no bit width"))?;
                let entries = index_counts.len();
                let mut out_of_range = false;
                decode_hybrid(indices, bit_width, present as usize, |index, times| match index_counts.get_mut(index as usize) {
                    Some(count) => *count += times,
                    None => out_of_range = true,
                })?;
                if out_of_range {
                    return Err(damaged(&format!("a dictionary index is beyond the dictionary's {entries} entries")));
                }
            }
            _ => return Ok(None),
        }
    }

    if let Some((buf, entries)) = &dictionary {
        for (range, count) in entries.iter().zip(&index_counts) {
            if *count > 0 {
                tally(&buf[range.clone()], *count);
            }
        }
    }
    for (value, count) in &plain {
        tally(value, *count);
    }
    Ok(Some(nulls))
}

/// Adds `times` to the count of `bytes`, copying them only the first time they are seen.
pub(super) fn add_bytes(counts: &mut FxHashMap<Vec<u8>, u64>, bytes: &[u8], times: u64) {
    match counts.get_mut(bytes) {
        Some(count) => *count += times,
        None => {
            counts.insert(bytes.to_vec(), times);
        }
    }
}

fn damaged(detail: &str) -> ParquetError {
    ParquetError::General(detail.to_string())
}

/// Splits `count` PLAIN-encoded values starting at `start` into byte ranges of `buf`.
fn plain_values(buf: &[u8], start: usize, count: usize, layout: &ChunkLayout) -> Result<Vec<Range<usize>>, ParquetError> {
    let width = match layout.physical {
        PhysicalType::INT32 | PhysicalType::FLOAT => 4,
        PhysicalType::INT64 | PhysicalType::DOUBLE => 8,
        PhysicalType::INT96 => 12,
        PhysicalType::FIXED_LEN_BYTE_ARRAY => layout.type_length,
        PhysicalType::BOOLEAN => return Err(damaged("BOOLEAN values are bit-packed, not byte-aligned")),
        PhysicalType::BYTE_ARRAY => {
            let mut ranges = Vec::with_capacity(count);
            let mut position = start;
            for _ in 0..count {
                let prefix = buf.get(position..position + 4).ok_or_else(|| damaged("a byte array's length is cut short"))?;
                let length = u32::from_le_bytes(prefix.try_into().expect("four bytes")) as usize;
                let end = position + 4 + length;
                if end > buf.len() {
                    return Err(damaged("a byte array is longer than its page"));
                }
                ranges.push(position + 4..end);
                position = end;
            }
            return Ok(ranges);
        }
    };
    if start + width * count > buf.len() {
        return Err(damaged("a page holds fewer values than it announces"));
    }
    Ok((0..count).map(|index| start + index * width..start + (index + 1) * width).collect())
}

/// Counts the nulls of a format v1 data page from its RLE definition levels, which follow a
/// 4-byte length. Returns the nulls and where the values begin.
fn count_v1_nulls(buf: &[u8], num_values: usize, max_def_level: i16) -> Result<(u64, usize), ParquetError> {
    let prefix = buf.get(..4).ok_or_else(|| damaged("a page is too short for its definition levels"))?;
    let length = u32::from_le_bytes(prefix.try_into().expect("four bytes")) as usize;
    let levels = buf.get(4..4 + length).ok_or_else(|| damaged("the definition levels are longer than their page"))?;
    let bit_width = (16 - max_def_level.leading_zeros()) as u8;
    let mut nulls = 0;
    decode_hybrid(levels, bit_width, num_values, |level, times| {
        if level < max_def_level as u32 {
            nulls += times;
        }
    })?;
    Ok((nulls, 4 + length))
}

/// Decodes `count` values of Parquet's RLE / bit-packing hybrid encoding, calling `run` with
/// each value and how many times it repeats.
fn decode_hybrid(data: &[u8], bit_width: u8, count: usize, mut run: impl FnMut(u32, u64)) -> Result<(), ParquetError> {
    if bit_width > 32 {
        return Err(damaged(&format!("a bit width of {bit_width} is over 32")));
    }
    let width = usize::from(bit_width);
    let mask = if width == 32 { u32::MAX } else { (1u32 << width) - 1 };
    let mut position = 0;
    let mut left = count;
    while left > 0 {
        let header = read_varint(data, &mut position)?;
        if header & 1 == 0 {
            // A repeated run: the length, then the value in ceil(width / 8) bytes.
            let length = ((header >> 1) as usize).min(left);
            let bytes = width.div_ceil(8);
            let raw = data.get(position..position + bytes).ok_or_else(|| damaged("an RLE run is cut short"))?;
            let mut value = [0u8; 4];
            value[..bytes].copy_from_slice(raw);
            position += bytes;
            run(u32::from_le_bytes(value), length as u64);
            left -= length;
        } else {
            // Bit-packed groups of 8 values, least significant bit first.
            let values = (header >> 1) as usize * 8;
            let bytes = (header >> 1) as usize * width;
            let packed = data.get(position..position + bytes).ok_or_else(|| damaged("a bit-packed run is cut short"))?;
            position += bytes;
            for index in 0..values.min(left) {
                let bit = index * width;
                let mut window = [0u8; 8];
                let available = &packed[bit / 8..packed.len().min(bit / 8 + 8)];
                window[..available.len()].copy_from_slice(available);
                run((u64::from_le_bytes(window) >> (bit % 8)) as u32 & mask, 1);
            }
            left -= values.min(left);
        }
    }
    Ok(())
}

/// Reads an unsigned LEB128 integer, as run headers are stored.
fn read_varint(data: &[u8], position: &mut usize) -> Result<u64, ParquetError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*position).ok_or_else(|| damaged("a run header is cut short"))?;
        *position += 1;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(damaged("a run header is longer than 10 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(data: &[u8], bit_width: u8, count: usize) -> Vec<u32> {
        let mut values = Vec::new();
        decode_hybrid(data, bit_width, count, |value, times| values.extend(std::iter::repeat_n(value, times as usize))).unwrap();
        values
    }

    #[test]
    fn hybrid_decodes_rle_runs() {
        // Header 6 << 1 = 12: six repeats of the 1-byte value 3; then header 2 << 1 of value 9.
        assert_eq!(decoded(&[12, 3, 4, 9], 4, 8), [3, 3, 3, 3, 3, 3, 9, 9]);
    }

    #[test]
    fn hybrid_decodes_bit_packed_groups() {
        // The example of the Parquet format's encodings page: 0 to 7 packed in 3 bits each,
        // one group (header (1 << 1) | 1 = 3).
        assert_eq!(decoded(&[3, 0b1000_1000, 0b1100_0110, 0b1111_1010], 3, 8), [0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn hybrid_stops_at_the_count_inside_a_group() {
        assert_eq!(decoded(&[3, 0b1000_1000, 0b1100_0110, 0b1111_1010], 3, 5), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn hybrid_rejects_a_cut_run() {
        assert!(decode_hybrid(&[3, 0b1000_1000], 3, 8, |_, _| {}).is_err());
        assert!(decode_hybrid(&[12], 4, 6, |_, _| {}).is_err());
    }
}
