//! The `cxkpi` binary end to end: exit codes, messages, stdin, export round trips, the
//! demo, and crash atomicity of imports (abort hooks and a real `kill -9`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{cxkpi, import_csv, init, run, run_with_stdin, stderr, stdout};

fn export(workspace: &Path, entity: &str) -> String {
    let output = run(cxkpi(workspace).args(["export", entity]));
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

/// `n` orders with ids starting at `first`, in regions named `{region}0` to `{region}6`.
fn orders_csv(first: usize, n: usize, region: &str) -> String {
    let mut s = String::from(
        "order_id,customer_id,ordered_at,amount,promised_at,delivered_at,accurate,region\n",
    );
    for i in first..first + n {
        s.push_str(&format!(
            "O{i},C{},2024-{:02}-{:02}T{:02}:15:00Z,{}.{:02},,,{},{region}{}\n",
            i % 997,
            1 + i % 12,
            1 + i % 28,
            i % 24,
            i % 500,
            i % 100,
            if i % 3 == 0 { "true" } else { "false" },
            i % 7
        ));
    }
    s
}

#[test]
fn outside_a_workspace_says_how_to_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(cxkpi(dir.path()).args(["import", "orders", "x.csv"]));
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("no cxkpi workspace") && err.contains("cxkpi init"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2_and_name_the_valid_values() {
    let ws = init();
    let output = run(cxkpi(ws.path()).args(["import", "order", "x.csv"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("customers, orders, subscriptions"),
        "{}",
        stderr(&output)
    );
    let output = run(cxkpi(ws.path()).args(["import"]));
    assert_eq!(output.status.code(), Some(2));
    let output = run(cxkpi(ws.path()).args(["export", "orders", "--format", "xml"]));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn init_twice_is_an_error_and_the_config_is_commented() {
    let ws = init();
    let config = std::fs::read_to_string(ws.path().join("cxkpi.toml")).unwrap();
    assert!(config.contains("time_zone = \"UTC\"") && config.contains("# "));
    let output = run(cxkpi(ws.path()).arg("init"));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("already a cxkpi workspace"));
}

#[test]
fn json_summary_exit_codes_and_strict() {
    let ws = init();
    let file = ws.path().join("c.csv");
    std::fs::write(
        &file,
        "customer_id,acquired_at\nC1,2024-01-01\nC2,yesterday\n",
    )
    .unwrap();
    let output = run(cxkpi(ws.path())
        .args(["import", "customers", "--strict", "--format", "json"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(1));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["stored"], false);
    assert_eq!(summary["rejected"], 1);

    let output = run(cxkpi(ws.path())
        .args(["import", "customers", "--format", "json"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (
            summary["read"].as_u64(),
            summary["new"].as_u64(),
            summary["rejected"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    let rejects = summary["rejects_file"].as_str().unwrap();
    let text = std::fs::read_to_string(rejects).unwrap();
    assert!(
        text.starts_with("source,line,column,value,reason\n"),
        "{text}"
    );
    assert!(
        text.contains(",3,acquired_at,yesterday,\"not a timestamp: expected RFC 3339"),
        "{text}"
    );
}

#[test]
fn stdin_import_and_export_round_trip_through_parquet_and_ndjson() {
    let ws = init();
    let output = run_with_stdin(
        cxkpi(ws.path()).args(["import", "orders", "-"]),
        &orders_csv(0, 500, "r"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let original = export(ws.path(), "orders");
    assert_eq!(original.lines().count(), 501);

    for format in ["parquet", "ndjson", "csv"] {
        let file = ws.path().join(format!("orders.{format}"));
        let output = run(cxkpi(ws.path())
            .args(["export", "orders", "--format", format, "--output"])
            .arg(&file));
        assert!(output.status.success(), "{}", stderr(&output));
        let other = init();
        let output = run(cxkpi(other.path()).args(["import", "orders"]).arg(&file));
        assert!(output.status.success(), "{format}: {}", stderr(&output));
        assert_eq!(
            export(other.path(), "orders"),
            original,
            "{format} round trip"
        );
    }
}

#[test]
fn the_demo_imports_cleanly_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let demo = |name: &str| {
        let path = dir.path().join(name);
        let output = run(Command::new(env!("CARGO_BIN_EXE_cxkpi"))
            .args([
                "demo",
                "--customers",
                "400",
                "--seed",
                "7",
                "--format",
                "json",
            ])
            .arg(&path));
        assert!(output.status.success(), "{}", stderr(&output));
        (
            path,
            serde_json::from_str::<serde_json::Value>(&stdout(&output)).unwrap(),
        )
    };
    let (a, summary) = demo("a");
    for import in summary["imports"].as_array().unwrap() {
        assert_eq!(import["rejected"], 0, "{import}");
        assert!(import["new"].as_u64().unwrap() > 0, "{import}");
    }
    let tables = summary["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 9);
    let customers = tables.iter().find(|t| t["table"] == "customers").unwrap();
    assert_eq!(customers["rows"], 400);
    // The demo ends with the scorecard of its last complete month (October 2026).
    let scorecard = summary["scorecard"].as_array().unwrap();
    assert!(scorecard.len() >= 30, "{} KPIs", scorecard.len());
    assert!(scorecard.iter().all(|r| r["period"] == "2026-10"));
    let (b, _) = demo("b");
    assert_eq!(export(&a, "responses"), export(&b, "responses"));
    // A second demo in the same directory starts afresh.
    let output = run(Command::new(env!("CARGO_BIN_EXE_cxkpi"))
        .args(["demo", "--customers", "150", "--format", "json"])
        .arg(&a));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(export(&a, "customers").lines().count(), 151);
    // But not in a workspace with data of its own.
    let ws = init();
    let file = ws.path().join("c.csv");
    std::fs::write(&file, "customer_id,acquired_at\nC1,2024-01-01\n").unwrap();
    assert!(
        run(cxkpi(ws.path()).args(["import", "customers"]).arg(&file))
            .status
            .success()
    );
    let output = run(Command::new(env!("CARGO_BIN_EXE_cxkpi"))
        .arg("demo")
        .arg(ws.path()));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("data of its own"),
        "{}",
        stderr(&output)
    );
}

/// The table's rows, sorted: export follows storage order, which compaction may change.
fn rows(csv: &str) -> Vec<&str> {
    let mut rows: Vec<&str> = csv.lines().collect();
    rows[1..].sort_unstable();
    rows
}

/// Whether the orders table is exactly `after` (true) or `before` (false); panics when
/// it is neither.
fn check_before_or_after(ws: &Path, before: &str, after: &str) -> bool {
    let now = export(ws, "orders");
    let (now, before, after) = (rows(&now), rows(before), rows(after));
    assert!(
        now == before || now == after,
        "the store is neither before ({} rows) nor after ({} rows): it has {} rows",
        before.len() - 1,
        after.len() - 1,
        now.len() - 1
    );
    now == after
}

fn live_files(ws: &Path) -> (Vec<String>, Vec<String>) {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("store/manifest.json")).unwrap())
            .unwrap();
    let mut named: Vec<String> = manifest["tables"]["orders"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .chain(manifest["retired"].as_array().unwrap())
        .map(|p| p["file"].as_str().unwrap().to_string())
        .collect();
    named.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(ws.join("store/orders"))
        .unwrap()
        .map(|e| format!("orders/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    (named, on_disk)
}

struct CrashFixture {
    ws: tempfile::TempDir,
    big: PathBuf,
    before: String,
    after: String,
}

/// A new workspace holding 1,000 orders (O0 to O999), and the file they came from.
fn workspace_with_orders() -> (tempfile::TempDir, PathBuf) {
    let ws = init();
    let small = ws.path().join("small.csv");
    std::fs::write(&small, orders_csv(0, 1_000, "r")).unwrap();
    let output = run(cxkpi(ws.path()).args(["import", "orders"]).arg(&small));
    assert!(output.status.success(), "{}", stderr(&output));
    (ws, small)
}

/// A workspace holding 1,000 orders, a 300,000-row file that replaces 500 of them (O500
/// to O999, in other regions) and adds the rest, and the table as it is before and as
/// it must be after that import.
fn crash_fixture() -> CrashFixture {
    let (ws, _) = workspace_with_orders();
    let before = export(ws.path(), "orders");
    let big = ws.path().join("big.csv");
    std::fs::write(&big, orders_csv(500, 300_000, "s")).unwrap();
    let (reference, _) = workspace_with_orders();
    assert!(
        run(cxkpi(reference.path()).args(["import", "orders"]).arg(&big))
            .status
            .success()
    );
    let after = export(reference.path(), "orders");
    assert_eq!(after.lines().count(), 1 + 500 + 300_000);
    CrashFixture {
        ws,
        big,
        before,
        after,
    }
}

#[test]
fn an_import_aborted_mid_way_leaves_the_store_as_before() {
    let f = crash_fixture();
    // Die after the writer thread wrote two batches of the new part.
    let output = run(cxkpi(f.ws.path())
        .args(["import", "orders"])
        .arg(&f.big)
        .env("CXKPI_ABORT_AFTER_BATCHES", "2"));
    assert!(!output.status.success());
    assert!(!check_before_or_after(f.ws.path(), &f.before, &f.after));
    // Fail points on both sides of the commit.
    for (point, committed) in [
        ("before-manifest-rename", false),
        ("after-import-commit", true),
        ("before-compaction-commit", true),
    ] {
        let g = crash_fixture();
        let output = run(cxkpi(g.ws.path())
            .args(["import", "orders"])
            .arg(&g.big)
            .env("CXKPI_FAIL_POINT", point));
        assert!(!output.status.success(), "{point} did not fire");
        assert_eq!(
            check_before_or_after(g.ws.path(), &g.before, &g.after),
            committed,
            "{point}"
        );
        // The next writer removes the orphans; the table is unchanged by that.
        let output = run(cxkpi(g.ws.path()).args(["compact"]));
        assert!(output.status.success());
        let (named, on_disk) = live_files(g.ws.path());
        assert_eq!(named, on_disk, "{point}: orphans left");
        assert_eq!(
            check_before_or_after(g.ws.path(), &g.before, &g.after),
            committed
        );
    }
}

#[test]
fn kill_9_at_any_moment_leaves_the_store_before_or_after() {
    let f = crash_fixture();
    let mut outcomes = Vec::new();
    for delay_ms in [0u64, 20, 80, 200, 400, 800, 1_500] {
        // Fresh copy of the "before" state for every attempt.
        let (ws, _) = workspace_with_orders();
        let mut child = cxkpi(ws.path())
            .args(["import", "orders"])
            .arg(&f.big)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(delay_ms) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        // SIGKILL: no destructor, no flush, no cleanup.
        let _ = child.kill();
        let _ = child.wait();
        let committed = check_before_or_after(ws.path(), &f.before, &f.after);
        assert!(run(cxkpi(ws.path()).args(["compact"])).status.success());
        let (named, on_disk) = live_files(ws.path());
        assert_eq!(named, on_disk, "orphans left after a kill at {delay_ms} ms");
        outcomes.push(committed);
    }
    // A kill at 0 ms always lands before the commit.
    assert!(!outcomes[0], "{outcomes:?}");
}

#[test]
fn kpi_list_covers_the_catalogue_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(cxkpi(dir.path()).args(["kpi", "list", "--format", "json"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let list: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let rows = list["rows"].as_array().unwrap();
    assert_eq!(rows.len(), cxkpi_core::kpi::CATALOGUE.len());
    let nps = rows.iter().find(|r| r["id"] == "nps").unwrap();
    assert_eq!(nps["better"], "higher");
    assert_eq!(nps["interval"], "nps");
    let output = run(cxkpi(dir.path()).args(["kpi", "list", "--format", "markdown"]));
    let docs = std::fs::read_to_string(repo_file("docs/kpis.md")).unwrap();
    assert_eq!(stdout(&output), docs);
    let output = run(cxkpi(dir.path()).args(["kpi", "list"]));
    assert!(
        stdout(&output)
            .lines()
            .any(|l| l.starts_with("first_response_time "))
    );
}

#[test]
fn kpi_and_report_views() {
    let ws = init();
    let file = ws.path().join("responses.csv");
    // May 2024: two promoters, a passive, two detractors: NPS 0 over 5; CSAT 4 and 2:
    // 50% over 2. April: one promoter (NPS 100), for the change.
    std::fs::write(
        &file,
        "response_id,survey,score,responded_at\n\
         R0,nps,10,2024-04-10\nR1,nps,10,2024-05-02\nR2,nps,9,2024-05-03\nR3,nps,7,2024-05-04\n\
         R4,nps,3,2024-05-05\nR5,nps,0,2024-05-06\nR6,csat,4,2024-05-07\nR7,csat,2,2024-05-08\n",
    )
    .unwrap();
    assert!(
        run(cxkpi(ws.path()).args(["import", "responses"]).arg(&file))
            .status
            .success()
    );

    let output = run(cxkpi(ws.path()).args([
        "kpi",
        "nps",
        "--period",
        "2024-05",
        "--compare",
        "--format",
        "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let row = &json["rows"][0];
    assert_eq!(row["kpi"], "nps");
    assert_eq!(row["period_start"], "2024-05-01T00:00:00Z");
    assert_eq!(row["period_end"], "2024-06-01T00:00:00Z");
    assert_eq!(row["segment"], serde_json::Value::Null);
    assert_eq!(
        (row["value"].as_f64(), row["n"].as_u64()),
        (Some(0.0), Some(5))
    );
    assert_eq!(row["low_sample"], true);
    assert_eq!(row["components"]["promoters"], 2.0);
    assert_eq!(
        (row["previous"].as_f64(), row["delta"].as_f64()),
        (Some(100.0), Some(-100.0))
    );
    // One answer in April against five in May: no test (issue 17), and why.
    assert_eq!(row["significant"], serde_json::Value::Null);
    assert_eq!(row["p_value"], serde_json::Value::Null);
    assert!(
        row["no_test"].as_str().unwrap().contains("needs 30"),
        "{row}"
    );
    // NPS 0 +- 1.959964 * 40.
    assert!((row["ci_high"].as_f64().unwrap() - 78.39856).abs() < 1e-4);

    let output = run(cxkpi(ws.path()).args(["kpi", "nps", "--by", "plan"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("it can be by: survey, touchpoint"),
        "{}",
        stderr(&output)
    );
    let output = run(cxkpi(ws.path()).args(["kpi", "promoters"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the KPIs are: nps, csat"),
        "{}",
        stderr(&output)
    );

    let output = run(cxkpi(ws.path()).args(["report", "--period", "2024-05", "--format", "json"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let kpis: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kpi"].as_str().unwrap())
        .collect();
    assert_eq!(kpis, ["nps", "csat"]);
    let left_out: Vec<&str> = json["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kpi"].as_str().unwrap())
        .collect();
    assert!(
        left_out.contains(&"sentiment") && left_out.contains(&"mrr"),
        "{left_out:?}"
    );
    let csat = &json["rows"][1];
    assert_eq!(
        (csat["value"].as_f64(), csat["n"].as_u64()),
        (Some(50.0), Some(2))
    );

    let output = run(cxkpi(ws.path()).args(["report", "--period", "2024-05", "--format", "csv"]));
    let csv = stdout(&output);
    assert!(
        csv.starts_with("kpi,unit,period,period_start,period_end,segment,value,n,ci_low,ci_high,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3);
}

#[test]
fn html_report_is_one_escaped_page_with_a_chart_per_kpi() {
    let ws = init();
    let file = ws.path().join("responses.csv");
    // A touchpoint value that is markup: it must come out as text.
    std::fs::write(
        &file,
        "response_id,survey,score,responded_at,touchpoint\n\
         R1,nps,10,2024-04-02,<script>x</script>\nR2,nps,3,2024-05-03,web\nR3,csat,5,2024-05-04,web\n",
    )
    .unwrap();
    assert!(
        run(cxkpi(ws.path()).args(["import", "responses"]).arg(&file))
            .status
            .success()
    );
    let page = ws.path().join("report.html");
    let output = run(cxkpi(ws.path())
        .args([
            "report",
            "--from",
            "2024-04-01",
            "--to",
            "2024-06-01",
            "--grain",
            "month",
            "--by",
            "touchpoint",
        ])
        .args(["--format", "html", "--output"])
        .arg(&page));
    assert!(output.status.success(), "{}", stderr(&output));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(!html.contains("<script>"), "unescaped user text");
    assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
    // One chart per KPI with data: nps and csat.
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("Net Promoter Score") && html.contains("(csat)"));
    // No other resources: a self-contained page.
    assert!(!html.contains("src=") && !html.contains("<link"));
    // --output is for html only.
    let output = run(cxkpi(ws.path()).args(["report", "--output"]).arg(&page));
    assert_eq!(output.status.code(), Some(2));
}

/// A file of this checkout, found at run time (`CARGO_MANIFEST_DIR` is set by
/// `cargo test`), so a test binary shared by two checkouts reads its own one.
fn repo_file(relative: &str) -> std::path::PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    std::path::Path::new(&manifest).join("../..").join(relative)
}

#[test]
fn sentiment_scores_each_line_of_stdin_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_with_stdin(
        cxkpi(dir.path()).args(["sentiment", "--format", "json"]),
        "The book was good.\r\nPoor direction.\n",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let rows = json["rows"].as_array().unwrap();
    // vaderSentiment 3.3.2: {'neg': 0.0, 'neu': 0.508, 'pos': 0.492, 'compound': 0.4404}
    // and {'neg': 0.756, 'neu': 0.244, 'pos': 0.0, 'compound': -0.4767}.
    assert_eq!(rows[0]["text"], "The book was good.");
    assert_eq!(
        (&rows[0]["neu"], &rows[0]["pos"], &rows[0]["compound"]),
        (
            &serde_json::json!(0.508),
            &serde_json::json!(0.492),
            &serde_json::json!(0.4404)
        )
    );
    assert_eq!(
        (&rows[1]["neg"], &rows[1]["compound"]),
        (&serde_json::json!(0.756), &serde_json::json!(-0.4767))
    );

    let file = dir.path().join("comments.txt");
    std::fs::write(&file, "Meh.\n").unwrap();
    let output = run(cxkpi(dir.path()).args(["sentiment", file.to_str().unwrap()]));
    assert_eq!(
        stdout(&output),
        "text,neg,neu,pos,compound\nMeh.,1,0,0,-0.0772\n"
    );
}

/// Health as of 2024-06-01 (UTC) from usage alone, so each score is the activity
/// component: K1 used 1 day before (100), K2 31 days before (100 * 29 / 53 =
/// 54.717), K3 2 days before (100), K4 52 days before (100 * 8 / 53 = 15.094), K5
/// nothing (no score). K1 and K2 churn within 90 days.
#[test]
fn health_lists_scores_and_backtests_them() {
    let dir = init();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let customers = write(
        "customers.csv",
        "customer_id,acquired_at,churned_at\nK1,2024-01-01,2024-07-01\nK2,2024-01-01,2024-06-15\n\
         K3,2024-01-01,\nK4,2024-01-01,\nK5,2024-01-01,\n",
    );
    let activity = write(
        "activity.csv",
        "event_id,customer_id,occurred_at,event\nE1,K1,2024-05-31,login\nE2,K2,2024-05-01,login\n\
         E3,K3,2024-05-30,login\nE4,K4,2024-04-10,login\n",
    );
    for (entity, file) in [("customers", &customers), ("activity", &activity)] {
        let output = run(cxkpi(dir.path()).args(["import", entity, file]));
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let output = run(cxkpi(dir.path()).args([
        "health",
        "--as-of",
        "2024-06-01",
        "--format",
        "json",
        "--band",
        "yellow",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let rows = json["rows"].as_array().unwrap();
    // Yellow (40 <= score < 70): K2 alone.
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["customer_id"], "K2");
    assert!((rows[0]["score"].as_f64().unwrap() - 2900.0 / 53.0).abs() < 1e-9);
    assert_eq!(
        rows[0]["components"]["satisfaction"],
        serde_json::Value::Null
    );

    // Risk = 100 - score: churners 0 (K1) and 45.28 (K2), stayers 0 (K3), 84.91 (K4).
    // Pairs: K1-K3 tie (0.5), K1-K4 0, K2-K3 1, K2-K4 0: AUC 1.5 / 4 = 0.375.
    let output = run(cxkpi(dir.path()).args([
        "health",
        "--as-of",
        "2024-06-01",
        "--backtest",
        "90d",
        "--format",
        "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (json["n"].as_u64(), json["churned"].as_u64()),
        (Some(4), Some(2))
    );
    assert_eq!(json["auc"].as_f64(), Some(0.375));
}

/// Survival as of 2024-01-31 (UTC), in days. Region a: churned after 1 and 3 days, one
/// censored at 30; region b: churned after 2 days, one censored at 30; one customer
/// won after the as-of date is left out.
#[test]
fn survival_by_segment_with_log_rank() {
    let dir = init();
    let path = dir.path().join("customers.csv");
    std::fs::write(
        &path,
        "customer_id,acquired_at,churned_at,region\nS1,2024-01-01,2024-01-02,a\n\
         S2,2024-01-01,2024-01-04,a\nS3,2024-01-01,,a\nS4,2024-01-01,2024-01-03,b\n\
         S5,2024-01-01,,b\nS6,2024-02-10,,b\n",
    )
    .unwrap();
    let output = run(cxkpi(dir.path()).args(["import", "customers", path.to_str().unwrap()]));
    assert!(output.status.success(), "{}", stderr(&output));
    let survival = |extra: &[&str]| {
        let mut args = vec![
            "survival",
            "--as-of",
            "2024-01-31",
            "--unit",
            "days",
            "--format",
            "json",
        ];
        args.extend(extra);
        let output = run(cxkpi(dir.path()).args(&args));
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_str::<serde_json::Value>(&stdout(&output)).unwrap()
    };
    // All five: S = 0.8 at 1, 0.6 at 2, 0.4 at 3: median 3. RMST to 30:
    // 1 + 0.8 + 0.6 + 0.4 * 27 = 13.2.
    let all = survival(&[]);
    let s = &all["segments"][0];
    assert_eq!((s["n"].as_u64(), s["events"].as_u64()), (Some(5), Some(3)));
    assert_eq!(s["median"].as_f64(), Some(3.0));
    assert!((s["rmst"].as_f64().unwrap() - 13.2).abs() < 1e-9);
    assert!((s["table"][1]["survival"].as_f64().unwrap() - 0.6).abs() < 1e-12);
    assert_eq!(all["logrank"], serde_json::Value::Null);

    // Log-rank, a against b: (O - E) of a = 0.4 - 0.5 + 1/3 at t = 1, 2, 3;
    // variance 0.24 + 0.25 + 2/9; chi-square (7/30)^2 / 0.712222 = 0.076443.
    let by = survival(&["--by", "region"]);
    let chi2 = by["logrank"]["chi2"].as_f64().unwrap();
    let expected = (7.0f64 / 30.0).powi(2) / (0.24 + 0.25 + 2.0 / 9.0);
    assert!((chi2 - expected).abs() < 1e-12, "{chi2}");
    assert_eq!(by["logrank"]["df"].as_u64(), Some(1));
    assert_eq!(by["segments"][1]["segment"], "b");
    assert_eq!(by["segments"][1]["n"].as_u64(), Some(2));
}

/// `clv fit` end to end on the CDNOW sample imported as orders: the published BG/NBD
/// and Gamma-Gamma parameters (see crates/core/tests/clv.rs), and customer 1's 1.226
/// expected purchases in the 39-week holdout from `clv predict`.
#[test]
fn clv_fit_and_predict_on_cdnow() {
    let dir = init();
    let sample =
        std::fs::read_to_string(repo_file("crates/core/tests/data/CDNOW_sample.txt")).unwrap();
    let mut orders = String::from("order_id,customer_id,ordered_at,amount\n");
    for (i, line) in sample.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let d = f[2];
        orders.push_str(&format!(
            "O{i},{},{}-{}-{},{}\n",
            f[1],
            &d[..4],
            &d[4..6],
            &d[6..],
            f[4]
        ));
    }
    let path = dir.path().join("orders.csv");
    std::fs::write(&path, orders).unwrap();
    let output = run(cxkpi(dir.path()).args(["import", "orders", path.to_str().unwrap()]));
    assert!(output.status.success(), "{}", stderr(&output));

    let output = run(cxkpi(dir.path()).args([
        "clv",
        "fit",
        "--calibration-end",
        "1997-09-30",
        "--format",
        "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let fit: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let round = |v: &serde_json::Value, digits: i32| {
        let scale = 10f64.powi(digits);
        (v.as_f64().unwrap() * scale).round() / scale
    };
    let bg = &fit["bgnbd"];
    assert_eq!(
        (
            round(&bg["r"], 3),
            round(&bg["alpha"], 3),
            round(&bg["a"], 3),
            round(&bg["b"], 3)
        ),
        (0.243, 4.414, 0.793, 2.426)
    );
    assert_eq!(round(&bg["log_likelihood"], 1), -9582.4);
    let gg = &fit["gamma_gamma"];
    assert_eq!(
        (round(&gg["p"], 2), round(&gg["q"], 2), round(&gg["v"], 2)),
        (6.25, 3.74, 15.44)
    );
    assert_eq!(
        (fit["n_customers"].as_u64(), fit["n_repeat"].as_u64()),
        (Some(2357), Some(946))
    );

    let output =
        run(cxkpi(dir.path()).args(["clv", "predict", "--horizon", "39w", "--format", "json"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let predict: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let rows = predict["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2357);
    let one = rows.iter().find(|r| r["customer_id"] == "0001").unwrap();
    assert_eq!(one["frequency"].as_u64(), Some(2));
    assert_eq!(round(&one["expected_purchases"], 3), 1.226);
}

/// Drivers of NPS in June 2024 (UTC): six customers answered NPS 10, 9, 3, 8, 2, 6 and
/// CSAT 5, 5, 2, 4, 1, 3; no other predictor has data, so CSAT alone explains R² =
/// r² = 0.97515625 (numpy's corrcoef squared). The change against May by region:
/// May a = C1 10, C2 3 (NPS 0), b = C4 9 (100), overall 33.33; June a = 10, 9, 3
/// (33.33), b = 8, 2, 6 (-66.67), overall -16.67. Change -50 = mix (0.5 - 2/3) * 0 +
/// (0.5 - 1/3) * 100 = 16.67 plus rate 0.5 * 33.33 + 0.5 * (-166.67) = -66.67.
#[test]
fn drivers_of_nps_and_the_change_by_segment() {
    let dir = init();
    let write_import = |entity: &str, text: &str| import_csv(dir.path(), entity, text);
    write_import(
        "customers",
        "customer_id,acquired_at,region\nC1,2024-01-01,a\nC2,2024-01-01,a\nC3,2024-01-01,a\n\
         C4,2024-01-01,b\nC5,2024-01-01,b\nC6,2024-01-01,b\n",
    );
    let mut responses = String::from("response_id,customer_id,survey,score,responded_at\n");
    for (i, (c, nps, csat)) in [
        ("C1", 10, 5),
        ("C2", 9, 5),
        ("C3", 3, 2),
        ("C4", 8, 4),
        ("C5", 2, 1),
        ("C6", 6, 3),
    ]
    .iter()
    .enumerate()
    {
        responses.push_str(&format!(
            "N{i},{c},nps,{nps},2024-06-10\nS{i},{c},csat,{csat},2024-06-11\n"
        ));
    }
    responses.push_str("M1,C1,nps,10,2024-05-10\nM2,C2,nps,3,2024-05-10\nM4,C4,nps,9,2024-05-10\n");
    write_import("responses", &responses);

    let output = run(cxkpi(dir.path()).args([
        "drivers", "nps", "--period", "2024-06", "--by", "region", "--format", "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (report["respondents"].as_u64(), report["n"].as_u64()),
        (Some(6), Some(6))
    );
    assert!((report["r2"].as_f64().unwrap() - 0.97515625).abs() < 1e-9);
    // One predictor over six answers: adjusted 1 - (1 - R²) * 5 / 4; F = 157, so the
    // shares stand without a warning.
    assert!((report["r2_adjusted"].as_f64().unwrap() - 0.9689453125).abs() < 1e-9);
    assert!(report["r2_p_value"].as_f64().unwrap() < 0.001);
    assert!(report["warning"].is_null());
    assert_eq!(report["drivers"].as_array().unwrap().len(), 1);
    assert_eq!(report["drivers"][0]["predictor"], "csat");
    let change = &report["change"];
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-9;
    assert!(close(&change["total"], -50.0), "{change}");
    assert!(close(&change["mix"], 50.0 / 3.0));
    assert!(close(&change["rate"], -200.0 / 3.0));
}

/// Churn on a synthetic base: 200 customers won 2023-01-01; even ones use the product
/// every 10 days throughout, odd ones stopped in June 2023. Customers i % 4 == 1 churn
/// on 2024-02-15, i % 4 == 3 on 2024-05-15. As of 2024-07-01 with a 90-day horizon the
/// model trains at 2024-04-02 (labels: the i % 4 == 3 churn) and validates by
/// training at 2024-01-03 (labels: the i % 4 == 1 churn) and testing at 2024-04-02:
/// every churner tested is inactive and every inactive one churns, so AUC = 1. At
/// 2024-04-02 the odd customers' last login (2023-05-21, their 15th) is 317 days old.
#[test]
fn churn_train_validates_in_time_and_scores() {
    let dir = init();
    let write_import = |entity: &str, text: &str| import_csv(dir.path(), entity, text);
    let mut customers = String::from("customer_id,acquired_at,churned_at,plan\n");
    let mut activity = String::from("event_id,customer_id,occurred_at,event\n");
    let start = jiff::civil::Date::constant(2023, 1, 1);
    for i in 0..200 {
        let churned = match i % 4 {
            1 => "2024-02-15",
            3 => "2024-05-15",
            _ => "",
        };
        customers.push_str(&format!(
            "K{i:03},2023-01-01,{churned},{}\n",
            ["a", "b"][i % 2]
        ));
        let last = if i % 2 == 0 { 54 } else { 15 };
        for k in 0..last {
            let day = start.checked_add(jiff::Span::new().days(10 * k)).unwrap();
            activity.push_str(&format!("E{i}-{k},K{i:03},{day},login\n"));
        }
    }
    write_import("customers", &customers);
    write_import("activity", &activity);
    let output = run(cxkpi(dir.path()).args([
        "churn",
        "train",
        "--as-of",
        "2024-07-01",
        "--horizon",
        "90d",
        "--format",
        "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    // Active at 2024-04-02: all but the 50 who churned in February.
    assert_eq!(report["train"]["n"].as_u64(), Some(150));
    assert_eq!(report["train"]["churned"].as_u64(), Some(50));
    let validation = &report["validation"];
    assert_eq!(
        (validation["n"].as_u64(), validation["churned"].as_u64()),
        (Some(150), Some(50))
    );
    assert_eq!(validation["auc"].as_f64(), Some(1.0));

    // Scoring at 2024-04-02: the inactive (odd) customers are the riskiest.
    let output = run(cxkpi(dir.path()).args([
        "churn",
        "score",
        "--as-of",
        "2024-04-02",
        "--top",
        "50",
        "--format",
        "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let scores: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let rows = scores["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 50);
    for row in rows {
        let id = row["customer_id"].as_str().unwrap();
        let i: usize = id[1..].parse().unwrap();
        assert_eq!(i % 4, 3, "{id}");
    }
    // Inactivity raises their risk (plan b, which only odd customers have, shares it).
    let factors = rows[0]["top_factors"].as_array().unwrap();
    assert!(
        factors.iter().any(|f| f == "days_since_activity = 317.0"),
        "{factors:?}"
    );
}

/// The churn model on a plain customer table: IBM's Telco customer-churn sample
/// (7,043 customers, 1,869 churned; see `tests/data/telco_churn.md`), 5-fold
/// cross-validated with row i in fold i % 5. `tests/data/telco_reference.py` rebuilt
/// the same model with scikit-learn (its fold AUCs must agree to 1e-6) and tuned two
/// baselines, logistic regression and gradient boosting: the mean fold AUC must come
/// within 0.005 of the better of them.
#[test]
fn churn_table_matches_scikit_learn_on_telco() {
    let dir = tempfile::tempdir().unwrap();
    let file = repo_file("crates/cli/tests/data/telco_churn.csv");
    let output = run(cxkpi(dir.path()).args([
        "churn",
        "table",
        file.to_str().unwrap(),
        "--label",
        "Churn",
        "--id",
        "customerID",
        "--format",
        "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let ours: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("crates/cli/tests/data/telco_reference.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(ours["rows"], reference["rows"]);
    assert_eq!(ours["churned"], reference["churned"]);
    assert_eq!(ours["numeric"], reference["numeric"]);
    assert_eq!(ours["categorical"], reference["categorical"]);
    let folds = ours["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 5);
    for (fold, want) in folds.iter().zip(reference["folds"].as_array().unwrap()) {
        assert_eq!(
            (&fold["n"], &fold["churned"]),
            (&want["n"], &want["churned"])
        );
        let (auc, same) = (
            fold["auc"].as_f64().unwrap(),
            want["same_model"].as_f64().unwrap(),
        );
        assert!(
            (auc - same).abs() < 1e-6,
            "fold {}: {auc} vs {same}",
            want["fold"]
        );
    }
    let mean = ours["mean_auc"].as_f64().unwrap();
    let best = ["tuned_logistic", "tuned_boosting"]
        .iter()
        .map(|m| reference["mean"][m].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert!(
        mean >= best - 0.005,
        "mean AUC {mean} vs the tuned baselines' {best}"
    );

    // A flag that is not a boolean names the file, line, column and value.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,plan,churned\nA,basic,yes\nB,pro,maybe\n").unwrap();
    let output = run(cxkpi(dir.path()).args([
        "churn",
        "table",
        bad.to_str().unwrap(),
        "--label",
        "churned",
    ]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("bad.csv:3: column 3 (`churned`): `maybe`"),
        "{message}"
    );
}

/// Themes in June 2024: two negative comments mention the price (VADER compound
/// -0.4585 for "Price went up again, not happy."), one positive praises support
/// (0.7644); "price" is the most frequent and most distinctive negative term.
#[test]
fn themes_of_negative_comments() {
    let dir = init();
    let path = dir.path().join("responses.csv");
    std::fs::write(
        &path,
        "response_id,customer_id,survey,score,responded_at,touchpoint,comment\n\
         R1,C1,nps,2,2024-06-03,relationship,\"Price went up again, not happy.\"\n\
         R2,C2,nps,3,2024-06-04,relationship,\"Price went up again, not happy.\"\n\
         R3,C3,nps,10,2024-06-05,relationship,\"Support answered within minutes, fantastic!\"\n\
         R4,C4,nps,9,2024-05-05,relationship,\"Price went up again, not happy.\"\n",
    )
    .unwrap();
    let output = run(cxkpi(dir.path()).args(["import", "responses", path.to_str().unwrap()]));
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(cxkpi(dir.path()).args([
        "themes",
        "--period",
        "2024-06",
        "--by",
        "touchpoint",
        "--format",
        "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let row = &json["rows"][0];
    assert_eq!(row["segment"], "relationship");
    // May's comment is outside the period.
    assert_eq!(
        (
            row["negative_comments"].as_u64(),
            row["positive_comments"].as_u64()
        ),
        (Some(2), Some(1))
    );
    // Terms of "price went up again, not happy" ("up" and "again" are stop words):
    // price, went, not, happy, "price went", "went not", "not happy", each in both
    // negative comments.
    let frequent: Vec<&str> = row["frequent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_str().unwrap())
        .collect();
    assert!(frequent.contains(&"price"), "{frequent:?}");
    assert!(
        row["frequent"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["negative"] == 2)
    );
    assert!(!frequent.contains(&"support"));
}
