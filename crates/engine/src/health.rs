//! Customer health as of instants: the `health_score` KPI (the mean score of the
//! customers active at each period's end, with the share in each band) and the
//! per-customer scores behind it ([`customer_health`]); and the activity rates,
//! `active_rate` and `self_service_rate` (the share of the customers active during a
//! period with a `usage` or `self_service` event in it), which share the health
//! score's one scan of `activity`, the largest table (reading it once took the 1M
//! scorecard from 3.7-4.5 s to 2.9-3.8 s).
//!
//! Only events before an instant count. With the instants E_0 < E_1 < ... sorted,
//! the cell of t, `cell(t)`, is the number of instants at or before t, so an event at
//! t is before E_k exactly when `cell(t) <= k`. Each source is reduced to the latest
//! event per (customer, grid cell) (activity and orders streamed into a customers x
//! cells table, answers and tickets into per-customer lists), and a running maximum
//! over the cells gives the latest event before every instant in one pass per
//! customer:
//! - `activity` (kind `usage`): the latest occurrence;
//! - `orders`: the latest order;
//! - `responses` (`nps`, `csat`): the latest answer, NPS winning a tie;
//! - `tickets`: the first creation (the support component exists from then on), and
//!   per ticket open at some instant and older than 72 hours there, the range of
//!   instants where it is: `[cell(created + 72 h), cell(resolved))`.
//!
//! The core's [`cxkpi_core::health`] turns the facts into the score.

use arrow::array::{Array, RecordBatch, StringViewArray};
use arrow::datatypes::DataType;
use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::health::{Health, HealthBand, HealthFacts, health, satisfaction};
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::DAY_MICROS;
use cxkpi_core::period::Period;
use cxkpi_core::stats::Moments;
use cxkpi_core::steps::Count;
use cxkpi_store::Snapshot;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::{SessionContext, cast};

use crate::previous::{Cursors, Index, Segments, concat_views};
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 3] = ["health_score", "active_rate", "self_service_rate"];

/// The activity rates and the kind of event each counts.
const RATES: [(&str, &str); 2] = [
    ("active_rate", "usage"),
    ("self_service_rate", "self_service"),
];

