//! Import behaviour: formats, time zones, upsert, idempotency, compaction, snapshots.

mod common;

use std::io::Write;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray, TimestampSecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use cxkpi_core::entity::Entity;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Workspace time zone Europe/Berlin: UTC+1 in March 2024 (summer time starts 31 March).
/// - T1: created 09:30Z; first response 11:00+01:00 = 10:00Z; contacts default 1 + 0.
/// - T2: created naive 09:30 Berlin = 08:30Z; resolved bare date 2024-03-02 = Berlin
///   midnight = 2024-03-01T23:00Z; escalated YES; contacts default 1 + 2 = 3.
/// - T3: created bare date 2024-03-01 = 2024-02-29T23:00Z; replies 3.0 = 3; reopens
///   default 0; escalated 0 = false.
const TICKETS_CSV: &str = "\
ticket_id,customer_id,created_at,first_response_at,resolved_at,channel,replies,reopens,escalated,contacts,handle_seconds,Priority
T1,C1,2024-03-01T09:30:00Z,2024-03-01T11:00:00+01:00,,email,1,0,false,,120.5,high
T2,C2,2024-03-01 09:30:00,,2024-03-02,chat,,2,YES,,,
T3,,2024-03-01,2024-03-01T00:00:00.25Z,,phone,3.0,,0,4,,low
";

const TICKETS_EXPECTED: &str = "\
ticket_id,customer_id,created_at,first_response_at,resolved_at,channel,replies,reopens,escalated,contacts,handle_seconds,priority
T1,C1,2024-03-01T09:30:00Z,2024-03-01T10:00:00Z,,email,1,0,false,1,120.5,high
T2,C2,2024-03-01T08:30:00Z,,2024-03-01T23:00:00Z,chat,,2,true,3,,
T3,,2024-02-29T23:00:00Z,2024-03-01T00:00:00.250Z,,phone,3,0,false,4,,low
";

/// The same rows as NDJSON: JSON numbers and booleans, null, absent keys, key case.
const TICKETS_NDJSON: &str = r#"{"ticket_id":"T1","customer_id":"C1","created_at":"2024-03-01T09:30:00Z","first_response_at":"2024-03-01T11:00:00+01:00","channel":"email","replies":1,"reopens":0,"escalated":false,"handle_seconds":120.5,"PRIORITY":"high"}

{"ticket_id":"T2","customer_id":"C2","created_at":"2024-03-01 09:30:00","first_response_at":null,"resolved_at":"2024-03-02","channel":"chat","reopens":2,"escalated":"YES"}
{"Ticket_ID":"T3","created_at":"2024-03-01","first_response_at":"2024-03-01T00:00:00.25Z","channel":"phone","replies":3.0,"escalated":0,"contacts":4,"priority":"low"}
"#;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The tickets as Parquet with native types: a zoned timestamp, a naive one (read in
/// the workspace zone), integers, a boolean, a float.
fn tickets_parquet() -> Vec<u8> {
    let text = |v: &[Option<&str>]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
    let ints = |v: &[Option<i64>]| Arc::new(Int64Array::from(v.to_vec())) as ArrayRef;
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("ticket_id", text(&[Some("T1"), Some("T2"), Some("T3")])),
        ("customer_id", text(&[Some("C1"), Some("C2"), None])),
        (
            "created_at",
            text(&[
                Some("2024-03-01T09:30:00Z"),
                Some("2024-03-01 09:30:00"),
                Some("2024-03-01"),
            ]),
        ),
        (
            "first_response_at",
            // 2024-03-01T10:00:00Z and 2024-03-01T00:00:00.250Z in milliseconds.
            Arc::new(
                TimestampMillisecondArray::from(vec![
                    Some(1_709_287_200_000),
                    None,
                    Some(1_709_251_200_250),
                ])
                .with_timezone("UTC"),
            ),
        ),
        (
            "resolved_at",
            // Naive 2024-03-02T00:00:00: local midnight in Berlin.
            Arc::new(TimestampSecondArray::from(vec![
                None,
                Some(1_709_337_600),
                None,
            ])),
        ),
        (
            "channel",
            text(&[Some("email"), Some("chat"), Some("phone")]),
        ),
        ("replies", ints(&[Some(1), None, Some(3)])),
        ("reopens", ints(&[Some(0), Some(2), None])),
        (
            "escalated",
            Arc::new(BooleanArray::from(vec![
                Some(false),
                Some(true),
                Some(false),
            ])),
        ),
        ("contacts", ints(&[None, None, Some(4)])),
        (
            "handle_seconds",
            Arc::new(Float64Array::from(vec![Some(120.5), None, None])),
        ),
        ("Priority", text(&[Some("high"), None, Some("low")])),
    ];
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

