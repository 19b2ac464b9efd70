//! Order KPIs over a hand-made fixture (UTC workspace); expected values are worked
//! out in the comments.

mod common;

use common::{check, row};
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::{self, Family};
use cxkpi_engine::KpiRow;
use cxkpi_store::Store;

/// O0 is in April (before the periods). May: O1..O4 (O4 at 23:00 on 31 May). June:
/// O5, O6. O2 is delivered exactly at its promise (on time); O5 one second after a
/// bare-date promise (midnight, so late); O6 has no promise.
const ORDERS: &str = "\
order_id,customer_id,ordered_at,amount,promised_at,delivered_at,accurate,channel
O0,C1,2024-04-15T10:00:00Z,50,,,true,web
O1,C1,2024-05-01T10:00:00Z,100,2024-05-05T00:00:00Z,2024-05-04T00:00:00Z,true,web
O2,C1,2024-05-10T10:00:00Z,200,2024-05-12T12:00:00Z,2024-05-12T12:00:00Z,false,web
O3,C2,2024-05-11T10:00:00Z,30,2024-05-14T00:00:00Z,2024-05-15T10:00:00Z,,store
O4,C3,2024-05-31T23:00:00Z,70,2024-06-03T00:00:00Z,2024-06-02T00:00:00Z,true,web
O5,C2,2024-06-02T10:00:00Z,100,2024-06-05,2024-06-05T00:00:01Z,true,store
O6,C4,2024-06-03T10:00:00Z,40,,2024-06-06T00:00:00Z,true,web
";

fn fixture() -> (tempfile::TempDir, Store) {
    common::workspace("UTC", None, &[(Entity::Orders, ORDERS)])
}

fn run(store: &Store, by: Option<&str>) -> Vec<KpiRow> {
    let ids: Vec<&str> = kpi::CATALOGUE
        .iter()
        .filter(|k| {
            matches!(k.family, Family::Fulfilment)
                || [
                    "revenue",
                    "aov",
                    "purchase_frequency",
                    "repeat_purchase_rate",
                ]
                .contains(&k.id)
        })
        .map(|k| k.id)
        .collect();
    common::run(store, &ids, by, &[], false)
}

fn sd(r: &KpiRow) -> Option<f64> {
    match r.estimate {
        Estimate::Mean { sd, .. } => sd,
        _ => panic!("not a mean"),
    }
}

#[test]
fn order_kpis_by_month() {
    let (_dir, store) = fixture();
    let rows = run(&store, None);
    // May: 100 + 200 + 30 + 70 = 400 over 4 orders.
    check(&rows, "revenue", "2024-05", 400.0, 4);
    // AOV 100; deviations 0, 100, -70, -30: sd = sqrt(15800 / 3) = 72.5718.
    check(&rows, "aov", "2024-05", 100.0, 4);
    assert!(
        (sd(row(&rows, "aov", "2024-05", None)).unwrap() - (15800.0f64 / 3.0).sqrt()).abs() < 1e-9
    );
    // Ordering customers C1 (2 orders), C2 (1), C3 (1): 4 / 3; sd of 2, 1, 1 = sqrt(1/3).
    check(&rows, "purchase_frequency", "2024-05", 4.0 / 3.0, 3);
    assert!(
        (sd(row(&rows, "purchase_frequency", "2024-05", None)).unwrap() - (1.0f64 / 3.0).sqrt())
            .abs()
            < 1e-9
    );
    // Repeat buyers: C1 has O0, O1, O2 before June; C2 and C3 one order each: 1 / 3.
    check(&rows, "repeat_purchase_rate", "2024-05", 100.0 / 3.0, 3);
    // Accuracy known for O1 (true), O2 (false), O4 (true): 2 / 3.
    check(&rows, "order_accuracy_rate", "2024-05", 200.0 / 3.0, 3);
    // Delivered in May with a promise: O1 early, O2 exactly on time, O3 late: 2 / 3.
    check(&rows, "on_time_delivery_rate", "2024-05", 200.0 / 3.0, 3);

    // June: O5, O6: revenue 140, AOV 70; C2 (O3, O5) repeats, C4 does not: 1 / 2.
    check(&rows, "revenue", "2024-06", 140.0, 2);
    check(&rows, "aov", "2024-06", 70.0, 2);
    check(&rows, "repeat_purchase_rate", "2024-06", 50.0, 2);
    // One order each: frequency 1, no spread.
    check(&rows, "purchase_frequency", "2024-06", 1.0, 2);
    assert_eq!(
        sd(row(&rows, "purchase_frequency", "2024-06", None)),
        Some(0.0)
    );
    check(&rows, "order_accuracy_rate", "2024-06", 100.0, 2);
    // Delivered in June with a promise: O4 (before its promise), O5 (one second late).
    check(&rows, "on_time_delivery_rate", "2024-06", 50.0, 2);
}

#[test]
fn repeat_purchases_count_only_the_segments_orders() {
    let (_dir, store) = fixture();
    let rows = run(&store, Some("channel"));
    let value =
        |kpi: &str, period: &str, segment: &str| row(&rows, kpi, period, Some(segment)).value();
    // May, web: C1 (O0, O1, O2 on the web) repeats, C3 (O4) does not: 1 / 2.
    // May, store: C2 (O3) does not: 0 / 1.
    assert_eq!(value("repeat_purchase_rate", "2024-05", "web"), Some(50.0));
    assert_eq!(value("repeat_purchase_rate", "2024-05", "store"), Some(0.0));
    // June, store: C2's O3 and O5 are both in the store: repeats.
    assert_eq!(
        value("repeat_purchase_rate", "2024-06", "store"),
        Some(100.0)
    );
    assert_eq!(value("revenue", "2024-05", "web"), Some(370.0));
}
