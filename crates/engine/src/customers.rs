//! Customer-base KPIs: `customers_active`, `customers_new`, `customers_churned`,
//! `churn_rate`, `retention_rate`, `customer_lifetime`, and the rates over customers
//! active during a period: `referral_rate` and `arpu` (`active_rate` and
//! `self_service_rate` are computed with the health score, which reads the same
//! activity). Segmented by customer dimensions only.
//!
//! One scan of `customers` groups them by segment and by the period buckets of their
//! `acquired_at` and `churned_at`, left-closed (`[start, end)`: "in the period") and
//! right-closed (`(start, end]`: "at or before the end"); everything else is running
//! sums over the buckets (periods must be contiguous):
//! - active at the end of i: won at or before it, less churned at or before it (a
//!   customer churns after being won, so the second set is inside the first);
//! - S(i) = active at the start of i = active at the end of i - 1;
//! - C(i) = churned in i, won at or before the start, churned after the start;
//! - active during i: won before the end, less churned before the start.

use std::collections::BTreeMap;

use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::{self, KpiDef, Segmentation};
use cxkpi_core::period::{Grain, Period};
use cxkpi_store::Snapshot;
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::logical_expr::{ident, lit};
use datafusion::prelude::{SessionContext, cast, coalesce};
use jiff::Span;

use crate::previous::{Cursors, Index, Segments, concat_views};
use crate::results::Columns;
use crate::seen::Seen;
use crate::{EngineError, FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 9] = [
    "median_lifetime",
    "customers_active",
    "customers_new",
    "customers_churned",
    "churn_rate",
    "retention_rate",
    "customer_lifetime",
    "referral_rate",
    "arpu",
];

/// Counts of one segment per period.
#[derive(Debug, Default, Clone)]
pub(crate) struct Base {
    pub active_at_end: Vec<u64>,
    pub active_at_start: Vec<u64>,
    pub new: Vec<u64>,
    pub churned: Vec<u64>,
    pub churned_from_start: Vec<u64>,
    pub active_during: Vec<u64>,
}

/// Counts per bucket, index 0 for "before the first period".
#[derive(Default)]
struct Buckets {
    won_left: Vec<i64>,
    won_right: Vec<i64>,
    churned_left: Vec<i64>,
    churned_right: Vec<i64>,
    churned_from_start: Vec<i64>,
}

pub(crate) fn contiguous(periods: &[Period]) -> Result<()> {
    if periods.windows(2).any(|w| w[0].end != w[1].start) {
        return Err(EngineError::Periods);
    }
    Ok(())
}

