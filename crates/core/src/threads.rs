//! How many threads a fit may use: the caller's choice, not the machine's (the CLI
//! gives a fit every core; a server gives it its share).

use std::num::NonZeroUsize;

/// A number of threads, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threads(NonZeroUsize);

impl Threads {
    /// One thread: no thread is spawned.
    pub const ONE: Threads = Threads(NonZeroUsize::MIN);

    /// `n` threads (one if `n` is 0).
    pub fn new(n: usize) -> Threads {
        Threads(NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN))
    }

    /// As many as the machine runs in parallel.
    pub fn available() -> Threads {
        Threads(std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
    }

    /// The number.
    pub fn get(self) -> usize {
        self.0.get()
    }
}

/// Sums `part` (a value and its gradient) over contiguous pieces of `rows`, a piece per
/// thread but none under `min_rows` rows, adding the pieces in order (so one thread
/// count always gives the same bits).
pub fn sum_parts<T: Sync, const N: usize>(
    rows: &[T],
    threads: Threads,
    min_rows: usize,
    part: impl Fn(&[T]) -> (f64, [f64; N]) + Sync,
) -> (f64, [f64; N]) {
    let pieces = threads.get().min(rows.len() / min_rows.max(1)).max(1);
    if pieces == 1 {
        return part(rows);
    }
    let bounds: Vec<usize> = (0..=pieces).map(|i| i * rows.len() / pieces).collect();
    let part = &part;
    std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .skip(1)
            .map(|w| {
                let piece = &rows[w[0]..w[1]];
                scope.spawn(move || part(piece))
            })
            .collect();
        let (mut ll, mut g) = part(&rows[..bounds[1]]);
        for handle in handles {
            let (ll2, g2) = handle.join().unwrap_or((f64::NAN, [f64::NAN; N]));
            ll += ll2;
            for (a, b) in g.iter_mut().zip(g2) {
                *a += b;
            }
        }
        (ll, g)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_add_up_to_the_whole_in_order() {
        let rows: Vec<f64> = (0..25_000).map(|i| 1.0 / (1.0 + f64::from(i))).collect();
        let part = |r: &[f64]| (r.iter().sum::<f64>(), [r.len() as f64]);
        let one = sum_parts(&rows, Threads::ONE, 10_000, part);
        assert_eq!(one.1, [25_000.0]);
        for threads in [2, 3, 8] {
            let many = sum_parts(&rows, Threads::new(threads), 10_000, part);
            assert_eq!(many.1, [25_000.0], "{threads}");
            assert!((many.0 - one.0).abs() < 1e-12, "{threads}");
        }
        // Two threads split at the middle, as the halves of the CLV fits always did.
        let (left, right) = rows.split_at(rows.len() / 2);
        let halves = part(left).0 + part(right).0;
        assert_eq!(sum_parts(&rows, Threads::new(2), 10_000, part).0, halves);
        // Under 20,000 rows two threads are one piece.
        assert_eq!(
            sum_parts(&rows[..19_999], Threads::new(2), 10_000, part).0,
            part(&rows[..19_999]).0
        );
        assert_eq!(Threads::new(0), Threads::ONE);
    }
}
