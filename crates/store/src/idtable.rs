//! A compact map from id strings to small values.
//!
//! Imports keep two of these: the ids already stored (with their part and row hash) and
//! the ids of the input so far (duplicates inside one input: the last valid row wins).
//! Ten million ids must fit well inside the import's memory goal, so the id bytes live
//! in one arena and the hash table holds 8-byte slots (entry number and part of the
//! hash): about 35 bytes per id of 10 characters in all, against about 80 for a
//! `HashMap<String, V>`.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// A table slot: the upper 32 bits of the id's hash and the entry number. Keeping part
/// of the hash in the slot means growing the table never reads the arena, and a lookup
/// reads the arena only for slots whose stored hash matches.
#[derive(Clone, Copy)]
struct Slot(u64);

impl Slot {
    fn new(hash32: u32, entry: u32) -> Slot {
        Slot((u64::from(hash32) << 32) | u64::from(entry))
    }

    fn hash32(self) -> u32 {
        (self.0 >> 32) as u32
    }

    fn entry(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }
}

/// Spreads 32 hash bits over 64 (hashbrown takes the bucket from the low bits and its
/// control byte from the top 7).
fn spread(hash32: u32) -> u64 {
    u64::from(hash32).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

pub(crate) struct IdTable<V> {
    arena: Vec<u8>,
    /// Start of entry i's id in `arena`; the end is the next entry's start.
    starts: Vec<u64>,
    values: Vec<V>,
    table: HashTable<Slot>,
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

    /// Makes room for `additional` more ids of about `id_len` bytes each.
    pub fn reserve(&mut self, additional: usize, id_len: usize) {
        self.arena.reserve(additional * id_len);
        self.starts.reserve(additional);
        self.values.reserve(additional);
        self.table.reserve(additional, |s| spread(s.hash32()));
    }

    fn id(&self, entry: usize) -> &[u8] {
        let start = self.starts[entry] as usize;
        let end = self
            .starts
            .get(entry + 1)
            .map_or(self.arena.len(), |s| *s as usize);
        &self.arena[start..end]
    }

    fn hash32(&self, id: &[u8]) -> u32 {
        (self.hasher.hash_one(id) >> 32) as u32
    }

    fn find(&self, id: &[u8], hash32: u32) -> Option<usize> {
        self.table
            .find(spread(hash32), |s| {
                s.hash32() == hash32 && self.id(s.entry()) == id
            })
            .map(|s| s.entry())
    }

    pub fn get(&self, id: &str) -> Option<&V> {
        if self.values.is_empty() {
            return None;
        }
        let hash32 = self.hash32(id.as_bytes());
        self.find(id.as_bytes(), hash32).map(|e| &self.values[e])
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, id: &str, value: V) -> Option<V> {
        let hash32 = self.hash32(id.as_bytes());
        if let Some(e) = self.find(id.as_bytes(), hash32) {
            return Some(std::mem::replace(&mut self.values[e], value));
        }
        let entry = u32::try_from(self.values.len()).expect("fewer than 4 billion ids");
        self.starts.push(self.arena.len() as u64);
        self.arena.extend_from_slice(id.as_bytes());
        self.values.push(value);
        self.table
            .insert_unique(spread(hash32), Slot::new(hash32, entry), |s| {
                spread(s.hash32())
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
