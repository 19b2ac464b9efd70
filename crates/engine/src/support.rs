//! Support KPIs from tickets.
//!
//! Two scans of `tickets`, each run only when a requested KPI needs it: one by the
//! period of `created_at` (tickets created, first response times, SLA), one by the
//! period of `resolved_at` (resolution times, FCR, one-touch, net resolution, handle
//! time). The backlog at a period's end is the tickets created before it less those
//! resolved before it, so it comes from the running totals of the two scans, with a
//! bucket for everything before the first period; without the backlog, a scan reads
//! only the rows of its periods. DataFusion filters and maps the rows to their
//! period; a Rust pass adds them up per (segment, period) cell and gathers the
//! durations in integer microseconds, whose medians and 90th percentiles the core's
//! type-7 percentile finds by selection. Gathering them with `array_agg` and sorting
//! them was about 30% of a business-hours first response time's profile (copying
//! lists, sorting); bench case 2 took 0.19-0.33 s with them, 0.11-0.15 s without.
//!
//! With a business-hours calendar, first response and resolution times are also
//! gathered as business time (`cx_business_micros`); the value, mean and p90 are then
//! business time and the calendar figures are reported as components. The SLA is
//! judged in the same clock (issue 17: it judged calendar time while the first response
//! time beside it was business time), with the calendar share as a component.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, StringViewArray};
use arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_core::stats::{self, Moments};
use cxkpi_store::Snapshot;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{ident, lit};
use datafusion::prelude::{SessionContext, cast};
use futures::StreamExt;

use crate::previous::Segments;
use crate::results::micros_between;
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

#[derive(Default, Clone)]
struct Created {
    count: u64,
    /// First response times in microseconds, calendar and business.
    response: Vec<i64>,
    response_business: Vec<i64>,
    within: u64,
    judged: u64,
    /// The SLA judged in business time, with a calendar.
    within_business: u64,
    judged_business: u64,
}

#[derive(Default, Clone)]
struct Resolved {
    count: u64,
    /// Resolution times in microseconds, calendar and business.
    resolution: Vec<i64>,
    resolution_business: Vec<i64>,
    one_contact: u64,
    replies_known: u64,
    one_reply: u64,
    clean: u64,
    handle: Moments,
}

/// Per (segment, bucket) sums of a scan, buckets -1 (before the first period) to the
/// last period.
struct Cells<T> {
    segments: Segments,
    buckets: usize,
    cells: Vec<T>,
}

impl<T: Default + Clone> Cells<T> {
    fn new(periods: usize) -> Cells<T> {
        Cells {
            segments: Segments::default(),
            buckets: periods + 1,
            cells: Vec::new(),
        }
    }

    /// The cell of row `row`: its bucket and segment (the one empty segment when
    /// `segments` is `None`).
    #[inline]
    fn cell(&mut self, bucket: i32, segments: Option<&StringViewArray>, row: usize) -> &mut T {
        let segment = match segments {
            Some(segments) => self.segments.number(segments, row).0 as usize,
            None => 0,
        };
        if self.cells.len() <= segment * self.buckets {
            self.cells
                .resize((segment + 1) * self.buckets, T::default());
        }
        &mut self.cells[segment * self.buckets + (bucket + 1) as usize]
    }

    /// The cells by (bucket, segment name), the empty ones left out by `empty`.
    fn into_map(mut self, empty: impl Fn(&T) -> bool) -> BTreeMap<(i32, String), T> {
        if self.segments.names.is_empty() {
            // Unsegmented: every cell is the one empty segment's.
            self.segments.names = vec![String::new()];
        }
        let mut map = BTreeMap::new();
        for (i, cell) in self.cells.into_iter().enumerate() {
            if !empty(&cell) {
                let (segment, bucket) = (i / self.buckets, i % self.buckets);
                map.insert(
                    (bucket as i32 - 1, self.segments.names[segment].clone()),
                    cell,
                );
            }
        }
        map
    }
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
    let sla = sla_micros(config, snapshot);
    let clock = config
        .business_hours
        .as_ref()
        .map(|calendar| crate::business::clock(calendar, periods));
    let business = clock
        .as_ref()
        .map(|clock| crate::business::business_micros(std::sync::Arc::clone(clock)));
    // Business time from column `from` to column `to` (null without a calendar).
    let business_micros = |from: &str, to: &str| match &business {
        Some(udf) => udf.call(vec![ident(from), ident(to)]),
        None => lit(ScalarValue::Int64(None)),
    };

