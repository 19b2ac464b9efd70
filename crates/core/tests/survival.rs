//! Kaplan-Meier and the log-rank test on the NCCTG lung cancer data against R's
//! `survival` package:
//!
//! ```text
//! > survfit(Surv(time, status) ~ 1, data = lung)
//!        n events median 0.95LCL 0.95UCL
//!      228    165    310     285     363
//! > survfit(Surv(time, status) ~ sex, data = lung)
//!          n events median 0.95LCL 0.95UCL
//! sex=1  138    112    270     212     310
//! sex=2   90     53    426     348     550
//! > survdiff(Surv(time, status) ~ sex, data = lung)
//! Chisq= 10.3  on 1 degrees of freedom, p= 0.001
//! ```
//! (The chi-square is 10.33 to two decimals.)

use cxkpi_core::survival::{kaplan_meier, log_rank, median, median_interval};

fn lung() -> Vec<(f64, bool, u8)> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let path = std::path::Path::new(&manifest).join("tests/data/lung.csv");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("time"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[1] == "1", f[2].parse().unwrap())
        })
        .collect()
}

#[test]
fn lung_medians_and_their_intervals_match_r() {
    let data = lung();
    assert_eq!(data.len(), 228);
    let mut all: Vec<(f64, bool)> = data.iter().map(|&(t, e, _)| (t, e)).collect();
    assert_eq!(all.iter().filter(|o| o.1).count(), 165);
    let steps = kaplan_meier(&mut all);
    assert_eq!(median(&steps), Some(310.0));
    assert_eq!(median_interval(&steps), (Some(285.0), Some(363.0)));
    for (sex, n, m, low, high) in [(1, 138, 270.0, 212.0, 310.0), (2, 90, 426.0, 348.0, 550.0)] {
        let mut group: Vec<(f64, bool)> = data
            .iter()
            .filter(|o| o.2 == sex)
            .map(|&(t, e, _)| (t, e))
            .collect();
        assert_eq!(group.len(), n);
        let steps = kaplan_meier(&mut group);
        assert_eq!(median(&steps), Some(m), "sex {sex}");
        assert_eq!(
            median_interval(&steps),
            (Some(low), Some(high)),
            "sex {sex}"
        );
    }
}

#[test]
fn lung_log_rank_by_sex_matches_r() {
    let data = lung();
    let groups: Vec<Vec<(f64, bool)>> = [1, 2]
        .iter()
        .map(|&sex| {
            data.iter()
                .filter(|o| o.2 == sex)
                .map(|&(t, e, _)| (t, e))
                .collect()
        })
        .collect();
    let (chi2, df, p) = log_rank(&groups).unwrap();
    assert_eq!(df, 1);
    assert!((chi2 - 10.33).abs() < 0.005, "{chi2}");
    assert!((p - 0.001).abs() < 0.0005, "{p}");
}
