//! The period-bucket function: maps an instant to the index of the reporting period
//! containing it, so that DataFusion groups by period in the same scan that groups by
//! segment. Periods are sorted and disjoint; an instant outside every period maps to
//! null.

use std::sync::Arc;

use arrow::array::{Array, Int32Array, TimestampMicrosecondArray};
use arrow::buffer::BooleanBuffer;
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, TimeUnit};
use cxkpi_core::period::Period;
use cxkpi_core::steps::{Count, Steps};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
    ident, lit,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct PeriodBucket {
    signature: Signature,
    /// [`PeriodBucket::index`] as a table (what the function evaluates).
    steps: Steps,
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
    ScalarUDF::from(PeriodBucket::new(
        instant_signature(),
        bounds,
        before,
        closed_right,
    ))
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
    fn new(
        signature: Signature,
        bounds: Vec<(i64, i64)>,
        before: bool,
        closed_right: bool,
    ) -> PeriodBucket {
        let mut bucket = PeriodBucket {
            signature,
            steps: Steps::default(),
            bounds,
            before,
            closed_right,
        };
        // `index` changes value at starts and ends only: from the instant itself on
        // when periods are left-closed, from the next microsecond on when right-closed.
        let after = i64::from(bucket.closed_right);
        let changes = bucket
            .bounds
            .iter()
            .flat_map(|&(start, end)| [start, end])
            .map(|t| t.saturating_add(after));
        bucket.steps = Steps::new(changes, |t| bucket.index(t));
        bucket
    }

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
    /// The instants before t are those at or before t - 1 µs: a count of the instants
    /// plus 1 µs at or before t.
    before: Count,
}

/// A UDF `cx_grid(ts)` over sorted instants (microseconds).
pub(crate) fn grid(instants: &[i64]) -> ScalarUDF {
    ScalarUDF::from(Grid {
        signature: instant_signature(),
        before: count_before(instants),
    })
}

