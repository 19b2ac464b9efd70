//! Acquisition economics: `cac`, `retention_cost`, `cac_payback_months`, `clv` and
//! `clv_cac_ratio`.
//!
//! Spend tables are small (a row per channel, campaign and month, typically), so the
//! spend rows are read once and each is spread evenly over its days
//! `[period_start, period_end]`; a period gets the whole local days it overlaps. The
//! customer counts (won in P, active at its start and during it), revenue and the
//! six-month churn for CLV come from the customer-base queries. CLV's twelve-month
//! windows `[end - 12 months, end)` of every period come from one scan of the orders.
//!
//! Spend KPIs segment by `acquisition_channel` (spend `channel`) and `campaign`
//! (spend without a campaign is `(none)`); CLV by any customer dimension.

use std::collections::BTreeMap;

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Date32Type};
use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::{self, KpiDef, Segmentation};
use cxkpi_core::parse::date_to_days;
use cxkpi_core::period::Period;
use cxkpi_store::Snapshot;
use datafusion::logical_expr::ident;
use datafusion::prelude::SessionContext;
use jiff::Span;

use crate::customers::{BaseInputs, lifetime_months_value};
use crate::previous::{Segments, ViewKeys};
use crate::results::Columns;
use crate::seen::Runs;
use crate::segment::NONE_SEGMENT;
use crate::{EngineError, FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 5] = [
    "cac",
    "retention_cost",
    "cac_payback_months",
    "clv",
    "clv_cac_ratio",
];

/// Spend allocated per period and segment: (acquisition, retention).
type Allocated = BTreeMap<(usize, String), (f64, f64)>;

/// The spend column a spend-segmented dimension reads.
fn spend_column(dimension: &str) -> &'static str {
    if dimension == "campaign" {
        "campaign"
    } else {
        "channel"
    }
}

async fn allocate(
    ctx: &SessionContext,
    request: &Request,
    periods: &[Period],
) -> Result<Allocated> {
    let segment_columns: Vec<&str> = request.by.iter().map(|d| spend_column(d)).collect();
    let frame = ctx.table(Entity::Spend.name()).await?.select(vec![
        ident("channel"),
        ident("campaign"),
        ident("purpose"),
        ident("period_start"),
        ident("period_end"),
        ident("amount"),
    ])?;
    let mut out = Allocated::new();
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        let day = |name: &str| {
            let column = arrow::compute::cast(
                batch.column_by_name(name).expect("selected"),
                &DataType::Date32,
            )
            .expect("dates");
            column.as_primitive::<Date32Type>().clone()
        };
        let (starts, ends) = (day("period_start"), day("period_end"));
        'rows: for row in 0..batch.num_rows() {
            let value = |column: &str| {
                let v = c.text_opt(column, row).unwrap_or_default();
                if v.is_empty() {
                    NONE_SEGMENT.to_string()
                } else {
                    v
                }
            };
            for filter in &request.filters {
                if !filter.matches_text(&value(spend_column(&filter.dimension))) {
                    continue 'rows;
                }
            }
            let segment = segment_columns
                .iter()
                .map(|c| value(c))
                .collect::<Vec<_>>()
                .join(&crate::SEGMENT_SEPARATOR.to_string());
            let retention = c.text("purpose", row) == "retention";
            let amount = c.opt_f64("amount", row).unwrap_or(0.0);
            let (first, last) = (starts.value(row), ends.value(row));
            let days = f64::from(last - first + 1);
            for (p, period) in periods.iter().enumerate() {
                let (from, to) = (date_to_days(period.first_day), date_to_days(period.end_day));
                let overlap = (to.min(last + 1) - from.max(first)).max(0);
                if overlap == 0 {
                    continue;
                }
                let share = amount * f64::from(overlap) / days;
                let entry = out.entry((p, segment.clone())).or_default();
                if retention {
                    entry.1 += share;
                } else {
                    entry.0 += share;
                }
            }
        }
    }
    Ok(out)
}

