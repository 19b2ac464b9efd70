//! `cxkpi survival` as a table or JSON.

use std::io::{self, Write};

use crate::survival::Survival;
use crate::wire;

/// The survival table: a line per segment, then the log-rank test.
pub fn write_table(out: &mut impl Write, s: &Survival) -> io::Result<()> {
    writeln!(
        out,
        "Customer survival as of {} (durations in {}; median with 95% interval; RMST up to {:.1})\n",
        s.as_of,
        s.unit.name(),
        s.rmst_tau
    )?;
    writeln!(
        out,
        "{:<20} {:>9} {:>8} {:>8} {:>19} {:>8}",
        "segment", "n", "events", "median", "95% interval", "rmst"
    )?;
    let num = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}"));
    for g in &s.segments {
        writeln!(
            out,
            "{:<20} {:>9} {:>8} {:>8} {:>19} {:>8}",
            g.segment.as_deref().unwrap_or("all"),
            g.n,
            g.events,
            num(g.median),
            format!("{} .. {}", num(g.median_ci.0), num(g.median_ci.1)),
            num(Some(g.rmst).filter(|x| x.is_finite())),
        )?;
    }
    if let Some(l) = &s.log_rank {
        writeln!(
            out,
            "\nlog-rank: chi-square {:.2} on {} df, p = {:.4}",
            l.chi2, l.df, l.p_value
        )?;
    }
    Ok(())
}

/// The survival as pretty JSON (the wire type).
pub fn write_json(out: &mut impl Write, s: &Survival) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &wire::Survival::from(s))?;
    writeln!(out)
}
