//! `cxkpi cohorts` as a table (a triangle per segment), CSV (a row per cell) or JSON.

use std::io::{self, Write};

use super::SafeCsv;
use crate::cohorts::Cohorts;
use crate::wire;

/// A triangle per segment: a row per cohort with its size (and base), a column per
/// age with the share retained.
pub fn write_table(out: &mut impl Write, c: &Cohorts) -> io::Result<()> {
    let page = wire::Cohorts::from(c);
    let ages = page
        .cohorts
        .iter()
        .map(|r| r.cells.len())
        .max()
        .unwrap_or(0);
    let what = match c.measure.name() {
        "customers" => "customers active at the end of each period",
        "revenue" => "revenue ordered in each period, of the cohort's first",
        _ => "MRR running at the end of each period, of the cohort's first",
    };
    writeln!(out, "Cohorts by {} of acquisition: {what}", c.grain.name())?;
    // Revenue and MRR shares are of an amount, shown as the base.
    let amounts = c.measure != cxkpi_core::cohort::Measure::Customers;
    let mut segment: Option<&Option<String>> = None;
    for row in &page.cohorts {
        if segment != Some(&row.segment) {
            segment = Some(&row.segment);
            writeln!(out)?;
            if let (Some(by), Some(s)) = (&c.by, &row.segment) {
                writeln!(out, "{by} = {s}")?;
            }
            write!(out, "{:<12} {:>8}", "cohort", "size")?;
            if amounts {
                write!(out, " {:>12}", "base")?;
            }
            for age in 0..ages {
                write!(out, " {age:>6}")?;
            }
            writeln!(out)?;
        }
        write!(out, "{:<12} {:>8}", row.cohort, row.size)?;
        if amounts {
            write!(out, " {:>12.2}", row.base)?;
        }
        for cell in &row.cells {
            match cell.share {
                Some(s) => write!(out, " {s:>5.1}%")?,
                None => write!(out, " {:>6}", "-")?,
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// A row per cohort and age (safe to open in a spreadsheet).
pub fn write_csv(out: &mut impl Write, c: &Cohorts) -> io::Result<()> {
    let page = wire::Cohorts::from(c);
    let mut csv = SafeCsv::new(out);
    csv.write_record([
        "segment", "cohort", "size", "base", "age", "period", "value", "share",
    ])?;
    for row in &page.cohorts {
        for cell in &row.cells {
            csv.write_record([
                row.segment.clone().unwrap_or_default(),
                row.cohort.clone(),
                row.size.to_string(),
                row.base.to_string(),
                cell.age.to_string(),
                cell.period.clone(),
                cell.value.to_string(),
                cell.share.map_or(String::new(), |s| s.to_string()),
            ])?;
        }
    }
    csv.flush()
}

/// The triangle as JSON (the wire type).
pub fn write_json(out: &mut impl Write, c: &Cohorts) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &wire::Cohorts::from(c))?;
    writeln!(out)
}
