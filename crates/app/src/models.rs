//! Fitted model files, `models/churn.json` and `models/clv.json`: serde structs with a
//! format version, saved atomically and read back with a clear error when a file is
//! missing, unreadable or from another format, and a note when the store has changed
//! since the model was fitted.

use std::path::PathBuf;

use cxkpi_store::{Snapshot, Store};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorKind, Result};

/// The format of the model files this cxkpi writes and reads.
pub const MODEL_FORMAT: u32 = 1;

/// A model file of the workspace.
pub trait ModelFile: Serialize + DeserializeOwned {
    /// Its name under `models/` (without `.json`).
    const NAME: &'static str;
    /// What it is, for messages.
    const WHAT: &'static str;
    /// The command that fits it.
    const FIT: &'static str;
    /// The format it was saved in (0 for files older than the format field).
    fn format(&self) -> u32;
    /// The store version it was fitted on.
    fn store_version(&self) -> u64;
}

/// A model read back, with whether the store has changed since it was fitted.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The model.
    pub model: T,
    /// The file.
    pub path: PathBuf,
    /// A note when the store has changed since the fit (a later import): the model
    /// still works, but does not know the new data.
    pub stale: Option<String>,
}

/// Saves `model` as `models/NAME.json`, atomically and durably; returns the path.
pub fn save<T: ModelFile>(store: &Store, model: &T) -> Result<PathBuf> {
    let text = serde_json::to_string_pretty(model)
        .map_err(|e| AppError::new(ErrorKind::Internal, format!("serialising the model: {e}")))?;
    Ok(store.save_model(T::NAME, &text)?)
}

/// Reads the workspace's model of type `T`; `snapshot` is the store version the
/// caller reads, against which the model is judged stale.
pub fn load<T: ModelFile>(store: &Store, snapshot: &Snapshot) -> Result<Loaded<T>> {
    let Some((text, path)) = store.load_model(T::NAME)? else {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("no {} in the workspace: run `{}` first", T::WHAT, T::FIT),
        ));
    };
    #[derive(Deserialize)]
    struct Format {
        #[serde(default)]
        format: u32,
    }
    let unreadable = |e: serde_json::Error| {
        AppError::new(
            ErrorKind::Invalid,
            format!(
                "{} is not a {} ({e}): run `{}` again",
                path.display(),
                T::WHAT,
                T::FIT
            ),
        )
    };
    let format = serde_json::from_str::<Format>(&text).map_err(unreadable)?;
    if format.format != MODEL_FORMAT {
        return Err(AppError::new(
            ErrorKind::Conflict,
            format!(
                "{} is a {} of model format {}, and this cxkpi reads format {MODEL_FORMAT}: run `{}` again",
                path.display(),
                T::WHAT,
                format.format,
                T::FIT
            ),
        ));
    }
    let model: T = serde_json::from_str(&text).map_err(unreadable)?;
    let now = snapshot.version();
    let stale = (model.store_version() != now).then(|| {
        format!(
            "{} was fitted on store version {}, and the store has changed since (version {now}): `{}` fits it to the data as it is now",
            path.display(),
            model.store_version(),
            T::FIT
        )
    });
    debug_assert_eq!(model.format(), MODEL_FORMAT);
    Ok(Loaded { model, path, stale })
}

/// `models/clv.json`: BG/NBD and Gamma-Gamma parameters with their standard errors.
/// Fields in alphabetical order, as the file has always had them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvModel {
    /// BG/NBD.
    pub bgnbd: BgNbdFit,
    /// The last day of the calibration period (inclusive), YYYY-MM-DD.
    pub calibration_end: String,
    /// The model file format.
    #[serde(default)]
    pub format: u32,
    /// Gamma-Gamma.
    pub gamma_gamma: GammaGammaFit,
    /// Customers fitted.
    pub n_customers: usize,
    /// Of them, repeat buyers.
    pub n_repeat: usize,
    /// The store version fitted on.
    #[serde(default)]
    pub store_version: u64,
    /// The time unit, `weeks` or `days`.
    pub unit: String,
}

/// BG/NBD parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgNbdFit {
    /// a.
    pub a: f64,
    /// alpha.
    pub alpha: f64,
    /// b.
    pub b: f64,
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    /// r.
    pub r: f64,
    /// Standard errors.
    pub se: BgNbdSe,
}

/// BG/NBD standard errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgNbdSe {
    /// Of a.
    pub a: f64,
    /// Of alpha.
    pub alpha: f64,
    /// Of b.
    pub b: f64,
    /// Of r.
    pub r: f64,
}

/// Gamma-Gamma parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaFit {
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    /// p.
    pub p: f64,
    /// q.
    pub q: f64,
    /// Standard errors.
    pub se: GammaGammaSe,
    /// v.
    pub v: f64,
}

/// Gamma-Gamma standard errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaSe {
    /// Of p.
    pub p: f64,
    /// Of q.
    pub q: f64,
    /// Of v.
    pub v: f64,
}

// The file keeps the standard errors by name; the core keeps them in parameter order
// (r, alpha, a, b and p, q, v).
impl From<&cxkpi_core::clv::BgNbd> for BgNbdFit {
    fn from(bg: &cxkpi_core::clv::BgNbd) -> BgNbdFit {
        BgNbdFit {
            a: bg.a,
            alpha: bg.alpha,
            b: bg.b,
            log_likelihood: bg.log_likelihood,
            r: bg.r,
            se: BgNbdSe {
                a: bg.se[2],
                alpha: bg.se[1],
                b: bg.se[3],
                r: bg.se[0],
            },
        }
    }
}

