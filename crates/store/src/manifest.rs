//! The manifest: which Parquet files make up each table, switched atomically.
//!
//! `store/manifest.json` names every live part file. A change (an import, a compaction)
//! writes its new part files first and syncs them, then writes the next manifest to
//! `manifest.json.tmp`, syncs it and renames it over `manifest.json`, then syncs the
//! directory. A rename is atomic, so a reader or a crash sees the old manifest or the new
//! one, never a mix. Files a change replaces are kept as `retired` for a grace period
//! so that readers still holding the previous snapshot can finish. The manifest it
//! replaces is kept as `manifest.json.prev`, so one bad write of it is recoverable.
//!
//! A file is deleted only when the manifest history proves it is not live: a retired
//! file past its grace period, or a file of a change whose [`Pending`] marker is still
//! there (the writer died) and which the manifest does not name. A part file is named
//! `VERSION-NONCE-SEQ.parquet` after the manifest version it was written for, and the
//! marker `pending-VERSION` holds the version the writer started from: if the manifest
//! is still at that version the change never committed, and if it is at VERSION or
//! later the change committed and any file of it that the manifest does not name was an
//! intermediate. A missing or unreadable manifest while part files exist is damage, not
//! an empty store: every command stops with the recovery hint and nothing is deleted.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use cxkpi_core::entity::Entity;

use crate::error::{IoContext, Result, StoreError};

/// The manifest file name inside the store directory.
pub(crate) const MANIFEST: &str = "manifest.json";
pub(crate) const MANIFEST_TMP: &str = "manifest.json.tmp";
/// The manifest before the last commit.
pub(crate) const MANIFEST_PREV: &str = "manifest.json.prev";
const MANIFEST_PREV_TMP: &str = "manifest.json.prev.tmp";
const PENDING_PREFIX: &str = "pending-";
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

/// What a manifest file holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Loaded {
    /// A readable manifest.
    Manifest(Manifest),
    /// There is no such file.
    Missing,
    /// The file is there but cannot be used; the reason names it.
    Unreadable(String),
}

/// Reads a manifest file of the store (`manifest.json` or `manifest.json.prev`).
pub(crate) fn read(store_dir: &Path, name: &str) -> Result<Loaded> {
    let path = store_dir.join(name);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Missing),
        Err(e) => return Err(e).context(|| format!("reading {}", path.display())),
    };
    let manifest: Manifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            let what = if bytes.is_empty() {
                "is empty".to_string()
            } else {
                format!("is corrupt ({e})")
            };
            return Ok(Loaded::Unreadable(format!("{} {what}", path.display())));
        }
    };
    if manifest.format != FORMAT {
        return Ok(Loaded::Unreadable(format!(
            "{} has format {}, this cxkpi reads format {FORMAT}",
            path.display(),
            manifest.format
        )));
    }
    Ok(Loaded::Manifest(manifest))
}

/// Reads the current manifest. A store without one and without part files is empty
/// (version 0, no tables); without one but with part files, or with one that cannot be
/// read, it is damaged.
pub(crate) fn load(store_dir: &Path) -> Result<Manifest> {
    match read(store_dir, MANIFEST)? {
        Loaded::Manifest(manifest) => Ok(manifest),
        Loaded::Unreadable(problem) => Err(StoreError::Damaged { problem }),
        Loaded::Missing => {
            let files = part_files(store_dir)?;
            if files.is_empty() {
                Ok(Manifest {
                    format: FORMAT,
                    ..Manifest::default()
                })
            } else {
                Err(StoreError::Damaged {
                    problem: format!(
                        "{} is missing, but the store holds {} part file{}",
                        store_dir.join(MANIFEST).display(),
                        files.len(),
                        if files.len() == 1 { "" } else { "s" }
                    ),
                })
            }
        }
    }
}

