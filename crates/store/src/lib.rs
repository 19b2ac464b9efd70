//! The cxkpi store: a workspace directory holding `cxkpi.toml` and one table per entity
//! as Parquet files under an atomically switched manifest, read through DataFusion.
//!
//! - [`Store`]: open or create a workspace; [`Store::import`] (validated, atomic upsert),
//!   [`Store::compact`], [`Store::snapshot`].
//! - [`Snapshot`]: one consistent version of every table: row counts, dimensions, and a
//!   DataFusion `SessionContext` with the nine tables registered; [`export`] writes a
//!   table as CSV, NDJSON or Parquet.
//!
//! The write path is a library call that takes any number of inputs, so a server can
//! call it for small batches (an NDJSON body is an [`Input`] like a file).
//!
//! ```no_run
//! use cxkpi_core::entity::Entity;
//! use cxkpi_store::{ImportOptions, Input, NoProgress, Store};
//!
//! let store = Store::init(std::path::Path::new("acme"))?;
//! let summary = store.import(
//!     Entity::Orders,
//!     &[Input::from_arg("orders.csv", None)],
//!     &ImportOptions::default(),
//!     &NoProgress,
//! )?;
//! println!("{} new, {} rejected", summary.new, summary.rejected);
//! # Ok::<(), cxkpi_store::StoreError>(())
//! ```
#![deny(missing_docs)]

mod compact;
mod dedup;
mod error;
mod idtable;
mod import;
mod manifest;
mod part;
mod query;
mod schema;
mod source;

use std::collections::HashSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use cxkpi_core::config::{Config, DEFAULT_TOML};
use cxkpi_core::entity::Entity;

pub use compact::{CompactedTable, TARGET_PART_ROWS};
pub use error::{Result, StoreError};
pub use import::{ImportOptions, ImportSummary, InputSummary, NoProgress, Progress};
pub use query::{ExportFormat, Snapshot, TableInfo, export};
pub use schema::{ROW_HASH, table_schema};
pub use source::{Input, InputFormat, InputSource};

use error::IoContext;

/// The configuration file of a workspace.
pub const CONFIG_FILE: &str = "cxkpi.toml";

/// The directory of a workspace where fitted models are saved.
pub const MODELS_DIR: &str = "models";

/// How long a file replaced by a change is kept for readers of the previous snapshot.
const RETIRED_GRACE_SECS: u64 = 600;

/// A workspace: its configuration and its store.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    store_dir: PathBuf,
    config: Config,
}

/// Holds the store's write lock; writers (imports, compaction) are serialised by it.
pub(crate) struct WriteLock {
    _file: File,
}

impl Store {
    /// Creates a workspace in `root` (created if needed) with the default configuration.
    pub fn init(root: &Path) -> Result<Store> {
        let config_path = root.join(CONFIG_FILE);
        if config_path.exists() {
            return Err(StoreError::AlreadyWorkspace(root.to_path_buf()));
        }
        fs::create_dir_all(root).context(|| format!("creating {}", root.display()))?;
        fs::write(&config_path, DEFAULT_TOML)
            .context(|| format!("writing {}", config_path.display()))?;
        Store::open(root)
    }