impl From<&BgNbdFit> for cxkpi_core::clv::BgNbd {
    fn from(f: &BgNbdFit) -> cxkpi_core::clv::BgNbd {
        cxkpi_core::clv::BgNbd {
            r: f.r,
            alpha: f.alpha,
            a: f.a,
            b: f.b,
            log_likelihood: f.log_likelihood,
            se: [f.se.r, f.se.alpha, f.se.a, f.se.b],
        }
    }
}

impl From<&cxkpi_core::clv::GammaGamma> for GammaGammaFit {
    fn from(gg: &cxkpi_core::clv::GammaGamma) -> GammaGammaFit {
        GammaGammaFit {
            log_likelihood: gg.log_likelihood,
            p: gg.p,
            q: gg.q,
            se: GammaGammaSe {
                p: gg.se[0],
                q: gg.se[1],
                v: gg.se[2],
            },
            v: gg.v,
        }
    }
}

impl From<&GammaGammaFit> for cxkpi_core::clv::GammaGamma {
    fn from(f: &GammaGammaFit) -> cxkpi_core::clv::GammaGamma {
        cxkpi_core::clv::GammaGamma {
            p: f.p,
            q: f.q,
            v: f.v,
            log_likelihood: f.log_likelihood,
            se: [f.se.p, f.se.q, f.se.v],
        }
    }
}

impl ModelFile for ClvModel {
    const NAME: &'static str = "clv";
    const WHAT: &'static str = "CLV model";
    const FIT: &'static str = "cxkpi clv fit";
    fn format(&self) -> u32 {
        self.format
    }
    fn store_version(&self) -> u64 {
        self.store_version
    }
}

/// `models/churn.json`: the churn model's encoder and logistic regression, and the
/// report of its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnModel {
    /// Categorical attributes and their levels (first the baseline).
    pub categorical: Vec<(String, Vec<String>)>,
    /// The coefficients, in the order of `names`.
    pub coefficients: Vec<f64>,
    /// The model file format.
    #[serde(default)]
    pub format: u32,
    /// The intercept.
    pub intercept: f64,
    /// The L2 penalty.
    pub l2: f64,
    /// The encoded features' names.
    pub names: Vec<String>,
    /// Numeric attributes: name, median fill, whether a missing flag is added.
    pub numeric: Vec<(String, f64, bool)>,
    /// What `churn train` reported (as_of, horizon, training set, validation).
    pub report: serde_json::Value,
    /// Per feature, the mean and standard deviation it is standardised with.
    pub scale: Vec<(f64, f64)>,
    /// The store version trained on.
    #[serde(default)]
    pub store_version: u64,
}

impl ModelFile for ChurnModel {
    const NAME: &'static str = "churn";
    const WHAT: &'static str = "churn model";
    const FIT: &'static str = "cxkpi churn train";
    fn format(&self) -> u32 {
        self.format
    }
    fn store_version(&self) -> u64 {
        self.store_version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clv(store_version: u64) -> ClvModel {
        ClvModel {
            bgnbd: BgNbdFit {
                a: 0.79,
                alpha: 4.41,
                b: 2.43,
                log_likelihood: -9582.4,
                r: 0.24,
                se: BgNbdSe {
                    a: 0.1,
                    alpha: 0.3,
                    b: 0.6,
                    r: 0.01,
                },
            },
            calibration_end: "1997-09-30".into(),
            format: MODEL_FORMAT,
            gamma_gamma: GammaGammaFit {
                log_likelihood: -4000.0,
                p: 6.25,
                q: 3.74,
                se: GammaGammaSe {
                    p: 0.5,
                    q: 0.3,
                    v: 2.0,
                },
                v: 15.44,
            },
            n_customers: 2357,
            n_repeat: 946,
            store_version,
            unit: "weeks".into(),
        }
    }

    #[test]
    fn saved_models_read_back_and_bad_files_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let err = load::<ClvModel>(&store, &store.snapshot().unwrap()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert!(err.message.contains("cxkpi clv fit"), "{}", err.message);

        save(&store, &clv(0)).unwrap();
        let loaded = load::<ClvModel>(&store, &store.snapshot().unwrap()).unwrap();
        assert_eq!(loaded.model, clv(0));
        assert!(loaded.stale.is_none());

        // A store that changed since the fit: the model loads, with a note.
        let orders = dir.path().join("o.csv");
        std::fs::write(
            &orders,
            "order_id,customer_id,ordered_at,amount\nO1,C1,2024-01-01,1\n",
        )
        .unwrap();
        store
            .import(
                cxkpi_core::entity::Entity::Orders,
                &[cxkpi_store::Input::from_arg(orders.to_str().unwrap(), None)],
                &cxkpi_store::ImportOptions::default(),
                &cxkpi_store::NoProgress,
            )
            .unwrap();
        let stale = load::<ClvModel>(&store, &store.snapshot().unwrap())
            .unwrap()
            .stale
            .unwrap();
        assert!(
            stale.contains("store version 0") && stale.contains("version 1"),
            "{stale}"
        );

        // A file of the format before the field (or of another) and a broken one.
        let path = dir.path().join("models/clv.json");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"format\": 1,", "")).unwrap();
        let err = load::<ClvModel>(&store, &store.snapshot().unwrap()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert!(err.message.contains("model format 0"), "{}", err.message);
        std::fs::write(&path, "{\"format\": 1, \"bgnbd\": 3}").unwrap();
        let err = load::<ClvModel>(&store, &store.snapshot().unwrap()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert!(
            err.message.contains("clv.json is not a CLV model"),
            "{}",
            err.message
        );
    }
}
