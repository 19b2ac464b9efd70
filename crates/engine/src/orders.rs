//! Order KPIs: `revenue`, `aov`, `purchase_frequency`, `repeat_purchase_rate`,
//! `order_accuracy_rate` (by the period of `ordered_at`) and `on_time_delivery_rate`
//! (by the period of `delivered_at`).
//!
//! The ordered-at scan: DataFusion maps each order to its period and segment, and one
//! pass in Rust (the orders partitioned by customer, see `seen::Partitioned`) gives
//! each customer's orders per period and their running total, hence the ordering
//! customers, the spread of their order counts, the repeat buyers (two or more orders
//! by the period's end, history before the first period included), revenue, the
//! spread of order amounts and accuracy.

use std::collections::BTreeMap;

use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_core::stats::Moments;
use cxkpi_store::Snapshot;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{ident, lit};
use datafusion::prelude::{SessionContext, cast};

use crate::previous::{Segments, ViewKeys};
use crate::results::{Columns, count_if};
use crate::seen::Runs;
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 6] = [
    "revenue",
    "aov",
    "purchase_frequency",
    "repeat_purchase_rate",
    "order_accuracy_rate",
    "on_time_delivery_rate",
];

#[derive(Default)]
struct Ordered {
    /// Order amounts (for the AOV interval).
    amounts: Moments,
    /// Sum of squared per-customer order counts (for their spread).
    count_squares: f64,
    customers: u64,
    repeaters: u64,
    orders: u64,
    revenue: f64,
    accurate: u64,
    accuracy_known: u64,
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
    let bucket = bucket::period_bucket_with_before(periods);
    let wanted = |id: &str| kpis.iter().any(|k| k.id == id);
    let mut ordered: BTreeMap<(i32, String), Ordered> = BTreeMap::new();

    if kpis.iter().any(|k| k.id != "on_time_delivery_rate") {
        ordered = ordered_by_period(ctx, snapshot, kpis[0], request, periods, &bucket).await?;
    }

    let mut delivered: BTreeMap<(i32, String), (u64, u64)> = BTreeMap::new();
    if wanted("on_time_delivery_rate") {
        let (frame, segment) = prepare(ctx, snapshot, kpis[0], Entity::Orders, request).await?;
        let mut columns = vec![
            bucket.call(vec![ident("delivered_at")]).alias("period"),
            ident("delivered_at")
                .lt_eq(ident("promised_at"))
                .alias("on_time"),
        ];
        columns.extend(crate::segment::column(segment));
        let frame = frame
            .filter(ident("promised_at").is_not_null().and(bucket::within(
                periods,
                "delivered_at",
                false,
            )))?
            .select(columns)?;
        let frame = crate::segment::group_by(
            frame,
            vec![ident("period")],
            vec![
                count(lit(1)).alias("n"),
                count_if(ident("on_time")).alias("on_time"),
            ],
        )?;
        for batch in frame.collect().await? {
            let c = Columns::new(&batch);
            for row in 0..batch.num_rows() {
                delivered.insert(
                    (c.i32("period", row), c.text("segment", row)),
                    (c.u64("on_time", row), c.u64("n", row)),
                );
            }
        }
    }

    for ((period, segment), o) in &ordered {
        if *period < 0 {
            continue;
        }
        let entry = results
            .entry((*period as usize, segment.clone()))
            .or_default();
        for kpi in kpis {
            let estimate = match kpi.id {
                "revenue" => Estimate::Plain {
                    value: Some(o.revenue),
                    n: o.orders,
                },
                "aov" => Estimate::Mean {
                    mean: (o.orders > 0).then(|| o.revenue / o.orders as f64),
                    sd: o.amounts.sd(),
                    n: o.orders,
                },
                "purchase_frequency" => Estimate::Mean {
                    mean: (o.customers > 0).then(|| o.orders as f64 / o.customers as f64),
                    sd: o.order_count_sd(),
                    n: o.customers,
                },
                "repeat_purchase_rate" => Estimate::Proportion {
                    x: o.repeaters,
                    n: o.customers,
                },
                "order_accuracy_rate" => Estimate::Proportion {
                    x: o.accurate,
                    n: o.accuracy_known,
                },
                _ => continue,
            };
            entry.push((*kpi, estimate, Vec::new()).into());
        }
    }
    for ((period, segment), (on_time, n)) in delivered {
        let kpi = kpis
            .iter()
            .find(|k| k.id == "on_time_delivery_rate")
            .expect("wanted");
        results
            .entry((period as usize, segment))
            .or_default()
            .push((*kpi, Estimate::Proportion { x: on_time, n }, Vec::new()).into());
    }
    Ok(())
}

