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

/// Customers c1, c2 (plan `pro`, region eu), c3 (`basic`, us), c4 (`enterprise`, us);
/// May 2024 NPS answers 10, 3, 9, 9; orders of 10 (2 May), 20 (12 May) and 30 (20 May);
/// tickets escalated `yes`, `true` and `no`, with a status dimension spelled
/// `Solved`, `solved ` and `SOLVED`, imported with `fold_case = ["status"]`.
fn filtered() -> tempfile::TempDir {
    let ws = init();
    let config = ws.path().join("cxkpi.toml");
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "fold_case = []",
        "fold_case = [\"status\"]",
        1,
    );
    std::fs::write(&config, text).unwrap();
    import_csv(
        ws.path(),
        "customers",
        "customer_id,acquired_at,plan,region\nc1,2024-01-01,pro,eu\nc2,2024-01-01,pro,eu\nc3,2024-01-01,basic,us\nc4,2024-01-01,enterprise,us\n",
    );
    import_csv(
        ws.path(),
        "responses",
        "response_id,customer_id,survey,score,responded_at\nr1,c1,nps,10,2024-05-02\nr2,c2,nps,3,2024-05-03\nr3,c3,nps,9,2024-05-04\nr4,c4,nps,9,2024-05-31\n",
    );
    import_csv(
        ws.path(),
        "orders",
        "order_id,customer_id,ordered_at,amount\no1,c1,2024-05-02,10\no2,c2,2024-05-12,20\no3,c3,2024-05-20,30\n",
    );
    import_csv(
        ws.path(),
        "tickets",
        "ticket_id,customer_id,created_at,escalated,status\nt1,c1,2024-05-02,yes,Solved\nt2,c2,2024-05-03,true,solved \nt3,c3,2024-05-31,no,SOLVED\n",
    );
    ws
}

fn value(ws: &std::path::Path, kpi: &str, filters: &[&str]) -> (f64, String) {
    let mut command = cxkpi(ws);
    command.args(["kpi", kpi, "--period", "2024-05", "--format", "json"]);
    for f in filters {
        command.args(["--where", f]);
    }
    let output = run(&mut command);
    assert!(output.status.success(), "{filters:?}: {}", stderr(&output));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let value = rows["rows"][0]["value"].as_f64().unwrap_or(f64::NAN);
    (value, stderr(&output))
}

