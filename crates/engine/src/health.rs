//! Customer health as of instants: the `health_score` KPI (the mean score of the
//! customers active at each period's end, with the share in each band) and the
//! per-customer scores behind it ([`customer_health`]).
//!
//! Only events before an instant count. With the instants E_0 < E_1 < ... sorted,
//! `cx_grid_le(t)` is the number of instants at or before t, so an event at t is
//! before E_k exactly when `cx_grid_le(t) <= k`. Each source is reduced to the latest
//! event per (customer, grid cell) (activity and orders streamed into a customers x
//! cells table, answers by DataFusion), and a running maximum over the cells gives
//! the latest event before every instant in one pass per customer:
//! - `activity` (kind `usage`): the latest occurrence;
//! - `orders`: the latest order;
//! - `responses` (`nps`, `csat`): the latest answer, NPS winning a tie;
//! - `tickets`: the first creation (the support component exists from then on), and
//!   per ticket open at some instant and older than 72 hours there, the range of
//!   instants where it is: `[cx_grid_le(created + 72 h), cx_grid_le(resolved))`.
//!
//! The core's [`cxkpi_core::health`] turns the facts into the score.

use std::collections::BTreeMap;

use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::health::{Health, HealthBand, HealthFacts, health, satisfaction};
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::DAY_MICROS;
use cxkpi_core::period::Period;
use cxkpi_core::stats::Moments;
use cxkpi_store::Snapshot;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::{SessionContext, cast, coalesce};

