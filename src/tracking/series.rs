//! Metric series stored as packed blocks. Each log call stores one block per metric key,
//! holding that call's points as 24 bytes each: step, timestamp in milliseconds and the
//! value's IEEE 754 bits, all little-endian. One row per key and call keeps writes cheap.
//! The price is paid on read: a series is the union of its blocks, ordered and with repeated
//! points removed (MLflow 3 sends a run's points again when it logs a model).

/// Size of one packed point in bytes.
pub const POINT_BYTES: usize = 24;

/// One point of a series whose key is known from context.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeriesPoint {
    pub step: i64,
    pub timestamp_ms: i64,
    /// NaN when the client logged NaN; infinities are kept as they are.
    pub value: f64,
}

impl SeriesPoint {
    /// Returns true when both points have the same step, time and value. NaN equals NaN here,
    /// and 0.0 equals -0.0, as SQL compares them.
    fn same_as(&self, other: &SeriesPoint) -> bool {
        let same_value = self.value == other.value || (self.value.is_nan() && other.value.is_nan());
        self.step == other.step && self.timestamp_ms == other.timestamp_ms && same_value
    }
}

/// Packs points into a block.
pub fn pack<'a>(points: impl IntoIterator<Item = &'a SeriesPoint>) -> Vec<u8> {
    let points = points.into_iter();
    let mut bytes = Vec::with_capacity(points.size_hint().0 * POINT_BYTES);
    for point in points {
        bytes.extend_from_slice(&point.step.to_le_bytes());
        bytes.extend_from_slice(&point.timestamp_ms.to_le_bytes());
        bytes.extend_from_slice(&point.value.to_bits().to_le_bytes());
    }
    bytes
}

/// Appends the points of a block to `points`. Fails when the block's length is not a multiple
/// of [`POINT_BYTES`], which only a damaged database can cause.
pub fn unpack(block: &[u8], points: &mut Vec<SeriesPoint>) -> Result<(), String> {
    if block.len() % POINT_BYTES != 0 {
        return Err(format!(
            "a stored metric block has {} bytes, which is not a multiple of {POINT_BYTES}; the database is damaged",
            block.len()
        ));
    }
    points.reserve(block.len() / POINT_BYTES);
    for chunk in block.chunks_exact(POINT_BYTES) {
        let word = |index: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&chunk[index * 8..index * 8 + 8]);
            bytes
        };
        points.push(SeriesPoint {
            step: i64::from_le_bytes(word(0)),
            timestamp_ms: i64::from_le_bytes(word(1)),
            value: f64::from_bits(u64::from_le_bytes(word(2))),
        });
    }
    Ok(())
}

/// Orders the points of a series by step, then time, keeping the logged order among equal
/// ones, and drops every point equal to an earlier one. `points` must be in logged order.
pub fn merge(mut points: Vec<SeriesPoint>) -> Vec<SeriesPoint> {
    points.sort_by_key(|point| (point.step, point.timestamp_ms));
    let mut merged: Vec<SeriesPoint> = Vec::with_capacity(points.len());
    // Points that share a step and a time are adjacent after the sort, so a repeat is found
    // by looking back over the run of points with the same step and time.
    let mut run_start = 0;
    for point in points {
        if merged.last().is_some_and(|last| (last.step, last.timestamp_ms) != (point.step, point.timestamp_ms)) {
            run_start = merged.len();
        }
        if !merged[run_start..].iter().any(|kept| kept.same_as(&point)) {
            merged.push(point);
        }
    }
    merged
}

