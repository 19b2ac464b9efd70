//! The JSON shapes cxkpi prints and serves: the only serde types of the product, so
//! that `--format json` and the HTTP API are the same by construction. Domain types
//! (in core and the engine) stay free of serde and are converted here explicitly.
//!
//! Fields are declared in alphabetical order: that is the order the output has always
//! had (serde_json's map), and scripts may compare it as text.

use std::collections::BTreeMap;

use cxkpi_core::benchmark;
use cxkpi_core::config::Config;
use serde::Serialize;
use utoipa::ToSchema;

/// `{"rows": [...], "left_out": [...]}` of `kpi` and `report`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiRows {
    /// The KPIs not shown, and why.
    pub left_out: Vec<LeftOut>,
    /// One row per KPI, period and segment.
    pub rows: Vec<KpiRow>,
    /// What the user should know about the request, e.g. a filter value that matches
    /// no row (absent when there is nothing to say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A KPI a scorecard leaves out.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeftOut {
    /// The KPI's id.
    pub kpi: &'static str,
    /// Why.
    pub reason: String,
}

impl From<&crate::kpis::LeftOut> for LeftOut {
    fn from(l: &crate::kpis::LeftOut) -> LeftOut {
        LeftOut {
            kpi: l.kpi,
            reason: l.reason.clone(),
        }
    }
}

/// One KPI value (README.md, "KPI output", documents every field).
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiRow {
    /// The benchmark band met.
    pub band: Option<String>,
    /// The interval's upper bound.
    pub ci_high: Option<f64>,
    /// The interval's lower bound.
    pub ci_low: Option<f64>,
    /// Named parts of the value.
    pub components: BTreeMap<&'static str, f64>,
    /// The change against the previous period (with a comparison only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Option<f64>>,
    /// The KPI's id.
    pub kpi: &'static str,
    /// n < 30.
    pub low_sample: bool,
    /// What the value counts.
    pub n: u64,
    /// Why the change was not tested (with a comparison, when it was not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_test: Option<String>,
    /// The change test's p-value (with a comparison only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<Option<f64>>,
    /// The period runs past the end of the data (present only then).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// The period's label.
    pub period: String,
    /// The period's end (exclusive), RFC 3339 in UTC.
    pub period_end: String,
    /// The period's start, RFC 3339 in UTC.
    pub period_start: String,
    /// The previous period's value (with a comparison only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Option<f64>>,
    /// Why there is no value.
    pub reason: Option<String>,
    /// The segment, when segmented (with several dimensions, their values joined by
    /// ` / `).
    pub segment: Option<String>,
    /// With several dimensions, the segment's value of each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<std::collections::BTreeMap<String, String>>,
    /// Significant at 95% after Benjamini-Hochberg (with a comparison only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub significant: Option<Option<bool>>,
    /// The configured target and whether it is met.
    pub target: Option<Target>,
    /// The KPI's unit.
    pub unit: &'static str,
    /// The value.
    pub value: Option<f64>,
}

/// A target's status.
#[derive(Debug, Serialize, ToSchema)]
pub struct Target {
    /// How far the value is from the threshold.
    pub gap: f64,
    /// Whether the value meets it.
    pub met: bool,
    /// The threshold.
    pub threshold: f64,
}

fn utc(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl KpiRow {
    /// The wire form of an engine row, with its band and target under `config`.
    pub fn new(row: &cxkpi_engine::KpiRow, config: &Config) -> KpiRow {
        let value = row.value();
        let interval = row.estimate.interval();
        let change = row.change.as_ref();
        KpiRow {
            band: value.and_then(|v| benchmark::band(row.kpi, config, v)),
            ci_high: interval.map(|i| i.high),
            ci_low: interval.map(|i| i.low),
            components: row.components.iter().copied().collect(),
            delta: change.map(|c| c.delta),
            kpi: row.kpi.id,
            low_sample: row.estimate.low_sample(),
            n: row.estimate.n(),
            no_test: change.and_then(|c| c.no_test.clone()),
            p_value: change.map(|c| c.p_value),
            partial: row.partial,
            period: row.period.label(),
            period_end: utc(row.period.end),
            period_start: utc(row.period.start),
            previous: change.map(|c| c.previous),
            reason: row.reason.clone(),
            segment: row.segment_label(),
            segments: (row.dimensions.len() > 1).then(|| {
                row.segment_values()
                    .into_iter()
                    .map(|(d, v)| (d.to_string(), v.to_string()))
                    .collect()
            }),
            significant: change.map(|c| c.significant),
            target: value
                .and_then(|v| benchmark::target(row.kpi, config, v))
                .map(|t| Target {
                    gap: t.gap,
                    met: t.met,
                    threshold: t.target.value,
                }),
            unit: row.kpi.unit.name(),
            value,
        }
    }
}

/// `cxkpi survival --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Survival {
    /// The censoring instant.
    pub as_of: String,
    /// The log-rank test between segments.
    pub logrank: Option<LogRank>,
    /// Per segment.
    pub segments: Vec<SegmentSurvival>,
    /// The unit of durations.
    pub unit: &'static str,
}

/// The log-rank test.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogRank {
    /// Chi-square.
    pub chi2: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value.
    pub p_value: f64,
}

/// One segment's survival.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentSurvival {
    /// Churns.
    pub events: u64,
    /// The median lifetime.
    pub median: Option<f64>,
    /// Its interval's upper bound.
    pub median_ci_high: Option<f64>,
    /// Its interval's lower bound.
    pub median_ci_low: Option<f64>,
    /// Customers.
    pub n: usize,
    /// The restricted mean lifetime.
    pub rmst: f64,
    /// Its horizon.
    pub rmst_tau: f64,
    /// The segment's value.
    pub segment: Option<String>,
    /// The curve.
    pub table: Vec<SurvivalStep>,
}

