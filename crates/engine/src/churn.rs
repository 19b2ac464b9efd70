//! The raw features of the churn model for the customers active at an instant.
//!
//! Numbers ([`CHURN_NUMERIC`], then the numeric-looking customer dimensions):
//! - tenure, and the health facts: days since the last usage event and order, the
//!   latest NPS/CSAT answer on 0..100, tickets open for more than 72 hours;
//! - activity: usage events in the last 30 days, self-service events in the last 90;
//! - support: tickets opened in the last 90 days; over the tickets of the last 365
//!   days resolved by the instant, the mean resolution time in hours and the reopens;
//! - orders: orders and the mean order value in the last 365 days (recency is
//!   `days_since_purchase`);
//! - subscriptions: MRR running at the instant and its change over 90 days.
//!
//! Counts and MRR are 0 where a customer has no rows; a mean without rows, like a
//! missing health fact, is missing (the model's encoder fills and flags it).
//!
//! Categories: every text attribute of the customer (plan, region, acquisition
//! channel, dimensions) whose values are not all numbers.

use std::collections::HashMap;

use cxkpi_core::churn::{RawFeatures, split_columns};
use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::period::DAY_MICROS;
use cxkpi_store::Snapshot;
use datafusion::functions_aggregate::expr_fn::{avg, count, sum};
use datafusion::logical_expr::{Expr, ident, lit, when};
use datafusion::prelude::{SessionContext, cast};

use crate::results::{Columns, count_if, micros_between_hours};
use crate::{Request, Result, bucket, customer_health};

/// The behavioural numeric features, in [`RawFeatures::numeric`] order (the
/// numeric-looking customer dimensions follow them).
pub const CHURN_NUMERIC: [&str; 14] = [
    "tenure_days",
    "days_since_activity",
    "usage_events_30d",
    "self_service_events_90d",
    "satisfaction",
    "old_open_tickets",
    "tickets_90d",
    "resolution_hours_365d",
    "reopens_365d",
    "days_since_purchase",
    "orders_365d",
    "avg_order_value_365d",
    "mrr",
    "mrr_change_90d",
];

/// The behavioural features that are counts or MRR: 0 for a customer without rows.
const ZERO_WITHOUT_ROWS: [&str; 7] = [
    "usage_events_30d",
    "self_service_events_90d",
    "tickets_90d",
    "reopens_365d",
    "orders_365d",
    "mrr",
    "mrr_change_90d",
];

/// The position of a feature in [`CHURN_NUMERIC`].
fn slot(name: &str) -> usize {
    CHURN_NUMERIC
        .iter()
        .position(|n| *n == name)
        .expect("a behavioural feature")
}

/// One customer's features as of an instant.
#[derive(Debug, Clone)]
pub struct ChurnCase {
    /// The customer.
    pub customer_id: String,
    /// When they churned (after the instant), if they have.
    pub churned_at: Option<jiff::Timestamp>,
    /// The features.
    pub features: RawFeatures,
}

/// Every customer's attributes (the customers table's text columns but the id), split
/// into numeric-looking and categorical ones: the same at every instant, so read once
/// per model.
#[derive(Debug, Clone)]
pub struct Attributes {
    /// The numeric-looking attribute names.
    pub numeric: Vec<String>,
    /// The categorical attribute names.
    pub categorical: Vec<String>,
    /// Per customer, the numeric and the categorical attributes.
    by_customer: HashMap<String, RawFeatures>,
}

impl Attributes {
    /// The names of the numeric features (behaviour, then attributes).
    pub fn numeric_features(&self) -> Vec<String> {
        CHURN_NUMERIC
            .iter()
            .map(|s| s.to_string())
            .chain(self.numeric.iter().cloned())
            .collect()
    }
}

/// Reads the customers' attributes.
pub async fn customer_attributes(snapshot: &Snapshot) -> Result<Attributes> {
    let ctx = snapshot.context()?;
    let frame = ctx.table(Entity::Customers.name()).await?;
    let names: Vec<String> = frame
        .schema()
        .fields()
        .iter()
        .filter(|f| {
            matches!(
                f.data_type(),
                arrow::datatypes::DataType::Utf8 | arrow::datatypes::DataType::Utf8View
            ) && f.name() != "customer_id"
        })
        .map(|f| f.name().clone())
        .collect();
    let mut columns = vec![ident("customer_id")];
    columns.extend(names.iter().map(ident));
    let mut ids = Vec::new();
    let mut values: Vec<Vec<Option<String>>> = Vec::new();
    for batch in frame.select(columns)?.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            ids.push(c.text("customer_id", row));
            values.push(
                names
                    .iter()
                    .map(|name| c.text_opt(name, row).filter(|v| !v.is_empty()))
                    .collect(),
            );
        }
    }
    let (numeric, categorical, rows) = split_columns(&names, values);
    let by_customer = ids.into_iter().zip(rows).collect();
    Ok(Attributes {
        numeric,
        categorical,
        by_customer,
    })
}

