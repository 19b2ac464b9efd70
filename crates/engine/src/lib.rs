//! The cxkpi KPI engine: KPI values by period and segment over a store snapshot.
//!
//! Aggregation happens in DataFusion: each KPI family scans its entity once for all
//! requested periods (a `cx_period(ts)` function maps instants to period indexes) and
//! segments, grouping down to sufficient statistics (counts per score, sums, ...). The
//! core then turns those into [`Estimate`]s, which give the value, n, the interval and
//! the test of change, and Benjamini-Hochberg decides significance across segments.
//!
//! Families, one module each: `satisfaction` (`nps`, `csat`, `ces`, `ppr`),
//! `sentiment` (VADER over comments), `support` (tickets, with business hours),
//! `orders`, `sessions`, `customers` (the customer base, lifetimes, referrals),
//! `subscriptions` (MRR and revenue retention), `acquisition` (spend) and `health`
//! (the health score, also per customer: [`customer_health`], and the activity rates,
//! which share its scan of activity).
#![deny(missing_docs)]

mod acquisition;
mod bucket;
mod business;
mod churn;
mod cohorts;
mod customers;
mod drivers;
mod health;
mod lookup;
mod orders;
mod previous;
mod results;
mod satisfaction;
mod seen;
mod segment;
mod sentiment;
mod sessions;
mod subscriptions;
mod support;

use std::collections::BTreeMap;

use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::filter::Filter;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_core::stats;
use cxkpi_store::Snapshot;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{Expr, ident};
use datafusion::prelude::SessionContext;

pub use churn::{Attributes, CHURN_NUMERIC, ChurnCase, churn_cases, customer_attributes};
pub use cohorts::{CohortInputs, cohort_inputs, subscription_intervals};
pub use drivers::{DriverRow, PREDICTORS, nps_driver_table};
pub use health::{CustomerHealth, customer_health};
pub use segment::{NONE_SEGMENT, SEGMENT_SEPARATOR};
pub use sentiment::scored_comments;

/// What to compute.
#[derive(Debug, Clone)]
pub struct Request {
    /// The KPIs.
    pub kpis: Vec<&'static KpiDef>,
    /// The periods, sorted and disjoint.
    pub periods: Vec<Period>,
    /// Segment by these dimensions (none: one unsegmented row per period); with
    /// several, a segment is their values joined by [`SEGMENT_SEPARATOR`].
    pub by: Vec<String>,
    /// Keep only rows that pass every filter (`(none)` stands for missing values).
    pub filters: Vec<Filter>,
    /// Compare each period with the one before.
    pub compare: bool,
}

/// The change of a value against the previous period.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The previous period's value.
    pub previous: Option<f64>,
    /// This value minus the previous one.
    pub delta: Option<f64>,
    /// The p-value of the KPI's test, where it has one and the data support it.
    pub p_value: Option<f64>,
    /// Significant at 95% (after Benjamini-Hochberg across segments); `None` when
    /// there is no test.
    pub significant: Option<bool>,
    /// Why the KPI's test was not run (a sample under 30, a variance of 0).
    pub no_test: Option<String>,
}

/// One KPI value: a KPI in a period and segment.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiRow {
    /// The KPI.
    pub kpi: &'static KpiDef,
    /// The period.
    pub period: Period,
    /// The segment, when segmented: the dimension's value, or with several dimensions
    /// their values joined by [`SEGMENT_SEPARATOR`] (see [`KpiRow::segment_values`]).
    pub segment: Option<String>,
    /// The dimensions of the segment, in the order asked for (empty unsegmented).
    pub dimensions: Vec<String>,
    /// The value's statistical shape (value, n, interval).
    pub estimate: Estimate,
    /// Named parts of the value (promoters, mean, ...).
    pub components: Vec<(&'static str, f64)>,
    /// Why there is no value, when there is none.
    pub reason: Option<String>,
    /// The change against the previous period, when asked for.
    pub change: Option<Change>,
    /// The period runs past the end of the data (it holds only part of its time). The
    /// engine does not know where the data ends: the caller sets it.
    pub partial: bool,
}

impl KpiRow {
    /// The value.
    pub fn value(&self) -> Option<f64> {
        self.estimate.value()
    }

    /// The segment as (dimension, value) pairs.
    pub fn segment_values(&self) -> Vec<(&str, &str)> {
        match &self.segment {
            None => Vec::new(),
            Some(s) => self
                .dimensions
                .iter()
                .map(String::as_str)
                .zip(s.split(SEGMENT_SEPARATOR))
                .collect(),
        }
    }

