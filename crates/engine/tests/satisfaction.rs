//! Satisfaction KPIs over a hand-made fixture; every expected value is worked out in
//! the comments.

mod common;

use common::{component, row};
use cxkpi_core::entity::Entity;
use cxkpi_engine::KpiRow;
use cxkpi_store::Store;

const CUSTOMERS: &str =
    "customer_id,acquired_at,region\nC1,2024-01-01,eu\nC2,2024-01-01,us\nC3,2024-01-01,\n";

const RESPONSES: &str = "response_id,customer_id,survey,score,responded_at,touchpoint\n\
             R0,C1,nps,10,2024-04-10T12:00:00,relationship\n\
             R1,C1,nps,10,2024-05-02T12:00:00,relationship\n\
             R2,C1,nps,9,2024-05-03T12:00:00,relationship\n\
             R3,C2,nps,7,2024-05-04T12:00:00,relationship\n\
             R4,C2,nps,3,2024-05-05T12:00:00,support\n\
             R5,C3,nps,0,2024-05-06T12:00:00,relationship\n\
             R6,,nps,8,2024-05-31T22:30:00Z,relationship\n\
             R7,C1,nps,9,2024-06-10T12:00:00,relationship\n\
             R8,C1,csat,5,2024-05-10T12:00:00,support\n\
             R9,C2,csat,4,2024-05-11T12:00:00,support\n\
             R10,C2,csat,2,2024-05-12T12:00:00,support\n\
             R11,C3,csat,3,2024-05-13T12:00:00,support\n\
             R12,C1,ces,7,2024-05-14T12:00:00,support\n\
             R13,C2,ces,5,2024-05-15T12:00:00,support\n";

/// Workspace in Europe/Berlin (UTC+2 in May and June 2024).
fn fixture() -> (tempfile::TempDir, Store) {
    common::workspace(
        "Europe/Berlin",
        None,
        &[
            (Entity::Customers, CUSTOMERS),
            (Entity::Responses, RESPONSES),
        ],
    )
}

fn run(
    store: &Store,
    kpis: &[&str],
    by: Option<&str>,
    filters: &[(&str, &str)],
    compare: bool,
) -> Vec<KpiRow> {
    common::run(store, kpis, by, filters, compare)
}

#[track_caller]
fn close(got: Option<f64>, want: f64) {
    let got = got.expect("a value");
    assert!((got - want).abs() < 1e-6, "got {got}, want {want}");
}

#[test]
fn nps_csat_ces_ppr_by_month() {
    let (_dir, store) = fixture();
    let rows = run(&store, &["nps", "csat", "ces", "ppr"], None, &[], false);
    // 4 KPIs x 2 months.
    assert_eq!(rows.len(), 8);

    // May: promoters R1 (10), R2 (9); passive R3 (7); detractors R4 (3), R5 (0).
    // NPS = 100 * (2 - 2) / 5 = 0. R6 (22:30Z on 31 May) is 00:30 on 1 June in Berlin.
    let may = row(&rows, "nps", "2024-05", None);
    close(may.value(), 0.0);
    assert_eq!(may.estimate.n(), 5);
    assert_eq!(
        (
            component(may, "promoters"),
            component(may, "passives"),
            component(may, "detractors")
        ),
        (2.0, 1.0, 2.0)
    );
    // se = 100 * sqrt((0.4 + 0.4 - 0) / 5) = 40; interval 0 +- 1.959964 * 40.
    let interval = may.estimate.interval().unwrap();
    assert!((interval.high - 78.398_56).abs() < 1e-4, "{interval:?}");
    assert!(may.estimate.low_sample());

    // June: R6 passive (8), R7 promoter (9): NPS = 100 * (1 - 0) / 2 = 50.
    let june = row(&rows, "nps", "2024-06", None);
    close(june.value(), 50.0);
    assert_eq!(june.estimate.n(), 2);

    // CSAT May: 5, 4, 2, 3: satisfied (>= 4) 2 of 4 = 50%; mean 3.5.
    let csat = row(&rows, "csat", "2024-05", None);
    close(csat.value(), 50.0);
    assert_eq!(component(csat, "mean_score"), 3.5);

    // CES May: 7 and 5: mean 6, sd sqrt(2); t(0.975, 1) = 12.7062 so the interval is
    // 6 +- 12.7062 * sqrt(2) / sqrt(2) = [-6.7062, 18.7062].
    let ces = row(&rows, "ces", "2024-05", None);
    close(ces.value(), 6.0);
    let interval = ces.estimate.interval().unwrap();
    assert!((interval.low + 6.706_205).abs() < 1e-5, "{interval:?}");

    // No PPR answers: no value, n = 0, and why.
    let ppr = row(&rows, "ppr", "2024-05", None);
    assert_eq!((ppr.value(), ppr.estimate.n()), (None, 0));
    assert_eq!(ppr.reason.as_deref(), Some("no data in the period"));
    // June has no CSAT either.
    assert_eq!(row(&rows, "csat", "2024-06", None).value(), None);
}

