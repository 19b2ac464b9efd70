//! What drives NPS: Shapley shares of R² of touchpoint CSAT, CES, ticket and delivery
//! experience over one period, and with a dimension, the change of NPS against the
//! previous period split exactly into segment mix and within-segment rates.

use cxkpi_core::config::Config;
use cxkpi_core::drivers::{Drivers, NpsChange, SegmentCounts, nps_change, shapley_r2};
use cxkpi_core::period::Period;
use cxkpi_engine::PREDICTORS;
use cxkpi_store::Snapshot;

use crate::error::{AppError, ErrorKind, Result};
use crate::kpis::{PeriodChoice, check_by, last_complete_months};

/// Predictors known for fewer of the respondents than this share are left out.
pub const MIN_COVERAGE: f64 = 0.2;

/// The drivers of NPS in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct NpsDrivers {
    /// The period.
    pub period: Period,
    /// Customers with an NPS answer in it.
    pub respondents: usize,
    /// Per predictor of [`PREDICTORS`], the share of respondents it is known for.
    pub coverage: Vec<(&'static str, f64)>,
    /// The Shapley decomposition over the predictors with enough coverage, when there
    /// are enough complete cases.
    pub drivers: Option<Drivers>,
    /// With a dimension: the change against the previous period, by segment.
    pub change: Option<Change>,
}

impl NpsDrivers {
    /// A warning when the predictors explain almost none of the variance of the
    /// answers (R² under 5%, or no better than none by the F test): the shares of R²
    /// then divide almost nothing, and say nothing of what drives NPS (issue 17: "CSAT
    /// 52.8%" of an R² of 0.001).
    pub fn warning(&self) -> Option<String> {
        let d = self.drivers.as_ref()?;
        d.fit.explains_little(d.r2).then(|| {
            format!(
                "the predictors explain {:.1}% of the variance of NPS answers (R² {:.3}, 95% CI {:.3} to {:.3}, F test p = {:.3}): their shares divide almost nothing and do not say what drives NPS",
                100.0 * d.r2,
                d.r2,
                d.fit.interval.low,
                d.fit.interval.high,
                d.fit.p_value
            )
        })
    }
}

/// The NPS change against the previous period, split into mix and rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The dimension.
    pub by: String,
    /// The previous period.
    pub previous: Period,
    /// The split.
    pub split: NpsChange,
}

/// The drivers of NPS over one period (default: the last 12 complete months as one).
pub async fn nps_drivers(
    snapshot: &Snapshot,
    config: &Config,
    periods: &PeriodChoice,
    by: Option<&str>,
) -> Result<NpsDrivers> {
    let tz = &config.time_zone;
    let end = cxkpi_engine::data_end(snapshot).await?;
    let months = last_complete_months(end, 12, config);
    let default = match (months.first(), months.last()) {
        (Some(first), Some(last)) => {
            vec![Period::range(first.first_day, last.end_day, tz).map_err(AppError::usage)?]
        }
        _ => return Err(AppError::new(ErrorKind::NotFound, "the store has no data")),
    };
    let periods = periods.resolve(config, default)?;
    let [period] = periods.as_slice() else {
        return Err(AppError::usage("drivers take one period (no --grain)"));
    };
    let nps = cxkpi_core::kpi::lookup("nps").expect("in the catalogue");
    check_by(
        nps,
        &by.map(String::from).into_iter().collect::<Vec<_>>(),
        snapshot,
    )?;

    let table = cxkpi_engine::nps_driver_table(snapshot, period).await?;
    let respondents = table.len();
    let coverage: Vec<f64> = (0..PREDICTORS.len())
        .map(|i| {
            let known = table.iter().filter(|r| r.x[i].is_finite()).count();
            if respondents == 0 {
                0.0
            } else {
                known as f64 / respondents as f64
            }
        })
        .collect();
    let used: Vec<usize> = (0..PREDICTORS.len())
        .filter(|&i| coverage[i] >= MIN_COVERAGE)
        .collect();
    let names: Vec<&str> = used.iter().map(|&i| PREDICTORS[i]).collect();
    let x: Vec<Vec<f64>> = table
        .iter()
        .map(|r| used.iter().map(|&i| r.x[i]).collect())
        .collect();
    let y: Vec<f64> = table.iter().map(|r| r.nps).collect();
    let drivers = shapley_r2(&names, &x, &y);

    let change = match by {
        Some(by) => {
            let previous = period.previous(tz);
            let request = cxkpi_engine::Request {
                kpis: vec![nps],
                periods: vec![previous.clone(), period.clone()],
                by: vec![by.to_string()],
                filters: Vec::new(),
                compare: false,
            };
            let rows = cxkpi_engine::compute(snapshot, config, &request).await?;
            let counts = |row: &cxkpi_engine::KpiRow| {
                let get = |name: &str| {
                    row.components
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map_or(0, |(_, v)| *v as u64)
                };
                (get("promoters"), get("detractors"), row.estimate.n())
            };
            let mut segments: std::collections::BTreeMap<String, SegmentCounts> =
                Default::default();
            for row in &rows {
                let entry = segments
                    .entry(row.segment.clone().unwrap_or_default())
                    .or_default();
                if row.period.first_day == previous.first_day {
                    entry.0 = counts(row);
                } else {
                    entry.1 = counts(row);
                }
            }
            let segments: Vec<_> = segments.into_iter().collect();
            nps_change(&segments).map(|split| Change {
                by: by.to_string(),
                previous,
                split,
            })
        }
        None => None,
    };
    Ok(NpsDrivers {
        period: period.clone(),
        respondents,
        coverage: PREDICTORS.iter().copied().zip(coverage).collect(),
        drivers,
        change,
    })
}
