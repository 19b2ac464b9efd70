//! Counting distinct keys in the passes that replace `count_distinct`.

/// A set of small integer keys: a bitmap while the key space fits in 32 MiB (a
/// year's scorecard of a million customers needs 3 MiB), else a hash set.
pub(crate) enum Seen {
    Bits(Vec<u64>),
    Set(hashbrown::HashSet<usize>),
}

impl Seen {
    /// A set for keys below `space`.
    pub(crate) fn new(space: usize) -> Seen {
        if space <= 1 << 28 {
            Seen::Bits(vec![0; space.div_ceil(64)])
        } else {
            Seen::Set(hashbrown::HashSet::new())
        }
    }

    /// Whether `key` is in the set.
    pub(crate) fn contains(&self, key: usize) -> bool {
        match self {
            Seen::Bits(words) => words[key / 64] & (1u64 << (key % 64)) != 0,
            Seen::Set(set) => set.contains(&key),
        }
    }

    /// Adds `key`; whether it was new.
    pub(crate) fn insert(&mut self, key: usize) -> bool {
        match self {
            Seen::Bits(words) => {
                let (word, bit) = (key / 64, 1u64 << (key % 64));
                let new = words[word] & bit == 0;
                words[word] |= bit;
                new
            }
            Seen::Set(set) => set.insert(key),
        }
    }
}

/// Values spread over 256 partitions by a hash of a 128-bit key, so that the values
/// of a key share a partition: appends are sequential, and each partition, sorted at
/// the end, fits the cache. A hash map over millions of keys missed the cache on
/// nearly every new key.
#[derive(Debug)]
pub(crate) struct Partitioned<T> {
    parts: Vec<Vec<T>>,
}

impl<T> Partitioned<T> {
    pub(crate) fn new() -> Partitioned<T> {
        Partitioned {
            parts: (0..256).map(|_| Vec::new()).collect(),
        }
    }

    /// Appends `value` to the partition of `key`; its partition.
    #[inline]
    pub(crate) fn push(&mut self, key: u128, value: T) -> usize {
        let mixed = (key as u64 ^ (key >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let part = (mixed >> 56) as usize;
        self.parts[part].push(value);
        part
    }

    /// Every value, partition by partition.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.parts.iter().flatten()
    }

    /// The value last appended to partition `part`.
    pub(crate) fn last_mut(&mut self, part: usize) -> Option<&mut T> {
        self.parts[part].last_mut()
    }

    /// The partitions, each sorted by `key`.
    pub(crate) fn sorted_by_key<K: Ord>(
        self,
        key: impl Fn(&T) -> K + Copy,
    ) -> impl Iterator<Item = Vec<T>> {
        self.parts.into_iter().map(move |mut part| {
            part.sort_unstable_by_key(key);
            part
        })
    }
}

/// Splits a 128-bit key into halves: a tuple of `u64`s packs with narrower fields in
/// 8-byte alignment, where a `u128` field aligns it to 16.
pub(crate) fn halves(key: u128) -> (u64, u64) {
    ((key >> 64) as u64, key as u64)
}

/// Distinct (cell, key) pairs of a stream of many, each with a flag that holds when
/// any of its occurrences held it, counted per cell.
///
/// Sources keep a key's rows together (the store holds a visitor's sessions in a
/// row), so the pushes come in runs of one key: each run's (cell, flag) pairs are
/// appended in order, and only the run itself goes to a [`Partitioned`] by key. At
/// the end each key's runs (nearly always one) are found together, and their few
/// pairs sorted and counted. Sorting every pair by key took three times as long.
/// Pushes in any order stay correct: every push then starts a run.
#[derive(Debug)]
pub(crate) struct DistinctPairs {
    /// Per run: its key's halves and the run's number.
    runs: Partitioned<(u64, u64, u32)>,
    /// Where each run's pairs start in `pairs`.
    starts: Vec<usize>,
    /// (cell, flag) of the pushes, run after run; a push repeating the previous
    /// cell of its run only updates the flag.
    pairs: Vec<(u32, bool)>,
    /// The key of the current run.
    key: Option<u128>,
}

impl DistinctPairs {
    pub(crate) fn new() -> DistinctPairs {
        DistinctPairs {
            runs: Partitioned::new(),
            starts: Vec::new(),
            pairs: Vec::new(),
            key: None,
        }
    }

    /// Adds one occurrence of (`cell`, `key`).
    #[inline]
    pub(crate) fn push(&mut self, cell: u32, key: u128, flag: bool) {
        if self.key == Some(key) {
            let last = self.pairs.last_mut().expect("a run has a pair");
            if last.0 == cell {
                last.1 |= flag;
                return;
            }
        } else {
            let (high, low) = halves(key);
            let run = u32::try_from(self.starts.len()).expect("under 2^32 runs");
            self.runs.push(key, (high, low, run));
            self.starts.push(self.pairs.len());
            self.key = Some(key);
        }
        self.pairs.push((cell, flag));
    }

