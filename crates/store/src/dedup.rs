//! Which row of each id an import keeps, decided after the input is read.
//!
//! Inside one import the last valid row of an id wins. Checking every row against a
//! table of all ids seen so far costs two random memory accesses per row once the table
//! outgrows the caches (about 250 ns a row at ten million ids, most of an import's
//! time). Instead, while streaming, each row's id is appended to an arena and a 16-byte
//! entry (id hash, id number, ordinal) to one of 256 partitions chosen by the hash's top
//! byte: sequential writes only. At the end each partition (1/256 of the rows) is
//! resolved with a hash table small enough to stay in cache, in input order, so the
//! last row of an id wins. Ids are compared byte for byte whenever hashes are equal, so
//! a hash collision can never merge two ids.

use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64;

use crate::idtable::IdTable;

const PARTITIONS: usize = 256;
/// Marks an entry whose row was not written (its content equals the stored row).
const UNCHANGED: u32 = u32::MAX;
/// Set on the ordinal of a written row whose id is already stored.
const EXISTS: u32 = 1 << 31;

#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    /// Index into `starts` (the id's bytes in the arena).
    id: u32,
    /// The row's ordinal among the written rows (with `EXISTS`), or `UNCHANGED`.
    ordinal: u32,
}

/// The ids of an import's valid rows, in input order.
pub(crate) struct InputIds {
    arena: Vec<u8>,
    starts: Vec<u64>,
    partitions: Vec<Vec<Entry>>,
}

/// The outcome for the import's ids.
pub(crate) struct Resolution {
    /// Ordinals of written rows superseded by a later row of the same id.
    pub dropped: Vec<u64>,
    /// Valid rows superseded by a later row of the same id.
    pub superseded: u64,
    /// Ids not stored before.
    pub new: u64,
    /// Ids stored before, whose row is replaced.
    pub replaced: u64,
    /// Ids whose last row equals the stored row.
    pub unchanged: u64,
    /// The replaced ids.
    pub replaced_ids: IdTable<()>,
}

impl InputIds {
    pub fn new() -> InputIds {
        InputIds {
            arena: Vec::new(),
            starts: Vec::new(),
            partitions: vec![Vec::new(); PARTITIONS],
        }
    }

    /// Makes room for about `rows` more rows with ids of about `id_len` bytes.
    pub fn reserve(&mut self, rows: usize, id_len: usize) {
        self.arena.reserve(rows * id_len);
        self.starts.reserve(rows);
        for p in &mut self.partitions {
            p.reserve(rows / PARTITIONS + rows / (PARTITIONS * 8));
        }
    }

    /// Records a valid row: `ordinal` is its position among the written rows, `None`
    /// when it was not written because it equals the stored row; `exists` whether its
    /// id is stored.
    pub fn push(&mut self, id: &str, ordinal: Option<u64>, exists: bool) {
        let hash = xxh3_64(id.as_bytes());
        let number = u32::try_from(self.starts.len()).expect("fewer than 4 billion rows an import");
        self.starts.push(self.arena.len() as u64);
        self.arena.extend_from_slice(id.as_bytes());
        let ordinal = match ordinal {
            None => UNCHANGED,
            Some(o) => {
                let o = u32::try_from(o)
                    .ok()
                    .filter(|o| *o < EXISTS)
                    .expect("fewer than 2^31 rows an import");
                if exists { o | EXISTS } else { o }
            }
        };
        self.partitions[(hash >> 56) as usize].push(Entry {
            hash,
            id: number,
            ordinal,
        });
    }

    fn id(&self, number: u32) -> &[u8] {
        let n = number as usize;
        let start = self.starts[n] as usize;
        let end = self
            .starts
            .get(n + 1)
            .map_or(self.arena.len(), |s| *s as usize);
        &self.arena[start..end]
    }

