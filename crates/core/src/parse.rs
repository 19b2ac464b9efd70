//! The value grammars of the import contract: timestamps, dates, numbers, booleans.
//!
//! The contract is stricter than most parsers (no exponents, no basic ISO formats, no
//! hour 24, no offsets without a colon), so each grammar is checked here lexically and
//! the calendar and time-zone arithmetic is left to `jiff`: it validates days of the
//! month and resolves local times, a naive time in a daylight-saving gap moving forward
//! by the gap and one in a repeated hour taking the first occurrence (jiff's
//! "compatible" disambiguation, the same as RFC 5545 and Temporal).

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};

/// Why a value could not be parsed. Its `Display` is the reason shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseProblem {
    /// Not of the timestamp grammar.
    #[error(
        "not a timestamp: expected RFC 3339 (2024-03-01T09:30:00Z, 2024-03-01T09:30:00+02:00), `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`"
    )]
    Timestamp,
    /// Of the grammar, but a field is out of its range.
    #[error("not a valid timestamp: {0}")]
    TimestampField(&'static str),
    /// A date that does not exist (2023-02-30).
    #[error("not a valid date: {0}")]
    Calendar(String),
    /// Outside what can be stored.
    #[error("timestamp out of the supported range")]
    TimestampRange,
    /// Not of the number grammar.
    #[error(
        "not a number: expected plain decimal such as 12.50 (no exponent, thousands separator or currency sign)"
    )]
    Number,
    /// A number with a fractional part where a whole number is needed.
    #[error("not a whole number")]
    NotWhole,
    /// A whole number too large to store.
    #[error("number too large")]
    IntegerRange,
    /// Not one of the boolean spellings.
    #[error("not a boolean: expected true/false, 1/0, yes/no, y/n or t/f")]
    Boolean,
}

fn digits(bytes: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// The parts of a timestamp as written, before any time-zone arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenTimestamp {
    /// The civil date and time as written.
    pub datetime: DateTime,
    /// The offset, when one was written (`Z` is zero); `None` for naive local times.
    pub offset: Option<Offset>,
    /// Whether only a date was written.
    pub date_only: bool,
}

fn date_part(b: &[u8]) -> Result<Date, ParseProblem> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(ParseProblem::Timestamp);
    }
    let (Some(y), Some(m), Some(d)) = (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    else {
        return Err(ParseProblem::Timestamp);
    };
    // Four digits, two and two: the casts cannot truncate.
    Date::new(y as i16, m as i8, d as i8).map_err(|e| ParseProblem::Calendar(e.to_string()))
}

/// Checks the timestamp grammar of the contract and returns what was written.
pub fn parse_written_timestamp(text: &str) -> Result<WrittenTimestamp, ParseProblem> {
    let b = text.as_bytes();
    let date = date_part(b)?;
    if b.len() == 10 {
        return Ok(WrittenTimestamp {
            datetime: date.to_datetime(jiff::civil::Time::midnight()),
            offset: None,
            date_only: true,
        });
    }
    if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return Err(ParseProblem::Timestamp);
    }
    let (Some(hour), Some(minute), Some(second)) =
        (digits(&b[11..13]), digits(&b[14..16]), digits(&b[17..19]))
    else {
        return Err(ParseProblem::Timestamp);
    };
    if hour > 23 {
        return Err(ParseProblem::TimestampField("hour must be 00 to 23"));
    }
    if minute > 59 {
        return Err(ParseProblem::TimestampField("minute must be 00 to 59"));
    }
    if second > 59 {
        return Err(ParseProblem::TimestampField("second must be 00 to 59"));
    }
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if let Some((b'.', tail)) = rest.split_first() {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return Err(ParseProblem::TimestampField(
                "a fraction of a second has 1 to 9 digits",
            ));
        }
        nanos = digits(&tail[..n]).expect("checked digits") * 10u32.pow(9 - n as u32);
        rest = &tail[n..];
    }
    let offset = match rest {
        [] => None,
        [b'Z' | b'z'] => Some(Offset::UTC),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (Some(oh), Some(om)) = (digits(&[*h1, *h2]), digits(&[*m1, *m2])) else {
                return Err(ParseProblem::Timestamp);
            };
            if oh > 23 || om > 59 {
                return Err(ParseProblem::TimestampField("offset out of range"));
            }
            let seconds = (oh * 3600 + om * 60) as i32;
            let seconds = if *sign == b'-' { -seconds } else { seconds };
            Some(Offset::from_seconds(seconds).map_err(|_| ParseProblem::TimestampRange)?)
        }
        _ => return Err(ParseProblem::Timestamp),
    };
    let time = jiff::civil::Time::new(hour as i8, minute as i8, second as i8, nanos as i32)
        .map_err(|e| ParseProblem::Calendar(e.to_string()))?;
    Ok(WrittenTimestamp {
        datetime: date.to_datetime(time),
        offset,
        date_only: false,
    })
}