/// Reduces a series for a chart to at most `2 * buckets + 2` points. A series of up to
/// `4 * buckets` finite points is returned whole. A longer one has its step range cut into
/// `buckets` equal ranges, and each range gives its lowest and its highest point at their own
/// steps, so peaks keep their height and position. The series' first and last points are
/// kept too. NaN and infinite values are left out. `points` must be in step order.
pub fn reduce(points: &[SeriesPoint], buckets: usize) -> Vec<(i64, f64)> {
    let finite: Vec<(i64, f64)> =
        points.iter().filter(|point| point.value.is_finite()).map(|point| (point.step, point.value)).collect();
    let buckets = buckets.max(1);
    if finite.len() <= buckets * 4 {
        return finite;
    }
    let first = finite.iter().map(|point| point.0).min().unwrap_or(0);
    let last = finite.iter().map(|point| point.0).max().unwrap_or(0);
    // i128 keeps the width right for steps near both ends of i64.
    let width = ((last as i128 - first as i128) / buckets as i128).max(1) + 1;

    let mut reduced = Vec::with_capacity(buckets * 2);
    let mut current: Option<(i128, (i64, f64), (i64, f64))> = None;
    let flush = |range: Option<(i128, (i64, f64), (i64, f64))>, reduced: &mut Vec<(i64, f64)>| {
        if let Some((_, low, high)) = range {
            let (earlier, later) = if low.0 <= high.0 { (low, high) } else { (high, low) };
            reduced.push(earlier);
            if earlier != later {
                reduced.push(later);
            }
        }
    };

    // `finite` is in step order, because merged series are, so each range is one stretch.
    for &(step, value) in &finite {
        let bucket = (step as i128 - first as i128) / width;
        match &mut current {
            Some((index, low, high)) if *index == bucket => {
                if value < low.1 {
                    *low = (step, value);
                }
                if value > high.1 {
                    *high = (step, value);
                }
            }
            _ => {
                flush(current.take(), &mut reduced);
                current = Some((bucket, (step, value), (step, value)));
            }
        }
    }
    flush(current, &mut reduced);

    // The first and last points keep the chart's x range that of the whole series.
    if reduced.first() != finite.first() {
        reduced.insert(0, finite[0]);
    }
    if reduced.last() != finite.last() {
        reduced.push(finite[finite.len() - 1]);
    }
    reduced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(step: i64, timestamp_ms: i64, value: f64) -> SeriesPoint {
        SeriesPoint { step, timestamp_ms, value }
    }

    #[test]
    fn pack_unpack_round_trip() {
        let points = [point(0, 1, 0.5), point(-3, i64::MAX, f64::NAN), point(i64::MIN, 0, f64::NEG_INFINITY)];
        let block = pack(&points);
        assert_eq!(block.len(), 3 * POINT_BYTES);

        let mut read = Vec::new();
        unpack(&block, &mut read).unwrap();

        assert_eq!(read.len(), 3);
        assert_eq!(read[0], points[0]);
        assert!(read[1].value.is_nan());
        assert_eq!((read[1].step, read[1].timestamp_ms), (-3, i64::MAX));
        assert_eq!(read[2], points[2]);
    }

    #[test]
    fn unpack_rejects_torn_block() {
        let error = unpack(&[0u8; 25], &mut Vec::new()).unwrap_err();
        assert!(error.contains("25 bytes"), "{error}");
    }

    #[test]
    fn merge_orders_and_drops_repeats() {
        let logged = vec![
            point(2, 10, 0.2),
            point(1, 10, 0.1),
            point(1, 10, f64::NAN),
            point(1, 10, 0.3),
            // Sent again, as MLflow 3 does when it logs a model.
            point(1, 10, 0.1),
            point(1, 10, f64::NAN),
            point(2, 10, 0.2),
            point(1, 5, 0.1),
            point(2, 10, -0.0),
            point(2, 10, 0.0),
        ];

        let merged = merge(logged);

        let shown: Vec<(i64, i64, String)> =
            merged.iter().map(|point| (point.step, point.timestamp_ms, point.value.to_string())).collect();
        let expected = [(1, 5, "0.1"), (1, 10, "0.1"), (1, 10, "NaN"), (1, 10, "0.3"), (2, 10, "0.2"), (2, 10, "-0")];
        let expected: Vec<(i64, i64, String)> =
            expected.iter().map(|(step, time, value)| (*step, *time, value.to_string())).collect();
        assert_eq!(shown, expected);
    }

    #[test]
    fn reduce_keeps_short_series_whole() {
        let points: Vec<SeriesPoint> = (0..8).map(|step| point(step, 0, step as f64)).collect();
        let mut with_gaps = points.clone();
        with_gaps.push(point(8, 0, f64::NAN));
        with_gaps.push(point(9, 0, f64::INFINITY));

        let reduced = reduce(&with_gaps, 2);

        assert_eq!(reduced, points.iter().map(|point| (point.step, point.value)).collect::<Vec<_>>());
    }

    #[test]
    fn reduce_keeps_peaks_at_their_steps() {
        // 1,000 points of a flat line at 1.0 with one spike up at step 123 and one dip at 777.
        let mut points: Vec<SeriesPoint> = (0..1000).map(|step| point(step, 0, 1.0)).collect();
        points[123].value = 50.0;
        points[777].value = -20.0;

        let reduced = reduce(&points, 10);

        assert!(reduced.len() <= 22, "{} points", reduced.len());
        assert!(reduced.contains(&(123, 50.0)), "{reduced:?}");
        assert!(reduced.contains(&(777, -20.0)), "{reduced:?}");
        assert!(reduced.windows(2).all(|pair| pair[0].0 < pair[1].0), "steps in order: {reduced:?}");
        assert_eq!(reduced.first().map(|point| point.0), Some(0));
        assert_eq!(reduced.last().map(|point| point.0), Some(999));
    }

    #[test]
    fn reduce_handles_extreme_steps() {
        let points: Vec<SeriesPoint> =
            (0..100).map(|index| point(if index < 50 { i64::MIN + index } else { i64::MAX - 100 + index }, 0, index as f64)).collect();

        let reduced = reduce(&points, 4);

        assert!(reduced.contains(&(i64::MIN, 0.0)), "{reduced:?}");
        assert!(reduced.contains(&(i64::MAX - 1, 99.0)), "{reduced:?}");
    }
}