    /// The segment for people: the value, or the values joined by ` / `.
    pub fn segment_label(&self) -> Option<String> {
        self.segment
            .as_ref()
            .map(|s| s.replace(SEGMENT_SEPARATOR, " / "))
    }
}

/// What can go wrong computing KPIs.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A dimension the KPI cannot be segmented or filtered by.
    #[error("`{kpi}` cannot be segmented by `{given}`; it can be by: {}", valid.join(", "))]
    UnknownDimension {
        /// The KPI.
        kpi: &'static str,
        /// The dimension asked for.
        given: String,
        /// The dimensions it can be segmented by.
        valid: Vec<String>,
    },
    /// A filter that does not fit its column (an ordering of text, a word for a number).
    #[error("{0}")]
    Filter(String),
    /// A configuration the computation cannot work with.
    #[error("configuration: {0}")]
    Config(String),
    /// Periods that overlap or are not in order.
    #[error("periods must be sorted and must not overlap")]
    Periods,
    /// The store or the query engine failed.
    #[error(transparent)]
    Store(#[from] cxkpi_store::StoreError),
    /// The query engine failed.
    #[error("query engine: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),
    /// Arrow failed reading a result.
    #[error("query result: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// Checks that `kpi` can be segmented and filtered by `dimension` in this snapshot;
/// the error names the dimensions it can be segmented by.
pub fn check_dimension(kpi: &'static KpiDef, dimension: &str, snapshot: &Snapshot) -> Result<()> {
    use cxkpi_core::kpi::Segmentation;
    match kpi.segmentation {
        Segmentation::Spend => {
            if matches!(dimension, "acquisition_channel" | "campaign") {
                Ok(())
            } else {
                Err(EngineError::UnknownDimension {
                    kpi: kpi.id,
                    given: dimension.to_string(),
                    valid: vec!["acquisition_channel".into(), "campaign".into()],
                })
            }
        }
        Segmentation::Entity(entity) => {
            segment::resolve(kpi, entity, dimension, snapshot).map(|_| ())
        }
        Segmentation::Customer => {
            segment::resolve(kpi, Entity::Customers, dimension, snapshot).map(|_| ())
        }
    }
}

/// The values a text or boolean dimension of `kpi` takes in the store (`(none)` for
/// missing ones), sorted; `None` for a dimension read another way (spend's, or a
/// number or time column).
pub async fn dimension_values(
    snapshot: &Snapshot,
    kpi: &'static KpiDef,
    dimension: &str,
) -> Result<Option<Vec<String>>> {
    use arrow::array::{Array, AsArray};
    use cxkpi_core::kpi::Segmentation;
    let entity = match kpi.segmentation {
        Segmentation::Spend => return Ok(None),
        Segmentation::Entity(entity) => entity,
        Segmentation::Customer => Entity::Customers,
    };
    let (table, column) = match segment::resolve(kpi, entity, dimension, snapshot) {
        Ok(segment::Source::Own(c)) => (entity, c),
        Ok(segment::Source::Customer(c)) => (Entity::Customers, c),
        Err(_) => return Ok(None),
    };
    let frame = snapshot
        .context()?
        .table(table.name())
        .await?
        .select(vec![segment::segment_expr(ident(&column)).alias("value")])?
        .distinct()?;
    let mut values = Vec::new();
    for batch in frame.collect().await? {
        let column = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
        let column = column.as_string::<i32>();
        values.extend(
            (0..column.len())
                .filter(|i| column.is_valid(*i))
                .map(|i| column.value(i).to_string()),
        );
    }
    values.sort();
    Ok(Some(values))
}

/// Checks a filter for `kpi`: its column, and its values against the column's type.
pub fn check_filter(kpi: &'static KpiDef, filter: &Filter, snapshot: &Snapshot) -> Result<()> {
    use cxkpi_core::kpi::Segmentation;
    let entity = match kpi.segmentation {
        Segmentation::Spend => {
            check_dimension(kpi, &filter.dimension, snapshot)?;
            return segment::check_spend_filter(filter);
        }
        Segmentation::Entity(entity) => entity,
        Segmentation::Customer => Entity::Customers,
    };
    let (column, filter) = segment::resolve_filter(kpi, entity, filter, snapshot)?;
    if let segment::FilterColumn::Typed(name, ty) = column {
        segment::typed_condition(&name, ty, &filter)?;
    }
    Ok(())
}

/// Every customer's (acquired_at, churned_at) in microseconds since the epoch, by
/// segment (`request.by`, a customer dimension; one segment "" without it), filtered
/// by `request.filters`: the durations behind survival curves.
pub async fn customer_lives(
    snapshot: &Snapshot,
    request: &Request,
) -> Result<BTreeMap<String, Vec<(i64, Option<i64>)>>> {
    let ctx = snapshot.context()?;
    let kpi = cxkpi_core::kpi::lookup("median_lifetime").expect("in the catalogue");
    customers::lives(&ctx, snapshot, kpi, request).await
}

/// Every ordering customer's purchases by local day (days since 1970-01-01 in the
/// workspace time zone) with the day's total amount, sorted by day, customers sorted
/// by id: the histories behind predictive CLV. DataFusion maps orders to local days;
/// the grouping by customer happens here, customers numbered by their borrowed ids
/// (a DataFusion group by the string id and day took longer, and orders rarely share
/// a customer's day).
pub async fn purchase_days(
    snapshot: &Snapshot,
    config: &Config,
) -> Result<Vec<(String, Vec<(i32, f64)>)>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Float64Type, Int32Type};
    use datafusion::prelude::cast;

    let ctx = snapshot.context()?;
    let day = bucket::local_day(&config.time_zone);
    let batches = ctx
        .table(Entity::Orders.name())
        .await?
        .select(vec![
            cast(ident("customer_id"), DataType::Utf8View).alias("customer_id"),
            day.call(vec![ident("ordered_at")]).alias("day"),
            cast(ident("amount"), DataType::Float64).alias("amount"),
        ])?
        .collect()
        .await?;
    // Customers in the order first seen (see `previous::Dense`).
    let mut customers: Vec<(&str, Vec<(i32, f64)>)> = Vec::new();
    let mut ids = previous::Dense::new();
    for batch in &batches {
        let customer = batch.column(0).as_string_view();
        let day = batch.column(1).as_primitive::<Int32Type>();
        let amount = batch.column(2).as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            let value = if amount.is_null(row) {
                0.0
            } else {
                amount.value(row)
            };
            let id = customer.value(row);
            let (at, new) = ids.index(id);
            if new {
                customers.push((id, Vec::new()));
            }
            customers[at].1.push((day.value(row), value));
        }
    }
    let mut out: Vec<(String, Vec<(i32, f64)>)> = customers
        .into_iter()
        .map(|(id, orders)| (id.to_string(), cxkpi_core::clv::merge_days(orders)))
        .collect();
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The tables and columns whose latest instant is the end of the data.
const END_COLUMNS: [(Entity, &str); 6] = [
    (Entity::Orders, "ordered_at"),
    (Entity::Responses, "responded_at"),
    (Entity::Tickets, "created_at"),
    (Entity::Sessions, "started_at"),
    (Entity::Activity, "occurred_at"),
    (Entity::Customers, "acquired_at"),
];

