//! Business time: how much of an interval falls inside the opening hours of a
//! business-hours calendar.
//!
//! Opening hours are local times of the calendar's zone, so a day's opening is turned
//! into instants with that zone's rules on that date: across a daylight-saving change
//! the same "09:00-17:00" is still eight hours, and an opening that spans the change is
//! an hour shorter or longer. A local time in a gap moves forward, one in a fold takes
//! the earlier instant (jiff's "compatible" rule, as for imported timestamps).
//!
//! [`BusinessClock`] precomputes the openings of a range of days with their running
//! total, and counts the openings at or before an instant with a step table
//! ([`Count`]), so the business time between two instants is two table lookups;
//! instants outside the range are computed day by day.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use crate::config::BusinessHours;
use crate::steps::Count;

/// Microseconds in an hour.
const HOUR: f64 = 3_600_000_000.0;

/// Business time between instants for one calendar.
#[derive(Debug, Clone)]
pub struct BusinessClock {
    calendar: BusinessHours,
    /// Openings `[open, close)` of the covered days in microseconds, sorted, disjoint.
    openings: Vec<(i64, i64)>,
    /// `total[i]`: the length of openings `0..i` (one longer than `openings`).
    total: Vec<i64>,
    /// The covered instants `[start, end)`: from the first covered day's midnight to
    /// the midnight after the last one.
    covered: (i64, i64),
    /// The number of openings that open at or before an instant.
    opened: Count,
}

impl BusinessClock {
    /// A clock whose fast path covers the days `first..=last` (local to the calendar).
    pub fn new(calendar: &BusinessHours, first: Date, last: Date) -> BusinessClock {
        let openings: Vec<(i64, i64)> = days(first, last)
            .filter_map(|day| opening(calendar, day))
            .collect();
        let mut total = Vec::with_capacity(openings.len() + 1);
        total.push(0);
        for (open, close) in &openings {
            total.push(total.last().copied().unwrap_or(0) + (close - open));
        }
        let midnight = |d: Date| local_midnight(calendar, d);
        let covered = (midnight(first), last.tomorrow().map_or(i64::MAX, midnight));
        let opens: Vec<i64> = openings.iter().map(|(open, _)| *open).collect();
        let opened = Count::new(&opens);
        BusinessClock {
            calendar: calendar.clone(),
            openings,
            total,
            covered,
            opened,
        }
    }

    /// Business microseconds in `[start, end)` (0 when `end <= start`).
    pub fn micros(&self, start: i64, end: i64) -> i64 {
        if end <= start {
            return 0;
        }
        let (from, to) = self.covered;
        if start >= from && end <= to {
            return self.worked_before(end) - self.worked_before(start);
        }
        business_micros(&self.calendar, start, end)
    }

    /// Business hours in `[start, end)`.
    pub fn hours(&self, start: i64, end: i64) -> f64 {
        self.micros(start, end) as f64 / HOUR
    }

    /// Business time of the covered range before instant `t` (inside it).
    fn worked_before(&self, t: i64) -> i64 {
        let k = self.opened.at(t) as usize;
        if k == 0 {
            return 0;
        }
        let (open, close) = self.openings[k - 1];
        self.total[k - 1] + (t - open).min(close - open)
    }
}

/// Business microseconds in `[start, end)`, day by day (no precomputation).
pub fn business_micros(calendar: &BusinessHours, start: i64, end: i64) -> i64 {
    if end <= start {
        return 0;
    }
    let local_date = |t: i64| {
        Timestamp::from_microsecond(t)
            .map(|ts| ts.to_zoned(calendar.time_zone.clone()).date())
            .unwrap_or(Date::MIN)
    };
    // A day's opening can begin on the day before in UTC terms, so start a day early.
    let first = local_date(start).yesterday().unwrap_or(Date::MIN);
    days(first, local_date(end))
        .filter_map(|day| opening(calendar, day))
        .map(|(open, close)| (close.min(end) - open.max(start)).max(0))
        .sum()
}

/// The local days `first..=last`.
fn days(first: Date, last: Date) -> impl Iterator<Item = Date> {
    first.series(1.day()).take_while(move |day| *day <= last)
}

/// The opening `[open, close)` of one local day in microseconds, if the business is
/// open that day.
fn opening(calendar: &BusinessHours, day: Date) -> Option<(i64, i64)> {
    if calendar.holidays.binary_search(&day).is_err() {
        let hours = calendar.hours(day.weekday())?;
        let zone = &calendar.time_zone;
        let instant = |t| day.to_datetime(t).to_zoned(zone.clone()).ok();
        let open = instant(hours.open)?.timestamp().as_microsecond();
        let close = match hours.close {
            Some(close) => instant(close)?.timestamp().as_microsecond(),
            None => local_midnight(calendar, day.checked_add(1.day()).ok()?),
        };
        return (close > open).then_some((open, close));
    }
    None
}

