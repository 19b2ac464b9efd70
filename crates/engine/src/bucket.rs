//! The period-bucket function: maps an instant to the index of the reporting period
//! containing it, so that DataFusion groups by period in the same scan that groups by
//! segment. Periods are sorted and disjoint; an instant outside every period maps to
//! null.

use std::sync::Arc;

use arrow::array::{Array, BooleanBufferBuilder, Int32Array, TimestampMicrosecondArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, TimeUnit};
use cxkpi_core::period::Period;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
    ident, lit,
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
}

/// A UDF `cx_grid(ts)` over sorted instants (microseconds).
pub(crate) fn grid(instants: Vec<i64>) -> ScalarUDF {
    ScalarUDF::from(Grid {
        signature: instant_signature(),
        instants,
    })
}

impl ScalarUDFImpl for Grid {
    fn name(&self) -> &str {
        "cx_grid"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_instants(self.name(), args, |t| {
            Some(self.instants.partition_point(|i| *i < t) as i32)
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

/// An instant (microseconds since the epoch) as a literal of the stored type.
pub(crate) fn instant(micros: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(
        Some(micros),
        Some("UTC".into()),
    ))
}

/// The signature of the UDFs here: one instant.
fn instant_signature() -> Signature {
    Signature::exact(vec![instant_type()], Volatility::Immutable)
}

/// Applies `f` to every instant of the UDF's argument (nulls stay null). Values and
/// validity are written side by side into plain buffers: collecting `Option`s through
/// an iterator cost most of the function's time.
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
    let mut values = Vec::with_capacity(ts.len());
    let mut valid = BooleanBufferBuilder::new(ts.len());
    for (row, &t) in ts.values().iter().enumerate() {
        let out = if ts.is_valid(row) { f(t) } else { None };
        values.push(out.unwrap_or(0));
        valid.append(out.is_some());
    }
    let nulls = NullBuffer::new(valid.finish());
    let out = Int32Array::new(values.into(), Some(nulls).filter(|n| n.null_count() > 0));
    Ok(ColumnarValue::Array(Arc::new(out)))
}

/// A filter keeping the rows whose `column` falls in one of `periods` (sorted and
/// disjoint), or before the first with `before`: range comparisons on the stored
/// column, which Parquet statistics can prune by and which are cheaper than the
/// bucket function, with the function added only for the gaps between periods that
/// are not contiguous. Filtering on `cx_period(t) IS NOT NULL` instead made DataFusion
/// evaluate the function twice, once in the filter pushed below the projection.
pub(crate) fn within(periods: &[Period], column: &str, before: bool) -> Expr {
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return lit(false);
    };
    let mut keep = ident(column).lt(instant(last.end.as_microsecond()));
    if !before {
        keep = ident(column)
            .gt_eq(instant(first.start.as_microsecond()))
            .and(keep);
    }
    if periods.windows(2).any(|w| w[0].end != w[1].start) {
        keep = keep.and(
            bucket(periods, before)
                .call(vec![ident(column)])
                .is_not_null(),
        );
    }
    keep
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

    /// The instants `within` keeps, as RFC 3339 text.
    fn kept(periods: &[Period], before: bool) -> Vec<String> {
        use arrow::array::AsArray;
        use arrow::datatypes::{Field, Schema, TimestampMicrosecondType};
        use datafusion::prelude::SessionContext;

        let rows = [
            Some("2023-12-31T23:59:59Z"),
            Some("2024-01-01T00:00:00Z"),
            Some("2024-02-10T00:00:00Z"),
            None,
            Some("2024-03-05T00:00:00Z"),
            Some("2024-03-31T23:59:59.999999Z"),
            Some("2024-04-01T00:00:00Z"),
        ];
        let micros =
            rows.map(|t| t.map(|t| t.parse::<jiff::Timestamp>().unwrap().as_microsecond()));
        let column = TimestampMicrosecondArray::from(micros.to_vec()).with_timezone("UTC");
        let schema = Arc::new(Schema::new(vec![Field::new("t", instant_type(), true)]));
        let batch =
            arrow::record_batch::RecordBatch::try_new(schema, vec![Arc::new(column)]).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let batches = runtime.block_on(async {
            let ctx = SessionContext::new();
            let frame = ctx.read_batch(batch).unwrap();
            frame
                .filter(within(periods, "t", before))
                .unwrap()
                .collect()
                .await
                .unwrap()
        });
        batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_primitive::<TimestampMicrosecondType>()
                    .values()
                    .to_vec()
            })
            .map(|t| jiff::Timestamp::from_microsecond(t).unwrap().to_string())
            .collect()
    }

    #[test]
    fn within_keeps_the_instants_of_the_periods() {
        let month = |m: i8| {
            periods(
                Grain::Month,
                Date::constant(2024, m, 1),
                Date::constant(2024, m + 1, 1),
                &TimeZone::UTC,
            )
        };
        let contiguous = [month(1), month(2), month(3)].concat();
        assert_eq!(
            kept(&contiguous, false),
            [
                "2024-01-01T00:00:00Z",
                "2024-02-10T00:00:00Z",
                "2024-03-05T00:00:00Z",
                "2024-03-31T23:59:59.999999Z"
            ]
        );
        // February is not a period: its instant goes, but not the time before January.
        let gap = [month(1), month(3)].concat();
        assert_eq!(
            kept(&gap, false),
            [
                "2024-01-01T00:00:00Z",
                "2024-03-05T00:00:00Z",
                "2024-03-31T23:59:59.999999Z"
            ]
        );
        assert_eq!(
            kept(&gap, true),
            [
                "2023-12-31T23:59:59Z",
                "2024-01-01T00:00:00Z",
                "2024-03-05T00:00:00Z",
                "2024-03-31T23:59:59.999999Z"
            ]
        );
        assert!(kept(&[], true).is_empty());
    }
}
