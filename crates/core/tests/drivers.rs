//! Shapley R² against a brute-force numpy computation on 300 rows of 5 correlated
//! predictors (`data/drivers_reference.py`; the data is rounded to 12 decimals in the
//! file, so the comparison allows 1e-9).

use cxkpi_core::drivers::shapley_r2;

#[test]
fn shapley_r2_matches_numpy() {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let path = std::path::Path::new(&manifest).join("tests/data/drivers_reference.json");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let x: Vec<Vec<f64>> = reference["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    let y: Vec<f64> = reference["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let names = ["x0", "x1", "x2", "x3", "x4"];
    let drivers = shapley_r2(&names, &x, &y).unwrap();
    assert_eq!(drivers.n, 300);
    assert!((drivers.r2 - reference["r2"].as_f64().unwrap()).abs() < 1e-9);
    for (i, name) in names.iter().enumerate() {
        let expected = reference["shapley"][i].as_f64().unwrap();
        let ours = drivers.importance.iter().find(|d| d.name == *name).unwrap();
        assert!(
            (ours.shapley_r2 - expected).abs() < 1e-9,
            "{name}: {} vs {expected}",
            ours.shapley_r2
        );
    }
    // Most important first: x0 carries the largest coefficient.
    assert_eq!(drivers.importance[0].name, "x0");
}
