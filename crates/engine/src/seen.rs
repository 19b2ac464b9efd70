//! Counting distinct keys in the passes that replace `count_distinct`.

/// A set of small integer keys: a bitmap while the keys stay below 2^28 (32 MiB; a
/// year's scorecard of a million customers needs 3 MiB), else a hash set. The bitmap
/// grows to the largest key inserted, so the key space need not be known up front.
pub(crate) enum Seen {
    Bits(Vec<u64>),
    Set(hashbrown::HashSet<usize>),
}

/// Keys below this many fit the bitmap.
const BITS: usize = 1 << 28;

impl Seen {
    /// A set for keys below `space` (more can be inserted: it grows).
    pub(crate) fn new(space: usize) -> Seen {
        if space <= BITS {
            Seen::Bits(vec![0; space.div_ceil(64)])
        } else {
            Seen::Set(hashbrown::HashSet::new())
        }
    }

    /// Adds `key`; whether it was new.
    #[inline]
    pub(crate) fn insert(&mut self, key: usize) -> bool {
        match self {
            Seen::Bits(words) => {
                let (word, bit) = (key / 64, 1u64 << (key % 64));
                if word >= words.len() {
                    self.grow(key);
                    return self.insert(key);
                }
                let new = words[word] & bit == 0;
                words[word] |= bit;
                new
            }
            Seen::Set(set) => set.insert(key),
        }
    }

    /// Makes room for `key`: a bitmap twice as long, or past [`BITS`] a hash set of
    /// the keys so far.
    #[cold]
    fn grow(&mut self, key: usize) {
        let Seen::Bits(words) = self else { return };
        if key < BITS {
            let len = (key / 64 + 1).max(2 * words.len()).min(BITS / 64);
            words.resize(len, 0);
            return;
        }
        let mut set = hashbrown::HashSet::new();
        for (w, word) in words.iter().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                set.insert(w * 64 + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
        }
        *self = Seen::Set(set);
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

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

    #[test]
    fn a_bitmap_grows_and_then_becomes_a_set_keeping_its_keys() {
        let mut seen = Seen::new(0);
        assert!(seen.insert(3) && seen.insert(1000) && !seen.insert(3));
        assert!(matches!(&seen, Seen::Bits(words) if words.len() == 16));
        assert!(seen.insert(1 << 29));
        assert!(matches!(seen, Seen::Set(_)));
        assert!(!seen.insert(3) && !seen.insert(1000) && !seen.insert(1 << 29));
        assert!(seen.insert(4));
    }
}
