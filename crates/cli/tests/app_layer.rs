//! Issue 16's known defects of the CLI, fixed in the application layer: an unknown
//! dimension is a usage error whether `--by` or `--where` names it, and one horizon
//! grammar serves every command (`m` is months, never minutes).

mod common;

use common::{cxkpi, demo, run, stderr, stdout};

#[test]
fn an_unknown_dimension_is_a_usage_error_in_by_and_in_where() {
    let ws = demo(2000);
    for args in [
        vec!["kpi", "nps", "--by", "planet"],
        vec!["kpi", "nps", "--where", "planet=mars"],
        vec!["report", "--by", "planet"],
    ] {
        let output = run(cxkpi(ws.path()).args(&args));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("planet"), "{args:?}");
    }
}

#[test]
fn m_is_months_for_every_horizon_and_short_units_are_refused() {
    let ws = demo(2000);
    // The demo's last complete month ends 2026-11-01: twelve months back is 2025-11-01
    // (it was 12 minutes back, 2026-10-31T23:48, for `churn train`).
    let output = run(cxkpi(ws.path()).args(["churn", "train", "--horizon", "12m"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("active at 2025-11-01T00:00:00Z (") && out.contains("trained at 2024-11-01"),
        "{out}"
    );
    assert!(run(cxkpi(ws.path()).args(["clv", "fit"])).status.success());
    let predict = |horizon: &str| {
        let output = run(cxkpi(ws.path()).args(["clv", "predict", "--horizon", horizon]));
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    assert_eq!(predict("12m"), predict("12mo"));
    assert_ne!(predict("12m"), predict("12w"));
    for args in [
        vec!["churn", "train", "--horizon", "90min"],
        vec!["health", "--backtest", "12h"],
        vec!["clv", "predict", "--horizon", "1.5m"],
    ] {
        let output = run(cxkpi(ws.path()).args(&args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains("e.g. 90d, 12w, 6mo, 1y"),
            "{args:?}"
        );
    }
}

/// Issue 17: KPI ids are matched whatever their case (a misspelling gets a suggestion),
/// and flags that were ignored or matched nothing are usage errors.
#[test]
fn kpi_ids_fold_case_and_contradicting_flags_are_refused() {
    let ws = demo(2000);
    let upper = run(cxkpi(ws.path()).args(["kpi", "NPS", "--format", "json"]));
    let lower = run(cxkpi(ws.path()).args(["kpi", "nps", "--format", "json"]));
    assert!(upper.status.success(), "{}", stderr(&upper));
    assert_eq!(stdout(&upper), stdout(&lower));
    for (args, says) in [
        (vec!["kpi", "npss"], "did you mean `nps`?"),
        (
            vec!["kpi", "nps", "--period", "2026-06", "--grain", "week"],
            "--grain week does not go with --period",
        ),
        (
            vec!["kpi", "nps", "--where", "plan=pro", "--where", "plan=basic"],
            "`plan` twice",
        ),
    ] {
        let output = run(cxkpi(ws.path()).args(&args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
