//! Resolving `--by` and `--where` dimensions (kpis.md, "Segments").
//!
//! A KPI is segmented by its own entity's column when it has one of that name (a text
//! or boolean contract column, or a dimension), otherwise by the customer's column
//! through the entity's customer reference. Names are checked against the stored
//! schema and used as identifiers only after that check; values never become SQL text
//! (they are literals of the DataFrame API).

use cxkpi_core::entity::{ColumnType, Entity};
use cxkpi_core::filter::{Filter, Op};
use cxkpi_core::kpi::{KpiDef, Segmentation};
use cxkpi_store::Snapshot;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::{cast, coalesce, nullif};

use crate::EngineError;

/// The segment of rows that have no value for the dimension.
pub const NONE_SEGMENT: &str = "(none)";

/// Between the values of a segment of several dimensions (`--by plan --by region`):
/// the ASCII unit separator, which no imported text holds as a value in practice and
/// which the outputs show as ` / ` or as value pairs.
pub const SEGMENT_SEPARATOR: char = '\u{1f}';

/// The segment expression of several dimensions' segment expressions: none, the one,
/// or their values joined by [`SEGMENT_SEPARATOR`] (as a view, like one).
pub(crate) fn combined(mut parts: Vec<Expr>) -> Option<Expr> {
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(cast(
            datafusion::functions::string::expr_fn::concat_ws(
                lit(SEGMENT_SEPARATOR.to_string()),
                parts,
            ),
            arrow::datatypes::DataType::Utf8View,
        )),
    }
}

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

/// Where a filter's values are read: a segment dimension (compared as the segment
/// text, booleans as `true`/`false`), or another column of the KPI's own entity
/// compared by its type (numbers, instants, ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FilterColumn {
    /// A dimension that can also segment.
    Segment(Source),
    /// A contract column of the own entity, by name and type.
    Typed(String, ColumnType),
}

fn filter_error(filter: &Filter, why: impl std::fmt::Display) -> EngineError {
    EngineError::Filter(format!("--where `{filter}`: {why}"))
}

/// Resolves a filter for a KPI computed from `entity`: its column, and the filter with
/// boolean values spelled as the segments spell them (`yes`, `TRUE` and `1` are
/// `true`, as on import). Ordering operators need a number or time column.
pub(crate) fn resolve_filter(
    kpi: &KpiDef,
    entity: Entity,
    filter: &Filter,
    snapshot: &Snapshot,
) -> Result<(FilterColumn, Filter), EngineError> {
    // The table a KPI's own columns belong to (none for spend's).
    let segmented = match kpi.segmentation {
        Segmentation::Entity(e) => Some(e),
        Segmentation::Customer => Some(Entity::Customers),
        Segmentation::Spend => None,
    };
    let own_entity = segmented.filter(|e| *e == entity);
    let name = filter.dimension.as_str();
    let contract = |e: Entity| e.columns().iter().find(|c| c.name == name).map(|c| c.ty);
    match resolve(kpi, entity, name, snapshot) {
        Ok(source) => {
            let ty = match &source {
                Source::Own(_) => segmented,
                Source::Customer(_) => Some(Entity::Customers),
            }
            .and_then(contract);
            let mut filter = filter.clone();
            if filter.op.orders() {
                return Err(filter_error(
                    &filter,
                    format!(
                        "`{}` compares numbers and times, and `{name}` is {}; use =, !=, ~=, in (...) or not in (...)",
                        filter.op.as_str(),
                        if ty == Some(ColumnType::Boolean) {
                            "true or false"
                        } else {
                            "text"
                        }
                    ),
                ));
            }
            if ty == Some(ColumnType::Boolean) {
                let given = filter.clone();
                for value in &mut filter.values {
                    if value == NONE_SEGMENT {
                        continue;
                    }
                    let b = cxkpi_core::parse::parse_bool(value.trim()).map_err(|_| {
                        filter_error(
                            &given,
                            format!("`{name}` is true or false (also yes/no, 1/0, y/n, t/f, any case), and `{value}` is neither"),
                        )
                    })?;
                    *value = b.to_string();
                }
                if filter.op == Op::EqFold {
                    filter.op = Op::Eq;
                }
            }
            Ok((FilterColumn::Segment(source), filter))
        }
        Err(unknown) => match own_entity.and_then(contract) {
            Some(ColumnType::Date) | None => Err(unknown),
            Some(ty) => Ok((FilterColumn::Typed(name.to_string(), ty), filter.clone())),
        },
    }
}