/// The customer base per segment over contiguous `periods`.
pub(crate) async fn base(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    request: &Request,
    periods: &[Period],
) -> Result<BTreeMap<String, Base>> {
    contiguous(periods)?;
    let left = bucket::period_bucket_with_before(periods);
    let right = bucket::period_bucket_right_closed(periods);
    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Customers, request).await?;
    let mut columns = vec![
        left.call(vec![ident("acquired_at")]).alias("won_left"),
        right.call(vec![ident("acquired_at")]).alias("won_right"),
        left.call(vec![ident("churned_at")]).alias("churned_left"),
        right.call(vec![ident("churned_at")]).alias("churned_right"),
    ];
    columns.extend(crate::segment::column(segment));
    let frame = crate::segment::group_by(
        frame.select(columns)?,
        vec![
            ident("won_left"),
            ident("won_right"),
            ident("churned_left"),
            ident("churned_right"),
        ],
        vec![count(lit(1)).alias("n")],
    )?;
    let slots = periods.len() + 1;
    let mut buckets: BTreeMap<String, Buckets> = BTreeMap::new();
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            let b = buckets
                .entry(c.text("segment", row))
                .or_insert_with(|| Buckets {
                    won_left: vec![0; slots],
                    won_right: vec![0; slots],
                    churned_left: vec![0; slots],
                    churned_right: vec![0; slots],
                    churned_from_start: vec![0; slots],
                });
            let n = c.u64("n", row) as i64;
            // Bucket -1 is slot 0; null (after the last period) counts nowhere.
            let slot = |name: &str| c.opt_i32(name, row).map(|i| (i + 1) as usize);
            if let Some(s) = slot("won_left") {
                b.won_left[s] += n;
            }
            let won_right = slot("won_right");
            if let Some(s) = won_right {
                b.won_right[s] += n;
            }
            let (churned_left, churned_right) = (slot("churned_left"), slot("churned_right"));
            if let Some(s) = churned_left {
                b.churned_left[s] += n;
            }
            if let Some(s) = churned_right {
                b.churned_right[s] += n;
            }
            // Churned in period i, after its start (right bucket i too), and won at or
            // before its start (right bucket of the win before i).
            if let (Some(l), Some(r), Some(w)) = (churned_left, churned_right, won_right)
                && l == r
                && w < l
            {
                b.churned_from_start[l] += n;
            }
        }
    }
    Ok(buckets
        .into_iter()
        .map(|(segment, b)| {
            let mut base = Base::default();
            let cumulative = |v: &[i64], upto: usize| v[..=upto].iter().sum::<i64>();
            for i in 1..slots {
                let at_end = cumulative(&b.won_right, i) - cumulative(&b.churned_right, i);
                let at_start =
                    cumulative(&b.won_right, i - 1) - cumulative(&b.churned_right, i - 1);
                let during = cumulative(&b.won_left, i) - cumulative(&b.churned_left, i - 1);
                base.active_at_end.push(at_end.max(0) as u64);
                base.active_at_start.push(at_start.max(0) as u64);
                base.new.push(b.won_left[i] as u64);
                base.churned.push(b.churned_left[i] as u64);
                base.churned_from_start.push(b.churned_from_start[i] as u64);
                base.active_during.push(during.max(0) as u64);
            }
            (segment, base)
        })
        .collect())
}

/// The six calendar months ending with the month that contains `end - 1 day`.
fn lifetime_months(period: &Period) -> (jiff::civil::Date, jiff::civil::Date) {
    let last_day = period
        .end_day
        .checked_sub(Span::new().days(1))
        .expect("in range");
    let last_month = Grain::Month.floor(last_day);
    let first = last_month
        .checked_sub(Span::new().months(5))
        .expect("in range");
    let end = last_month
        .checked_add(Span::new().months(1))
        .expect("in range");
    (first, end)
}

/// For each period and segment, the sums of S and C over the six calendar months that
/// `customer_lifetime` pools (the months ending with the one containing `end - 1
/// day`).
pub(crate) async fn lifetime_inputs(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    config: &Config,
    kpi: &KpiDef,
    request: &Request,
    periods: &[Period],
) -> Result<BTreeMap<(usize, String), (u64, u64)>> {
    let ranges: Vec<_> = periods.iter().map(lifetime_months).collect();
    let from = ranges.iter().map(|r| r.0).min().expect("periods");
    let to = ranges.iter().map(|r| r.1).max().expect("periods");
    let months = cxkpi_core::period::periods(Grain::Month, from, to, &config.time_zone);
    let monthly = base(ctx, snapshot, kpi, request, &months).await?;
    let mut out = BTreeMap::new();
    for (p, (first, end)) in ranges.iter().enumerate() {
        for (segment, b) in &monthly {
            let (mut s, mut c) = (0, 0);
            for (m, month) in months.iter().enumerate() {
                if month.first_day >= *first && month.first_day < *end {
                    s += b.active_at_start[m];
                    c += b.churned_from_start[m];
                }
            }
            out.insert((p, segment.clone()), (s, c));
        }
    }
    Ok(out)
}

/// Expected lifetime in months from the pooled six-month S and C: `S / C`.
pub(crate) fn lifetime_months_value(s6: u64, c6: u64) -> Option<f64> {
    (s6 > 0 && c6 > 0).then(|| s6 as f64 / c6 as f64)
}

/// Why [`lifetime_months_value`] has no value for customers who exist.
pub(crate) fn lifetime_undefined(s6: u64, c6: u64) -> Option<String> {
    (s6 > 0 && c6 == 0).then(|| {
        format!(
            "no customer churned in the six months to the period's end ({s6} customer-months): the lifetime (1 / monthly churn) is unbounded"
        )
    })
}