/// One step of a Kaplan-Meier curve.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurvivalStep {
    /// At risk just before `t`.
    pub at_risk: u64,
    /// The interval's upper bound.
    pub ci_high: Option<f64>,
    /// The interval's lower bound.
    pub ci_low: Option<f64>,
    /// Events at `t`.
    pub events: u64,
    /// Survival just after `t`.
    pub survival: f64,
    /// The time.
    pub t: f64,
}

impl From<&crate::survival::Survival> for Survival {
    fn from(s: &crate::survival::Survival) -> Survival {
        Survival {
            as_of: s.as_of.to_string(),
            logrank: s.log_rank.map(|l| LogRank {
                chi2: l.chi2,
                df: l.df,
                p_value: l.p_value,
            }),
            segments: s
                .segments
                .iter()
                .map(|g| SegmentSurvival {
                    events: g.events,
                    median: g.median,
                    median_ci_high: g.median_ci.1,
                    median_ci_low: g.median_ci.0,
                    n: g.n,
                    rmst: g.rmst,
                    rmst_tau: s.rmst_tau,
                    segment: g.segment.clone(),
                    table: g
                        .steps
                        .iter()
                        .map(|step| {
                            let ci = step.interval();
                            SurvivalStep {
                                at_risk: step.at_risk,
                                ci_high: ci.map(|c| c.1),
                                ci_low: ci.map(|c| c.0),
                                events: step.events,
                                survival: step.survival,
                                t: step.t,
                            }
                        })
                        .collect(),
                })
                .collect(),
            unit: s.unit.name(),
        }
    }
}

/// `cxkpi themes --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThemesRows {
    /// Per period and segment.
    pub rows: Vec<Themes>,
}

/// The themes of one period and segment.
#[derive(Debug, Serialize, ToSchema)]
pub struct Themes {
    /// The most distinctive terms of negative comments.
    pub distinctive: Vec<ThemeTerm>,
    /// The most frequent terms of negative comments.
    pub frequent: Vec<ThemeTerm>,
    /// Negative comments.
    pub negative_comments: usize,
    /// The period's label.
    pub period: String,
    /// Positive comments.
    pub positive_comments: usize,
    /// The segment's value.
    pub segment: Option<String>,
}

/// A term of the themes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThemeTerm {
    /// Negative comments containing it.
    pub negative: u64,
    /// Positive comments containing it.
    pub positive: u64,
    /// The word or two-word phrase.
    pub term: String,
    /// Its log-odds z-score.
    pub z: f64,
}

impl From<&[crate::themes::Themes]> for ThemesRows {
    fn from(rows: &[crate::themes::Themes]) -> ThemesRows {
        let terms = |terms: &[cxkpi_core::themes::Term]| {
            terms
                .iter()
                .map(|t| ThemeTerm {
                    negative: t.negative,
                    positive: t.positive,
                    term: t.term.clone(),
                    z: t.z,
                })
                .collect()
        };
        ThemesRows {
            rows: rows
                .iter()
                .map(|r| Themes {
                    distinctive: terms(&r.distinctive),
                    frequent: terms(&r.frequent),
                    negative_comments: r.negative_comments,
                    period: r.period.clone(),
                    positive_comments: r.positive_comments,
                    segment: r.segment.clone(),
                })
                .collect(),
        }
    }
}

/// `cxkpi drivers nps --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NpsDrivers {
    /// The change against the previous period, with `--by`.
    pub change: Option<NpsChange>,
    /// Per predictor, the share of respondents it is known for.
    pub coverage: Vec<Coverage>,
    /// The Shapley shares, most important first.
    pub drivers: Option<Vec<Driver>>,
    /// Complete cases.
    pub n: Option<usize>,
    /// The period's label.
    pub period: String,
    /// R² with every predictor.
    pub r2: Option<f64>,
    /// R² adjusted for the number of predictors.
    pub r2_adjusted: Option<f64>,
    /// Upper bound of the 95% interval of R² (Olkin-Finn).
    pub r2_ci_high: Option<f64>,
    /// Lower bound of the 95% interval of R² (Olkin-Finn).
    pub r2_ci_low: Option<f64>,
    /// The p-value of the F test that the predictors explain nothing.
    pub r2_p_value: Option<f64>,
    /// Customers with an NPS answer.
    pub respondents: usize,
    /// The score explained (`nps`).
    pub target: &'static str,
    /// Set when the predictors explain almost none of the variance: the shares then
    /// divide almost nothing.
    pub warning: Option<String>,
}

/// A predictor's coverage.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coverage {
    /// The predictor.
    pub predictor: &'static str,
    /// The share of respondents it is known for.
    pub share: f64,
}

/// A predictor's share of R².
#[derive(Debug, Serialize, ToSchema)]
pub struct Driver {
    /// Its share of the full R², in percent.
    pub percent_of_r2: f64,
    /// The predictor.
    pub predictor: String,
    /// Its Shapley share of R².
    pub shapley_r2: f64,
}

/// An NPS change split into mix and rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct NpsChange {
    /// The dimension.
    pub by: String,
    /// The previous period's label.
    pub from: String,
    /// The mix effect.
    pub mix: f64,
    /// The rate effect.
    pub rate: f64,
    /// Per segment.
    pub segments: Vec<SegmentChange>,
    /// This period's label.
    pub to: String,
    /// mix + rate.
    pub total: f64,
}

/// One segment's part of an NPS change.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentChange {
    /// Its mix effect.
    pub mix: f64,
    /// Its rate effect.
    pub rate: f64,
    /// The segment.
    pub segment: String,
}

