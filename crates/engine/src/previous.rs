//! The previous row's key, for the per-customer passes that read a source's rows in
//! storage order and find each row's customer (or segment and customer) by id. The
//! store keeps a customer's rows together (imports write them as the files list them,
//! and exports and the demo list them by customer), so consecutive rows mostly name
//! the same customer: comparing with the previous key skips the hash lookup. Any
//! order stays correct, only slower.
//!
//! [`PreviousRow`] looks ids up in an index built elsewhere (owning the last id, so it
//! works across streamed batches); [`Dense`] numbers borrowed keys 0, 1, 2, ... in the
//! order first seen (collected batches).

use std::hash::Hash;

/// The last id looked up and what the lookup found.
#[derive(Debug, Default)]
pub(crate) struct PreviousRow {
    last: Option<(String, Option<u32>)>,
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
}
