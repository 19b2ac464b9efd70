//! Customer-base KPIs over a hand-made fixture (UTC); expected values are worked out
//! in the comments. Periods: May and June 2024.

mod common;

use common::{check, row};
use cxkpi_core::entity::Entity;
use cxkpi_engine::KpiRow;

/// - K1: won 10 Jan, active.                  - K5: won 1 June 00:00 exactly (May's end).
/// - K2: won 1 Feb, churned 1 May 00:00       - K6: won 1 Apr, churned 30 June.
///   exactly (May's start).                   - K7: won 5 July (after the periods).
/// - K3: won 1 Mar, churned 15 May.
/// - K4: won 10 May, churned 20 May (won and lost inside May).
const CUSTOMERS: &str = "\
customer_id,acquired_at,churned_at,plan
K1,2024-01-10T00:00:00Z,,pro
K2,2024-02-01T00:00:00Z,2024-05-01T00:00:00Z,basic
K3,2024-03-01T00:00:00Z,2024-05-15T00:00:00Z,basic
K4,2024-05-10T00:00:00Z,2024-05-20T00:00:00Z,pro
K5,2024-06-01T00:00:00Z,,pro
K6,2024-04-01T00:00:00Z,2024-06-30T12:00:00Z,basic
K7,2024-07-05T00:00:00Z,,basic
";

/// K4 uses the product after churning but is active during May; K5's May event comes
/// before it was won (not active during May); K9 is unknown; K3's event is at May's
/// first instant, K6's a microsecond before it (in no period).
const ACTIVITY: &str = "\
event_id,customer_id,occurred_at,event,kind
E1,K1,2024-05-03T00:00:00Z,login,usage
E2,K1,2024-05-04T00:00:00Z,login,usage
E3,K4,2024-05-25T00:00:00Z,login,usage
E4,K5,2024-05-30T00:00:00Z,login,usage
E5,K2,2024-05-02T00:00:00Z,faq_view,self_service
E6,K9,2024-05-05T00:00:00Z,login,usage
E7,K6,2024-06-10T00:00:00Z,login,usage
E8,K3,2024-05-01T00:00:00Z,faq_view,self_service
E9,K6,2024-04-30T23:59:59.999999Z,login,usage
";

const REFERRALS: &str = "\
referral_id,referrer_id,referred_customer_id,referred_at
F1,K1,,2024-05-07T00:00:00Z
F2,K1,,2024-05-08T00:00:00Z
F3,K3,,2024-06-02T00:00:00Z
";

const ORDERS: &str = "\
order_id,customer_id,ordered_at,amount
O1,K1,2024-05-05T00:00:00Z,100
O2,K6,2024-05-06T00:00:00Z,50
O3,K7,2024-06-10T00:00:00Z,30
";

fn run(by: Option<&str>) -> Vec<KpiRow> {
    run_with(by, &[])
}

/// The family's KPIs and `extra` ones.
fn run_with(by: Option<&str>, extra: &[&str]) -> Vec<KpiRow> {
    let (_dir, store) = common::workspace(
        "UTC",
        None,
        &[
            (Entity::Customers, CUSTOMERS),
            (Entity::Activity, ACTIVITY),
            (Entity::Referrals, REFERRALS),
            (Entity::Orders, ORDERS),
        ],
    );
    let kpis = [
        "customers_active",
        "customers_new",
        "customers_churned",
        "churn_rate",
        "retention_rate",
        "customer_lifetime",
        "referral_rate",
        "active_rate",
        "self_service_rate",
        "arpu",
        "median_lifetime",
    ];
    let kpis: Vec<&str> = kpis.iter().chain(extra).copied().collect();
    common::run(&store, &kpis, by, &[], false)
}