/// The count of `instants` before (not at) an instant.
fn count_before(instants: &[i64]) -> Count {
    let later: Vec<i64> = instants.iter().map(|t| t.saturating_add(1)).collect();
    Count::new(&later)
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
        map_instants(self.name(), args, |t| self.before.at(t) as i32)
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
        map_instants(self.name(), args, |t| self.steps.at(t))
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
            jiff::Timestamp::from_microsecond(t).map_or(Steps::NULL, |t| {
                (t.to_zoned(self.tz.clone()).date() - epoch).get_days()
            })
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

/// Applies `f` to every instant of the UDF's argument: [`Steps::NULL`] from `f`, or a
/// null instant, is null. Values are written into a plain buffer, and validity 64
/// rows at a time only when some value is null: collecting `Option`s through an
/// iterator cost most of the function's time.
fn map_instants(
    name: &str,
    args: ScalarFunctionArgs,
    f: impl Fn(i64) -> i32,
) -> Result<ColumnarValue> {
    let array = args.args[0].clone().into_array(args.number_rows)?;
    let Some(ts) = array.as_any().downcast_ref::<TimestampMicrosecondArray>() else {
        return exec_err!(
            "{name} expects a microsecond timestamp, got {}",
            array.data_type()
        );
    };
    let values: Vec<i32> = ts.values().iter().map(|&t| f(t)).collect();
    let valid = |row: usize| values[row] != Steps::NULL && ts.is_valid(row);
    let nulls = (ts.null_count() > 0 || values.contains(&Steps::NULL))
        .then(|| NullBuffer::new(BooleanBuffer::collect_bool(values.len(), valid)));
    Ok(ColumnarValue::Array(Arc::new(Int32Array::new(
        values.into(),
        nulls,
    ))))
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
            steps: Steps::default(),
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

    /// The table the function evaluates agrees with `index`, the binary search it
    /// replaces, at every change point and its neighbours and at instants spread over
    /// the periods and beyond, for period sets with gaps, days across a DST change and
    /// both closures.
    #[test]
    fn the_step_table_agrees_with_the_search() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let months = |from: Date, to: Date| periods(Grain::Month, from, to, &TimeZone::UTC);
        let with_gap = [
            months(Date::constant(2023, 1, 1), Date::constant(2023, 3, 1)),
            months(Date::constant(2023, 7, 1), Date::constant(2023, 8, 1)),
            periods(
                Grain::Day,
                Date::constant(2024, 3, 25),
                Date::constant(2024, 4, 3),
                &TimeZone::UTC,
            ),
        ]
        .concat();
        let sets = [
            months(Date::constant(2024, 1, 1), Date::constant(2025, 1, 1)),
            with_gap,
            periods(
                Grain::Day,
                Date::constant(2024, 3, 20),
                Date::constant(2024, 4, 10),
                &berlin,
            ),
            periods(
                Grain::Week,
                Date::constant(2021, 1, 4),
                Date::constant(2024, 1, 1),
                &berlin,
            ),
            Vec::new(),
        ];
        for set in &sets {
            for (before, closed_right) in [(false, false), (true, false), (true, true)] {
                let bounds = set
                    .iter()
                    .map(|p| (p.start.as_microsecond(), p.end.as_microsecond()))
                    .collect();
                let signature = Signature::any(1, Volatility::Immutable);
                let bucket = PeriodBucket::new(signature, bounds, before, closed_right);
                assert_eq!(bucket.steps.one_per_cell(), !set.is_empty());
                let edges = bucket.bounds.iter().flat_map(|&(s, e)| [s, e]);
                let near = edges.flat_map(|t| [t - 1, t, t + 1]);
                let (low, high) = (1_600_000_000_000_000i64, 1_740_000_000_000_000i64);
                // 20,000 instants over four and a half years (multiples of a large step,
                // wrapped): about two hours apart on average, so every period gets some.
                let spread = (0..20_000i64).map(|i| low + (i * 7_919_000_003_137) % (high - low));
                let check = |t: i64| {
                    let want = bucket.index(t).unwrap_or(Steps::NULL);
                    assert_eq!(bucket.steps.at(t), want, "t = {t}, {before} {closed_right}");
                    want
                };
                for t in near.chain([i64::MIN, i64::MAX, 0]) {
                    check(t);
                }
                let mut inside = vec![0u32; set.len()];
                for t in spread {
                    if let Ok(k) = usize::try_from(check(t)) {
                        inside[k] += 1;
                    }
                }
                // Every period's cells were looked up, not only the edges and the gaps.
                assert!(inside.iter().all(|&hits| hits > 0), "{inside:?}");
            }
            // The count of ends at or before an instant, the grid of the health score.
            let ends: Vec<i64> = set.iter().map(|p| p.end.as_microsecond()).collect();
            let count = Count::new(&ends);
            let near = ends.iter().flat_map(|&t| [t - 1, t, t + 1]);
            for t in near.chain([i64::MIN, 0, 1_700_000_000_000_000, i64::MAX]) {
                let want = ends.partition_point(|e| *e <= t) as u32;
                assert_eq!(count.at(t), want, "t = {t}");
            }
        }
    }

    /// Change points too close together for a cell each take the looping step.
    #[test]
    fn close_change_points_take_the_loop() {
        let day = 86_400_000_000i64;
        let instants = [-day, 0, 1, 2, 5, 3 * day, 3 * day + 1, 400 * day];
        let count = Count::new(&instants);
        assert!(!count.one_per_cell());
        let spread = (0..5_000i64).map(|i| -2 * day + i * 8_640_000_017 % (500 * day));
        let near = instants.iter().flat_map(|&t| [t - 1, t, t + 1]);
        for t in near.chain(spread).chain([i64::MIN, i64::MAX]) {
            let want = instants.partition_point(|i| *i <= t) as u32;
            assert_eq!(count.at(t), want, "t = {t}");
        }
        // The grid function counts the instants strictly before.
        let before = count_before(&instants);
        for t in instants.iter().flat_map(|&t| [t - 1, t, t + 1]) {
            assert_eq!(before.at(t), instants.partition_point(|i| *i < t) as u32);
        }
        // Period ends a day or more apart take the comparison.
        let ends = [0, day, 2 * day, 30 * day];
        assert!(Count::new(&ends).one_per_cell());
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