#[test]
fn csv_with_offsets_naive_times_and_bare_dates() {
    let ws = common::workspace("Europe/Berlin");
    let file = ws.file("tickets.csv", TICKETS_CSV);
    let summary = ws.import(Entity::Tickets, &[&file]);
    assert_eq!((summary.read, summary.new, summary.rejected), (3, 3, 0));
    assert_eq!(ws.export(Entity::Tickets), TICKETS_EXPECTED);
}

#[test]
fn ndjson_parquet_and_gzip_give_the_same_table_as_csv() {
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("tickets.csv.gz", gzip(TICKETS_CSV.as_bytes())),
        ("tickets.ndjson", TICKETS_NDJSON.as_bytes().to_vec()),
        ("tickets.jsonl.gz", gzip(TICKETS_NDJSON.as_bytes())),
        ("tickets.parquet", tickets_parquet()),
    ];
    for (name, bytes) in inputs {
        let ws = common::workspace("Europe/Berlin");
        let file = ws.file(name, bytes);
        let summary = ws.import(Entity::Tickets, &[&file]);
        assert_eq!(
            (summary.read, summary.new, summary.rejected),
            (3, 3, 0),
            "{name}: {:?}",
            common::rejects(&summary)
        );
        assert_eq!(ws.export(Entity::Tickets), TICKETS_EXPECTED, "{name}");
    }
}

#[test]
fn parquet_dates_are_local_midnight() {
    let ws = common::workspace("America/New_York");
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("acquired_at", DataType::Date32, false),
        Field::new(
            "churned_at",
            DataType::Timestamp(TimeUnit::Second, Some("+02:00".into())),
            true,
        ),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["C1"])),
            // 2024-01-15 (days since 1970-01-01).
            Arc::new(Date32Array::from(vec![19737])),
            // 2024-06-01T00:00:00Z.
            Arc::new(TimestampSecondArray::from(vec![Some(1_717_200_000)]).with_timezone("+02:00")),
        ],
    )
    .unwrap();
    let mut bytes = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut bytes, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let file = ws.file("customers.parquet", bytes);
    ws.import(Entity::Customers, &[&file]);
    // New York is UTC-5 in January: local midnight is 05:00Z.
    assert_eq!(
        ws.export(Entity::Customers),
        "customer_id,acquired_at,churned_at,acquisition_channel,campaign\n\
         C1,2024-01-15T05:00:00Z,2024-06-01T00:00:00Z,,\n"
    );
}

#[test]
fn time_zone_boundaries_and_daylight_saving() {
    let ws = common::workspace("Europe/Berlin");
    let file = ws.file(
        "c.csv",
        // C1: 02:30 on 31 March 2024 does not exist in Berlin: moved forward by the gap
        //     to 03:30 CEST = 01:30Z.
        // C2: 02:30 on 27 October 2024 happens twice: the first (CEST) = 00:30Z.
        // C3: 23:30Z is already the next day in Berlin; stored as the instant.
        "customer_id,acquired_at\nC1,2024-03-31T02:30:00\nC2,2024-10-27 02:30:00\nC3,2024-06-30T23:30:00Z\n",
    );
    ws.import(Entity::Customers, &[&file]);
    assert_eq!(
        ws.export(Entity::Customers),
        "customer_id,acquired_at,churned_at,acquisition_channel,campaign\n\
         C1,2024-03-31T01:30:00Z,,,\n\
         C2,2024-10-27T00:30:00Z,,,\n\
         C3,2024-06-30T23:30:00Z,,,\n"
    );
}

