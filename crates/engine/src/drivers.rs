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

/// Per-customer means of each of `values` over the `entity` rows whose `time` is in
/// `period` (and which pass `filter`), also by the text column `key` when given
/// (the key is "" otherwise): one scan for all of them.
async fn means(
    ctx: &SessionContext,
    entity: Entity,
    time: &str,
    period: &Period,
    filter: Option<Expr>,
    key: Option<&str>,
    values: Vec<Expr>,
) -> Result<HashMap<(String, String), Vec<Option<f64>>>> {
    let mut frame = ctx.table(entity.name()).await?.filter(bucket::within(
        std::slice::from_ref(period),
        time,
        false,
    ))?;
    if let Some(filter) = filter {
        frame = frame.filter(filter)?;
    }
    let n = values.len();
    let frame = frame.aggregate(
        vec![
            ident("customer_id"),
            key.map_or(lit(""), ident).alias("key"),
        ],
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| avg(cast(v, arrow::datatypes::DataType::Float64)).alias(format!("m{i}")))
            .collect(),
    )?;
    let mut out = HashMap::new();
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            if let Some(id) = c.text_opt("customer_id", row) {
                let means = (0..n).map(|i| c.opt_f64(&format!("m{i}"), row)).collect();
                out.insert((id, c.text("key", row)), means);
            }
        }
    }
    Ok(out)
}

/// The driver table of `period` (see the module docs), sorted by customer: one scan
/// each of responses, tickets and orders.
pub async fn nps_driver_table(snapshot: &Snapshot, period: &Period) -> Result<Vec<DriverRow>> {
    let ctx = snapshot.context()?;
    let surveys = ["nps", "csat", "ces"];
    let answers = means(
        &ctx,
        Entity::Responses,
        "responded_at",
        period,
        Some(ident("survey").in_list(surveys.iter().map(|s| lit(*s)).collect(), false)),
        Some("survey"),
        vec![ident("score")],
    )
    .await?;
    let tickets = means(
        &ctx,
        Entity::Tickets,
        "created_at",
        period,
        None,
        None,
        vec![
            micros_between_hours("created_at", "first_response_at"),
            micros_between_hours("created_at", "resolved_at"),
            ident("reopens"),
        ],
    )
    .await?;
    let deliveries = means(
        &ctx,
        Entity::Orders,
        "ordered_at",
        period,
        Some(
            ident("promised_at")
                .is_not_null()
                .and(ident("delivered_at").is_not_null()),
        ),
        None,
        vec![ident("delivered_at").lt_eq(ident("promised_at"))],
    )
    .await?;
    let mut rows: Vec<DriverRow> = answers
        .iter()
        .filter(|((_, survey), _)| survey == "nps")
        .filter_map(|((customer_id, _), nps)| {
            let answer = |survey: &str| {
                answers
                    .get(&(customer_id.clone(), survey.to_string()))
                    .and_then(|m| m[0])
            };
            let ticket = tickets.get(&(customer_id.clone(), String::new()));
            let ticket = |i: usize| ticket.and_then(|m| m[i]);
            let delivery = deliveries
                .get(&(customer_id.clone(), String::new()))
                .and_then(|m| m[0]);
            let x = [
                answer("csat"),
                answer("ces"),
                ticket(0),
                ticket(1),
                ticket(2),
                delivery,
            ]
            .map(|v| v.unwrap_or(f64::NAN));
            Some(DriverRow {
                customer_id: customer_id.clone(),
                nps: nps[0]?,
                x,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    Ok(rows)
}
