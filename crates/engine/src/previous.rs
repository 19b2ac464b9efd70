//! Keys of the rows that the per-customer passes read in storage order, and the
//! previous row's, compared before any hashing. The store keeps a customer's rows
//! together (imports write them as the files list them, and exports and the demo list
//! them by customer), so consecutive rows mostly name the same customer. Any order
//! stays correct, only slower.
//!
//! [`Index`] finds customers by id in one array of the customer table's ids, a
//! [`Cursor`] carrying the previous row's answer across streamed batches (and trying
//! the customers after it in the array before hashing), [`Cursors`] one per partition
//! of an interleaved stream; [`ViewKeys`] turns ids into keys equal exactly when the
//! ids are, for the passes that partition their rows by key (`seen::Partitioned`,
//! `seen::Runs`); [`Segments`] numbers the segment values of every pass; [`Dense`]
//! numbers borrowed keys in the order first seen (collected batches). With view
//! arrays, an id of up to 12 bytes is inline in its 16-byte view (length, bytes, zero
//! padding), so equal views are equal ids, across batches too, and comparing two rows
//! is one integer comparison.

use std::hash::{BuildHasher, Hash};

use arrow::array::{Array, AsArray, RecordBatch, StringViewArray};
use arrow::error::ArrowError;

/// Customers numbered by their row in one array of ids (customer c is row c), found
/// by the ids of other tables' rows: inline ids by their view, longer ones by text.
/// A [`Cursor`] carries what the previous row found, so a row naming the previous
/// row's customer, or one of the few after it in the array (sources and the customer
/// table listed in the same order, a source skipping customers without rows), is
/// found by comparisons of adjacent views, without hashing. The hash maps are built
/// when a row first needs them: building them for a million customers was a sixth of
/// `nps` by region's profile (hash inserts 11%, their page faults 6%).
#[derive(Debug)]
pub(crate) struct Index {
    ids: StringViewArray,
    maps: std::sync::OnceLock<Maps>,
    /// How many rows were found by a scan of the ids (see [`Index::far`]).
    scans: std::sync::atomic::AtomicUsize,
}

/// The hash maps of an [`Index`].
#[derive(Debug)]
struct Maps {
    inline: hashbrown::HashMap<u128, u32>,
    /// Rows of the longer ids, hashed by their text.
    long: hashbrown::HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

/// How many customers after the previous row's [`Index::find`] compares before hashing.
const AHEAD: usize = 8;

/// How many customers after the previous row's [`Index::find`] scans when the first
/// [`AHEAD`] are not it, before the hash maps exist.
const WINDOW: usize = 4096;

/// How many rows [`Index::find`] looks for in all the ids before it builds the hash
/// maps: about as many scans as one build costs (in the 1M scorecard's profile a
/// scan of a million ids took about a thirtieth of a build), so whatever the order
/// of a source, finding its customers costs at most twice the better of the two.
/// The scorecard's passes jumped 18 times in all (partitions and part files
/// starting mid-table), which eight scans an index left to two builds.
const SCANS: usize = 32;

/// Where the previous row of a pass was found (see [`Index::find`]).
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    /// The previous row's view, when inline, and what it found.
    last: Option<(u128, Option<u32>)>,
    /// The customer after the last one found.
    next: usize,
}

impl Maps {
    fn new(ids: &StringViewArray) -> Maps {
        let hasher = hashbrown::DefaultHashBuilder::default();
        let mut inline_ids = hashbrown::HashMap::with_capacity(ids.len());
        let mut long = hashbrown::HashTable::new();
        for (c, &view) in ids.views().iter().enumerate() {
            if ids.is_null(c) {
                continue;
            }
            if inline(view) {
                inline_ids.insert(view, c as u32);
                continue;
            }
            let id = ids.value(c);
            let hash = hasher.hash_one(id);
            match long.find_mut(hash, |&other: &u32| ids.value(other as usize) == id) {
                Some(other) => *other = c as u32,
                None => {
                    long.insert_unique(hash, c as u32, |&other: &u32| {
                        hasher.hash_one(ids.value(other as usize))
                    });
                }
            }
        }
        Maps {
            inline: inline_ids,
            long,
            hasher,
        }
    }
}