use crate::previous::PreviousRow;
use crate::results::Columns;
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 1] = ["health_score"];

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
    let kpi = kpis[0];
    let ends: Vec<i64> = periods.iter().map(|p| p.end.as_microsecond()).collect();
    let gathered = gather(ctx, snapshot, kpi, config, request, &ends).await?;
    // (period, segment) -> score moments and band counts.
    let mut acc: BTreeMap<(usize, String), (Moments, [u64; 3])> = BTreeMap::new();
    gathered.for_each(&ends, config, |k, customer, _, health| {
        let Some(h) = health else { return };
        let entry = acc.entry((k, customer.segment.clone())).or_default();
        entry.0.update(h.score);
        entry.1[h.band as usize] += 1;
    });
    for ((k, segment), (moments, bands)) in acc {
        let n = moments.n as f64;
        results.entry((k, segment)).or_default().push((
            kpi,
            Estimate::Mean {
                mean: Some(moments.mean),
                sd: moments.sd(),
                n: moments.n,
            },
            vec![
                (
                    "green_share",
                    100.0 * bands[HealthBand::Green as usize] as f64 / n,
                ),
                (
                    "yellow_share",
                    100.0 * bands[HealthBand::Yellow as usize] as f64 / n,
                ),
                (
                    "red_share",
                    100.0 * bands[HealthBand::Red as usize] as f64 / n,
                ),
            ],
        ));
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
    let gathered = gather(&ctx, snapshot, kpi, config, request, &ends).await?;
    let mut out = Vec::new();
    gathered.for_each(&ends, config, |_, customer, facts, health| {
        out.push(CustomerHealth {
            customer_id: customer.id.clone(),
            segment: customer.segment.clone(),
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

struct Customer {
    id: String,
    segment: String,
    acquired: i64,
    churned: Option<i64>,
}

/// The latest answer in a grid cell: (time, NPS?, score on 0..100).
type Answer = (i64, bool, f64);

#[derive(Default)]
struct Gathered {
    customers: Vec<Customer>,
    /// Grid cells per customer in `activity` and `purchases`.
    cells: usize,
    /// The latest usage event and order per (customer, cell): `cells` slots per
    /// customer, `i64::MIN` where there is none.
    activity: Vec<i64>,
    purchases: Vec<i64>,
    /// (customer, cell, latest answer), sorted by customer and cell.
    answers: Vec<(u32, u32, Answer)>,
    /// Per customer, the grid index of the first ticket's creation (none: `u32::MAX`).
    first_ticket: Vec<u32>,
    /// (customer, from, to): a ticket open and older than 72 hours at instants
    /// `from..to`.
    old_open: Vec<(u32, u32, u32)>,
}

impl Gathered {
    /// Calls `f(k, customer, facts, health)` for every instant k and every customer
    /// active at it.
    fn for_each(
        &self,
        ends: &[i64],
        config: &Config,
        mut f: impl FnMut(usize, &Customer, &HealthFacts, Option<&Health>),
    ) {
        let (mut s, mut o) = (0, 0);
        for (c, customer) in self.customers.iter().enumerate() {
            let cells = c * self.cells..(c + 1) * self.cells;
            let (activity, purchases) = (&self.activity[cells.clone()], &self.purchases[cells]);
            let c = c as u32;
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
                    old_open_tickets: (self.first_ticket[c as usize] <= k32).then(|| {
                        old_open
                            .iter()
                            .filter(|(_, from, to)| (*from..*to).contains(&k32))
                            .count() as u32
                    }),
                    days_since_purchase: last_purchase.map(days),
                };
                let h = health(&facts, &config.health);
                f(k, customer, &facts, h.as_ref());
            }
        }
    }
}

/// Reads the customers and the facts of every source, as of the sorted `ends`.
async fn gather(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    config: &Config,
    request: &Request,
    ends: &[i64],
) -> Result<Gathered> {
    let mut g = Gathered::default();
    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Customers, request).await?;
    let frame = frame.select(vec![
        ident("customer_id"),
        segment.unwrap_or(lit("")).alias("segment"),
        cast(ident("acquired_at"), arrow::datatypes::DataType::Int64).alias("acquired"),
        cast(ident("churned_at"), arrow::datatypes::DataType::Int64).alias("churned"),
    ])?;
    let mut index: hashbrown::HashMap<String, u32> = hashbrown::HashMap::new();
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            let id = c.text("customer_id", row);
            index.insert(id.clone(), g.customers.len() as u32);
            g.customers.push(Customer {
                id,
                segment: c.text("segment", row),
                acquired: c.opt_i64("acquired", row).unwrap_or(i64::MAX),
                churned: c.opt_i64("churned", row),
            });
        }
    }
    let n_ends = ends.len() as i32;
    let grid = bucket::grid_at_or_before(ends.to_vec());
    let cell = |time: &str| grid.call(vec![ident(time)]);
    let micros = |time: &str| cast(ident(time), arrow::datatypes::DataType::Int64);

    // Latest event per (customer, grid cell) of activity and orders: the rows stream
    // through a table of customers x cells here (a DataFusion group by the string id
    // took twice as long), keyed by the customer index found with the borrowed id.
    let cells = ends.len();
    g.cells = cells;
    for (entity, time, out) in [
        (Entity::Activity, "occurred_at", &mut g.activity),
        (Entity::Orders, "ordered_at", &mut g.purchases),
    ] {
        use arrow::array::AsArray;
        use futures::StreamExt;
        let mut frame = ctx.table(entity.name()).await?;
        if entity == Entity::Activity {
            frame = frame.filter(ident("kind").eq(lit("usage")))?;
        }
        let mut stream = frame
            .select(vec![
                cast(ident("customer_id"), arrow::datatypes::DataType::Utf8).alias("customer_id"),
                cell(time).alias("cell"),
                micros(time).alias("t"),
            ])?
            .filter(ident("cell").lt(lit(n_ends)))?
            .execute_stream()
            .await?;
        let latest = out;
        *latest = vec![i64::MIN; g.customers.len() * cells];
        let mut previous = PreviousRow::default();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let ids = batch.column(0).as_string::<i32>();
            let cell = batch
                .column(1)
                .as_primitive::<arrow::datatypes::Int32Type>();
            let t = batch
                .column(2)
                .as_primitive::<arrow::datatypes::Int64Type>();
            for row in 0..batch.num_rows() {
                if let Some(i) = previous.find(ids.value(row), |id| index.get(id).copied()) {
                    let slot = &mut latest[i as usize * cells + cell.value(row) as usize];
                    *slot = (*slot).max(t.value(row));
                }
            }
        }
    }

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
        .filter(ident("survey").in_list(vec![lit("nps"), lit("csat")], false))?
        .select(vec![
            ident("customer_id"),
            cell("responded_at").alias("cell"),
            (micros("responded_at") * lit(512i64) + low).alias("key"),
        ])?
        .filter(ident("cell").lt(lit(n_ends)))?
        .aggregate(
            vec![ident("customer_id"), ident("cell")],
            vec![max(ident("key")).alias("key")],
        )?;
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            if let Some(&i) = index.get(&c.text("customer_id", row)) {
                let key = c.opt_i64("key", row).expect("max of a required column");
                let (t, low) = (key.div_euclid(512), key.rem_euclid(512));
                let nps = low >= 256;
                let answer = if nps {
                    (t, true, satisfaction(true, low - 256, 0, 10))
                } else {
                    (
                        t,
                        false,
                        satisfaction(false, low + csat_min, csat_min, csat_max),
                    )
                };
                g.answers.push((i, c.i32("cell", row) as u32, answer));
            }
        }
    }
    g.answers.sort_unstable_by_key(|(c, cell, _)| (*c, *cell));

    // Tickets: the first creation per customer, and old open tickets.
    g.first_ticket = vec![u32::MAX; g.customers.len()];
    let frame = ctx
        .table(Entity::Tickets.name())
        .await?
        .aggregate(
            vec![ident("customer_id")],
            vec![min(ident("created_at")).alias("first")],
        )?
        .select(vec![ident("customer_id"), cell("first").alias("cell")])?
        .filter(ident("cell").lt(lit(n_ends)))?;
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            if let Some(&i) = index.get(&c.text("customer_id", row)) {
                g.first_ticket[i as usize] = c.i32("cell", row) as u32;
            }
        }
    }
    let old =
        ident("created_at") + lit(ScalarValue::new_interval_mdn(0, 0, 72 * 3_600_000_000_000));
    let frame = ctx
        .table(Entity::Tickets.name())
        .await?
        .select(vec![
            ident("customer_id"),
            grid.call(vec![old]).alias("from"),
            coalesce(vec![cell("resolved_at"), lit(n_ends)]).alias("to"),
        ])?
        .filter(ident("from").lt(ident("to")))?;
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            if let Some(&i) = index.get(&c.text("customer_id", row)) {
                g.old_open
                    .push((i, c.i32("from", row) as u32, c.i32("to", row) as u32));
            }
        }
    }
    g.old_open.sort_unstable();
    Ok(g)
}
