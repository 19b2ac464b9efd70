//! `cxkpi health`: the flags of `cxkpi_app::health`, its results printed by
//! `cxkpi_app::render::health`.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_app::duration::Horizon;
use cxkpi_app::{health, render};
use cxkpi_core::health::HealthBand;
use cxkpi_store::Store;

use crate::views::SliceArgs;

/// Arguments of `cxkpi health`.
#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The instant the scores are for: midnight at the start of DATE (YYYY-MM-DD) in
    /// the workspace time zone (default: the end of the data's last complete month).
    #[arg(long)]
    as_of: Option<String>,
    /// Only customers in this band (green, yellow, red).
    #[arg(long, value_parser = ["green", "yellow", "red"])]
    band: Option<String>,
    #[command(flatten)]
    slice: SliceArgs,
    /// Backtest instead: how well the scores as of --as-of separate the customers who
    /// churned within this horizon after it (`90d`, `12w`, `6mo`): AUC with its 95%
    /// interval, and churn by band.
    #[arg(long, value_name = "HORIZON")]
    backtest: Option<String>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv"])]
    format: String,
}

pub fn run(workspace: &Path, args: HealthArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let (snapshot, config) = (store.snapshot()?, store.config());
    let runtime = crate::runtime()?;
    let as_of = args.as_of.as_deref();
    let slice = args.slice.slice();
    let out = &mut std::io::stdout().lock();
    if let Some(horizon) = &args.backtest {
        let horizon = horizon
            .parse::<Horizon>()
            .map_err(|e| cxkpi_app::AppError::usage(format!("--backtest: {e}")))?;
        let b = runtime.block_on(health::backtest(&snapshot, config, as_of, &slice, horizon))?;
        match args.format.as_str() {
            "json" => render::health::write_backtest_json(out, &b)?,
            _ => render::health::write_backtest_table(out, &b)?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let band = args.band.as_deref().map(|b| match b {
        "green" => HealthBand::Green,
        "yellow" => HealthBand::Yellow,
        _ => HealthBand::Red,
    });
    let list = runtime.block_on(health::health(&snapshot, config, as_of, &slice, band))?;
    match args.format.as_str() {
        "json" => render::health::write_json(out, &list)?,
        "csv" => render::health::write_csv(out, &list)?,
        _ => render::health::write_table(out, &list)?,
    }
    Ok(ExitCode::SUCCESS)
}