/// Every customer active at `at` with their features, sorted by customer.
pub async fn churn_cases(
    snapshot: &Snapshot,
    config: &Config,
    attributes: &Attributes,
    at: jiff::Timestamp,
) -> Result<Vec<ChurnCase>> {
    let request = Request {
        kpis: Vec::new(),
        periods: Vec::new(),
        by: Vec::new(),
        filters: Vec::new(),
        compare: false,
    };
    let health = customer_health(snapshot, config, &request, at).await?;
    let index: HashMap<&str, usize> = health
        .iter()
        .enumerate()
        .map(|(i, h)| (h.customer_id.as_str(), i))
        .collect();
    let ctx = snapshot.context()?;
    let mut behaviour = vec![[None::<f64>; CHURN_NUMERIC.len()]; health.len()];
    gather_behaviour(&ctx, at, &index, &mut behaviour).await?;
    let (n_numeric, n_categorical) = (attributes.numeric.len(), attributes.categorical.len());
    let [tenure, activity, satisfaction, old_open, purchase] = [
        "tenure_days",
        "days_since_activity",
        "satisfaction",
        "old_open_tickets",
        "days_since_purchase",
    ]
    .map(slot);
    let zero = ZERO_WITHOUT_ROWS.map(slot);
    let mut cases: Vec<ChurnCase> = health
        .into_iter()
        .zip(behaviour)
        .map(|(h, mut b)| {
            let f = h.facts;
            b[tenure] =
                Some((at.as_microsecond() - h.acquired_at.as_microsecond()) as f64 / DAY_MICROS);
            b[activity] = f.days_since_activity;
            b[satisfaction] = f.satisfaction;
            b[old_open] = f.old_open_tickets.map(f64::from);
            b[purchase] = f.days_since_purchase;
            for &j in &zero {
                b[j] = Some(b[j].unwrap_or(0.0));
            }
            let own = attributes.by_customer.get(&h.customer_id);
            ChurnCase {
                features: RawFeatures {
                    numeric: b
                        .into_iter()
                        .chain(own.map_or_else(|| vec![None; n_numeric], |a| a.numeric.clone()))
                        .collect(),
                    categorical: own
                        .map_or_else(|| vec![None; n_categorical], |a| a.categorical.clone()),
                },
                churned_at: h.churned_at,
                customer_id: h.customer_id,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    Ok(cases)
}

/// Fills the activity, ticket, order and MRR features of the customers in `index`.
async fn gather_behaviour(
    ctx: &SessionContext,
    at: jiff::Timestamp,
    index: &HashMap<&str, usize>,
    out: &mut [[Option<f64>; CHURN_NUMERIC.len()]],
) -> Result<()> {
    let instant = |days: i64| bucket::instant(at.as_microsecond() - days * DAY_MICROS as i64);
    let within = |column: &str, days: i64| ident(column).gt_eq(instant(days));
    let before = |column: &str| ident(column).lt(instant(0));
    let float = |e: Expr| cast(e, arrow::datatypes::DataType::Float64);
    let running = |days: i64| {
        ident("started_at").lt_eq(instant(days)).and(
            ident("ended_at")
                .is_null()
                .or(ident("ended_at").gt(instant(days))),
        )
    };
    let mrr_if = |days: i64| {
        sum(when(running(days), ident("mrr"))
            .otherwise(lit(0.0))
            .expect("a complete CASE"))
    };
    let resolved = ident("resolved_at")
        .lt(instant(0))
        .and(within("created_at", 365));
    // (entity, rows considered, the features it fills with their aggregates)
    type Features = Vec<(&'static str, Expr)>;
    let sources: [(Entity, Expr, Features); 4] = [
        (
            Entity::Activity,
            before("occurred_at").and(within("occurred_at", 90)),
            vec![
                (
                    "usage_events_30d",
                    float(count_if(
                        ident("kind")
                            .eq(lit("usage"))
                            .and(within("occurred_at", 30)),
                    )),
                ),
                (
                    "self_service_events_90d",
                    float(count_if(ident("kind").eq(lit("self_service")))),
                ),
            ],
        ),
        (
            Entity::Tickets,
            before("created_at").and(within("created_at", 365)),
            vec![
                ("tickets_90d", float(count_if(within("created_at", 90)))),
                (
                    "resolution_hours_365d",
                    avg(when(
                        resolved.clone(),
                        micros_between_hours("created_at", "resolved_at"),
                    )
                    .end()
                    .expect("a CASE")),
                ),
                (
                    "reopens_365d",
                    float(sum(when(resolved, ident("reopens"))
                        .otherwise(lit(0i64))
                        .expect("a complete CASE"))),
                ),
            ],
        ),
        (
            Entity::Orders,
            before("ordered_at").and(within("ordered_at", 365)),
            vec![
                ("orders_365d", float(count(lit(1)))),
                ("avg_order_value_365d", float(avg(ident("amount")))),
            ],
        ),
        (
            Entity::Subscriptions,
            ident("started_at").lt_eq(instant(0)),
            // MRR 90 days earlier in the change's slot; the change is taken below.
            vec![
                ("mrr", float(mrr_if(0))),
                ("mrr_change_90d", float(mrr_if(90))),
            ],
        ),
    ];
    for (entity, rows, features) in sources {
        let slots: Vec<(&str, usize)> = features.iter().map(|(n, _)| (*n, slot(n))).collect();
        let aggregates = features.into_iter().map(|(n, e)| e.alias(n)).collect();
        let frame = ctx
            .table(entity.name())
            .await?
            .filter(rows.and(ident("customer_id").is_not_null()))?
            .aggregate(vec![ident("customer_id")], aggregates)?;
        for batch in frame.collect().await? {
            let c = Columns::new(&batch);
            for row in 0..batch.num_rows() {
                let Some(&i) = index.get(c.text("customer_id", row).as_str()) else {
                    continue;
                };
                for &(name, j) in &slots {
                    out[i][j] = c.opt_f64(name, row);
                }
            }
        }
    }
    let (mrr, change) = (slot("mrr"), slot("mrr_change_90d"));
    for features in out.iter_mut() {
        if let (Some(now), Some(then)) = (features[mrr], features[change]) {
            features[change] = Some(now - then);
        }
    }
    Ok(())
}
