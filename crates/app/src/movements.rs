//! MRR movements (`cxkpi mrr-movements`, `GET /api/v1/mrr-movements`): per period and
//! segment, new, expansion, contraction, churned and reactivated MRR with their counts
//! ([`cxkpi_core::movements`]), start + movements = end checked on every row.

use cxkpi_core::config::Config;
use cxkpi_core::movements::Movements;
use cxkpi_core::period::Period;
use cxkpi_store::Snapshot;

use crate::error::Result;
use crate::kpis::{PeriodChoice, Slice, check_by, filters, last_complete_months};

/// The movements of some periods.
#[derive(Debug, Clone, PartialEq)]
pub struct MrrMovements {
    /// The dimension segmenting them, if any.
    pub by: Option<String>,
    /// The periods.
    pub periods: Vec<Period>,
    /// The segment names, by index.
    pub segments: Vec<String>,
    /// One row per segment and period with MRR at either end, by segment then period.
    pub rows: Vec<Movements>,
}

/// The MRR movements of the periods of `choice` (by default the last 12 complete
/// months), segmented and filtered as the `mrr` KPI can be.
pub async fn mrr_movements(
    snapshot: &Snapshot,
    config: &Config,
    choice: &PeriodChoice,
    slice: &Slice,
) -> Result<MrrMovements> {
    let kpi = crate::kpis::lookup("mrr")?;
    let by = slice.one_by("mrr-movements")?.map(String::from);
    check_by(kpi, &slice.by, snapshot)?;
    let end = cxkpi_engine::data_end(snapshot).await?;
    let periods = choice.resolve(config, last_complete_months(end, 12, config))?;
    let request = cxkpi_engine::Request {
        kpis: vec![kpi],
        periods: Vec::new(),
        by: slice.by.clone(),
        filters: filters(&slice.filters, config)?,
        compare: false,
    };
    let (segments, intervals) = cxkpi_engine::subscription_intervals(snapshot, &request).await?;
    let bounds: Vec<(i64, i64)> = periods
        .iter()
        .map(|p| (p.start.as_microsecond(), p.end.as_microsecond()))
        .collect();
    let mut rows = cxkpi_core::movements::movements(&bounds, &intervals);
    rows.sort_by(|a, b| {
        let name = |m: &Movements| &segments[m.segment as usize];
        name(a).cmp(name(b)).then(a.period.cmp(&b.period))
    });
    Ok(MrrMovements {
        by,
        periods,
        segments,
        rows,
    })
}