/// Checks a filter on spend's columns, which are text compared in Rust: an ordering
/// operator is refused.
pub(crate) fn check_spend_filter(filter: &Filter) -> Result<(), EngineError> {
    if filter.op.orders() {
        return Err(filter_error(
            filter,
            format!(
                "`{}` compares numbers and times, and `{}` is text",
                filter.op.as_str(),
                filter.dimension
            ),
        ));
    }
    Ok(())
}

/// The condition of a filter on a segment's text.
pub(crate) fn text_condition(text: Expr, filter: &Filter) -> Expr {
    use datafusion::functions::expr_fn::{btrim, lower};
    let values = || {
        filter
            .values
            .iter()
            .map(|v| lit(v.clone()))
            .collect::<Vec<_>>()
    };
    match filter.op {
        Op::Eq => text.eq(lit(filter.values[0].clone())),
        Op::Ne => text.not_eq(lit(filter.values[0].clone())),
        Op::EqFold => {
            let folded = filter.values[0].trim().to_lowercase();
            lower(btrim(vec![text])).eq(lit(folded))
        }
        Op::In => text.in_list(values(), false),
        Op::NotIn => text.in_list(values(), true),
        // Refused by `resolve_filter`.
        Op::Lt | Op::Le | Op::Gt | Op::Ge => lit(false),
    }
}

/// The condition of a filter on a number, time or id column. Missing values match
/// only `(none)` (`mrr = (none)`), never a comparison.
pub(crate) fn typed_condition(
    name: &str,
    ty: ColumnType,
    filter: &Filter,
) -> Result<Expr, EngineError> {
    let column = ident(name);
    if filter.values.iter().any(|v| v == NONE_SEGMENT) {
        return match filter.op {
            Op::Eq | Op::EqFold | Op::In => Ok(column.is_null()),
            Op::Ne | Op::NotIn => Ok(column.is_not_null()),
            _ => Err(filter_error(
                filter,
                "(none) is missing, which only = and != can compare",
            )),
        };
    }
    let (column, values): (Expr, Vec<Expr>) = match ty {
        ColumnType::Decimal | ColumnType::Integer | ColumnType::Score => {
            let values = filter
                .values
                .iter()
                .map(|v| {
                    cxkpi_core::parse::parse_decimal(v.trim())
                        .map(lit)
                        .map_err(|_| {
                            filter_error(filter, format!("`{name}` is a number, and `{v}` is not"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            (cast(column, arrow::datatypes::DataType::Float64), values)
        }
        ColumnType::Timestamp => {
            let values = filter
                .values
                .iter()
                .map(|v| {
                    v.trim()
                        .parse::<jiff::Timestamp>()
                        .map(|t| crate::bucket::instant(t.as_microsecond()))
                        .map_err(|_| {
                            filter_error(
                                filter,
                                format!("`{name}` is a time: compare it with a date (2024-01-31) or a time (2024-01-31T12:00:00Z), not `{v}`"),
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            (column, values)
        }
        ColumnType::Text | ColumnType::Boolean | ColumnType::Date => {
            return Ok(text_condition(segment_expr(column), filter));
        }
    };
    let first = values[0].clone();
    Ok(match filter.op {
        Op::Eq | Op::EqFold => column.eq(first),
        Op::Ne => column.not_eq(first),
        Op::Lt => column.lt(first),
        Op::Le => column.lt_eq(first),
        Op::Gt => column.gt(first),
        Op::Ge => column.gt_eq(first),
        Op::In => column.in_list(values, false),
        Op::NotIn => column.in_list(values, true),
    })
}
