//! Predictive CLV: BG/NBD and Gamma-Gamma fitted on every customer's purchase days up
//! to a calibration end, saved as `models/clv.json`, and applied per customer over a
//! horizon (P(alive), expected purchases and average value, discounted CLV).

use std::path::PathBuf;

use cxkpi_core::clv::{BgNbd, GammaGamma, Summary, clv, fit_bgnbd, fit_gamma_gamma, summarize};
use cxkpi_core::config::Config;
use cxkpi_core::period::MONTH_DAYS;
use cxkpi_core::threads::Threads;
use cxkpi_store::{Snapshot, Store};

use crate::duration::Horizon;
use crate::error::{AppError, ErrorKind, Result};
use crate::models::{self, BgNbdFit, ClvModel, GammaGammaFit};

/// A fitted and saved model.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The model as saved.
    pub model: ClvModel,
    /// Where it was saved.
    pub path: PathBuf,
    /// How long the two fits took, in seconds.
    pub seconds: f64,
}

/// (P(alive), expected purchases, expected average value, discounted CLV).
pub type Prediction = (f64, f64, f64, f64);

/// The saved model, ready to predict.
#[derive(Debug, Clone)]
pub struct Model {
    /// BG/NBD.
    pub bg: BgNbd,
    /// Gamma-Gamma.
    pub gg: GammaGamma,
    /// The calibration end as days since 1970-01-01.
    pub end_day: i32,
    /// The calibration end, YYYY-MM-DD.
    pub calibration_end: String,
    /// The time unit's name.
    pub unit: String,
    /// Days per time unit.
    pub unit_days: f64,
    /// A note when the store has changed since the fit.
    pub stale: Option<String>,
}

/// Every customer's prediction over a horizon.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// The horizon as asked for.
    pub horizon: String,
    /// Per customer with an order up to the calibration end, in the store's order.
    pub rows: Vec<(String, Summary, Prediction)>,
    /// A note when the store has changed since the fit.
    pub stale: Option<String>,
}

/// One customer's prediction, with the model it came from.
#[derive(Debug, Clone)]
pub struct CustomerClv {
    /// The customer.
    pub id: String,
    /// The horizon as asked for.
    pub horizon: String,
    /// Their calibration summary.
    pub summary: Summary,
    /// The prediction.
    pub prediction: Prediction,
    /// The model.
    pub model: Model,
}

/// `weeks` (the default) or `days`.
fn unit_days(unit: &str) -> f64 {
    if unit == "days" { 1.0 } else { 7.0 }
}

/// Fits BG/NBD and Gamma-Gamma on the orders up to `calibration_end` (inclusive;
/// default: the last day with an order) in `unit` (`weeks` or `days`) on `threads`,
/// and saves them.
pub async fn fit(
    store: &Store,
    snapshot: &Snapshot,
    calibration_end: Option<&str>,
    unit: &str,
    threads: Threads,
) -> Result<Fitted> {
    let histories = cxkpi_engine::purchase_days(snapshot, store.config()).await?;
    let epoch = jiff::civil::Date::constant(1970, 1, 1);
    let end = match calibration_end {
        Some(text) => (crate::kpis::date(text, "--calibration-end")? - epoch).get_days(),
        None => histories
            .iter()
            .filter_map(|(_, days)| days.last().map(|d| d.0))
            .max()
            .ok_or_else(|| AppError::new(ErrorKind::NotFound, "the store has no orders"))?,
    };
    let summaries: Vec<Summary> = histories
        .iter()
        .filter_map(|(_, days)| summarize(days, end, unit_days(unit)))
        .collect();
    let started = std::time::Instant::now();
    let fail = |what: &str| AppError::new(ErrorKind::Invalid, what.to_string());
    let bg = fit_bgnbd(&summaries, threads).ok_or_else(|| fail("BG/NBD did not converge"))?;
    let gg = fit_gamma_gamma(&summaries, threads)
        .ok_or_else(|| fail("no repeat buyers for Gamma-Gamma"))?;
    let seconds = started.elapsed().as_secs_f64();
    let calibration_end = epoch
        .checked_add(jiff::Span::new().days(i64::from(end)))
        .map_err(|e| AppError::usage(format!("--calibration-end: {e}")))?
        .to_string();
    let model = ClvModel {
        bgnbd: BgNbdFit::from(&bg),
        calibration_end,
        format: models::MODEL_FORMAT,
        gamma_gamma: GammaGammaFit::from(&gg),
        n_customers: summaries.len(),
        n_repeat: summaries.iter().filter(|s| s.frequency > 0).count(),
        store_version: snapshot.version(),
        unit: unit.to_string(),
    };
    let path = models::save(store, &model)?;
    Ok(Fitted {
        model,
        path,
        seconds,
    })
}

