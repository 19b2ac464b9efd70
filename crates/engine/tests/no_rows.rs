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

/// Issue 17, defect 4: `median_lifetime` said "the denominator is empty" when the
/// survival curve never fell to one half, and `clv` the same for a segment whose
/// lifetime is undefined (no churn: 1 / monthly churn has no value). Each says why.
///
/// Plan `pro`: p1..p3 won in January, none churned, each ordering 100 in April.
/// Plan `basic`: b1 and b2 won in January; b1 churned 15 March (an event), b2 did not.
/// Survival at the end of May: pro 1 (never fell), basic 1/2 at 2.5 months; S(t) reaches
/// exactly 1/2, so the median is the time it got there, and basic has a value. The
/// six months pooled for CLV hold 3 pro customers active at the start of each of
/// January to May (the pool counts customer-months: 5 x 3 = 15) and no churn.
#[test]
fn undefined_lifetimes_say_why() {
    let (_dir, store) = workspace(
        "UTC",
        None,
        &[
            (
                Entity::Customers,
                "customer_id,acquired_at,churned_at,plan\np1,2024-01-01,,pro\np2,2024-01-01,,pro\np3,2024-01-01,,pro\nb1,2024-01-01,2024-03-15,basic\nb2,2024-01-01,,basic\n",
            ),
            (
                Entity::Orders,
                "order_id,customer_id,ordered_at,amount\no1,p1,2024-04-02,100\no2,p2,2024-04-02,100\no3,p3,2024-04-02,100\no4,b2,2024-04-02,100\n",
            ),
        ],
    );
    let rows = run(
        &store,
        &["median_lifetime", "clv"],
        Some("plan"),
        &[],
        false,
    );
    let pro = row(&rows, "median_lifetime", "2024-05", Some("pro"));
    assert_eq!(pro.value(), None);
    assert_eq!(
        pro.reason.as_deref(),
        Some(
            "survival of the 3 customers has not fallen to one half by the period's end (Kaplan-Meier): the median lifetime is not known yet"
        )
    );
    assert!(
        row(&rows, "median_lifetime", "2024-05", Some("basic"))
            .value()
            .is_some()
    );
    let clv = row(&rows, "clv", "2024-05", Some("pro"));
    assert_eq!(clv.value(), None);
    assert_eq!(
        clv.reason.as_deref(),
        Some(
            "no customer churned in the six months to the period's end (15 customer-months): the lifetime (1 / monthly churn) is unbounded"
        )
    );
}