#[test]
fn header_case_column_order_and_dimensions() {
    let canonical = common::workspace("UTC");
    let a = canonical.file(
        "a.csv",
        "customer_id,acquired_at,churned_at,acquisition_channel,campaign,plan,region\n\
         C1,2024-01-01,,ads,spring,pro,eu\n",
    );
    canonical.import(Entity::Customers, &[&a]);

    let shuffled = common::workspace("UTC");
    let b = shuffled.file(
        "b.csv",
        " Region ,Plan,CAMPAIGN,Acquisition_Channel,Customer_Id,ACQUIRED_AT\neu,pro,spring,ads,C1,2024-01-01\n",
    );
    shuffled.import(Entity::Customers, &[&b]);
    let table = shuffled.store.snapshot().unwrap().table(Entity::Customers);
    assert_eq!(table.dimensions, vec!["region", "plan"]);
    // Same rows; dimension order follows first appearance.
    assert_eq!(
        shuffled.export(Entity::Customers),
        "customer_id,acquired_at,churned_at,acquisition_channel,campaign,region,plan\n\
         C1,2024-01-01T00:00:00Z,,ads,spring,eu,pro\n"
    );
    assert_eq!(
        canonical.export(Entity::Customers),
        "customer_id,acquired_at,churned_at,acquisition_channel,campaign,plan,region\n\
         C1,2024-01-01T00:00:00Z,,ads,spring,pro,eu\n"
    );
    // Re-importing the canonical file into the shuffled workspace changes nothing:
    // column order does not change a row's content.
    let summary = shuffled.import(
        Entity::Customers,
        &[&shuffled.file("a.csv", std::fs::read(&a).unwrap())],
    );
    assert_eq!(
        (summary.unchanged, summary.replaced, summary.new),
        (1, 0, 0)
    );
}

#[test]
fn quoted_multi_line_comments_and_line_numbers() {
    let ws = common::workspace("UTC");
    let file = ws.file(
        "r.csv",
        "response_id,customer_id,survey,score,responded_at,comment\n\
         R1,C1,nps,9,2024-01-01,\"Great service,\nreally \"\"great\"\"\"\n\
         R2,C1,nps,11,2024-01-02,\"two\nlines\"\n\
         R3,C2,csat,4,2024-01-03,\n",
    );
    let summary = ws.import(Entity::Responses, &[&file]);
    let rejects = common::rejects(&summary);
    // R2 starts on line 4 (R1 takes lines 2 and 3).
    assert_eq!(rejects.len(), 1);
    assert_eq!((rejects[0].1, rejects[0].2.as_str()), (4, "score"));
    let export = ws.export(Entity::Responses);
    assert!(
        export.contains("\"Great service,\nreally \"\"great\"\"\""),
        "{export}"
    );
}

#[test]
fn importing_the_same_files_twice_changes_nothing() {
    let ws = common::workspace("Europe/Berlin");
    let a = ws.file("tickets.csv", TICKETS_CSV);
    let b = ws.file(
        "more.ndjson",
        "{\"ticket_id\":\"T9\",\"created_at\":\"2024-05-01\"}\n",
    );
    let first = ws.import(Entity::Tickets, &[&a, &b]);
    assert_eq!((first.new, first.replaced, first.unchanged), (4, 0, 0));
    let version = ws.store.snapshot().unwrap().version();
    let table = ws.export(Entity::Tickets);

    let second = ws.import(Entity::Tickets, &[&a, &b]);
    assert_eq!(
        (
            second.read,
            second.new,
            second.replaced,
            second.unchanged,
            second.table_rows
        ),
        (4, 0, 0, 4, 4)
    );
    assert_eq!(ws.export(Entity::Tickets), table);
    // Nothing to store: the manifest did not move.
    assert_eq!(ws.store.snapshot().unwrap().version(), version);
}

