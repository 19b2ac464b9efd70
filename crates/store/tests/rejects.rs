//! One fixture per rejection rule of `shared/spec/data-model.md`: each imports a small
//! file with one bad row among good ones and asserts the line, column and reason
//! reported, and that the good rows were stored.

mod common;

use cxkpi_core::entity::Entity;

/// Imports `csv` as `entity` and asserts exactly one rejected row, at `line`, in
/// `column`, whose reason contains `reason`; the other rows are stored.
#[track_caller]
fn check(entity: Entity, csv: &str, line: u64, column: &str, reason: &str) {
    let ws = common::workspace("UTC");
    let file = ws.file("input.csv", csv);
    let summary = ws.import(entity, &[&file]);
    let rejects = common::rejects(&summary);
    assert_eq!(rejects.len(), 1, "rejects: {rejects:?}");
    let (source, got_line, got_column, _, got_reason) = &rejects[0];
    assert_eq!(source, "input.csv");
    assert_eq!(
        (*got_line, got_column.as_str()),
        (line, column),
        "reason: {got_reason}"
    );
    assert!(
        got_reason.contains(reason),
        "reason `{got_reason}` lacks `{reason}`"
    );
    let records = csv.lines().count() as u64 - 1;
    assert_eq!(summary.read, records);
    assert_eq!(summary.new, records - 1, "the good rows are stored");
    assert_eq!(summary.table_rows, records - 1);
}

const CUSTOMERS: &str = "customer_id,acquired_at,churned_at\n";

#[test]
fn required_value_missing() {
    check(
        Entity::Customers,
        &format!("{CUSTOMERS}C1,2024-01-01,\nC2,,\nC3,2024-01-02,\n"),
        3,
        "acquired_at",
        "required value is missing",
    );
}

#[test]
fn quoted_empty_is_missing() {
    check(
        Entity::Customers,
        &format!("{CUSTOMERS}C1,\"\",\nC2,2024-01-01,\"\"\n"),
        2,
        "acquired_at",
        "required value is missing",
    );
}

#[test]
fn cells_are_not_trimmed() {
    check(
        Entity::Customers,
        &format!("{CUSTOMERS}C1,2024-01-01,\nC2, 2024-01-01,\n"),
        3,
        "acquired_at",
        "not a timestamp",
    );
}

#[test]
fn timestamp_grammar() {
    for (bad, reason) in [
        ("2024-01-01T24:00:00", "hour must be 00 to 23"),
        ("2024-01-01T23:59:60", "second must be 00 to 59"),
        ("2024-01-01T10:00:00+0200", "not a timestamp"),
        ("20240101", "not a timestamp"),
        ("01/02/2024", "not a timestamp"),
        ("31-01-2024", "not a timestamp"),
        ("2024-01-01T10:00:00 Europe/Paris", "not a timestamp"),
        ("2024-02-30", "not a valid date"),
        ("2024-01-01T10:00:00.1234567891Z", "1 to 9 digits"),
    ] {
        check(
            Entity::Customers,
            &format!("{CUSTOMERS}C1,2024-01-01,\nC2,{bad},\n"),
            3,
            "acquired_at",
            reason,
        );
    }
}

#[test]
fn churned_before_acquired() {
    check(
        Entity::Customers,
        &format!("{CUSTOMERS}C1,2024-02-01,2024-01-31T23:59:59Z\nC2,2024-02-01,2024-02-01\n"),
        2,
        "churned_at",
        "must not be before acquired_at",
    );
}

#[test]
fn a_bad_optional_value_rejects_the_row() {
    check(
        Entity::Customers,
        &format!("{CUSTOMERS}C1,2024-02-01,soon\nC2,2024-02-01,\n"),
        2,
        "churned_at",
        "not a timestamp",
    );
}

const ORDERS: &str = "order_id,customer_id,ordered_at,amount,promised_at,delivered_at,accurate\n";

#[test]
fn negative_amount() {
    check(
        Entity::Orders,
        &format!("{ORDERS}O1,C1,2024-01-01,-0.01,,,\nO2,C1,2024-01-01,0,,,\n"),
        2,
        "amount",
        "must be >= 0",
    );
}

#[test]
fn number_grammar() {
    for bad in ["$10", "1,000", "1e3", "12 ", "ten"] {
        check(
            Entity::Orders,
            &format!("{ORDERS}O1,C1,2024-01-01,5.,,,\nO2,C1,2024-01-01,\"{bad}\",,,\n"),
            3,
            "amount",
            "not a number",
        );
    }
}

#[test]
fn delivered_before_ordered() {
    check(
        Entity::Orders,
        &format!("{ORDERS}O1,C1,2024-01-02,5,,2024-01-01,\nO2,C1,2024-01-02,5,,2024-01-02,\n"),
        2,
        "delivered_at",
        "must not be before ordered_at",
    );
}

