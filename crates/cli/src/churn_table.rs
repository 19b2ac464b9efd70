//! `cxkpi churn table FILE --label COLUMN`: the flags of `cxkpi_app::churn_table`, its
//! result printed by `cxkpi_app::render::churn`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cxkpi_app::render::churn::{write_table_json, write_table_scores, write_table_text};
use cxkpi_core::threads::Threads;

pub fn run(
    file: &Path,
    label: &str,
    id: Option<&str>,
    folds: usize,
    format: &str,
    scores: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let model = cxkpi_app::churn_table::run(file, label, id, folds, Threads::available())?;
    if let Some(path) = &scores {
        let mut out = cxkpi_store::OutputFile::create(path)?;
        write_table_scores(&mut out, &model)?;
        out.commit()?;
    }
    let out = &mut std::io::stdout().lock();
    match format {
        "json" => write_table_json(out, &model)?,
        _ => write_table_text(out, &model)?,
    }
    Ok(ExitCode::SUCCESS)
}
