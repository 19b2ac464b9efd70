//! Subscription KPIs: `mrr`, `arr`, `gross_revenue_churn`, `net_revenue_retention`.
//!
//! MRR is read at instants: each period's `end - 1 s`, and for revenue churn also the
//! previous period's close, `start - 1 s` of the first period. Those instants form a
//! grid, and an interval `[started_at, ended_at)` runs at exactly a contiguous range
//! of grid points, `[cx_grid(started_at), cx_grid(ended_at))`. DataFusion maps the
//! intervals to ranges; one pass here keeps them partitioned by customer (see
//! `seen::Partitioned`), MRR adds each interval to its segment's points, and each
//! customer's intervals, sorted together, give its MRR at every grid point, from
//! which the per-customer m0/m1 of revenue churn follow. MRR segments by the
//! subscription's columns and revenue churn by the customer's, so with a segment or
//! filter the two read the intervals apart.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int32Type};
use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_store::Snapshot;
use datafusion::logical_expr::{ident, lit};
use datafusion::prelude::{SessionContext, cast, coalesce};
use futures::StreamExt;

use crate::previous::{Segments, ViewKeys};
use crate::seen::{Partitioned, halves};
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 4] = ["mrr", "arr", "gross_revenue_churn", "net_revenue_retention"];

const SECOND: i64 = 1_000_000;

/// Intervals running at some grid point, with their segments numbered.
struct Intervals {
    /// The segments in number order.
    segments: Vec<String>,
    /// Per interval: its customer's key halves, segment, grid range `[from, to)` and
    /// MRR, partitioned by customer.
    rows: Partitioned<Interval>,
}

/// One interval of [`Intervals`].
#[derive(Debug)]
struct Interval {
    customer: (u64, u64),
    segment: u32,
    from: u32,
    to: u32,
    mrr: f64,
}

/// Revenue churn's totals of one segment in one period.
#[derive(Debug, Clone, Copy, Default)]
struct Retained {
    /// Customers with MRR at the previous close (m0 > 0).
    customers: u64,
    /// Their MRR at the previous close and at the period's close.
    m0: f64,
    m1: f64,
    /// Their lost MRR: the sum of max(m0 - m1, 0).
    lost: f64,
}

