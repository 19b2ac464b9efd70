//! The ids of a stored table with their row hash and the part file holding them: what
//! an import checks each input row against (new, unchanged or replaced, and which part
//! to rewrite).
//!
//! A one-shot import reads it from the table's part files. A long-running writer (the
//! server folding its intake log every second) keeps it between imports
//! ([`crate::Store::keep_id_indexes`]), so that a batch costs what the batch holds, not
//! what the table holds: after each commit the index takes in the ids of the new part
//! files (read back, a batch's worth) and follows the renames of rewritten and
//! compacted parts (their ids are not read again). An index is used only if it
//! describes exactly the table's current parts; anything else (another process's
//! import or compaction, a failed import) makes the next import read it afresh.

use std::collections::HashMap;
use std::path::Path;

use cxkpi_core::entity::Entity;

use crate::error::Result;
use crate::idtable::IdTable;
use crate::manifest::{Part, TableState};
use crate::part;

pub(crate) struct IdIndex {
    /// Per id: (file number, row hash).
    pub(crate) ids: IdTable<(u32, u64)>,
    /// File number → the part file now holding that number's rows (several numbers
    /// may name one file after a compaction).
    files: Vec<String>,
    /// Part file → the file numbers naming it.
    owners: HashMap<String, Vec<u32>>,
    /// The table's part files this index describes, in the manifest's order.
    parts: Vec<String>,
}

impl std::fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdIndex")
            .field("files", &self.files.len())
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

fn names(table: &TableState) -> Vec<String> {
    table.parts.iter().map(|p| p.file.clone()).collect()
}

impl IdIndex {
    /// Reads the ids of every part of `table`.
    pub(crate) fn build(store_dir: &Path, entity: Entity, table: &TableState) -> Result<IdIndex> {
        let mut index = IdIndex {
            ids: IdTable::new(),
            files: Vec::new(),
            owners: HashMap::new(),
            parts: names(table),
        };
        index.ids.reserve(table.rows() as usize, 12);
        for part in &table.parts {
            index.add_part(store_dir, entity, part)?;
        }
        Ok(index)
    }

    /// Whether the index describes exactly `table`'s parts.
    pub(crate) fn describes(&self, table: &TableState) -> bool {
        self.parts.len() == table.parts.len()
            && self
                .parts
                .iter()
                .zip(&table.parts)
                .all(|(a, b)| *a == b.file)
    }

    /// The position in `table.parts` of the part holding file number `file`.
    pub(crate) fn part_of(&self, file: u32, positions: &HashMap<&str, usize>) -> Option<usize> {
        positions.get(self.files[file as usize].as_str()).copied()
    }

    /// Reads the ids of `part`, a file new to the index; they point to it from now on
    /// (an id already known moves to it: it was replaced).
    pub(crate) fn add_part(&mut self, store_dir: &Path, entity: Entity, part: &Part) -> Result<()> {
        let number = u32::try_from(self.files.len()).expect("fewer than 4 billion files");
        self.files.push(part.file.clone());
        self.owners
            .entry(part.file.clone())
            .or_default()
            .push(number);
        let ids = &mut self.ids;
        part::read_ids(store_dir, entity, part, |id, hash| {
            ids.insert(id, (number, hash));
        })
    }

    /// The rows of part file `old` are now in `new` (a rewrite without some rows, or a
    /// compaction concatenating parts).
    pub(crate) fn rename(&mut self, old: &str, new: &str) {
        let Some(numbers) = self.owners.remove(old) else {
            return;
        };
        for &n in &numbers {
            self.files[n as usize] = new.to_string();
        }
        self.owners
            .entry(new.to_string())
            .or_default()
            .extend(numbers);
    }

    /// The index now describes `table` (after the changes above).
    pub(crate) fn set_parts(&mut self, table: &TableState) {
        self.parts = names(table);
        // File names no part holds any more are forgotten (their numbers stay, named
        // after a file that no id points to, or renamed above).
        self.owners
            .retain(|name, _| table.parts.iter().any(|p| &p.file == name));
    }
}

/// The positions of `table`'s parts by file name.
pub(crate) fn positions(table: &TableState) -> HashMap<&str, usize> {
    table
        .parts
        .iter()
        .enumerate()
        .map(|(p, part)| (part.file.as_str(), p))
        .collect()
}