#[test]
fn segments_by_customer_dimension_and_filters() {
    let (_dir, store) = fixture();
    let rows = run(&store, &["nps"], Some("region"), &[], false);
    // May: eu = C1's R1, R2 (two promoters) = 100; us = C2's R3 (passive), R4
    // (detractor) = -50; (none) = C3 without a region: R5 (detractor) = -100.
    close(row(&rows, "nps", "2024-05", Some("eu")).value(), 100.0);
    close(row(&rows, "nps", "2024-05", Some("us")).value(), -50.0);
    close(row(&rows, "nps", "2024-05", Some("(none)")).value(), -100.0);
    // June: eu = R7 promoter = 100; (none) = the anonymous R6 passive = 0; us has no
    // answer: shown with n = 0.
    close(row(&rows, "nps", "2024-06", Some("eu")).value(), 100.0);
    close(row(&rows, "nps", "2024-06", Some("(none)")).value(), 0.0);
    let us = row(&rows, "nps", "2024-06", Some("us"));
    assert_eq!((us.value(), us.estimate.n()), (None, 0));

    // Own column beats customer column; a filter on the touchpoint: May support
    // answers = R4 only (detractor) = -100.
    let rows = run(&store, &["nps"], None, &[("touchpoint", "support")], false);
    let may = row(&rows, "nps", "2024-05", None);
    assert_eq!(may.estimate.n(), 1);
    close(may.value(), -100.0);

    // `(none)` selects missing values: May answers of customers without a region = R5.
    let rows = run(&store, &["nps"], None, &[("region", "(none)")], false);
    close(row(&rows, "nps", "2024-05", None).value(), -100.0);
}

/// Issue 17: April's one promoter (NPS 100, se 0) against May's five answers was
/// reported as a significant drop (p = 0.0124); on samples under 30 no test runs.
#[test]
fn change_against_the_previous_month() {
    let (_dir, store) = fixture();
    let rows = run(&store, &["nps"], None, &[], true);
    // April: R0 promoter: NPS 100. May: NPS 0 on 5 answers. delta -100, no test.
    let may = row(&rows, "nps", "2024-05", None);
    let change = may.change.as_ref().unwrap();
    assert_eq!((change.previous, change.delta), (Some(100.0), Some(-100.0)));
    assert_eq!((change.p_value, change.significant), (None, None));
    let why = change.no_test.as_deref().unwrap();
    assert!(
        why.contains("n = 5") && why.contains("1 in the previous"),
        "{why}"
    );
    // June (2 answers) against May: 50 vs 0, no test either.
    let june = row(&rows, "nps", "2024-06", None).change.as_ref().unwrap();
    assert_eq!(june.delta, Some(50.0));
    assert_eq!((june.p_value, june.significant), (None, None));
}

/// With 40 answers a month the test runs: May 30 promoters and 10 detractors (NPS 50,
/// se 100 sqrt(0.75 / 40) = 13.693), June 20 and 20 (NPS 0, se 100 sqrt(1 / 40) =
/// 15.811); z = -50 / sqrt(13.693^2 + 15.811^2) = -2.3905, p = erfc(2.3905 / sqrt 2)
/// = 0.016827: significant. May against an empty April has no test.
#[test]
fn change_with_enough_answers_is_tested() {
    let mut responses = String::from("response_id,survey,score,responded_at\n");
    for i in 0..40 {
        let may = if i < 30 { 10 } else { 0 };
        let june = if i < 20 { 9 } else { 6 };
        responses.push_str(&format!(
            "M{i},nps,{may},2024-05-{:02}T12:00:00\n",
            1 + i % 28
        ));
        responses.push_str(&format!(
            "J{i},nps,{june},2024-06-{:02}T12:00:00\n",
            1 + i % 28
        ));
    }
    let (_dir, store) = common::workspace("UTC", None, &[(Entity::Responses, &responses)]);
    let rows = run(&store, &["nps"], None, &[], true);
    let june = row(&rows, "nps", "2024-06", None).change.as_ref().unwrap();
    assert_eq!((june.previous, june.delta), (Some(50.0), Some(-50.0)));
    assert!(
        (june.p_value.unwrap() - 0.016_827_4).abs() < 1e-6,
        "{june:?}"
    );
    assert_eq!(
        (june.significant, june.no_test.as_deref()),
        (Some(true), None)
    );
    let may = row(&rows, "nps", "2024-05", None).change.as_ref().unwrap();
    assert_eq!((may.p_value, may.significant), (None, None));
    assert!(
        may.no_test
            .as_deref()
            .unwrap()
            .contains("0 in the previous")
    );
}