/// One customer's health as of one instant.
#[derive(Debug, Clone)]
pub struct CustomerHealth {
    /// The customer.
    pub customer_id: String,
    /// The segment value (empty without a segmenting dimension).
    pub segment: String,
    /// The facts the score is made of.
    pub facts: HealthFacts,
    /// The score; `None` without any component.
    pub health: Option<Health>,
    /// When the customer was won.
    pub acquired_at: jiff::Timestamp,
    /// When the customer churned, if they have (after the instant, as they were
    /// active at it): what a backtest checks the score against.
    pub churned_at: Option<jiff::Timestamp>,
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
    let score = kpis.iter().copied().find(|k| k.id == "health_score");
    let ends: Vec<i64> = periods.iter().map(|p| p.end.as_microsecond()).collect();
    let rates: Vec<(&'static KpiDef, &str)> = RATES
        .iter()
        .filter_map(|(id, kind)| Some((*kpis.iter().find(|k| k.id == *id)?, *kind)))
        .collect();
    let kinds: Vec<&str> = rates.iter().map(|(_, kind)| *kind).collect();
    if !kinds.is_empty() {
        crate::customers::contiguous(periods)?;
    }
    let wants = Wants {
        score: score.is_some(),
        kinds: &kinds,
        first_start: periods
            .first()
            .map_or(i64::MAX, |p| p.start.as_microsecond()),
    };
    let gathered = gather(ctx, snapshot, kpis[0], config, request, &ends, &wants).await?;
    if !kinds.is_empty() {
        let starts: Vec<i64> = periods.iter().map(|p| p.start.as_microsecond()).collect();
        let (during, engaged) = gathered.engagement(&starts, &ends, kinds.len());
        let segments = gathered.segments.len();
        for (g, (kpi, _)) in rates.iter().enumerate() {
            for k in 0..ends.len() {
                for (s, segment) in gathered.segments.iter().enumerate() {
                    let n = during[k * segments + s];
                    let x = engaged[(g * ends.len() + k) * segments + s];
                    let estimate = Estimate::Proportion { x, n };
                    let entry = results.entry((k, segment.clone())).or_default();
                    entry.push((*kpi, estimate, Vec::new()).into());
                }
            }
        }
    }
    let Some(kpi) = score else {
        return Ok(());
    };
    // Per (period, segment index): score moments and band counts.
    let segments = gathered.segments.len();
    let mut acc = vec![(Moments::default(), [0u64; 3]); ends.len() * segments];
    gathered.for_each(&ends, config, |k, c, _, health| {
        let Some(h) = health else { return };
        let entry = &mut acc[k * segments + gathered.customers[c].segment as usize];
        entry.0.update(h.score);
        entry.1[h.band as usize] += 1;
    });
    for (cell, (moments, bands)) in acc.into_iter().enumerate() {
        if moments.n == 0 {
            continue;
        }
        let (k, segment) = (cell / segments, &gathered.segments[cell % segments]);
        let n = moments.n as f64;
        let share = |band: HealthBand| 100.0 * bands[band as usize] as f64 / n;
        results.entry((k, segment.clone())).or_default().push(
            (
                kpi,
                Estimate::Mean {
                    mean: Some(moments.mean),
                    sd: moments.sd(),
                    n: moments.n,
                },
                vec![
                    ("green_share", share(HealthBand::Green)),
                    ("yellow_share", share(HealthBand::Yellow)),
                    ("red_share", share(HealthBand::Red)),
                ],
            )
                .into(),
        );
    }
    Ok(())
}

/// The health of every customer active at `at` (won at or before it, not churned by
/// it), segmented and filtered as `request` says (its KPIs and periods are ignored).
pub async fn customer_health(
    snapshot: &Snapshot,
    config: &Config,
    request: &Request,
    at: jiff::Timestamp,
) -> Result<Vec<CustomerHealth>> {
    let ctx = snapshot.context()?;
    let kpi = cxkpi_core::kpi::lookup("health_score").expect("in the catalogue");
    let ends = [at.as_microsecond()];
    let wants = Wants {
        score: true,
        kinds: &[],
        first_start: i64::MAX,
    };
    let gathered = gather(&ctx, snapshot, kpi, config, request, &ends, &wants).await?;
    let mut out = Vec::new();
    gathered.for_each(&ends, config, |_, c, facts, health| {
        let customer = &gathered.customers[c];
        out.push(CustomerHealth {
            customer_id: gathered.ids.value(c).to_string(),
            segment: gathered.segments[customer.segment as usize].clone(),
            facts: *facts,
            health: health.copied(),
            acquired_at: jiff::Timestamp::from_microsecond(customer.acquired)
                .unwrap_or(jiff::Timestamp::MIN),
            churned_at: customer
                .churned
                .and_then(|t| jiff::Timestamp::from_microsecond(t).ok()),
        });
    });
    Ok(out)
}

/// What [`gather`] reads.
struct Wants<'a> {
    /// The facts of the health score.
    score: bool,
    /// The activity kinds whose customers are counted per period (see
    /// [`Gathered::engagement`]).
    kinds: &'a [&'a str],
    /// The start of the first period: with `kinds`, the periods are contiguous and end
    /// at the instants, so an instant from here on is in the period of its grid cell.
    first_start: i64,
}

struct Customer {
    /// Index into `Gathered::segments`.
    segment: u32,
    acquired: i64,
    churned: Option<i64>,
}

/// The latest answer in a grid cell: (time, NPS?, score on 0..100).
type Answer = (i64, bool, f64);

