//! `cxkpi kpi ID` and `cxkpi report`: KPI values as a table, JSON or CSV.
//!
//! The JSON schema (also used for CSV columns) is documented in README.md ("KPI
//! output"): an object with `rows` and `left_out`, each row with `kpi`,
//! `period`, `period_start`, `period_end` (RFC 3339, UTC), `segment`, `value`, `n`,
//! `ci_low`, `ci_high`, `low_sample`, `components`, `reason`, `band`, `target`, and
//! with a comparison `previous`, `delta`, `p_value`, `significant`.

use anyhow::{Context, bail};
use clap::Args;
use cxkpi_core::benchmark;
use cxkpi_core::config::Config;
use cxkpi_core::kpi::{KpiDef, Unit};
use cxkpi_core::period::{Grain, Period, parse_period, periods};
use cxkpi_engine::KpiRow;
use jiff::civil::Date;
use serde_json::{Value, json};

/// Which periods to compute.
#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// One period: 2024-06-03, 2024-W23, 2024-06, 2024-Q2 or 2024.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub period: Option<String>,
    /// First day (YYYY-MM-DD) of the range; the first period is the one containing it.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Day after the range (exclusive).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Period length: day, week, month, quarter, year (a range without a grain is one
    /// period).
    #[arg(long)]
    pub grain: Option<String>,
}

/// Segments and filters.
#[derive(Debug, Clone, Args)]
pub struct SliceArgs {
    /// Segment by a dimension (a text or boolean column of the KPI's entity, or of the
    /// customer).
    #[arg(long)]
    pub by: Option<String>,
    /// Keep only rows with DIM=VALUE (repeatable; `(none)` selects missing values).
    #[arg(long = "where", value_name = "DIM=VALUE")]
    pub filters: Vec<String>,
}

fn date(text: &str, flag: &str) -> anyhow::Result<Date> {
    Date::strptime("%Y-%m-%d", text).map_err(|_| {
        cxkpi_store::StoreError::Usage(format!("{flag} `{text}` is not a date YYYY-MM-DD")).into()
    })
}

fn grain(text: &str) -> anyhow::Result<Grain> {
    text.parse::<Grain>()
        .map_err(|e| cxkpi_store::StoreError::Usage(e).into())
}

/// The default: the last `months` complete months of the data. A month counts as
/// complete when the data reaches its last day (data ending on 31 October completes
/// October; data ending on 15 October leaves September the last complete month).
pub fn last_complete_months(
    end: Option<jiff::Timestamp>,
    months: i64,
    config: &Config,
) -> Vec<Period> {
    let tz = &config.time_zone;
    let end = end
        .unwrap_or_else(jiff::Timestamp::now)
        .to_zoned(tz.clone())
        .date()
        .checked_add(jiff::Span::new().days(1))
        .expect("in range");
    let to = Grain::Month.floor(end);
    let from = to
        .checked_sub(jiff::Span::new().months(months))
        .expect("in range");
    periods(Grain::Month, from, to, tz)
}

impl PeriodArgs {
    /// The periods asked for, or `default` when none are.
    pub fn resolve(&self, config: &Config, default: Vec<Period>) -> anyhow::Result<Vec<Period>> {
        let tz = &config.time_zone;
        if let Some(text) = &self.period {
            return Ok(vec![
                parse_period(text, tz).map_err(cxkpi_store::StoreError::Usage)?,
            ]);
        }
        match (&self.from, &self.to) {
            (Some(from), Some(to)) => {
                let (from, to) = (date(from, "--from")?, date(to, "--to")?);
                if to <= from {
                    bail!(cxkpi_store::StoreError::Usage(
                        "--to must be after --from (it is exclusive)".into()
                    ));
                }
                match &self.grain {
                    Some(g) => Ok(periods(grain(g)?, from, to, tz)),
                    None => Ok(vec![
                        Period::range(from, to, tz).map_err(cxkpi_store::StoreError::Usage)?,
                    ]),
                }
            }
            _ => match &self.grain {
                // A grain alone re-cuts the default range.
                Some(g) if !default.is_empty() => {
                    let first = default.first().expect("non-empty").first_day;
                    let last = default.last().expect("non-empty").end_day;
                    Ok(periods(grain(g)?, first, last, tz))
                }
                _ => Ok(default),
            },
        }
    }
}

impl SliceArgs {
    /// The `--where` filters as (dimension, value).
    pub fn filters(&self) -> anyhow::Result<Vec<(String, String)>> {
        self.filters
            .iter()
            .map(|f| {
                f.split_once('=')
                    .map(|(d, v)| (d.trim().to_string(), v.to_string()))
                    .with_context(|| {
                        cxkpi_store::StoreError::Usage(format!("--where `{f}` is not DIM=VALUE"))
                    })
            })
            .collect()
    }
}

