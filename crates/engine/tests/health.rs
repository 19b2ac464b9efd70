//! The health score over a hand-made fixture (UTC; default weights 0.3 activity, 0.3
//! satisfaction, 0.2 support, 0.2 purchase; green >= 70, yellow >= 40). Periods May
//! and June 2024: the scores are as of 2024-06-01 (E0) and 2024-07-01 (E1).

mod common;

use common::{check, component, row};
use cxkpi_core::entity::Entity;

const CUSTOMERS: &str = "customer_id,acquired_at,churned_at,region
H1,2024-01-01,,eu
H2,2024-05-10,2024-05-20,eu
H3,2024-06-01T00:00:00Z,,us
H4,2024-02-01,2024-06-15,us
";

const ACTIVITY: &str = "event_id,customer_id,occurred_at,event,kind
A1,H1,2024-05-25T00:00:00Z,login,usage
A2,H1,2024-05-31T00:00:00Z,help,self_service
A3,H2,2024-05-15T00:00:00Z,login,usage
A4,H4,2024-03-01T00:00:00Z,login,usage
";

const RESPONSES: &str = "response_id,customer_id,survey,score,responded_at
R1,H1,csat,2,2024-05-10T00:00:00Z
R2,H1,nps,9,2024-05-10T00:00:00Z
R3,H1,csat,5,2024-06-15T00:00:00Z
";

const ORDERS: &str = "order_id,customer_id,ordered_at,amount
O1,H1,2024-04-01T00:00:00Z,10
O2,H3,2024-06-30T12:00:00Z,10
";

const TICKETS: &str = "ticket_id,customer_id,created_at,resolved_at
T1,H1,2024-05-20T00:00:00Z,
T2,H3,2024-06-29T00:00:00Z,2024-06-30T00:00:00Z
T3,H4,2024-05-29T00:00:00Z,
";

/// - H1 at E0: usage 7 days before: 100; NPS 9 and CSAT 2 at the same instant, NPS
///   wins: 90; T1 open and 12 days old: 100 - 25 = 75; order 61 days before:
///   100 * (90 - 61) / 83 = 34.93976. Score 30 + 27 + 15 + 6.98795 = 78.98795 (green).
///   At E1: usage 37 days before: 100 * 23 / 53 = 43.39623; latest answer CSAT 5:
///   (5 - 1) / 4 * 100 = 100; T1 still open: 75; order 91 days before: 0.
///   Score 13.01887 + 30 + 15 + 0 = 58.01887 (yellow).
/// - H2 won and lost inside May: not active at either instant.
/// - H3 won exactly at E0: active, but no data yet: left out of May. At E1: order
///   half a day before: 100; T2 resolved: support 100. Score 100 (green).
/// - H4 at E0: usage 92 days before: 0; T3 created exactly 72 hours before E0 is not
///   "more than 72 hours" old: support 100. Score (0 + 20) / 0.5 = 40 (yellow: the
///   band includes its threshold). Churned before E1.
#[test]
fn health_score_by_hand() {
    let (_dir, store) = common::workspace(
        "UTC",
        None,
        &[
            (Entity::Customers, CUSTOMERS),
            (Entity::Activity, ACTIVITY),
            (Entity::Responses, RESPONSES),
            (Entity::Orders, ORDERS),
            (Entity::Tickets, TICKETS),
        ],
    );
    let rows = common::run(&store, &["health_score"], None, &[], false);
    let may_mean = (30.0 + 27.0 + 15.0 + 0.2 * 2900.0 / 83.0 + 40.0) / 2.0;
    check(&rows, "health_score", "2024-05", may_mean, 2);
    let may = row(&rows, "health_score", "2024-05", None);
    assert_eq!(
        (
            component(may, "green_share"),
            component(may, "yellow_share"),
            component(may, "red_share")
        ),
        (50.0, 50.0, 0.0)
    );
    let june_h1 = 0.3 * 2300.0 / 53.0 + 30.0 + 15.0;
    check(&rows, "health_score", "2024-06", (june_h1 + 100.0) / 2.0, 2);

    // By region: May eu = H1 alone, us = H4 alone.
    let rows = common::run(&store, &["health_score"], Some("region"), &[], false);
    let eu = row(&rows, "health_score", "2024-05", Some("eu"));
    assert!((eu.value().unwrap() - (may_mean * 2.0 - 40.0)).abs() < 1e-9);
    assert_eq!(
        row(&rows, "health_score", "2024-05", Some("us")).value(),
        Some(40.0)
    );
}

#[test]
fn customer_health_breaks_the_score_down() {
    let (_dir, store) = common::workspace(
        "UTC",
        None,
        &[
            (Entity::Customers, CUSTOMERS),
            (Entity::Activity, ACTIVITY),
            (Entity::Tickets, TICKETS),
        ],
    );
    let request = cxkpi_engine::Request {
        kpis: Vec::new(),
        periods: Vec::new(),
        by: Vec::new(),
        filters: Vec::new(),
        compare: false,
    };
    let at: jiff::Timestamp = "2024-06-01T00:00:00Z".parse().unwrap();
    let runtime = common::runtime();
    let snapshot = store.snapshot().unwrap();
    let mut all = runtime
        .block_on(cxkpi_engine::customer_health(
            &snapshot,
            store.config(),
            &request,
            at,
        ))
        .unwrap();
    all.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    let ids: Vec<&str> = all.iter().map(|c| c.customer_id.as_str()).collect();
    assert_eq!(ids, ["H1", "H3", "H4"]);
    // H1 without responses and orders: activity 100, support 75: (30 + 15) / 0.5 = 90.
    let h1 = all[0].health.unwrap();
    assert_eq!(h1.components, [Some(100.0), None, Some(75.0), None]);
    assert!((h1.score - 90.0).abs() < 1e-9);
    assert_eq!(all[0].facts.old_open_tickets, Some(1));
    assert_eq!(all[1].health, None);
}
