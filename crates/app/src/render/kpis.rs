//! KPI rows for people and programs: a table, JSON (the wire types of [`crate::wire`]),
//! CSV (the same fields as columns, safe to open in a spreadsheet), and one
//! self-contained HTML page with an SVG trend per KPI. Renderers write to any
//! `impl Write`.

use std::io::Write;

use cxkpi_core::benchmark;
use cxkpi_core::config::Config;
use cxkpi_core::kpi::{KpiDef, Unit};
use cxkpi_engine::KpiRow;
use serde_json::Value;

use super::SafeCsv;
use crate::error::{AppError, ErrorKind, Result};
use crate::kpis::LeftOut;
use crate::wire;

fn io(e: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorKind::Internal, format!("writing the output: {e}"))
}

fn csv_error(e: csv::Error) -> AppError {
    io(e)
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

/// Writes rows as `table`, `json` or `csv`; `left_out` names KPIs not shown and why;
/// `report` lays the table out as a scorecard (a block per period, a line per KPI).
pub fn write_rows(
    out: &mut impl Write,
    rows: &[KpiRow],
    format: &str,
    config: &Config,
    left_out: &[LeftOut],
    report: bool,
) -> Result<()> {
    match format {
        "json" => {
            let page = wire::KpiRows {
                rows: rows.iter().map(|r| wire::KpiRow::new(r, config)).collect(),
                left_out: left_out.iter().map(wire::LeftOut::from).collect(),
            };
            serde_json::to_writer(&mut *out, &page).map_err(io)?;
            writeln!(out).map_err(io)?;
        }
        "csv" => {
            let mut csv = SafeCsv::new(&mut *out);
            csv.write_record(CSV_COLUMNS).map_err(csv_error)?;
            for row in rows {
                let j = serde_json::to_value(wire::KpiRow::new(row, config)).map_err(io)?;
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
                csv.write_record(&record).map_err(csv_error)?;
            }
            csv.flush().map_err(io)?;
        }
        _ => write_table(out, rows, config, report).map_err(io)?,
    }
    if format == "table" {
        for l in left_out {
            writeln!(out, "left out: {} ({})", l.kpi, l.reason).map_err(io)?;
        }
    }
    Ok(())
}

fn write_table(
    out: &mut impl Write,
    rows: &[KpiRow],
    config: &Config,
    report: bool,
) -> std::io::Result<()> {
    let segmented = rows.iter().any(|r| r.segment.is_some());
    let first = if report { "kpi" } else { "period" };
    writeln!(
        out,
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
    )?;
    let mut period = None;
    for row in rows {
        if report && period.as_ref() != Some(&row.period.label()) {
            period = Some(row.period.label());
            writeln!(out, "-- {} --", row.period.label())?;
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
        writeln!(
            out,
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
        )?;
    }
    if rows.iter().any(|r| r.change.is_some()) {
        writeln!(
            out,
            "* significant at 95% (Benjamini-Hochberg across segments)"
        )?;
    }
    Ok(())
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
pub fn html(rows: &[KpiRow], config: &Config, left_out: &[LeftOut], title: &str) -> String {
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
        for l in left_out {
            out.push_str(&format!("<li>{}: {}</li>", escape(l.kpi), escape(l.reason)));
        }
        out.push_str("</ul></section>");
    }
    out.push_str("</body></html>\n");
    out
}
