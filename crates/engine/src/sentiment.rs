//! The `sentiment` KPI: VADER scores of survey comments.
//!
//! One scan of `responses`: each non-empty comment's VADER score, stored on import
//! (`comment_sentiment`; `cx_sentiment(comment)` scores comments stored without one),
//! and DataFusion counts positive and negative comments and the compound's mean per
//! period and segment. Net sentiment has the shape of NPS (positive less negative
//! shares), so it gets the NPS interval and test.

use std::sync::Arc;

use arrow::array::{Array, Float64Array, StringArray};
use arrow::datatypes::DataType;
use cxkpi_core::config::Config;
use cxkpi_core::entity::Entity;
use cxkpi_core::estimate::Estimate;
use cxkpi_core::kpi::KpiDef;
use cxkpi_core::period::Period;
use cxkpi_core::sentiment::{NEGATIVE_AT, POSITIVE_AT, vader};
use cxkpi_store::Snapshot;
use datafusion::common::exec_err;
use datafusion::functions_aggregate::expr_fn::{avg, count};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
    ident, lit,
};
use datafusion::prelude::{SessionContext, cast};

use crate::results::{Columns, count_if};
use crate::{FamilyResult, Request, Result, bucket, prepare};

/// The KPIs of this family.
pub(crate) const KPIS: [&str; 1] = ["sentiment"];

pub(crate) async fn compute(
    ctx: &SessionContext,
    snapshot: &Snapshot,
    _config: &Config,
    request: &Request,
    periods: &[Period],
    kpis: &[&'static KpiDef],
    results: &mut FamilyResult,
) -> Result<()> {
    let kpi = kpis[0];
    let (frame, segment) = prepare(ctx, snapshot, kpi, Entity::Responses, request).await?;
    let bucket = bucket::period_bucket(periods);
    let mut columns = vec![
        bucket.call(vec![ident("responded_at")]).alias("period"),
        compound().alias("compound"),
    ];
    columns.extend(crate::segment::column(segment));
    let frame = frame
        .filter(
            ident("comment")
                .is_not_null()
                .and(bucket::within(periods, "responded_at", false)),
        )?
        .select(columns)?
        .filter(ident("compound").is_not_null())?;
    let frame = crate::segment::group_by(
        frame,
        vec![ident("period")],
        vec![
            count(lit(1)).alias("n"),
            count_if(ident("compound").gt_eq(lit(POSITIVE_AT))).alias("positive"),
            count_if(ident("compound").lt_eq(lit(NEGATIVE_AT))).alias("negative"),
            avg(ident("compound")).alias("mean"),
        ],
    )?;
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            let (n, positive, negative) = (
                c.u64("n", row),
                c.u64("positive", row),
                c.u64("negative", row),
            );
            let mut components = vec![
                ("positive", positive as f64),
                ("neutral", (n - positive - negative) as f64),
                ("negative", negative as f64),
            ];
            components.extend(c.opt_f64("mean", row).map(|m| ("mean_compound", m)));
            results
                .entry((c.i32("period", row) as usize, c.text("segment", row)))
                .or_default()
                .push(
                    (
                        kpi,
                        Estimate::Net {
                            positive,
                            negative,
                            n,
                        },
                        components,
                    )
                        .into(),
                );
        }
    }
    Ok(())
}

/// A response's compound score: the one stored on import, or for comments stored
/// before scoring on import existed, `cx_sentiment(comment)` (null without a comment).
fn compound() -> Expr {
    let score = ScalarUDF::from(SentimentUdf {
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
    });
    Expr::Case(datafusion::logical_expr::Case::new(
        None,
        vec![(
            Box::new(ident("comment_sentiment").is_not_null()),
            Box::new(ident("comment_sentiment")),
        )],
        Some(Box::new(
            score.call(vec![cast(ident("comment"), DataType::Utf8)]),
        )),
    ))
}

/// `cx_sentiment(text)`: VADER's compound score; null for a null, empty or
/// white-space-only text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SentimentUdf {
    signature: Signature,
}

impl ScalarUDFImpl for SentimentUdf {
    fn name(&self) -> &str {
        "cx_sentiment"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::common::Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::common::Result<ColumnarValue> {
        let array = args.args[0].clone().into_array(args.number_rows)?;
        let Some(texts) = array.as_any().downcast_ref::<StringArray>() else {
            return exec_err!("cx_sentiment expects text, got {}", array.data_type());
        };
        let vader = vader();
        let out: Float64Array = texts
            .iter()
            .map(|text| {
                let text = text.filter(|t| !t.trim().is_empty())?;
                Some(vader.polarity_scores(text).compound)
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// The non-empty comments answered in `period` with their VADER compound score, by
/// segment (`request.by`; "" without one) and filtered by `request.filters`.
pub async fn scored_comments(
    snapshot: &Snapshot,
    request: &Request,
    period: &Period,
) -> Result<Vec<(String, String, f64)>> {
    let ctx = snapshot.context()?;
    let kpi = cxkpi_core::kpi::lookup("sentiment").expect("in the catalogue");
    let (frame, segment) = prepare(&ctx, snapshot, kpi, Entity::Responses, request).await?;
    let frame = frame
        .filter(ident("comment").is_not_null().and(bucket::within(
            std::slice::from_ref(period),
            "responded_at",
            false,
        )))?
        .select(vec![
            crate::segment::or_whole(segment).alias("segment"),
            cast(ident("comment"), DataType::Utf8).alias("comment"),
            compound().alias("compound"),
        ])?
        .filter(ident("compound").is_not_null())?;
    let mut out = Vec::new();
    for batch in frame.collect().await? {
        let c = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            let compound = c.opt_f64("compound", row).expect("filtered on");
            out.push((c.text("segment", row), c.text("comment", row), compound));
        }
    }
    Ok(out)
}
