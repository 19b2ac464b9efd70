//! Churn risk: the logistic model trained on the store as of a date with a validation
//! in time (trained one horizon earlier, tested on this one), saved as
//! `models/churn.json`; every active customer scored, riskiest first; one customer's
//! score explained factor by factor.

use std::path::PathBuf;

use cxkpi_core::churn::{Encoder, Evaluation, Logistic, RawFeatures, evaluate};
use cxkpi_core::threads::Threads;
use cxkpi_engine::{Attributes, ChurnCase};
use cxkpi_store::{Snapshot, Store};

use crate::duration::Horizon;
use crate::error::{AppError, ErrorKind, Result};
use crate::kpis::as_of;
use crate::models::{self, ChurnModel};
use crate::wire;

/// A trained and saved model.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The instant outcomes are known until.
    pub as_of: jiff::Timestamp,
    /// The horizon as asked for.
    pub horizon: String,
    /// When the training customers' features are taken (as_of minus the horizon).
    pub features_at: jiff::Timestamp,
    /// When the validation model's features are taken (one horizon earlier).
    pub validated_from: jiff::Timestamp,
    /// Training customers.
    pub n: usize,
    /// Of them, churned by `as_of`.
    pub churned: usize,
    /// The validation, when the earlier window had churn to learn from.
    pub validation: Option<Evaluation>,
    /// The model.
    pub model: Logistic,
    /// Where it was saved.
    pub path: PathBuf,
    /// How long the fits took, in seconds.
    pub seconds: f64,
}

/// A scored customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The customer.
    pub customer_id: String,
    /// The churn probability within the model's horizon.
    pub probability: f64,
    /// The three factors raising it most, as people read them, with their log-odds.
    pub top_factors: Vec<(String, f64)>,
}

/// Every active customer's score.
#[derive(Debug, Clone)]
pub struct Scores {
    /// The instant scored.
    pub as_of: jiff::Timestamp,
    /// Riskiest first (ties by id).
    pub rows: Vec<Scored>,
    /// A note when the store has changed since the model was trained.
    pub stale: Option<String>,
}

/// One customer's score, factor by factor.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The customer.
    pub id: String,
    /// The instant scored.
    pub as_of: jiff::Timestamp,
    /// The churn probability.
    pub probability: f64,
    /// (factor, its value, its log-odds contribution), largest contribution first.
    pub parts: Vec<(String, f64, f64)>,
    /// The intercept.
    pub intercept: f64,
    /// A note when the store has changed since the model was trained.
    pub stale: Option<String>,
}

fn train_model(
    attributes: &Attributes,
    cases: &[ChurnCase],
    y: &[bool],
    threads: Threads,
) -> Option<(Encoder, Logistic)> {
    let raw: Vec<&RawFeatures> = cases.iter().map(|c| &c.features).collect();
    cxkpi_core::churn::train(
        &attributes.numeric_features(),
        &attributes.categorical,
        &raw,
        y,
        threads,
    )
}

