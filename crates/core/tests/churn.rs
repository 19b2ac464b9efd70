//! The churn model's logistic regression against scikit-learn 1.9.1 on the same
//! standardised data and penalty (`data/churn_reference.py`).

use cxkpi_core::churn::{evaluate, fit};
use cxkpi_core::threads::Threads;

#[test]
fn logistic_regression_matches_scikit_learn() {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let path = std::path::Path::new(&manifest).join("tests/data/churn_reference.json");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let x: Vec<Vec<f64>> = r["x"].as_array().unwrap().iter().map(floats).collect();
    let y: Vec<bool> = r["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect();
    let names: Vec<String> = (0..4).map(|i| format!("f{i}")).collect();
    let model = fit(
        &names,
        x.clone(),
        &y,
        r["l2"].as_f64().unwrap(),
        Threads::available(),
    )
    .unwrap();
    assert!((model.intercept - r["intercept"].as_f64().unwrap()).abs() < 1e-6);
    for (ours, theirs) in model.coefficients.iter().zip(floats(&r["coefficients"])) {
        assert!((ours - theirs).abs() < 1e-6, "{ours} vs {theirs}");
    }
    let probabilities: Vec<f64> = x.iter().map(|row| model.probability(row)).collect();
    for (ours, theirs) in probabilities.iter().zip(floats(&r["probabilities"])) {
        assert!((ours - theirs).abs() < 1e-6);
    }
    let e = evaluate(&probabilities, &y);
    assert!((e.auc.unwrap().0 - r["auc"].as_f64().unwrap()).abs() < 1e-12);
}