struct Gathered {
    /// The customer ids: customer c's is row c.
    ids: StringViewArray,
    customers: Vec<Customer>,
    /// The segment values, numbered in the order first seen.
    segments: Vec<String>,
    /// Grid cells per customer in `activity` and `purchases`.
    cells: usize,
    /// The latest usage event and order per (customer, cell): `cells` slots per
    /// customer, `i64::MIN` where there is none.
    activity: Vec<i64>,
    purchases: Vec<i64>,
    /// Per (customer, cell), bit g set when the customer has an event of the g-th
    /// wanted kind in the cell's period: `cells` bytes per customer, or none without
    /// wanted kinds.
    engaged: Vec<u8>,
    /// (customer, cell, latest answer), sorted by customer and cell.
    answers: Vec<(u32, u32, Answer)>,
    /// Per customer, the grid index of the first ticket's creation (none: `u32::MAX`).
    first_ticket: Vec<u32>,
    /// (customer, from, to): a ticket open and older than 72 hours at instants
    /// `from..to`.
    old_open: Vec<(u32, u32, u32)>,
}

impl Gathered {
    /// Per (period, segment index), the customers active during the period (won before
    /// its end, not churned before its start: `during`), and per (kind, period,
    /// segment index), those of them with an event of the kind in it.
    fn engagement(&self, starts: &[i64], ends: &[i64], kinds: usize) -> (Vec<u64>, Vec<u64>) {
        let (periods, segments) = (ends.len(), self.segments.len());
        let mut during = vec![0u64; periods * segments];
        let mut engaged = vec![0u64; kinds * periods * segments];
        for (c, customer) in self.customers.iter().enumerate() {
            let flags = &self.engaged[c * self.cells..(c + 1) * self.cells];
            let s = customer.segment as usize;
            for k in 0..periods {
                let active = customer.acquired < ends[k]
                    && customer.churned.is_none_or(|churned| churned >= starts[k]);
                if !active {
                    continue;
                }
                during[k * segments + s] += 1;
                for g in 0..kinds {
                    if flags[k] >> g & 1 == 1 {
                        engaged[(g * periods + k) * segments + s] += 1;
                    }
                }
            }
        }
        (during, engaged)
    }

    /// Calls `f(k, customer, facts, health)` for every instant k and every customer
    /// (by index) active at it.
    fn for_each(
        &self,
        ends: &[i64],
        config: &Config,
        mut f: impl FnMut(usize, usize, &HealthFacts, Option<&Health>),
    ) {
        let (mut s, mut o) = (0, 0);
        for (index, customer) in self.customers.iter().enumerate() {
            let cells = index * self.cells..(index + 1) * self.cells;
            let (activity, purchases) = (&self.activity[cells.clone()], &self.purchases[cells]);
            let c = index as u32;
            let start = s;
            while s < self.answers.len() && self.answers[s].0 == c {
                s += 1;
            }
            let answers = &self.answers[start..s];
            let start = o;
            while o < self.old_open.len() && self.old_open[o].0 == c {
                o += 1;
            }
            let old_open = &self.old_open[start..o];

            let mut si = 0;
            let (mut last_activity, mut last_purchase) = (None::<i64>, None::<i64>);
            let known = |t: i64| (t != i64::MIN).then_some(t);
            let mut last_answer: Option<Answer> = None;
            for (k, &end) in ends.iter().enumerate() {
                let k32 = k as u32;
                last_activity = last_activity.max(known(activity[k]));
                last_purchase = last_purchase.max(known(purchases[k]));
                while si < answers.len() && answers[si].1 <= k32 {
                    let (t, nps, _) = answers[si].2;
                    if last_answer.is_none_or(|(lt, lnps, _)| (t, nps) > (lt, lnps)) {
                        last_answer = Some(answers[si].2);
                    }
                    si += 1;
                }
                let active = customer.acquired <= end && customer.churned.is_none_or(|c| c > end);
                if !active {
                    continue;
                }
                let days = |t: i64| (end - t) as f64 / DAY_MICROS;
                let facts = HealthFacts {
                    days_since_activity: last_activity.map(days),
                    satisfaction: last_answer.map(|(_, _, score)| score),
                    old_open_tickets: (self.first_ticket[index] <= k32).then(|| {
                        old_open
                            .iter()
                            .filter(|(_, from, to)| (*from..*to).contains(&k32))
                            .count() as u32
                    }),
                    days_since_purchase: last_purchase.map(days),
                };
                let h = health(&facts, &config.health);
                f(k, index, &facts, h.as_ref());
            }
        }
    }
}

