//! The previous row's key, for the per-customer passes that read a source's rows in
//! storage order and find each row's customer (or segment and customer) by id. The
//! store keeps a customer's rows together (imports write them as the files list them,
//! and exports and the demo list them by customer), so consecutive rows mostly name
//! the same customer: comparing with the previous key skips the hash lookup. Any
//! order stays correct, only slower.
//!
//! [`PreviousRow`] looks ids up in an index built elsewhere (owning the last id, so it
//! works across streamed batches), for text or view arrays; [`DensePairs`] numbers
//! (segment, id) pairs of view arrays 0, 1, 2, ... in the order first seen, across
//! streamed batches; [`Dense`] numbers borrowed keys in the order first seen
//! (collected batches). With view arrays, an id of up to 12 bytes is inline in its
//! 16-byte view (length, bytes, zero padding), so equal views are equal ids, across
//! batches too, and comparing two rows is one integer comparison.

use std::hash::Hash;

use arrow::array::StringViewArray;

/// The last id looked up and what the lookup found.
#[derive(Debug, Default)]
pub(crate) struct PreviousRow {
    last: Option<(String, Option<u32>)>,
    /// The previous row's view when its id was inline (see [`PreviousRow::find_view`]).
    last_view: Option<(u128, Option<u32>)>,
}

impl PreviousRow {
    /// The index of customer `id`: the previous row's answer when it named the same
    /// customer, else `lookup(id)`.
    #[inline]
    pub(crate) fn find(
        &mut self,
        id: &str,
        lookup: impl FnOnce(&str) -> Option<u32>,
    ) -> Option<u32> {
        match &mut self.last {
            Some((last, found)) if last == id => *found,
            Some((last, found)) => {
                last.clear();
                last.push_str(id);
                *found = lookup(id);
                *found
            }
            None => {
                let found = lookup(id);
                self.last = Some((id.to_string(), found));
                found
            }
        }
    }

    /// [`PreviousRow::find`] for row `row` of a view array, which first compares the
    /// row's view with the previous row's when both are inline. Longer ids go through
    /// `find`.
    #[inline]
    pub(crate) fn find_view(
        &mut self,
        ids: &StringViewArray,
        row: usize,
        lookup: impl FnOnce(&str) -> Option<u32>,
    ) -> Option<u32> {
        let view = ids.views()[row];
        if !inline(view) {
            self.last_view = None;
            return self.find(ids.value(row), lookup);
        }
        if let Some((last, found)) = self.last_view
            && last == view
        {
            return found;
        }
        let found = self.find(ids.value(row), lookup);
        self.last_view = Some((view, found));
        found
    }
}

/// Whether a string view holds its value inline (12 bytes or fewer): its low 32 bits
/// are the length.
fn inline(view: u128) -> bool {
    (view as u32) <= 12
}

/// Dense numbers for (segment, id) pairs read row by row from view arrays, across
/// streamed batches: segments and pairs are numbered 0, 1, 2, ... in the order first
/// seen, so no batch needs to outlive its pass. An inline id (see [`inline`]) is keyed
/// by its view, one 16-byte integer; a longer one is owned once when first seen. A
/// row whose two views equal the previous row's inline views is the previous pair
/// without hashing.
#[derive(Debug, Default)]
pub(crate) struct DensePairs {
    /// The segments in number order.
    pub(crate) segments: Vec<String>,
    segment_index: hashbrown::HashMap<String, usize>,
    /// Per segment, id -> pair number: inline ids by view, longer ones by text.
    ids: Vec<(
        hashbrown::HashMap<u128, usize>,
        hashbrown::HashMap<String, usize>,
    )>,
    pairs: usize,
    last: Option<(u128, u128, usize, usize)>,
}

