//! The manifest: which Parquet files make up each table, switched atomically.
//!
//! `store/manifest.json` names every live part file. A change (an import, a compaction)
//! writes its new part files first and syncs them, then writes the next manifest to
//! `manifest.json.tmp`, syncs it and renames it over `manifest.json`, then syncs the
//! directory. A rename is atomic, so a reader or a crash sees the old manifest or the new
//! one, never a mix; part files that no manifest names (left by a crash) are orphans and
//! are removed by the next writer. Files a change replaces are kept as `retired` for a
//! grace period so that readers still holding the previous snapshot can finish.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result, StoreError};

/// The manifest file name inside the store directory.
pub(crate) const MANIFEST: &str = "manifest.json";
const MANIFEST_TMP: &str = "manifest.json.tmp";
const FORMAT: u32 = 1;

/// One version of the store's contents.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Manifest {
    pub format: u32,
    /// Increases by one with every committed change.
    pub version: u64,
    /// Tables by entity name; an entity never imported has no entry.
    pub tables: BTreeMap<String, TableState>,
    /// Files replaced by a change, deleted once their grace period has passed.
    #[serde(default)]
    pub retired: Vec<Retired>,
}

/// The live state of one table.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct TableState {
    /// Dimension columns (lower case), in the order they first appeared.
    pub dimensions: Vec<String>,
    /// The part files; no id occurs in more than one part, nor twice in one.
    pub parts: Vec<Part>,
}

/// One immutable Parquet file of a table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Part {
    /// Path relative to the store directory, e.g. `orders/00000003-....parquet`.
    pub file: String,
    pub rows: u64,
}

/// A file no longer live.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Retired {
    pub file: String,
    /// Unix seconds when it was retired.
    pub at: u64,
}

impl TableState {
    pub fn rows(&self) -> u64 {
        self.parts.iter().map(|p| p.rows).sum()
    }
}

/// Reads the current manifest; an empty store has version 0 and no tables.
pub(crate) fn load(store_dir: &Path) -> Result<Manifest> {
    let path = store_dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Manifest {
                format: FORMAT,
                ..Manifest::default()
            });
        }
        Err(e) => return Err(e).context(|| format!("reading {}", path.display())),
    };
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| StoreError::Internal(format!("{} is corrupt: {e}", path.display())))?;
    if manifest.format != FORMAT {
        return Err(StoreError::Internal(format!(
            "{} has format {}, this cxkpi reads format {FORMAT}",
            path.display(),
            manifest.format
        )));
    }
    Ok(manifest)
}

/// Makes `manifest` the current one, atomically and durably. The caller holds the
/// write lock and has synced every part file the manifest names.
pub(crate) fn commit(store_dir: &Path, manifest: &Manifest) -> Result<()> {
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| StoreError::Internal(format!("serialising the manifest: {e}")))?;
    write_durably(
        store_dir,
        MANIFEST,
        MANIFEST_TMP,
        text.as_bytes(),
        "before-manifest-rename",
    )
}

/// Replaces `dir/name` with `bytes` atomically and durably: written and synced as
/// `dir/tmp_name`, renamed over `name`, and the directory synced. Readers see the old
/// file or the new one, never a part of either; `fail_point` names the crash test
/// point between the write and the rename.
pub(crate) fn write_durably(
    dir: &Path,
    name: &str,
    tmp_name: &str,
    bytes: &[u8],
    fail_point: &str,
) -> Result<()> {
    let tmp = dir.join(tmp_name);
    let mut file = File::create(&tmp).context(|| format!("creating {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .context(|| format!("writing {}", tmp.display()))?;
    drop(file);
    crate::fail_point(fail_point);
    fs::rename(&tmp, dir.join(name)).context(|| format!("renaming {} to {name}", tmp.display()))?;
    sync_dir(dir)
}

/// Makes a directory's entries (created or renamed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .context(|| format!("syncing directory {}", dir.display()))
}