#[test]
fn bad_boolean() {
    check(
        Entity::Orders,
        &format!("{ORDERS}O1,C1,2024-01-02,5,,,Y\nO2,C1,2024-01-02,5,,,perhaps\n"),
        3,
        "accurate",
        "not a boolean",
    );
}

#[test]
fn first_failing_column_is_reported() {
    // amount and delivered_at are both bad; amount comes first in the contract.
    check(
        Entity::Orders,
        &format!("{ORDERS}O1,C1,2024-01-02,-5,,2024-01-01,maybe\nO2,C1,2024-01-02,5,,,\n"),
        2,
        "amount",
        "must be >= 0",
    );
}

const SUBSCRIPTIONS: &str = "subscription_id,customer_id,started_at,ended_at,mrr\n";

#[test]
fn ended_not_after_started() {
    check(
        Entity::Subscriptions,
        &format!("{SUBSCRIPTIONS}S1,C1,2024-01-01,2024-01-01,10\nS2,C1,2024-01-01,,10\n"),
        2,
        "ended_at",
        "must be after started_at",
    );
}

#[test]
fn negative_mrr() {
    check(
        Entity::Subscriptions,
        &format!("{SUBSCRIPTIONS}S1,C1,2024-01-01,,-1\nS2,C1,2024-01-01,,10\n"),
        2,
        "mrr",
        "must be >= 0",
    );
}

const RESPONSES: &str = "response_id,customer_id,survey,score,responded_at\n";

#[test]
fn unknown_survey_and_case() {
    check(
        Entity::Responses,
        &format!("{RESPONSES}R1,,NPS,9,2024-01-01\nR2,,nps,9,2024-01-01\n"),
        2,
        "survey",
        "unknown survey",
    );
}

#[test]
fn score_outside_the_scale() {
    check(
        Entity::Responses,
        &format!("{RESPONSES}R1,,csat,6,2024-01-01\nR2,,csat,5,2024-01-01\nR3,,nps,0,2024-01-01\n"),
        2,
        "score",
        "a csat score must be a whole number from 1 to 5",
    );
}

#[test]
fn score_not_whole() {
    check(
        Entity::Responses,
        &format!("{RESPONSES}R1,,ces,8.0,2024-01-01\nR2,,ces,7.0,2024-01-01\n"),
        2,
        "score",
        "a ces score must be a whole number from 1 to 7",
    );
    check(
        Entity::Responses,
        &format!("{RESPONSES}R2,,ces,7.0,2024-01-01\nR3,,nps,7.5,2024-01-01\n"),
        3,
        "score",
        "a nps score must be a whole number from 0 to 10",
    );
}

const TICKETS: &str = "ticket_id,customer_id,created_at,first_response_at,resolved_at,channel,replies,reopens,escalated,contacts,handle_seconds\n";

#[test]
fn ticket_times_before_creation() {
    check(
        Entity::Tickets,
        &format!("{TICKETS}T1,,2024-01-02,2024-01-01,,,,,,,\nT2,,2024-01-02,,,,,,,,\n"),
        2,
        "first_response_at",
        "must not be before created_at",
    );
    check(
        Entity::Tickets,
        &format!("{TICKETS}T1,,2024-01-02,,2024-01-01T23:00:00Z,,,,,,\nT2,,2024-01-02,,,,,,,,\n"),
        2,
        "resolved_at",
        "must not be before created_at",
    );
}

#[test]
fn ticket_counts() {
    for (row, column, reason) in [
        ("T1,,2024-01-02,,,,-1,,,,", "replies", "must be >= 0"),
        ("T1,,2024-01-02,,,,,-1,,,", "reopens", "must be >= 0"),
        ("T1,,2024-01-02,,,,,,,0,", "contacts", "must be >= 1"),
        ("T1,,2024-01-02,,,,,,,,-5", "handle_seconds", "must be >= 0"),
        ("T1,,2024-01-02,,,,3.5,,,,", "replies", "not a whole number"),
        ("T1,,2024-01-02,,,,,,maybe,,", "escalated", "not a boolean"),
    ] {
        check(
            Entity::Tickets,
            &format!("{TICKETS}{row}\nT2,,2024-01-02,,,,3.0,1,no,2,60\n"),
            2,
            column,
            reason,
        );
    }
}

const SPEND: &str = "spend_id,channel,campaign,purpose,period_start,period_end,amount\n";

#[test]
fn spend_rules() {
    for (row, column, reason) in [
        (
            "M1,ads,,Retention,2024-01-01,2024-01-31,5",
            "purpose",
            "must be one of: acquisition, retention",
        ),
        (
            "M1,ads,,,2024-02-01,2024-01-31,5",
            "period_end",
            "must not be before period_start",
        ),
        (
            "M1,ads,,,2024-01-01,2024-01-31,-5",
            "amount",
            "must be >= 0",
        ),
        (
            "M1,,,,2024-01-01,2024-01-31,5",
            "channel",
            "required value is missing",
        ),
    ] {
        check(
            Entity::Spend,
            &format!("{SPEND}{row}\nM2,ads,,retention,2024-01-01,2024-01-01T10:00:00Z,5\n"),
            2,
            column,
            reason,
        );
    }
}

