//! Issue 15: the store never loses data to a damaged manifest or a lost part, and bad
//! input fails loudly instead of silently (exact JSON numbers, stray quotes, endless
//! records, rows that are all rejected, a compaction that fails after a commit).

mod common;

use std::path::Path;

use cxkpi_core::entity::Entity;
use cxkpi_store::{ImportOptions, Input, NoProgress, StoreError};

fn part_files(ws: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for entity in Entity::ALL {
        if let Ok(entries) = std::fs::read_dir(ws.join("store").join(entity.name())) {
            for e in entries {
                files.push(format!(
                    "{}/{}",
                    entity.name(),
                    e.unwrap().file_name().to_string_lossy()
                ));
            }
        }
    }
    files.sort();
    files
}

fn orders(first: usize, n: usize, amount: &str) -> String {
    let mut s = String::from("order_id,customer_id,ordered_at,amount,region\n");
    for i in first..first + n {
        s.push_str(&format!(
            "O{i},C{},2024-01-{:02}T10:00:00Z,{amount},r{}\n",
            i % 7,
            1 + i % 28,
            i % 3
        ));
    }
    s
}

/// A store whose orders went through replacements and a compaction, so that retired
/// files (superseded, inside their grace period) are on disk beside the live ones.
fn store_with_history() -> (common::Workspace, String) {
    let ws = common::workspace("UTC");
    let a = ws.file("a.csv", orders(0, 100, "10.00"));
    let b = ws.file("b.csv", orders(50, 100, "20.00"));
    let c = ws.file("c.csv", orders(140, 20, "30.00"));
    ws.import(Entity::Orders, &[&a]);
    ws.import(Entity::Orders, &[&b]);
    ws.import(Entity::Orders, &[&c]);
    let customers = ws.file(
        "customers.csv",
        "customer_id,acquired_at,plan\nC1,2023-01-01,pro\nC2,2023-02-01,basic\n",
    );
    ws.import(Entity::Customers, &[&customers]);
    let export = ws.export(Entity::Orders);
    // O0-O49 at 10, O50-O139 at 20, O140-O159 at 30.
    assert_eq!(export.lines().count(), 1 + 160);
    (ws, export)
}

fn sorted(csv: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = csv.lines().collect();
    lines[1..].sort_unstable();
    lines
}

#[test]
fn a_damaged_manifest_deletes_nothing_and_repair_rebuilds_it() {
    for damage in ["deleted", "truncated", "garbage", "empty"] {
        let (ws, export) = store_with_history();
        let manifest = ws.path().join("store/manifest.json");
        let text = std::fs::read_to_string(&manifest).unwrap();
        match damage {
            "deleted" => std::fs::remove_file(&manifest).unwrap(),
            "truncated" => std::fs::write(&manifest, &text[..text.len() / 2]).unwrap(),
            "garbage" => std::fs::write(&manifest, b"\x00\xffnot json at all").unwrap(),
            _ => std::fs::write(&manifest, b"").unwrap(),
        }
        let files = part_files(ws.path());
        assert!(files.len() > 2, "{files:?}");
        // Every write, including an import that is then refused, fails with the hint.
        let spend = ws.file("spend.csv", "");
        let more = ws.file("more.csv", orders(500, 10, "5.00"));
        let errors = [
            ws.try_import(Entity::Spend, &spend).unwrap_err(),
            ws.try_import(Entity::Orders, &more).unwrap_err(),
            ws.store.compact().unwrap_err(),
            ws.store.snapshot().unwrap_err(),
        ];
        for err in errors {
            assert!(matches!(err, StoreError::Damaged { .. }), "{damage}: {err}");
            let message = err.to_string();
            assert!(
                message.contains("manifest.json") && message.contains("cxkpi repair"),
                "{damage}: {message}"
            );
        }
        assert_eq!(part_files(ws.path()), files, "{damage}: a file was deleted");
        assert!(!ws.store.diagnose().unwrap().is_healthy());

        let plan = ws.store.plan_repair().unwrap().expect("needs a repair");
        assert!(plan.rebuilt);
        let orders_plan = plan
            .tables
            .iter()
            .find(|t| t.entity == Entity::Orders)
            .unwrap();
        assert_eq!(orders_plan.rows, 160, "{plan:?}");
        assert!(!orders_plan.superseded.is_empty(), "{plan:?}");
        ws.store.repair(&plan).unwrap();
        assert!(ws.store.diagnose().unwrap().is_healthy());
        assert_eq!(
            sorted(&ws.export(Entity::Orders)),
            sorted(&export),
            "{damage}"
        );
        let snapshot = ws.store.snapshot().unwrap();
        assert_eq!(snapshot.table(Entity::Customers).rows, 2);
        assert_eq!(snapshot.table(Entity::Orders).dimensions, ["region"]);
        // The store works again: an upsert replaces rows and keeps the others.
        ws.import(Entity::Orders, &[&more]);
        assert_eq!(ws.store.snapshot().unwrap().table(Entity::Orders).rows, 170);
    }
}

