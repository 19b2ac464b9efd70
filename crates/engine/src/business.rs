//! The business-time function `cx_business_micros(from, to)`: microseconds of
//! `[from, to)` inside the opening hours of the workspace's business-hours calendar
//! (null when either instant is null), computed by the core's [`BusinessClock`].

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, Int64Array, TimestampMicrosecondArray};
use arrow::datatypes::DataType;
use cxkpi_core::business::BusinessClock;
use cxkpi_core::config::BusinessHours;
use cxkpi_core::period::Period;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use jiff::ToSpan;

#[derive(Debug)]
struct BusinessHoursUdf {
    signature: Signature,
    clock: Arc<BusinessClock>,
}

/// A business clock whose fast path covers the periods and the year after them
/// (resolutions come after creation).
pub(crate) fn clock(calendar: &BusinessHours, periods: &[Period]) -> Arc<BusinessClock> {
    let date = |t: jiff::Timestamp| t.to_zoned(calendar.time_zone.clone()).date();
    let (first, last) = match (periods.first(), periods.last()) {
        (Some(first), Some(last)) => (date(first.start), date(last.end)),
        _ => (jiff::civil::Date::MIN, jiff::civil::Date::MIN),
    };
    let first = first.checked_sub(31.days()).unwrap_or(first);
    let last = last.checked_add(1.year()).unwrap_or(last);
    Arc::new(BusinessClock::new(calendar, first, last))
}

/// The UDF `cx_business_micros(from, to)` of `clock`.
pub(crate) fn business_micros(clock: Arc<BusinessClock>) -> ScalarUDF {
    let instant = crate::bucket::instant_type();
    ScalarUDF::from(BusinessHoursUdf {
        signature: Signature::exact(vec![instant.clone(), instant], Volatility::Immutable),
        clock,
    })
}

impl PartialEq for BusinessHoursUdf {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.clock, &other.clock)
    }
}

impl Eq for BusinessHoursUdf {}

impl Hash for BusinessHoursUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.clock).hash(state);
    }
}

impl ScalarUDFImpl for BusinessHoursUdf {
    fn name(&self) -> &str {
        "cx_business_micros"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let from = args.args[0].clone().into_array(args.number_rows)?;
        let to = args.args[1].clone().into_array(args.number_rows)?;
        let timestamps = |a: &Arc<dyn Array>| {
            a.as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .cloned()
        };
        let (Some(from), Some(to)) = (timestamps(&from), timestamps(&to)) else {
            return exec_err!("cx_business_micros expects two microsecond timestamps");
        };
        // Values written as a plain buffer, null where either instant is (collecting
        // `Option`s through an iterator cost more than the clock).
        let micros: Vec<i64> = from
            .values()
            .iter()
            .zip(to.values().iter())
            .map(|(&f, &t)| self.clock.micros(f, t))
            .collect();
        let nulls = arrow::buffer::NullBuffer::union(from.nulls(), to.nulls());
        Ok(ColumnarValue::Array(Arc::new(Int64Array::new(
            micros.into(),
            nulls,
        ))))
    }
}