/// Revenue and distinct ordering customers over `[end - 12 months, end)` per period
/// and segment, in one scan of the orders.
///
/// The windows' bounds, sorted, form a grid; the cell of `ordered_at` is the number
/// of bounds at or before the order, and an order is in the window whose bounds are
/// grid instants `a` and `b` exactly when that number is in `(a, b]`. Both bounds grow
/// with the period, so the windows holding a grid cell are a contiguous run of
/// periods. Revenue is a prefix sum over cells; each customer's cells, sorted (by
/// [`Runs`]), give the runs of windows they ordered in, merged, and a
/// difference array per segment counts each customer once per window.
async fn twelve_months(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    request: &Request,
    periods: &[Period],
    config: &Config,
) -> Result<BTreeMap<(usize, String), (f64, u64)>> {
    use arrow::array::Array;
    use arrow::datatypes::{Float64Type, Int64Type};
    use datafusion::prelude::cast;
    use futures::StreamExt;

    let windows: Vec<(i64, i64)> = periods
        .iter()
        .map(|period| {
            let from = period
                .end_day
                .checked_sub(Span::new().months(12))
                .expect("in range");
            let window = Period::range(from, period.end_day, &config.time_zone).expect("a year");
            (window.start.as_microsecond(), window.end.as_microsecond())
        })
        .collect();
    let mut grid: Vec<i64> = windows.iter().flat_map(|(a, b)| [*a, *b]).collect();
    grid.sort_unstable();
    grid.dedup();
    let at = |t: i64| grid.binary_search(&t).expect("a bound") as i32;
    // Per window: the cells (a, b] it holds.
    let bounds: Vec<(i32, i32)> = windows.iter().map(|(a, b)| (at(*a), at(*b))).collect();
    let (lowest, highest) = (
        bounds.iter().map(|w| w.0).min().unwrap_or(0),
        bounds.iter().map(|w| w.1).max().unwrap_or(0),
    );
    // Cells lowest < c <= highest are the instants grid[lowest] <= t < grid[highest];
    // the cell of t (the number of grid instants at or before it) is found here.
    let instant = |i: i32| bucket::instant(grid[i as usize]);
    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Orders, request).await?;
    let mut stream = frame
        .filter(
            ident("ordered_at")
                .gt_eq(instant(lowest))
                .and(ident("ordered_at").lt(instant(highest))),
        )?
        .select(vec![
            cast(crate::segment::or_whole(segment), DataType::Utf8View).alias("segment"),
            cast(ident("customer_id"), DataType::Utf8View).alias("customer_id"),
            cast(ident("ordered_at"), DataType::Int64).alias("t"),
            cast(ident("amount"), DataType::Float64).alias("amount"),
        ])?
        .execute_stream()
        .await?;
    let cells = grid.len() + 1;
    let cell = cxkpi_core::steps::Count::new(&grid);
    // Per segment its revenue per cell, in millionths summed exactly: batches arrive in
    // an order that varies from run to run, and a float sum in that order varied in
    // its last digits; per (customer, segment), the cells ordered in ([`Runs`]), a run
    // of a customer's orders in one cell once.
    let mut revenue: Vec<Vec<i128>> = Vec::new();
    let (mut segments, mut keys) = (Segments::default(), ViewKeys::default());
    let mut ordered: Runs<u32> = Runs::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let segment = batch.column(0).as_string_view();
        let customer = batch.column(1).as_string_view();
        let t = batch.column(2).as_primitive::<Int64Type>();
        let amount = batch.column(3).as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            let (s, new) = segments.number(segment, row);
            if new {
                revenue.push(vec![0; cells]);
            }
            let c = cell.at(t.value(row));
            if !amount.is_null(row) {
                revenue[s as usize][c as usize] += (amount.value(row) * 1e6).round() as i128;
            }
            let key = keys.key(customer, row);
            if ordered.last_of(key, s).is_none_or(|last| *last != c) {
                ordered.push(key, s, c);
            }
        }
    }
    let labels = segments.names;
    // The periods whose windows hold cell c: from the first with b >= c to the last
    // with a < c (both bounds grow with the period).
    let holding = |c: i32| {
        let first = bounds.partition_point(|w| w.1 < c);
        let end = bounds.partition_point(|w| w.0 < c);
        first..end
    };
    // Per segment, a difference array over the periods of the customers ordering.
    let mut difference = vec![vec![0i64; periods.len() + 1]; labels.len()];
    ordered.for_each_key(|s, own| {
        own.sort_unstable();
        let difference = &mut difference[s as usize];
        // Merge the runs of periods of the customer's cells (ascending, so the runs come
        // sorted by start and end) into disjoint ones.
        let mut run: Option<std::ops::Range<usize>> = None;
        for &c in own.iter() {
            let next = holding(c as i32);
            if next.is_empty() {
                continue;
            }
            match &mut run {
                Some(r) if next.start <= r.end => r.end = r.end.max(next.end),
                _ => {
                    if let Some(r) = run.replace(next) {
                        difference[r.start] += 1;
                        difference[r.end] -= 1;
                    }
                }
            }
        }
        if let Some(r) = run {
            difference[r.start] += 1;
            difference[r.end] -= 1;
        }
    });
    let mut out = BTreeMap::new();
    for ((segment, revenue), difference) in labels.into_iter().zip(revenue).zip(difference) {
        let mut prefix = vec![0i128; cells + 1];
        for (c, r) in revenue.iter().enumerate() {
            prefix[c + 1] = prefix[c] + r;
        }
        let mut ordering = 0i64;
        for (p, (a, b)) in bounds.iter().enumerate() {
            ordering += difference[p];
            let revenue = (prefix[*b as usize + 1] - prefix[*a as usize + 1]) as f64 / 1e6;
            if ordering > 0 || revenue != 0.0 {
                out.insert((p, segment.clone()), (revenue, ordering as u64));
            }
        }
    }
    Ok(out)
}