#[test]
fn the_previous_manifest_is_kept() {
    let (ws, _) = store_with_history();
    let prev: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("store/manifest.json.prev")).unwrap(),
    )
    .unwrap();
    let current: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("store/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        prev["version"].as_u64().unwrap() + 1,
        current["version"].as_u64().unwrap()
    );
    // The last change imported the customers: the previous manifest has none.
    assert!(prev["tables"].get("customers").is_none());
    assert!(current["tables"].get("customers").is_some());
}

#[test]
fn a_missing_or_short_part_file_is_an_error_not_an_empty_table() {
    let (ws, _) = store_with_history();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("store/manifest.json")).unwrap(),
    )
    .unwrap();
    let part = manifest["tables"]["customers"]["parts"][0]["file"]
        .as_str()
        .unwrap()
        .to_string();
    let path = ws.path().join("store").join(&part);
    let bytes = std::fs::read(&path).unwrap();
    // Another table's part under this name: a file with the wrong row count.
    let other = manifest["tables"]["orders"]["parts"][0]["file"]
        .as_str()
        .unwrap();
    std::fs::copy(ws.path().join("store").join(other), &path).unwrap();
    let err = ws.store.snapshot().unwrap_err();
    assert!(
        err.to_string().contains(&part) && err.to_string().contains("the manifest says 2"),
        "{err}"
    );
    std::fs::remove_file(&path).unwrap();
    let err = ws.store.snapshot().unwrap_err();
    assert!(
        matches!(&err, StoreError::Damaged { problem } if problem.contains(&part) && problem.contains("missing")),
        "{err}"
    );
    // Repair drops the lost part (and says so); putting the file back is better.
    let plan = ws.store.plan_repair().unwrap().unwrap();
    assert!(!plan.rebuilt);
    let customers = plan
        .tables
        .iter()
        .find(|t| t.entity == Entity::Customers)
        .unwrap();
    assert_eq!(customers.dropped.len(), 1);
    assert_eq!(customers.dropped[0].1, 2);
    std::fs::write(&path, bytes).unwrap();
    assert!(ws.store.plan_repair().unwrap().is_none());
    assert_eq!(
        ws.store.snapshot().unwrap().table(Entity::Customers).rows,
        2
    );
}

