//! Reporting periods (`shared/spec/kpis.md`, "Periods"): half-open `[start, end)`
//! intervals of instants, cut at local midnight in the workspace time zone, by grain
//! (day, ISO week, month, quarter, year) or as an explicit range.
//!
//! Periods are built from civil dates and converted to instants with jiff, so a day
//! across a daylight-saving change is 23 or 25 hours long, as the calendar says.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// Microseconds in a (24-hour) day.
pub const DAY_MICROS: f64 = 86_400_000_000.0;

/// Days in the average Gregorian month, the month of durations in months (lifetimes,
/// payback, CLV horizons).
pub const MONTH_DAYS: f64 = 30.4375;

/// A period length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grain {
    /// A calendar day.
    Day,
    /// An ISO week, Monday first.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
}

impl Grain {
    /// Every grain, shortest first.
    pub const ALL: [Grain; 5] = [
        Grain::Day,
        Grain::Week,
        Grain::Month,
        Grain::Quarter,
        Grain::Year,
    ];

    /// The grain's name.
    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
        }
    }

    /// The first day of the grain period containing `date`.
    pub fn floor(self, date: Date) -> Date {
        match self {
            Grain::Day => date,
            Grain::Week => {
                let back = i64::from(date.weekday().to_monday_zero_offset());
                date.checked_sub(Span::new().days(back)).expect("in range")
            }
            Grain::Month => date.first_of_month(),
            Grain::Quarter => {
                let month = (date.month() - 1) / 3 * 3 + 1;
                Date::new(date.year(), month, 1).expect("valid")
            }
            Grain::Year => date.first_of_year(),
        }
    }

    /// The calendar span of one period.
    fn span(self) -> Span {
        match self {
            Grain::Day => Span::new().days(1),
            Grain::Week => Span::new().weeks(1),
            Grain::Month => Span::new().months(1),
            Grain::Quarter => Span::new().months(3),
            Grain::Year => Span::new().years(1),
        }
    }
}

impl FromStr for Grain {
    type Err = String;

    fn from_str(s: &str) -> Result<Grain, String> {
        Grain::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| {
                format!("unknown grain `{s}`; the grains are day, week, month, quarter, year")
            })
    }
}

/// A reporting period.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// The first local day.
    pub first_day: Date,
    /// The local day after the last (exclusive).
    pub end_day: Date,
    /// The first instant.
    pub start: Timestamp,
    /// The first instant after the period.
    pub end: Timestamp,
    /// The grain, or `None` for an explicit range.
    pub grain: Option<Grain>,
}

/// Local midnight of `date` in `tz` (the first instant of the day; if midnight does
/// not exist there, the first instant after the gap).
fn midnight(date: Date, tz: &TimeZone) -> Timestamp {
    date.to_zoned(tz.clone())
        .expect("dates of four-digit years are in range")
        .timestamp()
}

impl Period {
    /// The period of `grain` starting on `first_day` (which must be a grain start).
    fn of_grain(grain: Grain, first_day: Date, tz: &TimeZone) -> Period {
        let end_day = first_day.checked_add(grain.span()).expect("in range");
        Period {
            first_day,
            end_day,
            start: midnight(first_day, tz),
            end: midnight(end_day, tz),
            grain: Some(grain),
        }
    }

    /// The period of `grain` containing the local date `date`.
    pub fn containing(grain: Grain, date: Date, tz: &TimeZone) -> Period {
        Period::of_grain(grain, grain.floor(date), tz)
    }

    /// The period of `grain` containing the instant `t`.
    pub fn containing_instant(grain: Grain, t: Timestamp, tz: &TimeZone) -> Period {
        Period::containing(grain, t.to_zoned(tz.clone()).date(), tz)
    }

    /// The explicit range `[from, to)` of local days.
    pub fn range(from: Date, to: Date, tz: &TimeZone) -> Result<Period, String> {
        if to <= from {
            return Err(format!(
                "the range {from}..{to} is empty: `to` is exclusive and must be after `from`"
            ));
        }
        Ok(Period {
            first_day: from,
            end_day: to,
            start: midnight(from, tz),
            end: midnight(to, tz),
            grain: None,
        })
    }

