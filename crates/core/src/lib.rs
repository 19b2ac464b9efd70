//! The cxkpi domain core: what the data is and what it means. No IO, nothing async.
//!
//! - [`drivers`]: key drivers (Shapley R²) and NPS change decomposition.
//! - [`entity`]: the nine importable entities and their columns and rules, as data.
//! - [`parse`]: the value grammars of the import contract (timestamps, numbers, booleans).
//! - [`validate`]: checking one row against its entity's rules.
//! - [`business`]: business time inside a business-hours calendar.
//! - [`benchmark`]: benchmark bands and targets of a value.
//! - [`churn`]: churn risk, regularised logistic regression and its evaluation.
//! - [`clv`]: predictive CLV, BG/NBD and Gamma-Gamma by maximum likelihood.
//! - [`config`]: the workspace configuration (`cxkpi.toml`), parsed and validated.
//! - [`estimate`]: a KPI value's statistical shape: value, n, interval, change test.
//! - [`health`]: the customer health score from facts as of an instant.
//! - [`kpi`]: the KPI catalogue, one declared definition per KPI.
//! - [`optimize`]: L-BFGS (argmin) with Newton polishing, Hessians of gradients, small
//!   dense linear algebra for the model fits.
//! - [`period`]: reporting periods in the workspace time zone.
//! - [`sentiment`]: VADER sentiment, as vaderSentiment 3.3.2 scores text.
//! - [`spreadsheet`]: CSV cells made safe to open in a spreadsheet (no formula injection).
//! - [`survival`]: Kaplan-Meier survival and its median.
//! - [`themes`]: frequent and distinctive words and phrases of negative feedback.
//! - [`threads`]: how many threads a fit may use (the caller's choice).
//! - [`stats`]: intervals, tests of change, Benjamini-Hochberg, percentiles.
//!
//! ```
//! use cxkpi_core::{config::Config, entity::Entity, validate::{RowValidator, Value}};
//!
//! let config = Config::default();
//! let validator = RowValidator::new(Entity::Customers, &config);
//! let mut values = Vec::new();
//! let cells = [Some("C1"), Some("2024-03-01T09:30:00+02:00"), None, Some("ads"), None];
//! validator.validate(&cells, &mut values).unwrap();
//! // 2024-03-01T07:30:00Z in microseconds since the epoch.
//! assert_eq!(values[1], Value::Timestamp(1_709_278_200_000_000));
//! ```
#![deny(missing_docs)]

pub mod benchmark;
pub mod business;
pub mod churn;
pub mod clv;
pub mod cohort;
pub mod config;
pub mod drivers;
pub mod entity;
pub mod estimate;
pub mod filter;
pub mod health;
pub mod kpi;
pub mod movements;
pub mod optimize;
pub mod parse;
pub mod period;
pub mod sentiment;
pub mod spreadsheet;
pub mod stats;
pub mod steps;
pub mod survival;
pub mod themes;
pub mod threads;
pub mod validate;