impl Index {
    /// Indexes `ids` (the array is shared, not copied), which should be distinct (of
    /// equal ids, any may be found).
    pub(crate) fn new(ids: &StringViewArray) -> Index {
        Index {
            ids: ids.clone(),
            maps: std::sync::OnceLock::new(),
            scans: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn maps(&self) -> &Maps {
        self.maps.get_or_init(|| Maps::new(&self.ids))
    }

    /// The customer named by row `row` of `column` (`None`: null, or not a customer).
    #[inline]
    pub(crate) fn find(
        &self,
        cursor: &mut Cursor,
        column: &StringViewArray,
        row: usize,
    ) -> Option<u32> {
        if column.is_null(row) {
            return None;
        }
        let view = column.views()[row];
        let found = match self.near(cursor, column, row) {
            Near::Same(found) => return found,
            Near::Found(c) => Some(c),
            Near::Unknown => self.far(cursor, column, row),
        };
        cursor.last = inline(view).then_some((view, found));
        if let Some(c) = found {
            cursor.next = c as usize + 1;
        }
        found
    }

    /// What adjacency tells of the (non-null) row `row` of `column`: the previous
    /// row's id, or the previous row's customer or one of the few after it.
    #[inline]
    fn near(&self, cursor: &Cursor, column: &StringViewArray, row: usize) -> Near {
        let view = column.views()[row];
        let views = self.ids.views();
        if inline(view) {
            if let Some((last, found)) = cursor.last
                && last == view
            {
                return Near::Same(found);
            }
            // The next few customers of the array (a source skips customers without
            // rows).
            let ahead =
                &views[cursor.next.min(views.len())..(cursor.next + AHEAD).min(views.len())];
            match ahead.iter().position(|v| *v == view) {
                Some(i) if self.ids.is_valid(cursor.next + i) => {
                    Near::Found((cursor.next + i) as u32)
                }
                _ => Near::Unknown,
            }
        } else {
            let id = column.value(row);
            let same = |c: usize| {
                c < views.len()
                    && views[c] as u32 == view as u32
                    && self.ids.is_valid(c)
                    && self.ids.value(c) == id
            };
            if cursor.next > 0 && same(cursor.next - 1) {
                Near::Found(cursor.next as u32 - 1)
            } else if same(cursor.next) {
                Near::Found(cursor.next as u32)
            } else {
                Near::Unknown
            }
        }
    }

    /// The customer of the (non-null) row `row` of `column` when adjacency could not
    /// tell. Until the hash maps exist, a scan of the customers after the cursor (a
    /// filtered source skips many), then, the first [`SCANS`] times, of all the ids
    /// (a pass starting in the middle of a table, as a second partition does, then
    /// continues by adjacency); when both fail too often, the hash maps, built then.
    #[cold]
    fn far(&self, cursor: &Cursor, column: &StringViewArray, row: usize) -> Option<u32> {
        let view = column.views()[row];
        let views = self.ids.views();
        if self.maps.get().is_none() {
            let id = (!inline(view)).then(|| column.value(row));
            let is = |c: usize, v: u128| match id {
                None => v == view && self.ids.is_valid(c),
                Some(id) => {
                    v as u64 == view as u64 && self.ids.is_valid(c) && self.ids.value(c) == id
                }
            };
            let scan = |from: usize, to: usize| (from..to).find(|&c| is(c, views[c]));
            let start = cursor.next.min(views.len());
            if let Some(c) = scan(start, (start + WINDOW).min(views.len())) {
                return Some(c as u32);
            }
            if self
                .scans
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                < SCANS
            {
                return scan(0, views.len()).map(|c| c as u32);
            }
        }
        let maps = self.maps();
        if inline(view) {
            maps.inline.get(&view).copied()
        } else {
            let id = column.value(row);
            maps.long
                .find(maps.hasher.hash_one(id), |&c| {
                    self.ids.value(c as usize) == id
                })
                .copied()
        }
    }
}

/// The cursors of the batches a pass has looked up, so that each batch continues
/// where the previous batch of its partition ended: a stream of several partitions
/// interleaves their batches, and one cursor going back and forth between them
/// found nothing by adjacency.
#[derive(Debug, Default)]
pub(crate) struct Cursors {
    kept: Vec<Cursor>,
}

/// How many cursors [`Cursors`] keeps (partitions, and a few more).
const CURSORS: usize = 16;

impl Cursors {
    /// The kept cursor that finds the first non-null row of `column` by adjacency, or
    /// a new one.
    pub(crate) fn take(&mut self, index: &Index, column: &StringViewArray) -> Cursor {
        let Some(row) = (0..column.len()).find(|&row| column.is_valid(row)) else {
            return Cursor::default();
        };
        match self
            .kept
            .iter()
            .rposition(|c| index.near(c, column, row) != Near::Unknown)
        {
            Some(i) => self.kept.swap_remove(i),
            None => Cursor::default(),
        }
    }

    /// Keeps `cursor` for a later batch, dropping the oldest beyond [`CURSORS`].
    pub(crate) fn keep(&mut self, cursor: Cursor) {
        if self.kept.len() == CURSORS {
            self.kept.remove(0);
        }
        self.kept.push(cursor);
    }
}

/// What adjacency tells of a row's customer (see [`Index::near`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Near {
    /// The previous row's id, with what it found.
    Same(Option<u32>),
    /// The previous row's customer or one of the few after it.
    Found(u32),
    /// Not near the previous row.
    Unknown,
}

/// Column `column` (views) of `batches` as one array: row c of the result is row c
/// of the batches read in order, its strings shared with them.
pub(crate) fn concat_views(
    batches: &[RecordBatch],
    column: usize,
) -> Result<StringViewArray, ArrowError> {
    let columns: Vec<&dyn Array> = batches.iter().map(|b| b.column(column).as_ref()).collect();
    if columns.is_empty() {
        return Ok(StringViewArray::from(Vec::<&str>::new()));
    }
    Ok(arrow::compute::concat(&columns)?.as_string_view().clone())
}

/// Whether a string view holds its value inline (12 bytes or fewer): its low 32 bits
/// are the length.
#[inline]
pub(crate) fn inline(view: u128) -> bool {
    (view as u32) <= 12
}

/// Keys of ids read from view arrays, equal exactly when the ids are: an inline id's
/// view, or for a longer id a number given when first seen, in a key whose length
/// field (the low 32 bits) no inline view has.
#[derive(Debug, Default)]
pub(crate) struct ViewKeys {
    long: hashbrown::HashMap<String, u128>,
}

impl ViewKeys {
    /// The key of row `row` of `ids`.
    #[inline]
    pub(crate) fn key(&mut self, ids: &StringViewArray, row: usize) -> u128 {
        let view = ids.views()[row];
        if inline(view) {
            return view;
        }
        let next = ((self.long.len() as u128) << 32) | u128::from(u32::MAX);
        *self.long.entry_ref(ids.value(row)).or_insert(next)
    }
}

/// Segments of view-array rows numbered 0, 1, 2, ... in the order first seen, the
/// previous row's compared first (segments are few, and rows of a segment follow
/// each other).
#[derive(Debug, Default)]
pub(crate) struct Segments {
    /// The segments in number order.
    pub(crate) names: Vec<String>,
    numbers: hashbrown::HashMap<String, u32>,
    last: Option<(u128, u32)>,
}

impl Segments {
    /// The number of row `row`'s segment, and whether it is new.
    #[inline]
    pub(crate) fn number(&mut self, segments: &StringViewArray, row: usize) -> (u32, bool) {
        let view = segments.views()[row];
        if let Some((last, s)) = self.last
            && last == view
            && inline(view)
        {
            return (s, false);
        }
        let name = segments.value(row);
        let (s, new) = match self.numbers.get(name) {
            Some(&s) => (s, false),
            None => {
                let s = self.names.len() as u32;
                self.names.push(name.to_string());
                self.numbers.insert(name.to_string(), s);
                (s, true)
            }
        };
        self.last = Some((view, s));
        (s, new)
    }
}

/// Dense indexes for keys in the order first seen, remembering the previous key's.
#[derive(Debug)]
pub(crate) struct Dense<K> {
    index: hashbrown::HashMap<K, usize>,
    previous: Option<(K, usize)>,
}

impl<K: Copy + Eq + Hash> Dense<K> {
    pub(crate) fn new() -> Dense<K> {
        Dense {
            index: hashbrown::HashMap::new(),
            previous: None,
        }
    }