#[test]
fn pageviews_at_least_one() {
    check(
        Entity::Sessions,
        "session_id,visitor_id,customer_id,started_at,pageviews,converted\nW1,V1,,2024-01-01,0,\nW2,V1,,2024-01-01,1,\n",
        2,
        "pageviews",
        "must be >= 1",
    );
}

#[test]
fn referrer_required() {
    check(
        Entity::Referrals,
        "referral_id,referrer_id,referred_customer_id,referred_at\nR1,,C2,2024-01-01\nR2,C1,,2024-01-01\n",
        2,
        "referrer_id",
        "required value is missing",
    );
}

#[test]
fn activity_kind() {
    check(
        Entity::Activity,
        "event_id,customer_id,occurred_at,event,kind\nE1,C1,2024-01-01,login,Usage\nE2,C1,2024-01-01,login,\n",
        2,
        "kind",
        "must be one of: usage, self_service",
    );
}

#[test]
fn wrong_number_of_fields() {
    check(
        Entity::Customers,
        &format!("{CUSTOMERS}C1,2024-01-01\nC2,2024-01-01,\n"),
        2,
        "",
        "the record has 2 fields, the header has 3",
    );
    check(
        Entity::Customers,
        &format!("{CUSTOMERS}C2,2024-01-01,\nC3,2024-01-01,,extra\n"),
        3,
        "",
        "the record has 4 fields, the header has 3",
    );
}

#[test]
fn duplicate_ids_last_valid_row_wins() {
    let ws = common::workspace("UTC");
    let file = ws.file(
        "customers.csv",
        format!("{CUSTOMERS}C1,2024-01-01,\nC1,2024-01-02,\nC1,bad,\nC2,2024-01-01,\n"),
    );
    let summary = ws.import(Entity::Customers, &[&file]);
    assert_eq!(
        (
            summary.read,
            summary.new,
            summary.superseded,
            summary.rejected
        ),
        (4, 2, 1, 1)
    );
    let rejects = common::rejects(&summary);
    assert_eq!((rejects[0].1, rejects[0].2.as_str()), (4, "acquired_at"));
    // The second row of C1 won; the invalid third did not remove it.
    let export = ws.export(Entity::Customers);
    assert!(export.contains("C1,2024-01-02T00:00:00Z,"), "{export}");
    assert!(!export.contains("C1,2024-01-01"), "{export}");
    assert_eq!(export.lines().count(), 3);
}

#[test]
fn a_missing_required_column_refuses_the_file() {
    let ws = common::workspace("UTC");
    let bad = ws.file(
        "orders.csv",
        "order_id,Customer_ID,amount,region\nO1,C1,5,eu\n",
    );
    let good = ws.file("more.csv", format!("{ORDERS}O2,C1,2024-01-01,5,,,\n"));
    let summary = ws.import(Entity::Orders, &[&bad, &good]);
    let refused = summary.inputs[0].refused.as_deref().unwrap();
    assert_eq!(
        refused,
        "missing required column ordered_at; the columns found are: order_id, Customer_ID, amount, region"
    );
    assert!(summary.inputs[1].refused.is_none());
    assert_eq!((summary.new, summary.table_rows), (1, 1));
    // The refused file added no dimension.
    assert_eq!(
        ws.store
            .snapshot()
            .unwrap()
            .table(Entity::Orders)
            .dimensions,
        Vec::<String>::new()
    );
}

#[test]
fn a_header_naming_a_column_twice_refuses_the_file() {
    let ws = common::workspace("UTC");
    let bad = ws.file(
        "c.csv",
        "customer_id,acquired_at,Region,region \nC1,2024-01-01,eu,us\n",
    );
    let summary = ws.import(Entity::Customers, &[&bad]);
    assert_eq!(
        summary.inputs[0].refused.as_deref(),
        Some("the header names column `region` twice")
    );
    assert!(!summary.stored);
    assert_eq!(
        ws.store.snapshot().unwrap().table(Entity::Customers).rows,
        0
    );
}

#[test]
fn strict_stores_nothing_when_a_row_is_rejected() {
    let ws = common::workspace("UTC");
    let file = ws.file("c.csv", format!("{CUSTOMERS}C1,2024-01-01,\nC2,never,\n"));
    let summary = ws.import_with(Entity::Customers, &[&file], true);
    assert!(!summary.stored);
    assert_eq!(summary.rejected, 1);
    assert_eq!(
        ws.store.snapshot().unwrap().table(Entity::Customers).rows,
        0
    );
    // Without --strict the good row is stored.
    let summary = ws.import(Entity::Customers, &[&file]);
    assert!(summary.stored);
    assert_eq!(summary.table_rows, 1);
}