impl From<&crate::drivers::NpsDrivers> for NpsDrivers {
    fn from(d: &crate::drivers::NpsDrivers) -> NpsDrivers {
        NpsDrivers {
            change: d.change.as_ref().map(|c| NpsChange {
                by: c.by.clone(),
                from: c.previous.label(),
                mix: c.split.mix,
                rate: c.split.rate,
                segments: c
                    .split
                    .segments
                    .iter()
                    .map(|(segment, mix, rate)| SegmentChange {
                        mix: *mix,
                        rate: *rate,
                        segment: segment.clone(),
                    })
                    .collect(),
                to: d.period.label(),
                total: c.split.mix + c.split.rate,
            }),
            coverage: d
                .coverage
                .iter()
                .map(|(predictor, share)| Coverage {
                    predictor,
                    share: *share,
                })
                .collect(),
            drivers: d.drivers.as_ref().map(|x| {
                x.importance
                    .iter()
                    .map(|i| Driver {
                        percent_of_r2: i.percent,
                        predictor: i.name.clone(),
                        shapley_r2: i.shapley_r2,
                    })
                    .collect()
            }),
            n: d.drivers.as_ref().map(|x| x.n),
            period: d.period.label(),
            r2: d.drivers.as_ref().map(|x| x.r2),
            r2_adjusted: d.drivers.as_ref().map(|x| x.fit.adjusted),
            r2_ci_high: d.drivers.as_ref().map(|x| x.fit.interval.high),
            r2_ci_low: d.drivers.as_ref().map(|x| x.fit.interval.low),
            r2_p_value: d.drivers.as_ref().map(|x| x.fit.p_value),
            respondents: d.respondents,
            target: "nps",
            warning: d.warning(),
        }
    }
}

/// `cxkpi health --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthRows {
    /// The instant scored.
    pub as_of: String,
    /// The customers, worst first.
    pub rows: Vec<HealthRow>,
}

/// One customer's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthRow {
    /// The band.
    pub band: &'static str,
    /// The components (null where there is no data).
    pub components: BTreeMap<&'static str, Option<f64>>,
    /// The customer.
    pub customer_id: String,
    /// The score, 0..100.
    pub score: f64,
    /// The segment, with `--by`.
    pub segment: Option<String>,
}

impl HealthRow {
    /// A scored customer's row (`None` without a score); `segmented` keeps the segment.
    pub fn new(c: &cxkpi_engine::CustomerHealth, segmented: bool) -> Option<HealthRow> {
        let h = c.health?;
        Some(HealthRow {
            band: h.band.name(),
            components: cxkpi_core::health::COMPONENTS
                .iter()
                .copied()
                .zip(h.components)
                .collect(),
            customer_id: c.customer_id.clone(),
            score: h.score,
            segment: segmented.then(|| c.segment.clone()),
        })
    }
}

impl From<&crate::health::HealthList> for HealthRows {
    fn from(list: &crate::health::HealthList) -> HealthRows {
        HealthRows {
            as_of: list.as_of.to_string(),
            rows: list
                .customers
                .iter()
                .filter_map(|c| HealthRow::new(c, list.segmented))
                .collect(),
        }
    }
}

/// `cxkpi health --backtest H --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Backtest {
    /// The instant scored.
    pub as_of: String,
    /// The AUC.
    pub auc: Option<f64>,
    /// Its interval's upper bound.
    pub auc_ci_high: Option<f64>,
    /// Its interval's lower bound.
    pub auc_ci_low: Option<f64>,
    /// Churn by band.
    pub bands: Vec<BandChurn>,
    /// Churned customers.
    pub churned: usize,
    /// Customers scored.
    pub n: usize,
    /// The end of the horizon.
    pub until: String,
}

/// Churn within one band (rates in percent).
#[derive(Debug, Serialize, ToSchema)]
pub struct BandChurn {
    /// The band.
    pub band: &'static str,
    /// The churn rate in percent.
    pub churn_rate: Option<f64>,
    /// Churned customers.
    pub churned: u64,
    /// The Wilson interval's upper bound, in percent.
    pub ci_high: Option<f64>,
    /// Its lower bound.
    pub ci_low: Option<f64>,
    /// Customers.
    pub n: u64,
}

impl From<&crate::health::Backtest> for Backtest {
    fn from(b: &crate::health::Backtest) -> Backtest {
        Backtest {
            as_of: b.as_of.to_string(),
            auc: b.auc.map(|a| a.0),
            auc_ci_high: b.auc.map(|a| a.1.high),
            auc_ci_low: b.auc.map(|a| a.1.low),
            bands: b
                .bands
                .iter()
                .map(|x| BandChurn {
                    band: x.band.name(),
                    churn_rate: (x.n > 0).then(|| 100.0 * x.churned as f64 / x.n as f64),
                    churned: x.churned,
                    ci_high: x.interval.map(|i| 100.0 * i.high),
                    ci_low: x.interval.map(|i| 100.0 * i.low),
                    n: x.n,
                })
                .collect(),
            churned: b.churned,
            n: b.n,
            until: b.until.to_string(),
        }
    }
}

/// `cxkpi clv predict --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClvPredictions<'a> {
    /// The horizon as asked for.
    pub horizon: &'a str,
    /// Per customer.
    pub rows: Vec<ClvPrediction<'a>>,
}

/// One customer's CLV prediction.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClvPrediction<'a> {
    /// T: time from the first purchase to the calibration end.
    #[serde(rename = "T")]
    pub t: f64,
    /// Discounted CLV over the horizon.
    pub clv: f64,
    /// The customer.
    pub customer_id: &'a str,
    /// Expected average purchase value.
    pub expected_avg_value: f64,
    /// Expected purchases over the horizon.
    pub expected_purchases: f64,
    /// Repeat purchase days.
    pub frequency: u32,
    /// Mean repeat purchase value.
    pub monetary_value: f64,
    /// P(alive).
    pub p_alive: f64,
    /// Time from the first purchase to the last.
    pub recency: f64,
}