/// Reads the customers and the facts of every source, as of the sorted `ends`.
///
/// Every source streams through here rather than being grouped by DataFusion: a
/// source's rows find their customer in the index of the customer table's ids (see
/// `previous::Index`, and [`customer_rows`]), and the grid cell of an instant (the
/// number of `ends` at or before it) is a step-table lookup (`steps::Count`).
/// Group-bys by the string id, and reading ids as owned strings, took most of the
/// time.
async fn gather(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    config: &Config,
    request: &Request,
    ends: &[i64],
    wants: &Wants<'_>,
) -> Result<Gathered> {
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;

    let count = Count::new(ends);
    let cell = |t: i64| count.at(t);
    let last = ends.last().copied().unwrap_or(i64::MIN);

    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Customers, request).await?;
    let batches = frame
        .select(vec![
            view("customer_id"),
            cast(crate::segment::or_whole(segment), DataType::Utf8View).alias("segment"),
            micros("acquired_at"),
            micros("churned_at"),
        ])?
        .collect()
        .await?;
    // One array of ids (views, their strings shared with the batches and the index):
    // customer c is row c.
    let ids = concat_views(&batches, 0)?;
    let (mut customers, mut segments) = (Vec::new(), Segments::default());
    for batch in &batches {
        let segment = batch.column(1).as_string_view();
        let acquired = batch.column(2).as_primitive::<Int64Type>();
        let churned = batch.column(3).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            customers.push(Customer {
                segment: segments.number(segment, row).0,
                acquired: if acquired.is_null(row) {
                    i64::MAX
                } else {
                    acquired.value(row)
                },
                churned: (!churned.is_null(row)).then(|| churned.value(row)),
            });
        }
    }
    let find = Index::new(&ids);

    // Activity: the latest usage event per (customer, grid cell), and the wanted kinds
    // seen per (customer, cell).
    let cells = ends.len();
    let kinds = wants.kinds;
    let mut activity = Vec::new();
    let mut engaged = vec![
        0u8;
        if kinds.is_empty() {
            0
        } else {
            customers.len() * cells
        }
    ];
    if wants.score || !kinds.is_empty() {
        if wants.score {
            activity = vec![i64::MIN; customers.len() * cells];
        }
        // Rows are kept here rather than by a DataFusion filter, which copied every
        // column of nearly every row (the kinds wanted are most of the rows, and the
        // instants nearly all before the last): 5% of `kpi health_score`. The kinds
        // are at most 12 bytes, inline in their views, so they compare by view.
        let usage = kind_view("usage");
        let wanted: Vec<u128> = kinds.iter().map(|k| kind_view(k)).collect();
        let frame = ctx.table(Entity::Activity.name()).await?.select(vec![
            view("customer_id"),
            micros("occurred_at"),
            view("kind"),
        ])?;
        customer_rows(frame, &find, |batch, customers| {
            let time = batch.column(1).as_primitive::<Int64Type>();
            let kind = batch.column(2).as_string_view().views();
            for (row, (&t, i)) in time.values().iter().zip(customers).enumerate() {
                let Some(i) = i else { continue };
                if t >= last || time.is_null(row) {
                    continue;
                }
                let slot = *i as usize * cells + cell(t) as usize;
                if wants.score && kind[row] == usage {
                    activity[slot] = activity[slot].max(t);
                }
                if t >= wants.first_start
                    && let Some(g) = wanted.iter().position(|k| *k == kind[row])
                {
                    engaged[slot] |= 1 << g;
                }
            }
        })
        .await?;
    }
    let ScoreSources {
        purchases,
        answers,
        first_ticket,
        old_open,
    } = if wants.score {
        score_sources(ctx, config, &find, customers.len(), ends, &count).await?
    } else {
        ScoreSources::default()
    };
    Ok(Gathered {
        ids,
        customers,
        segments: segments.names,
        cells,
        activity,
        purchases,
        engaged,
        answers,
        first_ticket,
        old_open,
    })
}

