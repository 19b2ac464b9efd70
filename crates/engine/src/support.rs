//! Support KPIs from tickets.
//!
//! Two scans of `tickets`, each run only when a requested KPI needs it: one grouped by
//! the period of `created_at` (tickets created, first response times, SLA), one by the
//! period of `resolved_at` (resolution times, FCR, one-touch, net resolution, handle
//! time). The backlog at a period's end is the tickets created before it less those
//! resolved before it, so it comes from the running totals of the two scans, with a
//! bucket for everything before the first period; without the backlog, a scan reads
//! only the rows of its periods. Medians and 90th percentiles use the core's type-7
//! percentile over the durations DataFusion gathers per group.
//!
//! With a business-hours calendar, first response and resolution times are also
//! gathered as business hours (`cx_business_hours`); the value, mean and p90 are then
//! business time and the calendar figures are reported as components.

use std::collections::BTreeMap;

use arrow::datatypes::DataType;
use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_core::stats;
use cxkpi_store::Snapshot;
use datafusion::functions_aggregate::expr_fn::{array_agg, avg, count, stddev};
use datafusion::logical_expr::{ident, lit};
use datafusion::prelude::{SessionContext, cast};

use crate::results::{Columns, count_if, micros_between, micros_between_hours};
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 9] = [
    "tickets_created",
    "ticket_backlog",
    "first_response_time",
    "frt_within_sla",
    "resolution_time",
    "fcr_rate",
    "one_touch_rate",
    "net_resolution_rate",
    "average_handle_time",
];

#[derive(Default)]
struct Created {
    count: u64,
    response_hours: Vec<f64>,
    response_business: Option<Vec<f64>>,
    within: u64,
    judged: u64,
}

#[derive(Default)]
struct Resolved {
    count: u64,
    resolution_hours: Vec<f64>,
    resolution_business: Option<Vec<f64>>,
    one_contact: u64,
    replies_known: u64,
    one_reply: u64,
    clean: u64,
    handle: (u64, Option<f64>, Option<f64>),
}