impl<'a> From<&'a crate::clv::Predictions> for ClvPredictions<'a> {
    fn from(p: &'a crate::clv::Predictions) -> ClvPredictions<'a> {
        ClvPredictions {
            horizon: &p.horizon,
            rows: p
                .rows
                .iter()
                .map(|(id, s, p)| ClvPrediction {
                    t: s.t,
                    clv: p.3,
                    customer_id: id,
                    expected_avg_value: p.2,
                    expected_purchases: p.1,
                    frequency: s.frequency,
                    monetary_value: s.monetary_value,
                    p_alive: p.0,
                    recency: s.recency,
                })
                .collect(),
        }
    }
}

/// The numbers of a churn model's evaluation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Evaluation {
    /// AUC.
    pub auc: Option<f64>,
    /// Its interval's upper bound.
    pub auc_ci_high: Option<f64>,
    /// Its lower bound.
    pub auc_ci_low: Option<f64>,
    /// Brier score.
    pub brier: f64,
    /// Tenths by predicted risk.
    pub calibration: Vec<Calibration>,
    /// Churned customers.
    pub churned: usize,
    /// Customers.
    pub n: usize,
}

/// One tenth of the calibration.
#[derive(Debug, Serialize, ToSchema)]
pub struct Calibration {
    /// Customers in it.
    pub n: usize,
    /// Their observed churn rate.
    pub observed: f64,
    /// Their mean predicted probability.
    pub predicted: f64,
}

impl From<&cxkpi_core::churn::Evaluation> for Evaluation {
    fn from(v: &cxkpi_core::churn::Evaluation) -> Evaluation {
        Evaluation {
            auc: v.auc.map(|a| a.0),
            auc_ci_high: v.auc.map(|a| a.1.high),
            auc_ci_low: v.auc.map(|a| a.1.low),
            brier: v.brier,
            calibration: v
                .calibration
                .iter()
                .map(|(n, p, o)| Calibration {
                    n: *n,
                    observed: *o,
                    predicted: *p,
                })
                .collect(),
            churned: v.positives,
            n: v.n,
        }
    }
}

/// `cxkpi churn train --format json`, also kept in the model file as its report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChurnTraining {
    /// The instant outcomes are known until.
    pub as_of: String,
    /// The horizon as asked for.
    pub horizon: String,
    /// The training set.
    pub train: ChurnTrainingSet,
    /// The validation in time.
    pub validation: Option<ChurnValidation>,
}

/// A churn model's training set.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChurnTrainingSet {
    /// Of them, churned.
    pub churned: usize,
    /// When the features are taken.
    pub features_at: String,
    /// Customers.
    pub n: usize,
}

/// A churn model's validation: trained one horizon earlier, tested on this one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChurnValidation {
    /// The evaluation's numbers.
    #[serde(flatten)]
    pub scores: Evaluation,
    /// When the outcomes are known until.
    pub outcomes_until: String,
    /// When the tested customers' features are taken.
    pub tested_at: String,
    /// When the validation model's features are taken.
    pub trained_at: String,
}

impl From<&crate::churn::Trained> for ChurnTraining {
    fn from(t: &crate::churn::Trained) -> ChurnTraining {
        ChurnTraining {
            as_of: t.as_of.to_string(),
            horizon: t.horizon.clone(),
            train: ChurnTrainingSet {
                churned: t.churned,
                features_at: t.features_at.to_string(),
                n: t.n,
            },
            validation: t.validation.as_ref().map(|v| ChurnValidation {
                scores: v.into(),
                outcomes_until: t.as_of.to_string(),
                tested_at: t.features_at.to_string(),
                trained_at: t.validated_from.to_string(),
            }),
        }
    }
}

/// `cxkpi churn score --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChurnScores<'a> {
    /// The instant scored.
    pub as_of: String,
    /// Riskiest first.
    pub rows: Vec<ChurnScore<'a>>,
}

/// One customer's churn score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChurnScore<'a> {
    /// The customer.
    pub customer_id: &'a str,
    /// The probability.
    pub probability: f64,
    /// The three factors raising it most.
    pub top_factors: Vec<&'a str>,
}

impl<'a> From<&'a crate::churn::Scores> for ChurnScores<'a> {
    fn from(s: &'a crate::churn::Scores) -> ChurnScores<'a> {
        ChurnScores {
            as_of: s.as_of.to_string(),
            rows: s
                .rows
                .iter()
                .map(|r| ChurnScore {
                    customer_id: &r.customer_id,
                    probability: r.probability,
                    top_factors: r.top_factors.iter().map(|(n, _)| n.as_str()).collect(),
                })
                .collect(),
        }
    }
}

/// `cxkpi import --format json` (and the demo's imports).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    /// Why the compaction after the commit failed, if it did (the rows are stored).
    pub compaction_failed: Option<String>,
    /// The entity.
    pub entity: &'static str,
    /// Per input.
    pub inputs: Vec<ImportInput>,
    /// Ids not stored before.
    pub new: u64,
    /// Records read.
    pub read: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Where the rejected rows are listed.
    pub rejects_file: Option<String>,
    /// Ids stored before with other content.
    pub replaced: u64,
    /// How long the import took (the CLI's measure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Whether the rows were stored.
    pub stored: bool,
    /// Rows superseded by a later row of the same id.
    pub superseded: u64,
    /// Rows in the table afterwards.
    pub table_rows: u64,
    /// Ids stored before with the same content.
    pub unchanged: u64,
}

/// One input of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportInput {
    /// Records read.
    pub read: u64,
    /// Why the whole input was refused.
    pub refused: Option<String>,
    /// Records rejected.
    pub rejected: u64,
    /// The input's name.
    pub source: String,
}

