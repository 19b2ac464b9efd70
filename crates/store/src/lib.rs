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
mod idindex;
mod idtable;
mod import;
mod manifest;
mod output;
mod part;
mod query;
mod repair;
mod schema;
mod source;

use std::collections::HashSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use cxkpi_core::config::{Config, DEFAULT_TOML};
use cxkpi_core::entity::Entity;

pub use compact::{CompactedTable, TARGET_PART_ROWS};
pub use error::{Result, StoreError};
pub use import::{ImportOptions, ImportSummary, InputSummary, NoProgress, Progress, RejectedRow};
pub use output::OutputFile;
pub use query::{ExportFormat, Snapshot, TableInfo, customer_rows, export};
pub use repair::{Diagnosis, ManifestStatus, RepairPlan, TablePlan};
pub use schema::{ROW_HASH, table_schema};
pub use source::{Input, InputFormat, InputSource, check_json_row};

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
    notices: Notices,
    /// The id indexes kept between imports ([`Store::keep_id_indexes`]).
    id_indexes: Option<IdIndexes>,
}

/// The id index of each table a long-running writer imported into.
type IdIndexes =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Entity, idindex::IdIndex>>>;

/// Where the store says what a user waiting on it should know (a writer waiting for
/// the lock); the CLI prints it on standard error.
#[derive(Clone, Default)]
struct Notices(Option<std::sync::Arc<Notify>>);

type Notify = dyn Fn(&str) + Send + Sync;

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Notices(set)"
        } else {
            "Notices(none)"
        })
    }
}

/// Holds the store's write lock; writers (imports, compaction) are serialised by it.
pub(crate) struct WriteLock {
    _file: File,
}

/// How often a writer waiting for the lock tries again.
const LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(50);

impl Store {
    /// Creates a workspace in `root` (created if needed) with the default configuration.
    pub fn init(root: &Path) -> Result<Store> {
        let config_path = root.join(CONFIG_FILE);
        if config_path.exists() {
            return Err(StoreError::AlreadyWorkspace(root.to_path_buf()));
        }
        let store_dir = root.join("store");
        fs::create_dir_all(&store_dir).context(|| format!("creating {}", store_dir.display()))?;
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
        let config = Config::from_toml(&text).map_err(|error| StoreError::Config {
            path: config_path,
            error,
        })?;
        let store_dir = root.join("store");
        if !store_dir.is_dir() {
            return Err(StoreError::NoStore(store_dir));
        }
        Ok(Store {
            root: root.to_path_buf(),
            store_dir,
            config,
            notices: Notices::default(),
            id_indexes: None,
        })
    }

    /// Keeps each table's id index in memory between this handle's imports (and its
    /// clones'), so an import's cost follows its own size rather than the table's.
    /// For long-running writers (the server's intake); it holds about 35 bytes per
    /// stored id of each table imported into.
    pub fn keep_id_indexes(mut self) -> Store {
        self.id_indexes = Some(IdIndexes::default());
        self
    }

    /// Sends what a waiting user should know (e.g. that this writer waits for another
    /// one's lock) to `notify`.
    pub fn with_notices(mut self, notify: impl Fn(&str) + Send + Sync + 'static) -> Store {
        self.notices = Notices(Some(std::sync::Arc::new(notify)));
        self
    }

    fn notice(&self, message: &str) {
        if let Some(notify) = &self.notices.0 {
            notify(message);
        }
    }

    /// The workspace directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The manifest file: it is replaced (renamed over) by every change, so a long-running
    /// reader can tell from its metadata whether a new snapshot is due.
    pub fn manifest_path(&self) -> PathBuf {
        self.store_dir.join(manifest::MANIFEST)
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

    /// Writes `bytes` as the workspace file `name` (beside `cxkpi.toml`), atomically and
    /// durably, readable by the owner only: it holds secrets' hashes (`tokens.json`).
    pub fn save_private(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let tmp = format!("{name}.tmp");
        let _ = fs::remove_file(self.root.join(&tmp));
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(self.root.join(&tmp))
                .context(|| format!("creating {}", self.root.join(&tmp).display()))?;
        }
        manifest::write_durably(&self.root, name, &tmp, bytes, "before-private-rename")?;
        Ok(self.root.join(name))
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
        Ok(compact::run_locked(self, &mut manifest, None, true)?.0)
    }