/// Checks that the spend KPIs of `kpis` are segmented and filtered only by
/// acquisition channel and campaign.
pub(crate) fn check_dimensions(request: &Request, kpis: &[&'static KpiDef]) -> Result<()> {
    for kpi in kpis
        .iter()
        .filter(|k| k.segmentation == Segmentation::Spend)
    {
        for dimension in request
            .by
            .iter()
            .chain(request.filters.iter().map(|f| &f.dimension))
        {
            if !matches!(dimension.as_str(), "acquisition_channel" | "campaign") {
                return Err(EngineError::UnknownDimension {
                    kpi: kpi.id,
                    given: dimension.clone(),
                    valid: vec!["acquisition_channel".into(), "campaign".into()],
                });
            }
        }
        for filter in &request.filters {
            crate::segment::check_spend_filter(filter)?;
        }
    }
    Ok(())
}

/// Computes `kpis` from `inputs`, read with [`BaseInputs::read`] for them; the caller
/// has checked their dimensions with [`check_dimensions`].
#[allow(clippy::too_many_arguments)]
pub(crate) async fn compute(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    config: &Config,
    request: &Request,
    periods: &[Period],
    kpis: &[&'static KpiDef],
    inputs: &BaseInputs,
    results: &mut FamilyResult,
) -> Result<()> {
    // Customer-side queries read the same dimensions as customer columns.
    let customer_kpi = kpi::lookup("clv").expect("in the catalogue");
    let margin = config.gross_margin;
    let spend = allocate(ctx, request, periods).await?;
    let BaseInputs {
        bases,
        lifetime: lifetimes,
        revenue,
    } = inputs;
    let wants_clv = kpis.iter().any(|k| matches!(k.id, "clv" | "clv_cac_ratio"));
    let window = if wants_clv {
        twelve_months(ctx, snapshot, customer_kpi, request, periods, config).await?
    } else {
        BTreeMap::new()
    };

    let mut segments: Vec<String> = bases.keys().cloned().collect();
    segments.extend(spend.keys().map(|(_, s)| s.clone()));
    segments.sort();
    segments.dedup();
    for segment in &segments {
        let b = bases.get(segment);
        for (p, period) in periods.iter().enumerate() {
            let key = (p, segment.clone());
            let (acquisition, retention) = spend.get(&key).copied().unwrap_or((0.0, 0.0));
            let new = b.map_or(0, |b| b.new[p]);
            let at_start = b.map_or(0, |b| b.active_at_start[p]);
            let during = b.map_or(0, |b| b.active_during[p]);
            let cac = (new > 0).then(|| acquisition / new as f64);
            let arpu =
                (during > 0).then(|| revenue.get(&key).copied().unwrap_or(0.0) / during as f64);
            let clv = {
                let (revenue12, customers12) = window.get(&key).copied().unwrap_or((0.0, 0));
                let (s6, c6) = lifetimes.get(&key).copied().unwrap_or((0, 0));
                let per_customer_year = (customers12 > 0).then(|| revenue12 / customers12 as f64);
                per_customer_year
                    .zip(lifetime_months_value(s6, c6))
                    .map(|(value, months)| value * months / 12.0 * margin)
            };
            let customers12 = window.get(&key).map_or(0, |w| w.1);
            let clv_undefined = match lifetimes.get(&key) {
                _ if customers12 == 0 => {
                    Some("no customer ordered in the twelve months to the period's end".to_string())
                }
                Some((s6, c6)) => crate::customers::lifetime_undefined(*s6, *c6),
                None => None,
            };
            let entry = results.entry(key).or_default();
            for kpi in kpis {
                let mut why = None;
                let (value, n, components) = match kpi.id {
                    "cac" => {
                        why = Some("no customer was won in the period".to_string());
                        (cac, new, vec![("acquisition_spend", acquisition)])
                    }
                    "retention_cost" => (
                        (at_start > 0).then(|| retention / at_start as f64),
                        at_start,
                        vec![("retention_spend", retention)],
                    ),
                    "cac_payback_months" => {
                        let per_month = arpu.map(|a| {
                            a / (f64::from(period.days()) / cxkpi_core::period::MONTH_DAYS) * margin
                        });
                        let value = cac
                            .zip(per_month)
                            .and_then(|(c, m)| (m > 0.0).then(|| c / m));
                        (value, new, Vec::new())
                    }
                    "clv" => {
                        why = clv_undefined.clone();
                        (clv, customers12, Vec::new())
                    }
                    "clv_cac_ratio" => {
                        let value = clv.zip(cac).and_then(|(l, c)| (c > 0.0).then(|| l / c));
                        (value, new, Vec::new())
                    }
                    _ => continue,
                };
                entry.push(
                    crate::Computed::from((*kpi, Estimate::Plain { value, n }, components))
                        .because(why),
                );
            }
        }
    }
    Ok(())
}
