//! Cohort retention: the classic triangle. Customers are grouped by the period they
//! were won in (their cohort); for each later period (age 0 is the cohort's own), the
//! cohort's customers still active at its end (kpis.md's *active at `end`*, as
//! `customers_active`), the revenue they ordered in it, or the MRR they had running at
//! its end (`end - 1 second`, as `mrr`), against the cohort's size, its revenue of age
//! 0, or its MRR at the end of age 0. Only complete periods have cells.

/// What a cohort's retention measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Customers still active at the end of the period, of the cohort's customers.
    Customers,
    /// Revenue ordered in the period, of the revenue ordered in the cohort's own.
    Revenue,
    /// MRR running at the end of the period, of the MRR at the end of the cohort's own.
    Mrr,
}

impl Measure {
    /// The measure's name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Customers => "customers",
            Measure::Revenue => "revenue",
            Measure::Mrr => "mrr",
        }
    }
}

impl std::str::FromStr for Measure {
    type Err = String;

    fn from_str(s: &str) -> Result<Measure, String> {
        match s {
            "customers" => Ok(Measure::Customers),
            "revenue" => Ok(Measure::Revenue),
            "mrr" => Ok(Measure::Mrr),
            _ => Err(format!("unknown measure `{s}`: customers, revenue or mrr")),
        }
    }
}

/// A customer: its segment (an index), when it was won and lost (microseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Member {
    /// The segment's index.
    pub segment: u32,
    /// `acquired_at`.
    pub acquired: i64,
    /// `churned_at`, if churned.
    pub churned: Option<i64>,
}

/// One cohort's row of the triangle.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortRow {
    /// The segment's index.
    pub segment: u32,
    /// The cohort's period (an index of the periods).
    pub cohort: usize,
    /// Customers won in the period.
    pub size: u64,
    /// What age `k` is measured against: the size, the revenue of age 0, or the MRR
    /// at the end of age 0.
    pub base: f64,
    /// The measure at each age with a complete period: a count or an amount.
    pub values: Vec<f64>,
}

impl CohortRow {
    /// The share of the base at each age, in percent (`None` for a base of 0).
    pub fn shares(&self) -> Vec<Option<f64>> {
        self.values
            .iter()
            .map(|v| (self.base > 0.0).then(|| 100.0 * v / self.base))
            .collect()
    }
}

