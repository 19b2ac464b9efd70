//! The churn model's features as of 2024-07-01T00:00Z (UTC) over a hand-made fixture.
//! Windows end just before the instant: 30 days back is 2024-06-01, 90 days back
//! 2024-04-02, 365 days back 2023-07-02.

mod common;

use cxkpi_core::entity::Entity;
use cxkpi_engine::CHURN_NUMERIC;

const CUSTOMERS: &str = "customer_id,acquired_at,churned_at,plan,seats
C1,2024-01-01,,basic,120
C2,2024-03-01,2024-09-01,pro,
C3,2024-06-01,2024-06-20,basic,5
";

const ACTIVITY: &str = "event_id,customer_id,occurred_at,event,kind
E1,C1,2024-06-25,login,usage
E2,C1,2024-05-15,login,usage
E3,C1,2024-04-10,help,self_service
E4,C1,2024-03-01,help,self_service
E5,C1,2024-07-01T00:00:00Z,login,usage
E6,C2,2024-06-30,faq,self_service
";

const TICKETS: &str = "ticket_id,customer_id,created_at,resolved_at,reopens
T1,C1,2024-06-20T00:00:00Z,2024-06-20T10:00:00Z,1
T2,C1,2024-01-10T00:00:00Z,2024-01-11T00:00:00Z,2
T3,C1,2024-06-29T00:00:00Z,2024-07-02T00:00:00Z,3
T4,C1,2023-06-01T00:00:00Z,2023-06-02T00:00:00Z,5
";

const ORDERS: &str = "order_id,customer_id,ordered_at,amount
O1,C1,2024-06-01,30
O2,C1,2023-12-01,50
O3,C1,2023-05-01,100
O4,C1,2024-07-01T00:00:00Z,999
";

const SUBSCRIPTIONS: &str = "subscription_id,customer_id,started_at,ended_at,mrr
S1,C1,2024-01-01,2024-05-01,10
S2,C1,2024-05-01,,25
S3,C2,2024-03-01,2024-07-01T00:00:00Z,40
";

/// - C3 churned before the instant: not a case.
/// - C1: tenure 182 days; usage 2024-06-25 (6 days before; E5 at the instant does not
///   count): 1 usage event in 30 days, 1 self-service event in 90 (E3; E4 is older);
///   tickets in 90 days T1 and T3; resolved by the instant within 365 days T1 (10 h,
///   1 reopen) and T2 (24 h, 2 reopens): mean 17 h, 3 reopens (T3 is resolved after
///   the instant, T4 is older than 365 days); orders in 365 days O1 and O2: 2, mean
///   40, the last 30 days ago (O4 at the instant does not count); MRR S2 = 25 now, S1
///   = 10 at 2024-04-02: change +15. Seats 120.
/// - C2: no usage (missing), one self-service event; no tickets, orders (mean
///   missing) or responses; S3 ends exactly at the instant (exclusive end): MRR 0,
///   40 at 2024-04-02: change -40. Seats blank: missing.
#[test]
fn churn_features_by_hand() {
    let (_dir, store) = common::workspace(
        "UTC",
        None,
        &[
            (Entity::Customers, CUSTOMERS),
            (Entity::Activity, ACTIVITY),
            (Entity::Tickets, TICKETS),
            (Entity::Orders, ORDERS),
            (Entity::Subscriptions, SUBSCRIPTIONS),
        ],
    );
    let at: jiff::Timestamp = "2024-07-01T00:00:00Z".parse().unwrap();
    let runtime = common::runtime();
    let snapshot = store.snapshot().unwrap();
    let attributes = runtime
        .block_on(cxkpi_engine::customer_attributes(&snapshot))
        .unwrap();
    assert_eq!(attributes.numeric, ["seats"]);
    assert!(attributes.categorical.iter().any(|c| c == "plan"));
    let names = attributes.numeric_features();
    assert_eq!(names.len(), CHURN_NUMERIC.len() + 1);
    let cases = runtime
        .block_on(cxkpi_engine::churn_cases(
            &snapshot,
            store.config(),
            &attributes,
            at,
        ))
        .unwrap();
    let ids: Vec<&str> = cases.iter().map(|c| c.customer_id.as_str()).collect();
    assert_eq!(ids, ["C1", "C2"]);
    let feature = |case: usize, name: &str| {
        let j = names.iter().position(|n| n == name).unwrap();
        cases[case].features.numeric[j]
    };
    let c1 = [
        ("tenure_days", Some(182.0)),
        ("days_since_activity", Some(6.0)),
        ("usage_events_30d", Some(1.0)),
        ("self_service_events_90d", Some(1.0)),
        ("satisfaction", None),
        ("old_open_tickets", Some(0.0)),
        ("tickets_90d", Some(2.0)),
        ("resolution_hours_365d", Some(17.0)),
        ("reopens_365d", Some(3.0)),
        ("days_since_purchase", Some(30.0)),
        ("orders_365d", Some(2.0)),
        ("avg_order_value_365d", Some(40.0)),
        ("mrr", Some(25.0)),
        ("mrr_change_90d", Some(15.0)),
        ("seats", Some(120.0)),
    ];
    for (name, want) in c1 {
        assert_eq!(feature(0, name), want, "C1 {name}");
    }
    let c2 = [
        ("tenure_days", Some(122.0)),
        ("days_since_activity", None),
        ("usage_events_30d", Some(0.0)),
        ("self_service_events_90d", Some(1.0)),
        ("old_open_tickets", None),
        ("tickets_90d", Some(0.0)),
        ("resolution_hours_365d", None),
        ("reopens_365d", Some(0.0)),
        ("days_since_purchase", None),
        ("orders_365d", Some(0.0)),
        ("avg_order_value_365d", None),
        ("mrr", Some(0.0)),
        ("mrr_change_90d", Some(-40.0)),
        ("seats", None),
    ];
    for (name, want) in c2 {
        assert_eq!(feature(1, name), want, "C2 {name}");
    }
    assert_eq!(
        cases[1].churned_at,
        Some("2024-09-01T00:00:00Z".parse().unwrap())
    );
    let plan = attributes
        .categorical
        .iter()
        .position(|c| c == "plan")
        .unwrap();
    assert_eq!(cases[1].features.categorical[plan].as_deref(), Some("pro"));
}
