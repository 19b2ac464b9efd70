//! `cxkpi mrr-movements`: the flags of `cxkpi_app::movements`, printed by
//! `cxkpi_app::render::movements`.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_app::render;
use cxkpi_store::Store;

use crate::views::{PeriodArgs, SliceArgs};

/// Arguments of `cxkpi mrr-movements`.
#[derive(Debug, clap::Args)]
pub struct MovementsArgs {
    #[command(flatten)]
    periods: PeriodArgs,
    #[command(flatten)]
    slice: SliceArgs,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv"])]
    format: String,
}

pub fn run(workspace: &Path, args: MovementsArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let movements = crate::runtime()?.block_on(cxkpi_app::movements::mrr_movements(
        &store.snapshot()?,
        store.config(),
        &args.periods.choice(),
        &args.slice.slice(),
    ))?;
    let out = &mut std::io::stdout().lock();
    match args.format.as_str() {
        "json" => render::movements::write_json(out, &movements)?,
        "csv" => render::movements::write_csv(out, &movements)?,
        _ => render::movements::write_table(out, &movements)?,
    }
    Ok(ExitCode::SUCCESS)
}