impl ImportSummary {
    /// The wire form of an import's summary, with its duration when measured.
    pub fn new(s: &cxkpi_store::ImportSummary, seconds: Option<f64>) -> ImportSummary {
        ImportSummary {
            compaction_failed: s.compaction_failed.clone(),
            entity: s.entity.name(),
            inputs: s
                .inputs
                .iter()
                .map(|i| ImportInput {
                    read: i.read,
                    refused: i.refused.clone(),
                    rejected: i.rejected,
                    source: i.name.clone(),
                })
                .collect(),
            new: s.new,
            read: s.read,
            rejected: s.rejected,
            rejects_file: s.rejects_file.as_ref().map(|p| p.display().to_string()),
            replaced: s.replaced,
            seconds,
            stored: s.stored,
            superseded: s.superseded,
            table_rows: s.table_rows,
            unchanged: s.unchanged,
        }
    }
}

/// `cxkpi tables --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tables {
    /// Per table, in the contract's order.
    pub tables: Vec<Table>,
    /// The store version.
    pub version: u64,
}

/// One stored table.
#[derive(Debug, Serialize, ToSchema)]
pub struct Table {
    /// Its dimension columns.
    pub dimensions: Vec<String>,
    /// Part files.
    pub parts: usize,
    /// Rows.
    pub rows: u64,
    /// The entity.
    pub table: &'static str,
}

impl From<&cxkpi_store::Snapshot> for Tables {
    fn from(snapshot: &cxkpi_store::Snapshot) -> Tables {
        Tables {
            tables: snapshot
                .tables()
                .into_iter()
                .map(|t| Table {
                    dimensions: t.dimensions,
                    parts: t.parts,
                    rows: t.rows,
                    table: t.entity.name(),
                })
                .collect(),
            version: snapshot.version(),
        }
    }
}

/// `cxkpi compact --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Compacted {
    /// Per table.
    pub tables: Vec<CompactedTable>,
}

/// What compaction did to one table.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompactedTable {
    /// Part files after.
    pub parts_after: usize,
    /// Part files before.
    pub parts_before: usize,
    /// Rows.
    pub rows: u64,
    /// The entity.
    pub table: &'static str,
}

impl From<&[cxkpi_store::CompactedTable]> for Compacted {
    fn from(tables: &[cxkpi_store::CompactedTable]) -> Compacted {
        Compacted {
            tables: tables
                .iter()
                .map(|t| CompactedTable {
                    parts_after: t.parts_after,
                    parts_before: t.parts_before,
                    rows: t.rows,
                    table: t.entity.name(),
                })
                .collect(),
        }
    }
}

/// `cxkpi doctor --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Diagnosis {
    /// Problems of the part files the manifest names.
    pub broken_parts: Vec<String>,
    /// Whether every command can read and write the store.
    pub healthy: bool,
    /// `store/manifest.json`.
    pub manifest: String,
    /// Part files in the tables' directories.
    pub part_files: usize,
    /// `store/manifest.json.prev`.
    pub previous_manifest: String,
    /// Versions of changes whose writer did not finish.
    pub unfinished_changes: Vec<u64>,
    /// Part files no manifest names (kept).
    pub unknown_files: Vec<String>,
}

/// A manifest's state for people.
pub fn manifest_status(status: &cxkpi_store::ManifestStatus) -> String {
    match status {
        cxkpi_store::ManifestStatus::Readable { version } => {
            format!("readable, version {version}")
        }
        cxkpi_store::ManifestStatus::Missing => "missing".into(),
        cxkpi_store::ManifestStatus::Unreadable(why) => format!("unreadable: {why}"),
    }
}

impl From<&cxkpi_store::Diagnosis> for Diagnosis {
    fn from(d: &cxkpi_store::Diagnosis) -> Diagnosis {
        Diagnosis {
            broken_parts: d.broken_parts.clone(),
            healthy: d.is_healthy(),
            manifest: manifest_status(&d.manifest),
            part_files: d.part_files,
            previous_manifest: manifest_status(&d.previous),
            unfinished_changes: d.pending.clone(),
            unknown_files: d.unknown_files.clone(),
        }
    }
}

/// `cxkpi kpi list --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiList {
    /// Every KPI of the catalogue.
    pub rows: Vec<KpiDefinition>,
}

/// One KPI's definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiDefinition {
    /// `higher` or `lower`.
    pub better: &'static str,
    /// Its default benchmark bands.
    pub default_bands: Vec<DefaultBand>,
    /// What it says.
    pub description: &'static str,
    /// Its family.
    pub family: &'static str,
    /// How it is computed.
    pub formula: &'static str,
    /// Its id.
    pub id: &'static str,
    /// Its interval kind.
    pub interval: String,
    /// What n counts.
    pub n: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The entities it reads.
    pub sources: Vec<&'static str>,
    /// Its unit.
    pub unit: &'static str,
}

/// A default benchmark band.
#[derive(Debug, Serialize, ToSchema)]
pub struct DefaultBand {
    /// Its name.
    pub band: String,
    /// Its threshold, e.g. `AtLeast 50`.
    pub threshold: String,
}

/// `higher` or `lower`.
pub fn direction(d: cxkpi_core::kpi::Direction) -> &'static str {
    match d {
        cxkpi_core::kpi::Direction::Higher => "higher",
        cxkpi_core::kpi::Direction::Lower => "lower",
    }
}

impl KpiList {
    /// The catalogue.
    pub fn catalogue() -> KpiList {
        KpiList {
            rows: cxkpi_core::kpi::CATALOGUE
                .iter()
                .map(|k| KpiDefinition {
                    better: direction(k.direction),
                    default_bands: k
                        .default_bands()
                        .iter()
                        .map(|b| DefaultBand {
                            band: b.name.clone(),
                            threshold: format!("{:?} {}", b.threshold.op, b.threshold.value),
                        })
                        .collect(),
                    description: k.description,
                    family: k.family.name(),
                    formula: k.formula,
                    id: k.id,
                    interval: format!("{:?}", k.interval).to_lowercase(),
                    n: k.n,
                    name: k.name,
                    sources: k.sources.iter().map(|e| e.name()).collect(),
                    unit: k.unit.name(),
                })
                .collect(),
        }
    }
}

