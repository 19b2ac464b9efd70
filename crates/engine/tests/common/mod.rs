//! Helpers shared by the engine's fixture tests: a workspace with hand-made files, a
//! run over May and June 2024 by month, and row lookups.
#![allow(dead_code)]

use cxkpi_core::entity::Entity;
use cxkpi_core::kpi;
use cxkpi_core::period::{Grain, periods};
use cxkpi_engine::{EngineError, KpiRow, Request, compute};
use cxkpi_store::{ImportOptions, Input, NoProgress, Store};
use jiff::civil::Date;

/// A workspace in `time_zone` (and with `margin` as gross margin, if given) holding
/// `files` (entity, CSV text), every row valid.
pub fn workspace(
    time_zone: &str,
    margin: Option<f64>,
    files: &[(Entity, &str)],
) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    Store::init(dir.path()).unwrap();
    let config = dir.path().join("cxkpi.toml");
    let mut text = std::fs::read_to_string(&config).unwrap().replacen(
        "time_zone = \"UTC\"",
        &format!("time_zone = \"{time_zone}\""),
        1,
    );
    if let Some(margin) = margin {
        text = text.replacen("gross_margin = 1.0", &format!("gross_margin = {margin}"), 1);
    }
    std::fs::write(&config, text).unwrap();
    let store = Store::open(dir.path()).unwrap();
    for (entity, content) in files {
        let path = dir.path().join(format!("{entity}.csv"));
        std::fs::write(&path, content).unwrap();
        let input = Input::from_arg(path.to_str().unwrap(), None);
        let summary = store
            .import(*entity, &[input], &ImportOptions::default(), &NoProgress)
            .unwrap();
        assert_eq!(summary.rejected, 0, "{entity}: {:?}", summary.rejects_file);
    }
    (dir, store)
}

/// A current-thread runtime for the engine's async functions.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Computes `kpis` for May and June 2024 by month.
pub fn run(
    store: &Store,
    kpis: &[&str],
    by: Option<&str>,
    filters: &[(&str, &str)],
    compare: bool,
) -> Vec<KpiRow> {
    try_run(store, kpis, by, filters, compare).unwrap()
}

/// [`run`], returning the engine's error.
pub fn try_run(
    store: &Store,
    kpis: &[&str],
    by: Option<&str>,
    filters: &[(&str, &str)],
    compare: bool,
) -> Result<Vec<KpiRow>, EngineError> {
    let config = store.config();
    let request = Request {
        kpis: kpis.iter().map(|k| kpi::lookup(k).unwrap()).collect(),
        periods: periods(
            Grain::Month,
            Date::constant(2024, 5, 1),
            Date::constant(2024, 7, 1),
            &config.time_zone,
        ),
        by: by.into_iter().map(String::from).collect(),
        filters: filters
            .iter()
            .map(|(d, v)| cxkpi_core::filter::Filter::eq(*d, *v))
            .collect(),
        compare,
    };
    let runtime = runtime();
    runtime.block_on(compute(&store.snapshot().unwrap(), config, &request))
}

/// The row of a KPI, period label and segment.
#[track_caller]
pub fn row<'a>(rows: &'a [KpiRow], kpi: &str, period: &str, segment: Option<&str>) -> &'a KpiRow {
    rows.iter()
        .find(|r| r.kpi.id == kpi && r.period.label() == period && r.segment.as_deref() == segment)
        .unwrap_or_else(|| panic!("no row {kpi} {period} {segment:?}"))
}

/// Asserts the unsegmented value (to 1e-9) and n of a KPI in a period.
#[track_caller]
pub fn check(rows: &[KpiRow], kpi: &str, period: &str, value: f64, n: u64) {
    let r = row(rows, kpi, period, None);
    let got = r
        .value()
        .unwrap_or_else(|| panic!("{kpi} {period}: no value ({:?})", r.reason));
    assert!(
        (got - value).abs() < 1e-9,
        "{kpi} {period}: got {got}, want {value}"
    );
    assert_eq!(r.estimate.n(), n, "{kpi} {period}: n");
}

/// A named component of a row.
#[track_caller]
pub fn component(row: &KpiRow, name: &str) -> f64 {
    row.components.iter().find(|(n, _)| *n == name).unwrap().1
}
