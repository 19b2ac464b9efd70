//! The period-bucket function: maps an instant to the index of the reporting period
//! containing it, so that DataFusion groups by period in the same scan that groups by
//! segment. Periods are sorted and disjoint; an instant outside every period maps to
//! null.

use std::sync::Arc;

use arrow::array::{Array, Int32Array, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, TimeUnit};
use cxkpi_core::period::Period;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct PeriodBucket {
    signature: Signature,
    /// `[start, end)` of each period in microseconds since the epoch, sorted.
    bounds: Vec<(i64, i64)>,
    /// Whether instants before the first period map to -1 (for running totals).
    before: bool,
    /// Whether periods are taken as `(start, end]` instead of `[start, end)`: the
    /// bucket of t is then the period whose end is the first at or after t, which
    /// turns "at or before the end of period i" into "bucket <= i".
    closed_right: bool,
}

fn bucket(periods: &[Period], before: bool) -> ScalarUDF {
    bucket_of(periods, before, false)
}

/// The right-closed variant of [`period_bucket_with_before`]: t <= start of the first
/// period maps to -1, t in `(start, end]` of period i to i.
pub(crate) fn period_bucket_right_closed(periods: &[Period]) -> ScalarUDF {
    bucket_of(periods, true, true)
}

fn bucket_of(periods: &[Period], before: bool, closed_right: bool) -> ScalarUDF {
    let bounds = periods
        .iter()
        .map(|p| (p.start.as_microsecond(), p.end.as_microsecond()))
        .collect();
    ScalarUDF::from(PeriodBucket {
        signature: instant_signature(),
        bounds,
        before,
        closed_right,
    })
}

/// A UDF `cx_period(ts)` for the given periods (sorted by start, disjoint).
pub(crate) fn period_bucket(periods: &[Period]) -> ScalarUDF {
    bucket(periods, false)
}

/// Like [`period_bucket`], with instants before the first period in bucket -1.
pub(crate) fn period_bucket_with_before(periods: &[Period]) -> ScalarUDF {
    bucket(periods, true)
}

impl PeriodBucket {
    fn index(&self, t: i64) -> Option<i32> {
        if self.closed_right {
            let i = self.bounds.partition_point(|(start, _)| *start < t);
            if i == 0 {
                return self.before.then_some(-1);
            }
            let (_, end) = self.bounds[i - 1];
            return (t <= end).then_some((i - 1) as i32);
        }
        let i = self.bounds.partition_point(|(start, _)| *start <= t);
        if i == 0 {
            return self.before.then_some(-1);
        }
        let (_, end) = self.bounds[i - 1];
        (t < end).then_some((i - 1) as i32)
    }
}

/// The grid function `cx_grid(ts)`: the number of grid instants before `ts`, i.e. the
/// index of the first instant at or after it (`instants.len()` when there is none).
/// An interval `[from, to)` covers instant k (`from <= T_k < to`) exactly when
/// `cx_grid(from) <= k < cx_grid(to)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Grid {
    signature: Signature,
    instants: Vec<i64>,
    /// Count the instants at or before `ts` instead (`cx_grid_le`): an event at `ts`
    /// is before instant k exactly when `cx_grid_le(ts) <= k`.
    inclusive: bool,
}

/// A UDF `cx_grid(ts)` over sorted instants (microseconds).
pub(crate) fn grid(instants: Vec<i64>) -> ScalarUDF {
    ScalarUDF::from(Grid {
        signature: instant_signature(),
        instants,
        inclusive: false,
    })
}

/// A UDF `cx_grid_le(ts)`: the number of the sorted instants at or before `ts`.
pub(crate) fn grid_at_or_before(instants: Vec<i64>) -> ScalarUDF {
    ScalarUDF::from(Grid {
        signature: instant_signature(),
        instants,
        inclusive: true,
    })
}