/// Makes `manifest` the current one, atomically and durably, keeping the one it
/// replaces (when that is readable) as `manifest.json.prev`. The caller holds the
/// write lock and has synced every part file the manifest names.
pub(crate) fn commit(store_dir: &Path, manifest: &Manifest) -> Result<()> {
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| StoreError::Internal(format!("serialising the manifest: {e}")))?;
    if let Loaded::Manifest(_) = read(store_dir, MANIFEST)? {
        // A second name for the current file, switched in by a rename: `.prev` is
        // always a whole manifest.
        let prev_tmp = store_dir.join(MANIFEST_PREV_TMP);
        let _ = fs::remove_file(&prev_tmp);
        let current = store_dir.join(MANIFEST);
        fs::hard_link(&current, &prev_tmp)
            .or_else(|_| fs::copy(&current, &prev_tmp).map(|_| ()))
            .context(|| format!("keeping {} as {MANIFEST_PREV}", current.display()))?;
        fs::rename(&prev_tmp, store_dir.join(MANIFEST_PREV))
            .context(|| format!("renaming {} to {MANIFEST_PREV}", prev_tmp.display()))?;
    }
    write_durably(
        store_dir,
        MANIFEST,
        MANIFEST_TMP,
        text.as_bytes(),
        "before-manifest-rename",
    )
}

/// A part file found in a table's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundFile {
    pub entity: Entity,
    /// Relative to the store directory, as the manifest names it.
    pub file: String,
    /// The manifest version it was written for, when its name says.
    pub version: Option<u64>,
}

/// Every `.parquet` file in the tables' directories.
pub(crate) fn part_files(store_dir: &Path) -> Result<Vec<FoundFile>> {
    let mut found = Vec::new();
    for entity in Entity::ALL {
        let dir = store_dir.join(entity.name());
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).context(|| format!("listing {}", dir.display())),
        };
        for entry in entries {
            let entry = entry.context(|| format!("listing {}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".parquet") {
                continue;
            }
            found.push(FoundFile {
                entity,
                version: part_version(&name),
                file: format!("{}/{name}", entity.name()),
            });
        }
    }
    found.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(found)
}

/// The version in a part file's name (`00000003-<nonce>-000.parquet` -> 3).
pub(crate) fn part_version(name: &str) -> Option<u64> {
    let name = name.rsplit('/').next()?;
    let (version, _) = name.split_once('-')?;
    (version.len() == 8 && version.bytes().all(|b| b.is_ascii_digit()))
        .then(|| version.parse().ok())
        .flatten()
}

/// The marker of a change being written: created (durably) before the first file of
/// `version`, removed once the change committed or was abandoned. A marker still there
/// tells the next writer that files of that version may be a dead writer's.
#[derive(Debug)]
pub(crate) struct Pending {
    path: PathBuf,
}

impl Pending {
    /// Marks that files of `version` are about to be written, starting from `base`.
    pub fn begin(store_dir: &Path, version: u64, base: u64) -> Result<Pending> {
        let path = store_dir.join(format!("{PENDING_PREFIX}{version:08}"));
        let mut file = File::create(&path).context(|| format!("creating {}", path.display()))?;
        file.write_all(base.to_string().as_bytes())
            .and_then(|()| file.sync_all())
            .context(|| format!("writing {}", path.display()))?;
        sync_dir(store_dir)?;
        Ok(Pending { path })
    }

    /// The change is over (committed, or its files removed).
    pub fn end(self) {
        // A marker left behind only makes the next writer check this version again.
        let _ = fs::remove_file(&self.path);
    }
}

/// A marker left by a writer that did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    pub path: PathBuf,
    /// The version the writer was writing.
    pub version: u64,
    /// The manifest version it started from (`None` when the marker is unreadable).
    pub base: Option<u64>,
}

/// The markers in the store directory.
pub(crate) fn markers(store_dir: &Path) -> Result<Vec<Marker>> {
    let mut found = Vec::new();
    let entries = fs::read_dir(store_dir).context(|| format!("listing {}", store_dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(version) = name
            .strip_prefix(PENDING_PREFIX)
            .and_then(|v| v.parse::<u64>().ok())
        else {
            continue;
        };
        let base = fs::read_to_string(entry.path())
            .ok()
            .and_then(|t| t.trim().parse().ok());
        found.push(Marker {
            path: entry.path(),
            version,
            base,
        });
    }
    found.sort_by_key(|m| m.version);
    Ok(found)
}

impl Marker {
    /// Whether the manifest history proves that every file of this marker's version
    /// that `manifest` does not name is dead: the change never committed (the manifest
    /// is still at its base) or it committed (the manifest is at its version or later).
    pub fn settled_by(&self, manifest: &Manifest) -> bool {
        self.base == Some(manifest.version) || manifest.version >= self.version
    }
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