/// The intervals running at some grid point of `instants`, segmented for `kpi`.
async fn intervals(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    request: &Request,
    instants: &[i64],
) -> Result<Intervals> {
    let grid = bucket::grid(instants);
    let beyond = lit(instants.len() as i32);
    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Subscriptions, request).await?;
    let mut stream = frame
        .select(vec![
            cast(crate::segment::or_whole(segment), DataType::Utf8View).alias("segment"),
            cast(ident("customer_id"), DataType::Utf8View).alias("customer_id"),
            grid.call(vec![ident("started_at")]).alias("from"),
            coalesce(vec![grid.call(vec![ident("ended_at")]), beyond]).alias("to"),
            cast(ident("mrr"), DataType::Float64).alias("mrr"),
        ])?
        .filter(ident("from").lt(ident("to")))?
        .execute_stream()
        .await?;
    let (mut segments, mut keys) = (Segments::default(), ViewKeys::default());
    let mut rows = Partitioned::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let segment = batch.column(0).as_string_view();
        let customer = batch.column(1).as_string_view();
        let from = batch.column(2).as_primitive::<Int32Type>();
        let to = batch.column(3).as_primitive::<Int32Type>();
        let mrr = batch.column(4).as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            let (segment, _) = segments.number(segment, row);
            let key = keys.key(customer, row);
            let interval = Interval {
                customer: halves(key),
                segment,
                from: from.value(row) as u32,
                to: to.value(row) as u32,
                mrr: if mrr.is_null(row) {
                    0.0
                } else {
                    mrr.value(row)
                },
            };
            rows.push(key, interval);
        }
    }
    Ok(Intervals {
        segments: segments.names,
        rows,
    })
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

    let mrr_kpi = kpis.iter().find(|k| matches!(k.id, "mrr" | "arr"));
    let churn_kpi = kpis
        .iter()
        .find(|k| matches!(k.id, "gross_revenue_churn" | "net_revenue_retention"));
    // Without segments or filters both read the same intervals.
    let shared = request.by.is_empty() && request.filters.is_empty();
    let mrr_intervals = match mrr_kpi {
        Some(kpi) => Some(intervals(ctx, snapshot, kpi, request, &instants).await?),
        None => None,
    };
    let churn_intervals = match churn_kpi {
        Some(_) if shared && mrr_intervals.is_some() => None,
        Some(kpi) => Some(intervals(ctx, snapshot, kpi, request, &instants).await?),
        None => None,
    };

    // Per segment and grid point: MRR and running intervals.
    let mut running: Vec<(String, Vec<f64>, Vec<u64>)> = Vec::new();
    if let Some(Intervals { segments, rows }) = &mrr_intervals {
        running = segments
            .iter()
            .map(|s| (s.clone(), vec![0.0; points], vec![0; points]))
            .collect();
        for interval in rows.iter() {
            let (_, values, counts) = &mut running[interval.segment as usize];
            for k in interval.from as usize..(interval.to as usize).min(points) {
                values[k] += interval.mrr;
                counts[k] += 1;
            }
        }
    }

    // Per segment and period.
    let mut retention: Vec<(String, Vec<Retained>)> = Vec::new();
    let churn_source = match churn_kpi {
        Some(_) => churn_intervals.or(mrr_intervals),
        None => None,
    };
    if let Some(Intervals { segments, rows }) = churn_source {
        let mut per_segment: Vec<Vec<Retained>> =
            vec![vec![Retained::default(); periods.len()]; segments.len()];
        let mut mrr = vec![0.0; points];
        for part in rows.sorted_by_key(|i| (i.customer, i.segment)) {
            // A customer's segment is a customer column: the same on all its rows.
            for customer in part.chunk_by(|a, b| (a.customer, a.segment) == (b.customer, b.segment))
            {
                mrr.fill(0.0);
                for interval in customer {
                    for m in &mut mrr[interval.from as usize..(interval.to as usize).min(points)] {
                        *m += interval.mrr;
                    }
                }
                let totals = &mut per_segment[customer[0].segment as usize];
                for (p, totals) in totals.iter_mut().enumerate() {
                    let (m0, m1) = (mrr[p], mrr[p + 1]);
                    if m0 > 0.0 {
                        totals.customers += 1;
                        totals.m0 += m0;
                        totals.m1 += m1;
                        totals.lost += (m0 - m1).max(0.0);
                    }
                }
            }
        }
        retention = segments.into_iter().zip(per_segment).collect();
    }

    for (segment, values, counts) in &running {
        for p in 0..periods.len() {
            let entry = results.entry((p, segment.clone())).or_default();
            let (mrr, n) = (values[p + 1], counts[p + 1]);
            for kpi in kpis {
                let value = match kpi.id {
                    "mrr" => mrr,
                    "arr" => 12.0 * mrr,
                    _ => continue,
                };
                entry.push(
                    (
                        *kpi,
                        Estimate::Plain {
                            value: Some(value),
                            n,
                        },
                        Vec::new(),
                    )
                        .into(),
                );
            }
        }
    }
    for (segment, per_period) in &retention {
        for (p, totals) in per_period.iter().enumerate() {
            let entry = results.entry((p, segment.clone())).or_default();
            let Retained {
                customers: n,
                m0,
                m1,
                lost,
            } = *totals;
            for kpi in kpis {
                let value = match kpi.id {
                    "gross_revenue_churn" => 100.0 * lost / m0,
                    "net_revenue_retention" => 100.0 * m1 / m0,
                    _ => continue,
                };
                let components = vec![("mrr_start", m0), ("mrr_end", m1)];
                entry.push(
                    (
                        *kpi,
                        Estimate::Plain {
                            value: (n > 0).then_some(value),
                            n,
                        },
                        components,
                    )
                        .into(),
                );
            }
        }
    }
    Ok(())
}