    /// The index of `key`, and whether it is new (then it is the number of keys seen
    /// before it).
    #[inline]
    pub(crate) fn index(&mut self, key: K) -> (usize, bool) {
        if let Some((last, at)) = self.previous
            && last == key
        {
            return (at, false);
        }
        let next = self.index.len();
        let at = *self.index.entry(key).or_insert(next);
        self.previous = Some((key, at));
        (at, at == next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_numbers_keys_in_the_order_first_seen() {
        let mut dense = Dense::new();
        let got: Vec<(usize, bool)> = [("s", "a"), ("s", "a"), ("t", "a"), ("s", "b"), ("s", "a")]
            .into_iter()
            .map(|key| dense.index(key))
            .collect();
        assert_eq!(
            got,
            [(0, true), (0, false), (1, true), (2, true), (0, false)]
        );
    }

    #[test]
    fn the_index_finds_ids_across_batches_in_any_order() {
        // Ids of 13 bytes and more are not inline in their views.
        let long = "customer-0000001";
        let customers = StringViewArray::from(vec![Some("C1"), Some(long), None, Some("C3")]);
        let index = Index::new(&customers);
        let first = StringViewArray::from(vec![Some("C1"), Some("C1"), Some(long), None]);
        let second = StringViewArray::from(vec!["C3", "C9", "C1", long, long, "C3", ""]);
        let mut cursor = Cursor::default();
        let mut found = Vec::new();
        for ids in [&first, &second] {
            for row in 0..ids.len() {
                found.push(index.find(&mut cursor, ids, row));
            }
        }
        let expected = [
            Some(0),
            Some(0),
            Some(1),
            None,
            Some(3),
            None,
            Some(0),
            Some(1),
            Some(1),
            Some(3),
            None,
        ];
        assert_eq!(found, expected);
        // A fresh cursor finds the same without the previous rows.
        for (ids, row, expected) in [
            (&second, 1, None),
            (&second, 3, Some(1)),
            (&first, 0, Some(0)),
        ] {
            assert_eq!(index.find(&mut Cursor::default(), ids, row), expected);
        }
    }

    #[test]
    fn the_index_finds_as_a_map_does_by_every_path() {
        // Ids inline and long, and a null.
        let id = |i: usize| {
            if i.is_multiple_of(3) {
                format!("customer-{i:010}")
            } else {
                format!("C{i}")
            }
        };
        let mut ids: Vec<Option<String>> = (0..6000).map(|i| Some(id(i))).collect();
        ids[17] = None;
        let expected: std::collections::HashMap<String, u32> = ids
            .iter()
            .enumerate()
            .filter_map(|(c, id)| Some((id.clone()?, c as u32)))
            .collect();
        let customers = StringViewArray::from(ids.clone());
        // In order with gaps beyond `AHEAD` and within `WINDOW` (found by the window),
        // then back to an earlier customer (by a scan of all the ids) and on in order,
        // then in an order where neither finds them, past `SCANS` (by the hash maps),
        // with unknown ids.
        let in_order: Vec<String> = (0..3000).step_by(37).map(id).collect();
        let back: Vec<String> = (1000..1100).map(id).collect();
        let mut x = 7u64;
        let random: Vec<String> = (0..200)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                id((x >> 33) as usize % 6100)
            })
            .collect();
        let index = Index::new(&customers);
        let mut cursor = Cursor::default();
        let scans = || index.scans.load(std::sync::atomic::Ordering::Relaxed);
        for (wanted, scans_after, maps_after) in [
            (&in_order, 0, false),
            (&back, 1, false),
            (&random, SCANS + 1, true),
        ] {
            let source =
                StringViewArray::from(wanted.iter().map(String::as_str).collect::<Vec<_>>());
            for (row, id) in wanted.iter().enumerate() {
                assert_eq!(
                    index.find(&mut cursor, &source, row),
                    expected.get(id).copied(),
                    "{id}"
                );
            }
            assert_eq!(
                (scans(), index.maps.get().is_some()),
                (scans_after, maps_after)
            );
        }
    }