/// The triangle over periods given by their `[start, end)` bounds in microseconds,
/// sorted and contiguous, of which the first `complete` are complete. `members` are
/// the customers; `amounts` are (member, instant, amount) for revenue (orders) and
/// `running` (member, started, ended, mrr) for MRR; only the measure's input is read.
pub fn triangle(
    bounds: &[(i64, i64)],
    complete: usize,
    members: &[Member],
    measure: Measure,
    amounts: &[(u32, i64, f64)],
    running: &[(u32, i64, Option<i64>, f64)],
) -> Vec<CohortRow> {
    let period_of = |t: i64| -> Option<usize> {
        let i = bounds.partition_point(|(start, _)| *start <= t);
        (i > 0 && t < bounds[i - 1].1).then(|| i - 1)
    };
    let complete = complete.min(bounds.len());
    // Rows by (segment, cohort), in that order.
    let mut rows: std::collections::BTreeMap<(u32, usize), CohortRow> = Default::default();
    let cohort_of: Vec<Option<usize>> = members.iter().map(|m| period_of(m.acquired)).collect();
    for (m, cohort) in members.iter().zip(&cohort_of) {
        let Some(c) = *cohort else { continue };
        let ages = complete.saturating_sub(c);
        let row = rows.entry((m.segment, c)).or_insert_with(|| CohortRow {
            segment: m.segment,
            cohort: c,
            size: 0,
            base: 0.0,
            values: vec![0.0; ages],
        });
        row.size += 1;
        if measure == Measure::Customers {
            // Active at the end of age k: not churned by then (churned_at > end).
            for (k, value) in row.values.iter_mut().enumerate() {
                if m.churned.is_some_and(|lost| lost <= bounds[c + k].1) {
                    break;
                }
                *value += 1.0;
            }
        }
    }
    match measure {
        Measure::Customers => {}
        Measure::Revenue => {
            for (member, at, amount) in amounts {
                let m = &members[*member as usize];
                let (Some(c), Some(p)) = (cohort_of[*member as usize], period_of(*at)) else {
                    continue;
                };
                if p < c || p >= complete {
                    continue;
                }
                if let Some(row) = rows.get_mut(&(m.segment, c)) {
                    row.values[p - c] += amount;
                }
            }
        }
        Measure::Mrr => {
            for (member, started, ended, mrr) in running {
                let m = &members[*member as usize];
                let Some(c) = cohort_of[*member as usize] else {
                    continue;
                };
                let Some(row) = rows.get_mut(&(m.segment, c)) else {
                    continue;
                };
                for (k, value) in row.values.iter_mut().enumerate() {
                    // Running at end - 1 second, as `mrr`.
                    let t = bounds[c + k].1 - 1_000_000;
                    if *started <= t && ended.is_none_or(|e| e > t) {
                        *value += mrr;
                    }
                }
            }
        }
    }
    let mut out: Vec<CohortRow> = rows.into_values().collect();
    for row in &mut out {
        row.base = match measure {
            Measure::Customers => row.size as f64,
            Measure::Revenue | Measure::Mrr => row.values.first().copied().unwrap_or(0.0),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;

    /// Four 10-day periods from day 0, the last incomplete.
    fn bounds() -> Vec<(i64, i64)> {
        (0..4).map(|i| (i * 10 * DAY, (i + 1) * 10 * DAY)).collect()
    }

    fn member(acquired_day: i64, churned_day: Option<i64>) -> Member {
        Member {
            segment: 0,
            acquired: acquired_day * DAY,
            churned: churned_day.map(|d| d * DAY),
        }
    }

    /// By hand: cohort 0 has a (stays), b (churns day 15: active at the end of age 0,
    /// not of age 1), c (churns at day 10 exactly, the end of period 0: `churned_at >
    /// end` fails, so it is not active at the end of age 0) and d (won day 3, churns
    /// day 5 and comes back as e on day 25, a new customer of cohort 2). Cohort 1 has
    /// f.
    #[test]
    fn customers_by_hand() {
        let members = [
            member(1, None),
            member(2, Some(15)),
            member(4, Some(10)),
            member(3, Some(5)),
            member(25, None),
            member(12, Some(29)),
        ];
        let rows = triangle(&bounds(), 3, &members, Measure::Customers, &[], &[]);
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].cohort, rows[0].size), (0, 4));
        // Age 0: a, b; age 1: a; age 2: a.
        assert_eq!(rows[0].values, [2.0, 1.0, 1.0]);
        assert_eq!(rows[0].shares()[0], Some(50.0));
        // Cohort 1 (f, churned day 29): active at the ends of periods 1 (day 20); not
        // of 2 (day 30).
        assert_eq!(
            (rows[1].cohort, rows[1].values.clone()),
            (1, vec![1.0, 0.0])
        );
        // Cohort 2: one complete age.
        assert_eq!((rows[2].cohort, rows[2].values.clone()), (2, vec![1.0]));
    }

    /// Revenue of age k over age 0; an order in the incomplete period is not counted.
    /// MRR at end - 1 second: a subscription ending exactly at a period's end is still
    /// running then.
    #[test]
    fn revenue_and_mrr_by_hand() {
        let members = [member(1, None), member(3, Some(21))];
        let orders = [
            (0, 2 * DAY, 100.0),
            (1, 4 * DAY, 50.0),
            (0, 12 * DAY, 30.0),
            (1, 22 * DAY, 60.0),
            (0, 35 * DAY, 999.0),
        ];
        let rows = triangle(&bounds(), 3, &members, Measure::Revenue, &orders, &[]);
        assert_eq!(rows[0].values, [150.0, 30.0, 60.0]);
        assert_eq!(rows[0].base, 150.0);
        assert_eq!(rows[0].shares(), [Some(100.0), Some(20.0), Some(40.0)]);
        let subscriptions = [
            (0, DAY, None, 10.0),
            (1, 3 * DAY, Some(20 * DAY), 5.0),
            (1, 15 * DAY, Some(20 * DAY + 1), 7.0),
        ];
        let rows = triangle(&bounds(), 3, &members, Measure::Mrr, &[], &subscriptions);
        // End of age 0 (day 10 - 1 s): 10 + 5; age 1 (day 20 - 1 s): 10 + 5 + 7 (the
        // 5 ends at day 20 exactly, after day 20 - 1 s); age 2: 10.
        assert_eq!(rows[0].values, [15.0, 22.0, 10.0]);
    }
}
