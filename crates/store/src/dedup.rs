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

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64;

use crate::idtable::IdTable;

const PARTITIONS: usize = 256;
/// Marks an entry whose row was not written (its content equals the stored row).
const UNCHANGED: u32 = u32::MAX;
/// Set on the ordinal of a written row whose id is already stored.
const EXISTS: u32 = 1 << 31;
/// Rows kept in memory before the partitions are appended to their spill files; with
/// ids of a dozen bytes this caps the bookkeeping at about 150 MB.
const SPILL_ROWS: usize = 4 << 20;

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
    spill_dir: PathBuf,
    /// One file per partition, created at the first spill: records of
    /// (hash u64, ordinal u32, id length u32, id bytes), in input order.
    spill: Option<Vec<BufWriter<File>>>,
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

/// One partition's entries with their ids, gathered from the spill file and memory.
struct Loaded {
    arena: Vec<u8>,
    /// (hash, ordinal, start, end) of each row, in input order.
    entries: Vec<(u64, u32, usize, usize)>,
}

impl Loaded {
    fn id(&self, entry: usize) -> &[u8] {
        let (_, _, start, end) = self.entries[entry];
        &self.arena[start..end]
    }
}

impl InputIds {
    /// Bookkeeping for one import; spill files, if needed, go in `spill_dir` (created
    /// then, removed when this is dropped).
    pub fn new(spill_dir: PathBuf) -> InputIds {
        InputIds {
            arena: Vec::new(),
            starts: Vec::new(),
            partitions: vec![Vec::new(); PARTITIONS],
            spill_dir,
            spill: None,
        }
    }

    /// Makes room for about `rows` more rows with ids of about `id_len` bytes.
    pub fn reserve(&mut self, rows: usize, id_len: usize) {
        let rows = rows.min(SPILL_ROWS);
        self.arena.reserve(rows * id_len);
        self.starts.reserve(rows);
        for p in &mut self.partitions {
            p.reserve(rows / PARTITIONS + rows / (PARTITIONS * 8));
        }
    }

    /// Records a valid row: `ordinal` is its position among the written rows, `None`
    /// when it was not written because it equals the stored row; `exists` whether its
    /// id is stored.
    pub fn push(&mut self, id: &str, ordinal: Option<u64>, exists: bool) -> io::Result<()> {
        let hash = xxh3_64(id.as_bytes());
        let number = self.starts.len() as u32;
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
        if self.starts.len() >= SPILL_ROWS {
            self.spill()?;
        }
        Ok(())
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

    /// Appends the rows in memory to the partitions' spill files and forgets them.
    fn spill(&mut self) -> io::Result<()> {
        if self.spill.is_none() {
            fs::create_dir_all(&self.spill_dir)?;
            let files = (0..PARTITIONS)
                .map(|p| File::create(spill_path(&self.spill_dir, p)).map(BufWriter::new))
                .collect::<io::Result<Vec<_>>>()?;
            self.spill = Some(files);
        }
        let files = self.spill.as_mut().expect("created");
        for (p, partition) in self.partitions.iter_mut().enumerate() {
            let out = &mut files[p];
            for entry in partition.iter() {
                let n = entry.id as usize;
                let start = self.starts[n] as usize;
                let end = self
                    .starts
                    .get(n + 1)
                    .map_or(self.arena.len(), |s| *s as usize);
                out.write_all(&entry.hash.to_le_bytes())?;
                out.write_all(&entry.ordinal.to_le_bytes())?;
                out.write_all(&((end - start) as u32).to_le_bytes())?;
                out.write_all(&self.arena[start..end])?;
            }
            partition.clear();
        }
        self.arena.clear();
        self.starts.clear();
        Ok(())
    }

    /// Partition `p`'s rows in input order: first those spilled, then those in memory.
    fn load(&self, p: usize) -> io::Result<Loaded> {
        let mut loaded = Loaded {
            arena: Vec::new(),
            entries: Vec::with_capacity(self.partitions[p].len()),
        };
        if self.spill.is_some() {
            let mut file = BufReader::new(File::open(spill_path(&self.spill_dir, p))?);
            let mut header = [0u8; 16];
            loop {
                match file.read_exact(&mut header) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
                let hash = u64::from_le_bytes(header[0..8].try_into().expect("8 bytes"));
                let ordinal = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
                let len = u32::from_le_bytes(header[12..16].try_into().expect("4 bytes")) as usize;
                let start = loaded.arena.len();
                loaded.arena.resize(start + len, 0);
                file.read_exact(&mut loaded.arena[start..])?;
                loaded.entries.push((hash, ordinal, start, start + len));
            }
        }
        for entry in &self.partitions[p] {
            let start = loaded.arena.len();
            loaded.arena.extend_from_slice(self.id(entry.id));
            loaded
                .entries
                .push((entry.hash, entry.ordinal, start, loaded.arena.len()));
        }
        Ok(loaded)
    }

    /// Decides the winning row of every id. The partitions are independent, so the
    /// two halves are resolved on two threads.
    pub fn resolve(mut self) -> io::Result<Resolution> {
        if let Some(files) = &mut self.spill {
            for file in files {
                file.flush()?;
            }
        }
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| self.resolve_partitions(PARTITIONS / 2..PARTITIONS));
            let first = self.resolve_partitions(0..PARTITIONS / 2);
            (first, second.join().expect("resolving ids panicked"))
        });
        let (mut out, other) = (first?, second?);
        out.dropped.extend(other.dropped);
        out.superseded += other.superseded;
        out.new += other.new;
        out.replaced += other.replaced;
        out.unchanged += other.unchanged;
        other.replaced_ids.for_each(|id, ()| {
            out.replaced_ids.insert(id, ());
        });
        out.dropped.sort_unstable();
        Ok(out)
    }

    fn resolve_partitions(&self, partitions: std::ops::Range<usize>) -> io::Result<Resolution> {
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
        let table_hash = |hash: u64| hash.rotate_left(8);
        let mut table: HashTable<u32> = HashTable::new();
        for p in partitions {
            let loaded = self.load(p)?;
            let entries = &loaded.entries;
            table.clear();
            table.reserve(entries.len(), |&i| table_hash(entries[i as usize].0));
            for (i, &(hash, _, _, _)) in entries.iter().enumerate() {
                let id = loaded.id(i);
                let found = table.find_mut(table_hash(hash), |&j| {
                    entries[j as usize].0 == hash && loaded.id(j as usize) == id
                });
                match found {
                    Some(slot) => {
                        let earlier = entries[*slot as usize].1;
                        out.superseded += 1;
                        if earlier != UNCHANGED {
                            out.dropped.push(u64::from(earlier & !EXISTS));
                        }
                        *slot = i as u32;
                    }
                    None => {
                        table.insert_unique(table_hash(hash), i as u32, |&j| {
                            table_hash(entries[j as usize].0)
                        });
                    }
                }
            }
            for &i in table.iter() {
                let ordinal = entries[i as usize].1;
                if ordinal == UNCHANGED {
                    out.unchanged += 1;
                } else if ordinal & EXISTS != 0 {
                    out.replaced += 1;
                    let id =
                        std::str::from_utf8(loaded.id(i as usize)).expect("ids are pushed as str");
                    out.replaced_ids.insert(id, ());
                } else {
                    out.new += 1;
                }
            }
        }
        Ok(out)
    }
}

