//! Benchmark bands and targets of a KPI value (kpis.md, "Benchmarks"; cxkpi.toml
//! `[benchmarks]` and `[targets]`).
//!
//! A value's band is the strictest band whose condition it meets: bands are ordered by
//! threshold in the KPI's direction (for higher-is-better KPIs the highest threshold is
//! the strictest), so the order in which a configuration lists them does not matter.

use crate::config::{Band, Config, Threshold};
use crate::kpi::{Direction, KpiDef};

/// How a value stands against its target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStatus {
    /// The target, e.g. `>= 40`.
    pub target: Threshold,
    /// Whether the value meets it.
    pub met: bool,
    /// Value minus target threshold (in the KPI's unit).
    pub gap: f64,
}

/// The bands in force for a KPI: the configuration's, or else the catalogue's.
pub fn bands(kpi: &KpiDef, config: &Config) -> Vec<Band> {
    let mut bands = config
        .benchmarks
        .get(kpi.id)
        .cloned()
        .unwrap_or_else(|| kpi.default_bands());
    bands.sort_by(|a, b| {
        let order = a.threshold.value.total_cmp(&b.threshold.value);
        match kpi.direction {
            Direction::Higher => order,
            Direction::Lower => order.reverse(),
        }
    });
    bands
}

/// The strictest band `value` meets, if any.
pub fn band(kpi: &KpiDef, config: &Config, value: f64) -> Option<String> {
    bands(kpi, config)
        .into_iter()
        .rev()
        .find(|b| b.threshold.is_met(value))
        .map(|b| b.name)
}

/// `value` against the KPI's configured target, if it has one.
pub fn target(kpi: &KpiDef, config: &Config, value: f64) -> Option<TargetStatus> {
    let target = config.targets.get(kpi.id)?.clone();
    Some(TargetStatus {
        met: target.is_met(value),
        gap: value - target.value,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::lookup;

    #[test]
    fn default_bands() {
        let config = Config::default();
        let nps = lookup("nps").unwrap();
        assert_eq!(band(nps, &config, -5.0), None);
        assert_eq!(band(nps, &config, 0.0), None);
        assert_eq!(band(nps, &config, 10.0).as_deref(), Some("good"));
        assert_eq!(band(nps, &config, 50.0).as_deref(), Some("excellent"));
        assert_eq!(band(nps, &config, 75.0).as_deref(), Some("world_class"));
        let frt = lookup("first_response_time").unwrap();
        assert_eq!(band(frt, &config, 0.9).as_deref(), Some("good"));
        assert_eq!(band(frt, &config, 1.5), None);
    }

    #[test]
    fn configured_bands_and_targets() {
        let config = Config::from_toml(
            "[benchmarks.first_response_time]\nok = \"<= 4h\"\ngreat = \"<= 30m\"\n\n[targets]\nnps = \">= 40\"\nfirst_response_time = \"<= 2h\"\n",
        )
        .unwrap();
        let frt = lookup("first_response_time").unwrap();
        assert_eq!(band(frt, &config, 0.25).as_deref(), Some("great"));
        assert_eq!(band(frt, &config, 3.0).as_deref(), Some("ok"));
        let nps = lookup("nps").unwrap();
        let status = target(nps, &config, 35.0).unwrap();
        assert_eq!((status.met, status.gap), (false, -5.0));
        let status = target(frt, &config, 1.5).unwrap();
        assert_eq!((status.met, status.gap), (true, -0.5));
        assert_eq!(target(lookup("csat").unwrap(), &config, 90.0), None);
    }
}
