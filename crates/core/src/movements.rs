//! MRR movements, as ChartMogul reports them: per period, how the MRR at its start
//! became the MRR at its end. A customer's MRR at an instant is the sum of their
//! intervals running then (kpis.md's `mrr`: at `end - 1 second`); comparing it at the
//! ends of the previous period and of this one:
//!
//! - **new**: nothing before, something now, and no MRR ever before the period;
//! - **reactivation**: nothing before, something now, after MRR at some earlier time;
//! - **expansion** / **contraction**: more / less than before, but not nothing;
//! - **churned**: something before, nothing now.
//!
//! So `start + new + reactivation + expansion + contraction + churned = end` in every
//! period and segment (contraction and churned are negative). A customer who leaves
//! and comes back within one period moves by the difference of the two levels only:
//! the movements compare the period's ends, as the MRR itself does.

/// One interval: (customer, segment, started_at, ended_at, mrr), instants in
/// microseconds.
pub type Interval = (u32, u32, i64, Option<i64>, f64);

/// One period's movements in one segment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Movements {
    /// The segment's index.
    pub segment: u32,
    /// The period's index.
    pub period: usize,
    /// MRR at the end of the previous period.
    pub start: f64,
    /// MRR at the end of this one.
    pub end: f64,
    /// MRR of new customers, and how many.
    pub new: (f64, u64),
    /// MRR of customers back after a time without, and how many.
    pub reactivation: (f64, u64),
    /// MRR gained by customers who had some, and how many.
    pub expansion: (f64, u64),
    /// MRR lost by customers who keep some (negative), and how many.
    pub contraction: (f64, u64),
    /// MRR of customers who left (negative), and how many.
    pub churned: (f64, u64),
}

impl Movements {
    /// The sum of the movements.
    pub fn net(&self) -> f64 {
        self.new.0 + self.reactivation.0 + self.expansion.0 + self.contraction.0 + self.churned.0
    }

    /// Whether start + movements = end (to a millionth of the amounts).
    pub fn balanced(&self) -> bool {
        (self.start + self.net() - self.end).abs()
            <= 1e-6 * self.end.abs().max(self.start.abs()).max(1.0)
    }
}

/// The movements of every period (`[start, end)` bounds in microseconds) and segment
/// with MRR at either end, by segment then period.
pub fn movements(bounds: &[(i64, i64)], intervals: &[Interval]) -> Vec<Movements> {
    let mut sorted: Vec<&Interval> = intervals.iter().collect();
    sorted.sort_by_key(|i| (i.0, i.1));
    let mut out: std::collections::BTreeMap<(u32, usize), Movements> = Default::default();
    let running = |group: &[&Interval], t: i64| -> f64 {
        group
            .iter()
            .filter(|(_, _, started, ended, _)| *started <= t && ended.is_none_or(|e| e > t))
            .map(|i| i.4)
            .sum()
    };
    for group in sorted.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let segment = group[0].1;
        for (p, (start, end)) in bounds.iter().enumerate() {
            let before = running(group, start - 1_000_000);
            let after = running(group, end - 1_000_000);
            if before == 0.0 && after == 0.0 {
                continue;
            }
            let m = out.entry((segment, p)).or_insert_with(|| Movements {
                segment,
                period: p,
                ..Movements::default()
            });
            m.start += before;
            m.end += after;
            let add = |slot: &mut (f64, u64), amount: f64| {
                slot.0 += amount;
                slot.1 += 1;
            };
            if before == 0.0 {
                let earlier = group
                    .iter()
                    .any(|(_, _, started, _, mrr)| *mrr > 0.0 && *started < *start);
                if earlier {
                    add(&mut m.reactivation, after);
                } else {
                    add(&mut m.new, after);
                }
            } else if after == 0.0 {
                add(&mut m.churned, -before);
            } else if after > before {
                add(&mut m.expansion, after - before);
            } else if after < before {
                add(&mut m.contraction, after - before);
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;

    /// Three 10-day periods. By hand:
    /// - customer 0: 10 from day 2 (new in period 0), 15 from day 14 (expansion +5 in
    ///   period 1), ends day 25 (churned -15 in period 2);
    /// - customer 1: 20 from before the periods (start of period 0), cancels day 12 and
    ///   comes back at 8 on day 17 (within period 1: contraction -12), then 0 (ends
    ///   day 30: still running at day 30 - 1 s, no movement in period 2);
    /// - customer 2: 5 on days 1-4 (new and gone within period 0: no movement), back
    ///   at 7 on day 22 (reactivation in period 2).
    #[test]
    fn movements_by_hand() {
        let bounds: Vec<(i64, i64)> = (0..3).map(|i| (i * 10 * DAY, (i + 1) * 10 * DAY)).collect();
        let intervals = [
            (0, 0, 2 * DAY, Some(14 * DAY), 10.0),
            (0, 0, 14 * DAY, Some(25 * DAY), 15.0),
            (1, 0, -5 * DAY, Some(12 * DAY), 20.0),
            (1, 0, 17 * DAY, Some(30 * DAY), 8.0),
            (2, 0, DAY, Some(4 * DAY), 5.0),
            (2, 0, 22 * DAY, None, 7.0),
        ];
        let m = movements(&bounds, &intervals);
        assert_eq!(m.len(), 3);
        // Period 0: 20 -> 30 (customer 0 new at 10).
        assert_eq!((m[0].start, m[0].end), (20.0, 30.0));
        assert_eq!(m[0].new, (10.0, 1));
        // Period 1: 30 -> 23: customer 0 +5, customer 1 -12.
        assert_eq!((m[1].start, m[1].end), (30.0, 23.0));
        assert_eq!((m[1].expansion, m[1].contraction), ((5.0, 1), (-12.0, 1)));
        // Period 2: 23 -> 15: customer 0 leaves (-15), customer 2 returns (+7), customer
        // 1 unchanged at 8.
        assert_eq!((m[2].start, m[2].end), (23.0, 15.0));
        assert_eq!((m[2].churned, m[2].reactivation), ((-15.0, 1), (7.0, 1)));
        assert!(m.iter().all(Movements::balanced));
        assert_eq!(m[2].net(), -8.0);
    }
}