/// The first instant of a local day, in microseconds.
fn local_midnight(calendar: &BusinessHours, day: Date) -> i64 {
    day.to_zoned(calendar.time_zone.clone())
        .map_or(i64::MAX, |z| z.timestamp().as_microsecond())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn calendar(extra: &str) -> BusinessHours {
        let toml = format!(
            "[workspace]\ntime_zone = \"Europe/Berlin\"\n[business_hours]\nenabled = true\n{extra}"
        );
        Config::from_toml(&toml).unwrap().business_hours.unwrap()
    }

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_microsecond()
    }

    fn hours(clock: &BusinessClock, from: &str, to: &str) -> f64 {
        let fast = clock.hours(at(from), at(to));
        let slow = business_micros(&clock.calendar, at(from), at(to)) as f64 / HOUR;
        assert_eq!(fast, slow, "{from} .. {to}");
        fast
    }

    #[test]
    fn the_clock_agrees_with_day_by_day_at_every_time_of_day() {
        // Instants every 37 minutes over three weeks around the spring change, paired
        // with instants 5 hours and 50 hours later: every time of day, both sides of
        // the change, weekends, and the covered range's first and last days.
        let calendar = calendar("holidays = [\"2024-04-01\"]\n");
        let clock = BusinessClock::new(
            &calendar,
            Date::constant(2024, 3, 20),
            Date::constant(2024, 4, 5),
        );
        let first = at("2024-03-20T00:00:00+01:00");
        for step in 0..(21 * 24 * 60 / 37) {
            let start = first + step * 37 * 60_000_000;
            for length in [5 * 3_600_000_000, 50 * 3_600_000_000] {
                let end = start + length;
                assert_eq!(
                    clock.micros(start, end),
                    business_micros(&calendar, start, end),
                    "{start} .. {end}"
                );
            }
        }
    }

    #[test]
    fn weekends_nights_and_holidays_do_not_count() {
        // Mon-Fri 09:00-17:00 Berlin (UTC+1 in January), 2025-01-06 a holiday.
        let cal = calendar("holidays = [\"2025-01-06\"]\n");
        let clock = BusinessClock::new(
            &cal,
            Date::constant(2024, 12, 1),
            Date::constant(2025, 2, 1),
        );
        // Fri 2025-01-03 16:00 local (15:00Z) to Tue 2025-01-07 10:00 local (09:00Z):
        // Friday 16-17 = 1 h, weekend 0, Monday holiday 0, Tuesday 09-10 = 1 h.
        assert_eq!(
            hours(&clock, "2025-01-03T15:00:00Z", "2025-01-07T09:00:00Z"),
            2.0
        );
        // Entirely at night: 0.
        assert_eq!(
            hours(&clock, "2025-01-08T18:00:00Z", "2025-01-09T07:30:00Z"),
            0.0
        );
        // Inside one opening: the calendar difference, 2 h 30 min.
        assert_eq!(
            hours(&clock, "2025-01-08T08:00:00Z", "2025-01-08T10:30:00Z"),
            2.5
        );
        // Outside the precomputed range, the slow path alone: Wed 2026-01-07 08:30
        // local to Thu 09:30 local: Wednesday 09-17 = 8 h, Thursday 0.5 h.
        assert_eq!(
            clock.hours(at("2026-01-07T07:30:00Z"), at("2026-01-08T08:30:00Z")),
            8.5
        );
        assert_eq!(
            clock.hours(at("2025-01-08T10:00:00Z"), at("2025-01-08T09:00:00Z")),
            0.0
        );
    }

    #[test]
    fn daylight_saving_changes() {
        // Berlin springs forward on Sun 2026-03-29 (02:00 -> 03:00) and falls back on
        // Sun 2026-10-25 (03:00 -> 02:00). Open Sundays 01:00-05:00 local.
        let cal = calendar("sunday = \"01:00-05:00\"\n");
        let clock = BusinessClock::new(
            &cal,
            Date::constant(2026, 1, 1),
            Date::constant(2026, 12, 31),
        );
        // Spring: 01:00 CET = 00:00Z, 05:00 CEST = 03:00Z: the opening is 3 real hours.
        assert_eq!(
            hours(&clock, "2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z"),
            3.0
        );
        // Autumn: 01:00 CEST = 23:00Z (Sat), 05:00 CET = 04:00Z: 5 real hours.
        assert_eq!(
            hours(&clock, "2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z"),
            5.0
        );
        // Fri 2026-03-27 16:00 CET (15:00Z) to Mon 2026-03-30 10:00 CEST (08:00Z):
        // Friday 1 h, Sunday 3 h, Monday 1 h = 5 h; the calendar time is 65 h.
        assert_eq!(
            hours(&clock, "2026-03-27T15:00:00Z", "2026-03-30T08:00:00Z"),
            5.0
        );
    }

    #[test]
    fn open_until_midnight() {
        // Saturdays 20:00-24:00 Berlin; 2025-01-04 is a Saturday (UTC+1).
        let cal = calendar("saturday = \"20:00-24:00\"\n");
        let clock = BusinessClock::new(
            &cal,
            Date::constant(2025, 1, 1),
            Date::constant(2025, 1, 31),
        );
        // 22:30 local (21:30Z) Saturday to 09:30 local Monday: 1.5 h + 0.5 h.
        assert_eq!(
            hours(&clock, "2025-01-04T21:30:00Z", "2025-01-06T08:30:00Z"),
            2.0
        );
    }
}
