//! The raw features of the churn model for the customers active at an instant: tenure
//! and the health facts (days since the last usage event and order, the latest
//! NPS/CSAT answer on 0..100, old open tickets), and every text attribute of the
//! customer (plan, region, acquisition channel, dimensions) as a category.

use std::collections::HashMap;

use cxkpi_core::churn::RawFeatures;
use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::period::DAY_MICROS;
use cxkpi_store::Snapshot;
use datafusion::logical_expr::ident;

use crate::results::Columns;
use crate::{Request, Result, customer_health};

/// The numeric features, in [`RawFeatures::numeric`] order.
pub const CHURN_NUMERIC: [&str; 5] = [
    "tenure_days",
    "days_since_activity",
    "satisfaction",
    "old_open_tickets",
    "days_since_purchase",
];

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

/// Every customer's text attributes (the customers table's text columns but the id):
/// the categorical features, the same at every instant, so read once per model.
#[derive(Debug, Clone)]
pub struct Attributes {
    /// The attribute names.
    pub names: Vec<String>,
    by_customer: HashMap<String, Vec<Option<String>>>,
}

/// Reads the customers' text attributes.
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
    let mut by_customer = HashMap::new();
    for batch in frame.select(columns)?.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            let values = names
                .iter()
                .map(|name| c.text_opt(name, row).filter(|v| !v.is_empty()))
                .collect();
            by_customer.insert(c.text("customer_id", row), values);
        }
    }
    Ok(Attributes { names, by_customer })
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
        by: None,
        filters: Vec::new(),
        compare: false,
    };
    let mut cases: Vec<ChurnCase> = customer_health(snapshot, config, &request, at)
        .await?
        .into_iter()
        .map(|h| {
            let tenure = (at.as_microsecond() - h.acquired_at.as_microsecond()) as f64 / DAY_MICROS;
            let f = h.facts;
            ChurnCase {
                features: RawFeatures {
                    numeric: vec![
                        Some(tenure),
                        f.days_since_activity,
                        f.satisfaction,
                        f.old_open_tickets.map(f64::from),
                        f.days_since_purchase,
                    ],
                    categorical: attributes
                        .by_customer
                        .get(&h.customer_id)
                        .cloned()
                        .unwrap_or_else(|| vec![None; attributes.names.len()]),
                },
                churned_at: h.churned_at,
                customer_id: h.customer_id,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    Ok(cases)
}