/// JSON numbers are read as written: two 24-digit ids stay two orders, a 40-digit
/// dimension keeps its digits, a rejected value is quoted as it was in the input, and
/// the text goes through the CSV grammar (no exponents).
#[test]
fn ndjson_numbers_keep_their_digits() {
    let ws = common::workspace("UTC");
    let file = ws.file(
        "orders.ndjson",
        "{\"order_id\":123456789012345678901234,\"customer_id\":\"C1\",\"ordered_at\":\"2024-01-01\",\"amount\":1.10,\"sku\":1234567890123456789012345678901234567890}\n\
         {\"order_id\":123456789012345678901235,\"customer_id\":\"C1\",\"ordered_at\":\"2024-01-01\",\"amount\":20,\"sku\":-0.000000000000000000001}\n\
         {\"order_id\":3,\"customer_id\":\"C1\",\"ordered_at\":\"2024-01-01\",\"amount\":2e1}\n",
    );
    let summary = ws.import(Entity::Orders, &[&file]);
    assert_eq!((summary.new, summary.rejected), (2, 1));
    let rejects = common::rejects(&summary);
    assert_eq!((rejects[0].1, rejects[0].3.as_str()), (3, "2e1"));
    assert_eq!(
        ws.export(Entity::Orders),
        "order_id,customer_id,ordered_at,amount,promised_at,delivered_at,accurate,sku\n\
         123456789012345678901234,C1,2024-01-01T00:00:00Z,1.1,,,,1234567890123456789012345678901234567890\n\
         123456789012345678901235,C1,2024-01-01T00:00:00Z,20.0,,,,-0.000000000000000000001\n"
    );
    let bad = ws.file(
        "tickets.ndjson",
        "{\"ticket_id\":\"T1\",\"created_at\":\"2024-01-01\",\"replies\":99999999999999999999}\n",
    );
    let summary = ws.import(Entity::Tickets, &[&bad]);
    let rejects = common::rejects(&summary);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].2, "replies");
    assert_eq!(rejects[0].3, "99999999999999999999");
}

#[test]
fn ndjson_with_a_byte_order_mark_keeps_its_first_row() {
    let ws = common::workspace("UTC");
    let file = ws.file(
        "a.ndjson",
        "\u{feff}{\"event_id\":\"E1\",\"customer_id\":\"C1\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\"}\n\
         {\"event_id\":\"E2\",\"customer_id\":\"C1\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\"}\n",
    );
    let summary = ws.import(Entity::Activity, &[&file]);
    assert_eq!((summary.new, summary.rejected), (2, 0));
}

/// 2,000 lines that each add a key: one part file, not one per new key.
#[test]
fn ndjson_keys_added_line_by_line_stay_in_one_part() {
    let ws = common::workspace("UTC");
    let mut text = String::new();
    for i in 0..2_000 {
        text.push_str(&format!(
            "{{\"event_id\":\"E{i}\",\"customer_id\":\"C1\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\",\"k{i}\":\"v{i}\"}}\n"
        ));
    }
    let file = ws.file("wide.ndjson", text);
    let summary = ws.import(Entity::Activity, &[&file]);
    assert_eq!(summary.new, 2_000);
    let table = ws.store.snapshot().unwrap().table(Entity::Activity);
    assert_eq!(table.parts, 1);
    assert_eq!(table.dimensions.len(), 2_000);
    assert_eq!(table.dimensions[1_999], "k1999");
    let export = ws.export(Entity::Activity);
    let last = export.lines().last().unwrap();
    assert!(
        last.starts_with("E1999,") && last.ends_with(",v1999"),
        "{last}"
    );
    assert_eq!(last.matches(',').count(), 4 + 2_000);
}