/// Trains on the customers active at `as_of` minus `horizon`, labelled by whether
/// they churned by `as_of`, validates in time, and saves the model; the fits run on
/// `threads`.
pub async fn train(
    store: &Store,
    snapshot: &Snapshot,
    as_of_text: Option<&str>,
    horizon_text: &str,
    threads: Threads,
) -> Result<Trained> {
    let config = store.config();
    let at = as_of(as_of_text, snapshot, config).await?;
    let span = horizon_text
        .parse::<Horizon>()
        .map_err(|e| AppError::usage(format!("--horizon: {e}")))?
        .span();
    let back = |t: jiff::Timestamp| {
        t.to_zoned(config.time_zone.clone())
            .checked_sub(span)
            .map(|z| z.timestamp())
            .map_err(|e| AppError::usage(format!("--horizon {horizon_text}: {e}")))
    };
    let t1 = back(at)?;
    let t0 = back(t1)?;
    let attributes = cxkpi_engine::customer_attributes(snapshot).await?;
    let earlier = cxkpi_engine::churn_cases(snapshot, config, &attributes, t0).await?;
    let later = cxkpi_engine::churn_cases(snapshot, config, &attributes, t1).await?;
    let labels = |cases: &[ChurnCase], until: jiff::Timestamp| -> Vec<bool> {
        cases
            .iter()
            .map(|c| c.churned_at.is_some_and(|t| t <= until))
            .collect()
    };
    let (y0, y1) = (labels(&earlier, t1), labels(&later, at));
    let started = std::time::Instant::now();
    let validation = train_model(&attributes, &earlier, &y0, threads).map(|(encoder, model)| {
        let p: Vec<f64> = later
            .iter()
            .map(|c| model.probability(&encoder.encode(&c.features)))
            .collect();
        evaluate(&p, &y1)
    });
    let (encoder, model) = train_model(&attributes, &later, &y1, threads).ok_or_else(|| {
        AppError::new(
            ErrorKind::Invalid,
            "no churn (or no survivors) to learn from in the training window",
        )
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let mut trained = Trained {
        as_of: at,
        horizon: horizon_text.to_string(),
        features_at: t1,
        validated_from: t0,
        n: later.len(),
        churned: y1.iter().filter(|v| **v).count(),
        validation,
        model,
        path: PathBuf::new(),
        seconds,
    };
    let report = serde_json::to_value(wire::ChurnTraining::from(&trained))
        .map_err(|e| AppError::new(ErrorKind::Internal, e.to_string()))?;
    let saved = ChurnModel {
        categorical: encoder.categorical,
        coefficients: trained.model.coefficients.clone(),
        format: models::MODEL_FORMAT,
        intercept: trained.model.intercept,
        l2: trained.model.l2,
        names: trained.model.names.clone(),
        numeric: encoder.numeric,
        report,
        scale: trained.model.scale.clone(),
        store_version: snapshot.version(),
    };
    trained.path = models::save(store, &saved)?;
    Ok(trained)
}

/// The saved model, the instant and the customers active at it with their features.
async fn scoring(
    store: &Store,
    snapshot: &Snapshot,
    as_of_text: Option<&str>,
) -> Result<(
    Encoder,
    Logistic,
    jiff::Timestamp,
    Vec<ChurnCase>,
    Option<String>,
)> {
    let loaded = models::load::<ChurnModel>(store, snapshot)?;
    let m = loaded.model;
    let encoder = Encoder {
        numeric: m.numeric,
        categorical: m.categorical,
    };
    let model = Logistic {
        names: m.names,
        scale: m.scale,
        intercept: m.intercept,
        coefficients: m.coefficients,
        l2: m.l2,
    };
    let config = store.config();
    let at = as_of(as_of_text, snapshot, config).await?;
    let attributes = cxkpi_engine::customer_attributes(snapshot).await?;
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
        return Err(AppError::new(
            ErrorKind::Conflict,
            "the features have changed since the churn model was trained (customer columns added, or a column now holds text): run `cxkpi churn train` again",
        ));
    }
    let cases = cxkpi_engine::churn_cases(snapshot, config, &attributes, at).await?;
    Ok((encoder, model, at, cases, loaded.stale))
}

/// A factor as a person reads it: `plan=basic` or `not plan=pro` for categories and
/// flags, `days_since_activity = 41.5` for numbers.
pub fn factor_label(model: &Logistic, row: &[f64], name: &str) -> String {
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

/// Every customer active at `as_of` scored with the saved model, riskiest first; at
/// most `top` of them.
pub async fn score(
    store: &Store,
    snapshot: &Snapshot,
    as_of_text: Option<&str>,
    top: Option<usize>,
) -> Result<Scores> {
    let (encoder, model, at, cases, stale) = scoring(store, snapshot, as_of_text).await?;
    let mut rows: Vec<Scored> = cases
        .iter()
        .map(|c| {
            let row = encoder.encode(&c.features);
            let top_factors = model
                .top_factors(&row, 3)
                .into_iter()
                .map(|(name, contribution)| (factor_label(&model, &row, &name), contribution))
                .collect();
            Scored {
                customer_id: c.customer_id.clone(),
                probability: model.probability(&row),
                top_factors,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.customer_id.cmp(&b.customer_id))
    });
    if let Some(top) = top {
        rows.truncate(top);
    }
    Ok(Scores {
        as_of: at,
        rows,
        stale,
    })
}

/// One customer's score as the sum of its factors' log-odds.
pub async fn explain(
    store: &Store,
    snapshot: &Snapshot,
    id: &str,
    as_of_text: Option<&str>,
) -> Result<Explanation> {
    let (encoder, model, at, cases, stale) = scoring(store, snapshot, as_of_text).await?;
    let Some(case) = cases.iter().find(|c| c.customer_id == id) else {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("customer `{id}` is not active at {at}"),
        ));
    };
    let row = encoder.encode(&case.features);
    let mut parts: Vec<(String, f64, f64)> = model
        .names
        .iter()
        .zip(&row)
        .zip(model.contributions(&row))
        .map(|((n, v), c)| (n.clone(), *v, c))
        .collect();
    parts.sort_by(|a, b| b.2.abs().total_cmp(&a.2.abs()));
    Ok(Explanation {
        id: id.to_string(),
        as_of: at,
        probability: model.probability(&row),
        parts,
        intercept: model.intercept,
        stale,
    })
}