impl DensePairs {
    /// The (segment number, pair number) of row `row`, and whether the pair is new
    /// (then its number is the number of pairs seen before it).
    #[inline]
    pub(crate) fn index(
        &mut self,
        segments: &StringViewArray,
        ids: &StringViewArray,
        row: usize,
    ) -> (usize, usize, bool) {
        let views = (segments.views()[row], ids.views()[row]);
        let inline_pair = inline(views.0) && inline(views.1);
        if let Some((a, b, segment, pair)) = self.last
            && inline_pair
            && (a, b) == views
        {
            return (segment, pair, false);
        }
        let name = segments.value(row);
        let segment = match self.segment_index.get(name) {
            Some(&at) => at,
            None => {
                let at = self.segments.len();
                self.segments.push(name.to_string());
                self.segment_index.insert(name.to_string(), at);
                self.ids.push(Default::default());
                at
            }
        };
        let next = self.pairs;
        let (by_view, by_text) = &mut self.ids[segment];
        let pair = if inline(views.1) {
            *by_view.entry(views.1).or_insert(next)
        } else {
            let id = ids.value(row);
            match by_text.get(id) {
                Some(&at) => at,
                None => {
                    by_text.insert(id.to_string(), next);
                    next
                }
            }
        };
        let new = pair == next;
        self.pairs += usize::from(new);
        self.last = inline_pair.then_some((views.0, views.1, segment, pair));
        (segment, pair, new)
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
    use arrow::array::Array;

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
    fn looks_up_only_when_the_id_changes() {
        let ids = ["a", "a", "b", "zz", "zz", "a", "", ""];
        let mut lookups = Vec::new();
        let mut previous = PreviousRow::default();
        let found: Vec<Option<u32>> = ids
            .iter()
            .map(|id| {
                previous.find(id, |id| {
                    lookups.push(id.to_string());
                    (id != "zz").then_some(id.len() as u32)
                })
            })
            .collect();
        assert_eq!(
            found,
            [
                Some(1),
                Some(1),
                Some(1),
                None,
                None,
                Some(1),
                Some(0),
                Some(0)
            ]
        );
        assert_eq!(lookups, ["a", "b", "zz", "a", ""]);
    }

    #[test]
    fn views_look_up_only_when_the_id_changes_across_batches() {
        // Ids of 13 bytes and more are not inline in their views and go through `find`.
        let long = "customer-0000001";
        let first = StringViewArray::from(vec!["C1", "C1", long, long, "C2"]);
        let second = StringViewArray::from(vec!["C2", "C2", long, "C1"]);
        let mut lookups = Vec::new();
        let mut previous = PreviousRow::default();
        let mut found = Vec::new();
        for ids in [&first, &second] {
            for row in 0..ids.len() {
                found.push(previous.find_view(ids, row, |id| {
                    lookups.push(id.to_string());
                    Some(id.len() as u32)
                }));
            }
        }
        let expected: Vec<Option<u32>> = [2, 2, 16, 16, 2, 2, 2, 16, 2].map(Some).to_vec();
        assert_eq!(found, expected);
        assert_eq!(lookups, ["C1", long, "C2", long, "C1"]);
    }

    #[test]
    fn dense_pairs_number_segments_and_pairs_across_batches() {
        let long = "customer-0000001";
        let batches = [
            (vec!["s", "s", "t", "s"], vec!["a", "a", "a", long]),
            (vec!["s", "t", "s", "s"], vec![long, "a", "a", "b"]),
        ];
        let mut dense = DensePairs::default();
        let mut got = Vec::new();
        for (segments, ids) in batches {
            let (segments, ids) = (StringViewArray::from(segments), StringViewArray::from(ids));
            for row in 0..ids.len() {
                got.push(dense.index(&segments, &ids, row));
            }
        }
        assert_eq!(
            got,
            [
                (0, 0, true),
                (0, 0, false),
                (1, 1, true),
                (0, 2, true),
                (0, 2, false),
                (1, 1, false),
                (0, 0, false),
                (0, 3, true)
            ]
        );
        assert_eq!(dense.segments, ["s", "t"]);
    }
}