/// Parses a timestamp of the contract into an instant. Naive times and bare dates are
/// read in `tz`.
pub fn parse_timestamp(text: &str, tz: &TimeZone) -> Result<Timestamp, ParseProblem> {
    let written = parse_written_timestamp(text)?;
    let result = match written.offset {
        Some(offset) => offset.to_timestamp(written.datetime),
        None => tz.to_ambiguous_timestamp(written.datetime).compatible(),
    };
    result.map_err(|_| ParseProblem::TimestampRange)
}

/// Parses a date column's value: a bare date, or a timestamp whose calendar date in
/// `tz` is taken.
pub fn parse_date(text: &str, tz: &TimeZone) -> Result<Date, ParseProblem> {
    let written = parse_written_timestamp(text)?;
    match (written.date_only, written.offset) {
        (true, _) | (false, None) => Ok(written.datetime.date()),
        (false, Some(offset)) => {
            let instant = offset
                .to_timestamp(written.datetime)
                .map_err(|_| ParseProblem::TimestampRange)?;
            Ok(instant.to_zoned(tz.clone()).date())
        }
    }
}

/// Days since 1970-01-01 of a date (the Arrow `Date32` representation).
pub fn date_to_days(date: Date) -> i32 {
    // Subtracting dates gives a span in days (the largest unit of a date difference).
    (date - Date::constant(1970, 1, 1)).get_days()
}

/// Checks the number grammar `[+-]digits[.digits]` (also `.5` and `5.`) and returns
/// (negative, integer digits, fraction digits).
fn number_parts(text: &str) -> Result<(bool, &str, &str), ParseProblem> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return Err(ParseProblem::Number);
    }
    Ok((negative, int, frac))
}

/// Parses a decimal number of the contract.
pub fn parse_decimal(text: &str) -> Result<f64, ParseProblem> {
    number_parts(text)?;
    // The grammar is a subset of what `f64::from_str` reads, except for a trailing
    // point ("5."), which it also reads.
    text.parse::<f64>().map_err(|_| ParseProblem::Number)
}

