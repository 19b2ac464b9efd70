//! KPI rows for people and programs: a table, JSON (the wire types of [`crate::wire`]),
//! CSV (the same fields as columns, safe to open in a spreadsheet), and one
//! self-contained HTML page with an SVG trend per KPI. Renderers write to any
//! `impl Write`.

use std::io::Write;

use cxkpi_core::benchmark;
use cxkpi_core::config::Config;
use cxkpi_core::kpi::{KpiDef, Unit};
use cxkpi_engine::KpiRow;
use maud::{DOCTYPE, Markup, PreEscaped, html};
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

const CSV_COLUMNS: [&str; 19] = [
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
    // Last, so that scripts reading the columns before it by position still work.
    "partial",
];

/// `low .. high` of a row's interval in its unit, or nothing.
fn interval_text(row: &KpiRow, currency: &str) -> String {
    row.estimate
        .interval()
        .map(|i| {
            format!(
                "{} .. {}",
                format_value(row.kpi, Some(i.low), currency),
                format_value(row.kpi, Some(i.high), currency)
            )
        })
        .unwrap_or_default()
}

/// The benchmark band a row's value meets and its target status (`met` or `missed by
/// GAP`), each empty when there is none.
fn band_and_target(row: &KpiRow, config: &Config) -> (String, String) {
    let value = row.value();
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
    (band, target)
}