    #[test]
    fn kept_cursors_continue_interleaved_partitions() {
        // Two partitions read in order, from customer 0 and from customer 6000 (past
        // the window), their batches interleaved as a merged stream delivers them.
        let customers =
            StringViewArray::from((0..12_000).map(|i| format!("C{i}")).collect::<Vec<_>>());
        let index = Index::new(&customers);
        let mut cursors = Cursors::default();
        for batch in 0..20 {
            let first = if batch % 2 == 0 { 0 } else { 6000 } + batch / 2 * 300;
            let ids: Vec<String> = (first..first + 300).map(|i| format!("C{i}")).collect();
            let column = StringViewArray::from(ids.iter().map(String::as_str).collect::<Vec<_>>());
            let mut cursor = cursors.take(&index, &column);
            for (row, i) in (first..first + 300).enumerate() {
                assert_eq!(index.find(&mut cursor, &column, row), Some(i as u32));
            }
            cursors.keep(cursor);
        }
        // One scan found the second partition's start; every other row was adjacent.
        assert_eq!(index.scans.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert!(index.maps.get().is_none());
    }

    #[test]
    fn view_keys_are_equal_exactly_when_the_ids_are() {
        let long = "customer-0000001";
        let first = StringViewArray::from(vec!["C1", long, "customer-0000002", ""]);
        let second = StringViewArray::from(vec![long, "C1", "customer-0000002", "C2"]);
        let mut keys = ViewKeys::default();
        let a: Vec<u128> = (0..4).map(|row| keys.key(&first, row)).collect();
        let b: Vec<u128> = (0..4).map(|row| keys.key(&second, row)).collect();
        assert_eq!((a[0], a[1], a[2]), (b[1], b[0], b[2]));
        let mut all = vec![a[0], a[1], a[2], a[3], b[3]];
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn segments_are_numbered_as_first_seen_across_batches() {
        let long = "a segment of more than 12 bytes";
        let first = StringViewArray::from(vec!["b", "b", long, "a"]);
        let second = StringViewArray::from(vec![long, "b", "a", "c"]);
        let mut segments = Segments::default();
        let got: Vec<(u32, bool)> = [&first, &second]
            .iter()
            .flat_map(|array| {
                (0..4)
                    .map(|row| segments.number(array, row))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            got,
            [
                (0, true),
                (0, false),
                (1, true),
                (2, true),
                (1, false),
                (0, false),
                (2, false),
                (3, true)
            ]
        );
        assert_eq!(segments.names, ["b", long, "a", "c"]);
    }
}