    // The tickets of both scans, with their segment (read once: a customer column's
    // lookup reads the customer table).
    let (tickets, segment) = prepare(ctx, snapshot, kpis[0], Entity::Tickets, request).await?;
    let segmented = segment.is_some();

    // Scan 1: by the period of creation.
    let mut created: BTreeMap<(i32, String), Created> = BTreeMap::new();
    if backlog || wanted(&["tickets_created", "first_response_time", "frt_within_sla"]) {
        // In integer microseconds: interval arithmetic on a zoned timestamp resolved the
        // time zone per row.
        let deadline = cast(
            cast(ident("created_at"), DataType::Int64) + sla.clone(),
            bucket::instant_type(),
        );
        let created_bucket = bucket.call(vec![ident("created_at")]);
        let mut stream = tickets
            .clone()
            .filter(bucket::within(periods, "created_at", backlog))?
            .select(vec![
                created_bucket.clone(),
                micros_between("created_at", "first_response_at"),
                business_micros("created_at", "first_response_at"),
                // Unanswered tickets are judged when the deadline falls in the same period.
                bucket.call(vec![deadline]).eq(created_bucket),
                crate::segment::or_whole(segment.clone()),
                cast(ident("created_at"), DataType::Int64),
                sla,
            ])?
            .execute_stream()
            .await?;
        let mut cells = Cells::<Created>::new(periods.len());
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let period = batch.column(0).as_primitive::<Int32Type>();
            let response = batch.column(1).as_primitive::<Int64Type>();
            let business = batch.column(2).as_primitive::<Int64Type>();
            let deadline_passed = batch.column(3).as_boolean();
            let segments = segmented.then(|| batch.column(4).as_string_view());
            let created_at = batch.column(5).as_primitive::<Int64Type>();
            let targets = batch.column(6).as_primitive::<Int64Type>();
            for row in 0..batch.num_rows() {
                // Every row kept is in a bucket (`bucket::within`); a null one is skipped
                // rather than read as bucket 0.
                if period.is_null(row) {
                    continue;
                }
                let p = period.value(row);
                let sla_micros = targets.value(row);
                let cell = cells.cell(p, segments, row);
                cell.count += 1;
                if response.is_valid(row) {
                    let micros = response.value(row);
                    cell.response.push(micros);
                    if business.is_valid(row) {
                        let micros = business.value(row);
                        cell.response_business.push(micros);
                        cell.within_business += u64::from(micros <= sla_micros);
                        cell.judged_business += 1;
                    }
                    cell.within += u64::from(micros <= sla_micros);
                    cell.judged += 1;
                } else {
                    if deadline_passed.is_valid(row) && deadline_passed.value(row) {
                        cell.judged += 1;
                    }
                    // In business time the deadline has passed when the period's end
                    // is at least the SLA's business time after creation.
                    if let Some(clock) = &clock
                        && p >= 0
                    {
                        let end = periods[p as usize].end.as_microsecond();
                        if clock.micros(created_at.value(row), end) >= sla_micros {
                            cell.judged_business += 1;
                        }
                    }
                }
            }
        }
        created = cells.into_map(|c| c.count == 0);
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
        let mut stream = tickets
            .filter(bucket::within(periods, "resolved_at", backlog))?
            .select(vec![
                bucket.call(vec![ident("resolved_at")]),
                micros_between("created_at", "resolved_at"),
                business_micros("created_at", "resolved_at"),
                ident("contacts"),
                ident("replies"),
                ident("reopens").eq(lit(0i64)).and(!ident("escalated")),
                ident("handle_seconds"),
                crate::segment::or_whole(segment.clone()),
            ])?
            .execute_stream()
            .await?;
        let mut cells = Cells::<Resolved>::new(periods.len());
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let period = batch.column(0).as_primitive::<Int32Type>();
            let resolution = batch.column(1).as_primitive::<Int64Type>();
            let business = batch.column(2).as_primitive::<Int64Type>();
            let contacts = batch.column(3).as_primitive::<Int64Type>();
            let replies = batch.column(4).as_primitive::<Int64Type>();
            let clean = batch.column(5).as_boolean();
            let handle = batch.column(6).as_primitive::<Float64Type>();
            let segments = segmented.then(|| batch.column(7).as_string_view());
            let is = |column: &arrow::array::Int64Array, row: usize, value: i64| {
                column.is_valid(row) && column.value(row) == value
            };
            for row in 0..batch.num_rows() {
                if period.is_null(row) {
                    continue;
                }
                let cell = cells.cell(period.value(row), segments, row);
                cell.count += 1;
                if resolution.is_valid(row) {
                    cell.resolution.push(resolution.value(row));
                }
                if business.is_valid(row) {
                    cell.resolution_business.push(business.value(row));
                }
                cell.one_contact += u64::from(is(contacts, row, 1));
                cell.replies_known += u64::from(replies.is_valid(row));
                cell.one_reply += u64::from(is(replies, row, 1));
                cell.clean += u64::from(clean.is_valid(row) && clean.value(row));
                if handle.is_valid(row) {
                    cell.handle.update(handle.value(row));
                }
            }
        }
        resolved = cells.into_map(|r| r.count == 0);
    }

    // Running totals per segment for the backlog (bucket -1 holds what came before).
    let segments: Vec<String> = created
        .keys()
        .chain(resolved.keys())
        .map(|(_, s)| s.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let with_business = business.is_some();
    for segment in &segments {
        let mut open = 0i64;
        let key = |p: i32| (p, segment.clone());
        open += created.get(&key(-1)).map_or(0, |c| c.count as i64);
        open -= resolved.get(&key(-1)).map_or(0, |r| r.count as i64);
        for p in 0..periods.len() as i32 {
            let mut c = created.get_mut(&key(p));
            let mut r = resolved.get_mut(&key(p));
            open +=
                c.as_ref().map_or(0, |c| c.count as i64) - r.as_ref().map_or(0, |r| r.count as i64);
            let entry = results.entry((p as usize, segment.clone())).or_default();
            for kpi in kpis {
                let plain = |v: u64| Estimate::Plain {
                    value: Some(v as f64),
                    n: v,
                };
                let proportion = |x: u64, n: u64| Estimate::Proportion { x, n };
                // Why a KPI of tickets that exist has no value: the column it needs is
                // empty in all of them.
                let created_without = |count, column| without(count, "created", column);
                let resolved_without = |count, column| without(count, "resolved", column);
                let mut why = None;
                let (estimate, components) = match (kpi.id, c.as_deref_mut(), r.as_deref_mut()) {
                    ("ticket_backlog", _, _) => (plain(open.max(0) as u64), Vec::new()),
                    ("tickets_created", Some(c), _) => (plain(c.count), Vec::new()),
                    ("first_response_time", Some(c), _) => {
                        why = Some(created_without(c.count, "first_response_at"));
                        durations(
                            &mut c.response,
                            with_business.then_some(&mut c.response_business[..]),
                        )
                    }
                    ("frt_within_sla", Some(c), _) => {
                        why = Some(without(
                            c.count,
                            "created",
                            "first_response_at or a passed SLA deadline",
                        ));
                        // With business hours, the SLA is judged in business time like
                        // the first response time it is about; the calendar share follows.
                        if with_business {
                            let mut components = Vec::new();
                            if c.judged > 0 {
                                components.push((
                                    "calendar_within_sla",
                                    100.0 * c.within as f64 / c.judged as f64,
                                ));
                            }
                            (proportion(c.within_business, c.judged_business), components)
                        } else {
                            (proportion(c.within, c.judged), Vec::new())
                        }
                    }
                    ("resolution_time", _, Some(r)) => durations(
                        &mut r.resolution,
                        with_business.then_some(&mut r.resolution_business[..]),
                    ),
                    ("fcr_rate", _, Some(r)) => (proportion(r.one_contact, r.count), Vec::new()),
                    ("one_touch_rate", _, Some(r)) => {
                        why = Some(resolved_without(r.count, "replies"));
                        (
                            proportion(r.one_reply, r.replies_known),
                            vec![("one_touch_resolutions", r.one_reply as f64)],
                        )
                    }
                    ("net_resolution_rate", _, Some(r)) => {
                        (proportion(r.clean, r.count), Vec::new())
                    }
                    ("average_handle_time", _, Some(r)) => {
                        why = Some(resolved_without(r.count, "handle_seconds"));
                        let minutes = |seconds: f64| seconds / 60.0;
                        let handle = &r.handle;
                        let estimate = Estimate::Mean {
                            mean: (handle.n > 0).then(|| minutes(handle.mean)),
                            sd: handle.sd().map(minutes),
                            n: handle.n,
                        };
                        (estimate, Vec::new())
                    }
                    // Nothing created or resolved here: the defaults of an empty period.
                    _ => continue,
                };
                entry.push(crate::Computed::from((*kpi, estimate, components)).because(why));
            }
        }
    }
    Ok(())
}

