//! `cxkpi demo`: what was generated and imported, the tables, the scorecard.

use std::io::{self, Write};

use cxkpi_core::config::Config;

use crate::demo::Demo;
use crate::wire;

/// The demo as one JSON object.
pub fn write_json(out: &mut impl Write, demo: &Demo, config: &Config) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &wire::Demo::new(demo, config))?;
    writeln!(out)
}

/// The demo for people: the imports, the tables, the scorecard, what to try next.
pub fn write_text(out: &mut impl Write, demo: &Demo, config: &Config) -> crate::Result<()> {
    let io = |e: io::Error| crate::AppError::new(crate::ErrorKind::Internal, e.to_string());
    writeln!(
        out,
        "Demo company written to {} in {:.1} s and imported into {} in {:.1} s.\n",
        demo.data.display(),
        demo.generate_seconds,
        demo.workspace.display(),
        demo.import_seconds
    )
    .map_err(io)?;
    writeln!(
        out,
        "{:<14} {:>10} {:>10} {:>10} {:>10}",
        "table", "read", "new", "rejected", "stored"
    )
    .map_err(io)?;
    for s in &demo.imports {
        writeln!(
            out,
            "{:<14} {:>10} {:>10} {:>10} {:>10}",
            s.entity.name(),
            s.read,
            s.new,
            s.rejected,
            s.table_rows
        )
        .map_err(io)?;
    }
    writeln!(out).map_err(io)?;
    super::store::write_tables_text(out, &demo.snapshot).map_err(io)?;
    writeln!(out, "\nScorecard of the last complete month:\n").map_err(io)?;
    super::kpis::write_rows(
        out,
        &demo.scorecard.rows,
        "table",
        config,
        &demo.scorecard.left_out,
        &demo.scorecard.warnings,
        true,
    )?;
    writeln!(
        out,
        "\nNext: `cxkpi --workspace {0} kpi nps --by region --compare`, `cxkpi --workspace {0} report --from 2026-01-01 --to 2026-11-01 --grain month`, or import your own data into a new workspace (`cxkpi init`).",
        demo.workspace.display()
    )
    .map_err(io)
}