impl Ordered {
    /// The sample standard deviation of the ordering customers' order counts.
    fn order_count_sd(&self) -> Option<f64> {
        if self.customers < 2 {
            return None;
        }
        let k = self.customers as f64;
        let sum = self.orders as f64;
        Some(
            ((self.count_squares - sum * sum / k) / (k - 1.0))
                .max(0.0)
                .sqrt(),
        )
    }
}

/// One customer's orders in one period: a run of consecutive rows.
#[derive(Debug, Default, Clone)]
struct PeriodOrders {
    period: i32,
    orders: u64,
    amount: f64,
    accurate: u64,
    accuracy_known: u64,
}

/// One pass over the orders up to the last period's end: DataFusion maps each order to
/// its period (bucket -1 for everything before the first) and segment, and the rest
/// happens here: each (customer, segment)'s orders per period, brought together by
/// [`Runs`], give their running total (a repeat buyer in period p has two or
/// more orders by its end), and per (period, segment) the sums the KPIs need.
/// Grouping by the string id in DataFusion and a window over the groups took four
/// times as long, and numbering customers in a hash map missed the cache on nearly
/// every new customer.
async fn ordered_by_period(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    request: &Request,
    periods: &[Period],
    bucket: &datafusion::logical_expr::ScalarUDF,
) -> Result<BTreeMap<(i32, String), Ordered>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
    use futures::StreamExt;

    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Orders, request).await?;
    let mut stream = frame
        .filter(bucket::within(periods, "ordered_at", true))?
        .select(vec![
            bucket.call(vec![ident("ordered_at")]).alias("period"),
            cast(crate::segment::or_whole(segment), DataType::Utf8View).alias("segment"),
            cast(ident("customer_id"), DataType::Utf8View).alias("customer_id"),
            cast(ident("amount"), DataType::Float64).alias("amount"),
            cast(ident("accurate"), DataType::Int64).alias("accurate"),
        ])?
        .execute_stream()
        .await?;
    let n_periods = periods.len();
    let (mut segments, mut keys) = (Segments::default(), ViewKeys::default());
    // A customer's orders in a period, consecutive rows in one entry, per (customer,
    // segment). Streamed: collecting the orders first cost most of the time in zeroing
    // pages.
    let mut runs: Runs<PeriodOrders> = Runs::new();
    // Amount moments per (segment, period), for the AOV interval.
    let mut amounts: Vec<Moments> = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let period = batch.column(0).as_primitive::<Int32Type>();
        let segment = batch.column(1).as_string_view();
        let customer = batch.column(2).as_string_view();
        let amount = batch.column(3).as_primitive::<Float64Type>();
        let accurate = batch.column(4).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            let (p, value) = (period.value(row), amount.value(row));
            let (s, new) = segments.number(segment, row);
            if new {
                amounts.resize(amounts.len() + n_periods, Moments::default());
            }
            let key = keys.key(customer, row);
            if runs.last_of(key, s).is_none_or(|last| last.period != p) {
                let first = PeriodOrders {
                    period: p,
                    ..PeriodOrders::default()
                };
                runs.push(key, s, first);
            }
            let run = runs.last_of(key, s).expect("pushed");
            run.orders += 1;
            run.amount += value;
            if !accurate.is_null(row) {
                run.accurate += accurate.value(row) as u64;
                run.accuracy_known += 1;
            }
            if p >= 0 {
                amounts[s as usize * n_periods + p as usize].update(value);
            }
        }
    }
    let mut by_cell: Vec<Ordered> = amounts
        .into_iter()
        .map(|amounts| Ordered {
            amounts,
            ..Ordered::default()
        })
        .collect();
    runs.for_each_key(|s, customer| {
        let s = s as usize;
        // Nearly in time order already.
        if !customer.is_sorted_by_key(|run| run.period) {
            customer.sort_by_key(|run| run.period);
        }
        let mut running = 0;
        for period in customer.chunk_by(|a, b| a.period == b.period) {
            let n: u64 = period.iter().map(|r| r.orders).sum();
            running += n;
            let p = period[0].period;
            if p < 0 {
                continue;
            }
            let o = &mut by_cell[s * n_periods + p as usize];
            o.customers += 1;
            o.repeaters += u64::from(running >= 2);
            o.orders += n;
            o.count_squares += (n * n) as f64;
            o.revenue += period.iter().map(|r| r.amount).sum::<f64>();
            o.accurate += period.iter().map(|r| r.accurate).sum::<u64>();
            o.accuracy_known += period.iter().map(|r| r.accuracy_known).sum::<u64>();
        }
    });
    let mut ordered = BTreeMap::new();
    for (cell, o) in by_cell.into_iter().enumerate() {
        if o.orders > 0 {
            let (s, p) = (cell / n_periods, cell % n_periods);
            ordered.insert((p as i32, segments.names[s].clone()), o);
        }
    }
    Ok(ordered)
}
