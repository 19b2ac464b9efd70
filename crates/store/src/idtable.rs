//! A compact map from id strings to small values.
//!
//! Imports keep two of these: the ids already stored (with their part and row hash) and
//! the ids of the input so far (duplicates inside one input: the last valid row wins).
//! Ten million ids must fit well inside the import's memory goal, so the id bytes live
//! in one arena and the hash table holds only 4-byte entry numbers (about 30 bytes per
//! id in all, against about 80 for a `HashMap<String, V>`).

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

pub(crate) struct IdTable<V> {
    arena: Vec<u8>,
    /// Start of entry i's id in `arena`; the end is the next entry's start.
    starts: Vec<u64>,
    values: Vec<V>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl<V> IdTable<V> {
    pub fn new() -> Self {
        IdTable {
            arena: Vec::new(),
            starts: Vec::new(),
            values: Vec::new(),
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    fn id(&self, entry: usize) -> &[u8] {
        let start = self.starts[entry] as usize;
        let end = self
            .starts
            .get(entry + 1)
            .map_or(self.arena.len(), |s| *s as usize);
        &self.arena[start..end]
    }

    fn find(&self, id: &[u8], hash: u64) -> Option<usize> {
        self.table
            .find(hash, |&e| self.id(e as usize) == id)
            .map(|&e| e as usize)
    }

    pub fn get(&self, id: &str) -> Option<&V> {
        let hash = self.hasher.hash_one(id.as_bytes());
        self.find(id.as_bytes(), hash).map(|e| &self.values[e])
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, id: &str, value: V) -> Option<V> {
        let hash = self.hasher.hash_one(id.as_bytes());
        if let Some(e) = self.find(id.as_bytes(), hash) {
            return Some(std::mem::replace(&mut self.values[e], value));
        }
        let entry = u32::try_from(self.values.len()).expect("fewer than 4 billion ids");
        self.starts.push(self.arena.len() as u64);
        self.arena.extend_from_slice(id.as_bytes());
        self.values.push(value);
        let Self {
            table,
            hasher,
            starts,
            arena,
            ..
        } = self;
        table.insert_unique(hash, entry, |&e| {
            let e = e as usize;
            let start = starts[e] as usize;
            let end = starts.get(e + 1).map_or(arena.len(), |s| *s as usize);
            hasher.hash_one(&arena[start..end])
        });
        None
    }

    /// Calls `f` with every id and value, in insertion order.
    pub fn for_each(&self, mut f: impl FnMut(&str, &V)) {
        for (e, value) in self.values.iter().enumerate() {
            let id = std::str::from_utf8(self.id(e)).expect("ids are inserted as str");
            f(id, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_replace() {
        let mut t = IdTable::new();
        assert_eq!(t.insert("a", 1), None);
        assert_eq!(t.insert("bb", 2), None);
        assert_eq!(t.insert("", 3), None);
        assert_eq!(t.insert("a", 4), Some(1));
        assert_eq!(t.get("a"), Some(&4));
        assert_eq!(t.get("bb"), Some(&2));
        assert_eq!(t.get(""), Some(&3));
        assert_eq!(t.get("b"), None);
        for i in 0..10_000 {
            t.insert(&format!("id{i}"), i);
        }
        assert!((0..10_000).all(|i| t.get(&format!("id{i}")) == Some(&i)));
        let mut n = 0;
        t.for_each(|id, v| {
            n += 1;
            if id == "a" {
                assert_eq!(*v, 4);
            }
        });
        assert_eq!(n, 10_003);
    }
}