    /// Decides the winning row of every id. The partitions are independent, so the
    /// two halves are resolved on two threads.
    pub fn resolve(self) -> Resolution {
        let (low, high) = self.partitions.split_at(PARTITIONS / 2);
        let (mut out, other) = std::thread::scope(|scope| {
            let other = scope.spawn(|| self.resolve_partitions(high));
            (
                self.resolve_partitions(low),
                other.join().expect("resolving ids panicked"),
            )
        });
        out.dropped.extend(other.dropped);
        out.superseded += other.superseded;
        out.new += other.new;
        out.replaced += other.replaced;
        out.unchanged += other.unchanged;
        other.replaced_ids.for_each(|id, ()| {
            out.replaced_ids.insert(id, ());
        });
        out.dropped.sort_unstable();
        out
    }

    fn resolve_partitions(&self, partitions: &[Vec<Entry>]) -> Resolution {
        let mut out = Resolution {
            dropped: Vec::new(),
            superseded: 0,
            new: 0,
            replaced: 0,
            unchanged: 0,
            replaced_ids: IdTable::new(),
        };
        // Within a partition the top byte is constant: rotate it out of the bits
        // hashbrown uses for its control bytes.
        let table_hash = |e: &Entry| e.hash.rotate_left(8);
        let mut table: HashTable<u32> = HashTable::new();
        for partition in partitions {
            table.clear();
            table.reserve(partition.len(), |&i| table_hash(&partition[i as usize]));
            for (i, entry) in partition.iter().enumerate() {
                let id = self.id(entry.id);
                let found = table.find_mut(table_hash(entry), |&j| {
                    let other = &partition[j as usize];
                    other.hash == entry.hash && self.id(other.id) == id
                });
                match found {
                    Some(slot) => {
                        let earlier = partition[*slot as usize];
                        out.superseded += 1;
                        if earlier.ordinal != UNCHANGED {
                            out.dropped.push(u64::from(earlier.ordinal & !EXISTS));
                        }
                        *slot = i as u32;
                    }
                    None => {
                        table.insert_unique(table_hash(entry), i as u32, |&j| {
                            table_hash(&partition[j as usize])
                        });
                    }
                }
            }
            for &i in table.iter() {
                let winner = partition[i as usize];
                if winner.ordinal == UNCHANGED {
                    out.unchanged += 1;
                } else if winner.ordinal & EXISTS != 0 {
                    out.replaced += 1;
                    let id =
                        std::str::from_utf8(self.id(winner.id)).expect("ids are pushed as str");
                    out.replaced_ids.insert(id, ());
                } else {
                    out.new += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_row_of_an_id_wins() {
        let mut ids = InputIds::new();
        // a: written twice, then unchanged: both written rows are dropped.
        // b: new, written once. c: stored, replaced twice: the first is dropped.
        // d: stored and unchanged.
        ids.push("a", Some(0), true);
        ids.push("b", Some(1), false);
        ids.push("a", Some(2), true);
        ids.push("c", Some(3), true);
        ids.push("a", None, true);
        ids.push("c", Some(4), true);
        ids.push("d", None, true);
        let r = ids.resolve();
        assert_eq!(r.dropped, vec![0, 2, 3]);
        assert_eq!((r.superseded, r.new, r.replaced, r.unchanged), (3, 1, 1, 2));
        assert!(r.replaced_ids.get("c").is_some());
        assert!(r.replaced_ids.get("a").is_none());
    }

    #[test]
    fn many_ids_and_duplicates() {
        let mut ids = InputIds::new();
        for i in 0..100_000u64 {
            ids.push(&format!("id{}", i % 60_000), Some(i), false);
        }
        let r = ids.resolve();
        // Ids 0..40,000 appear twice: their first rows (ordinals 0..40,000) are dropped.
        assert_eq!(r.new, 60_000);
        assert_eq!(r.superseded, 40_000);
        assert_eq!(r.dropped, (0..40_000).collect::<Vec<u64>>());
    }
}