/// The latest event instant in the store (orders, responses, tickets, sessions,
/// activity, customers won), to choose default periods: `None` for an empty store.
pub async fn data_end(snapshot: &Snapshot) -> Result<Option<jiff::Timestamp>> {
    use datafusion::functions_aggregate::expr_fn::max;
    let ctx = snapshot.context()?;
    let mut latest: Option<i64> = None;
    for (entity, column) in END_COLUMNS {
        let frame = ctx
            .table(entity.name())
            .await?
            .aggregate(vec![], vec![max(ident(column)).alias("latest")])?;
        for batch in frame.collect().await? {
            let column = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Int64)?;
            let column = column
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .expect("Int64");
            if let Some(t) = column.iter().flatten().max() {
                latest = Some(latest.map_or(t, |l| l.max(t)));
            }
        }
    }
    Ok(latest.and_then(|t| jiff::Timestamp::from_microsecond(t).ok()))
}

/// Where each source's data begins and ends, and where the data as a whole ends: a
/// period outside a KPI's sources has no value, one they cover in part is partial.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataSpan {
    /// The latest event instant in the store (as [`data_end`] finds it).
    pub end: Option<jiff::Timestamp>,
    /// Per table with rows: its first and last instant (`acquired_at` for customers,
    /// `started_at` for subscriptions, the first and last day covered for spend, taken
    /// at the start of the day in the workspace time zone).
    pub sources: Vec<(Entity, jiff::Timestamp, jiff::Timestamp)>,
}

