//! `cxkpi kpi ID` and `cxkpi report`: KPI values as a table, JSON or CSV.
//!
//! The JSON schema (also used for CSV columns) is documented in README.md ("KPI
//! output"): an object with `rows` and `left_out`, each row with `kpi`,
//! `period`, `period_start`, `period_end` (RFC 3339, UTC), `segment`, `value`, `n`,
//! `ci_low`, `ci_high`, `low_sample`, `components`, `reason`, `band`, `target`, and
//! with a comparison `previous`, `delta`, `p_value`, `significant`.

use clap::Args;
use cxkpi_app::kpis;
use cxkpi_core::benchmark;
use cxkpi_core::config::Config;
use cxkpi_core::kpi::{KpiDef, Unit};
use cxkpi_core::period::Period;
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

/// A `YYYY-MM-DD` argument; a usage error naming `flag` otherwise.
pub fn date(text: &str, flag: &str) -> anyhow::Result<Date> {
    Ok(kpis::date(text, flag)?)
}

/// The default: the last `months` complete months of the data.
pub fn last_complete_months(
    end: Option<jiff::Timestamp>,
    months: i64,
    config: &Config,
) -> Vec<Period> {
    kpis::last_complete_months(end, months, config)
}

impl PeriodArgs {
    /// The periods as the application layer takes them.
    pub fn choice(&self) -> kpis::PeriodChoice {
        kpis::PeriodChoice {
            period: self.period.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            grain: self.grain.clone(),
        }
    }

    /// The periods asked for, or `default` when none are.
    pub fn resolve(&self, config: &Config, default: Vec<Period>) -> anyhow::Result<Vec<Period>> {
        Ok(self.choice().resolve(config, default)?)
    }
}

