//! The per-customer table behind the key-driver analysis of NPS: for every customer
//! with an NPS answer in a period, their mean NPS score (the response) and their
//! experience in the same period (the predictors): mean CSAT and CES scores, mean
//! first response and resolution hours and reopens of the tickets they opened, and
//! the share of their orders (ordered in the period, with a promise and a delivery)
//! delivered on time. A predictor the customer has no data for is NaN.

use std::collections::HashMap;

use cxkpi_core::entity::Entity;
use cxkpi_core::period::Period;
use cxkpi_store::Snapshot;
use datafusion::functions_aggregate::expr_fn::avg;
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::{SessionContext, cast};

use crate::results::{Columns, micros_between_hours};
use crate::{Result, bucket};

/// The predictors, in the order of [`DriverRow::x`].
pub const PREDICTORS: [&str; 6] = [
    "csat",
    "ces",
    "first_response_hours",
    "resolution_hours",
    "reopens",
    "on_time_delivery",
];

/// One customer's response and predictors.
#[derive(Debug, Clone)]
pub struct DriverRow {
    /// The customer.
    pub customer_id: String,
    /// Mean NPS score in the period.
    pub nps: f64,
    /// Predictors (NaN where the customer has no data).
    pub x: [f64; 6],
}

/// Per-customer means of `value` over `entity` rows whose `time` is in `period`
/// (and which pass `filter`).
async fn means(
    ctx: &SessionContext,
    entity: Entity,
    time: &str,
    period: &Period,
    filter: Option<Expr>,
    value: Expr,
) -> Result<HashMap<String, f64>> {
    let bucket = bucket::period_bucket(std::slice::from_ref(period));
    let mut frame = ctx
        .table(entity.name())
        .await?
        .filter(bucket.call(vec![ident(time)]).is_not_null())?;
    if let Some(filter) = filter {
        frame = frame.filter(filter)?;
    }
    let frame = frame.aggregate(
        vec![ident("customer_id")],
        vec![avg(cast(value, arrow::datatypes::DataType::Float64)).alias("mean")],
    )?;
    let mut out = HashMap::new();
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            if let (Some(id), Some(mean)) = (c.text_opt("customer_id", row), c.opt_f64("mean", row))
            {
                out.insert(id, mean);
            }
        }
    }
    Ok(out)
}

/// The driver table of `period` (see the module docs), sorted by customer.
pub async fn nps_driver_table(snapshot: &Snapshot, period: &Period) -> Result<Vec<DriverRow>> {
    let ctx = snapshot.context()?;
    let survey = |name: &str| Some(ident("survey").eq(lit(name.to_string())));
    let nps = means(
        &ctx,
        Entity::Responses,
        "responded_at",
        period,
        survey("nps"),
        ident("score"),
    )
    .await?;
    let predictors = [
        means(
            &ctx,
            Entity::Responses,
            "responded_at",
            period,
            survey("csat"),
            ident("score"),
        )
        .await?,
        means(
            &ctx,
            Entity::Responses,
            "responded_at",
            period,
            survey("ces"),
            ident("score"),
        )
        .await?,
        means(
            &ctx,
            Entity::Tickets,
            "created_at",
            period,
            None,
            micros_between_hours("created_at", "first_response_at"),
        )
        .await?,
        means(
            &ctx,
            Entity::Tickets,
            "created_at",
            period,
            None,
            micros_between_hours("created_at", "resolved_at"),
        )
        .await?,
        means(
            &ctx,
            Entity::Tickets,
            "created_at",
            period,
            None,
            ident("reopens"),
        )
        .await?,
        means(
            &ctx,
            Entity::Orders,
            "ordered_at",
            period,
            Some(
                ident("promised_at")
                    .is_not_null()
                    .and(ident("delivered_at").is_not_null()),
            ),
            ident("delivered_at").lt_eq(ident("promised_at")),
        )
        .await?,
    ];
    let mut rows: Vec<DriverRow> = nps
        .into_iter()
        .map(|(customer_id, score)| {
            let x = std::array::from_fn(|i| {
                predictors[i].get(&customer_id).copied().unwrap_or(f64::NAN)
            });
            DriverRow {
                customer_id,
                nps: score,
                x,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    Ok(rows)
}