impl DataSpan {
    /// The first and last instant of `entity`'s rows, when it has any.
    pub fn source(&self, entity: Entity) -> Option<(jiff::Timestamp, jiff::Timestamp)> {
        self.sources
            .iter()
            .find(|(e, _, _)| *e == entity)
            .map(|(_, first, last)| (*first, *last))
    }
}

/// The [`DataSpan`] of `snapshot`; spend's dates are read in `tz`.
pub async fn data_span(snapshot: &Snapshot, tz: &jiff::tz::TimeZone) -> Result<DataSpan> {
    use arrow::array::{Array, ArrayRef, AsArray};
    use arrow::datatypes::{DataType, Date32Type, Int64Type};
    use datafusion::functions_aggregate::expr_fn::{max, min};
    let ctx = snapshot.context()?;
    // The instant of an aggregate's one value: a timestamp, or a date's local midnight.
    let instant = |column: &ArrayRef| -> Result<Option<jiff::Timestamp>> {
        if column.is_null(0) {
            return Ok(None);
        }
        if column.data_type() == &DataType::Date32 {
            let days = column.as_primitive::<Date32Type>().value(0);
            let date = jiff::civil::date(1970, 1, 1)
                .checked_add(jiff::Span::new().days(i64::from(days)))
                .ok();
            return Ok(date
                .and_then(|d| d.to_zoned(tz.clone()).ok())
                .map(|z| z.timestamp()));
        }
        let micros = arrow::compute::cast(column, &DataType::Int64)?;
        Ok(jiff::Timestamp::from_microsecond(micros.as_primitive::<Int64Type>().value(0)).ok())
    };
    let mut sources = Vec::new();
    for (entity, first, last) in [
        (Entity::Customers, "acquired_at", "acquired_at"),
        (Entity::Orders, "ordered_at", "ordered_at"),
        (Entity::Subscriptions, "started_at", "started_at"),
        (Entity::Responses, "responded_at", "responded_at"),
        (Entity::Tickets, "created_at", "created_at"),
        (Entity::Spend, "period_start", "period_end"),
        (Entity::Sessions, "started_at", "started_at"),
        (Entity::Referrals, "referred_at", "referred_at"),
        (Entity::Activity, "occurred_at", "occurred_at"),
    ] {
        if snapshot.table(entity).rows == 0 {
            continue;
        }
        let frame = ctx.table(entity.name()).await?.aggregate(
            vec![],
            vec![
                min(ident(first)).alias("first"),
                max(ident(last)).alias("last"),
            ],
        )?;
        for batch in frame.collect().await? {
            if batch.num_rows() == 0 {
                continue;
            }
            if let (Some(first), Some(last)) =
                (instant(batch.column(0))?, instant(batch.column(1))?)
            {
                sources.push((entity, first, last));
            }
        }
    }
    // The sources' last rows hold every column of `data_end`: no second scan.
    let end = sources
        .iter()
        .filter(|(e, _, _)| END_COLUMNS.iter().any(|(end, _)| end == e))
        .map(|(_, _, last)| *last)
        .max();
    Ok(DataSpan { end, sources })
}

/// The engine's result type.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// A family's per-(period, segment) results, before changes are attached.
pub(crate) type FamilyResult = BTreeMap<(usize, String), Vec<Computed>>;

/// A family's value of one KPI in one (period, segment).
#[derive(Debug, Clone)]
pub(crate) struct Computed {
    kpi: &'static KpiDef,
    estimate: Estimate,
    components: Vec<(&'static str, f64)>,
    /// Why there is no value, when the family knows more than that there is no data
    /// (which column is empty, which curve never fell to one half).
    reason: Option<String>,
}

impl Computed {
    /// With the reason for having no value, if the family knows one (kept only when
    /// there is no value).
    pub(crate) fn because(mut self, reason: Option<String>) -> Computed {
        if self.estimate.value().is_none() {
            self.reason = reason;
        }
        self
    }
}

impl From<(&'static KpiDef, Estimate, Vec<(&'static str, f64)>)> for Computed {
    fn from(
        (kpi, estimate, components): (&'static KpiDef, Estimate, Vec<(&'static str, f64)>),
    ) -> Computed {
        Computed {
            kpi,
            estimate,
            components,
            reason: None,
        }
    }
}