/// Referrals per (period, segment): the distinct referrers active during the period
/// who referred someone in it, and the number of such referrals.
///
/// DataFusion maps the customers (filtered, with their segment) and the referrals to
/// period buckets; the rest is one pass here: each referral finds its referrer in the
/// index of the customers' ids and is counted for the referrer's segment when the
/// referrer is active during its period, and (customer, period) is marked seen so each
/// referrer counts once. A join of the rows to the customers and `count_distinct`
/// took three times as long.
async fn referrals(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    request: &Request,
    periods: &[Period],
) -> Result<BTreeMap<(usize, String), (u64, u64)>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Int32Type};
    use futures::StreamExt;

    let left = bucket::period_bucket_with_before(periods);
    // The customers: segment, and the buckets where they were won and lost (-1 before
    // the first period; won after the last: null; never lost or lost after: MAX).
    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Customers, request).await?;
    let batches = frame
        .filter(bucket::within(periods, "acquired_at", true))?
        .select(vec![
            cast(ident("customer_id"), DataType::Utf8View).alias("id"),
            cast(crate::segment::or_whole(segment), DataType::Utf8View).alias("segment"),
            left.call(vec![ident("acquired_at")]).alias("won"),
            coalesce(vec![left.call(vec![ident("churned_at")]), lit(i32::MAX)]).alias("lost"),
        ])?
        .collect()
        .await?;
    let ids = concat_views(&batches, 0)?;
    let index = Index::new(&ids);
    let mut segments = Segments::default();
    // Per customer: (segment, won bucket, lost bucket).
    let mut lives: Vec<(u32, i32, i32)> = Vec::new();
    for batch in &batches {
        let segment = batch.column(1).as_string_view();
        let won = batch.column(2).as_primitive::<Int32Type>();
        let lost = batch.column(3).as_primitive::<Int32Type>();
        for row in 0..batch.num_rows() {
            let (seg, _) = segments.number(segment, row);
            lives.push((seg, won.value(row), lost.value(row)));
        }
    }

    let mut stream = ctx
        .table(Entity::Referrals.name())
        .await?
        .filter(bucket::within(periods, "referred_at", false))?
        .select(vec![
            cast(ident("referrer_id"), DataType::Utf8View).alias("who"),
            left.call(vec![ident("referred_at")]).alias("period"),
        ])?
        .execute_stream()
        .await?;
    let segments = segments.names;
    let (n_periods, n_segments) = (periods.len(), segments.len());
    let cell = |p: usize, seg: u32| p * n_segments + seg as usize;
    let mut customers = vec![0u64; n_periods * n_segments];
    let mut rows = vec![0u64; customers.len()];
    let mut seen = Seen::new(lives.len() * n_periods);
    let mut cursors = Cursors::default();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let who = batch.column(0).as_string_view();
        let period = batch.column(1).as_primitive::<Int32Type>();
        let mut cursor = cursors.take(&index, who);
        for row in 0..batch.num_rows() {
            let Some(c) = index.find(&mut cursor, who, row) else {
                continue;
            };
            let (seg, won, lost) = lives[c as usize];
            let p = period.value(row);
            if won > p || lost < p {
                continue;
            }
            let p = p as usize;
            rows[cell(p, seg)] += 1;
            if seen.insert(c as usize * n_periods + p) {
                customers[cell(p, seg)] += 1;
            }
        }
        cursors.keep(cursor);
    }
    let mut out = BTreeMap::new();
    for p in 0..n_periods {
        for (s, segment) in segments.iter().enumerate() {
            let i = cell(p, s as u32);
            if rows[i] > 0 {
                out.insert((p, segment.clone()), (customers[i], rows[i]));
            }
        }
    }
    Ok(out)
}

