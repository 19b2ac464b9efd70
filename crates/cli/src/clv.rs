//! `cxkpi clv`: the flags of `cxkpi_app::clv` (fit, predict, customer), its results
//! printed by `cxkpi_app::render::clv`.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_app::{clv, render};
use cxkpi_core::threads::Threads;
use cxkpi_store::Store;

/// `cxkpi clv` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ClvCommand {
    /// Fit BG/NBD and Gamma-Gamma on every customer's orders up to the calibration end
    /// and save the model in the workspace.
    Fit {
        /// Last day of calibration, inclusive (YYYY-MM-DD; default: the last day with
        /// an order).
        #[arg(long)]
        calibration_end: Option<String>,
        /// Time unit of the model: days or weeks.
        #[arg(long, default_value = "weeks", value_parser = ["days", "weeks"])]
        unit: String,
        /// Output format.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// One row per customer with the saved model: frequency, recency, T, monetary
    /// value, P(alive), expected purchases and average value over the horizon, and
    /// discounted CLV.
    Predict {
        /// The horizon: days (`90d`), weeks (`39w`), months (`12m` or `12mo`) or years (`1y`).
        #[arg(long, default_value = "12m")]
        horizon: String,
        /// Output format.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
    },
    /// Explain one customer's prediction.
    Customer {
        /// The customer id.
        id: String,
        /// The horizon, as for `predict`.
        #[arg(long, default_value = "12m")]
        horizon: String,
    },
}

pub fn run(workspace: &Path, command: ClvCommand) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let snapshot = store.snapshot()?;
    let runtime = crate::runtime()?;
    let out = &mut std::io::stdout().lock();
    let note = |stale: &Option<String>| {
        if let Some(note) = stale {
            eprintln!("note: {note}");
        }
    };
    match command {
        ClvCommand::Fit {
            calibration_end,
            unit,
            format,
        } => {
            let fitted = runtime.block_on(clv::fit(
                &store,
                &snapshot,
                calibration_end.as_deref(),
                &unit,
                Threads::available(),
            ))?;
            match format.as_str() {
                "json" => render::clv::write_fit_json(out, &fitted)?,
                _ => render::clv::write_fit_text(out, &fitted)?,
            }
        }
        ClvCommand::Predict { horizon, format } => {
            let predictions = runtime.block_on(clv::predict(
                &store,
                &snapshot,
                &horizon,
                Threads::available(),
            ))?;
            note(&predictions.stale);
            match format.as_str() {
                "json" => render::clv::write_predictions_json(out, &predictions)?,
                _ => render::clv::write_predictions_csv(out, &predictions)?,
            }
        }
        ClvCommand::Customer { id, horizon } => {
            let customer = runtime.block_on(clv::customer(&store, &snapshot, &id, &horizon))?;
            note(&customer.model.stale);
            render::clv::write_customer(out, &customer, &store.config().currency)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
