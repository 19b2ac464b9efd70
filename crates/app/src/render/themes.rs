//! `cxkpi themes` as text or JSON.

use std::io::{self, Write};

use crate::themes::Themes;
use crate::wire;

/// A paragraph per period and segment: counts, then the two lists of terms.
pub fn write_text(out: &mut impl Write, rows: &[Themes]) -> io::Result<()> {
    for row in rows {
        writeln!(
            out,
            "{}{}: {} negative, {} positive comments",
            row.period,
            row.segment
                .as_deref()
                .map(|s| format!(" / {s}"))
                .unwrap_or_default(),
            row.negative_comments,
            row.positive_comments
        )?;
        let terms = |terms: &[cxkpi_core::themes::Term]| {
            terms
                .iter()
                .map(|t| format!("{} ({})", t.term, t.negative))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(out, "  most frequent in negative: {}", terms(&row.frequent))?;
        writeln!(
            out,
            "  most distinctive of negative: {}\n",
            terms(&row.distinctive)
        )?;
    }
    Ok(())
}

/// The themes as pretty JSON (the wire type).
pub fn write_json(out: &mut impl Write, rows: &[Themes]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &wire::ThemesRows::from(rows))?;
    writeln!(out)
}
