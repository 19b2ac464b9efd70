//! Finding damage ([`Store::diagnose`], `cxkpi doctor`) and repairing it
//! ([`Store::plan_repair`] then [`Store::repair`], `cxkpi repair`).
//!
//! With a readable manifest, the repair drops the parts it names that are missing or
//! broken (their rows are lost, and the plan says how many). Without one, it rebuilds
//! the manifest from the part files: for each table, files from the newest version
//! down, a file whose ids all occur in newer live files is superseded (a retired file
//! still inside its grace period), any other is live, less the ids newer files hold
//! (rewritten without them). That is the upsert rule the store keeps (a replaced row's
//! newer version is in a file of a later version). Files of changes whose writer died
//! (a `pending-` marker) may never have been committed and are left out, untouched.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use cxkpi_core::entity::Entity;
use xxhash_rust::xxh3::xxh3_128;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::import::unix_now;
use crate::manifest::{self, Loaded, Manifest, Part, Retired, TableState};
use crate::part;
use crate::schema::{self, ROW_HASH};

/// The state of a manifest file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestStatus {
    /// Readable, at this version.
    Readable {
        /// The version.
        version: u64,
    },
    /// Not there.
    Missing,
    /// There but not usable; why.
    Unreadable(String),
}

/// What `cxkpi doctor` finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// `store/manifest.json`.
    pub manifest: ManifestStatus,
    /// `store/manifest.json.prev`, the manifest before the last change.
    pub previous: ManifestStatus,
    /// Part files in the tables' directories.
    pub part_files: usize,
    /// What is wrong with the parts the manifest names (missing, wrong row count).
    pub broken_parts: Vec<String>,
    /// Part files that no manifest names and no unfinished change accounts for; they
    /// are kept, never deleted.
    pub unknown_files: Vec<String>,
    /// Versions of changes whose writer did not finish (their files are removed by
    /// the next writer once the manifest shows whether they were committed).
    pub pending: Vec<u64>,
}

impl Diagnosis {
    /// Whether every command can read and write the store.
    pub fn is_healthy(&self) -> bool {
        let manifest_ok = match self.manifest {
            ManifestStatus::Readable { .. } => true,
            ManifestStatus::Missing => self.part_files == 0,
            ManifestStatus::Unreadable(_) => false,
        };
        manifest_ok && self.broken_parts.is_empty()
    }
}

/// What a repair will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairPlan {
    /// Whether the manifest is rebuilt from the part files (it is missing or
    /// unreadable) or the readable one loses its broken parts.
    pub rebuilt: bool,
    /// The version the repaired manifest gets.
    pub version: u64,
    /// Per table.
    pub tables: Vec<TablePlan>,
    /// Files left out: written by a change that did not finish, or unreadable.
    pub left_out: Vec<String>,
}

/// What a repair does to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePlan {
    /// The table.
    pub entity: Entity,
    /// Rows it will hold.
    pub rows: u64,
    /// Live part files (after rewriting the trimmed ones).
    pub parts: usize,
    /// Files superseded by newer ones (retired, deleted after the grace period).
    pub superseded: Vec<String>,
    /// Files rewritten without the ids newer files hold: (file, rows kept).
    pub trimmed: Vec<(String, u64)>,
    /// Broken parts dropped from a readable manifest: (what is wrong, rows lost).
    pub dropped: Vec<(String, u64)>,
}

impl Store {
    /// Looks at the store without changing anything.
    pub fn diagnose(&self) -> Result<Diagnosis> {
        let status = |loaded: &Loaded| match loaded {
            Loaded::Manifest(m) => ManifestStatus::Readable { version: m.version },
            Loaded::Missing => ManifestStatus::Missing,
            Loaded::Unreadable(why) => ManifestStatus::Unreadable(why.clone()),
        };
        let current = manifest::read(&self.store_dir, manifest::MANIFEST)?;
        let previous = manifest::read(&self.store_dir, manifest::MANIFEST_PREV)?;
        let files = manifest::part_files(&self.store_dir)?;
        let markers = manifest::markers(&self.store_dir)?;
        let mut broken_parts = Vec::new();
        let mut unknown_files = Vec::new();
        if let Loaded::Manifest(m) = &current {
            for (table, state) in &m.tables {
                for p in &state.parts {
                    if let Some(problem) = part::check(&self.store_dir, p) {
                        broken_parts.push(format!("table {table}: {problem}"));
                    }
                }
            }
            let named: HashSet<&str> = named_files(m).collect();
            unknown_files = files
                .iter()
                .filter(|f| !named.contains(f.file.as_str()))
                .filter(|f| !markers.iter().any(|mk| Some(mk.version) == f.version))
                .map(|f| f.file.clone())
                .collect();
        }
        Ok(Diagnosis {
            manifest: status(&current),
            previous: status(&previous),
            part_files: files.len(),
            broken_parts,
            unknown_files,
            pending: markers.iter().map(|m| m.version).collect(),
        })
    }

