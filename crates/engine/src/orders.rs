//! Order KPIs: `revenue`, `aov`, `purchase_frequency`, `repeat_purchase_rate`,
//! `order_accuracy_rate` (by the period of `ordered_at`) and `on_time_delivery_rate`
//! (by the period of `delivered_at`).
//!
//! The ordered-at scan groups twice: first by (period, segment, customer), with a
//! running total of each customer's orders over the periods (a window over the
//! per-period counts, the bucket before the first period included), then by (period,
//! segment). That gives the ordering customers, the mean and spread of their order
//! counts, and the repeat buyers (a running total of 2 or more at the period's end)
//! in one pass. Order amounts are aggregated in the same scan.

use std::collections::BTreeMap;

use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_store::Snapshot;
use datafusion::functions_aggregate::expr_fn::{count, stddev, sum};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{Expr, ExprFunctionExt, WindowFunctionDefinition, ident, lit};
use datafusion::prelude::{SessionContext, cast};

use crate::results::{Columns, count_if};
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
    customers: u64,
    repeaters: u64,
    orders: u64,
    order_count_sd: Option<f64>,
    revenue: f64,
    amount_sd: Option<f64>,
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
        let (frame, segment) = prepare(ctx, snapshot, kpis[0], Entity::Orders, request).await?;
        let per_customer = frame
            .select(vec![
                bucket.call(vec![ident("ordered_at")]).alias("period"),
                segment.unwrap_or(lit("")).alias("segment"),
                ident("customer_id"),
                ident("amount"),
                cast(ident("accurate"), arrow::datatypes::DataType::Int64).alias("accurate"),
            ])?
            .filter(ident("period").is_not_null())?
            .aggregate(
                vec![ident("period"), ident("segment"), ident("customer_id")],
                vec![
                    count(lit(1)).alias("n"),
                    sum(ident("amount")).alias("amount"),
                    sum(ident("accurate")).alias("accurate"),
                    count(ident("accurate")).alias("accuracy_known"),
                ],
            )?;
        let running = Expr::from(WindowFunction::new(
            WindowFunctionDefinition::AggregateUDF(sum_udaf()),
            vec![ident("n")],
        ))
        .partition_by(vec![ident("segment"), ident("customer_id")])
        .order_by(vec![ident("period").sort(true, false)])
        .build()?
        .alias("running");
        let frame = per_customer
            .window(vec![running])?
            .filter(ident("period").gt_eq(lit(0i32)))?
            .aggregate(
                vec![ident("period"), ident("segment")],
                vec![
                    count(lit(1)).alias("customers"),
                    count_if(ident("running").gt_eq(lit(2i64))).alias("repeaters"),
                    sum(ident("n")).alias("orders"),
                    stddev(cast(ident("n"), arrow::datatypes::DataType::Float64)).alias("n_sd"),
                    sum(ident("amount")).alias("revenue"),
                    sum(ident("accurate")).alias("accurate"),
                    sum(ident("accuracy_known")).alias("accuracy_known"),
                ],
            )?;
        for batch in frame.collect().await? {
            let c = Columns::new(&batch);
            for row in 0..batch.num_rows() {
                let entry = ordered
                    .entry((c.i32("period", row), c.text("segment", row)))
                    .or_default();
                entry.customers = c.u64("customers", row);
                entry.repeaters = c.u64("repeaters", row);
                entry.orders = c.u64("orders", row);
                entry.order_count_sd = c.opt_f64("n_sd", row);
                entry.revenue = c.opt_f64("revenue", row).unwrap_or(0.0);
                entry.accurate = c.u64("accurate", row);
                entry.accuracy_known = c.u64("accuracy_known", row);
            }
        }
        if wanted("aov") {
            // The spread of order amounts needs the orders themselves, not the
            // per-customer sums: one more grouping of the same frame.
            let (frame, segment) = prepare(ctx, snapshot, kpis[0], Entity::Orders, request).await?;
            let frame = frame
                .select(vec![
                    bucket.call(vec![ident("ordered_at")]).alias("period"),
                    segment.unwrap_or(lit("")).alias("segment"),
                    ident("amount"),
                ])?
                .filter(ident("period").gt_eq(lit(0i32)))?
                .aggregate(
                    vec![ident("period"), ident("segment")],
                    vec![stddev(ident("amount")).alias("amount_sd")],
                )?;
            for batch in frame.collect().await? {
                let c = Columns::new(&batch);
                for row in 0..batch.num_rows() {
                    if let Some(entry) =
                        ordered.get_mut(&(c.i32("period", row), c.text("segment", row)))
                    {
                        entry.amount_sd = c.opt_f64("amount_sd", row);
                    }
                }
            }
        }
    }

    let mut delivered: BTreeMap<(i32, String), (u64, u64)> = BTreeMap::new();
    if wanted("on_time_delivery_rate") {
        let (frame, segment) = prepare(ctx, snapshot, kpis[0], Entity::Orders, request).await?;
        let frame = frame
            .filter(ident("promised_at").is_not_null())?
            .select(vec![
                bucket.call(vec![ident("delivered_at")]).alias("period"),
                segment.unwrap_or(lit("")).alias("segment"),
                ident("delivered_at")
                    .lt_eq(ident("promised_at"))
                    .alias("on_time"),
            ])?
            .filter(ident("period").gt_eq(lit(0i32)))?
            .aggregate(
                vec![ident("period"), ident("segment")],
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
                    sd: o.amount_sd.filter(|_| o.orders >= 2),
                    n: o.orders,
                },
                "purchase_frequency" => Estimate::Mean {
                    mean: (o.customers > 0).then(|| o.orders as f64 / o.customers as f64),
                    sd: o.order_count_sd.filter(|_| o.customers >= 2),
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
            entry.push((*kpi, estimate, Vec::new()));
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
            .push((*kpi, Estimate::Proportion { x: on_time, n }, Vec::new()));
    }
    Ok(())
}
