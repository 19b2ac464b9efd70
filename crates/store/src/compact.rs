//! Compaction: folding small part files into few large ones.
//!
//! Because no id is ever in two parts (the import keeps that invariant), compaction is
//! plain concatenation: it never has to choose between versions of a row. Superseded
//! rows are removed when they are superseded (the import rewrites the part that held
//! them), so what compaction bounds is the number of files, and with it the cost of a
//! query, whatever the number of imports or small appends.
//!
//! Policy: parts below half the target size are *small*; when a table has two or more,
//! they are concatenated in order into parts of at most the target size. After that at
//! most one small part remains, so a table of N rows has about N / target + 1 parts.

use std::collections::HashSet;

use cxkpi_core::entity::Entity;

use crate::Store;
use crate::error::Result;
use crate::import::unix_now;
use crate::manifest::{self, Manifest, Part, Pending, Retired};
use crate::part::{self, OpenPart};
use crate::schema;

/// Rows a compacted part aims at.
pub const TARGET_PART_ROWS: u64 = 4 << 20;

/// What a compaction did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactedTable {
    /// The table.
    pub entity: Entity,
    /// Part files before.
    pub parts_before: usize,
    /// Part files after.
    pub parts_after: usize,
    /// Rows (unchanged by compaction).
    pub rows: u64,
}

/// Part files concatenated into one by a compaction.
#[derive(Debug, Clone)]
pub(crate) struct Merge {
    pub(crate) entity: Entity,
    pub(crate) from: Vec<String>,
    pub(crate) into: String,
}

/// Compacts the tables of `only` (or all) under the write lock the caller holds;
/// returns what it did per table, and which files it merged into which.
/// `thorough` treats every part below the target size as small (the `compact` command);
/// the automatic compaction after imports only folds parts below half of it.
pub(crate) fn run_locked(
    store: &Store,
    manifest: &mut Manifest,
    only: Option<Entity>,
    thorough: bool,
) -> Result<(Vec<CompactedTable>, Vec<Merge>)> {
    let mut report = Vec::new();
    let mut merges = Vec::new();
    let mut next = manifest.clone();
    next.version += 1;
    let mut retired = Vec::new();
    let mut pending = None;
    for entity in Entity::ALL {
        if only.is_some_and(|o| o != entity) {
            continue;
        }
        let Some(table) = manifest.tables.get(entity.name()) else {
            continue;
        };
        let limit = if thorough {
            TARGET_PART_ROWS
        } else {
            TARGET_PART_ROWS / 2
        };
        let small: Vec<usize> = (0..table.parts.len())
            .filter(|&p| table.parts[p].rows < limit)
            .collect();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut rows_in_group = 0;
        for p in small {
            let rows = table.parts[p].rows;
            match groups.last_mut() {
                Some(g) if rows_in_group + rows <= TARGET_PART_ROWS => {
                    g.push(p);
                    rows_in_group += rows;
                }
                _ => {
                    groups.push(vec![p]);
                    rows_in_group = rows;
                }
            }
        }
        groups.retain(|g| g.len() > 1);
        if groups.is_empty() {
            report.push(CompactedTable {
                entity,
                parts_before: table.parts.len(),
                parts_after: table.parts.len(),
                rows: table.rows(),
            });
            continue;
        }
        let schema = schema::part_schema(entity, &table.dimensions);
        let merged: HashSet<usize> = groups.iter().flatten().copied().collect();
        let mut parts: Vec<Part> = (0..table.parts.len())
            .filter(|p| !merged.contains(p))
            .map(|p| table.parts[p].clone())
            .collect();
        if pending.is_none() {
            pending = Some(Pending::begin(
                &store.store_dir,
                next.version,
                manifest.version,
            )?);
        }
        for (seq, group) in groups.iter().enumerate() {
            crate::fail_point_error("compaction-write")?;
            let file = part::new_part_name(entity, next.version, seq);
            let mut out = OpenPart::create(&store.store_dir, file, schema.clone())?;
            let mut from = Vec::new();
            for &p in group {
                part::read_part(&store.store_dir, &table.parts[p], &schema, |batch| {
                    out.write(&batch)
                })?;
                retired.push(table.parts[p].file.clone());
                from.push(table.parts[p].file.clone());
            }
            let part = out.close()?;
            merges.push(Merge {
                entity,
                from,
                into: part.file.clone(),
            });
            parts.push(part);
        }
        manifest::sync_dir(&store.store_dir.join(entity.name()))?;
        report.push(CompactedTable {
            entity,
            parts_before: table.parts.len(),
            parts_after: parts.len(),
            rows: table.rows(),
        });
        let state = next.tables.get_mut(entity.name()).expect("exists");
        state.parts = parts;
    }
    if !retired.is_empty() {
        let now = unix_now();
        next.retired
            .extend(retired.into_iter().map(|file| Retired { file, at: now }));
        crate::fail_point("before-compaction-commit");
        manifest::commit(&store.store_dir, &next)?;
        *manifest = next;
    }
    if let Some(pending) = pending {
        pending.end();
    }
    Ok((report, merges))
}
