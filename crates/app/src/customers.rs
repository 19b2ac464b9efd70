//! One customer across the store (their rows, health, latest answers, open tickets,
//! CLV and churn risk when those models exist), and the customers in worst health.

use std::collections::HashMap;

use cxkpi_core::entity::Entity;
use cxkpi_core::health::HealthBand;
use cxkpi_engine::CustomerHealth;
use cxkpi_store::{Snapshot, Store};

use crate::error::{AppError, ErrorKind, Result};
use crate::kpis::Slice;

/// The most rows of one entity a customer view holds.
pub const ROWS_PER_ENTITY: usize = 500;

/// A survey answer.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestAnswer {
    /// The score.
    pub score: f64,
    /// When, as stored (RFC 3339, UTC).
    pub responded_at: String,
}

/// One customer.
#[derive(Debug, Clone)]
pub struct CustomerView {
    /// The customer.
    pub customer_id: String,
    /// The instant of the health score and the churn risk.
    pub as_of: jiff::Timestamp,
    /// Per entity, the customer's rows (JSON objects as exported), at most
    /// [`ROWS_PER_ENTITY`] each.
    pub rows: Vec<(Entity, Vec<String>)>,
    /// Health at `as_of`, when the customer is active then.
    pub health: Option<CustomerHealth>,
    /// The latest NPS answer.
    pub latest_nps: Option<LatestAnswer>,
    /// The latest CSAT answer.
    pub latest_csat: Option<LatestAnswer>,
    /// Ids of the customer's tickets without a resolution.
    pub open_tickets: Vec<String>,
    /// (P(alive), expected CLV over 12 months) when a CLV model is fitted and the
    /// customer has orders up to its calibration end.
    pub clv: Option<(f64, f64)>,
    /// The churn probability when a churn model is trained and the customer is active.
    pub churn_probability: Option<f64>,
}

fn field<'a>(row: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    row.get(name).filter(|v| !v.is_null())
}

fn latest(responses: &[serde_json::Value], survey: &str) -> Option<LatestAnswer> {
    responses
        .iter()
        .filter(|r| field(r, "survey").and_then(|s| s.as_str()) == Some(survey))
        .filter_map(|r| {
            Some(LatestAnswer {
                score: field(r, "score")?.as_f64()?,
                responded_at: field(r, "responded_at")?.as_str()?.to_string(),
            })
        })
        // RFC 3339 in UTC, all of one form: the text orders as the instant.
        .max_by(|a, b| a.responded_at.cmp(&b.responded_at))
}

/// A model's answer, or `None` when the model is not there (not fitted, of another
/// format) or does not know the customer.
fn optional<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Conflict) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Everything the store knows of customer `id`.
pub async fn customer(store: &Store, snapshot: &Snapshot, id: &str) -> Result<CustomerView> {
    let config = store.config();
    let mut rows = Vec::new();
    for entity in Entity::ALL {
        let found = cxkpi_store::customer_rows(snapshot, entity, id, ROWS_PER_ENTITY).await?;
        rows.push((entity, found));
    }
    if rows.iter().all(|(_, r)| r.is_empty()) {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("no row of any table has customer_id `{id}`"),
        ));
    }
    let parse = |entity: Entity| -> Vec<serde_json::Value> {
        rows.iter()
            .find(|(e, _)| *e == entity)
            .map(|(_, r)| {
                r.iter()
                    .filter_map(|line| serde_json::from_str(line).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let responses = parse(Entity::Responses);
    let open_tickets = parse(Entity::Tickets)
        .iter()
        .filter(|t| field(t, "resolved_at").is_none())
        .filter_map(|t| Some(field(t, "ticket_id")?.as_str()?.to_string()))
        .collect();
    let list = crate::health::health(snapshot, config, None, &Slice::default(), None).await?;
    let health = list.customers.into_iter().find(|c| c.customer_id == id);
    let clv = optional(crate::clv::customer(store, snapshot, id, "12m").await)?
        .map(|c| (c.prediction.0, c.prediction.3));
    let churn_probability =
        optional(crate::churn::explain(store, snapshot, id, None).await)?.map(|e| e.probability);
    Ok(CustomerView {
        customer_id: id.to_string(),
        as_of: list.as_of,
        latest_nps: latest(&responses, "nps"),
        latest_csat: latest(&responses, "csat"),
        rows,
        health,
        open_tickets,
        clv,
        churn_probability,
    })
}

/// The customers in worst health at the end of the data's last complete month (in
/// `band` if given), at most `top`, each with their churn probability when a churn
/// model is trained.
#[derive(Debug, Clone)]
pub struct AtRisk {
    /// The instant scored.
    pub as_of: jiff::Timestamp,
    /// (customer, churn probability), worst health first.
    pub customers: Vec<(CustomerHealth, Option<f64>)>,
}

/// See [`AtRisk`].
pub async fn at_risk(
    store: &Store,
    snapshot: &Snapshot,
    band: Option<HealthBand>,
    top: usize,
) -> Result<AtRisk> {
    let mut list =
        crate::health::health(snapshot, store.config(), None, &Slice::default(), band).await?;
    list.customers.truncate(top);
    let risks: HashMap<String, f64> =
        match optional(crate::churn::score(store, snapshot, None, None).await)? {
            Some(scores) => scores
                .rows
                .into_iter()
                .map(|s| (s.customer_id, s.probability))
                .collect(),
            None => HashMap::new(),
        };
    let customers = list
        .customers
        .into_iter()
        .map(|c| {
            let risk = risks.get(&c.customer_id).copied();
            (c, risk)
        })
        .collect();
    Ok(AtRisk {
        as_of: list.as_of,
        customers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_answer_of_a_survey() {
        let rows: Vec<serde_json::Value> = [
            r#"{"survey":"nps","score":9,"responded_at":"2026-03-01T10:00:00Z"}"#,
            r#"{"survey":"nps","score":4,"responded_at":"2026-05-01T10:00:00Z"}"#,
            r#"{"survey":"csat","score":5,"responded_at":"2026-06-01T10:00:00Z"}"#,
            r#"{"survey":"nps","score":7,"responded_at":"2026-04-01T10:00:00Z"}"#,
        ]
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
        assert_eq!(
            latest(&rows, "nps"),
            Some(LatestAnswer {
                score: 4.0,
                responded_at: "2026-05-01T10:00:00Z".into()
            })
        );
        assert_eq!(latest(&rows, "ces"), None);
    }
}
