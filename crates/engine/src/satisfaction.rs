//! Satisfaction KPIs from survey answers: `nps`, `csat`, `ces`, `ppr`.
//!
//! One scan of `responses` for all four and every period and segment, grouped down to
//! the number of answers per (period, segment, survey, score). A score distribution is
//! a sufficient statistic for all four: counts of promoters and detractors, of
//! satisfied answers, and the mean and standard deviation. A KPI reads the answers of
//! every survey of its kind (`[surveys.NAME] kind`): its own, and the workspace's
//! surveys that declare it, each judged on its own scale (a CSAT-like 0/1 survey is
//! satisfied at 1).

use std::collections::BTreeMap;

use cxkpi_core::config::{Config, SurveyScale};
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::{Estimate, mean_of_counts};
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_store::Snapshot;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::SessionContext;

use crate::results::Columns;
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family; each is the survey of the same name.
pub(crate) const KPIS: [&str; 4] = ["nps", "csat", "ces", "ppr"];

/// Answers per score, per survey, per (period, segment).
type Distributions = BTreeMap<(usize, String), BTreeMap<String, BTreeMap<i64, u64>>>;

pub(crate) async fn compute(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    config: &Config,
    request: &Request,
    periods: &[Period],
    kpis: &[&'static KpiDef],
    results: &mut FamilyResult,
) -> Result<()> {
    let (frame, segment) = prepare(ctx, snapshot, kpis[0], Entity::Responses, request).await?;
    let bucket = bucket::period_bucket(periods);
    // Every survey whose answers count in a requested KPI.
    let surveys: Vec<Expr> = config
        .surveys
        .iter()
        .filter(|(_, scale)| {
            scale
                .kind
                .is_some_and(|kind| kpis.iter().any(|k| k.id == kind))
        })
        .map(|(name, _)| lit(name.clone()))
        .collect();
    let mut columns = vec![
        bucket.call(vec![ident("responded_at")]).alias("period"),
        ident("survey"),
        ident("score"),
    ];
    columns.extend(crate::segment::column(segment));
    let frame = frame
        .filter(ident("survey").in_list(surveys, false).and(bucket::within(
            periods,
            "responded_at",
            false,
        )))?
        .select(columns)?;
    let frame = crate::segment::group_by(
        frame,
        vec![ident("period"), ident("survey"), ident("score")],
        vec![count(lit(1)).alias("n")],
    )?;
    let mut distributions = Distributions::new();
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            let key = (c.i32("period", row) as usize, c.text("segment", row));
            *distributions
                .entry(key)
                .or_default()
                .entry(c.text("survey", row))
                .or_default()
                .entry(c.opt_i64("score", row).expect("score is required"))
                .or_default() += c.u64("n", row);
        }
    }
    for (key, by_survey) in distributions {
        let entry = results.entry(key).or_default();
        for kpi in kpis {
            let of_kind: Vec<(&SurveyScale, &BTreeMap<i64, u64>)> = by_survey
                .iter()
                .filter_map(|(survey, scores)| {
                    let scale = config.surveys.get(survey)?;
                    (scale.kind == Some(kpi.id)).then_some((scale, scores))
                })
                .collect();
            if of_kind.is_empty() {
                continue;
            }
            let (estimate, components) = estimate(kpi.id, &of_kind, config);
            entry.push((*kpi, estimate, components).into());
        }
    }
    Ok(())
}

/// A satisfaction KPI from the score distributions of the surveys of its kind, each
/// with its scale (they share the KPI's scale, except CSAT-like ones, which are
/// judged by their own threshold).
pub(crate) fn estimate(
    kpi: &str,
    surveys: &[(&SurveyScale, &BTreeMap<i64, u64>)],
    config: &Config,
) -> (Estimate, Vec<(&'static str, f64)>) {
    let mut scores: BTreeMap<i64, u64> = BTreeMap::new();
    for (_, distribution) in surveys {
        for (score, n) in *distribution {
            *scores.entry(*score).or_default() += n;
        }
    }
    let scores = &scores;
    let total: u64 = scores.values().sum();
    let count_where = |f: &dyn Fn(i64) -> bool| -> u64 {
        scores.iter().filter(|(s, _)| f(**s)).map(|(_, n)| n).sum()
    };
    let mean = || mean_of_counts(scores.iter().map(|(s, n)| (*s as f64, *n)));
    match kpi {
        "nps" => {
            let promoters = count_where(&|s| s >= 9);
            let detractors = count_where(&|s| s <= 6);
            let passives = total - promoters - detractors;
            (
                Estimate::Net {
                    positive: promoters,
                    negative: detractors,
                    n: total,
                },
                vec![
                    ("promoters", promoters as f64),
                    ("passives", passives as f64),
                    ("detractors", detractors as f64),
                ],
            )
        }
        "csat" => {
            let satisfied: u64 = surveys
                .iter()
                .map(|(scale, distribution)| {
                    distribution
                        .iter()
                        .filter(|(s, _)| **s >= scale.satisfied_at)
                        .map(|(_, n)| n)
                        .sum::<u64>()
                })
                .sum();
            let mut components = vec![("satisfied", satisfied as f64)];
            // A mean over different scales means nothing; it is shown for one survey.
            if surveys.len() == 1
                && let Some(m) = mean().value()
            {
                components.push(("mean_score", m));
            }
            (
                Estimate::Proportion {
                    x: satisfied,
                    n: total,
                },
                components,
            )
        }
        _ => {
            let scale = config.surveys.get(kpi);
            let mut components = Vec::new();
            if let Some(scale) = scale {
                components.push(("scale_min", scale.min as f64));
                components.push(("scale_max", scale.max as f64));
            }
            (mean(), components)
        }
    }
}
