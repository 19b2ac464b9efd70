//! Issue 17, defect 1: in a workspace without activity, referral, order, spend or
//! ticket rows, `active_rate`, `self_service_rate` and `referral_rate` showed 0.0% with
//! an interval and `arpu`, `cac` and `retention_cost` 0.00. A KPI whose required source
//! table has no rows at all has no value, and says which table is empty.

mod common;

use common::{check, row, run, workspace};
use cxkpi_core::entity::Entity;

#[test]
fn a_kpi_over_an_empty_table_has_no_value_and_says_why() {
    let (_dir, store) = workspace(
        "UTC",
        None,
        &[
            (
                Entity::Customers,
                "customer_id,acquired_at\nc1,2024-01-10\nc2,2024-02-10\nc3,2024-03-10\n",
            ),
            (
                Entity::Responses,
                "response_id,customer_id,survey,score,responded_at\nr1,c1,nps,10,2024-05-02\nr2,c2,nps,3,2024-05-03\nr3,c3,nps,9,2024-05-04\n",
            ),
        ],
    );
    let kpis = [
        "active_rate",
        "self_service_rate",
        "referral_rate",
        "arpu",
        "cac",
        "retention_cost",
        "tickets_created",
        "nps",
        "customers_active",
    ];
    let rows = run(&store, &kpis, None, &[], true);
    for (kpi, table) in [
        ("active_rate", "activity"),
        ("self_service_rate", "activity"),
        ("referral_rate", "referrals"),
        ("arpu", "orders"),
        ("cac", "spend"),
        ("retention_cost", "spend"),
        ("tickets_created", "tickets"),
    ] {
        for period in ["2024-05", "2024-06"] {
            let r = row(&rows, kpi, period, None);
            assert_eq!(r.value(), None, "{kpi} {period}");
            assert_eq!(r.estimate.n(), 0, "{kpi} {period}");
            assert!(r.estimate.interval().is_none(), "{kpi} {period}");
            assert_eq!(
                r.reason.as_deref(),
                Some(format!("no {table} rows in the store").as_str()),
                "{kpi} {period}"
            );
            let change = r.change.as_ref().unwrap();
            assert_eq!((change.delta, change.p_value), (None, None), "{kpi}");
        }
    }
    // KPIs whose tables have rows keep their values: NPS of May by hand, (2 - 1) / 3.
    check(&rows, "nps", "2024-05", 100.0 / 3.0, 3);
    check(&rows, "customers_active", "2024-05", 3.0, 3);
}
