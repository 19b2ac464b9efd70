//! Web and app visit KPIs: `conversion_rate` (distinct visitors) and `bounce_rate`
//! (sessions), by the period of `started_at`.
//!
//! Per (period, segment): distinct visitors, distinct visitors of converted sessions,
//! sessions and single-page sessions. A visitor thus counts once in every segment it
//! has sessions in, and as converted there when any of its sessions there converted.
//!
//! DataFusion filters the sessions and maps them to periods; the counting is one pass
//! here over the streamed rows: each row's (segment and period cell, visitor) goes to
//! a [`DistinctPairs`], which counts the distinct visitors of every cell and those
//! with a converted session, visitors keyed by their 16-byte view when inline (see
//! `previous`). DataFusion's `count_distinct` hashed and compared every visitor id of
//! the period's set, which took twice as long, and numbering the visitors in one hash
//! map missed the cache on nearly every new visitor.

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Int32Type};
use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_store::Snapshot;
use datafusion::logical_expr::{ident, lit};
use datafusion::prelude::{SessionContext, cast};
use futures::StreamExt;

use crate::previous::{Segments, ViewKeys};
use crate::seen::DistinctPairs;
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 2] = ["conversion_rate", "bounce_rate"];

pub(crate) async fn compute(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    _config: &Config,
    request: &Request,
    periods: &[Period],
    kpis: &[&'static KpiDef],
    results: &mut FamilyResult,
) -> Result<()> {
    let bucket = bucket::period_bucket(periods);
    let (frame, segment) = prepare(ctx, snapshot, kpis[0], Entity::Sessions, request).await?;
    let mut stream = frame
        .filter(bucket::within(periods, "started_at", false))?
        .select(vec![
            bucket.call(vec![ident("started_at")]).alias("period"),
            cast(crate::segment::or_whole(segment), DataType::Utf8View).alias("segment"),
            cast(ident("visitor_id"), DataType::Utf8View).alias("visitor_id"),
            ident("converted").is_true().alias("converted"),
            ident("pageviews").eq(lit(1i64)).is_true().alias("bounced"),
        ])?
        .execute_stream()
        .await?;
    let n_periods = periods.len();
    // Per segment and period (cell s * n_periods + p): sessions, bounced sessions.
    let mut counts: Vec<[u64; 2]> = Vec::new();
    let mut segments = Segments::default();
    let mut keys = ViewKeys::default();
    let mut visitors = DistinctPairs::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let period = batch.column(0).as_primitive::<Int32Type>();
        let segment = batch.column(1).as_string_view();
        let visitor = batch.column(2).as_string_view();
        let (converts, bounces) = (batch.column(3).as_boolean(), batch.column(4).as_boolean());
        for row in 0..batch.num_rows() {
            let (s, new) = segments.number(segment, row);
            if new {
                counts.resize(counts.len() + n_periods, [0; 2]);
            }
            let key = keys.key(visitor, row);
            let cell = s as usize * n_periods + period.value(row) as usize;
            visitors.push(cell as u32, key, converts.value(row));
            counts[cell][0] += 1;
            counts[cell][1] += u64::from(bounces.value(row));
        }
    }
    let distinct = visitors.count(counts.len());
    for (s, segment) in segments.names.iter().enumerate() {
        for p in 0..n_periods {
            let cell = s * n_periods + p;
            let ([sessions, bounced], (visitors, converted)) = (counts[cell], distinct[cell]);
            if sessions == 0 {
                continue;
            }
            let entry = results.entry((p, segment.clone())).or_default();
            for kpi in kpis {
                let estimate = match kpi.id {
                    "conversion_rate" => Estimate::Proportion {
                        x: converted,
                        n: visitors,
                    },
                    _ => Estimate::Proportion {
                        x: bounced,
                        n: sessions,
                    },
                };
                entry.push((*kpi, estimate, Vec::new()).into());
            }
        }
    }
    Ok(())
}