/// Parses an integer of the contract: a number whose fraction, if any, is all zeros.
pub fn parse_integer(text: &str) -> Result<i64, ParseProblem> {
    let (negative, int, frac) = number_parts(text)?;
    if frac.bytes().any(|c| c != b'0') {
        return Err(ParseProblem::NotWhole);
    }
    let magnitude: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| ParseProblem::IntegerRange)?
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// Parses a boolean spelling of the contract, case-insensitively.
pub fn parse_bool(text: &str) -> Result<bool, ParseProblem> {
    const TRUE: [&str; 5] = ["true", "1", "yes", "y", "t"];
    const FALSE: [&str; 5] = ["false", "0", "no", "n", "f"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Ok(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(text)) {
        Ok(false)
    } else {
        Err(ParseProblem::Boolean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Result<String, ParseProblem> {
        parse_timestamp(text, &TimeZone::UTC).map(|t| t.to_string())
    }

    #[test]
    fn timestamps_of_the_grammar() {
        assert_eq!(utc("2024-03-01T09:30:00Z").unwrap(), "2024-03-01T09:30:00Z");
        assert_eq!(utc("2024-03-01t09:30:00z").unwrap(), "2024-03-01T09:30:00Z");
        assert_eq!(
            utc("2024-03-01T09:30:00+02:00").unwrap(),
            "2024-03-01T07:30:00Z"
        );
        assert_eq!(
            utc("2024-03-01 09:30:00.5-01:30").unwrap(),
            "2024-03-01T11:00:00.5Z"
        );
        assert_eq!(
            utc("2024-03-01T09:30:00.123456789").unwrap(),
            "2024-03-01T09:30:00.123456789Z"
        );
        assert_eq!(utc("2024-03-01").unwrap(), "2024-03-01T00:00:00Z");
    }

    #[test]
    fn timestamps_rejected() {
        for bad in [
            "20240301",
            "2024-03-01T24:00:00",
            "2024-03-01T23:59:60",
            "2024-03-01T09:30:00+0200",
            "01-03-2024",
            "2024-03-01T09:30:00[Europe/Paris]",
            "2024-03-01T09:30",
            "2024-02-30",
            "2024-03-01T09:30:00.",
            "2024-03-01T09:30:00.1234567890",
            " 2024-03-01",
            "2024-03-01 ",
        ] {
            assert!(utc(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn naive_times_in_a_zone_with_daylight_saving() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        // Winter: UTC+1.
        let t = parse_timestamp("2024-01-15 10:00:00", &tz).unwrap();
        assert_eq!(t.to_string(), "2024-01-15T09:00:00Z");
        // 02:30 on 2024-03-31 does not exist (clocks go 02:00 -> 03:00): moved forward
        // by the gap to 03:30 CEST = 01:30 UTC.
        let t = parse_timestamp("2024-03-31T02:30:00", &tz).unwrap();
        assert_eq!(t.to_string(), "2024-03-31T01:30:00Z");
        // 02:30 on 2024-10-27 happens twice: the first, CEST (UTC+2), is taken.
        let t = parse_timestamp("2024-10-27 02:30:00", &tz).unwrap();
        assert_eq!(t.to_string(), "2024-10-27T00:30:00Z");
        // A bare date is local midnight.
        let t = parse_timestamp("2024-07-01", &tz).unwrap();
        assert_eq!(t.to_string(), "2024-06-30T22:00:00Z");
    }

    #[test]
    fn dates() {
        let tz = TimeZone::get("Asia/Tokyo").unwrap();
        assert_eq!(
            parse_date("2024-03-01", &tz).unwrap(),
            Date::constant(2024, 3, 1)
        );
        // 20:00 UTC is 05:00 the next day in Tokyo.
        assert_eq!(
            parse_date("2024-03-01T20:00:00Z", &tz).unwrap(),
            Date::constant(2024, 3, 2)
        );
        assert_eq!(date_to_days(Date::constant(1970, 1, 2)), 1);
        assert_eq!(date_to_days(Date::constant(1969, 12, 31)), -1);
        assert_eq!(date_to_days(Date::constant(2024, 3, 1)), 19783);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_decimal("12.50"), Ok(12.5));
        assert_eq!(parse_decimal(".5"), Ok(0.5));
        assert_eq!(parse_decimal("5."), Ok(5.0));
        assert_eq!(parse_decimal("-3"), Ok(-3.0));
        assert_eq!(parse_decimal("+3"), Ok(3.0));
        for bad in [
            "1e5", "1,000", "$5", "", ".", "-", "inf", "NaN", " 5", "1.2.3",
        ] {
            assert_eq!(parse_decimal(bad), Err(ParseProblem::Number), "{bad}");
        }
        assert_eq!(parse_integer("3.0"), Ok(3));
        assert_eq!(parse_integer("-0"), Ok(0));
        assert_eq!(parse_integer("3.5"), Err(ParseProblem::NotWhole));
        assert_eq!(
            parse_integer("99999999999999999999"),
            Err(ParseProblem::IntegerRange)
        );
    }

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "1", "Yes", "y", "T"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["false", "0", "NO", "n", "f", "False"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        assert_eq!(parse_bool("maybe"), Err(ParseProblem::Boolean));
        assert_eq!(parse_bool("2"), Err(ParseProblem::Boolean));
    }
}
