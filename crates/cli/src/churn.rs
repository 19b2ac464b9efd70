//! `cxkpi churn`: the flags of `cxkpi_app::churn` (train, score, explain), its results
//! printed by `cxkpi_app::render::churn`; `churn table` runs without a workspace.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_app::{churn, render};
use cxkpi_core::threads::Threads;
use cxkpi_store::Store;

/// `cxkpi churn` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ChurnCommand {
    /// Train on the customers active at as-of minus the horizon, labelled by whether
    /// they churned within it; validate by training one horizon earlier and testing on
    /// this one (AUC, Brier score, calibration); save the model in the workspace.
    Train {
        /// Midnight starting this date (default: the end of the last complete month).
        #[arg(long)]
        as_of: Option<String>,
        /// The horizon: days (`90d`), weeks (`12w`), months (`3mo` or `3m`) or years (`1y`).
        #[arg(long, default_value = "90d")]
        horizon: String,
        /// Output format.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// Score the customers active at as-of with the saved model, riskiest first.
    Score {
        /// Midnight starting this date (default: the end of the last complete month).
        #[arg(long)]
        as_of: Option<String>,
        /// Only the N riskiest customers.
        #[arg(long)]
        top: Option<usize>,
        /// Output format.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
    },
    /// Cross-validate the model on a plain customer table (a CSV file with a header,
    /// one customer per row, attribute columns and a churned flag), without a
    /// workspace: row i is held out in fold i % folds. Columns whose non-blank values
    /// are all numbers are numeric (a blank as missing); the others are categories.
    Table {
        /// The CSV file.
        file: std::path::PathBuf,
        /// The churned-flag column: a boolean of the data model (yes/no, true/false,
        /// 1/0, y/n, t/f; any case).
        #[arg(long)]
        label: String,
        /// An id column, left out of the features (and written with --scores).
        #[arg(long)]
        id: Option<String>,
        /// Folds (at least 2).
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Output format.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// Also write every row's out-of-fold probability and top factors to this CSV.
        #[arg(long)]
        scores: Option<std::path::PathBuf>,
    },
    /// Every factor of one customer's score.
    Explain {
        /// The customer id.
        id: String,
        /// Midnight starting this date (default: the end of the last complete month).
        #[arg(long)]
        as_of: Option<String>,
    },
}

pub fn run(workspace: &Path, command: ChurnCommand) -> anyhow::Result<ExitCode> {
    if let ChurnCommand::Table {
        file,
        label,
        id,
        folds,
        format,
        scores,
    } = command
    {
        return crate::churn_table::run(&file, &label, id.as_deref(), folds, &format, scores);
    }
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
        ChurnCommand::Train {
            as_of,
            horizon,
            format,
        } => {
            let trained = runtime.block_on(churn::train(
                &store,
                &snapshot,
                as_of.as_deref(),
                &horizon,
                Threads::available(),
            ))?;
            match format.as_str() {
                "json" => render::churn::write_train_json(out, &trained)?,
                _ => render::churn::write_train_text(out, &trained)?,
            }
        }
        ChurnCommand::Score { as_of, top, format } => {
            let scores =
                runtime.block_on(churn::score(&store, &snapshot, as_of.as_deref(), top))?;
            note(&scores.stale);
            match format.as_str() {
                "json" => render::churn::write_scores_json(out, &scores)?,
                _ => render::churn::write_scores_csv(out, &scores)?,
            }
        }
        ChurnCommand::Table { .. } => unreachable!("handled without a workspace above"),
        ChurnCommand::Explain { id, as_of } => {
            let explanation =
                runtime.block_on(churn::explain(&store, &snapshot, &id, as_of.as_deref()))?;
            note(&explanation.stale);
            render::churn::write_explanation(out, &explanation)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
