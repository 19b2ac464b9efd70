//! Web and app visit KPIs: `conversion_rate` (distinct visitors) and `bounce_rate`
//! (sessions), by the period of `started_at`.
//!
//! Per (period, segment): distinct visitors, distinct visitors of converted sessions,
//! sessions and single-page sessions. A visitor thus counts once in every segment it
//! has sessions in, and as converted there when any of its sessions there converted.
//!
//! DataFusion filters the sessions and maps them to periods; the counting is one pass
//! here over the streamed rows: (segment, visitor) pairs are numbered as first seen
//! (see [`DensePairs`]) and (pair, period) marked in a bitmap, so a visitor counts once
//! per cell. DataFusion's `count_distinct` hashed and compared every visitor id of the
//! period's set, which took three times as long.

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

use crate::previous::DensePairs;
use crate::seen::Seen;
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
    // Per segment and period: visitors, converted visitors, sessions, bounced sessions.
    let mut counts: Vec<Vec<[u64; 4]>> = Vec::new();
    let mut pairs = DensePairs::default();
    let (mut visited, mut converted) = (Seen::new(0), Seen::new(0));
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let period = batch.column(0).as_primitive::<Int32Type>();
        let segment = batch.column(1).as_string_view();
        let visitor = batch.column(2).as_string_view();
        let (converts, bounces) = (batch.column(3).as_boolean(), batch.column(4).as_boolean());
        for row in 0..batch.num_rows() {
            let (s, pair, _) = pairs.index(segment, visitor, row);
            if counts.len() <= s {
                counts.push(vec![[0; 4]; n_periods]);
            }
            let p = period.value(row) as usize;
            let cell = &mut counts[s][p];
            let key = pair * n_periods + p;
            cell[0] += u64::from(visited.insert(key));
            if converts.value(row) {
                cell[1] += u64::from(converted.insert(key));
            }
            cell[2] += 1;
            cell[3] += u64::from(bounces.value(row));
        }
    }
    for (segment, per_period) in pairs.segments.into_iter().zip(counts) {
        for (p, [visitors, converted, sessions, bounced]) in per_period.into_iter().enumerate() {
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
                entry.push((*kpi, estimate, Vec::new()));
            }
        }
    }
    Ok(())
}
