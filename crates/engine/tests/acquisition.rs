//! Acquisition economics over a hand-made fixture (UTC, gross margin 0.5); expected
//! values are worked out in the comments. Periods: May (31 days) and June (30) 2024.

mod common;

use cxkpi_core::entity::Entity;
use cxkpi_engine::KpiRow;
use cxkpi_store::Store;

const CUSTOMERS: &str = "\
customer_id,acquired_at,churned_at,acquisition_channel,campaign
N1,2024-05-03T00:00:00Z,,ads,spring
N2,2024-05-10T00:00:00Z,,ads,
N3,2024-05-20T00:00:00Z,,organic,
N4,2024-06-05T00:00:00Z,,ads,spring
OLD1,2023-06-01T00:00:00Z,2024-05-15T00:00:00Z,organic,
OLD2,2023-07-01T00:00:00Z,,ads,
";

/// M1: 310 over the 31 days of May. M2: 300 over 17 May to 15 June, 30 days: 150 in
/// each month. M3: retention 610 over May and June, 61 days: 310 and 300. M4: 90 in
/// June, purpose left empty (acquisition).
const SPEND: &str = "\
spend_id,channel,campaign,purpose,period_start,period_end,amount
M1,ads,spring,acquisition,2024-05-01,2024-05-31,310
M2,ads,,acquisition,2024-05-17,2024-06-15,300
M3,email,,retention,2024-05-01,2024-06-30,610
M4,organic,,,2024-06-01,2024-06-30,90
";

const ORDERS: &str = "\
order_id,customer_id,ordered_at,amount
P00,OLD2,2023-05-15T00:00:00Z,40
P0,OLD1,2023-08-01T00:00:00Z,100
P1,N1,2024-05-05T00:00:00Z,62
P2,OLD2,2024-05-06T00:00:00Z,31
";

fn run(by: Option<&str>, kpis: &[&str]) -> Vec<KpiRow> {
    let files = [
        (Entity::Customers, CUSTOMERS),
        (Entity::Spend, SPEND),
        (Entity::Orders, ORDERS),
    ];
    let (_dir, store) = common::workspace("UTC", Some(0.5), &files);
    assert_eq!(store.config().gross_margin, 0.5);
    common::run(&store, kpis, by, &[], false)
}

fn value(rows: &[KpiRow], kpi: &str, period: &str, segment: Option<&str>) -> (Option<f64>, u64) {
    let r = common::row(rows, kpi, period, segment);
    (r.value(), r.estimate.n())
}

#[track_caller]
fn close(got: (Option<f64>, u64), want: (f64, u64)) {
    let v = got.0.expect("a value");
    assert!(
        (v - want.0).abs() < 1e-9 && got.1 == want.1,
        "got {got:?}, want {want:?}"
    );
}

#[test]
fn cac_retention_cost_and_payback() {
    let rows = run(None, &["cac", "retention_cost", "cac_payback_months"]);
    // May: acquisition spend 310 + 150 = 460 over N1, N2, N3.
    close(value(&rows, "cac", "2024-05", None), (460.0 / 3.0, 3));
    // Retention 310 over those active at 1 May: OLD1, OLD2.
    close(value(&rows, "retention_cost", "2024-05", None), (155.0, 2));
    // ARPU: revenue 62 + 31 over 5 active during May = 18.6; per month
    // 18.6 / (31 / 30.4375); times margin 0.5; payback = CAC / that.
    let per_month = 18.6 / (31.0 / 30.4375) * 0.5;
    close(
        value(&rows, "cac_payback_months", "2024-05", None),
        (460.0 / 3.0 / per_month, 3),
    );
    // June: 150 + 90 over N4; retention 300 over N1, N2, N3, OLD2.
    close(value(&rows, "cac", "2024-06", None), (240.0, 1));
    close(value(&rows, "retention_cost", "2024-06", None), (75.0, 4));
    // No revenue in June: ARPU 0, no payback.
    assert_eq!(
        value(&rows, "cac_payback_months", "2024-06", None),
        (None, 1)
    );
}

#[test]
fn cac_by_channel_and_campaign() {
    let rows = run(Some("acquisition_channel"), &["cac"]);
    // May ads: 460 over N1, N2. Organic: no spend in May, N3: 0. Email: no customers.
    close(value(&rows, "cac", "2024-05", Some("ads")), (230.0, 2));
    close(value(&rows, "cac", "2024-05", Some("organic")), (0.0, 1));
    assert_eq!(value(&rows, "cac", "2024-05", Some("email")), (None, 0));
    let rows = run(Some("campaign"), &["cac"]);
    // spring: M1 310 over N1; (none): M2 150 over N2, N3.
    close(value(&rows, "cac", "2024-05", Some("spring")), (310.0, 1));
    close(value(&rows, "cac", "2024-05", Some("(none)")), (75.0, 2));
}

#[test]
fn clv_and_its_ratio_to_cac() {
    let rows = run(None, &["clv", "clv_cac_ratio"]);
    // Twelve months before June 2024: P0, P1, P2 (P00 is older): 193 over OLD1, N1,
    // OLD2. Lifetime: S at the 1st of Dec..May is 2 each month (OLD1, OLD2): 12; C =
    // OLD1 in May: 1; 12 months = 1 year. CLV = 193 / 3 * 1 * 0.5.
    let clv = 193.0 / 3.0 * 0.5;
    close(value(&rows, "clv", "2024-05", None), (clv, 3));
    close(
        value(&rows, "clv_cac_ratio", "2024-05", None),
        (clv / (460.0 / 3.0), 3),
    );
}

#[test]
fn spend_kpis_refuse_other_dimensions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path()).unwrap();
    let err = common::try_run(&store, &["cac"], Some("plan"), &[], false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`cac` cannot be segmented by `plan`; it can be by: acquisition_channel, campaign"
    );
}