/// The first-response SLA of each ticket in microseconds: the target of the first of
/// `[sla]`'s (column, value) rules its row matches, else the default. A rule on a
/// column the tickets do not have matches none.
fn sla_micros(config: &Config, snapshot: &Snapshot) -> datafusion::logical_expr::Expr {
    let micros = |hours: f64| lit((hours * 3_600_000_000.0).round() as i64);
    let default = micros(config.sla_first_response_hours);
    let columns: Vec<String> = Entity::Tickets
        .segment_columns()
        .into_iter()
        .map(String::from)
        .chain(snapshot.table(Entity::Tickets).dimensions)
        .collect();
    let rules: Vec<_> = config
        .sla_targets
        .iter()
        .filter(|t| columns.contains(&t.column))
        .collect();
    let Some((first, rest)) = rules.split_first() else {
        return default;
    };
    let matches = |t: &cxkpi_core::config::SlaTarget| {
        crate::segment::segment_expr(ident(t.column.as_str())).eq(lit(t.value.clone()))
    };
    let mut case = datafusion::logical_expr::when(matches(first), micros(first.hours));
    for t in rest {
        case = case.when(matches(t), micros(t.hours));
    }
    case.otherwise(default).expect("a complete CASE")
}

/// Why a KPI of `count` tickets created or resolved in a period has no value: none
/// has `column`.
fn without(count: u64, event: &str, column: &str) -> String {
    match count {
        1 => format!("the one ticket {event} in the period has no {column}"),
        _ => format!("none of the {count} tickets {event} in the period has {column}"),
    }
}

/// Median of durations (microseconds, reordered) as the value, in hours; mean and
/// 90th percentile as components. With business time, the value, mean and p90 are
/// business time and the calendar median, mean and p90 follow as `calendar_*`
/// components. Percentiles by selection (sorting a month's million durations twice
/// was a sixth of a business-hours first response time), means from exact integer
/// sums.
fn durations(
    calendar: &mut [i64],
    business: Option<&mut [i64]>,
) -> (Estimate, Vec<(&'static str, f64)>) {
    let hours = |micros: f64| micros / 3_600_000_000.0;
    let summary = |micros: &mut [i64]| {
        let percentile = |micros: &mut [i64], q: f64| {
            stats::percentile_select(micros, q).map(|(below, above, w)| {
                let (below, above) = (hours(below as f64), hours(above as f64));
                below + w * (above - below)
            })
        };
        let median = percentile(micros, 50.0);
        let mean_p90 = percentile(micros, 90.0).map(|p90| {
            let sum: i128 = micros.iter().map(|&m| i128::from(m)).sum();
            (hours(sum as f64 / micros.len() as f64), p90)
        });
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
