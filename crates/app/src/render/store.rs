//! What the store's commands report (import, tables, compact, doctor, repair) and the
//! KPI catalogue, as text or JSON.

use std::io::{self, Write};

use cxkpi_store::{CompactedTable, Diagnosis, ImportSummary, RepairPlan, Snapshot};

use crate::wire;

fn json_line(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// An import's summary as text: counts, where the rejects are, what is stored now.
/// Refusals go to `notes` (standard error in the CLI).
pub fn write_import_text(
    out: &mut impl Write,
    notes: &mut impl Write,
    s: &ImportSummary,
    seconds: f64,
    strict: bool,
) -> io::Result<()> {
    for input in &s.inputs {
        if let Some(reason) = &input.refused {
            writeln!(notes, "refused {}: {reason}", input.name)?;
        }
    }
    writeln!(
        out,
        "{}: read {}, new {}, replaced {}, unchanged {}, rejected {}{} ({:.1} s)",
        s.entity.name(),
        s.read,
        s.new,
        s.replaced,
        s.unchanged,
        s.rejected,
        if s.superseded > 0 {
            format!(
                ", superseded by a later row of the same id {}",
                s.superseded
            )
        } else {
            String::new()
        },
        seconds
    )?;
    if let Some(path) = &s.rejects_file {
        writeln!(
            out,
            "rejected rows (line, column, reason): {}",
            path.display()
        )?;
    }
    if s.stored {
        writeln!(out, "{} now holds {} rows", s.entity.name(), s.table_rows)
    } else if strict && s.rejected > 0 {
        writeln!(
            out,
            "nothing stored: --strict and {} rows were rejected",
            s.rejected
        )
    } else if s.rejected > 0 {
        writeln!(out, "nothing stored: every row was rejected")
    } else {
        writeln!(out, "nothing stored")
    }
}

/// An import's summary as one line of JSON (the wire type).
pub fn write_import_json(out: &mut impl Write, s: &ImportSummary, seconds: f64) -> io::Result<()> {
    json_line(out, &wire::ImportSummary::new(s, Some(seconds)))
}

/// Rows, part files and dimensions of every table.
pub fn write_tables_text(out: &mut impl Write, snapshot: &Snapshot) -> io::Result<()> {
    writeln!(
        out,
        "{:<14} {:>12} {:>6}  dimensions",
        "table", "rows", "files"
    )?;
    for t in snapshot.tables() {
        writeln!(
            out,
            "{:<14} {:>12} {:>6}  {}",
            t.entity.name(),
            t.rows,
            t.parts,
            t.dimensions.join(", ")
        )?;
    }
    Ok(())
}

/// The tables as one line of JSON (the wire type).
pub fn write_tables_json(out: &mut impl Write, snapshot: &Snapshot) -> io::Result<()> {
    json_line(out, &wire::Tables::from(snapshot))
}

/// What compaction did, a line per table.
pub fn write_compacted_text(out: &mut impl Write, tables: &[CompactedTable]) -> io::Result<()> {
    for t in tables {
        writeln!(
            out,
            "{:<14} {:>12} rows  {} -> {} part files",
            t.entity.name(),
            t.rows,
            t.parts_before,
            t.parts_after
        )?;
    }
    Ok(())
}

/// What compaction did as one line of JSON (the wire type).
pub fn write_compacted_json(out: &mut impl Write, tables: &[CompactedTable]) -> io::Result<()> {
    json_line(out, &wire::Compacted::from(tables))
}

/// What `doctor` found, for people.
pub fn write_diagnosis_text(out: &mut impl Write, d: &Diagnosis) -> io::Result<()> {
    writeln!(
        out,
        "manifest           {}",
        wire::manifest_status(&d.manifest)
    )?;
    writeln!(
        out,
        "previous manifest  {}",
        wire::manifest_status(&d.previous)
    )?;
    writeln!(out, "part files         {}", d.part_files)?;
    for problem in &d.broken_parts {
        writeln!(out, "damaged: {problem}")?;
    }
    for file in &d.unknown_files {
        writeln!(out, "kept, named by no manifest: store/{file}")?;
    }
    for version in &d.pending {
        writeln!(
            out,
            "unfinished change: version {version} (the next writer settles it)"
        )?;
    }
    if d.is_healthy() {
        writeln!(out, "the store is healthy")
    } else {
        writeln!(
            out,
            "the store is damaged: `cxkpi repair` shows how it would repair it"
        )
    }
}

/// What `doctor` found as one line of JSON (the wire type).
pub fn write_diagnosis_json(out: &mut impl Write, d: &Diagnosis) -> io::Result<()> {
    json_line(out, &wire::Diagnosis::from(d))
}

/// What a repair will do.
pub fn write_repair_plan(out: &mut impl Write, plan: &RepairPlan) -> io::Result<()> {
    if plan.rebuilt {
        writeln!(
            out,
            "The manifest will be rebuilt from the part files as version {}:",
            plan.version
        )?;
    } else {
        writeln!(
            out,
            "The manifest will lose the parts that are gone, as version {}:",
            plan.version
        )?;
    }
    for t in &plan.tables {
        writeln!(
            out,
            "  {:<14} {:>12} rows in {} part files",
            t.entity.name(),
            t.rows,
            t.parts
        )?;
        for file in &t.superseded {
            writeln!(
                out,
                "    superseded (its rows are all in newer files): store/{file}"
            )?;
        }
        for (file, kept) in &t.trimmed {
            writeln!(
                out,
                "    rewritten with the {kept} rows no newer file holds: store/{file}"
            )?;
        }
        for (problem, rows) in &t.dropped {
            writeln!(out, "    dropped, {rows} rows lost: {problem}")?;
        }
    }
    for file in &plan.left_out {
        writeln!(out, "  left out and kept on disk: store/{file}")?;
    }
    Ok(())
}

/// The KPI catalogue as a table.
pub fn write_kpi_list_text(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<24} {:<28} {:<22} {:<7} formula",
        "kpi", "name", "unit", "better"
    )?;
    for k in cxkpi_core::kpi::CATALOGUE {
        writeln!(
            out,
            "{:<24} {:<28} {:<22} {:<7} {}",
            k.id,
            k.name,
            k.unit.name(),
            wire::direction(k.direction),
            k.formula
        )?;
    }
    Ok(())
}

/// The KPI catalogue as one line of JSON (the wire type).
pub fn write_kpi_list_json(out: &mut impl Write) -> io::Result<()> {
    json_line(out, &wire::KpiList::catalogue())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxkpi_core::kpi::CATALOGUE;

    /// The renderers write to any `impl Write`: the catalogue as text and as JSON, read
    /// back, list every KPI once, in the catalogue's order.
    #[test]
    fn the_catalogue_renders_every_kpi_in_order() {
        let mut text = Vec::new();
        write_kpi_list_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let ids: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        let expected: Vec<&str> = CATALOGUE.iter().map(|k| k.id).collect();
        assert_eq!(ids, expected);
        let mut json = Vec::new();
        write_kpi_list_json(&mut json).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let rows = value["rows"].as_array().unwrap();
        let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, expected);
        let nps = rows.iter().find(|r| r["id"] == "nps").unwrap();
        assert_eq!(nps["better"], "higher");
        assert_eq!(
            nps["unit"],
            CATALOGUE
                .iter()
                .find(|k| k.id == "nps")
                .unwrap()
                .unit
                .name()
        );
    }
}