#[test]
fn unknown_dimensions_name_the_valid_ones() {
    let (_dir, store) = fixture();
    let err = common::try_run(&store, &["nps"], Some("plan"), &[], false)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "`nps` cannot be segmented by `plan`; it can be by: survey, touchpoint, acquisition_channel, campaign, region"
    );
}

/// Comments of any survey, Europe/Berlin. Compound scores from vaderSentiment 3.3.2:
/// - S1 nps "Support answered within minutes, fantastic!" 0.7644 (positive), eu
/// - S2 csat "Price went up again, not happy." -0.4585 (negative), us
/// - S3 ces "The parcel arrived on Tuesday." 0.0 (neutral), us
/// - S4 nps multi-line "Line one is great." / "Line two is awful." 0.2732 (positive), eu
/// - S5 nps "   " (white space only: not a comment)
/// - S6 nps no comment
/// - S7 nps "Love it ❤️" 0.6369, at 2024-05-31 23:30 UTC = 1 June 01:30 Berlin: June
const COMMENTS: &str = "response_id,customer_id,survey,score,responded_at,comment\n\
             S1,C1,nps,10,2024-05-02T12:00:00,\"Support answered within minutes, fantastic!\"\n\
             S2,C2,csat,2,2024-05-03T12:00:00,\"Price went up again, not happy.\"\n\
             S3,C2,ces,5,2024-05-04T12:00:00,The parcel arrived on Tuesday.\n\
             S4,C1,nps,8,2024-05-05T12:00:00,\"Line one is great.\nLine two is awful.\"\n\
             S5,C3,nps,8,2024-05-06T12:00:00,\"   \"\n\
             S6,C3,nps,8,2024-05-07T12:00:00,\n\
             S7,C3,nps,9,2024-05-31T23:30:00Z,Love it ❤️\n";

#[test]
fn sentiment_of_comments() {
    let (_dir, store) = common::workspace(
        "Europe/Berlin",
        None,
        &[
            (Entity::Customers, CUSTOMERS),
            (Entity::Responses, COMMENTS),
        ],
    );
    let rows = run(&store, &["sentiment"], None, &[], false);
    // May: S1, S2, S3, S4: positive 2, negative 1, neutral 1: 100 * (2 - 1) / 4 = 25.
    common::check(&rows, "sentiment", "2024-05", 25.0, 4);
    let may = row(&rows, "sentiment", "2024-05", None);
    assert_eq!(
        (
            component(may, "positive"),
            component(may, "neutral"),
            component(may, "negative")
        ),
        (2.0, 1.0, 1.0)
    );
    // Mean compound (0.7644 - 0.4585 + 0 + 0.2732) / 4 = 0.144775.
    close(Some(component(may, "mean_compound")), 0.144775);
    // NPS-style interval: p+ = 0.5, p- = 0.25, variance 0.5 + 0.25 - 0.25^2 = 0.6875,
    // se = 100 * sqrt(0.6875 / 4) = 41.4578; 25 -+ 1.959964 * 41.4578 =
    // [-56.2558, 106.2558], clipped to 100 as the NPS interval is.
    let interval = may.estimate.interval().unwrap();
    close(
        Some(interval.low),
        25.0 - 1.959964 * 100.0 * (0.6875f64 / 4.0).sqrt(),
    );
    assert_eq!(interval.high, 100.0);
    // June: S7 alone, positive: 100.
    common::check(&rows, "sentiment", "2024-06", 100.0, 1);

    // By region: eu has S1 and S4 (both positive): 100; us S2 and S3: -50.
    let rows = run(&store, &["sentiment"], Some("region"), &[], false);
    close(
        row(&rows, "sentiment", "2024-05", Some("eu")).value(),
        100.0,
    );
    close(
        row(&rows, "sentiment", "2024-05", Some("us")).value(),
        -50.0,
    );
}