impl Drop for InputIds {
    fn drop(&mut self) {
        if self.spill.take().is_some() {
            // Best effort: a directory left behind is removed by the next writer.
            let _ = fs::remove_dir_all(&self.spill_dir);
        }
    }
}

fn spill_path(dir: &Path, partition: usize) -> PathBuf {
    dir.join(format!("ids-{partition:03}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_row_of_an_id_wins() {
        let dir = tempfile::tempdir().unwrap();
        let mut ids = InputIds::new(dir.path().join("spill"));
        // a: written twice, then unchanged: both written rows are dropped.
        // b: new, written once. c: stored, replaced twice: the first is dropped.
        // d: stored and unchanged.
        ids.push("a", Some(0), true).unwrap();
        ids.push("b", Some(1), false).unwrap();
        ids.push("a", Some(2), true).unwrap();
        ids.push("c", Some(3), true).unwrap();
        ids.push("a", None, true).unwrap();
        ids.push("c", Some(4), true).unwrap();
        ids.push("d", None, true).unwrap();
        let r = ids.resolve().unwrap();
        assert_eq!(r.dropped, vec![0, 2, 3]);
        assert_eq!((r.superseded, r.new, r.replaced, r.unchanged), (3, 1, 1, 2));
        assert!(r.replaced_ids.get("c").is_some());
        assert!(r.replaced_ids.get("a").is_none());
    }

    #[test]
    fn many_ids_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let mut ids = InputIds::new(dir.path().join("spill"));
        for i in 0..100_000u64 {
            ids.push(&format!("id{}", i % 60_000), Some(i), false)
                .unwrap();
            // Spill part of the rows to disk, as a long import does.
            if i == 30_000 || i == 70_000 {
                ids.spill().unwrap();
            }
        }
        let r = ids.resolve().unwrap();
        // Ids 0..40,000 appear twice: their first rows (ordinals 0..40,000) are dropped.
        assert_eq!(r.new, 60_000);
        assert_eq!(r.superseded, 40_000);
        assert_eq!(r.dropped, (0..40_000).collect::<Vec<u64>>());
    }
}
