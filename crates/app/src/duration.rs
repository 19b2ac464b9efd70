//! One grammar for every horizon and look-back the product takes (`churn train
//! --horizon`, `health --backtest`, `clv predict --horizon`): a whole number and a unit,
//! `d` (days), `w` (weeks), `mo` or `m` (months), `y` (years).
//!
//! `m` is months, as in `12m`: a KPI user never means minutes, and `--horizon 12m`
//! meant 12 months to one command and 12 minutes to another. Units shorter than a day
//! (`h`, `min`, `s`) are refused with a suggestion rather than guessed at.

use std::fmt;
use std::str::FromStr;

use crate::error::AppError;

/// A calendar horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    /// How many units.
    pub count: u32,
    /// The unit.
    pub unit: HorizonUnit,
}

/// The unit of a [`Horizon`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HorizonUnit {
    /// Calendar days.
    Days,
    /// Weeks of seven days.
    Weeks,
    /// Calendar months.
    Months,
    /// Calendar years.
    Years,
}

impl Horizon {
    /// The horizon as a calendar span (months and years follow the calendar: a month
    /// back from 31 March is 28 or 29 February).
    pub fn span(self) -> jiff::Span {
        let n = i64::from(self.count);
        match self.unit {
            HorizonUnit::Days => jiff::Span::new().days(n),
            HorizonUnit::Weeks => jiff::Span::new().weeks(n),
            HorizonUnit::Months => jiff::Span::new().months(n),
            HorizonUnit::Years => jiff::Span::new().years(n),
        }
    }

    /// The horizon in days, a month counting as an average month (for models whose
    /// time is continuous, such as BG/NBD).
    pub fn days(self) -> f64 {
        let n = f64::from(self.count);
        match self.unit {
            HorizonUnit::Days => n,
            HorizonUnit::Weeks => 7.0 * n,
            HorizonUnit::Months => cxkpi_core::period::MONTH_DAYS * n,
            HorizonUnit::Years => 12.0 * cxkpi_core::period::MONTH_DAYS * n,
        }
    }
}

impl FromStr for Horizon {
    type Err = AppError;

    fn from_str(text: &str) -> Result<Horizon, AppError> {
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let bad = |why: &str| {
            AppError::usage(format!(
                "`{text}` is not a horizon: {why} (write a whole number and d, w, mo or y, e.g. 90d, 12w, 6mo, 1y)"
            ))
        };
        let count: u32 = number.parse().map_err(|_| bad("no whole number"))?;
        if count == 0 {
            return Err(bad("it is zero"));
        }
        let unit = match unit.trim().to_ascii_lowercase().as_str() {
            "d" | "day" | "days" => HorizonUnit::Days,
            "w" | "week" | "weeks" => HorizonUnit::Weeks,
            "m" | "mo" | "month" | "months" => HorizonUnit::Months,
            "y" | "year" | "years" => HorizonUnit::Years,
            "h" | "min" | "s" | "hour" | "hours" | "minute" | "minutes" => {
                return Err(bad(
                    "units shorter than a day are not horizons (m is months)",
                ));
            }
            "" => return Err(bad("it has no unit")),
            other => return Err(bad(&format!("unknown unit `{other}`"))),
        };
        Ok(Horizon { count, unit })
    }
}

impl fmt::Display for Horizon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            HorizonUnit::Days => "d",
            HorizonUnit::Weeks => "w",
            HorizonUnit::Months => "mo",
            HorizonUnit::Years => "y",
        };
        write!(f, "{}{unit}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn horizon(text: &str) -> Horizon {
        text.parse().unwrap()
    }

    #[test]
    fn m_is_months_everywhere_and_short_units_are_refused() {
        assert_eq!(horizon("12m"), horizon("12mo"));
        assert_eq!(horizon("12m").unit, HorizonUnit::Months);
        assert_eq!(horizon("90d").days(), 90.0);
        assert_eq!(horizon("39w").days(), 273.0);
        assert_eq!(horizon("2y").days(), 24.0 * cxkpi_core::period::MONTH_DAYS);
        assert_eq!(horizon("3mo").to_string(), "3mo");
        for bad in [
            "12h",
            "90min",
            "30s",
            "12",
            "d",
            "0d",
            "-3d",
            "1.5mo",
            "3 parsecs",
        ] {
            let err = bad.parse::<Horizon>().unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::Usage, "{bad}");
            assert!(err.message.contains(bad), "{bad}: {}", err.message);
        }
        // A month back from 31 March is the last day of February (calendar months).
        let end = jiff::civil::date(2024, 3, 31);
        assert_eq!(
            end.checked_sub(horizon("1m").span()).unwrap(),
            jiff::civil::date(2024, 2, 29)
        );
    }
}
