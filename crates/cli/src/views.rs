//! The period and slice flags every KPI command shares, turned into the application
//! layer's `PeriodChoice` and `Slice`; the rendering of KPI rows lives in
//! `cxkpi_app::render::kpis`.

use clap::Args;
use cxkpi_app::kpis;

/// Which periods to compute.
#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// One period: 2024-06-03, 2024-W23, 2024-06, 2024-Q2 or 2024.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub period: Option<String>,
    /// First day (YYYY-MM-DD) of the range; the first period is the one containing it.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Day after the range (exclusive).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Period length: day, week, month, quarter, year (a range without a grain is one
    /// period).
    #[arg(long)]
    pub grain: Option<String>,
}

/// Segments and filters.
#[derive(Debug, Clone, Args)]
pub struct SliceArgs {
    /// Segment by a dimension (a text or boolean column of the KPI's entity, or of the
    /// customer); `kpi` and `report` take several (`--by plan --by region`).
    #[arg(long)]
    pub by: Vec<String>,
    /// Keep only rows that pass FILTER (repeatable, ANDed): DIM=VALUE, DIM!=VALUE,
    /// DIM~=VALUE (any case), 'DIM in (A, B)', 'DIM not in (A, B)', or for numbers and
    /// times 'amount >= 100'; `(none)` selects missing values.
    #[arg(long = "where", value_name = "FILTER")]
    pub filters: Vec<String>,
}

impl PeriodArgs {
    /// The periods as the application layer takes them.
    pub fn choice(&self) -> kpis::PeriodChoice {
        kpis::PeriodChoice {
            period: self.period.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            grain: self.grain.clone(),
        }
    }
}

impl SliceArgs {
    /// The segments and filters as the application layer takes them.
    pub fn slice(&self) -> kpis::Slice {
        kpis::Slice {
            by: self.by.clone(),
            filters: self.filters.clone(),
        }
    }
}
