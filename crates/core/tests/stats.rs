//! The statistics of `cxkpi_core::stats` against independent implementations:
//! `tests/data/stats_reference.json` was made by `tests/data/stats_reference.py` with
//! statsmodels 0.15.0, scipy 1.17.1 and numpy (see the script for how to regenerate).

use cxkpi_core::stats;
use serde_json::Value;

fn reference() -> Value {
    serde_json::from_str(include_str!("data/stats_reference.json")).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

#[track_caller]
fn close(got: f64, want: f64, tolerance: f64) {
    assert!((got - want).abs() <= tolerance, "got {got}, want {want}");
}

#[test]
fn wilson_matches_statsmodels() {
    for case in reference()["wilson"].as_array().unwrap() {
        let interval = stats::wilson(u(&case["x"]), u(&case["n"])).unwrap();
        // statsmodels uses z = 1.95996398..., kpis.md 1.959964: equal to 1e-7.
        close(interval.low, f(&case["low"]), 1e-7);
        close(interval.high, f(&case["high"]), 1e-7);
    }
    assert_eq!(stats::wilson(0, 0), None);
}

#[test]
fn t_interval_matches_scipy() {
    for case in reference()["mean"].as_array().unwrap() {
        let values: Vec<f64> = case["values"].as_array().unwrap().iter().map(f).collect();
        let mut moments = stats::Moments::default();
        values.iter().for_each(|x| moments.update(*x));
        close(moments.mean, f(&case["mean"]), 1e-12);
        close(moments.sd().unwrap(), f(&case["sd"]), 1e-12);
        let interval =
            stats::mean_interval(moments.mean, moments.sd().unwrap(), moments.n).unwrap();
        close(interval.low, f(&case["low"]), 1e-9);
        close(interval.high, f(&case["high"]), 1e-9);
    }
    assert_eq!(stats::mean_interval(4.0, 0.0, 1), None);
}

#[test]
fn two_proportion_z_matches_statsmodels() {
    for case in reference()["two_proportion"].as_array().unwrap() {
        let test = stats::two_proportion_z(
            u(&case["x1"]),
            u(&case["n1"]),
            u(&case["x2"]),
            u(&case["n2"]),
        )
        .unwrap();
        close(test.statistic, f(&case["z"]), 1e-9);
        close(test.p_value, f(&case["p"]), 1e-9);
    }
    // All successes in both samples: no variance, no test.
    assert_eq!(stats::two_proportion_z(10, 10, 5, 5), None);
}

#[test]
fn welch_matches_scipy() {
    for case in reference()["welch"].as_array().unwrap() {
        let test = stats::welch_t(
            f(&case["mean1"]),
            f(&case["sd1"]),
            u(&case["n1"]),
            f(&case["mean2"]),
            f(&case["sd2"]),
            u(&case["n2"]),
        )
        .unwrap();
        close(test.statistic, f(&case["t"]), 1e-9);
        close(test.p_value, f(&case["p"]), 1e-7);
    }
    assert_eq!(stats::welch_t(4.0, 0.0, 5, 4.0, 0.0, 9), None);
}

#[test]
fn normal_p_values_match_scipy() {
    for case in reference()["normal_two_sided"].as_array().unwrap() {
        // statrs's erfc and scipy's agree to about 1e-11.
        close(stats::normal_two_sided(f(&case["z"])), f(&case["p"]), 1e-10);
    }
}

#[test]
fn benjamini_hochberg_matches_statsmodels() {
    let reference = reference();
    for key in ["bh", "bh2"] {
        let p: Vec<Option<f64>> = reference[key]["p"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| Some(f(v)))
            .collect();
        let want: Vec<bool> = reference[key]["reject"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        assert_eq!(stats::benjamini_hochberg(&p, 0.05), want, "{key}");
    }
    // Untested segments are not significant and do not count in the family.
    assert_eq!(
        stats::benjamini_hochberg(&[Some(0.01), None, Some(0.04)], 0.05),
        vec![true, false, true]
    );
}

#[test]
fn percentiles_match_numpy() {
    for case in reference()["percentile"].as_array().unwrap() {
        let mut values: Vec<f64> = case["values"].as_array().unwrap().iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        close(
            stats::percentile_sorted(&values, f(&case["q"])).unwrap(),
            f(&case["value"]),
            1e-12,
        );
    }
    assert_eq!(stats::percentile_sorted(&[], 50.0), None);
}

#[test]
fn selection_finds_the_percentiles_of_sorting() {
    // Unordered integers with ties, of every length up to 40, against the sorted
    // values' percentile, bit for bit; and several percentiles of one reordered slice.
    let mut x = 11u64;
    for len in 0..40usize {
        let mut values: Vec<i64> = (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 33) % 17) as i64 - 8
            })
            .collect();
        let mut sorted: Vec<f64> = values.iter().map(|&v| v as f64).collect();
        sorted.sort_by(f64::total_cmp);
        for q in [50.0, 90.0, 0.0, 100.0, 33.3, 99.9] {
            let selected = stats::percentile_select(&mut values, q)
                .map(|(below, above, w)| below as f64 + w * (above as f64 - below as f64));
            assert_eq!(selected, stats::percentile_sorted(&sorted, q), "{len} {q}");
        }
    }
}