fn utc(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A value in its unit, for tables.
pub fn format_value(kpi: &KpiDef, value: Option<f64>, currency: &str) -> String {
    let Some(v) = value else { return "-".into() };
    match kpi.unit {
        Unit::Percent => format!("{v:.1}%"),
        Unit::NpsPoints => format!("{v:.1}"),
        Unit::Score | Unit::Ratio | Unit::OrdersPerCustomer => format!("{v:.2}"),
        Unit::Count => format!("{v:.0}"),
        Unit::Currency => format!("{v:.2} {currency}"),
        Unit::Hours => format!("{v:.2} h"),
        Unit::Minutes => format!("{v:.1} min"),
        Unit::Months => format!("{v:.1} mo"),
        Unit::HealthPoints => format!("{v:.1}"),
    }
}

/// One row as JSON.
pub fn row_json(row: &KpiRow, config: &Config) -> Value {
    let value = row.value();
    let interval = row.estimate.interval();
    let components: serde_json::Map<String, Value> = row
        .components
        .iter()
        .map(|(k, v)| ((*k).to_string(), json!(v)))
        .collect();
    let band = value.and_then(|v| benchmark::band(row.kpi, config, v));
    let target = value
        .and_then(|v| benchmark::target(row.kpi, config, v))
        .map(|t| json!({"threshold": t.target.value, "met": t.met, "gap": t.gap}));
    let mut out = json!({
        "kpi": row.kpi.id,
        "unit": row.kpi.unit.name(),
        "period": row.period.label(),
        "period_start": utc(row.period.start),
        "period_end": utc(row.period.end),
        "segment": row.segment,
        "value": value,
        "n": row.estimate.n(),
        "ci_low": interval.map(|i| i.low),
        "ci_high": interval.map(|i| i.high),
        "low_sample": row.estimate.low_sample(),
        "components": components,
        "reason": row.reason,
        "band": band,
        "target": target,
    });
    if let Some(change) = &row.change {
        out["previous"] = json!(change.previous);
        out["delta"] = json!(change.delta);
        out["p_value"] = json!(change.p_value);
        out["significant"] = json!(change.significant);
    }
    out
}

const CSV_COLUMNS: [&str; 18] = [
    "kpi",
    "unit",
    "period",
    "period_start",
    "period_end",
    "segment",
    "value",
    "n",
    "ci_low",
    "ci_high",
    "low_sample",
    "reason",
    "band",
    "target_met",
    "previous",
    "delta",
    "p_value",
    "significant",
];

/// Prints rows as `table`, `json` or `csv`; `left_out` names KPIs not shown and why.
pub fn print_rows(
    rows: &[KpiRow],
    format: &str,
    config: &Config,
    left_out: &[(String, String)],
    report: bool,
) -> anyhow::Result<()> {
    match format {
        "json" => {
            let rows: Vec<Value> = rows.iter().map(|r| row_json(r, config)).collect();
            let left_out: Vec<Value> = left_out
                .iter()
                .map(|(k, why)| json!({"kpi": k, "reason": why}))
                .collect();
            println!("{}", json!({"rows": rows, "left_out": left_out}));
        }
        "csv" => {
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record(CSV_COLUMNS)?;
            for row in rows {
                let j = row_json(row, config);
                let cell = |v: &Value| match v {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let record: Vec<String> = CSV_COLUMNS
                    .iter()
                    .map(|c| match *c {
                        "target_met" => cell(&j["target"]["met"]),
                        c => cell(&j[c]),
                    })
                    .collect();
                out.write_record(&record)?;
            }
            out.flush()?;
        }
        _ => print_table(rows, config, report),
    }
    if format == "table" {
        for (kpi, why) in left_out {
            println!("left out: {kpi} ({why})");
        }
    }
    Ok(())
}

fn print_table(rows: &[KpiRow], config: &Config, report: bool) {
    let segmented = rows.iter().any(|r| r.segment.is_some());
    let first = if report { "kpi" } else { "period" };
    println!(
        "{:<24} {}{:>16} {:>8} {:>24} {:>16} {:<12} target",
        first,
        if segmented {
            format!("{:<16} ", "segment")
        } else {
            String::new()
        },
        "value",
        "n",
        "95% interval",
        "change",
        "band",
    );
    let mut period = None;
    for row in rows {
        if report && period.as_ref() != Some(&row.period.label()) {
            period = Some(row.period.label());
            println!("-- {} --", row.period.label());
        }
        let currency = &config.currency;
        let value = row.value();
        let interval = row
            .estimate
            .interval()
            .map(|i| {
                format!(
                    "{} .. {}",
                    format_value(row.kpi, Some(i.low), currency),
                    format_value(row.kpi, Some(i.high), currency)
                )
            })
            .unwrap_or_default();
        let change = row
            .change
            .as_ref()
            .and_then(|c| c.delta)
            .map(|d| {
                let sig = match row.change.as_ref().and_then(|c| c.significant) {
                    Some(true) => " *",
                    _ => "",
                };
                format!("{d:+.2}{sig}")
            })
            .unwrap_or_default();
        let band = value
            .and_then(|v| benchmark::band(row.kpi, config, v))
            .unwrap_or_default();
        let target = value
            .and_then(|v| benchmark::target(row.kpi, config, v))
            .map(|t| {
                if t.met {
                    "met".to_string()
                } else {
                    format!("missed by {:.2}", t.gap.abs())
                }
            })
            .unwrap_or_default();
        let label = if report {
            row.kpi.id.to_string()
        } else {
            row.period.label()
        };
        let low = if row.estimate.low_sample() {
            " (low n)"
        } else {
            ""
        };
        println!(
            "{:<24} {}{:>16} {:>8} {:>24} {:>16} {:<12} {}{}",
            label,
            row.segment
                .as_ref()
                .map(|s| format!("{s:<16} "))
                .unwrap_or_default(),
            format_value(row.kpi, value, currency),
            row.estimate.n(),
            interval,
            change,
            band,
            target,
            low
        );
    }
    if rows.iter().any(|r| r.change.is_some()) {
        println!("* significant at 95% (Benjamini-Hochberg across segments)");
    }
}
