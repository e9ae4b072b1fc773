//! Conversion of timestamp cells (integers and text) to milliseconds since the Unix epoch, UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// Integers in this range are read as a calendar year rather than as Unix seconds.
const YEAR_RANGE: std::ops::RangeInclusive<i64> = 1000..=9999;

/// Formats without a UTC offset, whose values are taken as UTC. `%.f` also matches no fraction.
const NAIVE_DATETIME_FORMATS: [&str; 2] = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"];

/// Formats with an offset that RFC 3339 rejects: a space in place of the `T`, as pandas writes
/// time-zone-aware values to CSV (`2013-01-01 10:00:00+00:00`).
const OFFSET_DATETIME_FORMATS: [&str; 2] = ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.fZ"];

/// Converts an integer timestamp to milliseconds: 1000..=9999 is a year (January 1, 00:00 UTC)
/// and any other value is Unix seconds. Returns `None` when the result overflows `i64`.
pub fn timestamp_from_integer(value: i64) -> Option<i64> {
    if YEAR_RANGE.contains(&value) {
        let year = i32::try_from(value).ok()?;
        let start = NaiveDate::from_ymd_opt(year, 1, 1)?.and_hms_opt(0, 0, 0)?;
        return Some(start.and_utc().timestamp_millis());
    }
    value.checked_mul(1000)
}

/// Converts a floating-point timestamp: an integral value follows [`timestamp_from_integer`],
/// and any other finite value is Unix seconds with a fraction. Returns `None` for NaN, infinity
/// and values out of range.
pub fn timestamp_from_float(value: f64) -> Option<i64> {
    if !value.is_finite() {
        return None;
    }
    // 2^63 as f64. Casting larger values to i64 would saturate instead of failing.
    const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if value.fract() == 0.0 && value.abs() < I64_LIMIT {
        return timestamp_from_integer(value as i64);
    }
    let millis = (value * 1000.0).round();
    if millis.abs() < I64_LIMIT {
        Some(millis as i64)
    } else {
        None
    }
}

/// Parses a timestamp written as text, returning milliseconds since the Unix epoch, UTC.
///
/// Accepts RFC 3339 (`2015-03-01T08:30:00Z`, `2015-03-01T08:30:00+02:00`), the same with a space
/// in place of the `T`, `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DDTHH:MM:SS` with an optional
/// fraction (taken as UTC), `YYYY-MM-DD` (midnight UTC), and a plain number, which
/// follows [`timestamp_from_integer`] or [`timestamp_from_float`]. A four-digit number is
/// therefore a year. Leading and trailing whitespace is ignored.
pub fn parse_timestamp_text(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }

    if looks_like_number(text) {
        if let Ok(integer) = text.parse::<i64>() {
            return timestamp_from_integer(integer);
        }
        return text.parse::<f64>().ok().and_then(timestamp_from_float);
    }

    if let Ok(datetime) = DateTime::parse_from_rfc3339(text) {
        return Some(datetime.timestamp_millis());
    }
    for format in OFFSET_DATETIME_FORMATS {
        if let Ok(datetime) = DateTime::parse_from_str(text, format) {
            return Some(datetime.timestamp_millis());
        }
    }
    for format in NAIVE_DATETIME_FORMATS {
        if let Ok(datetime) = NaiveDateTime::parse_from_str(text, format) {
            return Some(datetime.and_utc().timestamp_millis());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
    }
    None
}

/// Formats milliseconds since the Unix epoch as RFC 3339 in UTC, such as
/// `2015-01-01T00:00:00Z`, or as `<n> ms since the Unix epoch` outside chrono's date range.
pub fn format_timestamp_ms(millis: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(millis) {
        Some(datetime) => datetime.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => format!("{millis} ms since the Unix epoch"),
    }
}