/// Kaplan-Meier median lifetime (months) and n per (period, segment): customers won
/// before the period's end; churned before it is an event at churned - acquired, the
/// rest are censored at end - acquired.
async fn median_lifetimes(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    request: &Request,
    periods: &[Period],
) -> Result<BTreeMap<(usize, String), (Option<f64>, u64)>> {
    use cxkpi_core::period::{DAY_MICROS, MONTH_DAYS};
    use cxkpi_core::survival::Lives;
    let lives = lives(ctx, snapshot, kpi, request).await?;
    let mut out = BTreeMap::new();
    for (segment, lives) in &lives {
        // Sorted once, so each period's observations come sorted in linear time, and
        // the curve is followed only to its median.
        let lives = Lives::new(lives);
        for (p, period) in periods.iter().enumerate() {
            let end = period.end.as_microsecond();
            let median = lives.median_at(end, MONTH_DAYS * DAY_MICROS);
            out.insert((p, segment.clone()), median);
        }
    }
    Ok(out)
}

/// Revenue per (period, segment) with the customer's segment.
pub(crate) async fn revenue(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    request: &Request,
    periods: &[Period],
) -> Result<BTreeMap<(usize, String), f64>> {
    let bucket = bucket::period_bucket(periods);
    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Orders, request).await?;
    let mut columns = vec![
        bucket.call(vec![ident("ordered_at")]).alias("period"),
        ident("amount"),
    ];
    columns.extend(crate::segment::column(segment));
    let frame = crate::segment::group_by(
        frame
            .filter(bucket::within(periods, "ordered_at", false))?
            .select(columns)?,
        vec![ident("period")],
        vec![sum(ident("amount")).alias("revenue")],
    )?;
    let mut out = BTreeMap::new();
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            out.insert(
                (c.i32("period", row) as usize, c.text("segment", row)),
                c.opt_f64("revenue", row).unwrap_or(0.0),
            );
        }
    }
    Ok(out)
}

/// The customer-base inputs that this family and acquisition economics share, read
/// once for both.
pub(crate) struct BaseInputs {
    /// The customer base per segment.
    pub bases: BTreeMap<String, Base>,
    /// The pooled six-month S and C per (period, segment) (see [`lifetime_inputs`]),
    /// when a requested KPI needs them.
    pub lifetime: BTreeMap<(usize, String), (u64, u64)>,
    /// Revenue per (period, segment), when a requested KPI needs it.
    pub revenue: BTreeMap<(usize, String), f64>,
}

