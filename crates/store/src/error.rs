//! The store's error type.

use std::path::PathBuf;

/// What can go wrong in the store.
///
/// The first variants are the user's to fix (a missing workspace, a file that cannot be
/// imported); [`StoreError::Io`] and [`StoreError::Engine`] are the machine's;
/// [`StoreError::Internal`] is likely a bug.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory holds no workspace.
    #[error(
        "no cxkpi workspace at {}: create one with `cxkpi init {}` (or point --workspace / CXKPI_WORKSPACE at one)",
        .0.display(), .0.display()
    )]
    NoWorkspace(PathBuf),
    /// `init` on a directory that already is a workspace.
    #[error("{} is already a cxkpi workspace", .0.display())]
    AlreadyWorkspace(PathBuf),
    /// The workspace has its configuration but no store directory.
    #[error(
        "the store directory {} is missing: restore it from a backup (an empty directory of that name starts an empty store)",
        .0.display()
    )]
    NoStore(PathBuf),
    /// The configuration file is invalid.
    // The cause is part of the message and deliberately not a `source`: the CLI prints
    // an error's chain, which would repeat it.
    #[error("{}: {error}", .path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        error: cxkpi_core::config::ConfigError,
    },
    /// The store's manifest is missing or unreadable, or names files that are not there
    /// as it says. Nothing was changed: no file is deleted until the store is repaired.
    #[error(
        "the store is damaged: {problem}. Nothing was changed; `cxkpi doctor` lists what the store holds and `cxkpi repair` rebuilds its manifest from the part files (it asks first)"
    )]
    Damaged {
        /// What is wrong, naming the file.
        problem: String,
    },
    /// Another writer held the store's lock for longer than `store.lock_timeout`.
    #[error(
        "gave up after waiting {waited_seconds:.0} s for the store lock held by {}; if that process is stuck, stop it (or raise store.lock_timeout in cxkpi.toml)",
        .holder.map_or("another process".to_string(), |pid| format!("pid {pid}"))
    )]
    LockTimeout {
        /// The process holding the lock, when it said.
        holder: Option<u32>,
        /// How long this writer waited.
        waited_seconds: f64,
    },
    /// A whole input file cannot be imported (missing required column, duplicate header,
    /// unreadable format).
    #[error("{source_name}: {reason}")]
    Refused {
        /// The input's name as given.
        source_name: String,
        /// Why.
        reason: String,
    },
    /// An input broke off part way (a read error, truncated gzip, corrupt Parquet):
    /// the whole import is abandoned, since storing part of a file would be a guess.
    #[error("{source_name}: cannot be read to its end ({reason}); nothing was imported")]
    Unreadable {
        /// The input's name as given.
        source_name: String,
        /// Why.
        reason: String,
    },
    /// A usage error, such as an unknown format name.
    #[error("{0}")]
    Usage(String),
    /// An operating-system error, with what was being done.
    #[error("{context}: {error}")]
    Io {
        /// What was being done, e.g. the path being read.
        context: String,
        /// The error (in the message, not a `source`, so that it is printed once).
        error: std::io::Error,
    },
    /// An error of the query engine or of Arrow/Parquet.
    #[error("query engine: {0}")]
    Engine(String),
    /// A broken invariant: likely a bug in cxkpi.
    #[error("internal error (likely a bug in cxkpi): {0}")]
    Internal(String),
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Adds context to IO errors.
pub(crate) trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|error| StoreError::Io {
            context: what(),
            error,
        })
    }
}

impl From<datafusion::error::DataFusionError> for StoreError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        StoreError::Engine(e.to_string())
    }
}

impl From<arrow::error::ArrowError> for StoreError {
    fn from(e: arrow::error::ArrowError) -> Self {
        StoreError::Engine(e.to_string())
    }
}

impl From<parquet::errors::ParquetError> for StoreError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        StoreError::Engine(e.to_string())
    }
}
