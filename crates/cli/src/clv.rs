//! `cxkpi clv`: predictive CLV (BG/NBD + Gamma-Gamma) fitted on the store's orders,
//! saved in the workspace (`models/clv.json`), and applied per customer.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cxkpi_app::models;
use cxkpi_core::clv::{BgNbd, GammaGamma, Summary, clv, fit_bgnbd, fit_gamma_gamma, summarize};
use cxkpi_core::period::MONTH_DAYS;
use cxkpi_store::{Store, StoreError};
use serde_json::{Value, json};

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
    let config = store.config();
    let runtime = crate::runtime()?;
    let histories = runtime.block_on(cxkpi_engine::purchase_days(&snapshot, config))?;
    let epoch = jiff::civil::Date::constant(1970, 1, 1);
    match command {
        ClvCommand::Fit {
            calibration_end,
            unit,
            format,
        } => {
            let end = match calibration_end {
                Some(text) => (crate::views::date(&text, "--calibration-end")? - epoch).get_days(),
                None => histories
                    .iter()
                    .filter_map(|(_, days)| days.last().map(|d| d.0))
                    .max()
                    .context("the store has no orders")?,
            };
            let unit_days = if unit == "days" { 1.0 } else { 7.0 };
            let summaries: Vec<Summary> = histories
                .iter()
                .filter_map(|(_, days)| summarize(days, end, unit_days))
                .collect();
            let started = std::time::Instant::now();
            let bg = fit_bgnbd(&summaries).context("BG/NBD did not converge")?;
            let gg = fit_gamma_gamma(&summaries).context("no repeat buyers for Gamma-Gamma")?;
            let seconds = started.elapsed().as_secs_f64();
            let calibration_end = epoch
                .checked_add(jiff::Span::new().days(i64::from(end)))?
                .to_string();
            let model = models::ClvModel {
                bgnbd: models::BgNbdFit {
                    a: bg.a,
                    alpha: bg.alpha,
                    b: bg.b,
                    log_likelihood: bg.log_likelihood,
                    r: bg.r,
                    se: models::BgNbdSe {
                        a: bg.se[2],
                        alpha: bg.se[1],
                        b: bg.se[3],
                        r: bg.se[0],
                    },
                },
                calibration_end: calibration_end.clone(),
                format: models::MODEL_FORMAT,
                gamma_gamma: models::GammaGammaFit {
                    log_likelihood: gg.log_likelihood,
                    p: gg.p,
                    q: gg.q,
                    se: models::GammaGammaSe {
                        p: gg.se[0],
                        q: gg.se[1],
                        v: gg.se[2],
                    },
                    v: gg.v,
                },
                n_customers: summaries.len(),
                n_repeat: summaries.iter().filter(|s| s.frequency > 0).count(),
                store_version: snapshot.version(),
                unit: unit.clone(),
            };
            let path = models::save(&store, &model)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&model)?);
            } else {
                println!(
                    "Fitted on {} customers ({} repeat buyers), calibration to {calibration_end} inclusive, time in {unit}, in {seconds:.2} s; saved to {}",
                    model.n_customers,
                    model.n_repeat,
                    path.display()
                );
                println!(
                    "BG/NBD: r {:.4} (se {:.4}), alpha {:.4} ({:.4}), a {:.4} ({:.4}), b {:.4} ({:.4}); log-likelihood {:.1}",
                    bg.r,
                    bg.se[0],
                    bg.alpha,
                    bg.se[1],
                    bg.a,
                    bg.se[2],
                    bg.b,
                    bg.se[3],
                    bg.log_likelihood
                );
                println!(
                    "Gamma-Gamma: p {:.4}, q {:.4}, v {:.4}; log-likelihood {:.1}",
                    gg.p, gg.q, gg.v, gg.log_likelihood
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ClvCommand::Predict { horizon, format } => {
            let model = Model::load(&store)?;
            let (t, months) = model.horizon(&horizon)?;
            let rows = model.predict_all(&histories, t, months, config);
            if format == "json" {
                let rows: Vec<Value> = rows
                    .iter()
                    .map(|(id, s, p)| {
                        json!({"customer_id": id, "frequency": s.frequency, "recency": s.recency,
                               "T": s.t, "monetary_value": s.monetary_value, "p_alive": p.0,
                               "expected_purchases": p.1, "expected_avg_value": p.2, "clv": p.3})
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string(&json!({"horizon": horizon, "rows": rows}))?
                );
            } else {
                let mut out = csv::Writer::from_writer(std::io::stdout().lock());
                out.write_record([
                    "customer_id",
                    "frequency",
                    "recency",
                    "T",
                    "monetary_value",
                    "p_alive",
                    "expected_purchases",
                    "expected_avg_value",
                    "clv",
                ])?;
                // Serialized fields: numbers formatted by ryu, without a String each.
                for (id, s, p) in &rows {
                    out.serialize((
                        cxkpi_core::spreadsheet::escape(id),
                        s.frequency,
                        s.recency,
                        s.t,
                        s.monetary_value,
                        p.0,
                        p.1,
                        p.2,
                        p.3,
                    ))?;
                }
                out.flush()?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ClvCommand::Customer { id, horizon } => {
            let model = Model::load(&store)?;
            let (t, months) = model.horizon(&horizon)?;
            let Some((_, days)) = histories.iter().find(|(c, _)| *c == id) else {
                return Err(StoreError::Usage(format!("customer `{id}` has no orders")).into());
            };
            let Some(s) = summarize(days, model.end_day, model.unit_days) else {
                return Err(StoreError::Usage(format!(
                    "customer `{id}` has no order up to the calibration end"
                ))
                .into());
            };
            let (p_alive, purchases, value, total) = model.predict(&s, t, months, config);
            println!(
                "Customer {id}, as of the calibration end ({} inclusive; time in {}):",
                model.calibration_end, model.unit
            );
            println!(
                "  {} purchase days in calibration: {} repeat (frequency), the last {:.2} {} after the first (recency), the first {:.2} {} before the end (T)",
                s.frequency + 1,
                s.frequency,
                s.recency,
                model.unit,
                s.t,
                model.unit
            );
            println!(
                "  mean repeat purchase value {:.2} -> expected average value {value:.2} (Gamma-Gamma shrinks it towards the population mean {:.2})",
                s.monetary_value,
                model.gg.p * model.gg.v / (model.gg.q - 1.0)
            );
            println!(
                "  P(alive) {p_alive:.3}; expected purchases over {horizon}: {purchases:.3}; discounted CLV {total:.2} {}",
                config.currency
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// (P(alive), expected purchases, expected average value, discounted CLV).
type Prediction = (f64, f64, f64, f64);

/// The saved model.
struct Model {
    bg: BgNbd,
    gg: GammaGamma,
    end_day: i32,
    calibration_end: String,
    unit: String,
    unit_days: f64,
}

impl Model {
    fn load(store: &Store) -> anyhow::Result<Model> {
        let loaded = models::load::<models::ClvModel>(store)?;
        if let Some(note) = &loaded.stale {
            eprintln!("note: {note}");
        }
        let m = loaded.model;
        let date: jiff::civil::Date = m.calibration_end.parse().map_err(|e| {
            cxkpi_app::AppError::new(
                cxkpi_app::ErrorKind::Invalid,
                format!("{}: calibration_end: {e}", loaded.path.display()),
            )
        })?;
        Ok(Model {
            bg: BgNbd {
                r: m.bgnbd.r,
                alpha: m.bgnbd.alpha,
                a: m.bgnbd.a,
                b: m.bgnbd.b,
                log_likelihood: m.bgnbd.log_likelihood,
                se: [m.bgnbd.se.r, m.bgnbd.se.alpha, m.bgnbd.se.a, m.bgnbd.se.b],
            },
            gg: GammaGamma {
                p: m.gamma_gamma.p,
                q: m.gamma_gamma.q,
                v: m.gamma_gamma.v,
                log_likelihood: m.gamma_gamma.log_likelihood,
                se: [m.gamma_gamma.se.p, m.gamma_gamma.se.q, m.gamma_gamma.se.v],
            },
            end_day: (date - jiff::civil::Date::constant(1970, 1, 1)).get_days(),
            calibration_end: m.calibration_end,
            unit_days: if m.unit == "days" { 1.0 } else { 7.0 },
            unit: m.unit,
        })
    }

    /// The horizon in model time units, and in whole months for the CLV sum.
    fn horizon(&self, text: &str) -> anyhow::Result<(f64, u32)> {
        let days = text
            .parse::<cxkpi_app::duration::Horizon>()
            .map_err(|e| cxkpi_app::AppError::usage(format!("--horizon: {e}")))?
            .days();
        Ok((days / self.unit_days, (days / MONTH_DAYS).ceil() as u32))
    }

    /// Each customer with an order up to the calibration end, their summary and
    /// [`Model::predict`], in the order of `histories`, computed on every core.
    fn predict_all<'h>(
        &self,
        histories: &'h [(String, Vec<(i32, f64)>)],
        t: f64,
        months: u32,
        config: &cxkpi_core::config::Config,
    ) -> Vec<(&'h String, Summary, Prediction)> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = histories.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = histories
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .filter_map(|(id, days)| {
                                let s = summarize(days, self.end_day, self.unit_days)?;
                                Some((id, s, self.predict(&s, t, months, config)))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|part| part.join().expect("a prediction thread panicked"))
                .collect()
        })
    }

    /// (P(alive), expected purchases over t, expected average value, discounted CLV).
    fn predict(
        &self,
        s: &Summary,
        t: f64,
        months: u32,
        config: &cxkpi_core::config::Config,
    ) -> Prediction {
        (
            self.bg.p_alive(s),
            self.bg.expected_purchases(s, t),
            self.gg.expected_value(s),
            clv(
                &self.bg,
                &self.gg,
                s,
                months,
                MONTH_DAYS / self.unit_days,
                config.monthly_discount_rate,
                config.gross_margin,
            ),
        )
    }
}