    /// The period before: the previous calendar period of the same grain, or for an
    /// explicit range the range of as many days just before it.
    pub fn previous(&self, tz: &TimeZone) -> Period {
        match self.grain {
            Some(grain) => {
                let first_day = self.first_day.checked_sub(grain.span()).expect("in range");
                Period::of_grain(grain, first_day, tz)
            }
            None => {
                let days = (self.end_day - self.first_day).get_days();
                let from = self
                    .first_day
                    .checked_sub(Span::new().days(i64::from(days)))
                    .expect("in range");
                Period::range(from, self.first_day, tz).expect("non-empty")
            }
        }
    }

    /// The next period of the same grain (`None` for an explicit range).
    pub fn next(&self, tz: &TimeZone) -> Option<Period> {
        self.grain
            .map(|grain| Period::of_grain(grain, self.end_day, tz))
    }

    /// Number of calendar days in the period.
    pub fn days(&self) -> i32 {
        (self.end_day - self.first_day).get_days()
    }

    /// A short label: `2024-06-03`, `2024-W23`, `2024-06`, `2024-Q2`, `2024`, or
    /// `2024-06-03..2024-07-01` for a range.
    pub fn label(&self) -> String {
        let d = self.first_day;
        match self.grain {
            Some(Grain::Day) => d.to_string(),
            Some(Grain::Week) => {
                let week = d.iso_week_date();
                format!("{:04}-W{:02}", week.year(), week.week())
            }
            Some(Grain::Month) => format!("{:04}-{:02}", d.year(), d.month()),
            Some(Grain::Quarter) => format!("{:04}-Q{}", d.year(), (d.month() - 1) / 3 + 1),
            Some(Grain::Year) => format!("{:04}", d.year()),
            None => format!("{}..{}", self.first_day, self.end_day),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The periods of `grain` covering `[from, to)`: the first is the one containing
/// `from`, and periods follow while they start before `to`.
pub fn periods(grain: Grain, from: Date, to: Date, tz: &TimeZone) -> Vec<Period> {
    let mut out = Vec::new();
    let mut period = Period::containing(grain, from, tz);
    while period.first_day < to {
        let next = period.next(tz).expect("grain periods have a next");
        out.push(period);
        period = next;
    }
    out
}

/// Parses a period label: `2024-06-03` (day), `2024-W23` (ISO week), `2024-06`
/// (month), `2024-Q2` (quarter), `2024` (year).
pub fn parse_period(text: &str, tz: &TimeZone) -> Result<Period, String> {
    let bad = || {
        format!("`{text}` is not a period; write 2024-06-03, 2024-W23, 2024-06, 2024-Q2 or 2024")
    };
    let number = |s: &str| s.parse::<i16>().map_err(|_| bad());
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [year] if year.len() == 4 => {
            let date = Date::new(number(year)?, 1, 1).map_err(|_| bad())?;
            Ok(Period::containing(Grain::Year, date, tz))
        }
        [year, q] if q.len() == 2 && (q.starts_with('Q') || q.starts_with('q')) => {
            let quarter = number(&q[1..])?;
            if !(1..=4).contains(&quarter) {
                return Err(bad());
            }
            let date =
                Date::new(number(year)?, (quarter as i8 - 1) * 3 + 1, 1).map_err(|_| bad())?;
            Ok(Period::containing(Grain::Quarter, date, tz))
        }
        [year, w] if w.len() == 3 && (w.starts_with('W') || w.starts_with('w')) => {
            let week = number(&w[1..])?;
            let date = jiff::civil::ISOWeekDate::new(number(year)?, week as i8, Weekday::Monday)
                .map_err(|_| bad())?
                .date();
            Ok(Period::containing(Grain::Week, date, tz))
        }
        [year, month] if month.len() == 2 => {
            let date = Date::new(number(year)?, number(month)? as i8, 1).map_err(|_| bad())?;
            Ok(Period::containing(Grain::Month, date, tz))
        }
        [_, _, _] => {
            let date = Date::strptime("%Y-%m-%d", text).map_err(|_| bad())?;
            Ok(Period::containing(Grain::Day, date, tz))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    #[test]
    fn months_in_a_zone_with_daylight_saving() {
        // March 2024 in Berlin: from 1 March 00:00 CET (UTC+1) to 1 April 00:00 CEST
        // (UTC+2); clocks went forward on 31 March, so it is 31 days less one hour.
        let march = Period::containing(Grain::Month, Date::constant(2024, 3, 17), &berlin());
        assert_eq!(march.start.to_string(), "2024-02-29T23:00:00Z");
        assert_eq!(march.end.to_string(), "2024-03-31T22:00:00Z");
        assert_eq!(
            march.end.as_second() - march.start.as_second(),
            (31 * 24 - 1) * 3600
        );
        assert_eq!(march.label(), "2024-03");
        assert_eq!(march.days(), 31);
        // A response at 23:30 UTC on 30 June is already 1 July in UTC+2.
        let t: Timestamp = "2024-06-30T23:30:00Z".parse().unwrap();
        let july = Period::containing_instant(Grain::Month, t, &berlin());
        assert_eq!(july.label(), "2024-07");
        assert!(july.start <= t && t < july.end);
    }

    #[test]
    fn grains_and_labels() {
        let utc = TimeZone::UTC;
        let d = Date::constant(2024, 5, 15); // a Wednesday
        let week = Period::containing(Grain::Week, d, &utc);
        assert_eq!(
            (week.first_day, week.end_day),
            (Date::constant(2024, 5, 13), Date::constant(2024, 5, 20))
        );
        assert_eq!(week.label(), "2024-W20");
        let quarter = Period::containing(Grain::Quarter, d, &utc);
        assert_eq!(
            (quarter.first_day, quarter.end_day),
            (Date::constant(2024, 4, 1), Date::constant(2024, 7, 1))
        );
        assert_eq!(quarter.label(), "2024-Q2");
        assert_eq!(Period::containing(Grain::Year, d, &utc).label(), "2024");
        assert_eq!(
            Period::containing(Grain::Day, d, &utc).label(),
            "2024-05-15"
        );
        // ISO week 1 of 2021 starts on Monday 4 January 2021; 3 January is in 2020-W53.
        let w = Period::containing(Grain::Week, Date::constant(2021, 1, 3), &utc);
        assert_eq!(w.label(), "2020-W53");
    }

    #[test]
    fn previous_periods() {
        let utc = TimeZone::UTC;
        let march = Period::containing(Grain::Month, Date::constant(2024, 3, 1), &utc);
        assert_eq!(march.previous(&utc).label(), "2024-02");
        let q1 = Period::containing(Grain::Quarter, Date::constant(2024, 2, 1), &utc);
        assert_eq!(q1.previous(&utc).label(), "2023-Q4");
        let range = Period::range(
            Date::constant(2024, 3, 10),
            Date::constant(2024, 3, 17),
            &utc,
        )
        .unwrap();
        let before = range.previous(&utc);
        assert_eq!(
            (before.first_day, before.end_day),
            (Date::constant(2024, 3, 3), Date::constant(2024, 3, 10))
        );
        assert!(
            Period::range(
                Date::constant(2024, 3, 10),
                Date::constant(2024, 3, 10),
                &utc
            )
            .is_err()
        );
    }

    #[test]
    fn a_range_by_grain_starts_with_the_period_containing_from() {
        let utc = TimeZone::UTC;
        let months = periods(
            Grain::Month,
            Date::constant(2024, 1, 15),
            Date::constant(2024, 3, 10),
            &utc,
        );
        let labels: Vec<String> = months.iter().map(Period::label).collect();
        assert_eq!(labels, ["2024-01", "2024-02", "2024-03"]);
        let none = periods(
            Grain::Month,
            Date::constant(2024, 1, 15),
            Date::constant(2024, 1, 1),
            &utc,
        );
        assert!(none.is_empty());
    }

    #[test]
    fn parse_labels() {
        let utc = TimeZone::UTC;
        for label in ["2024-06-03", "2024-W23", "2024-06", "2024-Q2", "2024"] {
            assert_eq!(parse_period(label, &utc).unwrap().label(), label);
        }
        for bad in [
            "2024-13",
            "2024-Q5",
            "2024-W54",
            "24",
            "2024/06",
            "2024-02-30",
        ] {
            assert!(parse_period(bad, &utc).is_err(), "{bad}");
        }
    }
}