    /// The current version of every table. It stays readable while later imports run.
    /// Every part file the manifest names is checked to be there with the rows it
    /// promises (from its footer), so a lost file is an error, never an empty table.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot::new(self.store_dir.clone(), self.load_checked()?))
    }

    /// The current manifest, once every part file it names is there with its rows.
    fn load_checked(&self) -> Result<manifest::Manifest> {
        let manifest = manifest::load(&self.store_dir)?;
        for (table, state) in &manifest.tables {
            for part in &state.parts {
                if let Some(problem) = part::check(&self.store_dir, part) {
                    return Err(StoreError::Damaged {
                        problem: format!("table {table}: {problem}"),
                    });
                }
            }
        }
        Ok(manifest)
    }

    /// Takes the write lock, waiting for another writer up to `store.lock_timeout`
    /// (after a second it says who holds it), then removes what crashed writers left
    /// behind and retired files whose grace period has passed.
    pub(crate) fn write_lock(&self) -> Result<WriteLock> {
        let lock = self.lock_only()?;
        self.clean_up()?;
        Ok(lock)
    }

    /// Takes the write lock without cleaning up (repair works on a damaged store).
    pub(crate) fn lock_only(&self) -> Result<WriteLock> {
        use std::io::{Seek, Write};
        let path = self.store_dir.join("LOCK");
        // Not truncated on open: the file holds the pid of the writer holding the lock.
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .context(|| format!("opening {}", path.display()))?;
        let started = std::time::Instant::now();
        let timeout = self.config.store.lock_timeout_seconds;
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(e)) => {
                    return Err(e).context(|| format!("locking {}", path.display()));
                }
            }
            let waited = started.elapsed().as_secs_f64();
            if waited >= timeout {
                return Err(StoreError::LockTimeout {
                    holder: lock_holder(&path),
                    waited_seconds: waited,
                });
            }
            if !told && waited >= 1.0 {
                told = true;
                let holder = lock_holder(&path)
                    .map_or("another process".to_string(), |pid| format!("pid {pid}"));
                self.notice(&format!(
                    "waiting for the store lock held by {holder} (giving up after {timeout:.0} s: store.lock_timeout)"
                ));
            }
            std::thread::sleep(LOCK_POLL);
        }
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(std::process::id().to_string().as_bytes()))
            .context(|| format!("writing {}", path.display()))?;
        Ok(WriteLock { _file: file })
    }

    /// Removes only what the manifest history proves dead (see the `manifest` module):
    /// files of settled pending changes that the manifest does not name, and retired
    /// files past their grace period.
    pub(crate) fn clean_up(&self) -> Result<()> {
        let mut manifest = self.load_checked()?;
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
        let markers: Vec<_> = manifest::markers(&self.store_dir)?
            .into_iter()
            .filter(|m| m.settled_by(&manifest))
            .collect();
        let files = manifest::part_files(&self.store_dir)?;
        for found in &files {
            let dead = if expired.iter().any(|r| r.file == found.file) {
                true
            } else {
                !known.contains(found.file.as_str())
                    && markers.iter().any(|m| Some(m.version) == found.version)
            };
            if dead {
                let path = self.store_dir.join(&found.file);
                fs::remove_file(&path).context(|| format!("removing orphan {}", path.display()))?;
            }
        }
        for marker in markers {
            let _ = fs::remove_file(&marker.path);
        }
        // A manifest never renamed into place, and what a crashed import spooled
        // (standard input) or spilled (its id bookkeeping).
        if let Ok(entries) = fs::read_dir(&self.store_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name == manifest::MANIFEST_TMP || name.starts_with("spool-") {
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

/// The pid a lock holder wrote into the lock file.
fn lock_holder(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Test hook: `CXKPI_FAIL_POINT=name` aborts the process at the named point, as a
/// `kill -9` would.
pub(crate) fn fail_point(name: &str) {
    if std::env::var_os("CXKPI_FAIL_POINT").is_some_and(|v| v == name) {
        std::process::abort();
    }
}

/// Test hook: `CXKPI_FAIL_POINT=name` makes the named step fail with "No space left on
/// device", as a full disk would.
pub(crate) fn fail_point_error(name: &str) -> Result<()> {
    if std::env::var_os("CXKPI_FAIL_POINT").is_some_and(|v| v == name) {
        return Err(StoreError::Io {
            context: format!("writing (fail point {name})"),
            error: std::io::Error::from_raw_os_error(28),
        });
    }
    Ok(())
}
