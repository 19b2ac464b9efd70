//! `cxkpi health` and its backtest as a table, CSV or JSON.

use std::io::{self, Write};

use cxkpi_core::health::COMPONENTS;

use super::SafeCsv;
use crate::health::{Backtest, HealthList};
use crate::wire;

/// The scores as a table, worst first.
pub fn write_table(out: &mut impl Write, list: &HealthList) -> io::Result<()> {
    let round = |x: f64| (x * 100.0).round() / 100.0;
    writeln!(
        out,
        "Health as of {} ({} customers, worst first)\n",
        list.as_of,
        list.customers.len()
    )?;
    let segment_header = if list.segmented { "segment" } else { "" };
    writeln!(
        out,
        "{:<16} {:<12} {:>7} {:<7} {:>9} {:>12} {:>8} {:>9}",
        "customer",
        segment_header,
        "score",
        "band",
        "activity",
        "satisfaction",
        "support",
        "purchase"
    )?;
    for c in &list.customers {
        let Some(h) = c.health else { continue };
        let part = |i: usize| h.components[i].map_or("-".to_string(), |v| format!("{:.0}", v));
        writeln!(
            out,
            "{:<16} {:<12} {:>7.1} {:<7} {:>9} {:>12} {:>8} {:>9}",
            c.customer_id,
            c.segment,
            round(h.score),
            h.band.name(),
            part(0),
            part(1),
            part(2),
            part(3)
        )?;
    }
    Ok(())
}

/// The scores as CSV (safe to open in a spreadsheet).
pub fn write_csv(out: &mut impl Write, list: &HealthList) -> io::Result<()> {
    let mut csv = SafeCsv::new(out);
    let mut header = vec!["customer_id", "segment", "score", "band"];
    header.extend(COMPONENTS);
    csv.write_record(&header)?;
    for c in &list.customers {
        let Some(h) = c.health else { continue };
        let mut record = vec![
            c.customer_id.clone(),
            c.segment.clone(),
            h.score.to_string(),
            h.band.name().to_string(),
        ];
        record.extend(
            h.components
                .iter()
                .map(|v| v.map_or(String::new(), |v| v.to_string())),
        );
        csv.write_record(&record)?;
    }
    csv.flush()
}

/// The scores as pretty JSON (the wire type).
pub fn write_json(out: &mut impl Write, list: &HealthList) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &wire::HealthRows::from(list))?;
    writeln!(out)
}

/// The backtest as text: the AUC, then churn by band.
pub fn write_backtest_table(out: &mut impl Write, b: &Backtest) -> io::Result<()> {
    writeln!(
        out,
        "Health as of {}, churn until {}: {} customers scored, {} churned",
        b.as_of, b.until, b.n, b.churned
    )?;
    match b.auc {
        Some((a, ci)) => writeln!(
            out,
            "AUC {a:.3} (95% {:.3} .. {:.3}): the chance a churner scored below a stayer",
            ci.low, ci.high
        )?,
        None => writeln!(
            out,
            "AUC: none (needs customers who churned and customers who stayed)"
        )?,
    }
    writeln!(
        out,
        "\n{:<7} {:>8} {:>8} {:>10}",
        "band", "n", "churned", "rate"
    )?;
    for x in &b.bands {
        let rate = (x.n > 0).then(|| 100.0 * x.churned as f64 / x.n as f64);
        writeln!(
            out,
            "{:<7} {:>8} {:>8} {:>10}",
            x.band.name(),
            x.n,
            x.churned,
            rate.map_or("-".into(), |r| format!("{r:.1}%"))
        )?;
    }
    Ok(())
}

/// The backtest as pretty JSON (the wire type).
pub fn write_backtest_json(out: &mut impl Write, b: &Backtest) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &wire::Backtest::from(b))?;
    writeln!(out)
}