    /// Opens the workspace in `root`.
    pub fn open(root: &Path) -> Result<Store> {
        let config_path = root.join(CONFIG_FILE);
        let text = match fs::read_to_string(&config_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoWorkspace(root.to_path_buf()));
            }
            Err(e) => return Err(e).context(|| format!("reading {}", config_path.display())),
        };
        let config = Config::from_toml(&text).map_err(|source| StoreError::Config {
            path: config_path,
            source,
        })?;
        let store_dir = root.join("store");
        fs::create_dir_all(&store_dir).context(|| format!("creating {}", store_dir.display()))?;
        Ok(Store {
            root: root.to_path_buf(),
            store_dir,
            config,
        })
    }

    /// The workspace directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The workspace configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Saves a fitted model (its JSON text) as `models/NAME.json` in the workspace,
    /// atomically and durably, as the manifest is written; returns the path.
    pub fn save_model(&self, name: &str, json: &str) -> Result<PathBuf> {
        let dir = self.root.join(MODELS_DIR);
        fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
        let file = format!("{name}.json");
        manifest::write_durably(
            &dir,
            &file,
            &format!("{file}.tmp"),
            json.as_bytes(),
            "before-model-rename",
        )?;
        Ok(dir.join(file))
    }

    /// The JSON text of the model saved as NAME, and its path; `None` when there is
    /// none yet.
    pub fn load_model(&self, name: &str) -> Result<Option<(String, PathBuf)>> {
        let path = self.root.join(MODELS_DIR).join(format!("{name}.json"));
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some((text, path))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).context(|| format!("reading {}", path.display())),
        }
    }

    /// Imports `inputs` into `entity`'s table as one atomic change: every valid row of
    /// every input is stored (upsert by id, the last row of an id wins), or none is.
    /// Rejected rows are listed in a file under `rejects/`; a refused input (a missing
    /// required column, say) is reported in the summary and the others go on.
    pub fn import(
        &self,
        entity: Entity,
        inputs: &[Input],
        options: &ImportOptions,
        progress: &dyn Progress,
    ) -> Result<ImportSummary> {
        import::run(self, entity, inputs, options, progress)
    }

    /// Compacts every table: small parts are concatenated into large ones.
    pub fn compact(&self) -> Result<Vec<CompactedTable>> {
        let _lock = self.write_lock()?;
        let mut manifest = manifest::load(&self.store_dir)?;
        compact::run_locked(self, &mut manifest, None, true)
    }

    /// The current version of every table. It stays readable while later imports run.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot::new(
            self.store_dir.clone(),
            manifest::load(&self.store_dir)?,
        ))
    }

    /// Takes the write lock (waiting for another writer), then removes what crashed
    /// writers left behind and retired files whose grace period has passed.
    pub(crate) fn write_lock(&self) -> Result<WriteLock> {
        let path = self.store_dir.join("LOCK");
        let file = File::create(&path).context(|| format!("creating {}", path.display()))?;
        file.lock()
            .context(|| format!("locking {}", path.display()))?;
        let lock = WriteLock { _file: file };
        self.clean_up()?;
        Ok(lock)
    }

    fn clean_up(&self) -> Result<()> {
        let mut manifest = manifest::load(&self.store_dir)?;
        let now = import::unix_now();
        let (expired, keep): (Vec<_>, Vec<_>) = manifest
            .retired
            .iter()
            .cloned()
            .partition(|r| r.at + RETIRED_GRACE_SECS <= now);
        let known: HashSet<&str> = manifest
            .tables
            .values()
            .flat_map(|t| t.parts.iter().map(|p| p.file.as_str()))
            .chain(keep.iter().map(|r| r.file.as_str()))
            .collect();
        for entity in Entity::ALL {
            let dir = self.store_dir.join(entity.name());
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let file = format!("{}/{}", entity.name(), name.to_string_lossy());
                if !known.contains(file.as_str()) {
                    fs::remove_file(entry.path())
                        .context(|| format!("removing orphan {}", entry.path().display()))?;
                }
            }
        }
        // A manifest never renamed into place, and what a crashed import spooled
        // (standard input) or spilled (its id bookkeeping).
        if let Ok(entries) = fs::read_dir(&self.store_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name == "manifest.json.tmp" || name.starts_with("spool-") {
                    let _ = fs::remove_file(entry.path());
                } else if name.starts_with("tmp-") {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        if !expired.is_empty() {
            manifest.retired = keep;
            manifest.version += 1;
            manifest::commit(&self.store_dir, &manifest)?;
        }
        Ok(())
    }
}

/// Test hook: `CXKPI_FAIL_POINT=name` aborts the process at the named point, as a
/// `kill -9` would.
pub(crate) fn fail_point(name: &str) {
    if std::env::var_os("CXKPI_FAIL_POINT").is_some_and(|v| v == name) {
        std::process::abort();
    }
}
