//! `cxkpi churn`: train the churn-risk model on the store as of a date, with a
//! time-based validation; score the active customers; explain one customer.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cxkpi_app::models;
use cxkpi_core::churn::{Encoder, Evaluation, Logistic, RawFeatures, evaluate};
use cxkpi_engine::{Attributes, ChurnCase};
use cxkpi_store::{Store, StoreError};
use serde_json::{Value, json};

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
    let config = store.config();
    let runtime = crate::runtime()?;
    let tz = &config.time_zone;
    match command {
        ChurnCommand::Train {
            as_of,
            horizon,
            format,
        } => {
            let at = crate::views::as_of(as_of.as_deref(), &snapshot, config, &runtime)?;
            let span = horizon
                .parse::<cxkpi_app::duration::Horizon>()
                .map_err(|e| cxkpi_app::AppError::usage(format!("--horizon: {e}")))?
                .span();
            let back = |t: jiff::Timestamp| -> anyhow::Result<jiff::Timestamp> {
                Ok(t.to_zoned(tz.clone()).checked_sub(span)?.timestamp())
            };
            let t1 = back(at)?;
            let t0 = back(t1)?;
            let attributes = runtime.block_on(cxkpi_engine::customer_attributes(&snapshot))?;
            let cases = |t| cxkpi_engine::churn_cases(&snapshot, config, &attributes, t);
            let earlier = runtime.block_on(cases(t0))?;
            let later = runtime.block_on(cases(t1))?;
            let labels = |cases: &[ChurnCase], until: jiff::Timestamp| -> Vec<bool> {
                cases
                    .iter()
                    .map(|c| c.churned_at.is_some_and(|t| t <= until))
                    .collect()
            };
            let (y0, y1) = (labels(&earlier, t1), labels(&later, at));
            // Validation: fit one horizon earlier, test on the later customers.
            let started = std::time::Instant::now();
            let validation = train(&attributes, &earlier, &y0).map(|(encoder, model)| {
                let p: Vec<f64> = later
                    .iter()
                    .map(|c| model.probability(&encoder.encode(&c.features)))
                    .collect();
                evaluate(&p, &y1)
            });
            let (encoder, model) = train(&attributes, &later, &y1)
                .context("no churn (or no survivors) to learn from in the training window")?;
            let seconds = started.elapsed().as_secs_f64();
            let report = json!({
                "as_of": at.to_string(), "horizon": horizon,
                "train": {"features_at": t1.to_string(), "n": later.len(),
                          "churned": y1.iter().filter(|v| **v).count()},
                "validation": validation.as_ref().map(|v| evaluation_json(v, t0, t1, at)),
            });
            let saved = models::ChurnModel {
                categorical: encoder.categorical.clone(),
                coefficients: model.coefficients.clone(),
                format: models::MODEL_FORMAT,
                intercept: model.intercept,
                l2: model.l2,
                names: model.names.clone(),
                numeric: encoder.numeric.clone(),
                report: report.clone(),
                scale: model.scale.clone(),
                store_version: snapshot.version(),
            };
            let path = models::save(&store, &saved)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "Trained on {} customers active at {t1} ({} churned by {at}); {} features; fits {seconds:.1} s; saved to {}",
                later.len(),
                y1.iter().filter(|v| **v).count(),
                model.names.len(),
                path.display()
            );
            match &validation {
                Some(v) => print_evaluation(v, t0, t1, at),
                None => println!("validation: no churn in the earlier window to learn from"),
            }
            print_effects(&model);
            Ok(ExitCode::SUCCESS)
        }
        ChurnCommand::Score { as_of, top, format } => {
            let (encoder, model, at, cases) = scoring(&store, as_of.as_deref(), &runtime)?;
            let mut scored: Vec<Scored> = cases
                .iter()
                .map(|c| {
                    let row = encoder.encode(&c.features);
                    let factors = model
                        .top_factors(&row, 3)
                        .into_iter()
                        .map(|(name, contribution)| {
                            (factor_label(&model, &row, &name), contribution)
                        })
                        .collect();
                    (c, model.probability(&row), factors)
                })
                .collect();
            scored.sort_by(|a, b| {
                b.1.total_cmp(&a.1)
                    .then(a.0.customer_id.cmp(&b.0.customer_id))
            });
            if let Some(top) = top {
                scored.truncate(top);
            }
            if format == "json" {
                let rows: Vec<Value> = scored
                    .iter()
                    .map(|(c, p, f)| {
                        json!({"customer_id": c.customer_id, "probability": p,
                        "top_factors": f.iter().map(|(n, _)| n).collect::<Vec<_>>()})
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string(&json!({"as_of": at.to_string(), "rows": rows}))?
                );
            } else {
                let mut out = cxkpi_app::render::SafeCsv::new(std::io::stdout().lock());
                out.write_record(["customer_id", "probability", "top_factors"])?;
                for (c, p, f) in &scored {
                    let factors: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
                    out.write_record([
                        c.customer_id.as_str(),
                        &p.to_string(),
                        &factors.join("; "),
                    ])?;
                }
                out.flush()?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ChurnCommand::Table { .. } => unreachable!("handled without a workspace above"),
        ChurnCommand::Explain { id, as_of } => {
            let (encoder, model, at, cases) = scoring(&store, as_of.as_deref(), &runtime)?;
            let Some(case) = cases.iter().find(|c| c.customer_id == id) else {
                return Err(
                    StoreError::Usage(format!("customer `{id}` is not active at {at}")).into(),
                );
            };
            let row = encoder.encode(&case.features);
            println!(
                "Customer {id} at {at}: churn probability {:.3}",
                model.probability(&row)
            );
            let mut parts: Vec<(&String, f64, f64)> = model
                .names
                .iter()
                .zip(&row)
                .zip(model.contributions(&row))
                .map(|((n, v), c)| (n, *v, c))
                .collect();
            parts.sort_by(|a, b| b.2.abs().total_cmp(&a.2.abs()));
            println!("{:<36} {:>12} {:>14}", "factor", "value", "log-odds");
            for (name, value, c) in parts.iter().filter(|p| p.2 != 0.0) {
                println!("{name:<36} {value:>12.2} {c:>+14.3}");
            }
            println!("{:<36} {:>12} {:>+14.3}", "(baseline)", "", model.intercept);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints the model's ten largest coefficients.
pub(crate) fn print_effects(model: &Logistic) {
    println!("\nlargest effects (per standard deviation, on the log-odds):");
    let mut effects: Vec<(&String, f64)> = model
        .names
        .iter()
        .zip(model.coefficients.iter().copied())
        .collect();
    effects.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    for (name, c) in effects.iter().take(10) {
        println!("  {name:<36} {c:+.3}");
    }
}

/// A scored customer: the case, its probability and its top factors.
type Scored<'a> = (&'a ChurnCase, f64, Vec<(String, f64)>);

/// A factor as a person reads it: `plan=basic` or `not plan=pro` for categories and
/// flags, `days_since_activity = 41.5` for numbers.
pub(crate) fn factor_label(model: &Logistic, row: &[f64], name: &str) -> String {
    let value = model
        .names
        .iter()
        .position(|n| n == name)
        .map_or(f64::NAN, |i| row[i]);
    if name.contains('=') || name.ends_with(" missing") {
        if value == 0.0 {
            format!("not {name}")
        } else {
            name.to_string()
        }
    } else {
        format!("{name} = {value:.1}")
    }
}

/// The saved model, the instant of `--as-of` and the customers active at it with their
/// features: what `score` and `explain` start from.
fn scoring(
    store: &Store,
    as_of: Option<&str>,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<(Encoder, Logistic, jiff::Timestamp, Vec<ChurnCase>)> {
    let (encoder, model) = load(store)?;
    let (snapshot, config) = (store.snapshot()?, store.config());
    let at = crate::views::as_of(as_of, &snapshot, config, runtime)?;
    let attributes = runtime.block_on(cxkpi_engine::customer_attributes(&snapshot))?;
    let same_numeric = encoder
        .numeric
        .iter()
        .map(|(n, _, _)| n)
        .eq(attributes.numeric_features().iter());
    let same_categorical = encoder
        .categorical
        .iter()
        .map(|(n, _)| n)
        .eq(attributes.categorical.iter());
    if !(same_numeric && same_categorical) {
        return Err(StoreError::Usage(
            "the features have changed since the churn model was trained (customer columns added, or a column now holds text): run `cxkpi churn train` again".into(),
        )
        .into());
    }
    let cases = runtime.block_on(cxkpi_engine::churn_cases(
        &snapshot,
        config,
        &attributes,
        at,
    ))?;
    Ok((encoder, model, at, cases))
}

fn train(attributes: &Attributes, cases: &[ChurnCase], y: &[bool]) -> Option<(Encoder, Logistic)> {
    let raw: Vec<&RawFeatures> = cases.iter().map(|c| &c.features).collect();
    cxkpi_core::churn::train(
        &attributes.numeric_features(),
        &attributes.categorical,
        &raw,
        y,
    )
}

fn evaluation_json(
    v: &Evaluation,
    t0: jiff::Timestamp,
    t1: jiff::Timestamp,
    at: jiff::Timestamp,
) -> Value {
    let mut out = json!({
        "trained_at": t0.to_string(), "tested_at": t1.to_string(), "outcomes_until": at.to_string(),
    });
    if let (Value::Object(out), Value::Object(scores)) = (&mut out, scores_json(v)) {
        out.extend(scores);
    }
    out
}

/// An evaluation's numbers: `n`, `churned`, `auc` with its interval, `brier`,
/// `calibration`.
pub(crate) fn scores_json(v: &Evaluation) -> Value {
    json!({
        "n": v.n, "churned": v.positives,
        "auc": v.auc.map(|a| a.0), "auc_ci_low": v.auc.map(|a| a.1.low), "auc_ci_high": v.auc.map(|a| a.1.high),
        "brier": v.brier,
        "calibration": v.calibration.iter().map(|(n, p, o)| json!({"n": n, "predicted": p, "observed": o})).collect::<Vec<_>>(),
    })
}

pub(crate) fn print_calibration(v: &Evaluation) {
    println!("  calibration (tenths by predicted risk): predicted -> observed");
    for (n, p, o) in &v.calibration {
        println!("    n {n:>8}  {:>6.1}% -> {:>6.1}%", 100.0 * p, 100.0 * o);
    }
}

fn print_evaluation(v: &Evaluation, t0: jiff::Timestamp, t1: jiff::Timestamp, at: jiff::Timestamp) {
    println!(
        "validation: trained at {t0}, tested on the {} customers active at {t1} ({} churned by {at})",
        v.n, v.positives
    );
    if let Some((auc, ci)) = v.auc {
        println!(
            "  AUC {auc:.3} (95% {:.3} .. {:.3}); Brier {:.4}",
            ci.low, ci.high, v.brier
        );
    }
    print_calibration(v);
}

fn load(store: &Store) -> anyhow::Result<(Encoder, Logistic)> {
    let loaded = models::load::<models::ChurnModel>(store)?;
    if let Some(note) = &loaded.stale {
        eprintln!("note: {note}");
    }
    let m = loaded.model;
    Ok((
        Encoder {
            numeric: m.numeric,
            categorical: m.categorical,
        },
        Logistic {
            names: m.names,
            scale: m.scale,
            intercept: m.intercept,
            coefficients: m.coefficients,
            l2: m.l2,
        },
    ))
}