#[test]
fn a_later_export_with_resolved_tickets_replaces_the_open_ones() {
    let ws = common::workspace("UTC");
    let header = "ticket_id,created_at,first_response_at,resolved_at,reopens\n";
    let monday = ws.file(
        "monday.csv",
        format!("{header}T1,2024-01-01T09:00:00Z,,,\nT2,2024-01-01T10:00:00Z,2024-01-01T10:05:00Z,,\nT3,2024-01-01T11:00:00Z,,2024-01-01T12:00:00Z,0\n"),
    );
    let tuesday = ws.file(
        "tuesday.csv",
        format!("{header}T1,2024-01-01T09:00:00Z,2024-01-01T09:30:00Z,2024-01-02T08:00:00Z,\nT2,2024-01-01T10:00:00Z,2024-01-01T10:05:00Z,2024-01-02T09:00:00Z,1\nT3,2024-01-01T11:00:00Z,,2024-01-01T12:00:00Z,0\nT4,2024-01-02T07:00:00Z,,,\n"),
    );
    ws.import(Entity::Tickets, &[&monday]);
    let summary = ws.import(Entity::Tickets, &[&tuesday]);
    assert_eq!(
        (
            summary.new,
            summary.replaced,
            summary.unchanged,
            summary.table_rows
        ),
        (1, 2, 1, 4)
    );
    let export = ws.export(Entity::Tickets);
    let rows: Vec<&str> = export.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{export}");
    // No id twice, and the resolved versions won.
    assert!(export.contains("T1,,2024-01-01T09:00:00Z,2024-01-01T09:30:00Z,2024-01-02T08:00:00Z,"));
    assert!(
        export.contains("T2,,2024-01-01T10:00:00Z,2024-01-01T10:05:00Z,2024-01-02T09:00:00Z,,,1,")
    );
    assert!(!export.contains("T1,,2024-01-01T09:00:00Z,,,"));
}

#[test]
fn snapshots_stay_readable_while_the_store_changes() {
    let ws = common::workspace("UTC");
    let a = ws.file(
        "a.csv",
        "customer_id,acquired_at\nC1,2024-01-01\nC2,2024-01-01\n",
    );
    ws.import(Entity::Customers, &[&a]);
    let before = ws.store.snapshot().unwrap();
    let b = ws.file(
        "b.csv",
        "customer_id,acquired_at\nC2,2024-02-02\nC3,2024-01-01\n",
    );
    ws.import(Entity::Customers, &[&b]);
    // The old snapshot still reads the old version (its replaced file is retired, not
    // deleted), the new one the new version.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut old = Vec::new();
    runtime
        .block_on(cxkpi_store::export(
            &before,
            Entity::Customers,
            cxkpi_store::ExportFormat::Csv,
            &mut old,
        ))
        .unwrap();
    let old = String::from_utf8(old).unwrap();
    assert!(
        old.contains("C2,2024-01-01T00:00:00Z") && !old.contains("C3"),
        "{old}"
    );
    let new = ws.export(Entity::Customers);
    assert!(
        new.contains("C2,2024-02-02T00:00:00Z") && new.contains("C3"),
        "{new}"
    );
    assert_eq!(new.lines().count(), 4);
}

#[test]
fn compaction_keeps_few_files_after_many_imports() {
    let ws = common::workspace("UTC");
    for i in 0..12 {
        let file = ws.file(
            &format!("batch{i}.csv"),
            format!("activity_id,event_id,customer_id,occurred_at,event\nx,E{i},C1,2024-01-01,login\nx,E{},C1,2024-01-01,login\n", i + 100),
        );
        let summary = ws.import(Entity::Activity, &[&file]);
        assert_eq!(summary.new, 2);
    }
    let table = ws.store.snapshot().unwrap().table(Entity::Activity);
    assert_eq!(table.rows, 24);
    assert!(table.parts <= 2, "{} parts after 12 imports", table.parts);
    // The live files are exactly the manifest's: retired ones are kept apart.
    let report = ws.store.compact().unwrap();
    let activity = report
        .iter()
        .find(|t| t.entity == Entity::Activity)
        .unwrap();
    assert_eq!((activity.rows, activity.parts_after), (24, 1));
    assert_eq!(ws.export(Entity::Activity).lines().count(), 25);
}

#[test]
fn new_dimensions_in_ndjson_start_new_columns() {
    let ws = common::workspace("UTC");
    let file = ws.file(
        "a.ndjson",
        "{\"event_id\":\"E1\",\"customer_id\":\"C1\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\"}\n\
         {\"event_id\":\"E2\",\"customer_id\":\"C1\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\",\"device\":\"ios\"}\n\
         {\"event_id\":\"E3\",\"customer_id\":\"C1\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\",\"_cxkpi_hash\":\"x\"}\n\
         {\"event_id\":\"E4\",\"customer_id\":\"C1\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\",\"meta\":{\"a\":1}}\n\
         not json\n",
    );
    let summary = ws.import(Entity::Activity, &[&file]);
    let rejects = common::rejects(&summary);
    let lines: Vec<(u64, &str)> = rejects.iter().map(|r| (r.1, r.4.as_str())).collect();
    assert_eq!(lines.len(), 3, "{rejects:?}");
    assert_eq!(lines[0], (3, "column name `_cxkpi_hash` is reserved"));
    assert_eq!(
        lines[1],
        (4, "column `meta`: nested JSON values are not supported")
    );
    assert_eq!(lines[2].0, 5);
    assert_eq!(
        ws.export(Entity::Activity),
        "event_id,customer_id,occurred_at,event,kind,device\n\
         E1,C1,2024-01-01T00:00:00Z,login,usage,\n\
         E2,C1,2024-01-01T00:00:00Z,login,usage,ios\n"
    );
}

