//! Customer survival: Kaplan-Meier by segment with Greenwood intervals, the median
//! with its interval, the restricted mean up to a horizon common to the segments, and
//! the log-rank test between segments.

use cxkpi_core::config::Config;
use cxkpi_core::period::{DAY_MICROS, MONTH_DAYS};
use cxkpi_core::survival::{
    Step, kaplan_meier, lifetimes_at, log_rank, median, median_interval, restricted_mean,
};
use cxkpi_store::Snapshot;

use crate::error::{AppError, Result};
use crate::kpis::{Slice, as_of, customer_request};

/// The unit durations are given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    /// Days.
    Days,
    /// Weeks.
    Weeks,
    /// Average months (30.4375 days).
    Months,
}

impl DurationUnit {
    /// `days`, `weeks` or `months`.
    pub fn parse(text: &str) -> Result<DurationUnit> {
        match text {
            "days" => Ok(DurationUnit::Days),
            "weeks" => Ok(DurationUnit::Weeks),
            "months" => Ok(DurationUnit::Months),
            _ => Err(AppError::usage(format!(
                "unknown unit `{text}`; the units are days, weeks, months"
            ))),
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            DurationUnit::Days => "days",
            DurationUnit::Weeks => "weeks",
            DurationUnit::Months => "months",
        }
    }

    fn micros(self) -> f64 {
        DAY_MICROS
            * match self {
                DurationUnit::Days => 1.0,
                DurationUnit::Weeks => 7.0,
                DurationUnit::Months => MONTH_DAYS,
            }
    }
}

/// Survival of every segment as of an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Survival {
    /// The instant active customers are censored at.
    pub as_of: jiff::Timestamp,
    /// The unit of every duration.
    pub unit: DurationUnit,
    /// Per segment (one, unnamed, without `--by`).
    pub segments: Vec<SegmentSurvival>,
    /// The restricted mean's horizon: the shortest of the segments' longest durations.
    pub rmst_tau: f64,
    /// The log-rank test between segments, with `--by` and two or more segments.
    pub log_rank: Option<LogRank>,
}

/// One segment's survival.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentSurvival {
    /// The segment's value (`None` without `--by`).
    pub segment: Option<String>,
    /// Customers.
    pub n: usize,
    /// Churns.
    pub events: u64,
    /// The median lifetime, when survival fell to one half.
    pub median: Option<f64>,
    /// Its 95% interval.
    pub median_ci: (Option<f64>, Option<f64>),
    /// The restricted mean up to `rmst_tau`.
    pub rmst: f64,
    /// The curve.
    pub steps: Vec<Step>,
}

/// The log-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRank {
    /// The chi-square statistic.
    pub chi2: f64,
    /// Its degrees of freedom.
    pub df: usize,
    /// The p-value.
    pub p_value: f64,
}

/// Kaplan-Meier survival of the customers won before `as_of` (default: the end of the
/// data's last complete month), churned before it an event, the others censored at it.
pub async fn survival(
    snapshot: &Snapshot,
    config: &Config,
    as_of_text: Option<&str>,
    slice: &Slice,
    unit: DurationUnit,
) -> Result<Survival> {
    let at = as_of(as_of_text, snapshot, config).await?;
    let kpi = cxkpi_core::kpi::lookup("median_lifetime").expect("in the catalogue");
    let request = customer_request(kpi, slice, snapshot, config)?;
    let lives = cxkpi_engine::customer_lives(snapshot, &request).await?;
    let end = at.as_microsecond();
    let groups: Vec<(&String, Vec<(f64, bool)>)> = lives
        .iter()
        .map(|(segment, lives)| (segment, lifetimes_at(lives, end, unit.micros())))
        .filter(|(_, o)| !o.is_empty())
        .collect();
    // One horizon for every segment's restricted mean, so they compare.
    let tau = groups
        .iter()
        .map(|(_, o)| o.iter().map(|o| o.0).fold(0.0, f64::max))
        .fold(f64::INFINITY, f64::min);
    let segments = groups
        .iter()
        .map(|(segment, observations)| {
            let steps = kaplan_meier(&mut observations.clone());
            SegmentSurvival {
                segment: slice.by.first().map(|_| (*segment).clone()),
                n: observations.len(),
                events: steps.iter().map(|s| s.events).sum(),
                median: median(&steps),
                median_ci: median_interval(&steps),
                rmst: restricted_mean(&steps, tau),
                steps,
            }
        })
        .collect();
    let groups: Vec<Vec<(f64, bool)>> = groups.into_iter().map(|(_, o)| o).collect();
    let log_rank = slice
        .by
        .first()
        .and_then(|_| log_rank(&groups))
        .map(|(chi2, df, p_value)| LogRank { chi2, df, p_value });
    Ok(Survival {
        as_of: at,
        unit,
        segments,
        rmst_tau: tau,
        log_rank,
    })
}
