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

/// Distinct (cell, key) pairs of a stream of many, each with a flag that holds when
/// any of its occurrences held it: pushed pairs go to one of 256 partitions by their
/// key's hash (sequential appends), and each partition, small enough for the cache,
/// is sorted and counted at the end. A hash set of all pairs missed the cache on
/// nearly every insert once it held millions.
#[derive(Debug)]
pub(crate) struct DistinctPairs {
    /// (cell, flag, key's high and low halves): 24 bytes, where a `u128` field would
    /// align the entry to 32.
    parts: Vec<Vec<(u32, bool, u64, u64)>>,
    /// The last pair pushed and its partition: a repeat only updates its flag.
    last: Option<(u32, u128, usize)>,
}

impl DistinctPairs {
    pub(crate) fn new() -> DistinctPairs {
        DistinctPairs {
            parts: vec![Vec::new(); 256],
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
                self.parts[part].last_mut().expect("pushed").1 = true;
            }
            return;
        }
        let (high, low) = ((key >> 64) as u64, key as u64);
        let part = ((high ^ low).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize;
        self.parts[part].push((cell, flag, high, low));
        self.last = Some((cell, key, part));
    }

    /// Per cell below `cells`: the distinct keys, and those of them flagged.
    pub(crate) fn count(self, cells: usize) -> Vec<(u64, u64)> {
        let mut out = vec![(0, 0); cells];
        for mut part in self.parts {
            part.sort_unstable_by_key(|&(cell, _, high, low)| (cell, high, low));
            for pair in part.chunk_by(|a, b| (a.0, a.2, a.3) == (b.0, b.2, b.3)) {
                let counts = &mut out[pair[0].0 as usize];
                counts.0 += 1;
                counts.1 += u64::from(pair.iter().any(|p| p.1));
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
