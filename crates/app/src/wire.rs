//! The JSON shapes cxkpi prints and serves: the only serde types of the product, so
//! that `--format json` and the HTTP API are the same by construction. Domain types
//! (in core and the engine) stay free of serde and are converted here explicitly.
//!
//! Fields are declared in alphabetical order: that is the order the output has always
//! had (serde_json's map), and scripts may compare it as text.

use std::collections::BTreeMap;

use cxkpi_core::benchmark;
use cxkpi_core::config::Config;
use serde::Serialize;

/// `{"rows": [...], "left_out": [...]}` of `kpi` and `report`.
#[derive(Debug, Serialize)]
pub struct KpiRows {
    /// The KPIs not shown, and why.
    pub left_out: Vec<LeftOut>,
    /// One row per KPI, period and segment.
    pub rows: Vec<KpiRow>,
}

/// A KPI a scorecard leaves out.
#[derive(Debug, Serialize)]
pub struct LeftOut {
    /// The KPI's id.
    pub kpi: &'static str,
    /// Why.
    pub reason: &'static str,
}

impl From<&crate::kpis::LeftOut> for LeftOut {
    fn from(l: &crate::kpis::LeftOut) -> LeftOut {
        LeftOut {
            kpi: l.kpi,
            reason: l.reason,
        }
    }
}

/// One KPI value (README.md, "KPI output", documents every field).
#[derive(Debug, Serialize)]
pub struct KpiRow {
    /// The benchmark band met.
    pub band: Option<String>,
    /// The interval's upper bound.
    pub ci_high: Option<f64>,
    /// The interval's lower bound.
    pub ci_low: Option<f64>,
    /// Named parts of the value.
    pub components: BTreeMap<&'static str, f64>,
    /// The change against the previous period (with a comparison only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Option<f64>>,
    /// The KPI's id.
    pub kpi: &'static str,
    /// n < 30.
    pub low_sample: bool,
    /// What the value counts.
    pub n: u64,
    /// The change test's p-value (with a comparison only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<Option<f64>>,
    /// The period's label.
    pub period: String,
    /// The period's end (exclusive), RFC 3339 in UTC.
    pub period_end: String,
    /// The period's start, RFC 3339 in UTC.
    pub period_start: String,
    /// The previous period's value (with a comparison only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Option<f64>>,
    /// Why there is no value.
    pub reason: Option<String>,
    /// The segment, when segmented.
    pub segment: Option<String>,
    /// Significant at 95% after Benjamini-Hochberg (with a comparison only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub significant: Option<Option<bool>>,
    /// The configured target and whether it is met.
    pub target: Option<Target>,
    /// The KPI's unit.
    pub unit: &'static str,
    /// The value.
    pub value: Option<f64>,
}

/// A target's status.
#[derive(Debug, Serialize)]
pub struct Target {
    /// How far the value is from the threshold.
    pub gap: f64,
    /// Whether the value meets it.
    pub met: bool,
    /// The threshold.
    pub threshold: f64,
}

fn utc(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl KpiRow {
    /// The wire form of an engine row, with its band and target under `config`.
    pub fn new(row: &cxkpi_engine::KpiRow, config: &Config) -> KpiRow {
        let value = row.value();
        let interval = row.estimate.interval();
        let change = row.change.as_ref();
        KpiRow {
            band: value.and_then(|v| benchmark::band(row.kpi, config, v)),
            ci_high: interval.map(|i| i.high),
            ci_low: interval.map(|i| i.low),
            components: row.components.iter().copied().collect(),
            delta: change.map(|c| c.delta),
            kpi: row.kpi.id,
            low_sample: row.estimate.low_sample(),
            n: row.estimate.n(),
            p_value: change.map(|c| c.p_value),
            period: row.period.label(),
            period_end: utc(row.period.end),
            period_start: utc(row.period.start),
            previous: change.map(|c| c.previous),
            reason: row.reason.clone(),
            segment: row.segment.clone(),
            significant: change.map(|c| c.significant),
            target: value
                .and_then(|v| benchmark::target(row.kpi, config, v))
                .map(|t| Target {
                    gap: t.gap,
                    met: t.met,
                    threshold: t.target.value,
                }),
            unit: row.kpi.unit.name(),
            value,
        }
    }
}