#[test]
fn an_input_that_breaks_off_abandons_the_whole_import() {
    let ws = common::workspace("Europe/Berlin");
    let good = ws.file("good.csv", TICKETS_CSV);
    let mut bytes = gzip(TICKETS_CSV.repeat(2000).as_bytes());
    bytes.truncate(bytes.len() / 2);
    let truncated = ws.file("broken.csv.gz", bytes);
    let inputs: Vec<cxkpi_store::Input> = [&good, &truncated]
        .iter()
        .map(|f| cxkpi_store::Input::from_arg(f.to_str().unwrap(), None))
        .collect();
    let err = ws
        .store
        .import(
            Entity::Tickets,
            &inputs,
            &cxkpi_store::ImportOptions::default(),
            &cxkpi_store::NoProgress,
        )
        .unwrap_err();
    assert!(
        matches!(&err, cxkpi_store::StoreError::Unreadable { source_name, .. } if source_name.ends_with("broken.csv.gz")),
        "{err}"
    );
    // Not even the good file's rows were stored.
    assert_eq!(ws.store.snapshot().unwrap().table(Entity::Tickets).rows, 0);
}

#[test]
fn a_line_of_bad_utf8_rejects_only_that_line() {
    let ws = common::workspace("UTC");
    let mut bytes = b"{\"event_id\":\"E1\",\"customer_id\":\"C1\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\"}\n".to_vec();
    bytes.extend_from_slice(b"{\"event_id\":\"E2\",\"customer_id\":\"C\xff\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\"}\n");
    bytes.extend_from_slice(b"{\"event_id\":\"E3\",\"customer_id\":\"C3\",\"occurred_at\":\"2024-01-01\",\"event\":\"login\"}\n");
    let file = ws.file("a.ndjson", bytes);
    let summary = ws.import(Entity::Activity, &[&file]);
    let rejects = common::rejects(&summary);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].1, 2);
    assert!(rejects[0].4.starts_with("not valid JSON"), "{rejects:?}");
    assert_eq!(summary.new, 2);
}

/// Comments are scored on import (VADER compound, as vaderSentiment 3.3.2 gives it:
/// "The book was good." 0.4404, "Poor direction." -0.4767); no comment or white space
/// only leaves the score empty; an input column of the same name is ignored, so an
/// export imports back unchanged.
#[test]
fn comments_are_scored_on_import() {
    let ws = common::workspace("UTC");
    let file = ws.file(
        "responses.csv",
        "response_id,customer_id,survey,score,responded_at,comment,comment_sentiment\n\
         R1,C1,nps,9,2024-03-01,The book was good.,-1\n\
         R2,C1,nps,2,2024-03-02,Poor direction.,\n\
         R3,C2,nps,7,2024-03-03,\"  \",0.5\n\
         R4,C2,nps,7,2024-03-04,,\n",
    );
    let summary = ws.import(Entity::Responses, &[&file]);
    assert_eq!((summary.new, summary.rejected), (4, 0));
    let exported = ws.export(Entity::Responses);
    let lines: Vec<&str> = exported.lines().collect();
    assert_eq!(
        lines[0],
        "response_id,customer_id,survey,score,responded_at,touchpoint,comment,comment_sentiment"
    );
    assert!(
        lines[1].ends_with(",The book was good.,0.4404"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].ends_with(",Poor direction.,-0.4767"),
        "{}",
        lines[2]
    );
    assert!(lines[3].ends_with(",  ,"), "{}", lines[3]);
    assert!(lines[4].ends_with(",,"), "{}", lines[4]);
    // Importing the export again changes nothing.
    let again = ws.file("again.csv", &exported);
    let summary = ws.import(Entity::Responses, &[&again]);
    assert_eq!((summary.new, summary.unchanged), (0, 4));
}
