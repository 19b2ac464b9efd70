//! `cxkpi mrr-movements` as a table (a line per period, a block per segment), CSV or
//! JSON; every row shows that start + movements = end.

use std::io::{self, Write};

use super::SafeCsv;
use crate::movements::MrrMovements;
use crate::wire;

/// A line per period: start, each movement with its count, end, and the check.
pub fn write_table(out: &mut impl Write, m: &MrrMovements) -> io::Result<()> {
    let page = wire::MrrMovements::from(m);
    let mut segment: Option<&Option<String>> = None;
    for row in &page.rows {
        if segment != Some(&row.segment) {
            segment = Some(&row.segment);
            if let (Some(by), Some(s)) = (&m.by, &row.segment) {
                writeln!(out, "\n{by} = {s}")?;
            }
            writeln!(
                out,
                "{:<12} {:>14} {:>22} {:>22} {:>22} {:>22} {:>22} {:>14}",
                "period",
                "start",
                "new",
                "reactivation",
                "expansion",
                "contraction",
                "churned",
                "end"
            )?;
        }
        let cell = |amount: f64, count: u64| format!("{amount:.2} ({count})");
        writeln!(
            out,
            "{:<12} {:>14.2} {:>22} {:>22} {:>22} {:>22} {:>22} {:>14.2}{}",
            row.period,
            row.start,
            cell(row.new, row.new_count),
            cell(row.reactivation, row.reactivation_count),
            cell(row.expansion, row.expansion_count),
            cell(row.contraction, row.contraction_count),
            cell(row.churned, row.churned_count),
            row.end,
            if row.balanced {
                ""
            } else {
                "  start + movements != end"
            }
        )?;
    }
    Ok(())
}

const COLUMNS: [&str; 15] = [
    "segment",
    "period",
    "start",
    "new",
    "new_count",
    "reactivation",
    "reactivation_count",
    "expansion",
    "expansion_count",
    "contraction",
    "contraction_count",
    "churned",
    "churned_count",
    "end",
    "balanced",
];

/// A row per segment and period (safe to open in a spreadsheet).
pub fn write_csv(out: &mut impl Write, m: &MrrMovements) -> io::Result<()> {
    let page = wire::MrrMovements::from(m);
    let mut csv = SafeCsv::new(out);
    csv.write_record(COLUMNS)?;
    for r in &page.rows {
        csv.write_record([
            r.segment.clone().unwrap_or_default(),
            r.period.clone(),
            r.start.to_string(),
            r.new.to_string(),
            r.new_count.to_string(),
            r.reactivation.to_string(),
            r.reactivation_count.to_string(),
            r.expansion.to_string(),
            r.expansion_count.to_string(),
            r.contraction.to_string(),
            r.contraction_count.to_string(),
            r.churned.to_string(),
            r.churned_count.to_string(),
            r.end.to_string(),
            r.balanced.to_string(),
        ])?;
    }
    csv.flush()
}

/// The movements as JSON (the wire type).
pub fn write_json(out: &mut impl Write, m: &MrrMovements) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &wire::MrrMovements::from(m))?;
    writeln!(out)
}
