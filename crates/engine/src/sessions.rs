//! Web and app visit KPIs: `conversion_rate` (distinct visitors) and `bounce_rate`
//! (sessions), by the period of `started_at`.
//!
//! Per (period, segment): distinct visitors, distinct visitors of converted sessions,
//! sessions and single-page sessions. A visitor thus counts once in every segment it
//! has sessions in, and as converted there when any of its sessions there converted.

use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_store::Snapshot;
use datafusion::functions_aggregate::expr_fn::{count, count_distinct, sum};
use datafusion::logical_expr::{ident, lit};
use datafusion::prelude::SessionContext;

use crate::results::{Columns, one_if};
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 2] = ["conversion_rate", "bounce_rate"];

pub(crate) async fn compute(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    _config: &Config,
    request: &Request,
    periods: &[Period],
    kpis: &[&'static KpiDef],
    results: &mut FamilyResult,
) -> Result<()> {
    let bucket = bucket::period_bucket(periods);
    let (frame, segment) = prepare(ctx, snapshot, kpis[0], Entity::Sessions, request).await?;
    let frame = frame
        .filter(bucket::within(periods, "started_at", false))?
        .select(vec![
            bucket.call(vec![ident("started_at")]).alias("period"),
            segment.unwrap_or(lit("")).alias("segment"),
            ident("visitor_id"),
            datafusion::logical_expr::when(ident("converted"), ident("visitor_id"))
                .end()?
                .alias("converted_visitor"),
            one_if(ident("pageviews").eq(lit(1i64))).alias("bounced"),
        ])?
        .aggregate(
            vec![ident("period"), ident("segment")],
            vec![
                count_distinct(ident("visitor_id")).alias("visitors"),
                count_distinct(ident("converted_visitor")).alias("converted"),
                count(lit(1)).alias("sessions"),
                sum(ident("bounced")).alias("bounced"),
            ],
        )?;
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            let entry = results
                .entry((c.i32("period", row) as usize, c.text("segment", row)))
                .or_default();
            for kpi in kpis {
                let estimate = match kpi.id {
                    "conversion_rate" => Estimate::Proportion {
                        x: c.u64("converted", row),
                        n: c.u64("visitors", row),
                    },
                    _ => Estimate::Proportion {
                        x: c.u64("bounced", row),
                        n: c.u64("sessions", row),
                    },
                };
                entry.push((*kpi, estimate, Vec::new()));
            }
        }
    }
    Ok(())
}
