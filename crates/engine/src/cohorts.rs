//! The inputs of cohort retention ([`cxkpi_core::cohort`]): the customers with their
//! segment, and their orders or subscription intervals by customer index. Orders and
//! intervals find their customer through a hash map of the customers' ids: one pass
//! each, no join. And those of MRR movements ([`cxkpi_core::movements`]): the
//! subscription intervals, segmented and filtered as `mrr` is.

use std::collections::HashMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use cxkpi_core::cohort::Member;
use cxkpi_core::entity::Entity;
use cxkpi_store::Snapshot;
use datafusion::logical_expr::ident;
use datafusion::prelude::cast;

use crate::previous::Segments;
use crate::{Request, Result, prepare};

/// The customers of a cohort analysis and what they ordered or subscribed to.
#[derive(Debug, Default)]
pub struct CohortInputs {
    /// The segment names, by index (one "" without `by`).
    pub segments: Vec<String>,
    /// The customers, segmented and filtered as the request says.
    pub members: Vec<Member>,
    /// Orders: (member, ordered_at, amount), when asked for.
    pub orders: Vec<(u32, i64, f64)>,
    /// Subscription intervals: (member, started_at, ended_at, mrr), when asked for.
    pub subscriptions: Vec<(u32, i64, Option<i64>, f64)>,
}

/// Reads the customers (segmented by a customer dimension and filtered as `request`
/// says), and their orders (`orders`) or subscription intervals (`subscriptions`).
pub async fn cohort_inputs(
    snapshot: &Snapshot,
    request: &Request,
    orders: bool,
    subscriptions: bool,
) -> Result<CohortInputs> {
    let ctx = snapshot.context()?;
    let kpi = cxkpi_core::kpi::lookup("customers_new").expect("in the catalogue");
    let (frame, segment) = prepare(&ctx, snapshot, kpi, Entity::Customers, request).await?;
    let frame = frame.select(vec![
        cast(crate::segment::or_whole(segment), DataType::Utf8View).alias("segment"),
        cast(ident("customer_id"), DataType::Utf8View).alias("id"),
        cast(ident("acquired_at"), DataType::Int64).alias("won"),
        cast(ident("churned_at"), DataType::Int64).alias("lost"),
    ])?;
    let mut segments = Segments::default();
    let mut inputs = CohortInputs::default();
    let mut index: HashMap<String, u32> = HashMap::new();
    for batch in frame.collect().await? {
        let segment = batch.column(0).as_string_view();
        let id = batch.column(1).as_string_view();
        let won = batch.column(2).as_primitive::<Int64Type>();
        let lost = batch.column(3).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            let (s, _) = segments.number(segment, row);
            if orders || subscriptions {
                index.insert(id.value(row).to_string(), inputs.members.len() as u32);
            }
            inputs.members.push(Member {
                segment: s,
                acquired: won.value(row),
                churned: lost.is_valid(row).then(|| lost.value(row)),
            });
        }
    }
    inputs.segments = segments.names;
    if inputs.segments.is_empty() {
        inputs.segments.push(String::new());
    }
    if orders {
        let columns = [
            ("ordered_at", DataType::Int64),
            ("amount", DataType::Float64),
        ];
        for (batch, rows) in rows_of_members(&ctx, Entity::Orders, &columns, &index).await? {
            let at = batch.column(1).as_primitive::<Int64Type>();
            let amount = batch.column(2).as_primitive::<Float64Type>();
            for (row, m) in rows {
                if amount.is_valid(row) {
                    inputs.orders.push((m, at.value(row), amount.value(row)));
                }
            }
        }
    }
    if subscriptions {
        let columns = [
            ("started_at", DataType::Int64),
            ("ended_at", DataType::Int64),
            ("mrr", DataType::Float64),
        ];
        for (batch, rows) in rows_of_members(&ctx, Entity::Subscriptions, &columns, &index).await? {
            let started = batch.column(1).as_primitive::<Int64Type>();
            let ended = batch.column(2).as_primitive::<Int64Type>();
            let mrr = batch.column(3).as_primitive::<Float64Type>();
            for (row, m) in rows {
                if mrr.is_valid(row) {
                    let end = ended.is_valid(row).then(|| ended.value(row));
                    inputs
                        .subscriptions
                        .push((m, started.value(row), end, mrr.value(row)));
                }
            }
        }
    }
    Ok(inputs)
}

/// The batches of `customer_id` and `columns` of `entity` (each cast to its type),
/// each with its rows whose customer `index` numbers, and that number.
async fn rows_of_members(
    ctx: &datafusion::prelude::SessionContext,
    entity: Entity,
    columns: &[(&str, DataType)],
    index: &HashMap<String, u32>,
) -> Result<Vec<(arrow::array::RecordBatch, Vec<(usize, u32)>)>> {
    let mut selected = vec![cast(ident("customer_id"), DataType::Utf8View)];
    for (name, ty) in columns {
        selected.push(cast(ident(*name), ty.clone()));
    }
    let frame = ctx.table(entity.name()).await?.select(selected)?;
    let mut out = Vec::new();
    for batch in frame.collect().await? {
        let id = batch.column(0).as_string_view();
        let rows = (0..batch.num_rows())
            .filter(|row| id.is_valid(*row))
            .filter_map(|row| index.get(id.value(row)).map(|m| (row, *m)))
            .collect();
        out.push((batch, rows));
    }
    Ok(out)
}

/// The subscription intervals as MRR movements read them, segmented and filtered as
/// the `mrr` KPI is: the segment names (one "" without `by`) and the intervals with
/// their customer (numbered here) and segment.
pub async fn subscription_intervals(
    snapshot: &Snapshot,
    request: &Request,
) -> Result<(Vec<String>, Vec<cxkpi_core::movements::Interval>)> {
    let ctx = snapshot.context()?;
    let kpi = cxkpi_core::kpi::lookup("mrr").expect("in the catalogue");
    let (frame, segment) = prepare(&ctx, snapshot, kpi, Entity::Subscriptions, request).await?;
    let frame = frame.select(vec![
        cast(crate::segment::or_whole(segment), DataType::Utf8View).alias("segment"),
        cast(ident("customer_id"), DataType::Utf8View),
        cast(ident("started_at"), DataType::Int64),
        cast(ident("ended_at"), DataType::Int64),
        cast(ident("mrr"), DataType::Float64),
    ])?;
    let mut segments = Segments::default();
    let mut customers: HashMap<String, u32> = HashMap::new();
    let mut intervals = Vec::new();
    for batch in frame.collect().await? {
        let segment = batch.column(0).as_string_view();
        let id = batch.column(1).as_string_view();
        let started = batch.column(2).as_primitive::<Int64Type>();
        let ended = batch.column(3).as_primitive::<Int64Type>();
        let mrr = batch.column(4).as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            let (s, _) = segments.number(segment, row);
            let next = customers.len() as u32;
            let customer = *customers.entry(id.value(row).to_string()).or_insert(next);
            intervals.push((
                customer,
                s,
                started.value(row),
                ended.is_valid(row).then(|| ended.value(row)),
                if mrr.is_valid(row) {
                    mrr.value(row)
                } else {
                    0.0
                },
            ));
        }
    }
    let mut names = segments.names;
    if names.is_empty() {
        names.push(String::new());
    }
    Ok((names, intervals))
}