/// Returns true for an optional sign followed by digits with at most one decimal point, so
/// that `2015` and `1357034400.5` are numbers but `2015-01-01` is not.
fn looks_like_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut seen_digit = false;
    let mut seen_point = false;
    for character in digits.chars() {
        match character {
            '0'..='9' => seen_digit = true,
            '.' if !seen_point => seen_point = true,
            _ => return false,
        }
    }
    seen_digit
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2015-01-01T00:00:00Z in milliseconds, from `date -u -d 2015-01-01 +%s` (1420070400) × 1000.
    const JAN_1_2015_MS: i64 = 1_420_070_400_000;

    #[test]
    fn integer_year_maps_to_january_first() {
        assert_eq!(timestamp_from_integer(2015), Some(JAN_1_2015_MS));
        assert_eq!(format_timestamp_ms(JAN_1_2015_MS), "2015-01-01T00:00:00Z");
        assert_eq!(timestamp_from_integer(1000), Some(-30_610_224_000_000));
        assert_eq!(
            format_timestamp_ms(timestamp_from_integer(9999).unwrap()),
            "9999-01-01T00:00:00Z"
        );
    }

    #[test]
    fn integer_outside_year_range_is_unix_seconds() {
        assert_eq!(
            timestamp_from_integer(1_357_034_400),
            Some(1_357_034_400_000)
        );
        assert_eq!(timestamp_from_integer(999), Some(999_000));
        assert_eq!(timestamp_from_integer(10_000), Some(10_000_000));
        assert_eq!(timestamp_from_integer(0), Some(0));
        assert_eq!(timestamp_from_integer(-5), Some(-5_000));
    }

    #[test]
    fn integer_overflow_returns_none() {
        assert_eq!(timestamp_from_integer(i64::MAX), None);
        assert_eq!(timestamp_from_integer(i64::MIN), None);
    }

    #[test]
    fn float_timestamps() {
        assert_eq!(timestamp_from_float(2015.0), Some(JAN_1_2015_MS));
        assert_eq!(
            timestamp_from_float(1_357_034_400.25),
            Some(1_357_034_400_250)
        );
        assert_eq!(timestamp_from_float(f64::NAN), None);
        assert_eq!(timestamp_from_float(f64::INFINITY), None);
        assert_eq!(timestamp_from_float(1e300), None);
    }

    #[test]
    fn text_formats_parse_to_utc_millis() {
        // 2013-01-01T10:00:00Z is 1357034400 s (`date -u -d '2013-01-01 10:00' +%s`).
        let expected = 1_357_034_400_000;
        let cases = [
            "2013-01-01T10:00:00Z",
            "2013-01-01T10:00:00+00:00",
            "2013-01-01T05:00:00-05:00",
            "2013-01-01 10:00:00+00:00",
            "2013-01-01 10:00:00Z",
            "2013-01-01 10:00:00",
            "2013-01-01T10:00:00",
            "  2013-01-01 10:00:00  ",
            "1357034400",
        ];
        for text in cases {
            assert_eq!(parse_timestamp_text(text), Some(expected), "text {text:?}");
        }
    }

    #[test]
    fn text_fractional_seconds_keep_milliseconds() {
        assert_eq!(
            parse_timestamp_text("2013-01-01 10:00:00.250"),
            Some(1_357_034_400_250)
        );
        assert_eq!(
            parse_timestamp_text("2013-01-01T10:00:00.250Z"),
            Some(1_357_034_400_250)
        );
        assert_eq!(
            parse_timestamp_text("1357034400.25"),
            Some(1_357_034_400_250)
        );
    }

    #[test]
    fn text_date_and_year() {
        assert_eq!(parse_timestamp_text("2015-01-01"), Some(JAN_1_2015_MS));
        assert_eq!(parse_timestamp_text("2015"), Some(JAN_1_2015_MS));
        assert_eq!(parse_timestamp_text("2015.0"), Some(JAN_1_2015_MS));
    }

    #[test]
    fn text_invalid_returns_none() {
        let cases = [
            "",
            "abc",
            "13/01/2015",
            "2015-13-01",
            "2015-02-30",
            "2015-01-01 25:00:00",
            "1e5",
            "-",
            ".",
        ];
        for text in cases {
            assert_eq!(parse_timestamp_text(text), None, "text {text:?}");
        }
    }

    #[test]
    fn format_out_of_range_millis() {
        assert_eq!(
            format_timestamp_ms(i64::MAX),
            format!("{} ms since the Unix epoch", i64::MAX)
        );
    }
}