/// A KPI family's computation, run as a task of its own.
type Family = std::pin::Pin<Box<dyn Future<Output = Result<FamilyResult>> + Send + 'static>>;

/// The results of the families' tasks as they finish, two running at a time. Boxed
/// as a `dyn Stream`: holding the concrete combinator type across an await made the
/// compiler fail to prove `compute`'s future `Send` for a caller that needs it (an axum
/// handler: "FnOnce is not general enough", rust-lang/rust#110338).
type Running = std::pin::Pin<
    Box<dyn futures::Stream<Item = std::result::Result<Result<FamilyResult>, String>> + Send>,
>;

fn run_families(families: Vec<Family>) -> Running {
    use futures::StreamExt;
    Box::pin(
        futures::stream::iter(families)
            .map(|family| async move {
                datafusion::common::runtime::SpawnedTask::spawn(family)
                    .join_unwind()
                    .await
                    .map_err(|e| e.to_string())
            })
            .buffer_unordered(2),
    )
}

/// The periods to aggregate: the requested ones, and with `compare` the one before the
/// first (the others' previous periods are requested periods already when the periods
/// are contiguous, which grain periods are).
fn bucket_periods(request: &Request, config: &Config) -> Result<Vec<Period>> {
    let mut all = Vec::new();
    if request.compare {
        for p in &request.periods {
            let previous = p.previous(&config.time_zone);
            let known =
                |q: &Period| (q.first_day, q.end_day) == (previous.first_day, previous.end_day);
            if !request.periods.iter().any(known) && !all.iter().any(known) {
                all.push(previous);
            }
        }
    }
    all.extend(request.periods.iter().cloned());
    all.sort_by_key(|p| p.start);
    if all.windows(2).any(|w| w[0].end > w[1].start) {
        return Err(EngineError::Periods);
    }
    Ok(all)
}

/// The entity's table, filtered, with the segment expression; customer columns that
/// `by` and the filters need are found through [`lookup`].
pub(crate) async fn prepare(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    kpi: &KpiDef,
    entity: Entity,
    request: &Request,
) -> Result<(DataFrame, Option<Expr>)> {
    let by = request
        .by
        .iter()
        .map(|d| segment::resolve(kpi, entity, d, snapshot))
        .collect::<Result<Vec<_>, _>>()?;
    let filters = request
        .filters
        .iter()
        .map(|f| segment::resolve_filter(kpi, entity, f, snapshot))
        .collect::<Result<Vec<_>>>()?;
    let mut customer_columns: Vec<String> = Vec::new();
    let segment_sources = filters.iter().filter_map(|(c, _)| match c {
        segment::FilterColumn::Segment(source) => Some(source),
        segment::FilterColumn::Typed(..) => None,
    });
    for source in by.iter().chain(segment_sources) {
        if let segment::Source::Customer(c) = source
            && !customer_columns.contains(c)
        {
            customer_columns.push(c.clone());
        }
    }
    // The customer columns, by function of the entity's reference (`lookup`).
    let mut customer_exprs = Vec::new();
    if !customer_columns.is_empty() {
        let reference = segment::customer_reference(entity).expect("resolve checked the reference");
        for udf in lookup::customer_columns(ctx, &customer_columns).await? {
            customer_exprs.push(udf.call(vec![ident(reference)]));
        }
    }
    let column_expr = |source: &segment::Source| match source {
        segment::Source::Own(c) => ident(c),
        segment::Source::Customer(c) => {
            let i = customer_columns.iter().position(|x| x == c);
            customer_exprs[i.expect("listed above")].clone()
        }
    };
    let mut frame = ctx.table(entity.name()).await?;
    for (column, filter) in &filters {
        let condition = match column {
            segment::FilterColumn::Segment(source) => {
                segment::text_condition(segment::segment_expr(column_expr(source)), filter)
            }
            segment::FilterColumn::Typed(name, ty) => segment::typed_condition(name, *ty, filter)?,
        };
        frame = frame.filter(condition)?;
    }
    let segment = segment::combined(
        by.iter()
            .map(|s| segment::segment_expr(column_expr(s)))
            .collect(),
    );
    Ok((frame, segment))
}

