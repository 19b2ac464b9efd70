//! Step functions of instants evaluated by table lookup: the period of an instant
//! (the engine's period buckets), how many sorted instants are at or before one (the
//! health grid, CLV's windows, business-hours openings). Instants arrive in no
//! order, so a binary search mispredicted a branch per level on every row.

/// The number of sorted `instants` at or before an instant, by a [`Steps`] table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Count(Steps);

impl Count {
    /// The count of `instants` (sorted).
    pub fn new(instants: &[i64]) -> Count {
        let count = |t: i64| Some(instants.partition_point(|i| *i <= t) as i32);
        Count(Steps::new(instants.iter().copied(), count))
    }

    /// How many of the instants are at or before `t`.
    #[inline]
    pub fn at(&self, t: i64) -> u32 {
        self.0.at(t) as u32
    }

    /// Whether its lookup is one comparison (see [`Steps`]).
    pub fn one_per_cell(&self) -> bool {
        self.0.one_per_cell()
    }
}

/// A step function of instants, evaluated by a table lookup: `values[j]` is its value
/// where exactly j of the sorted change points are at or before the instant. A coarse
/// table of cells of 2^shift microseconds holds the change points at or before each
/// cell's start, so evaluating is one load and a step over the change points inside
/// the cell, where a binary search over the change points cost a branch
/// misprediction per level (instants arrive in no order). Cells are made no wider
/// than the closest two change points (period bounds are local midnights, at least
/// 23 hours apart), so a cell holds at most one and the step is a comparison without
/// a branch; when that would take too many cells, the step is a loop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Steps {
    /// The change points, sorted, distinct.
    changes: Vec<i64>,
    /// The value after j change points, [`Steps::NULL`] for none.
    values: Vec<i32>,
    /// One microsecond before the first change point: cell 0 starts there.
    origin: i64,
    shift: u32,
    /// Per cell, the change points at or before its start.
    coarse: Vec<u32>,
    /// Whether a cell holds at most one change point.
    one_per_cell: bool,
}

impl Steps {
    /// The value standing for "no value".
    pub const NULL: i32 = i32::MIN;

    /// The most cells made for a branch-free step (256 KiB of table).
    const MAX_CELLS: u64 = 1 << 16;

    /// The step function changing value at `changes` (any order) and equal to `f`
    /// elsewhere; `f` must not change between consecutive change points.
    pub fn new(changes: impl IntoIterator<Item = i64>, f: impl Fn(i64) -> Option<i32>) -> Steps {
        let mut changes: Vec<i64> = changes.into_iter().collect();
        changes.sort_unstable();
        changes.dedup();
        let (Some(&first), Some(&last)) = (changes.first(), changes.last()) else {
            let value = f(0).unwrap_or(Steps::NULL);
            return Steps {
                values: vec![value],
                coarse: vec![0],
                ..Steps::default()
            };
        };
        // j change points passed: the instant before the first for j = 0, the j-th
        // change point itself after that.
        let mut values: Vec<i32> = std::iter::once(first - 1)
            .chain(changes.iter().copied())
            .map(|t| f(t).unwrap_or(Steps::NULL))
            .collect();
        let origin = first - 1;
        let span = last.abs_diff(origin);
        // Cells no wider than the closest change points, when that is few enough;
        // else about eight cells per change point, so that most cells hold none.
        let closest = changes.windows(2).map(|w| w[1].abs_diff(w[0])).min();
        let narrow = closest.map_or(63, |gap| gap.ilog2());
        let one_per_cell = span >> narrow < Steps::MAX_CELLS;
        let shift = if one_per_cell {
            narrow
        } else {
            let cells = (changes.len() as u64 * 8).max(64);
            (0..63).find(|s| span >> s < cells).unwrap_or(63)
        };
        let coarse = (0..=span >> shift)
            .map(|c| {
                let start = origin.saturating_add_unsigned(c << shift);
                changes.partition_point(|&t| t <= start) as u32
            })
            .collect();
        // The branch-free step may pass the last change point once more (an instant
        // at i64::MAX): a last value repeated, and a change point that stops nothing.
        values.push(*values.last().expect("one per change point and one more"));
        changes.push(i64::MAX);
        Steps {
            changes,
            values,
            origin,
            shift,
            coarse,
            one_per_cell,
        }
    }

    /// Whether a cell holds at most one change point (the lookup is one comparison).
    pub fn one_per_cell(&self) -> bool {
        self.one_per_cell
    }

    /// The value at instant `t`.
    #[inline]
    pub fn at(&self, t: i64) -> i32 {
        // Instants before the origin are in cell 0 (no change point at or before its
        // start), instants after the last cell in the last.
        let offset = t.max(self.origin).wrapping_sub(self.origin) as u64;
        let cell = ((offset >> self.shift) as usize).min(self.coarse.len() - 1);
        let mut j = self.coarse[cell] as usize;
        if self.one_per_cell {
            // `changes` ends with i64::MAX, so `j` stays a valid index.
            j += usize::from(self.changes[j] <= t);
        } else {
            while j + 1 < self.changes.len() && self.changes[j] <= t {
                j += 1;
            }
        }
        self.values[j]
    }
}
