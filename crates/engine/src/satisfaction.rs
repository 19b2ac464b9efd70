//! Satisfaction KPIs from survey answers: `nps`, `csat`, `ces`, `ppr`.
//!
//! One scan of `responses` for all four and every period and segment, grouped down to
//! the number of answers per (period, segment, survey, score). A score distribution is
//! a sufficient statistic for all four: counts of promoters and detractors, of
//! satisfied answers, and the mean and standard deviation.

use std::collections::BTreeMap;

use cxkpi_core::config::Config;
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
    let surveys: Vec<Expr> = kpis.iter().map(|k| lit(k.id)).collect();
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
            let Some(scores) = by_survey.get(kpi.id) else {
                continue;
            };
            let (estimate, components) = estimate(kpi.id, scores, config);
            entry.push((*kpi, estimate, components).into());
        }
    }
    Ok(())
}

/// A satisfaction KPI from the score distribution of its survey.
pub(crate) fn estimate(
    kpi: &str,
    scores: &BTreeMap<i64, u64>,
    config: &Config,
) -> (Estimate, Vec<(&'static str, f64)>) {
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
            let threshold = config.surveys.get("csat").map_or(4, |s| s.satisfied_at);
            let satisfied = count_where(&|s| s >= threshold);
            let mut components = vec![("satisfied", satisfied as f64)];
            if let Some(m) = mean().value() {
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
