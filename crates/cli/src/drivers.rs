//! `cxkpi drivers nps`: the flags of `cxkpi_app::drivers`, its result printed by
//! `cxkpi_app::render::drivers`.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_app::render;
use cxkpi_store::Store;

use crate::views::PeriodArgs;

/// Arguments of `cxkpi drivers`.
#[derive(Debug, clap::Args)]
pub struct DriversArgs {
    /// The score to explain (only `nps` for now).
    #[arg(value_parser = ["nps"])]
    target: String,
    #[command(flatten)]
    periods: PeriodArgs,
    /// Split the change of NPS against the previous period into mix and rate effects
    /// of the segments of this dimension.
    #[arg(long)]
    by: Option<String>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

pub fn run(workspace: &Path, args: DriversArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let drivers = crate::runtime()?.block_on(cxkpi_app::drivers::nps_drivers(
        &store.snapshot()?,
        store.config(),
        &args.periods.choice(),
        args.by.as_deref(),
    ))?;
    let out = &mut std::io::stdout().lock();
    match args.format.as_str() {
        "json" => render::drivers::write_json(out, &drivers)?,
        _ => render::drivers::write_table(out, &drivers)?,
    }
    Ok(ExitCode::SUCCESS)
}
