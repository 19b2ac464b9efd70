//! The cxkpi application layer: the use cases the CLI and the server share. Each is a
//! function that returns typed results or an [`AppError`] whose [`ErrorKind`] the CLI
//! maps to an exit status and the server to an HTTP status; neither prints.
//!
//! - [`health`]: customer health scores, worst first, and their churn backtest.
//! - [`kpis`]: KPI slices and the scorecard (which periods a request means, which KPIs
//!   are left out and why).
//! - [`churn`]: churn risk: train with a validation in time, score, explain.
//! - [`churn_table`]: the churn model cross-validated on a plain customer table.
//! - [`clv`]: predictive CLV (BG/NBD and Gamma-Gamma): fit, predict, one customer.
//! - [`customers`]: one customer across the store; the customers in worst health.
//! - [`demo`]: the demo company, generated, imported, and its scorecard.
//! - [`drivers`]: what drives NPS (Shapley shares of R²) and its change by segment.
//! - [`duration`]: the one grammar of horizons (`90d`, `12w`, `6mo`/`6m`, `1y`).
//! - [`models`]: the fitted model files (`models/churn.json`, `models/clv.json`),
//!   versioned, with clear errors when missing or of another format.
//! - [`survival`]: Kaplan-Meier customer survival by segment, with the log-rank test.
//! - [`themes`]: what negative comments are about, against positive ones.
//! - [`intake`]: durable intake of survey answers (a write-ahead log with group
//!   commit, folded into the store in the background).
//! - [`tokens`]: API tokens and scopes, stored hashed.
//! - [`wire`]: the JSON shapes (the only serde types), shared by `--format json` and
//!   the API.
//! - [`render`]: tables, CSV (safe in a spreadsheet), JSON and HTML, to any `impl Write`.
//!
//! ```no_run
//! # async fn demo() -> cxkpi_app::Result<()> {
//! use cxkpi_app::kpis::{PeriodChoice, Slice, scorecard};
//!
//! let store = cxkpi_store::Store::open(std::path::Path::new("acme"))?;
//! let card = scorecard(&store.snapshot()?, store.config(), &PeriodChoice::default(), &Slice::default()).await?;
//! println!("{} rows, {} KPIs left out", card.rows.len(), card.left_out.len());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod churn;
pub mod churn_table;
pub mod clv;
pub mod cohorts;
pub mod customers;
pub mod demo;
pub mod drivers;
pub mod duration;
mod error;
pub mod health;
pub mod intake;
pub mod kpis;
pub mod models;
pub mod movements;
pub mod render;
pub mod survival;
pub mod themes;
pub mod tokens;
pub mod wire;

pub use error::{AppError, ErrorKind, Result};
