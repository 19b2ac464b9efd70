//! Visit KPIs over a hand-made fixture (UTC); expected values in the comments.

mod common;

use common::row;
use cxkpi_core::entity::Entity;
use cxkpi_engine::KpiRow;

/// May: V1 has two sessions (one converted, 3 pages; one bounce on mobile), V2 one
/// bounce, V3 two sessions without conversion. June: V1 one converted session.
const SESSIONS: &str = "\
session_id,visitor_id,customer_id,started_at,pageviews,converted,device
W1,V1,C1,2024-05-01T10:00:00Z,3,true,desktop
W2,V1,C1,2024-05-02T10:00:00Z,1,,mobile
W3,V2,,2024-05-03T10:00:00Z,1,false,mobile
W4,V3,,2024-05-04T10:00:00Z,2,false,desktop
W5,V3,,2024-05-05T10:00:00Z,4,no,desktop
W6,V1,C1,2024-06-01T10:00:00Z,2,yes,desktop
";

fn run(by: Option<&str>) -> Vec<KpiRow> {
    let (_dir, store) = common::workspace("UTC", None, &[(Entity::Sessions, SESSIONS)]);
    common::run(&store, &["conversion_rate", "bounce_rate"], by, &[], false)
}

fn value(rows: &[KpiRow], kpi: &str, period: &str, segment: Option<&str>) -> (Option<f64>, u64) {
    let r = row(rows, kpi, period, segment);
    (r.value(), r.estimate.n())
}

#[test]
fn conversion_counts_visitors_and_bounce_counts_sessions() {
    let rows = run(None);
    // May: visitors V1 (converted), V2, V3: 1 / 3. Sessions W1..W5, bounces W2, W3: 2 / 5.
    assert_eq!(
        value(&rows, "conversion_rate", "2024-05", None),
        (Some(100.0 / 3.0), 3)
    );
    assert_eq!(
        value(&rows, "bounce_rate", "2024-05", None),
        (Some(40.0), 5)
    );
    // June: V1 converted, 2 pages: 1 / 1 and 0 / 1.
    assert_eq!(
        value(&rows, "conversion_rate", "2024-06", None),
        (Some(100.0), 1)
    );
    assert_eq!(value(&rows, "bounce_rate", "2024-06", None), (Some(0.0), 1));
}

#[test]
fn a_visitor_counts_once_in_every_segment_it_has_sessions_in() {
    let rows = run(Some("device"));
    // May desktop: V1 (W1 converted), V3 (W4, W5): 1 / 2. Mobile: V1 (W2, not
    // converted there), V2: 0 / 2.
    assert_eq!(
        value(&rows, "conversion_rate", "2024-05", Some("desktop")),
        (Some(50.0), 2)
    );
    assert_eq!(
        value(&rows, "conversion_rate", "2024-05", Some("mobile")),
        (Some(0.0), 2)
    );
}

/// Visitor ids longer than 12 bytes (not inline in their views), interleaved: two
/// UUID-like ids sharing their first 24 characters, and a short one.
const LONG_IDS: &str = "\
session_id,visitor_id,customer_id,started_at,pageviews,converted,device
X1,0b6f3c1e-8d2a-4c5b-9e7f-000000000001,,2024-05-01T10:00:00Z,1,false,desktop
X2,0b6f3c1e-8d2a-4c5b-9e7f-000000000002,,2024-05-01T11:00:00Z,2,false,desktop
X3,V1,,2024-05-01T12:00:00Z,2,false,desktop
X4,0b6f3c1e-8d2a-4c5b-9e7f-000000000001,,2024-05-02T10:00:00Z,3,true,desktop
X5,0b6f3c1e-8d2a-4c5b-9e7f-000000000002,,2024-05-02T11:00:00Z,1,false,desktop
X6,0b6f3c1e-8d2a-4c5b-9e7f-000000000001,,2024-06-01T10:00:00Z,1,false,desktop
";

#[test]
fn long_visitor_ids_count_once_however_their_sessions_interleave() {
    let (_dir, store) = common::workspace("UTC", None, &[(Entity::Sessions, LONG_IDS)]);
    let rows = common::run(
        &store,
        &["conversion_rate", "bounce_rate"],
        None,
        &[],
        false,
    );
    // May: three visitors (the two long ids, V1); the first long id converted on its
    // second session (X4): 1 / 3. Sessions X1..X5, bounces X1, X5: 2 / 5.
    assert_eq!(
        value(&rows, "conversion_rate", "2024-05", None),
        (Some(100.0 / 3.0), 3)
    );
    assert_eq!(
        value(&rows, "bounce_rate", "2024-05", None),
        (Some(40.0), 5)
    );
    // June: the first long id alone, not converted: 0 / 1.
    assert_eq!(
        value(&rows, "conversion_rate", "2024-06", None),
        (Some(0.0), 1)
    );
}
