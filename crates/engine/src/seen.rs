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

    /// Appends `value` to the partition of `key`.
    #[inline]
    pub(crate) fn push(&mut self, key: u128, value: T) {
        let mixed = (key as u64 ^ (key >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.parts[(mixed >> 56) as usize].push(value);
    }

    /// Every value, partition by partition.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.parts.iter().flatten()
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

/// Items pushed in runs of one key (a 128-bit key and a small sub-key, such as a
/// customer and their segment), handed back key by key.
///
/// Sources keep a key's rows together (the store holds a customer's orders, a
/// visitor's sessions, in a row), so the pushes come in runs: each run's items are
/// appended in order, and only the run itself goes to a [`Partitioned`] by key. At
/// the end the sorted partitions tell the keys with several runs, whose items are
/// gathered; every other run is handed back in push order, sequentially. Sorting
/// every item by key took up to three times as long, and visiting the runs in key
/// order missed the cache on nearly every run. Pushes in any order stay correct:
/// every push then starts a run.
#[derive(Debug)]
pub(crate) struct Runs<T> {
    /// Per run: its key's halves, sub-key and number.
    runs: Partitioned<(u64, u64, u32, u32)>,
    /// Where each run's items start in `items`, and its sub-key.
    starts: Vec<usize>,
    subs: Vec<u32>,
    items: Vec<T>,
    /// The key and sub-key of the current run.
    current: Option<(u128, u32)>,
}

impl<T: Clone> Runs<T> {
    pub(crate) fn new() -> Runs<T> {
        Runs {
            runs: Partitioned::new(),
            starts: Vec::new(),
            subs: Vec::new(),
            items: Vec::new(),
            current: None,
        }
    }

    /// The last item pushed, when (`key`, `sub`) is the current run's.
    #[inline]
    pub(crate) fn last_of(&mut self, key: u128, sub: u32) -> Option<&mut T> {
        if self.current == Some((key, sub)) {
            self.items.last_mut()
        } else {
            None
        }
    }

    /// Appends `item` to the run of (`key`, `sub`), starting a run unless it is the
    /// current one.
    #[inline]
    pub(crate) fn push(&mut self, key: u128, sub: u32, item: T) {
        if self.current != Some((key, sub)) {
            let (high, low) = halves(key);
            let run = u32::try_from(self.starts.len()).expect("under 2^32 runs");
            self.runs.push(key, (high, low, sub, run));
            self.starts.push(self.items.len());
            self.subs.push(sub);
            self.current = Some((key, sub));
        }
        self.items.push(item);
    }

    /// Calls `f(sub, items)` once per (key, sub-key) with all its items, a run's in push
    /// order (a key's several runs one after another); `f` may reorder them.
    pub(crate) fn for_each_key(mut self, mut f: impl FnMut(u32, &mut [T])) {
        self.starts.push(self.items.len());
        let starts = &self.starts;
        let range = |r: u32| starts[r as usize]..starts[r as usize + 1];
        // The keys with several runs: their runs flagged, their items gathered.
        let mut several = Seen::new(starts.len());
        let mut gathered: Vec<T> = Vec::new();
        for part in self.runs.sorted_by_key(|&run| run) {
            for runs in part.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2)) {
                if runs.len() > 1 {
                    gathered.clear();
                    for &(_, _, _, r) in runs {
                        several.insert(r as usize);
                        gathered.extend_from_slice(&self.items[range(r)]);
                    }
                    f(runs[0].2, &mut gathered);
                }
            }
        }
        for (r, &sub) in self.subs.iter().enumerate() {
            if !several.contains(r) {
                f(sub, &mut self.items[range(r as u32)]);
            }
        }
    }
}

/// Distinct (cell, key) pairs of a stream of many, each with a flag that holds when
/// any of its occurrences held it, counted per cell: the pairs go to [`Runs`] by key.
#[derive(Debug)]
pub(crate) struct DistinctPairs {
    /// (cell, flag) per key; a push repeating the previous cell of its run only
    /// updates the flag.
    runs: Runs<(u32, bool)>,
}

impl DistinctPairs {
    pub(crate) fn new() -> DistinctPairs {
        DistinctPairs { runs: Runs::new() }
    }

    /// Adds one occurrence of (`cell`, `key`).
    #[inline]
    pub(crate) fn push(&mut self, cell: u32, key: u128, flag: bool) {
        match self.runs.last_of(key, 0) {
            Some(last) if last.0 == cell => last.1 |= flag,
            _ => self.runs.push(key, 0, (cell, flag)),
        }
    }

    /// Per cell below `cells`: the distinct keys, and those of them flagged.
    pub(crate) fn count(self, cells: usize) -> Vec<(u64, u64)> {
        let mut out = vec![(0, 0); cells];
        self.runs.for_each_key(|_, pairs| {
            // A run in time order is sorted by cell already.
            if !pairs.is_sorted_by_key(|&(cell, _)| cell) {
                pairs.sort_unstable_by_key(|&(cell, _)| cell);
            }
            for pairs in pairs.chunk_by(|a, b| a.0 == b.0) {
                let counts = &mut out[pairs[0].0 as usize];
                counts.0 += 1;
                counts.1 += u64::from(pairs.iter().any(|p| p.1));
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{DistinctPairs, Runs, Seen};

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

    /// Items come back once per (key, sub-key), a lone run's in push order, a key's
    /// several runs together, whatever the order of the pushes.
    #[test]
    fn runs_hand_back_each_key_with_all_its_items() {
        use std::collections::BTreeMap;
        let mut runs: Runs<u32> = Runs::new();
        let mut want: BTreeMap<(u128, u32), Vec<u32>> = BTreeMap::new();
        let pushes = [
            (7, 0, 1),
            (7, 0, 2),
            (7, 1, 3),
            (9, 0, 4),
            (7, 0, 5),
            (1u128 << 90, 0, 6),
            (9, 0, 7),
            (9, 0, 8),
        ];
        for (key, sub, item) in pushes {
            runs.push(key, sub, item);
            want.entry((key, sub)).or_default().push(item);
        }
        assert_eq!(runs.last_of(9, 0).copied(), Some(8));
        assert!(runs.last_of(9, 1).is_none() && runs.last_of(7, 0).is_none());
        let mut got: Vec<(u32, Vec<u32>)> = Vec::new();
        runs.for_each_key(|sub, items| got.push((sub, items.to_vec())));
        // Lone runs in push order; keys of several runs (7/0 and 9/0) gathered.
        got.sort();
        let mut want: Vec<(u32, Vec<u32>)> = want.into_iter().map(|((_, s), v)| (s, v)).collect();
        want.sort();
        assert_eq!(got, want);
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
