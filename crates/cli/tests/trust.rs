//! Issue 17 through the binary: numbers that cannot be trusted are not shown, and the
//! `kpi` and `report` views give one answer.

mod common;

use common::{cxkpi, import_csv, init, run, stderr, stdout};

fn json(args: &[&str], ws: &std::path::Path) -> serde_json::Value {
    let output = run(cxkpi(ws).args(args).args(["--format", "json"]));
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

/// The row of `kpi` in a JSON answer (`kpi` rows, or a report's rows).
fn find<'a>(rows: &'a serde_json::Value, kpi: &str, period: &str) -> Option<&'a serde_json::Value> {
    let rows = rows.get("rows").unwrap_or(rows).as_array().unwrap();
    rows.iter()
        .find(|r| r["kpi"] == kpi && r["period"] == period)
}

/// Customers won from March 2024; survey answers from April to 20 May; orders from 5
/// April to 30 June (the latest row of the store). No one churned.
fn staggered() -> tempfile::TempDir {
    let ws = init();
    import_csv(
        ws.path(),
        "customers",
        "customer_id,acquired_at\nc1,2024-03-10\nc2,2024-03-20\nc3,2024-04-02\n",
    );
    import_csv(
        ws.path(),
        "responses",
        "response_id,customer_id,survey,score,responded_at\nr1,c1,nps,10,2024-04-02\nr2,c2,nps,3,2024-04-03\nr3,c3,nps,9,2024-05-20T08:00:00Z\n",
    );
    import_csv(
        ws.path(),
        "orders",
        "order_id,customer_id,ordered_at,amount\no1,c1,2024-04-05,10\no2,c2,2024-05-06,20\no3,c3,2024-06-30T12:00:00Z,30\n",
    );
    ws
}

/// Defect 2 per KPI: a period after the last row of a KPI's own sources has no value
/// (NPS in June, with answers only to 20 May, was an NPS of nothing); one its sources
/// cover in part is partial; a period before them has no value either (revenue in
/// March, before the first order, was 0.00).
#[test]
fn periods_outside_a_kpis_sources_have_no_value() {
    let ws = staggered();
    let rows = json(
        &[
            "kpi",
            "nps",
            "--from",
            "2024-03-01",
            "--to",
            "2024-07-01",
            "--grain",
            "month",
        ],
        ws.path(),
    );
    let june = find(&rows, "nps", "2024-06").unwrap();
    assert!(june["value"].is_null(), "{june}");
    assert_eq!(
        june["reason"],
        "after the end of the data (last row 2024-05-20 08:00:00 UTC)"
    );
    let may = find(&rows, "nps", "2024-05").unwrap();
    assert_eq!(may["partial"], true, "{may}");
    assert_eq!(may["value"], 100.0);
    let april = find(&rows, "nps", "2024-04").unwrap();
    // (1 promoter - 1 detractor) / 2, in a month the answers began in (2 April).
    assert_eq!(april["value"], 0.0);
    assert_eq!(april["partial"], true, "{april}");
    let march = find(&rows, "nps", "2024-03").unwrap();
    assert_eq!(
        march["reason"],
        "before the start of the data (first row 2024-04-02 00:00:00 UTC)"
    );

    let rows = json(
        &[
            "kpi",
            "revenue",
            "--from",
            "2024-03-01",
            "--to",
            "2024-07-01",
            "--grain",
            "month",
        ],
        ws.path(),
    );
    assert!(find(&rows, "revenue", "2024-03").unwrap()["value"].is_null());
    assert_eq!(find(&rows, "revenue", "2024-04").unwrap()["partial"], true);
    let may = find(&rows, "revenue", "2024-05").unwrap();
    assert_eq!(may["value"], 20.0);
    assert!(may.get("partial").is_none(), "{may}");
    assert_eq!(find(&rows, "revenue", "2024-06").unwrap()["value"], 30.0);
}

/// Defect 4: `customers_churned` was 0 in `kpi` but "left out (no data)" in `report`
/// for the same period (the report left out every KPI whose n was 0, and a count of 0
/// has n 0). A KPI is left out of the report only when it has no value.
#[test]
fn kpi_and_report_give_one_answer() {
    let ws = staggered();
    let kpi = json(
        &["kpi", "customers_churned", "--period", "2024-05"],
        ws.path(),
    );
    assert_eq!(
        find(&kpi, "customers_churned", "2024-05").unwrap()["value"],
        0.0
    );
    let report = json(&["report", "--period", "2024-05"], ws.path());
    assert_eq!(
        find(&report, "customers_churned", "2024-05").unwrap()["value"],
        0.0
    );
    // NPS of June is left out of June's report with the reason of its row.
    let report = json(&["report", "--period", "2024-06"], ws.path());
    assert!(find(&report, "nps", "2024-06").is_none());
    let left_out = report["left_out"].as_array().unwrap();
    let nps = left_out.iter().find(|l| l["kpi"] == "nps").unwrap();
    assert_eq!(
        nps["reason"],
        "after the end of the data (last row 2024-05-20 08:00:00 UTC)"
    );
}
