//! `cxkpi themes`: the flags of `cxkpi_app::themes`, its result printed by
//! `cxkpi_app::render::themes`.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_app::render;
use cxkpi_store::Store;

use crate::views::{PeriodArgs, SliceArgs};

/// Arguments of `cxkpi themes`.
#[derive(Debug, clap::Args)]
pub struct ThemesArgs {
    #[command(flatten)]
    periods: PeriodArgs,
    #[command(flatten)]
    slice: SliceArgs,
    /// Terms per list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

pub fn run(workspace: &Path, args: ThemesArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let rows = crate::runtime()?.block_on(cxkpi_app::themes::themes(
        &store.snapshot()?,
        store.config(),
        &args.periods.choice(),
        &args.slice.slice(),
        args.top,
    ))?;
    let out = &mut std::io::stdout().lock();
    match args.format.as_str() {
        "json" => render::themes::write_json(out, &rows)?,
        _ => render::themes::write_text(out, &rows)?,
    }
    Ok(ExitCode::SUCCESS)
}