impl ScalarUDFImpl for Grid {
    fn name(&self) -> &str {
        if self.inclusive {
            "cx_grid_le"
        } else {
            "cx_grid"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_instants(self.name(), args, |t| {
            let n = if self.inclusive {
                self.instants.partition_point(|i| *i <= t)
            } else {
                self.instants.partition_point(|i| *i < t)
            };
            Some(n as i32)
        })
    }
}

impl ScalarUDFImpl for PeriodBucket {
    fn name(&self) -> &str {
        "cx_period"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_instants(self.name(), args, |t| self.index(t))
    }
}

/// `cx_local_day(ts)`: the day number (days since 1970-01-01) of the instant's local
/// date in a time zone.
#[derive(Debug)]
struct LocalDayUdf {
    signature: Signature,
    tz: jiff::tz::TimeZone,
}

/// A UDF `cx_local_day(ts)` for `tz`.
pub(crate) fn local_day(tz: &jiff::tz::TimeZone) -> ScalarUDF {
    ScalarUDF::from(LocalDayUdf {
        signature: instant_signature(),
        tz: tz.clone(),
    })
}

// Equal when the zones are: the function is the zone's date.
impl PartialEq for LocalDayUdf {
    fn eq(&self, other: &Self) -> bool {
        self.tz == other.tz
    }
}

impl Eq for LocalDayUdf {}

impl std::hash::Hash for LocalDayUdf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.tz.iana_name().hash(state);
    }
}

impl ScalarUDFImpl for LocalDayUdf {
    fn name(&self) -> &str {
        "cx_local_day"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let epoch = jiff::civil::Date::constant(1970, 1, 1);
        map_instants(self.name(), args, |t| {
            let date = jiff::Timestamp::from_microsecond(t)
                .ok()?
                .to_zoned(self.tz.clone())
                .date();
            Some((date - epoch).get_days())
        })
    }
}

/// The type of stored instants: UTC microsecond timestamps.
pub(crate) fn instant_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The signature of the UDFs here: one instant.
fn instant_signature() -> Signature {
    Signature::exact(vec![instant_type()], Volatility::Immutable)
}

/// Applies `f` to every instant of the UDF's argument (nulls stay null).
fn map_instants(
    name: &str,
    args: ScalarFunctionArgs,
    f: impl Fn(i64) -> Option<i32>,
) -> Result<ColumnarValue> {
    let array = args.args[0].clone().into_array(args.number_rows)?;
    let Some(ts) = array.as_any().downcast_ref::<TimestampMicrosecondArray>() else {
        return exec_err!(
            "{name} expects a microsecond timestamp, got {}",
            array.data_type()
        );
    };
    let out: Int32Array = ts.iter().map(|t| t.and_then(&f)).collect();
    Ok(ColumnarValue::Array(Arc::new(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxkpi_core::period::{Grain, periods};
    use jiff::civil::Date;
    use jiff::tz::TimeZone;

    #[test]
    fn instants_map_to_their_period() {
        let months = periods(
            Grain::Month,
            Date::constant(2024, 1, 1),
            Date::constant(2024, 4, 1),
            &TimeZone::UTC,
        );
        let mut bucket = PeriodBucket {
            signature: Signature::any(1, Volatility::Immutable),
            bounds: months
                .iter()
                .map(|p| (p.start.as_microsecond(), p.end.as_microsecond()))
                .collect(),
            before: false,
            closed_right: false,
        };
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_microsecond();
        assert_eq!(bucket.index(at("2023-12-31T23:59:59Z")), None);
        assert_eq!(bucket.index(at("2024-01-01T00:00:00Z")), Some(0));
        assert_eq!(bucket.index(at("2024-02-29T23:59:59.999999Z")), Some(1));
        assert_eq!(bucket.index(at("2024-03-31T12:00:00Z")), Some(2));
        assert_eq!(bucket.index(at("2024-04-01T00:00:00Z")), None);
        bucket.before = true;
        assert_eq!(bucket.index(at("2023-12-31T23:59:59Z")), Some(-1));
        assert_eq!(bucket.index(at("2024-04-01T00:00:00Z")), None);
        bucket.before = true;
        assert_eq!(bucket.index(at("2023-12-31T23:59:59Z")), Some(-1));
        assert_eq!(bucket.index(at("2024-04-01T00:00:00Z")), None);
        bucket.closed_right = true;
        assert_eq!(bucket.index(at("2024-01-01T00:00:00Z")), Some(-1));
        assert_eq!(bucket.index(at("2024-02-01T00:00:00Z")), Some(0));
        assert_eq!(bucket.index(at("2024-02-01T00:00:01Z")), Some(1));
        assert_eq!(bucket.index(at("2024-04-01T00:00:00Z")), Some(2));
        assert_eq!(bucket.index(at("2024-04-01T00:00:01Z")), None);
    }
}
