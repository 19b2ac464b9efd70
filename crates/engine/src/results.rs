//! Reading DataFusion results, and expressions shared by the families.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::logical_expr::{Expr, ident, lit};

/// 1 where `condition` holds, else 0 (also when it is null).
pub(crate) fn one_if(condition: Expr) -> Expr {
    datafusion::logical_expr::when(condition, lit(1i64))
        .otherwise(lit(0i64))
        .expect("a complete CASE")
}

/// The number of rows of a group where `condition` holds.
pub(crate) fn count_if(condition: Expr) -> Expr {
    datafusion::functions_aggregate::expr_fn::sum(one_if(condition))
}

/// Microseconds from column `from` to column `to` (null when either is).
pub(crate) fn micros_between(from: &str, to: &str) -> Expr {
    datafusion::prelude::cast(ident(to), DataType::Int64)
        - datafusion::prelude::cast(ident(from), DataType::Int64)
}

/// Hours from column `from` to column `to`, exact to the microsecond.
pub(crate) fn micros_between_hours(from: &str, to: &str) -> Expr {
    datafusion::prelude::cast(micros_between(from, to), DataType::Float64) / lit(3_600_000_000.0)
}

/// The columns of a result batch, cast to the types the families read. Each column
/// is cast once, on first use, and kept: the accessors are called per cell.
pub(crate) struct Columns<'a> {
    batch: &'a RecordBatch,
    cast: std::cell::RefCell<Vec<(String, DataType, ArrayRef)>>,
}

impl<'a> Columns<'a> {
    pub fn new(batch: &'a RecordBatch) -> Columns<'a> {
        Columns {
            batch,
            cast: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn column(&self, name: &str, ty: &DataType) -> ArrayRef {
        if let Some((_, _, array)) = self
            .cast
            .borrow()
            .iter()
            .find(|(n, t, _)| n == name && t == ty)
        {
            return ArrayRef::clone(array);
        }
        let column = self.batch.column_by_name(name).expect("selected column");
        let array = cast(column, ty).expect("result columns cast to the type read");
        self.cast
            .borrow_mut()
            .push((name.to_string(), ty.clone(), ArrayRef::clone(&array)));
        array
    }

    pub fn i32(&self, name: &str, row: usize) -> i32 {
        self.column(name, &DataType::Int32)
            .as_primitive::<Int32Type>()
            .value(row)
    }

    pub fn opt_i32(&self, name: &str, row: usize) -> Option<i32> {
        let column = self.column(name, &DataType::Int32);
        let column = column.as_primitive::<Int32Type>();
        (!column.is_null(row)).then(|| column.value(row))
    }

    pub fn opt_i64(&self, name: &str, row: usize) -> Option<i64> {
        let column = self.column(name, &DataType::Int64);
        let column = column.as_primitive::<Int64Type>();
        (!column.is_null(row)).then(|| column.value(row))
    }

    pub fn u64(&self, name: &str, row: usize) -> u64 {
        let column = self.column(name, &DataType::Int64);
        let column = column.as_primitive::<Int64Type>();
        if column.is_null(row) {
            0
        } else {
            column.value(row).max(0) as u64
        }
    }

    pub fn opt_f64(&self, name: &str, row: usize) -> Option<f64> {
        let column = self.column(name, &DataType::Float64);
        let column = column.as_primitive::<Float64Type>();
        (!column.is_null(row)).then(|| column.value(row))
    }

    pub fn text_opt(&self, name: &str, row: usize) -> Option<String> {
        let column = self.column(name, &DataType::Utf8);
        let column = column.as_string::<i32>();
        (!column.is_null(row)).then(|| column.value(row).to_string())
    }

    pub fn text(&self, name: &str, row: usize) -> String {
        let column = self.column(name, &DataType::Utf8);
        column.as_string::<i32>().value(row).to_string()
    }
}
