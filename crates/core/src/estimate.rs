//! What a KPI value is, statistically: a proportion, an NPS, a mean, or a plain value
//! (count, sum, median, ratio of totals). Each KPI's computation ends in an
//! [`Estimate`]; the estimate alone decides the value, `n`, the interval, and the test
//! of change against the previous period, so those rules of kpis.md live in one place.

use crate::stats::{self, Interval, TestResult};

/// The statistical shape of one KPI value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Estimate {
    /// `100 * x / n` with a Wilson interval; tested with the pooled two-proportion z.
    Proportion {
        /// Units meeting the condition.
        x: u64,
        /// Units in the denominator.
        n: u64,
    },
    /// An NPS-like net share `100 * (positive - negative) / n` with the NPS interval;
    /// tested with the NPS z.
    Net {
        /// Promoters (or positive comments).
        positive: u64,
        /// Detractors (or negative comments).
        negative: u64,
        /// All units.
        n: u64,
    },
    /// A mean with a t-interval (n >= 2); tested with Welch's t.
    Mean {
        /// The mean (`None` when n = 0).
        mean: Option<f64>,
        /// The sample standard deviation (`None` when n < 2).
        sd: Option<f64>,
        /// Values.
        n: u64,
    },
    /// A value without interval or test.
    Plain {
        /// The value, `None` when there is none.
        value: Option<f64>,
        /// What `n` counts for this KPI.
        n: u64,
    },
}

impl Estimate {
    /// The KPI value.
    pub fn value(&self) -> Option<f64> {
        match *self {
            Estimate::Proportion { x, n } => (n > 0).then(|| 100.0 * x as f64 / n as f64),
            Estimate::Net {
                positive,
                negative,
                n,
            } => stats::nps(positive, negative, n).map(|(v, _)| v),
            Estimate::Mean { mean, .. } => mean,
            Estimate::Plain { value, .. } => value,
        }
    }

    /// The number of units in the denominator.
    pub fn n(&self) -> u64 {
        match *self {
            Estimate::Proportion { n, .. }
            | Estimate::Net { n, .. }
            | Estimate::Mean { n, .. }
            | Estimate::Plain { n, .. } => n,
        }
    }

    /// Whether the value rests on fewer than 30 units.
    pub fn low_sample(&self) -> bool {
        self.n() < 30
    }

    /// The 95% confidence interval, where the method gives one.
    pub fn interval(&self) -> Option<Interval> {
        match *self {
            Estimate::Proportion { x, n } => stats::wilson(x, n).map(|i| i.scaled(100.0)),
            Estimate::Net {
                positive,
                negative,
                n,
            } => stats::nps(positive, negative, n).map(|(v, se)| stats::nps_interval(v, se)),
            Estimate::Mean { mean, sd, n } => stats::mean_interval(mean?, sd?, n),
            Estimate::Plain { .. } => None,
        }
    }

    /// The test of this period's value against `previous`, where kpis.md gives one
    /// and the data support it (no test when a variance is 0 or a sample is empty).
    pub fn test_change(&self, previous: &Estimate) -> Option<TestResult> {
        match (*self, *previous) {
            (Estimate::Proportion { x: x1, n: n1 }, Estimate::Proportion { x: x2, n: n2 }) => {
                stats::two_proportion_z(x1, n1, x2, n2)
            }
            (
                Estimate::Net {
                    positive: p1,
                    negative: d1,
                    n: n1,
                },
                Estimate::Net {
                    positive: p2,
                    negative: d2,
                    n: n2,
                },
            ) => {
                let (v1, se1) = stats::nps(p1, d1, n1)?;
                let (v2, se2) = stats::nps(p2, d2, n2)?;
                stats::nps_z(v1, se1, v2, se2)
            }
            (
                Estimate::Mean {
                    mean: Some(m1),
                    sd: Some(s1),
                    n: n1,
                },
                Estimate::Mean {
                    mean: Some(m2),
                    sd: Some(s2),
                    n: n2,
                },
            ) => stats::welch_t(m1, s1, n1, m2, s2, n2),
            _ => None,
        }
    }
}

/// Mean and sample standard deviation of a distribution given as (value, count).
pub fn mean_of_counts(counts: impl IntoIterator<Item = (f64, u64)>) -> Estimate {
    let mut moments = stats::Moments::default();
    for (value, count) in counts {
        // Merging a block of equal values keeps the computation exact and O(distinct).
        let block = stats::Moments::constant(value, count);
        moments.merge(&block);
    }
    Estimate::Mean {
        mean: (moments.n > 0).then_some(moments.mean),
        sd: moments.sd(),
        n: moments.n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportions() {
        let e = Estimate::Proportion { x: 81, n: 100 };
        assert_eq!(e.value(), Some(81.0));
        let i = e.interval().unwrap();
        // Wilson (81, 100) from statsmodels: 0.72221..0.87485, in percent.
        assert!((i.low - 72.221_154_6).abs() < 1e-5 && (i.high - 87.485_248_5).abs() < 1e-5);
        assert!(!e.low_sample());
        let empty = Estimate::Proportion { x: 0, n: 0 };
        assert_eq!(
            (empty.value(), empty.interval(), empty.low_sample()),
            (None, None, true)
        );
    }

    #[test]
    fn mean_of_a_score_distribution() {
        // Scores 1, 2, 2, 5: mean 2.5; deviations -1.5, -0.5, -0.5, 2.5; squares sum 9;
        // sample sd sqrt(9 / 3) = sqrt(3).
        let e = mean_of_counts([(1.0, 1), (2.0, 2), (5.0, 1)]);
        let Estimate::Mean { mean, sd, n } = e else {
            panic!()
        };
        assert_eq!((mean, n), (Some(2.5), 4));
        assert!((sd.unwrap() - 3f64.sqrt()).abs() < 1e-12);
        let one = mean_of_counts([(4.0, 1)]);
        assert_eq!(one.interval(), None);
        assert_eq!(one.test_change(&e), None);
    }

    #[test]
    fn no_test_without_variance_or_across_shapes() {
        let a = Estimate::Proportion { x: 10, n: 10 };
        let b = Estimate::Proportion { x: 5, n: 5 };
        assert_eq!(a.test_change(&b), None);
        let plain = Estimate::Plain {
            value: Some(3.0),
            n: 40,
        };
        assert_eq!(plain.test_change(&plain), None);
        assert_eq!(plain.interval(), None);
        let nps = Estimate::Net {
            positive: 50,
            negative: 10,
            n: 100,
        };
        let before = Estimate::Net {
            positive: 30,
            negative: 30,
            n: 100,
        };
        let t = nps.test_change(&before).unwrap();
        // NPS 40 (se 100 sqrt((0.6 - 0.16) / 100) = 6.633) against 0 (se 7.746):
        // z = 40 / sqrt(6.633^2 + 7.746^2) = 3.922.
        assert!((t.statistic - 3.9223).abs() < 1e-3, "{}", t.statistic);
    }
}