impl BaseInputs {
    /// Reads what `kpis` (of this family and of acquisition) need, segmented and
    /// filtered by customer columns.
    pub(crate) async fn read(
        ctx: &SessionContext,
        snapshot: &Snapshot,
        config: &Config,
        request: &Request,
        periods: &[Period],
        kpis: &[&'static KpiDef],
    ) -> Result<BaseInputs> {
        let wanted = |ids: &[&str]| kpis.iter().any(|k| ids.contains(&k.id));
        // Spend KPIs segment by spend columns; the base reads customer columns, and an
        // unknown dimension is reported for the first KPI that reads them.
        let kpi = kpis
            .iter()
            .copied()
            .find(|k| k.segmentation == Segmentation::Customer)
            .unwrap_or(kpi::lookup("clv").expect("in the catalogue"));
        let bases = base(ctx, snapshot, kpi, request, periods).await?;
        let lifetime = if wanted(&["customer_lifetime", "clv", "clv_cac_ratio"]) {
            lifetime_inputs(ctx, snapshot, config, kpi, request, periods).await?
        } else {
            BTreeMap::new()
        };
        let revenue = if wanted(&["arpu", "cac_payback_months"]) {
            revenue(ctx, snapshot, kpi, request, periods).await?
        } else {
            BTreeMap::new()
        };
        Ok(BaseInputs {
            bases,
            lifetime,
            revenue,
        })
    }
}

pub(crate) async fn compute(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    request: &Request,
    periods: &[Period],
    kpis: &[&'static KpiDef],
    inputs: &BaseInputs,
    results: &mut FamilyResult,
) -> Result<()> {
    let wanted = |id: &str| kpis.iter().any(|k| k.id == id);
    let BaseInputs {
        bases,
        lifetime,
        revenue,
    } = inputs;
    let referred = match kpis.iter().find(|k| k.id == "referral_rate") {
        Some(kpi) => referrals(ctx, snapshot, kpi, request, periods).await?,
        None => BTreeMap::new(),
    };
    let medians = if wanted("median_lifetime") {
        let kpi = kpis
            .iter()
            .find(|k| k.id == "median_lifetime")
            .expect("wanted");
        median_lifetimes(ctx, snapshot, kpi, request, periods).await?
    } else {
        BTreeMap::new()
    };

    for (segment, b) in bases {
        for p in 0..periods.len() {
            let entry = results.entry((p, segment.clone())).or_default();
            let key = (p, segment.clone());
            for kpi in kpis {
                let count = |v: u64| Estimate::Plain {
                    value: Some(v as f64),
                    n: v,
                };
                let (s, c) = (b.active_at_start[p], b.churned_from_start[p]);
                let during = b.active_during[p];
                let mut components = Vec::new();
                let mut why = None;
                let estimate = match kpi.id {
                    "customers_active" => count(b.active_at_end[p]),
                    "median_lifetime" => {
                        let (value, n) = medians.get(&key).copied().unwrap_or((None, 0));
                        if n > 0 {
                            why = Some(format!(
                                "survival of the {n} customers has not fallen to one half by the period's end (Kaplan-Meier): the median lifetime is not known yet"
                            ));
                        }
                        Estimate::Plain { value, n }
                    }
                    "customers_new" => count(b.new[p]),
                    "customers_churned" => count(b.churned[p]),
                    "churn_rate" => Estimate::Proportion { x: c, n: s },
                    "retention_rate" => Estimate::Proportion {
                        x: s - c.min(s),
                        n: s,
                    },
                    "customer_lifetime" => {
                        let (s6, c6) = lifetime.get(&key).copied().unwrap_or((0, 0));
                        let value = lifetime_months_value(s6, c6);
                        why = lifetime_undefined(s6, c6);
                        if let Some(m) = (s6 > 0).then(|| c6 as f64 / s6 as f64) {
                            components.push(("monthly_churn", m));
                        }
                        Estimate::Plain { value, n: s6 }
                    }
                    "referral_rate" => {
                        let (x, rows) = referred.get(&key).copied().unwrap_or((0, 0));
                        components.push(("referrals", rows as f64));
                        Estimate::Proportion {
                            x: x.min(during),
                            n: during,
                        }
                    }
                    "arpu" => {
                        let r = revenue.get(&key).copied().unwrap_or(0.0);
                        components.push(("revenue", r));
                        Estimate::Plain {
                            value: (during > 0).then(|| r / during as f64),
                            n: during,
                        }
                    }
                    _ => continue,
                };
                entry.push(crate::Computed::from((*kpi, estimate, components)).because(why));
            }
        }
    }
    Ok(())
}

/// Every customer's (acquired_at, churned_at) in microseconds, by segment (the
/// customer dimension of `request.by`; all in "" without one), filtered by
/// `request.filters`.
pub(crate) async fn lives(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    request: &Request,
) -> Result<BTreeMap<String, Vec<(i64, Option<i64>)>>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Int64Type};
    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Customers, request).await?;
    let frame = frame.select(vec![
        cast(crate::segment::or_whole(segment), DataType::Utf8View).alias("segment"),
        cast(ident("acquired_at"), DataType::Int64).alias("won"),
        cast(ident("churned_at"), DataType::Int64).alias("lost"),
    ])?;
    // Per segment, numbered as first seen.
    let mut segments = Segments::default();
    let mut lives: Vec<Vec<(i64, Option<i64>)>> = Vec::new();
    for batch in frame.collect().await? {
        let segment = batch.column(0).as_string_view();
        let won = batch.column(1).as_primitive::<Int64Type>();
        let lost = batch.column(2).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            let (s, new) = segments.number(segment, row);
            if new {
                lives.push(Vec::new());
            }
            lives[s as usize].push((won.value(row), lost.is_valid(row).then(|| lost.value(row))));
        }
    }
    Ok(segments.names.into_iter().zip(lives).collect())
}