/// Writes rows as `table`, `json` or `csv`; `left_out` names KPIs not shown and why;
/// `report` lays the table out as a scorecard (a block per period, a line per KPI).
/// The warnings go into the JSON; the other formats leave them to the caller (the CLI
/// prints them on stderr).
pub fn write_rows(
    out: &mut impl Write,
    rows: &[KpiRow],
    format: &str,
    config: &Config,
    left_out: &[LeftOut],
    warnings: &[String],
    report: bool,
) -> Result<()> {
    match format {
        "json" => {
            let page = wire::KpiRows {
                rows: rows.iter().map(|r| wire::KpiRow::new(r, config)).collect(),
                left_out: left_out.iter().map(wire::LeftOut::from).collect(),
                warnings: warnings.to_vec(),
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
                        "partial" => row.partial.to_string(),
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
    // As wide as the longest segment (several dimensions' values run long).
    let width = rows
        .iter()
        .filter_map(|r| r.segment_label())
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(16);
    let first = if report { "kpi" } else { "period" };
    writeln!(
        out,
        "{:<24} {}{:>16} {:>8} {:>24} {:>16} {:<12} target",
        first,
        if segmented {
            format!("{:<width$} ", "segment")
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
            let partial = if row.partial {
                " (partial: the data ends inside it)"
            } else {
                ""
            };
            writeln!(out, "-- {}{partial} --", row.period.label())?;
        }
        let currency = &config.currency;
        let value = row.value();
        let interval = interval_text(row, currency);
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
        let (band, target) = band_and_target(row, config);
        let label = if report {
            row.kpi.id.to_string()
        } else if row.partial {
            format!("{} (partial)", row.period.label())
        } else {
            row.period.label()
        };
        // Without a value, why (issue 17: a bare `-` said nothing); with a small
        // sample, that it is small.
        let low = match (&row.reason, value) {
            (Some(reason), None) => format!(" ({reason})"),
            _ if row.estimate.low_sample() => " (low n)".to_string(),
            _ => String::new(),
        };
        writeln!(
            out,
            "{:<24} {}{:>16} {:>8} {:>24} {:>16} {:<12} {}{}",
            label,
            row.segment_label()
                .map(|s| format!("{s:<width$} "))
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

const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
    section{margin:1.5em 0;padding-top:.5em;border-top:1px solid #ddd}\
    table{border-collapse:collapse;font-size:13px}th,td{padding:2px 8px;text-align:right}\
    th:first-child,td:first-child{text-align:left}.sig{font-weight:bold}.muted{color:#777}\
    .legend span{margin-right:1em}";

/// One segment's line of a trend chart: its points, then the path through them
/// (broken where a period has no value).
struct Line {
    colour: &'static str,
    points: Vec<(String, String)>,
    path: String,
}

/// A small SVG line chart of one KPI over the periods, a line per segment (at most
/// eight; the others are left out of the chart, not of the table).
fn trend_svg(
    kpi: &KpiDef,
    series: &[(String, Vec<Option<f64>>)],
    labels: &[String],
    currency: &str,
) -> Markup {
    let (width, height, left, right, top, bottom) = (360.0, 120.0, 8.0, 8.0, 16.0, 20.0);
    let values: Vec<f64> = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .collect();
    let (Some(min), Some(max)) = (
        values.iter().copied().reduce(f64::min),
        values.iter().copied().reduce(f64::max),
    ) else {
        return html! {};
    };
    let span = if max > min { max - min } else { 1.0 };
    let n = labels.len().max(2) - 1;
    let x = |i: usize| left + (width - left - right) * i as f64 / n as f64;
    let y = |v: f64| top + (height - top - bottom) * (1.0 - (v - min) / span);
    let lines: Vec<Line> = series
        .iter()
        .take(COLOURS.len())
        .zip(COLOURS)
        .map(|((_, values), colour)| {
            let mut line = Line {
                colour,
                points: Vec::new(),
                path: String::new(),
            };
            let mut pen_down = false;
            for (i, v) in values.iter().enumerate() {
                match v {
                    Some(v) => {
                        let (px, py) = (format!("{:.1}", x(i)), format!("{:.1}", y(*v)));
                        let pen = if pen_down { "L" } else { "M" };
                        line.path.push_str(&format!("{pen}{px},{py} "));
                        line.points.push((px, py));
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            line.path.truncate(line.path.trim_end().len());
            line
        })
        .collect();
    let first = labels.first().map_or("", |s| s.as_str());
    let last = labels.last().map_or("", |s| s.as_str());
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
            viewBox={ "0 0 " (width) " " (height) } role="img" aria-label={ (kpi.name) " trend" } {
            text x=(left) y="11" font-size="10" fill="#555" {
                "max " (format_value(kpi, Some(max), currency))
            }
            text x=(left) y=(height - 6.0) font-size="10" fill="#555" {
                "min " (format_value(kpi, Some(min), currency)) " · " (first) " to " (last)
            }
            @for line in &lines {
                @for (cx, cy) in &line.points {
                    circle cx=(cx) cy=(cy) r="2" fill=(line.colour) {}
                }
                @if !line.path.is_empty() {
                    path d=(line.path) fill="none" stroke=(line.colour) stroke-width="1.5" {}
                }
            }
        }
    }
}

/// The report as one self-contained HTML page: for each KPI a trend chart over the
/// periods and a table of its values (n, interval, change, band, target). Every text
/// is escaped by the template (maud), segment values and titles being user data.
pub fn html(rows: &[KpiRow], config: &Config, left_out: &[LeftOut], title: &str) -> String {
    let currency = &config.currency;
    let mut labels: Vec<String> = Vec::new();
    for r in rows {
        if !labels.contains(&r.period.label()) {
            labels.push(r.period.label());
        }
    }
    let mut kpis: Vec<&'static KpiDef> = Vec::new();
    for r in rows {
        if !kpis.iter().any(|k| k.id == r.kpi.id) {
            kpis.push(r.kpi);
        }
    }
    let first = labels.first().map_or("", |s| s.as_str());
    let last = labels.last().map_or("", |s| s.as_str());
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) }
                p.muted {
                    "Periods " (first) " to " (last) " (" (config.time_zone_name) "); 95% intervals; changes marked "
                    b { "bold" }
                    " are significant at 95% (Benjamini-Hochberg across segments); values on fewer than 30 units are marked (low n)."
                }
                @for kpi in &kpis {
                    (kpi_section(kpi, rows, &labels, config, currency))
                }
                @if !left_out.is_empty() {
                    section {
                        h2 { "Left out" }
                        ul {
                            @for l in left_out {
                                li { (l.kpi) ": " (l.reason) }
                            }
                        }
                    }
                }
            }
        }
        "\n"
    };
    page.into_string()
}

/// One KPI's section of the report: its definition, trend chart, legend and table.
fn kpi_section(
    kpi: &'static KpiDef,
    rows: &[KpiRow],
    labels: &[String],
    config: &Config,
    currency: &str,
) -> Markup {
    let kpi_rows: Vec<&KpiRow> = rows.iter().filter(|r| r.kpi.id == kpi.id).collect();
    let mut segments: Vec<String> = Vec::new();
    for r in &kpi_rows {
        let s = r.segment_label().unwrap_or_default();
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
                            &r.period.label() == l && r.segment_label().unwrap_or_default() == *s
                        })
                        .and_then(|r| r.value())
                })
                .collect();
            (s.clone(), points)
        })
        .collect();
    let segmented = kpi_rows.iter().any(|r| r.segment.is_some());
    html! {
        section {
            h2 { (kpi.name) " " span.muted { "(" (kpi.id) ")" } }
            p { (kpi.description) }
            (trend_svg(kpi, &series, labels, currency))
            @if segments.len() > 1 {
                p.legend {
                    @for (segment, colour) in segments.iter().zip(COLOURS) {
                        span style={ "color:" (colour) } { (PreEscaped("&#9632; ")) (segment) }
                    }
                }
            }
            table {
                tr {
                    th { "period" }
                    @if segmented { th { "segment" } }
                    th { "value" } th { "n" } th { "95% interval" } th { "change" } th { "band" } th { "target" }
                }
                @for r in &kpi_rows {
                    (table_row(kpi, r, config, currency))
                }
            }
        }
    }
}

fn table_row(kpi: &'static KpiDef, r: &KpiRow, config: &Config, currency: &str) -> Markup {
    let value = r.value();
    let interval = interval_text(r, currency);
    let significant = r.change.as_ref().and_then(|c| c.significant) == Some(true);
    let change = r
        .change
        .as_ref()
        .and_then(|c| c.delta)
        .map(|d| format!("{d:+.2}"))
        .unwrap_or_default();
    let (band, target) = band_and_target(r, config);
    html! {
        tr {
            td {
                (r.period.label())
                @if r.partial { " " span.muted { "(partial)" } }
            }
            @if let Some(segment) = r.segment_label() { td { (segment) } }
            td {
                (format_value(kpi, value, currency))
                @if r.estimate.low_sample() { " " span.muted { "(low n)" } }
            }
            td { (r.estimate.n()) }
            td { (interval) }
            td class=[significant.then_some("sig")] { (change) }
            td { (band) }
            td { (target) }
        }
    }
}
