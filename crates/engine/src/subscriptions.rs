//! Subscription KPIs: `mrr`, `arr`, `gross_revenue_churn`, `net_revenue_retention`.
//!
//! MRR is read at instants: each period's `end - 1 s`, and for revenue churn also the
//! previous period's close, `start - 1 s` of the first period. Those instants form a
//! grid, and an interval `[started_at, ended_at)` runs at exactly a contiguous range
//! of grid points, `[cx_grid(started_at), cx_grid(ended_at))`. DataFusion groups the
//! intervals by (customer, segment, range) summing their MRR; a sweep over each
//! customer's ranges then gives its MRR at every grid point, from which MRR per
//! segment and the per-customer m0/m1 of revenue churn follow.

use std::collections::BTreeMap;

use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_store::Snapshot;
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::logical_expr::{ident, lit};
use datafusion::prelude::{SessionContext, coalesce};

use crate::results::Columns;
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 4] = ["mrr", "arr", "gross_revenue_churn", "net_revenue_retention"];

const SECOND: i64 = 1_000_000;

/// Per segment and grid point: MRR, running intervals.
type Running = BTreeMap<String, (Vec<f64>, Vec<u64>)>;
/// Per segment and period: customers with m0 > 0, sum m0, sum m1, sum of losses.
type Retention = BTreeMap<String, Vec<(u64, f64, f64, f64)>>;

/// The intervals grouped by customer, segment and grid range, sorted by customer.
async fn ranges(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    request: &Request,
    instants: &[i64],
) -> Result<Vec<(String, String, usize, usize, f64, u64)>> {
    let grid = bucket::grid(instants.to_vec());
    let beyond = lit(instants.len() as i32);
    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Subscriptions, request).await?;
    let frame = frame
        .select(vec![
            ident("customer_id"),
            segment.unwrap_or(lit("")).alias("segment"),
            grid.call(vec![ident("started_at")]).alias("from"),
            coalesce(vec![grid.call(vec![ident("ended_at")]), beyond]).alias("to"),
            ident("mrr"),
        ])?
        .filter(ident("from").lt(ident("to")))?
        .aggregate(
            vec![
                ident("customer_id"),
                ident("segment"),
                ident("from"),
                ident("to"),
            ],
            vec![sum(ident("mrr")).alias("mrr"), count(lit(1)).alias("n")],
        )?
        .sort(vec![ident("customer_id").sort(true, false)])?;
    let mut out = Vec::new();
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            out.push((
                c.text("customer_id", row),
                c.text("segment", row),
                c.i32("from", row) as usize,
                c.i32("to", row) as usize,
                c.opt_f64("mrr", row).unwrap_or(0.0),
                c.u64("n", row),
            ));
        }
    }
    Ok(out)
}

pub(crate) async fn compute(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    _config: &Config,
    request: &Request,
    periods: &[Period],
    kpis: &[&'static KpiDef],
    results: &mut FamilyResult,
) -> Result<()> {
    // Grid point 0: the close before the first period; point i + 1: period i's close.
    let mut instants = vec![periods[0].start.as_microsecond() - SECOND];
    instants.extend(periods.iter().map(|p| p.end.as_microsecond() - SECOND));
    let points = instants.len();

    let mut running: Running = BTreeMap::new();
    if let Some(kpi) = kpis.iter().find(|k| matches!(k.id, "mrr" | "arr")) {
        for (_, segment, from, to, mrr, n) in ranges(ctx, snapshot, kpi, request, &instants).await?
        {
            let (values, counts) = running
                .entry(segment)
                .or_insert_with(|| (vec![0.0; points], vec![0; points]));
            for k in from..to.min(points) {
                values[k] += mrr;
                counts[k] += n;
            }
        }
    }

    let mut retention: Retention = BTreeMap::new();
    if let Some(kpi) = kpis
        .iter()
        .find(|k| matches!(k.id, "gross_revenue_churn" | "net_revenue_retention"))
    {
        let rows = ranges(ctx, snapshot, kpi, request, &instants).await?;
        let mut start = 0;
        while start < rows.len() {
            let customer = &rows[start].0;
            let end = start
                + rows[start..]
                    .iter()
                    .take_while(|r| &r.0 == customer)
                    .count();
            // A customer's segment is a customer column: the same on all its rows.
            let segment = rows[start].1.clone();
            let mut mrr = vec![0.0; points];
            for (_, _, from, to, value, _) in &rows[start..end] {
                for m in &mut mrr[*from..(*to).min(points)] {
                    *m += value;
                }
            }
            let per_period = retention
                .entry(segment)
                .or_insert_with(|| vec![(0, 0.0, 0.0, 0.0); periods.len()]);
            for (p, totals) in per_period.iter_mut().enumerate() {
                let (m0, m1) = (mrr[p], mrr[p + 1]);
                if m0 > 0.0 {
                    totals.0 += 1;
                    totals.1 += m0;
                    totals.2 += m1;
                    totals.3 += (m0 - m1).max(0.0);
                }
            }
            start = end;
        }
    }

    for (segment, (values, counts)) in &running {
        for p in 0..periods.len() {
            let entry = results.entry((p, segment.clone())).or_default();
            let (mrr, n) = (values[p + 1], counts[p + 1]);
            for kpi in kpis {
                let value = match kpi.id {
                    "mrr" => mrr,
                    "arr" => 12.0 * mrr,
                    _ => continue,
                };
                entry.push((
                    *kpi,
                    Estimate::Plain {
                        value: Some(value),
                        n,
                    },
                    Vec::new(),
                ));
            }
        }
    }
    for (segment, per_period) in &retention {
        for (p, (n, m0, m1, lost)) in per_period.iter().enumerate() {
            let entry = results.entry((p, segment.clone())).or_default();
            for kpi in kpis {
                let value = match kpi.id {
                    "gross_revenue_churn" => 100.0 * lost / m0,
                    "net_revenue_retention" => 100.0 * m1 / m0,
                    _ => continue,
                };
                let components = vec![("mrr_start", *m0), ("mrr_end", *m1)];
                entry.push((
                    *kpi,
                    Estimate::Plain {
                        value: (*n > 0).then_some(value),
                        n: *n,
                    },
                    components,
                ));
            }
        }
    }
    Ok(())
}