/// The score's facts from orders, answers and tickets (see [`Gathered`]).
#[derive(Default)]
struct ScoreSources {
    purchases: Vec<i64>,
    answers: Vec<(u32, u32, Answer)>,
    first_ticket: Vec<u32>,
    old_open: Vec<(u32, u32, u32)>,
}

/// Reads the health score's sources other than activity for `customers` customers,
/// found by `find`, on the grid of `ends` (`count`).
async fn score_sources(
    ctx: &SessionContext,
    config: &Config,
    find: &Index,
    customers: usize,
    ends: &[i64],
    count: &Count,
) -> Result<ScoreSources> {
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;

    let (cells, n_ends) = (ends.len(), ends.len() as u32);
    let cell = |t: i64| count.at(t);
    let last = ends.last().copied().unwrap_or(i64::MIN);
    let before_last = |column: &str| ident(column).lt(bucket::instant(last));

    // The latest order per (customer, grid cell).
    let mut purchases = vec![i64::MIN; customers * cells];
    // Kept here, not by a DataFusion filter (see activity).
    let frame = ctx
        .table(Entity::Orders.name())
        .await?
        .select(vec![view("customer_id"), micros("ordered_at")])?;
    customer_rows(frame, find, |batch, customers| {
        let time = batch.column(1).as_primitive::<Int64Type>();
        for (row, (&t, i)) in time.values().iter().zip(customers).enumerate() {
            if let Some(i) = i
                && t < last
                && time.is_valid(row)
            {
                let slot = &mut purchases[*i as usize * cells + cell(t) as usize];
                *slot = (*slot).max(t);
            }
        }
    })
    .await?;

    // The latest NPS or CSAT answer per (customer, cell); NPS wins a tie.
    let csat = config.surveys.get("csat").copied();
    let (csat_min, csat_max) = csat.map_or((1, 5), |s| (s.min, s.max));
    // The latest answer of a cell is the maximum of one packed key: time * 512 +
    // (NPS? 256) + score above the scale's minimum, which orders by time with NPS
    // winning a tie, and carries the score (scales up to 256 points).
    if csat_max - csat_min > 255 {
        return Err(crate::EngineError::Config(format!(
            "the health score reads CSAT scales of up to 256 points, not {csat_min}..{csat_max}"
        )));
    }
    let is_nps = ident("survey").eq(lit("nps"));
    let score = ident("score");
    let low = Expr::Case(datafusion::logical_expr::Case::new(
        None,
        vec![(Box::new(is_nps), Box::new(lit(256i64) + score.clone()))],
        Some(Box::new(score - lit(csat_min))),
    ));
    let frame = ctx
        .table(Entity::Responses.name())
        .await?
        .filter(
            ident("survey")
                .in_list(vec![lit("nps"), lit("csat")], false)
                .and(before_last("responded_at")),
        )?
        .select(vec![
            view("customer_id"),
            micros("responded_at"),
            low.alias("low"),
        ])?;
    // (customer, cell, key): consecutive rows of a customer and cell are reduced here,
    // the rest after sorting.
    let mut keys: Vec<(u32, u32, i64)> = Vec::new();
    customer_rows(frame, find, |batch, customers| {
        let t = batch.column(1).as_primitive::<Int64Type>();
        let low = batch.column(2).as_primitive::<Int64Type>();
        for (row, (&t, i)) in t.values().iter().zip(customers).enumerate() {
            let Some(i) = *i else { continue };
            let (k, key) = (cell(t), t * 512 + low.value(row));
            match keys.last_mut() {
                Some((c, at, latest)) if (*c, *at) == (i, k) => *latest = (*latest).max(key),
                _ => keys.push((i, k, key)),
            }
        }
    })
    .await?;
    keys.sort_unstable();
    keys.dedup_by(|later, kept| {
        // Sorted, so the later of two entries of a (customer, cell) has the larger key.
        let same = (later.0, later.1) == (kept.0, kept.1);
        if same {
            kept.2 = later.2;
        }
        same
    });
    let answers = keys
        .into_iter()
        .map(|(i, k, key)| {
            let (t, low) = (key.div_euclid(512), key.rem_euclid(512));
            let answer = if low >= 256 {
                (t, true, satisfaction(true, low - 256, 0, 10))
            } else {
                let score = low + csat_min;
                (t, false, satisfaction(false, score, csat_min, csat_max))
            };
            (i, k, answer)
        })
        .collect();

    // Tickets: the cell of the first creation per customer, and per ticket the instants
    // at which it is open and older than 72 hours, `[cell(created + 72 h),
    // cell(resolved))`. Tickets created at or after the last instant count for none.
    let mut first_ticket = vec![u32::MAX; customers];
    let mut old_open = Vec::new();
    let frame = ctx
        .table(Entity::Tickets.name())
        .await?
        .filter(before_last("created_at"))?
        .select(vec![
            view("customer_id"),
            micros("created_at"),
            micros("resolved_at"),
        ])?;
    const OLD: i64 = 72 * 3_600_000_000;
    customer_rows(frame, find, |batch, customers| {
        let created = batch.column(1).as_primitive::<Int64Type>();
        let resolved = batch.column(2).as_primitive::<Int64Type>();
        for (row, (&created, i)) in created.values().iter().zip(customers).enumerate() {
            let Some(i) = *i else { continue };
            let first = &mut first_ticket[i as usize];
            *first = (*first).min(cell(created));
            let from = cell(created + OLD);
            let to = if resolved.is_null(row) {
                n_ends
            } else {
                cell(resolved.value(row))
            };
            if from < to {
                old_open.push((i, from, to));
            }
        }
    })
    .await?;
    old_open.sort_unstable();
    Ok(ScoreSources {
        purchases,
        answers,
        first_ticket,
        old_open,
    })
}