    /// What [`Store::repair`] would do; `None` when the store needs no repair.
    pub fn plan_repair(&self) -> Result<Option<RepairPlan>> {
        if self.diagnose()?.is_healthy() {
            return Ok(None);
        }
        repair(self, None).map(Some)
    }

    /// Repairs the store as `plan` (from [`Store::plan_repair`]) says, under the write
    /// lock; fails without changing anything if the store changed since the plan.
    pub fn repair(&self, plan: &RepairPlan) -> Result<RepairPlan> {
        let _lock = self.lock_only()?;
        let again = repair(self, None)?;
        if &again != plan {
            return Err(StoreError::Usage(
                "the store changed since the repair was planned; run `cxkpi repair` again".into(),
            ));
        }
        repair(self, Some(plan.version))
    }
}

fn named_files(m: &Manifest) -> impl Iterator<Item = &str> {
    m.tables
        .values()
        .flat_map(|t| t.parts.iter().map(|p| p.file.as_str()))
        .chain(m.retired.iter().map(|r| r.file.as_str()))
}

/// Plans the repair, and carries it out (as manifest version `execute`) when asked.
fn repair(store: &Store, execute: Option<u64>) -> Result<RepairPlan> {
    let store_dir = &store.store_dir;
    let current = manifest::read(store_dir, manifest::MANIFEST)?;
    let previous = manifest::read(store_dir, manifest::MANIFEST_PREV)?;
    let markers = manifest::markers(store_dir)?;
    let now = unix_now();
    let (plan, next) = match current {
        Loaded::Manifest(m) => drop_broken(store_dir, m),
        Loaded::Missing | Loaded::Unreadable(_) => {
            let mut version = match &previous {
                Loaded::Manifest(p) => p.version,
                _ => 0,
            };
            let files = manifest::part_files(store_dir)?;
            let pending: BTreeSet<u64> = markers.iter().map(|m| m.version).collect();
            version = version
                .max(files.iter().filter_map(|f| f.version).max().unwrap_or(0))
                .max(pending.last().copied().unwrap_or(0))
                + 1;
            let mut plan = RepairPlan {
                rebuilt: true,
                version,
                tables: Vec::new(),
                left_out: Vec::new(),
            };
            let mut next = Manifest {
                format: 1,
                version,
                ..Manifest::default()
            };
            for entity in Entity::ALL {
                let mut candidates: Vec<_> = files
                    .iter()
                    .filter(|f| f.entity == entity)
                    .filter(|f| {
                        let unfinished = f.version.is_some_and(|v| pending.contains(&v));
                        if unfinished {
                            plan.left_out.push(format!(
                                "{} (written by a change that did not finish)",
                                f.file
                            ));
                        }
                        !unfinished
                    })
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                candidates.sort_by(|a, b| (b.version, &b.file).cmp(&(a.version, &a.file)));
                let (table_plan, state, retired) = rebuild_table(
                    store_dir,
                    entity,
                    &candidates
                        .iter()
                        .map(|f| f.file.clone())
                        .collect::<Vec<_>>(),
                    execute,
                    &mut plan.left_out,
                )?;
                plan.tables.push(table_plan);
                if !state.parts.is_empty() {
                    next.tables.insert(entity.name().to_string(), state);
                }
                next.retired
                    .extend(retired.into_iter().map(|file| Retired { file, at: now }));
            }
            (plan, next)
        }
    };
    if let Some(version) = execute {
        debug_assert_eq!(version, plan.version);
        for dir in next.tables.keys() {
            manifest::sync_dir(&store_dir.join(dir))?;
        }
        manifest::commit(store_dir, &next)?;
        // The repaired manifest is the authority now; files a dead writer left are
        // kept (listed by `cxkpi doctor`), never deleted on a guess.
        for marker in markers {
            let _ = std::fs::remove_file(&marker.path);
        }
    }
    Ok(plan)
}