#[test]
fn the_customer_base_by_month() {
    let rows = run(None);
    // Active at 1 June 00:00: K1, K5 (won exactly then), K6 (churns later).
    check(&rows, "customers_active", "2024-05", 3.0, 3);
    // Won in May: K4 (K5 is June's). Churned in May: K2 (at May's start), K3, K4.
    check(&rows, "customers_new", "2024-05", 1.0, 1);
    check(&rows, "customers_churned", "2024-05", 3.0, 3);
    // S = active at 1 May: K1, K3, K6 (K2 churned at that instant); C = K3: 1 / 3.
    check(&rows, "churn_rate", "2024-05", 100.0 / 3.0, 3);
    check(&rows, "retention_rate", "2024-05", 200.0 / 3.0, 3);
    // June: S = K1, K5, K6; C = K6. Active at 1 July: K1, K5.
    check(&rows, "churn_rate", "2024-06", 100.0 / 3.0, 3);
    check(&rows, "customers_active", "2024-06", 2.0, 2);
    check(&rows, "customers_new", "2024-06", 1.0, 1);
    check(&rows, "customers_churned", "2024-06", 1.0, 1);
}

#[test]
fn customer_lifetime_pools_six_months() {
    let rows = run(None);
    // Monthly S (active at the 1st) and C: Jan 0/0, Feb 2/0 (K1, K2 won that instant),
    // Mar 3/0, Apr 4/0, May 3/1, Jun 3/1. June's window Jan..Jun: m = 2 / 15, lifetime
    // 7.5 months, n = 15. May's window Dec..May: m = 1 / 12, lifetime 12, n = 12.
    check(&rows, "customer_lifetime", "2024-06", 7.5, 15);
    check(&rows, "customer_lifetime", "2024-05", 12.0, 12);
}

#[test]
fn rates_over_customers_active_during_the_period() {
    // The activity rates read activity alone, or with the health score's facts.
    for extra in [&[][..], &["health_score"]] {
        rates_over_customers_active_during(&run_with(None, extra));
    }
}

fn rates_over_customers_active_during(rows: &[KpiRow]) {
    // Active during May: K1, K2, K3, K4, K6 (K5 was won at May's end): 5.
    // Usage by active customers: K1, K4 (K5's event is before it was won, K9 is
    // unknown, K6's is in April): 2 / 5. Self-service: K2, K3 (at May's start): 2 / 5.
    // Referrers: K1 (two referrals): 1 / 5.
    check(rows, "active_rate", "2024-05", 40.0, 5);
    check(rows, "self_service_rate", "2024-05", 40.0, 5);
    check(rows, "referral_rate", "2024-05", 20.0, 5);
    let referrals = row(rows, "referral_rate", "2024-05", None);
    assert_eq!(referrals.components, vec![("referrals", 2.0)]);
    // June: active during = K1, K5, K6. Usage: K6: 1 / 3. K3 referred in June after
    // churning in May: 0 / 3.
    check(rows, "active_rate", "2024-06", 100.0 / 3.0, 3);
    check(rows, "referral_rate", "2024-06", 0.0, 3);
    // ARPU: May revenue 150 over 5; June 30 over 3.
    check(rows, "arpu", "2024-05", 30.0, 5);
    check(rows, "arpu", "2024-06", 10.0, 3);
}

#[test]
fn median_lifetime_by_kaplan_meier() {
    let rows = run(None);
    // Won before 1 June: K1 (censored at 143 days), K2 (event, 90 days), K3 (event,
    // 75), K4 (event, 10), K6 (churns after the end: censored at 61). Survival: 4/5
    // after 10 days, 0.8 * 2/3 after 75 (K3, K2, K1 at risk), 0.8 * 2/3 * 1/2 after 90:
    // the median is 90 days, in months of 30.4375 days.
    check(&rows, "median_lifetime", "2024-05", 90.0 / 30.4375, 5);
}

#[test]
fn churn_by_plan() {
    let rows = run(Some("plan"));
    let churn = |plan: &str| row(&rows, "churn_rate", "2024-05", Some(plan)).value();
    // pro: S = K1, nobody churned: 0. basic: S = K3, K6; K3 churned: 50.
    assert_eq!((churn("pro"), churn("basic")), (Some(0.0), Some(50.0)));
}