/// Computes the requested KPIs.
pub async fn compute(
    snapshot: &Snapshot,
    config: &Config,
    request: &Request,
) -> Result<Vec<KpiRow>> {
    let periods = bucket_periods(request, config)?;
    let ctx = snapshot.context()?;
    let family = |ids: &[&str]| -> Vec<&'static KpiDef> {
        request
            .kpis
            .iter()
            .copied()
            .filter(|k| ids.contains(&k.id))
            .collect()
    };
    // Each family scans its entity once for all its requested KPIs, as a task of its
    // own with two at a time, in this list's order (the longest first): a family's
    // Rust pass over its rows runs on one core while DataFusion decodes on the other,
    // so one family at a time kept 1.3 of the 2 cores busy. Families compute disjoint
    // KPIs, so their results merge in any order.
    let mut families: Vec<Family> = Vec::new();
    macro_rules! family {
        ($($family:ident),*) => {$(
            let kpis = family(&$family::KPIS);
            if !kpis.is_empty() {
                let (ctx, snapshot, config) = (ctx.clone(), snapshot.clone(), config.clone());
                let (request, periods) = (request.clone(), periods.clone());
                families.push(Box::pin(async move {
                    let mut results = FamilyResult::new();
                    $family::compute(&ctx, &snapshot, &config, &request, &periods, &kpis, &mut results)
                        .await?;
                    Ok(results)
                }));
            }
        )*};
    }
    family!(health);
    // The customer base and acquisition economics, one task: they share the customer
    // base, lifetime and revenue inputs, read once.
    let (base_kpis, spend_kpis) = (family(&customers::KPIS), family(&acquisition::KPIS));
    if !base_kpis.is_empty() || !spend_kpis.is_empty() {
        let (ctx, snapshot, config) = (ctx.clone(), snapshot.clone(), config.clone());
        let (request, periods) = (request.clone(), periods.clone());
        families.push(Box::pin(async move {
            acquisition::check_dimensions(&request, &spend_kpis)?;
            let both: Vec<_> = base_kpis.iter().chain(&spend_kpis).copied().collect();
            let inputs =
                customers::BaseInputs::read(&ctx, &snapshot, &config, &request, &periods, &both)
                    .await?;
            let mut results = FamilyResult::new();
            if !base_kpis.is_empty() {
                customers::compute(
                    &ctx,
                    &snapshot,
                    &request,
                    &periods,
                    &base_kpis,
                    &inputs,
                    &mut results,
                )
                .await?;
            }
            if !spend_kpis.is_empty() {
                acquisition::compute(
                    &ctx,
                    &snapshot,
                    &config,
                    &request,
                    &periods,
                    &spend_kpis,
                    &inputs,
                    &mut results,
                )
                .await?;
            }
            Ok(results)
        }));
    }
    family!(
        sessions,
        orders,
        support,
        subscriptions,
        satisfaction,
        sentiment
    );
    use futures::StreamExt;
    let mut running = run_families(families);
    let mut results: FamilyResult = BTreeMap::new();
    while let Some(joined) = running.next().await {
        let part = joined.map_err(|e| {
            datafusion::error::DataFusionError::Internal(format!("a KPI family's task: {e}"))
        })??;
        for (key, mut rows) in part {
            results.entry(key).or_default().append(&mut rows);
        }
    }
    // A KPI over a table with no rows at all has no value, rather than the zero its
    // formula gives (issue 17: active_rate 0.0% without activity rows).
    let empty: Vec<Entity> = Entity::ALL
        .into_iter()
        .filter(|e| snapshot.table(*e).rows == 0)
        .collect();
    Ok(assemble(
        request,
        &periods,
        results,
        &config.time_zone,
        &empty,
    ))
}