pub(crate) async fn compute(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    config: &Config,
    request: &Request,
    periods: &[Period],
    kpis: &[&'static KpiDef],
    results: &mut FamilyResult,
) -> Result<()> {
    let wanted = |ids: &[&str]| kpis.iter().any(|k| ids.contains(&k.id));
    // The backlog needs both scans from the beginning (bucket -1 holds what came
    // before the first period); without it, each scan reads only its periods' rows and
    // runs only for the KPIs that need it.
    let backlog = wanted(&["ticket_backlog"]);
    let bucket = if backlog {
        bucket::period_bucket_with_before(periods)
    } else {
        bucket::period_bucket(periods)
    };
    let sla_micros = (config.sla_first_response_hours * 3_600_000_000.0).round() as i64;
    let business = config
        .business_hours
        .as_ref()
        .map(|calendar| crate::business::business_hours(calendar, periods));
    // Business hours from column `from` to column `to`, gathered per group.
    let business_list = |from: &str, to: &str| {
        business
            .as_ref()
            .map(|udf| array_agg(udf.call(vec![ident(from), ident(to)])).alias("business"))
    };

    // Scan 1: by the period of creation.
    let mut created: BTreeMap<(i32, String), Created> = BTreeMap::new();
    if backlog || wanted(&["tickets_created", "first_response_time", "frt_within_sla"]) {
        let (frame, segment) = prepare(ctx, snapshot, kpis[0], Entity::Tickets, request).await?;
        let response_hours = micros_between_hours("created_at", "first_response_at");
        // In integer microseconds: interval arithmetic on a zoned timestamp resolved the
        // time zone per row.
        let deadline = cast(
            cast(ident("created_at"), DataType::Int64) + lit(sla_micros),
            bucket::instant_type(),
        );
        let created_bucket = bucket.call(vec![ident("created_at")]);
        let answered = ident("first_response_at").is_not_null();
        let segmented = segment.is_some();
        let frame = frame
            .filter(bucket::within(periods, "created_at", backlog))?
            .select(
                vec![
                    created_bucket.clone().alias("period"),
                    response_hours.alias("response_hours"),
                    micros_between("created_at", "first_response_at").alias("response_micros"),
                    answered.clone().alias("answered"),
                    ident("created_at"),
                    ident("first_response_at"),
                    // Unanswered tickets are judged when the deadline falls in the same period.
                    bucket
                        .call(vec![deadline])
                        .eq(created_bucket)
                        .alias("deadline_passed"),
                ]
                .into_iter()
                .chain(crate::segment::column(segment))
                .collect::<Vec<_>>(),
            )?;
        let frame = crate::segment::group_by(
            frame,
            segmented,
            vec![ident("period")],
            vec![
                count(lit(1)).alias("n"),
                array_agg(ident("response_hours")).alias("hours"),
                count_if(ident("answered").and(ident("response_micros").lt_eq(lit(sla_micros))))
                    .alias("within"),
                count_if(ident("answered").or(ident("deadline_passed"))).alias("judged"),
            ]
            .into_iter()
            .chain(business_list("created_at", "first_response_at"))
            .collect::<Vec<_>>(),
        )?;
        for batch in frame.collect().await? {
            let c = Columns::new(&batch);
            for row in 0..batch.num_rows() {
                created.insert(
                    (c.i32("period", row), c.text("segment", row)),
                    Created {
                        count: c.u64("n", row),
                        response_hours: c.f64_list("hours", row),
                        response_business: business.is_some().then(|| c.f64_list("business", row)),
                        within: c.u64("within", row),
                        judged: c.u64("judged", row),
                    },
                );
            }
        }
    }

    // Scan 2: by the period of resolution.
    let mut resolved: BTreeMap<(i32, String), Resolved> = BTreeMap::new();
    if backlog
        || wanted(&[
            "resolution_time",
            "fcr_rate",
            "one_touch_rate",
            "net_resolution_rate",
            "average_handle_time",
        ])
    {
        let (frame, segment) = prepare(ctx, snapshot, kpis[0], Entity::Tickets, request).await?;
        let segmented = segment.is_some();
        let frame = frame
            .filter(bucket::within(periods, "resolved_at", backlog))?
            .select(
                vec![
                    bucket.call(vec![ident("resolved_at")]).alias("period"),
                    micros_between_hours("created_at", "resolved_at").alias("resolution_hours"),
                    ident("created_at"),
                    ident("resolved_at"),
                    ident("contacts"),
                    ident("replies"),
                    ident("reopens"),
                    ident("escalated"),
                    cast(ident("handle_seconds"), DataType::Float64).alias("handle"),
                ]
                .into_iter()
                .chain(crate::segment::column(segment))
                .collect::<Vec<_>>(),
            )?;
        let frame = crate::segment::group_by(
            frame,
            segmented,
            vec![ident("period")],
            vec![
                count(lit(1)).alias("n"),
                array_agg(ident("resolution_hours")).alias("hours"),
                count_if(ident("contacts").eq(lit(1i64))).alias("one_contact"),
                count(ident("replies")).alias("replies_known"),
                count_if(ident("replies").eq(lit(1i64))).alias("one_reply"),
                count_if(ident("reopens").eq(lit(0i64)).and(!ident("escalated"))).alias("clean"),
                count(ident("handle")).alias("handle_n"),
                avg(ident("handle")).alias("handle_mean"),
                stddev(ident("handle")).alias("handle_sd"),
            ]
            .into_iter()
            .chain(business_list("created_at", "resolved_at"))
            .collect::<Vec<_>>(),
        )?;
        for batch in frame.collect().await? {
            let c = Columns::new(&batch);
            for row in 0..batch.num_rows() {
                resolved.insert(
                    (c.i32("period", row), c.text("segment", row)),
                    Resolved {
                        count: c.u64("n", row),
                        resolution_hours: c.f64_list("hours", row),
                        resolution_business: business
                            .is_some()
                            .then(|| c.f64_list("business", row)),
                        one_contact: c.u64("one_contact", row),
                        replies_known: c.u64("replies_known", row),
                        one_reply: c.u64("one_reply", row),
                        clean: c.u64("clean", row),
                        handle: (
                            c.u64("handle_n", row),
                            c.opt_f64("handle_mean", row),
                            c.opt_f64("handle_sd", row),
                        ),
                    },
                );
            }
        }
    }

    // Running totals per segment for the backlog (bucket -1 holds what came before).
    let segments: Vec<String> = created
        .keys()
        .chain(resolved.keys())
        .map(|(_, s)| s.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for segment in &segments {
        let mut open = 0i64;
        let key = |p: i32| (p, segment.clone());
        open += created.get(&key(-1)).map_or(0, |c| c.count as i64);
        open -= resolved.get(&key(-1)).map_or(0, |r| r.count as i64);
        for p in 0..periods.len() as i32 {
            let c = created.get(&key(p));
            let r = resolved.get(&key(p));
            open += c.map_or(0, |c| c.count as i64) - r.map_or(0, |r| r.count as i64);
            let entry = results.entry((p as usize, segment.clone())).or_default();
            for kpi in kpis {
                let plain = |v: u64| Estimate::Plain {
                    value: Some(v as f64),
                    n: v,
                };
                let proportion = |x: u64, n: u64| Estimate::Proportion { x, n };
                let (estimate, components) = match (kpi.id, c, r) {
                    ("ticket_backlog", _, _) => (plain(open.max(0) as u64), Vec::new()),
                    ("tickets_created", Some(c), _) => (plain(c.count), Vec::new()),
                    ("first_response_time", Some(c), _) => {
                        durations(&c.response_hours, c.response_business.as_deref())
                    }
                    ("frt_within_sla", Some(c), _) => (proportion(c.within, c.judged), Vec::new()),
                    ("resolution_time", _, Some(r)) => {
                        durations(&r.resolution_hours, r.resolution_business.as_deref())
                    }
                    ("fcr_rate", _, Some(r)) => (proportion(r.one_contact, r.count), Vec::new()),
                    ("one_touch_rate", _, Some(r)) => (
                        proportion(r.one_reply, r.replies_known),
                        vec![("one_touch_resolutions", r.one_reply as f64)],
                    ),
                    ("net_resolution_rate", _, Some(r)) => {
                        (proportion(r.clean, r.count), Vec::new())
                    }
                    ("average_handle_time", _, Some(r)) => {
                        let (n, mean, sd) = r.handle;
                        let minutes = |seconds: f64| seconds / 60.0;
                        let mean = mean.map(minutes);
                        let sd = sd.filter(|_| n >= 2).map(minutes);
                        (Estimate::Mean { mean, sd, n }, Vec::new())
                    }
                    // Nothing created or resolved here: the defaults of an empty period.
                    _ => continue,
                };
                entry.push((*kpi, estimate, components));
            }
        }
    }
    Ok(())
}

/// Median of durations as the value; mean and 90th percentile as components. With
/// business hours, the value, mean and p90 are business time and the calendar median,
/// mean and p90 follow as `calendar_*` components.
fn durations(calendar: &[f64], business: Option<&[f64]>) -> (Estimate, Vec<(&'static str, f64)>) {
    let summary = |hours: &[f64]| {
        let mut sorted = hours.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let median = stats::percentile_sorted(&sorted, 50.0);
        let mean_p90 = stats::percentile_sorted(&sorted, 90.0)
            .map(|p90| (sorted.iter().sum::<f64>() / sorted.len() as f64, p90));
        (median, mean_p90)
    };
    let n = calendar.len() as u64;
    let (calendar_median, calendar_mean_p90) = summary(calendar);
    let mut components = Vec::new();
    let value = match business {
        None => {
            if let Some((mean, p90)) = calendar_mean_p90 {
                components.extend([("mean", mean), ("p90", p90)]);
            }
            calendar_median
        }
        Some(business) => {
            let (median, mean_p90) = summary(business);
            if let Some((mean, p90)) = mean_p90 {
                components.extend([("mean", mean), ("p90", p90)]);
            }
            if let (Some(median), Some((mean, p90))) = (calendar_median, calendar_mean_p90) {
                components.extend([
                    ("calendar_median", median),
                    ("calendar_mean", mean),
                    ("calendar_p90", p90),
                ]);
            }
            median
        }
    };
    (Estimate::Plain { value, n }, components)
}