/// Column `column` as text views, under its name.
fn view(column: &str) -> Expr {
    cast(ident(column), DataType::Utf8View).alias(column)
}

/// Column `column` (an instant) as integer microseconds, under its name.
fn micros(column: &str) -> Expr {
    cast(ident(column), DataType::Int64).alias(column)
}

/// The string view of an activity kind, which is inline (12 bytes at most).
fn kind_view(kind: &str) -> u128 {
    assert!(kind.len() <= 12, "the activity kinds are short");
    arrow::array::builder::make_view(kind.as_bytes(), 0, 0)
}

/// Streams `frame`, whose first column is a customer id (a view), and calls `f` with
/// each batch and, per row, its customer's index (`find`); `None` for an id not in
/// the customer table.
async fn customer_rows(
    frame: DataFrame,
    find: &Index,
    mut f: impl FnMut(&RecordBatch, &[Option<u32>]),
) -> Result<()> {
    use arrow::array::AsArray;
    use futures::StreamExt;

    let mut stream = frame.execute_stream().await?;
    let mut cursors = Cursors::default();
    let mut customers = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let ids = batch.column(0).as_string_view();
        let mut cursor = cursors.take(find, ids);
        customers.clear();
        customers.extend((0..batch.num_rows()).map(|row| find.find(&mut cursor, ids, row)));
        cursors.keep(cursor);
        f(&batch, &customers);
    }
    Ok(())
}