impl Model {
    /// The workspace's saved model.
    pub fn load(store: &Store, snapshot: &Snapshot) -> Result<Model> {
        let loaded = models::load::<ClvModel>(store, snapshot)?;
        let m = loaded.model;
        let date: jiff::civil::Date = m.calibration_end.parse().map_err(|e| {
            AppError::new(
                ErrorKind::Invalid,
                format!("{}: calibration_end: {e}", loaded.path.display()),
            )
        })?;
        Ok(Model {
            bg: BgNbd::from(&m.bgnbd),
            gg: GammaGamma::from(&m.gamma_gamma),
            end_day: (date - jiff::civil::Date::constant(1970, 1, 1)).get_days(),
            calibration_end: m.calibration_end,
            unit_days: unit_days(&m.unit),
            unit: m.unit,
            stale: loaded.stale,
        })
    }

    /// The horizon in model time units.
    fn horizon(&self, horizon: Horizon) -> f64 {
        horizon.days() / self.unit_days
    }

    /// (P(alive), expected purchases over t, expected average value, discounted CLV
    /// over t).
    pub fn predict(&self, s: &Summary, t: f64, config: &Config) -> Prediction {
        (
            self.bg.p_alive(s),
            self.bg.expected_purchases(s, t),
            self.gg.expected_value(s),
            clv(
                &self.bg,
                &self.gg,
                s,
                t,
                MONTH_DAYS / self.unit_days,
                config.monthly_discount_rate,
                config.gross_margin,
            ),
        )
    }
}

fn parse_horizon(text: &str) -> Result<Horizon> {
    text.parse::<Horizon>()
        .map_err(|e| AppError::usage(format!("--horizon: {e}")))
}

/// Every customer's prediction with the saved model over `horizon`, computed on
/// `threads` threads (the caller's choice: a server shares its cores).
pub async fn predict(
    store: &Store,
    snapshot: &Snapshot,
    horizon: &str,
    threads: Threads,
) -> Result<Predictions> {
    let model = Model::load(store, snapshot)?;
    let t = model.horizon(parse_horizon(horizon)?);
    let config = store.config();
    let histories = cxkpi_engine::purchase_days(snapshot, config).await?;
    let chunk = histories.len().div_ceil(threads.get()).max(1);
    let rows = std::thread::scope(|scope| {
        let parts: Vec<_> = histories
            .chunks(chunk)
            .map(|part| {
                let model = &model;
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|(id, days)| {
                            let s = summarize(days, model.end_day, model.unit_days)?;
                            Some((id.clone(), s, model.predict(&s, t, config)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().expect("a prediction thread panicked"))
            .collect()
    });
    Ok(Predictions {
        horizon: horizon.to_string(),
        rows,
        stale: model.stale,
    })
}

/// One customer's prediction with the saved model over `horizon`.
pub async fn customer(
    store: &Store,
    snapshot: &Snapshot,
    id: &str,
    horizon: &str,
) -> Result<CustomerClv> {
    let model = Model::load(store, snapshot)?;
    let t = model.horizon(parse_horizon(horizon)?);
    let histories = cxkpi_engine::purchase_days(snapshot, store.config()).await?;
    let Some((_, days)) = histories.iter().find(|(c, _)| c == id) else {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("customer `{id}` has no orders"),
        ));
    };
    let Some(summary) = summarize(days, model.end_day, model.unit_days) else {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("customer `{id}` has no order up to the calibration end"),
        ));
    };
    let prediction = model.predict(&summary, t, store.config());
    Ok(CustomerClv {
        id: id.to_string(),
        horizon: horizon.to_string(),
        summary,
        prediction,
        model,
    })
}
