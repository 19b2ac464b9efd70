//! Resolving `--by` and `--where` dimensions (kpis.md, "Segments").
//!
//! A KPI is segmented by its own entity's column when it has one of that name (a text
//! or boolean contract column, or a dimension), otherwise by the customer's column
//! through the entity's customer reference. Names are checked against the stored
//! schema and used as identifiers only after that check; values never become SQL text
//! (they are literals of the DataFrame API).

use cxkpi_core::entity::Entity;
use cxkpi_core::kpi::{KpiDef, Segmentation};
use cxkpi_store::Snapshot;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::{cast, coalesce, nullif};

use crate::EngineError;

/// The segment of rows that have no value for the dimension.
pub const NONE_SEGMENT: &str = "(none)";

/// Where a dimension's values come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A column of the KPI's own entity.
    Own(String),
    /// A column of the customer, found through the entity's customer reference.
    Customer(String),
}

/// The columns of `entity` that segment and filter: its text and boolean contract
/// columns and its dimensions.
fn own_columns(entity: Entity, snapshot: &Snapshot) -> Vec<String> {
    entity
        .segment_columns()
        .into_iter()
        .map(String::from)
        .chain(snapshot.table(entity).dimensions)
        .collect()
}

/// The column of `entity` that references the customer, if any.
pub(crate) fn customer_reference(entity: Entity) -> Option<&'static str> {
    match entity {
        Entity::Customers | Entity::Spend => None,
        Entity::Referrals => Some("referrer_id"),
        _ => Some("customer_id"),
    }
}

/// Resolves a dimension name for a KPI computed from `entity`.
pub(crate) fn resolve(
    kpi: &KpiDef,
    entity: Entity,
    name: &str,
    snapshot: &Snapshot,
) -> Result<Source, EngineError> {
    let customer = own_columns(Entity::Customers, snapshot);
    let (own, through_customer): (Vec<String>, Vec<String>) = match kpi.segmentation {
        Segmentation::Entity(e) => (
            own_columns(e, snapshot),
            if customer_reference(entity).is_some() {
                customer
            } else {
                Vec::new()
            },
        ),
        Segmentation::Customer if entity == Entity::Customers => (customer, Vec::new()),
        Segmentation::Customer => (Vec::new(), customer),
        Segmentation::Spend => (
            vec!["acquisition_channel".into(), "campaign".into()],
            Vec::new(),
        ),
    };
    if own.iter().any(|c| c == name) {
        return Ok(Source::Own(name.to_string()));
    }
    if through_customer.iter().any(|c| c == name) {
        return Ok(Source::Customer(name.to_string()));
    }
    let mut valid: Vec<String> = own;
    for c in through_customer {
        if !valid.contains(&c) {
            valid.push(c);
        }
    }
    Err(EngineError::UnknownDimension {
        kpi: kpi.id,
        given: name.to_string(),
        valid,
    })
}

/// The segment value of a column: text as is, booleans as `true`/`false`, missing or
/// empty as `(none)`. Text stays a view (see `cxkpi_store::schema::query_schema`):
/// casting to `Utf8` would copy every row's value.
pub(crate) fn segment_expr(column: Expr) -> Expr {
    let text = cast(column, arrow::datatypes::DataType::Utf8View);
    coalesce(vec![nullif(text, lit("")), lit(NONE_SEGMENT)])
}

/// The segment column of a family's rows: `segment`, or one empty segment when the
/// request has none. The empty segment is a view literal: grouping by a `Utf8`
/// literal compared it with `memcmp` on every row (up to a third of an unsegmented
/// group-by's time).
pub(crate) fn or_whole(segment: Option<Expr>) -> Expr {
    segment.unwrap_or_else(|| lit(ScalarValue::Utf8View(Some(String::new()))))
}

/// The segment column to select before [`group_by`]: none for an unsegmented request.
pub(crate) fn column(segment: Option<Expr>) -> Option<Expr> {
    segment.map(|s| s.alias("segment"))
}

/// `frame` grouped by `keys` and, when it has one (see [`column`]), its column
/// "segment" with `aggregates`. Without it (an unsegmented request), the one empty
/// segment ([`or_whole`]) is added after grouping: grouping by a constant still hashed
/// and compared it on every row.
pub(crate) fn group_by(
    frame: DataFrame,
    mut keys: Vec<Expr>,
    aggregates: Vec<Expr>,
) -> datafusion::error::Result<DataFrame> {
    let segmented = frame.schema().has_column_with_unqualified_name("segment");
    if segmented {
        keys.push(ident("segment"));
    }
    let frame = frame.aggregate(keys, aggregates)?;
    if segmented {
        Ok(frame)
    } else {
        frame.with_column("segment", or_whole(None))
    }
}