/// A readable manifest less the parts that are missing or broken.
fn drop_broken(store_dir: &Path, mut m: Manifest) -> (RepairPlan, Manifest) {
    let mut plan = RepairPlan {
        rebuilt: false,
        version: m.version + 1,
        tables: Vec::new(),
        left_out: Vec::new(),
    };
    for (name, state) in m.tables.iter_mut() {
        let entity: Entity = name.parse().expect("the manifest names entities");
        let mut dropped = Vec::new();
        state.parts.retain(|p| match part::check(store_dir, p) {
            Some(problem) => {
                dropped.push((problem, p.rows));
                false
            }
            None => true,
        });
        plan.tables.push(TablePlan {
            entity,
            rows: state.rows(),
            parts: state.parts.len(),
            superseded: Vec::new(),
            trimmed: Vec::new(),
            dropped,
        });
    }
    m.version += 1;
    (plan, m)
}

/// The live parts of one table from its files, newest first (see the module doc).
/// Returns the plan, the table's state and the files to retire.
fn rebuild_table(
    store_dir: &Path,
    entity: Entity,
    newest_first: &[String],
    execute: Option<u64>,
    left_out: &mut Vec<String>,
) -> Result<(TablePlan, TableState, Vec<String>)> {
    let mut claimed: HashSet<u128> = HashSet::new();
    let mut plan = TablePlan {
        entity,
        rows: 0,
        parts: 0,
        superseded: Vec::new(),
        trimmed: Vec::new(),
        dropped: Vec::new(),
    };
    let mut live: Vec<(Part, Vec<String>)> = Vec::new();
    let mut retired = Vec::new();
    for (seq, file) in newest_first.iter().enumerate() {
        let unknown_rows = Part {
            file: file.clone(),
            rows: 0,
        };
        let mut ids = Vec::new();
        if let Err(e) = part::read_ids(store_dir, entity, &unknown_rows, |id, _| {
            ids.push(xxh3_128(id.as_bytes()));
        }) {
            left_out.push(format!("{file} (unreadable: {e})"));
            continue;
        }
        let held: HashSet<u128> = ids
            .iter()
            .copied()
            .filter(|id| claimed.contains(id))
            .collect();
        if !ids.is_empty() && held.len() == ids.len() {
            plan.superseded.push(file.clone());
            retired.push(file.clone());
            continue;
        }
        let kept = (ids.len() - ids.iter().filter(|id| held.contains(id)).count()) as u64;
        let mut part = Part {
            file: file.clone(),
            rows: ids.len() as u64,
        };
        if !held.is_empty() {
            plan.trimmed.push((file.clone(), kept));
            if let Some(version) = execute {
                let new_file = part::new_part_name(entity, version, seq);
                let rewritten = part::rewrite_part(store_dir, entity, &part, new_file, |_, id| {
                    !held.contains(&xxh3_128(id.as_bytes()))
                })?;
                retired.push(file.clone());
                part = rewritten.expect("a trimmed part keeps a row");
            }
            part.rows = kept;
        }
        claimed.extend(ids);
        let dimensions = part_dimensions(store_dir, entity, file)?;
        plan.rows += part.rows;
        plan.parts += 1;
        live.push((part, dimensions));
    }
    // Dimensions in the order they first appeared: oldest part first.
    let mut dimensions: Vec<String> = Vec::new();
    for (_, dims) in live.iter().rev() {
        for d in dims {
            if !dimensions.contains(d) {
                dimensions.push(d.clone());
            }
        }
    }
    let mut parts: Vec<Part> = live.into_iter().map(|(p, _)| p).collect();
    parts.reverse();
    Ok((plan, TableState { dimensions, parts }, retired))
}

/// The dimension columns of a part file: what its schema has beyond the contract.
fn part_dimensions(store_dir: &Path, entity: Entity, file: &str) -> Result<Vec<String>> {
    let path = store_dir.join(file);
    let reader = std::fs::File::open(&path).map_err(|e| StoreError::Io {
        context: format!("opening {}", path.display()),
        error: e,
    })?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(reader)?;
    let contract = schema::part_schema(entity, &[]);
    Ok(builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name())
        .filter(|n| *n != ROW_HASH && contract.field_with_name(n).is_err())
        .cloned()
        .collect())
}
