//! Subscription KPIs over a hand-made fixture (UTC); expected values in the comments.
//! MRR is read at each period's `end - 1 s`: 30 April 23:59:59 (before May), 31 May
//! 23:59:59 and 30 June 23:59:59.

mod common;

use common::row;
use cxkpi_core::entity::Entity;
use cxkpi_engine::KpiRow;

/// A upgrades from 100 to 150 on 15 May; B (50) ends 10 June; C (80) starts in May;
/// D (40) ends exactly at 31 May 23:59:59, so it is not running then; E (10) starts
/// exactly at 30 April 23:59:59 (running then) and ends 1 June.
const SUBSCRIPTIONS: &str = "\
subscription_id,customer_id,started_at,ended_at,mrr,plan
A1,A,2024-01-01T00:00:00Z,2024-05-15T00:00:00Z,100,basic
A2,A,2024-05-15T00:00:00Z,,150,pro
B1,B,2024-03-01T00:00:00Z,2024-06-10T00:00:00Z,50,basic
C1,C,2024-05-05T00:00:00Z,,80,pro
D1,D,2024-02-01T00:00:00Z,2024-05-31T23:59:59Z,40,basic
E1,E,2024-04-30T23:59:59Z,2024-06-01T00:00:00Z,10,basic
";

fn run(by: Option<&str>, kpis: &[&str]) -> Vec<KpiRow> {
    let (_dir, store) = common::workspace("UTC", None, &[(Entity::Subscriptions, SUBSCRIPTIONS)]);
    common::run(&store, kpis, by, &[], false)
}

fn value(rows: &[KpiRow], kpi: &str, period: &str, segment: Option<&str>) -> (f64, u64) {
    let r = row(rows, kpi, period, segment);
    (r.value().unwrap(), r.estimate.n())
}

#[track_caller]
fn close(got: (f64, u64), want: (f64, u64)) {
    assert!(
        (got.0 - want.0).abs() < 1e-9 && got.1 == want.1,
        "got {got:?}, want {want:?}"
    );
}

#[test]
fn mrr_and_revenue_retention() {
    let rows = run(
        None,
        &["mrr", "arr", "gross_revenue_churn", "net_revenue_retention"],
    );
    // 31 May 23:59:59: A2 150 + B1 50 + C1 80 + E1 10 = 290 over 4 intervals.
    close(value(&rows, "mrr", "2024-05", None), (290.0, 4));
    close(value(&rows, "arr", "2024-05", None), (3480.0, 4));
    // 30 June 23:59:59: A2 150 + C1 80.
    close(value(&rows, "mrr", "2024-06", None), (230.0, 2));
    // May: m0 at 30 April: A 100, B 50, D 40, E 10 (sum 200); m1: 150, 50, 0, 10.
    // Losses max(m0 - m1, 0): 0 + 0 + 40 + 0 = 40: 20%. Kept 210 / 200 = 105%.
    close(
        value(&rows, "gross_revenue_churn", "2024-05", None),
        (20.0, 4),
    );
    close(
        value(&rows, "net_revenue_retention", "2024-05", None),
        (105.0, 4),
    );
    // June: m0 A 150, B 50, C 80, E 10 (290); m1 150, 0, 80, 0 (230); losses 60.
    close(
        value(&rows, "gross_revenue_churn", "2024-06", None),
        (6000.0 / 290.0, 4),
    );
    close(
        value(&rows, "net_revenue_retention", "2024-06", None),
        (23000.0 / 290.0, 4),
    );
}

#[test]
fn mrr_by_plan_of_the_interval() {
    let rows = run(Some("plan"), &["mrr"]);
    // 31 May: pro A2 150 + C1 80; basic B1 50 + E1 10.
    close(value(&rows, "mrr", "2024-05", Some("pro")), (230.0, 2));
    close(value(&rows, "mrr", "2024-05", Some("basic")), (60.0, 2));
}
