//! Customer columns of other tables' rows, `cx_customer_<name>(reference)`: the value
//! of a customer column for the customer a row references (null when the reference is
//! null or names no customer), found with a [`previous::Index`] over the customer
//! table's ids instead of a join.
//!
//! A hash join of a million customers to four million answers by their string ids
//! built a table of a million strings and probed it once a row (a third of `nps` by
//! region's time; bench case 1 took 0.23-0.39 s with it, 0.16-0.21 s without). The
//! index compares a row's id with its predecessor's customer and those after it
//! first, and hashes only when those fail (see [`previous::Index`]).
//!
//! [`previous::Index`]: crate::previous::Index

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, AsArray, StringViewArray, UInt32Array};
use arrow::datatypes::DataType;
use cxkpi_core::entity::Entity;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, ident,
};
use datafusion::prelude::{SessionContext, cast};

use crate::previous::{Cursors, Index, concat_views};

/// The customer table's ids and the looked-up columns, row for row.
#[derive(Debug)]
struct Customers {
    index: Index,
    columns: Vec<StringViewArray>,
    /// The cursors of the batches looked up so far (the UDF sees batches of every
    /// partition).
    cursors: Mutex<Cursors>,
}

/// Functions of a reference to the customer, one per column of `columns` (as text
/// views; booleans as `true`/`false`), reading the customer table once.
pub(crate) async fn customer_columns(
    ctx: &SessionContext,
    columns: &[String],
) -> Result<Vec<ScalarUDF>> {
    let select = std::iter::once("customer_id")
        .chain(columns.iter().map(String::as_str))
        .map(|c| cast(ident(c), DataType::Utf8View).alias(c))
        .collect::<Vec<Expr>>();
    let batches = ctx
        .table(Entity::Customers.name())
        .await?
        .select(select)?
        .collect()
        .await?;
    let ids = concat_views(&batches, 0)?;
    let values = (1..=columns.len())
        .map(|i| concat_views(&batches, i))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let customers = Arc::new(Customers {
        index: Index::new(&ids),
        columns: values,
        cursors: Mutex::new(Cursors::default()),
    });
    Ok(columns
        .iter()
        .enumerate()
        .map(|(column, name)| {
            ScalarUDF::from(CustomerColumnUdf {
                name: format!("cx_customer_{name}"),
                signature: Signature::exact(vec![DataType::Utf8View], Volatility::Immutable),
                customers: Arc::clone(&customers),
                column,
            })
        })
        .collect())
}

#[derive(Debug)]
struct CustomerColumnUdf {
    name: String,
    signature: Signature,
    customers: Arc<Customers>,
    column: usize,
}

impl PartialEq for CustomerColumnUdf {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.customers, &other.customers) && self.column == other.column
    }
}

impl Eq for CustomerColumnUdf {}

impl Hash for CustomerColumnUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.customers).hash(state);
        self.column.hash(state);
    }
}

impl ScalarUDFImpl for CustomerColumnUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8View)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let references = args.args[0].clone().into_array(args.number_rows)?;
        let Some(references) = references.as_string_view_opt() else {
            return exec_err!("{} expects text views", self.name);
        };
        let customers = &self.customers;
        let mut cursor = customers
            .cursors
            .lock()
            .expect("no panics while held")
            .take(&customers.index, references);
        let rows: UInt32Array = (0..references.len())
            .map(|row| customers.index.find(&mut cursor, references, row))
            .collect();
        customers
            .cursors
            .lock()
            .expect("no panics while held")
            .keep(cursor);
        let values: ArrayRef =
            arrow::compute::take(&customers.columns[self.column] as &dyn Array, &rows, None)?;
        Ok(ColumnarValue::Array(values))
    }
}