/// The instant of `--as-of DATE` (midnight starting it in the workspace time zone),
/// or by default the end of the data's last complete month.
pub fn as_of(
    text: Option<&str>,
    snapshot: &cxkpi_store::Snapshot,
    config: &Config,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<jiff::Timestamp> {
    Ok(runtime.block_on(kpis::as_of(text, snapshot, config))?)
}

/// Checks `--by` for `kpi`: a usage error naming the dimensions it can be segmented
/// by.
pub fn check_by(
    kpi: &'static KpiDef,
    by: Option<&str>,
    snapshot: &cxkpi_store::Snapshot,
) -> anyhow::Result<()> {
    Ok(kpis::check_by(kpi, by, snapshot)?)
}

impl SliceArgs {
    /// The segments and filters as the application layer takes them.
    pub fn slice(&self) -> kpis::Slice {
        kpis::Slice {
            by: self.by.clone(),
            filters: self.filters.clone(),
        }
    }

    /// A request for `kpi` with these segments and filters (no periods: for the
    /// per-customer views), after checking `--by`.
    pub fn request(
        &self,
        kpi: &'static KpiDef,
        snapshot: &cxkpi_store::Snapshot,
    ) -> anyhow::Result<cxkpi_engine::Request> {
        check_by(kpi, self.by.as_deref(), snapshot)?;
        Ok(cxkpi_engine::Request {
            kpis: vec![kpi],
            periods: Vec::new(),
            by: self.by.clone(),
            filters: self.filters()?,
            compare: false,
        })
    }

    /// The `--where` filters as (dimension, value).
    pub fn filters(&self) -> anyhow::Result<Vec<(String, String)>> {
        Ok(kpis::filters(&self.filters)?)
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
            let mut out = crate::csv_out::SafeCsv::new(std::io::stdout().lock());
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

/// Escapes text for HTML (segment values are user data).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
];

/// A small SVG line chart of one KPI over the periods, a line per segment (at most
/// eight; the others are left out of the chart, not of the table).
fn trend_svg(
    kpi: &KpiDef,
    series: &[(String, Vec<Option<f64>>)],
    labels: &[String],
    currency: &str,
) -> String {
    let (width, height, left, right, top, bottom) = (360.0, 120.0, 8.0, 8.0, 16.0, 20.0);
    let values: Vec<f64> = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .collect();
    let (Some(min), Some(max)) = (
        values.iter().copied().reduce(f64::min),
        values.iter().copied().reduce(f64::max),
    ) else {
        return String::new();
    };
    let span = if max > min { max - min } else { 1.0 };
    let n = labels.len().max(2) - 1;
    let x = |i: usize| left + (width - left - right) * i as f64 / n as f64;
    let y = |v: f64| top + (height - top - bottom) * (1.0 - (v - min) / span);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{} trend">"#,
        escape(kpi.name)
    );
    svg.push_str(&format!(
        r##"<text x="{left}" y="11" font-size="10" fill="#555">max {}</text><text x="{left}" y="{}" font-size="10" fill="#555">min {} · {} to {}</text>"##,
        escape(&format_value(kpi, Some(max), currency)),
        height - 6.0,
        escape(&format_value(kpi, Some(min), currency)),
        escape(labels.first().map_or("", |s| s.as_str())),
        escape(labels.last().map_or("", |s| s.as_str())),
    ));
    for (s, (_, points)) in series.iter().take(COLOURS.len()).enumerate() {
        let colour = COLOURS[s];
        // Lines break where a period has no value.
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in points.iter().enumerate() {
            match v {
                Some(v) => {
                    path.push_str(&format!(
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(i),
                        y(*v)
                    ));
                    pen_down = true;
                    svg.push_str(&format!(
                        r#"<circle cx="{:.1}" cy="{:.1}" r="2" fill="{colour}"/>"#,
                        x(i),
                        y(*v)
                    ));
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            svg.push_str(&format!(
                r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#,
                path.trim_end()
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The report as one self-contained HTML page: for each KPI a trend chart over the
/// periods and a table of its values (n, interval, change, band, target).
pub fn html(
    rows: &[KpiRow],
    config: &Config,
    left_out: &[(String, String)],
    title: &str,
) -> String {
    let currency = &config.currency;
    let mut labels: Vec<String> = Vec::new();
    for r in rows {
        if !labels.contains(&r.period.label()) {
            labels.push(r.period.label());
        }
    }
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
    );
    out.push_str(&format!("<title>{}</title>", escape(title)));
    out.push_str(
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
         section{margin:1.5em 0;padding-top:.5em;border-top:1px solid #ddd}\
         table{border-collapse:collapse;font-size:13px}th,td{padding:2px 8px;text-align:right}\
         th:first-child,td:first-child{text-align:left}.sig{font-weight:bold}.muted{color:#777}\
         .legend span{margin-right:1em}</style></head><body>",
    );
    out.push_str(&format!("<h1>{}</h1>", escape(title)));
    out.push_str(&format!(
        "<p class=\"muted\">Periods {} to {} ({}); 95% intervals; changes marked <b>bold</b> are significant at 95% (Benjamini-Hochberg across segments); values on fewer than 30 units are marked (low n).</p>",
        escape(labels.first().map_or("", |s| s.as_str())),
        escape(labels.last().map_or("", |s| s.as_str())),
        escape(&config.time_zone_name),
    ));
    let mut kpis: Vec<&'static KpiDef> = Vec::new();
    for r in rows {
        if !kpis.iter().any(|k| k.id == r.kpi.id) {
            kpis.push(r.kpi);
        }
    }
    for kpi in kpis {
        let kpi_rows: Vec<&KpiRow> = rows.iter().filter(|r| r.kpi.id == kpi.id).collect();
        let mut segments: Vec<String> = Vec::new();
        for r in &kpi_rows {
            let s = r.segment.clone().unwrap_or_default();
            if !segments.contains(&s) {
                segments.push(s);
            }
        }
        let series: Vec<(String, Vec<Option<f64>>)> = segments
            .iter()
            .map(|s| {
                let points = labels
                    .iter()
                    .map(|l| {
                        kpi_rows
                            .iter()
                            .find(|r| {
                                &r.period.label() == l
                                    && r.segment.clone().unwrap_or_default() == *s
                            })
                            .and_then(|r| r.value())
                    })
                    .collect();
                (s.clone(), points)
            })
            .collect();
        out.push_str(&format!(
            "<section><h2>{} <span class=\"muted\">({})</span></h2><p>{}</p>",
            escape(kpi.name),
            escape(kpi.id),
            escape(kpi.description)
        ));
        out.push_str(&trend_svg(kpi, &series, &labels, currency));
        if segments.len() > 1 {
            out.push_str("<p class=\"legend\">");
            for (i, s) in segments.iter().take(COLOURS.len()).enumerate() {
                out.push_str(&format!(
                    "<span style=\"color:{}\">&#9632; {}</span>",
                    COLOURS[i],
                    escape(s)
                ));
            }
            out.push_str("</p>");
        }
        let segmented = kpi_rows.iter().any(|r| r.segment.is_some());
        out.push_str(&format!(
            "<table><tr><th>period</th>{}<th>value</th><th>n</th><th>95% interval</th><th>change</th><th>band</th><th>target</th></tr>",
            if segmented { "<th>segment</th>" } else { "" }
        ));
        for r in &kpi_rows {
            let value = r.value();
            let interval = r
                .estimate
                .interval()
                .map(|i| {
                    format!(
                        "{} .. {}",
                        format_value(kpi, Some(i.low), currency),
                        format_value(kpi, Some(i.high), currency)
                    )
                })
                .unwrap_or_default();
            let significant = r.change.as_ref().and_then(|c| c.significant) == Some(true);
            let change = r
                .change
                .as_ref()
                .and_then(|c| c.delta)
                .map(|d| format!("{d:+.2}"))
                .unwrap_or_default();
            let band = value
                .and_then(|v| benchmark::band(kpi, config, v))
                .unwrap_or_default();
            let target = value
                .and_then(|v| benchmark::target(kpi, config, v))
                .map(|t| {
                    if t.met {
                        "met".to_string()
                    } else {
                        format!("missed by {:.2}", t.gap.abs())
                    }
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "<tr><td>{}</td>{}<td>{}{}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.period.label()),
                r.segment
                    .as_deref()
                    .map(|s| format!("<td>{}</td>", escape(s)))
                    .unwrap_or_default(),
                escape(&format_value(kpi, value, currency)),
                if r.estimate.low_sample() { " <span class=\"muted\">(low n)</span>" } else { "" },
                r.estimate.n(),
                escape(&interval),
                if significant { " class=\"sig\"" } else { "" },
                escape(&change),
                escape(&band),
                escape(&target),
            ));
        }
        out.push_str("</table></section>");
    }
    if !left_out.is_empty() {
        out.push_str("<section><h2>Left out</h2><ul>");
        for (kpi, why) in left_out {
            out.push_str(&format!("<li>{}: {}</li>", escape(kpi), escape(why)));
        }
        out.push_str("</ul></section>");
    }
    out.push_str("</body></html>\n");
    out
}
