//! `cxkpi cohorts`: the flags of `cxkpi_app::cohorts`, its triangle printed by
//! `cxkpi_app::render::cohorts`.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_app::render;
use cxkpi_store::Store;

use crate::views::SliceArgs;

/// Arguments of `cxkpi cohorts`.
#[derive(Debug, clap::Args)]
pub struct CohortsArgs {
    /// The period length cohorts are cut by.
    #[arg(long = "by-acquisition", default_value = "month", value_parser = cxkpi_app::cohorts::GRAINS)]
    grain: String,
    /// What is retained: customers still active, the revenue they order, or their MRR.
    #[arg(long, default_value = "customers", value_parser = ["customers", "revenue", "mrr"])]
    measure: String,
    /// First day (YYYY-MM-DD) of the cohorts (default: the last 12 complete periods).
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Day after the cohorts (exclusive).
    #[arg(long, requires = "from")]
    to: Option<String>,
    #[command(flatten)]
    slice: SliceArgs,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv"])]
    format: String,
}

pub fn run(workspace: &Path, args: CohortsArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let choice = cxkpi_app::kpis::PeriodChoice {
        from: args.from.clone(),
        to: args.to.clone(),
        ..Default::default()
    };
    let cohorts = crate::runtime()?.block_on(cxkpi_app::cohorts::cohorts(
        &store.snapshot()?,
        store.config(),
        &args.grain,
        &args.measure,
        &choice,
        &args.slice.slice(),
    ))?;
    let out = &mut std::io::stdout().lock();
    match args.format.as_str() {
        "json" => render::cohorts::write_json(out, &cohorts)?,
        "csv" => render::cohorts::write_csv(out, &cohorts)?,
        _ => render::cohorts::write_table(out, &cohorts)?,
    }
    Ok(ExitCode::SUCCESS)
}