/// `cxkpi sentiment --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentRows {
    /// One per input line.
    pub rows: Vec<Sentiment>,
}

/// VADER's scores of one text.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sentiment {
    /// The compound score, -1..1.
    pub compound: f64,
    /// The negative share.
    pub neg: f64,
    /// The neutral share.
    pub neu: f64,
    /// The positive share.
    pub pos: f64,
    /// The text.
    pub text: String,
}

/// The body of every API error: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code (`invalid_request`, `unauthorized`, ...).
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// More, when there is more (the accepted values, the limit passed).
    pub details: Option<serde_json::Value>,
}

/// The answer to `POST /responses`: per answer, stored or rejected and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeReceipt {
    /// Answers accepted: durable now, in KPI queries within seconds.
    pub accepted: usize,
    /// Answers rejected.
    pub rejected: usize,
    /// One entry per answer, in the request's order.
    pub rows: Vec<RowOutcome>,
}

/// What happened to one row of a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowOutcome {
    /// The row's position in the request (from 0), or its line in an import body.
    pub index: u64,
    /// The row's id, when it has one.
    pub id: Option<String>,
    /// `accepted` or `rejected`.
    pub status: &'static str,
    /// Why it was rejected: a stable code (`missing_value`, `invalid_value`,
    /// `out_of_range`, `out_of_order`, `not_allowed`, `invalid_column`,
    /// `malformed_record`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The failing column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The reason, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RowOutcome {
    /// A rejected row.
    pub fn rejected(
        index: u64,
        id: Option<String>,
        r: &cxkpi_core::validate::Rejection,
    ) -> RowOutcome {
        RowOutcome {
            index,
            id,
            status: "rejected",
            code: Some(r.code.as_str()),
            column: r.column.clone(),
            reason: Some(r.reason.clone()),
        }
    }
}

impl From<&[crate::intake::Answer]> for IntakeReceipt {
    fn from(answers: &[crate::intake::Answer]) -> IntakeReceipt {
        use crate::intake::Outcome;
        let rows: Vec<RowOutcome> = answers
            .iter()
            .map(|a| match &a.outcome {
                Outcome::Accepted => RowOutcome {
                    index: a.index as u64,
                    id: a.response_id.clone(),
                    status: "accepted",
                    code: None,
                    column: None,
                    reason: None,
                },
                Outcome::Rejected(r) => {
                    RowOutcome::rejected(a.index as u64, a.response_id.clone(), r)
                }
            })
            .collect();
        let accepted = rows.iter().filter(|r| r.status == "accepted").count();
        IntakeReceipt {
            accepted,
            rejected: rows.len() - accepted,
            rows,
        }
    }
}

/// The answer to `POST /import/{entity}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// The entity imported.
    pub entity: &'static str,
    /// Records read.
    pub read: u64,
    /// Ids not stored before.
    pub new: u64,
    /// Ids stored before with other content, now replaced.
    pub replaced: u64,
    /// Ids stored before with the same content.
    pub unchanged: u64,
    /// Rows superseded by a later row of the same id in the body.
    pub superseded: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Whether the valid rows were stored.
    pub stored: bool,
    /// Why the body was refused as a whole (a missing required column), if it was.
    pub refused: Option<String>,
    /// Rows in the table afterwards.
    pub table_rows: u64,
    /// The rejected rows (the first 1,000), by line.
    pub rejections: Vec<RowOutcome>,
}

impl From<&cxkpi_store::ImportSummary> for ImportResult {
    fn from(s: &cxkpi_store::ImportSummary) -> ImportResult {
        ImportResult {
            entity: s.entity.name(),
            read: s.read,
            new: s.new,
            replaced: s.replaced,
            unchanged: s.unchanged,
            superseded: s.superseded,
            rejected: s.rejected,
            stored: s.stored,
            refused: s.inputs.iter().find_map(|i| i.refused.clone()),
            table_rows: s.table_rows,
            rejections: s
                .rejections
                .iter()
                .map(|r| RowOutcome::rejected(r.line, None, &r.rejection))
                .collect(),
        }
    }
}

/// A token as listed (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    /// Its name.
    pub name: String,
    /// `read`, `write`, `admin` or `survey`.
    pub scope: &'static str,
    /// The web origins allowed to use it from a page.
    pub origins: Vec<String>,
    /// When it was created, RFC 3339.
    pub created: String,
}

impl From<&crate::tokens::Token> for TokenInfo {
    fn from(t: &crate::tokens::Token) -> TokenInfo {
        TokenInfo {
            name: t.name.clone(),
            scope: t.scope.as_str(),
            origins: t.origins.clone(),
            created: t.created.to_string(),
        }
    }
}

/// `GET /tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// The tokens, oldest first.
    pub rows: Vec<TokenInfo>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The secret to send as `Authorization: Bearer SECRET`.
    pub token: String,
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// `ok`.
    pub status: &'static str,
    /// The store version served.
    pub store_version: u64,
}

/// The body of `POST /tokens`.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// `read`, `write`, `admin` or `survey`.
    pub scope: String,
    /// Its name (default: the scope and a number).
    pub name: Option<String>,
    /// Web origins allowed to use it from a page (survey keys).
    pub origins: Option<Vec<String>>,
}