/// A stray quote on line 101 of 501 swallowed the 400 rows after it into one record;
/// the import stored the 99 before it and said it succeeded.
#[test]
fn an_unbalanced_quote_abandons_the_import_and_names_the_lines() {
    let ws = common::workspace("UTC");
    let mut text = orders(0, 500, "1.00");
    let line_101 = text.lines().nth(100).unwrap().to_string();
    text = text.replacen(&line_101, &line_101.replacen(",C", ",\"C", 1), 1);
    let file = ws.file("orders.csv", text);
    let err = ws.try_import(Entity::Orders, &file).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Unreadable { .. }), "{message}");
    assert!(
        message.contains("line 101") && message.contains("lines 101-501"),
        "{message}"
    );
    assert_eq!(ws.store.snapshot().unwrap().table(Entity::Orders).rows, 0);
    // What the failed import wrote is gone with it.
    assert_eq!(part_files(ws.path()), Vec::<String>::new());
    assert_eq!(ws.store.diagnose().unwrap().pending, Vec::<u64>::new());
    // The same quote in the last column: the record has the right fields, but the
    // quote never closes before the end of the input.
    let mut text = orders(0, 500, "1.00");
    let line_101 = text.lines().nth(100).unwrap().to_string();
    text = text.replacen(&line_101, &line_101.replacen(",r", ",\"r", 1), 1);
    let file = ws.file("last.csv", text);
    let err = ws
        .try_import(Entity::Orders, &file)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("last.csv") && err.contains("line 101") && err.contains("never closed"),
        "{err}"
    );
    assert_eq!(ws.store.snapshot().unwrap().table(Entity::Orders).rows, 0);
    // A multi-line quoted field in a record with the right fields is fine, also last.
    let ok = ws.file(
        "ok.csv",
        "order_id,customer_id,ordered_at,amount,note\nO1,C1,2024-01-01,1,\"two\nlines\"\n\nO2,C1,2024-01-01,1,\"a \"\"quote\"\"\nthen\"\r\n",
    );
    assert_eq!(ws.import(Entity::Orders, &[&ok]).new, 2);
}

#[test]
fn a_record_longer_than_the_limit_is_an_error_naming_the_line() {
    let ws = common::workspace("UTC");
    let config = ws.path().join("cxkpi.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("max_record_mib = 64", "max_record_mib = 1"),
    )
    .unwrap();
    let store = cxkpi_store::Store::open(ws.path()).unwrap();
    let endless = "x".repeat(3 << 20);
    let import = |name: &str, content: String| {
        let path = ws.file(name, content);
        let result = store.import(
            Entity::Orders,
            &[Input::from_arg(path.to_str().unwrap(), None)],
            &ImportOptions::default(),
            &NoProgress,
        );
        // A header is refused (the summary says why); a later record abandons the
        // import.
        match result {
            Ok(summary) => {
                assert!(!summary.stored);
                let refused = summary.inputs[0].refused.clone().unwrap();
                format!("{}: {refused}", summary.inputs[0].name)
            }
            Err(e) => e.to_string(),
        }
    };
    let header = import("header.csv", endless.clone());
    assert!(
        header.contains("header.csv") && header.contains("line 1") && header.contains("1 MiB"),
        "{header}"
    );
    let row = import("row.csv", format!("{}{endless}", orders(0, 3, "1")));
    assert!(
        row.contains("row.csv") && row.contains("line 5") && row.contains("max_record_mib"),
        "{row}"
    );
    let json = import(
        "lines.ndjson",
        format!("{{\"order_id\":\"O1\"}}\n{{\"order_id\":\"{endless}"),
    );
    assert!(
        json.contains("lines.ndjson") && json.contains("line 2"),
        "{json}"
    );
}

#[test]
fn an_import_whose_rows_are_all_rejected_stores_nothing() {
    let ws = common::workspace("UTC");
    let file = ws.file(
        "orders.csv",
        "order_id,customer_id,ordered_at,amount\nO1,C1,1704067200,1\nO2,C1,1704067201,2\n",
    );
    let summary = ws.import(Entity::Orders, &[&file]);
    assert_eq!(summary.rejected, 2);
    assert!(!summary.stored);
    // Re-importing rows already stored is a success.
    let good = ws.file(
        "good.csv",
        "order_id,customer_id,ordered_at,amount\nO1,C1,2024-01-01,1\n",
    );
    assert!(ws.import(Entity::Orders, &[&good]).stored);
    let again = ws.import(Entity::Orders, &[&good]);
    assert!(again.stored && again.unchanged == 1);
}