    /// Per cell below `cells`: the distinct keys, and those of them flagged.
    ///
    /// The partitions, sorted by key, only tell which keys have several runs; the
    /// runs are then counted in push order, sequentially (visiting them in key order
    /// missed the cache on nearly every run), and those keys' runs together.
    pub(crate) fn count(mut self, cells: usize) -> Vec<(u64, u64)> {
        self.starts.push(self.pairs.len());
        let (starts, pairs) = (&self.starts, &self.pairs);
        let run = |r: u32| &pairs[starts[r as usize]..starts[r as usize + 1]];
        let mut out = vec![(0, 0); cells];
        // Counts each distinct cell of `pairs`, sorted by cell, once.
        let mut add = |pairs: &[(u32, bool)]| {
            for pairs in pairs.chunk_by(|a, b| a.0 == b.0) {
                let counts = &mut out[pairs[0].0 as usize];
                counts.0 += 1;
                counts.1 += u64::from(pairs.iter().any(|p| p.1));
            }
        };
        // A key's pairs gathered and sorted by cell.
        let mut own: Vec<(u32, bool)> = Vec::new();
        let gather = |own: &mut Vec<(u32, bool)>, runs: &mut dyn Iterator<Item = u32>| {
            own.clear();
            runs.for_each(|r| own.extend_from_slice(run(r)));
            own.sort_unstable_by_key(|&(cell, _)| cell);
        };
        // The runs of keys with several, flagged, with those keys' pairs counted.
        let mut several = Seen::new(starts.len());
        for part in self
            .runs
            .sorted_by_key(|&(high, low, run)| (high, low, run))
        {
            for runs in part.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
                if runs.len() > 1 {
                    for &(_, _, r) in runs {
                        several.insert(r as usize);
                    }
                    gather(&mut own, &mut runs.iter().map(|&(_, _, r)| r));
                    add(&own);
                }
            }
        }
        for r in 0..starts.len() as u32 - 1 {
            if several.contains(r as usize) {
                continue;
            }
            let pairs = run(r);
            if pairs.is_sorted_by_key(|&(cell, _)| cell) {
                add(pairs);
            } else {
                gather(&mut own, &mut std::iter::once(r));
                add(&own);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{DistinctPairs, Seen};

    #[test]
    fn distinct_pairs_count_keys_per_cell_and_the_flagged_ones() {
        let mut pairs = DistinctPairs::new();
        // Cell 0: keys 1 (twice, flagged once), 2, 1 again later; cell 1: key 1, key
        // 3 flagged; cell 2: nothing. Keys spread over partitions by their hash.
        let pushes = [
            (0, 1, false),
            (0, 1, true),
            (1, 1, false),
            (0, 2, false),
            (1, 3, true),
            (0, 1, false),
            (1, 3, false),
            (0, 1u128 << 100, false),
        ];
        for (cell, key, flag) in pushes {
            pairs.push(cell, key, flag);
        }
        assert_eq!(pairs.count(3), [(3, 1), (2, 1), (0, 0)]);
    }

    /// Runs of one key, its cells in any order, and its runs apart: the counts agree
    /// with a set of the distinct pairs.
    #[test]
    fn distinct_pairs_agree_with_a_set() {
        use std::collections::BTreeMap;
        let mut pairs = DistinctPairs::new();
        let mut want: BTreeMap<(u32, u128), bool> = BTreeMap::new();
        // A fixed pseudo-random stream: keys mostly in runs, sometimes coming back.
        let mut state = 12_345u64;
        let mut key = 0u128;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let r = state >> 33;
            match r % 10 {
                0 => key += 1,
                1 => key = u128::from(r % 50) << (r % 3 * 50),
                _ => {}
            }
            let (cell, flag) = ((r / 10 % 7) as u32, (r / 70).is_multiple_of(5));
            pairs.push(cell, key, flag);
            *want.entry((cell, key)).or_default() |= flag;
        }
        let mut expected = vec![(0u64, 0u64); 8];
        for ((cell, _), flag) in want {
            expected[cell as usize].0 += 1;
            expected[cell as usize].1 += u64::from(flag);
        }
        assert_eq!(pairs.count(8), expected);
    }

    #[test]
    fn both_kinds_of_seen_set_agree() {
        let keys = [5usize, 64, 5, 0, 127, 64, 1 << 20, 0];
        let new = [true, true, false, true, true, false, true, false];
        for mut seen in [Seen::new(1 << 21), Seen::new(1 << 29)] {
            let got: Vec<bool> = keys.iter().map(|k| seen.insert(*k)).collect();
            assert_eq!(got, new);
        }
        assert!(matches!(Seen::new(1 << 21), Seen::Bits(_)));
        assert!(matches!(Seen::new(1 << 29), Seen::Set(_)));
    }
}
