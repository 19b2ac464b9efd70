//! `cxkpi survival`: the flags of `cxkpi_app::survival`, its result printed by
//! `cxkpi_app::render::survival`.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_app::render;
use cxkpi_app::survival::DurationUnit;
use cxkpi_store::Store;

/// Arguments of `cxkpi survival`.
#[derive(Debug, clap::Args)]
pub struct SurvivalArgs {
    /// Customers still active are censored at midnight starting DATE (YYYY-MM-DD, the
    /// workspace time zone); customers won after it are left out (default: the end of
    /// the data's last complete month).
    #[arg(long)]
    as_of: Option<String>,
    /// Segments (customer dimensions; `--by` adds the log-rank test between them).
    #[command(flatten)]
    slice: crate::views::SliceArgs,
    /// Unit of durations: days, weeks or months (30.4375 days).
    #[arg(long, default_value = "months", value_parser = ["days", "weeks", "months"])]
    unit: String,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

pub fn run(workspace: &Path, args: SurvivalArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let unit = DurationUnit::parse(&args.unit)?;
    let survival = crate::runtime()?.block_on(cxkpi_app::survival::survival(
        &store.snapshot()?,
        store.config(),
        args.as_of.as_deref(),
        &args.slice.slice(),
        unit,
    ))?;
    let out = &mut std::io::stdout().lock();
    match args.format.as_str() {
        "json" => render::survival::write_json(out, &survival)?,
        _ => render::survival::write_table(out, &survival)?,
    }
    Ok(ExitCode::SUCCESS)
}
