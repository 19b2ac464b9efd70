//! The demo company: generated as CSV files, imported through the normal import into a
//! workspace, and the scorecard of its last complete month.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cxkpi_core::entity::Entity;
use cxkpi_store::{ImportOptions, ImportSummary, Input, Progress, Snapshot, Store, StoreError};

use crate::error::{AppError, ErrorKind, Result};
use crate::kpis::{PeriodChoice, Scorecard, Slice, scorecard};

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoRequest {
    /// The workspace (created if needed; an earlier demo in it is replaced).
    pub dir: PathBuf,
    /// Customers.
    pub customers: u64,
    /// The random seed (the same seed gives the same company).
    pub seed: u64,
    /// The first month after the data, `YYYY-MM`.
    pub end: String,
}

/// The demo made.
#[derive(Debug)]
pub struct Demo {
    /// The workspace.
    pub workspace: PathBuf,
    /// Where the generated files are.
    pub data: PathBuf,
    /// Seconds to generate the files.
    pub generate_seconds: f64,
    /// Seconds to import them.
    pub import_seconds: f64,
    /// What each import did.
    pub imports: Vec<ImportSummary>,
    /// The store afterwards.
    pub snapshot: Snapshot,
    /// The scorecard of the last complete month.
    pub scorecard: Scorecard,
}

/// Where a demo workspace keeps its generated files.
pub fn data_dir(dir: &Path) -> PathBuf {
    dir.join("demo-data")
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> AppError {
    move |e| AppError::new(ErrorKind::Internal, format!("{context}: {e}"))
}

/// The workspace for a demo: a new one, or an earlier demo's emptied (no row of it
/// survives); a workspace with data of its own is refused.
fn workspace(dir: &Path) -> Result<Store> {
    let data = data_dir(dir);
    let store = match Store::open(dir) {
        Ok(store) => store,
        Err(StoreError::NoWorkspace(_)) => return Ok(Store::init(dir)?),
        Err(e) => return Err(e.into()),
    };
    let has_data = store.snapshot()?.tables().iter().any(|t| t.rows > 0);
    if !has_data {
        return Ok(store);
    }
    if !data.is_dir() {
        return Err(AppError::new(
            ErrorKind::Conflict,
            format!(
                "{} is a workspace with data of its own; give `cxkpi demo` a new directory",
                dir.display()
            ),
        ));
    }
    for sub in ["store", "rejects"] {
        let path = dir.join(sub);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(io(format!("removing {}", path.display())))?;
        }
    }
    let store_dir = dir.join("store");
    std::fs::create_dir(&store_dir).map_err(io(format!("creating {}", store_dir.display())))?;
    Ok(Store::open(dir)?)
}

/// Generates the demo company, imports it (reporting to `progress`) and computes the
/// scorecard of its last complete month.
pub async fn run(request: &DemoRequest, progress: &dyn Progress) -> Result<Demo> {
    let end = jiff::civil::Date::strptime("%Y-%m-%d", format!("{}-01", request.end))
        .map_err(|_| AppError::usage(format!("--end `{}` is not a month YYYY-MM", request.end)))?;
    let dir = &request.dir;
    let data = data_dir(dir);
    let store = workspace(dir)?;
    let started = Instant::now();
    let files = cxkpi_demo::generate(
        &data,
        &cxkpi_demo::DemoOptions {
            customers: request.customers,
            seed: request.seed,
            end,
        },
    )
    .map_err(io(format!("writing the demo data to {}", data.display())))?;
    let generate_seconds = started.elapsed().as_secs_f64();
    let mut imports = Vec::new();
    for (entity, path, _) in &files.files {
        let entity: Entity = entity
            .parse()
            .map_err(|e: cxkpi_core::entity::UnknownEntity| {
                AppError::new(ErrorKind::Internal, e.to_string())
            })?;
        let path = path.to_str().ok_or_else(|| {
            AppError::new(
                ErrorKind::Invalid,
                format!("{} is not a UTF-8 path", path.display()),
            )
        })?;
        let input = Input::from_arg(path, None);
        imports.push(store.import(entity, &[input], &ImportOptions::default(), progress)?);
    }
    let import_seconds = started.elapsed().as_secs_f64() - generate_seconds;
    let snapshot = store.snapshot()?;
    let scorecard = scorecard(
        &snapshot,
        store.config(),
        &PeriodChoice::default(),
        &Slice::default(),
    )
    .await?;
    Ok(Demo {
        workspace: dir.clone(),
        data,
        generate_seconds,
        import_seconds,
        imports,
        snapshot,
        scorecard,
    })
}
