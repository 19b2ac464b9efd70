//! Arrow schemas of the stored tables.
//!
//! A stored table has the contract columns of its entity (in the contract's order), then
//! the columns the store derives on import ([`derived_columns`]), then its dimension
//! columns (text), then the hidden row hash. Every column is nullable, so
//! that parts written with different dimension sets read as one table.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use cxkpi_core::entity::{ColumnType, Entity};

/// The hidden column holding each row's content hash (to tell unchanged rows on
/// re-import). Never shown to queries or exports.
pub const ROW_HASH: &str = "_cxkpi_hash";

/// The time zone of every stored timestamp.
pub const UTC: &str = "UTC";

/// The VADER compound score of a response's comment, computed on import (null without
/// a comment or for one of white space only).
pub const COMMENT_SENTIMENT: &str = "comment_sentiment";

/// Columns the store computes from a row on import, stored after the contract
/// columns; an input column of the same name is ignored.
pub fn derived_columns(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Responses => &[COMMENT_SENTIMENT],
        _ => &[],
    }
}

/// The Arrow type a contract column is stored as.
pub fn data_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Text => DataType::Utf8,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        ColumnType::Date => DataType::Date32,
        ColumnType::Decimal => DataType::Float64,
        ColumnType::Integer | ColumnType::Score => DataType::Int64,
        ColumnType::Boolean => DataType::Boolean,
    }
}

/// The schema queries see: contract columns, then dimensions.
pub fn table_schema(entity: Entity, dimensions: &[String]) -> SchemaRef {
    Arc::new(Schema::new(visible_fields(entity, dimensions)))
}

/// The schema queries read the stored tables with: the table schema with text as
/// `Utf8View`, whose values of up to 12 bytes (typical ids) are inline in their
/// 16-byte views, so two rows' ids compare as two integers.
pub fn query_schema(entity: Entity, dimensions: &[String]) -> SchemaRef {
    let schema = table_schema(entity, dimensions);
    let fields = schema.fields().iter().map(|f| match f.data_type() {
        DataType::Utf8 => Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View)),
        _ => f.clone(),
    });
    Arc::new(Schema::new(fields.collect::<Vec<_>>()))
}

/// The schema of a part file: the table schema plus the row hash.
pub fn part_schema(entity: Entity, dimensions: &[String]) -> SchemaRef {
    let mut fields = visible_fields(entity, dimensions);
    fields.push(Field::new(ROW_HASH, DataType::UInt64, false));
    Arc::new(Schema::new(fields))
}

fn visible_fields(entity: Entity, dimensions: &[String]) -> Vec<Field> {
    entity
        .columns()
        .iter()
        .map(|c| Field::new(c.name, data_type(c.ty), true))
        .chain(
            derived_columns(entity)
                .iter()
                .map(|d| Field::new(*d, DataType::Float64, true)),
        )
        .chain(
            dimensions
                .iter()
                .map(|d| Field::new(d, DataType::Utf8, true)),
        )
        .collect()
}
