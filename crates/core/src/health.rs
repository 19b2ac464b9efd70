//! The customer health score (kpis.md, "Health score"): a weighted mean of component
//! scores, each 0..100, over the components a customer has data for, as of an instant.
//!
//! The facts (days since the last usage event and purchase, the latest NPS or CSAT
//! answer, old open tickets) are gathered by the engine; this module only turns them
//! into a score, so the KPI, `cxkpi health` and the backtest share one definition.

use crate::config::HealthConfig;

pub use crate::period::DAY_MICROS;

/// What is known about one customer as of the instant the score is for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HealthFacts {
    /// Fractional days since the last `usage` event before the instant.
    pub days_since_activity: Option<f64>,
    /// The latest NPS or CSAT answer before the instant, on 0..100.
    pub satisfaction: Option<f64>,
    /// With a ticket created before the instant: the tickets open at it and created
    /// more than 72 hours before it. `None` without any ticket.
    pub old_open_tickets: Option<u32>,
    /// Fractional days since the last order before the instant.
    pub days_since_purchase: Option<f64>,
}

/// A band of the health score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthBand {
    /// At or above `green_at`.
    Green,
    /// At or above `yellow_at`, below `green_at`.
    Yellow,
    /// Below `yellow_at`.
    Red,
}

impl HealthBand {
    /// The band's name as configured and printed.
    pub fn name(self) -> &'static str {
        match self {
            HealthBand::Green => "green",
            HealthBand::Yellow => "yellow",
            HealthBand::Red => "red",
        }
    }
}

/// The component names, in the order of [`Health::components`].
pub const COMPONENTS: [&str; 4] = ["activity", "satisfaction", "support", "purchase"];

/// A customer's health score with its breakdown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    /// The weighted mean, 0..100 (unrounded).
    pub score: f64,
    /// Each component's score (activity, satisfaction, support, purchase); `None`
    /// where there is no data or the weight is 0.
    pub components: [Option<f64>; 4],
    /// The band of the unrounded score.
    pub band: HealthBand,
}

/// A recency component: 100 up to 7 days, falling linearly to 0 at `zero_at` days.
pub fn recency(days: f64, zero_at: f64) -> f64 {
    (100.0 * (zero_at - days) / (zero_at - 7.0)).clamp(0.0, 100.0)
}

/// A satisfaction answer on 0..100: NPS score * 10, CSAT (score - min) / (max - min).
pub fn satisfaction(nps: bool, score: i64, min: i64, max: i64) -> f64 {
    if nps {
        score as f64 * 10.0
    } else {
        (score - min) as f64 / (max - min) as f64 * 100.0
    }
}

/// The health score of one customer; `None` when no component with a positive weight
/// has data (such customers are left out of the mean and of n).
pub fn health(facts: &HealthFacts, config: &HealthConfig) -> Option<Health> {
    let components = [
        facts.days_since_activity.map(|d| recency(d, 60.0)),
        facts.satisfaction,
        facts
            .old_open_tickets
            .map(|k| (100.0 - 25.0 * f64::from(k)).max(0.0)),
        facts.days_since_purchase.map(|d| recency(d, 90.0)),
    ];
    let weights = [
        config.weight_activity,
        config.weight_satisfaction,
        config.weight_support,
        config.weight_purchase,
    ];
    let mut used = [None; 4];
    let (mut sum, mut weight) = (0.0, 0.0);
    for i in 0..4 {
        if let Some(score) = components[i].filter(|_| weights[i] > 0.0) {
            sum += weights[i] * score;
            weight += weights[i];
            used[i] = Some(score);
        }
    }
    if weight == 0.0 {
        return None;
    }
    let score = sum / weight;
    Some(Health {
        score,
        components: used,
        band: band(score, config),
    })
}

/// The band of a score.
pub fn band(score: f64, config: &HealthConfig) -> HealthBand {
    if score >= config.green_at {
        HealthBand::Green
    } else if score >= config.yellow_at {
        HealthBand::Yellow
    } else {
        HealthBand::Red
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn weighted_mean_over_the_components_with_data() {
        let config = Config::default().health;
        // Activity 10 days ago: 100 * 50 / 53 = 94.3396; NPS 8: 80; no tickets;
        // purchase 48.5 days ago: 100 * 41.5 / 83 = 50.
        let facts = HealthFacts {
            days_since_activity: Some(10.0),
            satisfaction: Some(satisfaction(true, 8, 0, 10)),
            old_open_tickets: None,
            days_since_purchase: Some(48.5),
        };
        let h = health(&facts, &config).unwrap();
        // (0.3 * 94.3396 + 0.3 * 80 + 0.2 * 50) / 0.8 = 62.3019 / 0.8 = 77.8774: green.
        let expected = (0.3 * 5000.0 / 53.0 + 0.3 * 80.0 + 0.2 * 50.0) / 0.8;
        assert!((h.score - expected).abs() < 1e-12, "{}", h.score);
        assert!((h.score - 77.8774).abs() < 1e-4);
        assert_eq!(h.band, HealthBand::Green);
        assert_eq!(h.components[2], None);

        // Support only: 2 old open tickets: 50; 5 of them: floor 0.
        let support = |k| HealthFacts {
            old_open_tickets: Some(k),
            ..HealthFacts::default()
        };
        assert_eq!(health(&support(2), &config).unwrap().score, 50.0);
        assert_eq!(health(&support(5), &config).unwrap().score, 0.0);
        assert_eq!(
            health(&support(0), &config).unwrap().band,
            HealthBand::Green
        );
        assert_eq!(health(&HealthFacts::default(), &config), None);
    }

    #[test]
    fn recency_edges_and_csat_rescaling() {
        assert_eq!(recency(0.0, 60.0), 100.0);
        assert_eq!(recency(7.0, 60.0), 100.0);
        assert_eq!(recency(60.0, 60.0), 0.0);
        assert_eq!(recency(400.0, 90.0), 0.0);
        assert_eq!(satisfaction(false, 4, 1, 5), 75.0);
        assert_eq!(satisfaction(false, 1, 1, 5), 0.0);
    }

    #[test]
    fn a_zero_weight_leaves_its_component_out() {
        let mut config = Config::default().health;
        config.weight_satisfaction = 0.0;
        let facts = HealthFacts {
            satisfaction: Some(0.0),
            days_since_purchase: Some(0.0),
            ..HealthFacts::default()
        };
        let h = health(&facts, &config).unwrap();
        assert_eq!((h.score, h.components[1]), (100.0, None));
    }
}