/// Defect 7 and analysis 1: the filter grammar (`!=`, `in`, `~=`, numeric and time
/// comparisons), values that match nothing named with what exists, booleans matched
/// as booleans, and case folded at import for the dimensions the workspace names.
#[test]
fn filters_say_when_they_match_nothing_and_compare_by_type() {
    let ws = filtered();
    let ws = ws.path();
    let near = |(got, _): (f64, String), want: f64| (got - want).abs() < 1e-9;
    // NPS by hand: all (3 - 1) / 4; pro (1 - 1) / 2; not pro 2 / 2; pro or basic (2 - 1) / 3.
    assert!(near(value(ws, "nps", &[]), 50.0));
    assert!(near(value(ws, "nps", &["plan=pro"]), 0.0));
    assert!(near(value(ws, "nps", &["plan != pro"]), 100.0));
    assert!(near(
        value(ws, "nps", &["plan in (pro, basic)"]),
        100.0 / 3.0
    ));
    assert!(near(value(ws, "nps", &["plan not in (pro, basic)"]), 100.0));
    assert!(near(value(ws, "nps", &["plan~=' PRO'"]), 0.0));
    assert!(near(value(ws, "nps", &["plan!=pro", "region=us"]), 100.0));
    // Revenue: amounts >= 20 are 20 + 30; from 12 May (local midnight, inclusive) too.
    assert!(near(value(ws, "revenue", &["amount >= 20"]), 50.0));
    assert!(near(value(ws, "revenue", &["amount<20"]), 10.0));
    assert!(near(
        value(ws, "revenue", &["ordered_at >= 2024-05-12"]),
        50.0
    ));
    assert!(near(
        value(ws, "revenue", &["ordered_at < 2024-05-12T00:00:01Z"]),
        30.0
    ));

    // plan=Pro matched nothing silently: now a warning names the value that exists.
    let (_, warning) = value(ws, "nps", &["plan=Pro"]);
    assert!(
        warning.contains("warning: --where `plan=Pro` matches no row for `Pro` (did you mean `pro`? `plan~=Pro` ignores case); `plan` has basic, enterprise, pro"),
        "{warning}"
    );
    let (_, warning) = value(ws, "nps", &["region=mars"]);
    assert!(
        warning.contains("`region` has eu, us") && !warning.contains("did you mean"),
        "{warning}"
    );
    assert!(value(ws, "nps", &["plan=pro"]).1.is_empty());

    // Booleans: yes and TRUE are true, as on import.
    for spelling in [
        "escalated=true",
        "escalated=yes",
        "escalated=TRUE",
        "escalated = 1",
    ] {
        assert!(
            near(value(ws, "tickets_created", &[spelling]), 2.0),
            "{spelling}"
        );
    }
    assert!(near(value(ws, "tickets_created", &["escalated=no"]), 1.0));
    let output = run(cxkpi(ws).args(["kpi", "tickets_created", "--where", "escalated=maybe"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`escalated` is true or false"),
        "{}",
        stderr(&output)
    );

    // Folded at import: one segment.
    let rows = json(
        &[
            "kpi",
            "tickets_created",
            "--period",
            "2024-05",
            "--by",
            "status",
        ],
        ws,
    );
    let rows = rows["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (&rows[0]["segment"], &rows[0]["value"]),
        (&serde_json::json!("solved"), &serde_json::json!(3.0))
    );

    // Errors point at the position, and ordering text is refused with what to write.
    for (filter, message) in [
        ("plan pro", "`plan pro` at column 6: expected an operator"),
        ("plan in (pro", "at column 13: expected `,` or `)`"),
        (
            "plan > b",
            "`>` compares numbers and times, and `plan` is text",
        ),
        ("amount >= lots", "`amount` is a number, and `lots` is not"),
        ("plan=pro", ""),
    ] {
        let output =
            run(cxkpi(ws).args(["kpi", "revenue", "--period", "2024-05", "--where", filter]));
        if message.is_empty() {
            assert!(output.status.success(), "{}", stderr(&output));
        } else {
            assert_eq!(output.status.code(), Some(2), "{filter}");
            assert!(
                stderr(&output).contains(message),
                "{filter}: {}",
                stderr(&output)
            );
        }
    }
}

/// Defect 9: `drivers nps` presented "CSAT 52.8%" of an R² of 0.001 as if it meant
/// something. Eight customers whose CSAT (5, 5, 1, 1, ...) is uncorrelated with their
/// NPS (10, 0, 10, 0, ...): R² = 0, and the report says the shares mean nothing.
#[test]
fn drivers_warn_when_the_predictors_explain_nothing() {
    let ws = init();
    let mut customers = String::from("customer_id,acquired_at\n");
    let mut responses = String::from("response_id,customer_id,survey,score,responded_at\n");
    for i in 0..8 {
        let nps = if i % 2 == 0 { 10 } else { 0 };
        let csat = if (i / 2) % 2 == 0 { 5 } else { 1 };
        customers.push_str(&format!("c{i},2024-01-01\n"));
        responses.push_str(&format!(
            "n{i},c{i},nps,{nps},2024-06-10\ns{i},c{i},csat,{csat},2024-06-11\n"
        ));
    }
    import_csv(ws.path(), "customers", &customers);
    import_csv(ws.path(), "responses", &responses);
    let report = json(&["drivers", "nps", "--period", "2024-06"], ws.path());
    assert!(report["r2"].as_f64().unwrap().abs() < 1e-12, "{report}");
    assert_eq!(report["r2_ci_low"], 0.0);
    let warning = report["warning"].as_str().unwrap();
    assert!(
        warning.starts_with("the predictors explain 0.0% of the variance of NPS answers"),
        "{warning}"
    );
    let output = run(cxkpi(ws.path()).args(["drivers", "nps", "--period", "2024-06"]));
    assert!(stdout(&output).contains("warning: the predictors explain 0.0%"));
}

/// Defect 6: answers of a survey of the workspace's own imported, but no KPI reported
/// them. A survey declares its kind and counts in that KPI, as a segment of `survey`
/// and alone with `--where survey=NAME`. Zendesk's Good/Bad as a 0/1 survey satisfied
/// at 1 (answers 1, 0, 1, 1) joins CSAT (5, 4, 2 on 1..5, satisfied at 4): 2 + 3
/// satisfied of 7. An onboarding NPS (9, 9, 3) joins NPS (10, 0): (3 - 2) / 5.
#[test]
fn custom_surveys_count_in_the_kpi_of_their_kind() {
    let ws = init();
    let config = ws.path().join("cxkpi.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[surveys.zendesk]\nmin = 0\nmax = 1\nsatisfied_at = 1\nkind = \"csat\"\n\n[surveys.onboarding]\nmin = 0\nmax = 10\nkind = \"nps\"\n\n[surveys.pulse]\nmin = 1\nmax = 5\n",
    );
    std::fs::write(&config, &text).unwrap();
    import_csv(
        ws.path(),
        "customers",
        "customer_id,acquired_at\nc1,2024-01-01\n",
    );
    let mut answers = String::from("response_id,customer_id,survey,score,responded_at\n");
    for (i, (survey, score)) in [
        ("csat", 5),
        ("csat", 4),
        ("csat", 2),
        ("zendesk", 1),
        ("zendesk", 0),
        ("zendesk", 1),
        ("zendesk", 1),
        ("nps", 10),
        ("nps", 0),
        ("onboarding", 9),
        ("onboarding", 9),
        ("onboarding", 3),
        ("pulse", 5),
    ]
    .iter()
    .enumerate()
    {
        answers.push_str(&format!("r{i},c1,{survey},{score},2024-05-{:02}\n", i + 1));
    }
    import_csv(ws.path(), "responses", &answers);
    let (csat, _) = value(ws.path(), "csat", &[]);
    assert!((csat - 500.0 / 7.0).abs() < 1e-9, "{csat}");
    let (zendesk, _) = value(ws.path(), "csat", &["survey=zendesk"]);
    assert!((zendesk - 75.0).abs() < 1e-9);
    let (nps, _) = value(ws.path(), "nps", &[]);
    assert!((nps - 20.0).abs() < 1e-9);
    let rows = json(
        &["kpi", "nps", "--period", "2024-05", "--by", "survey"],
        ws.path(),
    );
    let by: Vec<(String, f64, u64)> = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["segment"].as_str().unwrap().to_string(),
                r["value"].as_f64().unwrap(),
                r["n"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(by.len(), 2, "{by:?}");
    assert_eq!((by[0].0.as_str(), by[0].2), ("nps", 2));
    assert!(by[0].1.abs() < 1e-9);
    assert_eq!((by[1].0.as_str(), by[1].2), ("onboarding", 3));
    assert!((by[1].1 - 100.0 / 3.0).abs() < 1e-9);

    // A kind that cannot join its KPI is a configuration error saying why.
    for (table, message) in [
        (
            "[surveys.x]\nmin = 1\nmax = 5\nkind = \"mean\"\n",
            "write kind = \"ces\"",
        ),
        (
            "[surveys.x]\nmin = 1\nmax = 5\nkind = \"nps\"\n",
            "an nps survey is scored 0..10",
        ),
        (
            "[surveys.x]\nmin = 1\nmax = 5\nkind = \"ces\"\n",
            "a ces survey has ces's scale 1..7",
        ),
    ] {
        std::fs::write(&config, format!("{text}\n{table}")).unwrap();
        let output = run(cxkpi(ws.path()).args(["kpi", "csat"]));
        assert!(!output.status.success());
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
    }
}

/// Analysis 2: cohort retention by hand. Customer a (won 5 January) cancels on 10
/// February and subscribes again on 20 February; b (won 20 January) churns on 15
/// February; c is won on 10 February. The last order is on 31 March, so March is the
/// last complete month.
#[test]
fn cohort_triangles_by_hand() {
    let ws = init();
    import_csv(
        ws.path(),
        "customers",
        "customer_id,acquired_at,churned_at\na,2024-01-05,\nb,2024-01-20,2024-02-15\nc,2024-02-10,\n",
    );
    import_csv(
        ws.path(),
        "subscriptions",
        "subscription_id,customer_id,started_at,ended_at,mrr\ns1,a,2024-01-05,2024-02-10,10\ns2,a,2024-02-20,,12\ns3,b,2024-01-20,2024-02-15,20\ns4,c,2024-02-10,,30\n",
    );
    import_csv(
        ws.path(),
        "orders",
        "order_id,customer_id,ordered_at,amount\no1,a,2024-01-06,100\no2,b,2024-01-21,100\no3,a,2024-02-03,50\no4,c,2024-03-31,40\n",
    );
    // (cohort, size, base, [(value, share)]) per cohort.
    type Row = (String, u64, f64, Vec<(f64, Option<f64>)>);
    let triangle = |measure: &str| -> Vec<Row> {
        let page = json(
            &[
                "cohorts",
                "--measure",
                measure,
                "--from",
                "2024-01-01",
                "--to",
                "2024-03-01",
            ],
            ws.path(),
        );
        page["cohorts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["cohort"].as_str().unwrap().to_string(),
                    c["size"].as_u64().unwrap(),
                    c["base"].as_f64().unwrap(),
                    c["cells"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|cell| (cell["value"].as_f64().unwrap(), cell["share"].as_f64()))
                        .collect(),
                )
            })
            .collect()
    };
    // Customers active at the ends of January, February, March: a and b, then a.
    assert_eq!(
        triangle("customers"),
        [
            (
                "2024-01".to_string(),
                2,
                2.0,
                vec![(2.0, Some(100.0)), (1.0, Some(50.0)), (1.0, Some(50.0))]
            ),
            (
                "2024-02".to_string(),
                1,
                1.0,
                vec![(1.0, Some(100.0)), (1.0, Some(100.0))]
            ),
        ]
    );
    // Revenue: January's cohort ordered 200 in January, 50 in February; February's
    // ordered nothing in its own month, so its shares have no base.
    assert_eq!(
        triangle("revenue"),
        [
            (
                "2024-01".to_string(),
                2,
                200.0,
                vec![(200.0, Some(100.0)), (50.0, Some(25.0)), (0.0, Some(0.0))]
            ),
            (
                "2024-02".to_string(),
                1,
                0.0,
                vec![(0.0, None), (40.0, None)]
            ),
        ]
    );
    // MRR at the end of January 10 + 20; of February only a's new 12 (a came back
    // within the month, b left); of March 12.
    assert_eq!(
        triangle("mrr"),
        [
            (
                "2024-01".to_string(),
                2,
                30.0,
                vec![(30.0, Some(100.0)), (12.0, Some(40.0)), (12.0, Some(40.0))]
            ),
            (
                "2024-02".to_string(),
                1,
                30.0,
                vec![(30.0, Some(100.0)), (30.0, Some(100.0))]
            ),
        ]
    );
    let output = run(cxkpi(ws.path()).args(["cohorts", "--period", "2024-01"]));
    assert_eq!(output.status.code(), Some(2));
    let table = stdout(&run(cxkpi(ws.path()).args([
        "cohorts",
        "--from",
        "2024-01-01",
        "--to",
        "2024-03-01",
    ])));
    assert!(
        table.contains("2024-01") && table.contains(" 50.0%"),
        "{table}"
    );
}

/// Analysis 3: MRR movements by hand, January to March 2024. a is new in January
/// (+10), cancels on 5 February and is back on 20 February at the same 10 (no
/// movement: the movements compare the period's ends); b (20 since December) churns
/// in January (-20) and comes back in March at 25 (reactivation); c expands from 30 to
/// 45 in February; d contracts from 40 to 30 in March. MRR at the ends: 80, 95, 110.
#[test]
fn mrr_movements_by_hand() {
    let ws = init();
    import_csv(
        ws.path(),
        "subscriptions",
        "subscription_id,customer_id,started_at,ended_at,mrr\n\
         s1,a,2024-01-10,2024-02-05,10\ns2,a,2024-02-20,,10\n\
         s3,b,2023-12-01,2024-01-15,20\ns4,b,2024-03-03,,25\n\
         s5,c,2023-11-01,2024-02-10,30\ns6,c,2024-02-10,,45\n\
         s7,d,2023-12-01,2024-03-10,40\ns8,d,2024-03-10,,30\n",
    );
    let range = [
        "--from",
        "2024-01-01",
        "--to",
        "2024-04-01",
        "--grain",
        "month",
    ];
    let mut args = vec!["mrr-movements"];
    args.extend(range);
    let page = json(&args, ws.path());
    let rows = page["rows"].as_array().unwrap();
    let get = |r: &serde_json::Value, k: &str| r[k].as_f64().unwrap();
    let summary: Vec<[f64; 7]> = rows
        .iter()
        .map(|r| {
            assert_eq!(r["balanced"], true, "{r}");
            [
                get(r, "start"),
                get(r, "new"),
                get(r, "reactivation"),
                get(r, "expansion"),
                get(r, "contraction"),
                get(r, "churned"),
                get(r, "end"),
            ]
        })
        .collect();
    assert_eq!(
        summary,
        [
            [90.0, 10.0, 0.0, 0.0, 0.0, -20.0, 80.0],
            [80.0, 0.0, 0.0, 15.0, 0.0, 0.0, 95.0],
            [95.0, 0.0, 25.0, 0.0, -10.0, 0.0, 110.0],
        ]
    );
    assert_eq!(rows[2]["reactivation_count"], 1);
    assert_eq!(rows[0]["churned_count"], 1);
    // The ends are the mrr KPI of each month.
    let mut args = vec!["kpi", "mrr"];
    args.extend(range);
    let mrr = json(&args, ws.path());
    let ends: Vec<f64> = mrr["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_f64().unwrap())
        .collect();
    assert_eq!(ends, [80.0, 95.0, 110.0]);
    let mut args = vec!["mrr-movements", "--format", "csv"];
    args.extend(range);
    let csv = stdout(&run(cxkpi(ws.path()).args(&args)));
    assert!(csv.lines().nth(3).unwrap().ends_with(",110,true"), "{csv}");
}

/// Analysis 1: more than one breakdown. NPS of May by plan and region, by hand: basic /
/// us (9) 100, enterprise / us (9) 100, pro / eu (10, 3) 0; in JSON a segment is also
/// its value pairs. Views that segment by one dimension say so.
#[test]
fn two_breakdowns_give_value_pairs() {
    let ws = filtered();
    let page = json(
        &[
            "kpi", "nps", "--period", "2024-05", "--by", "plan", "--by", "region",
        ],
        ws.path(),
    );
    let rows: Vec<(String, serde_json::Value, f64, u64)> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["segment"].as_str().unwrap().to_string(),
                r["segments"].clone(),
                r["value"].as_f64().unwrap(),
                r["n"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "basic / us".into(),
                serde_json::json!({"plan": "basic", "region": "us"}),
                100.0,
                1
            ),
            (
                "enterprise / us".into(),
                serde_json::json!({"plan": "enterprise", "region": "us"}),
                100.0,
                1
            ),
            (
                "pro / eu".into(),
                serde_json::json!({"plan": "pro", "region": "eu"}),
                0.0,
                2
            ),
        ]
    );
    let report = json(
        &[
            "report", "--period", "2024-05", "--by", "plan", "--by", "region",
        ],
        ws.path(),
    );
    assert!(
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kpi"] == "revenue" && r["segment"] == "pro / eu" && r["value"] == 30.0),
        "{report}"
    );
    for args in [
        vec!["survival", "--by", "plan", "--by", "region"],
        vec!["kpi", "nps", "--by", "plan", "--by", "plan"],
    ] {
        let output = run(cxkpi(ws.path()).args(&args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}