/// `GET /customers/{id}`: everything the store knows of one customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Customer {
    /// The instant of the health score and the churn risk, RFC 3339.
    pub as_of: String,
    /// The churn probability (with a trained churn model and an active customer).
    pub churn_probability: Option<f64>,
    /// Expected discounted CLV over 12 months (with a fitted CLV model).
    pub clv_12m: Option<f64>,
    /// The customer.
    pub customer_id: String,
    /// Health with its components (when the customer is active at `as_of`).
    pub health: Option<HealthRow>,
    /// The latest CSAT answer.
    pub latest_csat: Option<Answer>,
    /// The latest NPS answer.
    pub latest_nps: Option<Answer>,
    /// Tickets without a resolution.
    pub open_tickets: Vec<String>,
    /// P(alive) (with a fitted CLV model).
    pub p_alive: Option<f64>,
    /// Per table, the customer's rows as exported (at most 500 each).
    pub rows: BTreeMap<&'static str, Vec<serde_json::Value>>,
}

/// A survey answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Answer {
    /// When, RFC 3339 in UTC.
    pub responded_at: String,
    /// The score.
    pub score: f64,
}

impl From<&crate::customers::CustomerView> for Customer {
    fn from(c: &crate::customers::CustomerView) -> Customer {
        let answer = |a: &Option<crate::customers::LatestAnswer>| {
            a.as_ref().map(|a| Answer {
                responded_at: a.responded_at.clone(),
                score: a.score,
            })
        };
        Customer {
            as_of: c.as_of.to_string(),
            churn_probability: c.churn_probability,
            clv_12m: c.clv.map(|(_, clv)| clv),
            customer_id: c.customer_id.clone(),
            health: c.health.as_ref().and_then(|h| HealthRow::new(h, false)),
            latest_csat: answer(&c.latest_csat),
            latest_nps: answer(&c.latest_nps),
            open_tickets: c.open_tickets.clone(),
            p_alive: c.clv.map(|(p, _)| p),
            rows: c
                .rows
                .iter()
                .filter(|(_, rows)| !rows.is_empty())
                .map(|(entity, rows)| {
                    (
                        entity.name(),
                        rows.iter()
                            .filter_map(|r| serde_json::from_str(r).ok())
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

/// `GET /customers`: the customers in worst health.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerList {
    /// The instant scored, RFC 3339.
    pub as_of: String,
    /// Worst health first.
    pub rows: Vec<AtRiskRow>,
}

/// One customer at risk.
#[derive(Debug, Serialize, ToSchema)]
pub struct AtRiskRow {
    /// The band.
    pub band: &'static str,
    /// The churn probability (with a trained churn model).
    pub churn_probability: Option<f64>,
    /// Each component's score (`null` without data).
    pub components: BTreeMap<&'static str, Option<f64>>,
    /// The customer.
    pub customer_id: String,
    /// The health score, 0..100.
    pub score: f64,
}

impl From<&crate::customers::AtRisk> for CustomerList {
    fn from(list: &crate::customers::AtRisk) -> CustomerList {
        CustomerList {
            as_of: list.as_of.to_string(),
            rows: list
                .customers
                .iter()
                .filter_map(|(c, risk)| {
                    let row = HealthRow::new(c, false)?;
                    Some(AtRiskRow {
                        band: row.band,
                        churn_probability: *risk,
                        components: row.components,
                        customer_id: row.customer_id,
                        score: row.score,
                    })
                })
                .collect(),
        }
    }
}

/// `cxkpi demo --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Demo {
    /// Where the generated files are.
    pub data: String,
    /// Seconds to generate them.
    pub generate_seconds: f64,
    /// Seconds to import them.
    pub import_seconds: f64,
    /// What each import did.
    pub imports: Vec<ImportSummary>,
    /// The scorecard of the last complete month.
    pub scorecard: Vec<KpiRow>,
    /// The stored tables.
    pub tables: Vec<Table>,
    /// The workspace.
    pub workspace: String,
}

impl Demo {
    /// The wire form of a demo, its rows banded under `config`.
    pub fn new(demo: &crate::demo::Demo, config: &Config) -> Demo {
        Demo {
            data: demo.data.display().to_string(),
            generate_seconds: demo.generate_seconds,
            import_seconds: demo.import_seconds,
            imports: demo
                .imports
                .iter()
                .map(|s| ImportSummary::new(s, None))
                .collect(),
            scorecard: demo
                .scorecard
                .rows
                .iter()
                .map(|r| KpiRow::new(r, config))
                .collect(),
            tables: Tables::from(&demo.snapshot).tables,
            workspace: demo.workspace.display().to_string(),
        }
    }
}

/// `churn table --format json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChurnTable {
    /// Categorical feature columns.
    pub categorical: Vec<String>,
    /// Rows that churned.
    pub churned: usize,
    /// The model on every row: one coefficient per encoded feature.
    pub coefficients: Vec<Coefficient>,
    /// The file read.
    pub file: String,
    /// Per fold, the evaluation of the model trained without it.
    pub folds: Vec<FoldEvaluation>,
    /// The mean of the folds' AUCs.
    pub mean_auc: Option<f64>,
    /// Numeric feature columns.
    pub numeric: Vec<String>,
    /// Every row's out-of-fold probability against its outcome.
    pub pooled: Evaluation,
    /// Rows read.
    pub rows: usize,
}

/// A feature's coefficient.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coefficient {
    /// The log-odds per unit (standardised numeric) or for the category.
    pub coefficient: f64,
    /// The encoded feature.
    pub feature: String,
}

/// One fold's evaluation.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoldEvaluation {
    /// AUC.
    pub auc: Option<f64>,
    /// Its interval's upper bound.
    pub auc_ci_high: Option<f64>,
    /// Its interval's lower bound.
    pub auc_ci_low: Option<f64>,
    /// Brier score.
    pub brier: f64,
    /// Calibration by tenths.
    pub calibration: Vec<Calibration>,
    /// Churned rows in the fold.
    pub churned: usize,
    /// The fold (from 0).
    pub fold: usize,
    /// Rows in the fold.
    pub n: usize,
}

impl From<&crate::churn_table::TableModel> for ChurnTable {
    fn from(m: &crate::churn_table::TableModel) -> ChurnTable {
        ChurnTable {
            categorical: m.table.categorical.clone(),
            churned: m.churned(),
            coefficients: m
                .model
                .names
                .iter()
                .zip(&m.model.coefficients)
                .map(|(n, c)| Coefficient {
                    coefficient: *c,
                    feature: n.clone(),
                })
                .collect(),
            file: m.file.display().to_string(),
            folds: m
                .cv
                .folds
                .iter()
                .enumerate()
                .map(|(fold, (_, _, v))| {
                    let e = Evaluation::from(v);
                    FoldEvaluation {
                        auc: e.auc,
                        auc_ci_high: e.auc_ci_high,
                        auc_ci_low: e.auc_ci_low,
                        brier: e.brier,
                        calibration: e.calibration,
                        churned: e.churned,
                        fold,
                        n: e.n,
                    }
                })
                .collect(),
            mean_auc: m.mean_auc(),
            numeric: m.table.numeric.clone(),
            pooled: Evaluation::from(&m.cv.pooled),
            rows: m.table.rows.len(),
        }
    }
}

/// `cxkpi cohorts --format json` and `GET /api/v1/cohorts`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cohorts {
    /// The dimension segmenting the cohorts, if any.
    pub by: Option<String>,
    /// One per segment and cohort with customers.
    pub cohorts: Vec<Cohort>,
    /// The cohorts' period length: week, month or quarter.
    pub grain: &'static str,
    /// What is retained: customers, revenue or mrr.
    pub measure: &'static str,
}

