//! Customer health: every customer active at an instant with the health score and
//! its components, worst first, and a backtest of how well those scores separated the
//! customers who churned within a horizon after it.

use cxkpi_core::config::Config;
use cxkpi_core::health::HealthBand;
use cxkpi_core::stats::{self, Interval};
use cxkpi_engine::CustomerHealth;
use cxkpi_store::Snapshot;

use crate::duration::Horizon;
use crate::error::{AppError, Result};
use crate::kpis::{Slice, as_of, customer_request};

/// The scored customers at an instant.
#[derive(Debug, Clone)]
pub struct HealthList {
    /// The instant.
    pub as_of: jiff::Timestamp,
    /// Whether the customers carry a segment (`--by`).
    pub segmented: bool,
    /// The customers with a score, worst first (ties by id).
    pub customers: Vec<CustomerHealth>,
}

/// How well the scores at `as_of` separated the customers who churned by `until`.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// The instant scored.
    pub as_of: jiff::Timestamp,
    /// The end of the horizon.
    pub until: jiff::Timestamp,
    /// Customers scored.
    pub n: usize,
    /// Of them, churned by `until`.
    pub churned: usize,
    /// The AUC of the risk (100 - score) for churn, with its 95% interval (Hanley and
    /// McNeil); `None` without churners or without stayers.
    pub auc: Option<(f64, Interval)>,
    /// Churn by band: green, yellow, red.
    pub bands: Vec<BandChurn>,
}

/// Churn within one band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandChurn {
    /// The band.
    pub band: HealthBand,
    /// Customers in it.
    pub n: u64,
    /// Of them, churned.
    pub churned: u64,
    /// The churn share's Wilson interval (0..1).
    pub interval: Option<Interval>,
}

async fn scored(
    snapshot: &Snapshot,
    config: &Config,
    as_of_text: Option<&str>,
    slice: &Slice,
) -> Result<(jiff::Timestamp, Vec<CustomerHealth>)> {
    let at = as_of(as_of_text, snapshot, config).await?;
    let kpi = cxkpi_core::kpi::lookup("health_score").expect("in the catalogue");
    let request = customer_request(kpi, slice, snapshot, config)?;
    let customers = cxkpi_engine::customer_health(snapshot, config, &request, at).await?;
    Ok((at, customers))
}

/// Every customer active at `as_of` (default: the end of the data's last complete
/// month) with a score, in `band` if given, worst first.
pub async fn health(
    snapshot: &Snapshot,
    config: &Config,
    as_of_text: Option<&str>,
    slice: &Slice,
    band: Option<HealthBand>,
) -> Result<HealthList> {
    let (at, mut customers) = scored(snapshot, config, as_of_text, slice).await?;
    customers.retain(|c| c.health.is_some_and(|h| band.is_none_or(|b| h.band == b)));
    customers.sort_by(|a, b| {
        let score = |c: &CustomerHealth| c.health.map_or(f64::NAN, |h| h.score);
        score(a)
            .total_cmp(&score(b))
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });
    Ok(HealthList {
        as_of: at,
        segmented: !slice.by.is_empty(),
        customers,
    })
}

/// The backtest of the scores at `as_of` against churn within `horizon` after it.
pub async fn backtest(
    snapshot: &Snapshot,
    config: &Config,
    as_of_text: Option<&str>,
    slice: &Slice,
    horizon: Horizon,
) -> Result<Backtest> {
    let (at, customers) = scored(snapshot, config, as_of_text, slice).await?;
    let until = at
        .to_zoned(config.time_zone.clone())
        .checked_add(horizon.span())
        .map_err(|_| AppError::usage(format!("the horizon {horizon} runs out of range")))?
        .timestamp();
    let (mut churned, mut stayed) = (Vec::new(), Vec::new());
    let mut by_band = [(0u64, 0u64); 3];
    for c in &customers {
        let Some(h) = c.health else { continue };
        let lost = c.churned_at.is_some_and(|t| t <= until);
        // Lower health should mean more churn: score the risk as 100 - health.
        if lost {
            churned.push(100.0 - h.score);
        } else {
            stayed.push(100.0 - h.score);
        }
        let band = &mut by_band[h.band as usize];
        band.0 += 1;
        band.1 += u64::from(lost);
    }
    let bands = [HealthBand::Green, HealthBand::Yellow, HealthBand::Red]
        .into_iter()
        .map(|band| {
            let (n, lost) = by_band[band as usize];
            BandChurn {
                band,
                n,
                churned: lost,
                interval: stats::wilson(lost, n),
            }
        })
        .collect();
    Ok(Backtest {
        as_of: at,
        until,
        n: churned.len() + stayed.len(),
        churned: churned.len(),
        auc: stats::auc(&churned, &stayed),
        bands,
    })
}
