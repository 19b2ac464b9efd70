//! Cohort retention (`cxkpi cohorts`, `GET /api/v1/cohorts`): the share of each
//! acquisition cohort still active, or of its revenue or MRR retained, after 0, 1, 2,
//! ... periods ([`cxkpi_core::cohort`]), by segment.

use cxkpi_core::cohort::{CohortRow, Measure};
use cxkpi_core::config::Config;
use cxkpi_core::period::{Grain, Period, periods};
use cxkpi_store::Snapshot;

use crate::error::{AppError, Result};
use crate::kpis::{PeriodChoice, Slice, covered_until, date, filters};

/// The periods cohorts are cut by.
pub const GRAINS: [&str; 3] = ["week", "month", "quarter"];

/// A retention triangle.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohorts {
    /// The cohorts' period length.
    pub grain: Grain,
    /// What is retained.
    pub measure: Measure,
    /// The dimension segmenting the cohorts, if any.
    pub by: Option<String>,
    /// The cohorts' periods, the first cohort's first; ages run on into later ones.
    pub periods: Vec<Period>,
    /// The segment names, by index.
    pub segments: Vec<String>,
    /// One row per segment and cohort with customers, by segment then cohort.
    pub rows: Vec<CohortRow>,
}

/// The triangle of cohorts won in the periods of `choice` (`--from`/`--to`; by default
/// the last 12 complete periods of the data), measured up to the end of the data's
/// last complete period.
pub async fn cohorts(
    snapshot: &Snapshot,
    config: &Config,
    grain: &str,
    measure: &str,
    choice: &PeriodChoice,
    slice: &Slice,
) -> Result<Cohorts> {
    let grain: Grain = grain.parse().map_err(AppError::usage)?;
    if !GRAINS.contains(&grain.name()) {
        return Err(AppError::usage(format!(
            "cohorts are cut by week, month or quarter, not {}",
            grain.name()
        )));
    }
    let measure: Measure = measure.parse().map_err(AppError::usage)?;
    let by = slice.one_by("cohorts")?.map(String::from);
    if choice.period.is_some() || choice.grain.is_some() {
        return Err(AppError::usage(
            "cohorts take --from DATE --to DATE (the cohorts won in that range) and --by-acquisition GRAIN",
        ));
    }
    let tz = &config.time_zone;
    let end = cxkpi_engine::data_end(snapshot)
        .await?
        .ok_or_else(|| AppError::new(crate::ErrorKind::NotFound, "the store has no data"))?;
    let covered = grain.floor(covered_until(end, config));
    let (from, to) = match (&choice.from, &choice.to) {
        (Some(from), Some(to)) => (date(from, "--from")?, date(to, "--to")?),
        (None, None) => {
            let back = match grain {
                Grain::Week => jiff::Span::new().weeks(12),
                Grain::Quarter => jiff::Span::new().months(36),
                _ => jiff::Span::new().months(12),
            };
            (covered.checked_sub(back).expect("in range"), covered)
        }
        _ => {
            return Err(AppError::usage(
                "--from and --to go together (--to is exclusive)",
            ));
        }
    };
    if to <= from {
        return Err(AppError::usage(
            "--to must be after --from (it is exclusive)",
        ));
    }
    // The cohorts' periods and every later one up to the data's end, for their ages.
    let cohort_periods = periods(grain, from, to, tz);
    let all = periods(grain, from, covered.max(to), tz);
    let complete = all.iter().filter(|p| p.end_day <= covered).count();
    let request = cxkpi_engine::Request {
        kpis: vec![cxkpi_core::kpi::lookup("customers_new").expect("in the catalogue")],
        periods: Vec::new(),
        by: slice.by.clone(),
        filters: filters(&slice.filters, config)?,
        compare: false,
    };
    crate::kpis::check_by(request.kpis[0], &slice.by, snapshot)?;
    let inputs = cxkpi_engine::cohort_inputs(
        snapshot,
        &request,
        measure == Measure::Revenue,
        measure == Measure::Mrr,
    )
    .await?;
    let bounds: Vec<(i64, i64)> = all
        .iter()
        .map(|p| (p.start.as_microsecond(), p.end.as_microsecond()))
        .collect();
    let mut rows = cxkpi_core::cohort::triangle(
        &bounds,
        complete,
        &inputs.members,
        measure,
        &inputs.orders,
        &inputs.subscriptions,
    );
    // Only the cohorts asked for (the later periods serve their ages), by segment name.
    rows.retain(|r| r.cohort < cohort_periods.len());
    rows.sort_by(|a, b| {
        let name = |r: &CohortRow| &inputs.segments[r.segment as usize];
        name(a).cmp(name(b)).then(a.cohort.cmp(&b.cohort))
    });
    Ok(Cohorts {
        grain,
        measure,
        by,
        periods: all,
        segments: inputs.segments,
        rows,
    })
}