/// One cohort's row of the triangle.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cohort {
    /// What the shares are of: the size, the revenue of age 0, or the MRR at its end.
    pub base: f64,
    /// Age 0 (the cohort's own period) on, complete periods only.
    pub cells: Vec<CohortCell>,
    /// The cohort's period label.
    pub cohort: String,
    /// The segment, when segmented.
    pub segment: Option<String>,
    /// Customers won in the period.
    pub size: u64,
}

/// The measure of a cohort at one age.
#[derive(Debug, Serialize, ToSchema)]
pub struct CohortCell {
    /// Periods since the cohort's own.
    pub age: usize,
    /// The period's label.
    pub period: String,
    /// The value as a percentage of the base (null for a base of 0).
    pub share: Option<f64>,
    /// Customers active at the period's end, revenue ordered in it, or MRR running at
    /// its end.
    pub value: f64,
}

impl From<&crate::cohorts::Cohorts> for Cohorts {
    fn from(c: &crate::cohorts::Cohorts) -> Cohorts {
        Cohorts {
            by: c.by.clone(),
            cohorts: c
                .rows
                .iter()
                .map(|row| Cohort {
                    base: row.base,
                    cells: row
                        .values
                        .iter()
                        .zip(row.shares())
                        .enumerate()
                        .map(|(age, (value, share))| CohortCell {
                            age,
                            period: c.periods[row.cohort + age].label(),
                            share,
                            value: *value,
                        })
                        .collect(),
                    cohort: c.periods[row.cohort].label(),
                    segment: c
                        .by
                        .as_ref()
                        .map(|_| c.segments[row.segment as usize].clone()),
                    size: row.size,
                })
                .collect(),
            grain: c.grain.name(),
            measure: c.measure.name(),
        }
    }
}

/// `cxkpi mrr-movements --format json` and `GET /api/v1/mrr-movements`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MrrMovements {
    /// The dimension segmenting them, if any.
    pub by: Option<String>,
    /// One per segment and period with MRR at either end.
    pub rows: Vec<MrrMovement>,
}

/// How one period's MRR moved in one segment; start + the five movements = end.
#[derive(Debug, Serialize, ToSchema)]
pub struct MrrMovement {
    /// Whether start + movements = end (always true; a check a reader can see).
    pub balanced: bool,
    /// MRR lost by customers who left (negative).
    pub churned: f64,
    /// How many customers left.
    pub churned_count: u64,
    /// MRR lost by customers who keep some (negative).
    pub contraction: f64,
    /// How many customers contracted.
    pub contraction_count: u64,
    /// MRR at the end of the period.
    pub end: f64,
    /// MRR gained by customers who had some.
    pub expansion: f64,
    /// How many customers expanded.
    pub expansion_count: u64,
    /// MRR of new customers.
    pub new: f64,
    /// How many new customers.
    pub new_count: u64,
    /// The period's label.
    pub period: String,
    /// MRR of customers back after a time without.
    pub reactivation: f64,
    /// How many came back.
    pub reactivation_count: u64,
    /// The segment, when segmented.
    pub segment: Option<String>,
    /// MRR at the end of the previous period.
    pub start: f64,
}

impl From<&crate::movements::MrrMovements> for MrrMovements {
    fn from(m: &crate::movements::MrrMovements) -> MrrMovements {
        MrrMovements {
            by: m.by.clone(),
            rows: m
                .rows
                .iter()
                .map(|r| MrrMovement {
                    balanced: r.balanced(),
                    churned: r.churned.0,
                    churned_count: r.churned.1,
                    contraction: r.contraction.0,
                    contraction_count: r.contraction.1,
                    end: r.end,
                    expansion: r.expansion.0,
                    expansion_count: r.expansion.1,
                    new: r.new.0,
                    new_count: r.new.1,
                    period: m.periods[r.period].label(),
                    reactivation: r.reactivation.0,
                    reactivation_count: r.reactivation.1,
                    segment: m
                        .by
                        .as_ref()
                        .map(|_| m.segments[r.segment as usize].clone()),
                    start: r.start,
                })
                .collect(),
        }
    }
}
