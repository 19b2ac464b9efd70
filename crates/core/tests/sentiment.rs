//! VADER against the reference implementation: every sentence of the corpus in
//! `data/vader_reference.json` (made by `data/vader_reference.py` with vaderSentiment
//! 3.3.2) must get the same rounded neg, neu, pos and compound scores.

use cxkpi_core::sentiment::{SentimentClass, polarity};

#[test]
fn matches_vader_sentiment_3_3_2_on_the_reference_corpus() {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let path = std::path::Path::new(&manifest).join("tests/data/vader_reference.json");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rows = reference["rows"].as_array().unwrap();
    assert!(rows.len() >= 700, "{} sentences", rows.len());
    let mut failures = Vec::new();
    for row in rows {
        let text = row["text"].as_str().unwrap();
        let ours = polarity(text);
        let expected = |k: &str| row[k].as_f64().unwrap();
        let theirs = (
            expected("neg"),
            expected("neu"),
            expected("pos"),
            expected("compound"),
        );
        if (ours.neg, ours.neu, ours.pos, ours.compound) != theirs {
            failures.push(format!("{text:?}: ours {ours:?}, reference {theirs:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn classes_use_the_kpi_thresholds() {
    // Reference compounds: "The book was good." 0.4404; "The parcel arrived on
    // Tuesday." 0.0; "Meh." -0.0772; "Poor direction." -0.4767.
    assert_eq!(
        polarity("The book was good.").class(),
        SentimentClass::Positive
    );
    let neutral = polarity("The parcel arrived on Tuesday.");
    assert_eq!(
        (neutral.compound, neutral.class()),
        (0.0, SentimentClass::Neutral)
    );
    assert_eq!(polarity("Meh.").class(), SentimentClass::Negative);
    assert_eq!(
        polarity("Poor direction.").class(),
        SentimentClass::Negative
    );
}