/// Turns family results into rows: every requested KPI for every requested period
/// and every segment seen (n = 0 where a segment has no data in a period), with
/// changes and Benjamini-Hochberg across the segments of a KPI in a period.
fn assemble(
    request: &Request,
    periods: &[Period],
    results: FamilyResult,
    tz: &jiff::tz::TimeZone,
    empty: &[Entity],
) -> Vec<KpiRow> {
    let index = |p: &Period| {
        periods
            .iter()
            .position(|q| (q.first_day, q.end_day) == (p.first_day, p.end_day))
    };
    let mut rows = Vec::new();
    for kpi in &request.kpis {
        let missing = kpi
            .required_sources()
            .iter()
            .find(|e| empty.contains(e))
            .copied();
        let lookup = |period: usize, segment: &str| -> Option<Computed> {
            if let Some(entity) = missing {
                let none = Estimate::Plain { value: None, n: 0 };
                return Some(
                    Computed::from((*kpi, none, Vec::new()))
                        .because(Some(format!("no {} rows in the store", entity.name()))),
                );
            }
            results
                .get(&(period, segment.to_string()))
                .and_then(|list| list.iter().find(|c| c.kpi.id == kpi.id).cloned())
        };
        let mut segments: Vec<String> = results
            .iter()
            .filter(|(_, list)| list.iter().any(|c| c.kpi.id == kpi.id))
            .map(|((_, s), _)| s.clone())
            .collect();
        segments.sort();
        segments.dedup();
        if request.by.is_empty() {
            segments = vec![String::new()];
        }
        for period in &request.periods {
            let p = index(period).expect("requested periods are bucketed");
            let first_row = rows.len();
            for segment in &segments {
                let empty = kpi_empty(kpi);
                let Computed {
                    estimate,
                    components,
                    reason: why,
                    ..
                } = lookup(p, segment).unwrap_or_else(|| (*kpi, empty, Vec::new()).into());
                let change = request.compare.then(|| {
                    let previous_period = period.previous(tz);
                    let previous = index(&previous_period)
                        .and_then(|q| lookup(q, segment))
                        .map(|c| c.estimate)
                        .unwrap_or(empty);
                    let test = estimate.test_change(&previous);
                    Change {
                        previous: previous.value(),
                        delta: estimate.value().zip(previous.value()).map(|(a, b)| a - b),
                        p_value: test.map(|t| t.p_value),
                        significant: None,
                        no_test: estimate.no_test_reason(&previous),
                    }
                });
                rows.push(KpiRow {
                    kpi,
                    period: period.clone(),
                    segment: (!request.by.is_empty()).then(|| segment.clone()),
                    dimensions: request.by.clone(),
                    reason: estimate
                        .value()
                        .is_none()
                        .then(|| why.unwrap_or_else(|| reason(&estimate))),
                    estimate,
                    components,
                    change,
                    partial: false,
                });
            }
            // Benjamini-Hochberg over this KPI's segments in this period.
            let p_values: Vec<Option<f64>> = rows[first_row..]
                .iter()
                .map(|r| r.change.as_ref().and_then(|c| c.p_value))
                .collect();
            let significant = stats::benjamini_hochberg(&p_values, 0.05);
            for (row, s) in rows[first_row..].iter_mut().zip(significant) {
                if let Some(change) = &mut row.change
                    && change.p_value.is_some()
                {
                    change.significant = Some(s);
                }
            }
        }
    }
    rows
}

/// The estimate of a KPI over no data: counts and sums are 0 (kpis.md), everything
/// else has no value.
fn kpi_empty(kpi: &KpiDef) -> Estimate {
    use cxkpi_core::kpi::{IntervalKind, Unit};
    if kpi.unit == Unit::Count || matches!(kpi.id, "revenue" | "mrr" | "arr") {
        return Estimate::Plain {
            value: Some(0.0),
            n: 0,
        };
    }
    match kpi.interval {
        IntervalKind::Wilson => Estimate::Proportion { x: 0, n: 0 },
        IntervalKind::Nps => Estimate::Net {
            positive: 0,
            negative: 0,
            n: 0,
        },
        IntervalKind::Mean => Estimate::Mean {
            mean: None,
            sd: None,
            n: 0,
        },
        IntervalKind::None => Estimate::Plain { value: None, n: 0 },
    }
}

fn reason(estimate: &Estimate) -> String {
    if estimate.n() == 0 {
        "no data in the period".into()
    } else {
        "no value: the denominator is empty".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `compute` runs each family on the requested KPIs of its list: every KPI of the
    /// catalogue must be in exactly one list, or it would be computed never or twice.
    #[test]
    fn every_kpi_belongs_to_exactly_one_family() {
        let families: [&[&str]; 9] = [
            &acquisition::KPIS,
            &health::KPIS,
            &sentiment::KPIS,
            &subscriptions::KPIS,
            &satisfaction::KPIS,
            &support::KPIS,
            &orders::KPIS,
            &sessions::KPIS,
            &customers::KPIS,
        ];
        for kpi in cxkpi_core::kpi::CATALOGUE {
            let homes = families.iter().filter(|f| f.contains(&kpi.id)).count();
            assert_eq!(homes, 1, "{} is in {homes} families", kpi.id);
        }
        let listed: usize = families.iter().map(|f| f.len()).sum();
        assert_eq!(listed, cxkpi_core::kpi::CATALOGUE.len());
    }
}
