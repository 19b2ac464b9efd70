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
/// any of its occurrences held it, counted per cell ([`Partitioned`] by key).
#[derive(Debug)]
pub(crate) struct DistinctPairs {
    /// (cell, key's halves, flag).
    parts: Partitioned<(u32, u64, u64, bool)>,
    /// The last pair pushed and its partition: a repeat only updates its flag.
    last: Option<(u32, u128, usize)>,
}

impl DistinctPairs {
    pub(crate) fn new() -> DistinctPairs {
        DistinctPairs {
            parts: Partitioned::new(),
            last: None,
        }
    }

    /// Adds one occurrence of (`cell`, `key`).
    #[inline]
    pub(crate) fn push(&mut self, cell: u32, key: u128, flag: bool) {
        if let Some((c, k, part)) = self.last
            && (c, k) == (cell, key)
        {
            if flag {
                self.parts.last_mut(part).expect("pushed").3 = true;
            }
            return;
        }
        let (high, low) = halves(key);
        let part = self.parts.push(key, (cell, high, low, flag));
        self.last = Some((cell, key, part));
    }

    /// Per cell below `cells`: the distinct keys, and those of them flagged.
    pub(crate) fn count(self, cells: usize) -> Vec<(u64, u64)> {
        let mut out = vec![(0, 0); cells];
        for part in self.parts.sorted_by_key(|&pair| pair) {
            for pair in part.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2)) {
                let counts = &mut out[pair[0].0 as usize];
                counts.0 += 1;
                counts.1 += u64::from(pair.iter().any(|p| p.3));
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
