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

    /// Why the change against `previous` is not tested although the KPI has a test:
    /// either side has fewer than 30 units (a p-value on a handful of answers, or on
    /// one, claims what it cannot know), or a side's own variance is 0 (an NPS or a
    /// mean whose standard error is 0 would make any difference look certain). `None`
    /// when the test runs, or when the KPI has no test at all.
    pub fn no_test_reason(&self, previous: &Estimate) -> Option<String> {
        let testable = matches!(
            (self, previous),
            (Estimate::Proportion { .. }, Estimate::Proportion { .. })
                | (Estimate::Net { .. }, Estimate::Net { .. })
                | (Estimate::Mean { .. }, Estimate::Mean { .. })
        );
        if !testable {
            return None;
        }
        let (now, before) = (self.n(), previous.n());
        if now < 30 || before < 30 {
            return Some(format!(
                "no test: n = {now} in this period and {before} in the previous one (a test needs 30 on each side)"
            ));
        }
        let zero_variance = |e: &Estimate| match *e {
            Estimate::Net {
                positive,
                negative,
                n,
            } => stats::nps(positive, negative, n).is_none_or(|(_, se)| se <= 0.0),
            Estimate::Mean { sd, .. } => sd.is_none_or(|sd| sd <= 0.0),
            Estimate::Proportion { .. } | Estimate::Plain { .. } => false,
        };
        if zero_variance(self) || zero_variance(previous) {
            return Some(
                "no test: a period's values do not vary (its standard error is 0)".to_string(),
            );
        }
        None
    }

    /// The test of this period's value against `previous`, where kpis.md gives one
    /// and the data support it: none when [`Estimate::no_test_reason`] gives a reason,
    /// or when the pooled variance of two proportions is 0.
    pub fn test_change(&self, previous: &Estimate) -> Option<TestResult> {
        if self.no_test_reason(previous).is_some() {
            return None;
        }
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

    /// Issue 17: a change against a period with n = 1 (NPS 100) was called significant
    /// (p = 2.7e-14). No test runs when a side has fewer than 30 units or no variance.
    #[test]
    fn no_change_test_on_small_samples_or_zero_variance() {
        let one = Estimate::Net {
            positive: 1,
            negative: 0,
            n: 1,
        };
        let five = Estimate::Net {
            positive: 2,
            negative: 2,
            n: 5,
        };
        let reason = five.no_test_reason(&one).unwrap();
        assert!(
            reason.contains("n = 5") && reason.contains("1 in the previous"),
            "{reason}"
        );
        assert!(five.test_change(&one).is_none());
        // 40 promoters out of 40: a standard error of 0.
        let all = Estimate::Net {
            positive: 40,
            negative: 0,
            n: 40,
        };
        let mixed = Estimate::Net {
            positive: 20,
            negative: 20,
            n: 40,
        };
        assert!(mixed.no_test_reason(&all).unwrap().contains("do not vary"));
        assert!(mixed.test_change(&all).is_none());
        // 30 promoters and 10 detractors of 40 (NPS 50, se 13.693) against 20 and 20
        // (NPS 0, se 15.811): z = -50 / 20.917 = -2.3905, p = 0.016827 (erfc).
        let before = Estimate::Net {
            positive: 30,
            negative: 10,
            n: 40,
        };
        assert_eq!(mixed.no_test_reason(&before), None);
        let p = mixed.test_change(&before).unwrap().p_value;
        assert!((p - 0.016_827_409).abs() < 1e-6, "{p}");
        // Means: a constant side has no test; proportions of 30 or more do.
        let constant = Estimate::Mean {
            mean: Some(4.0),
            sd: Some(0.0),
            n: 35,
        };
        let varied = Estimate::Mean {
            mean: Some(3.5),
            sd: Some(1.0),
            n: 35,
        };
        assert!(varied.no_test_reason(&constant).is_some());
        let (a, b) = (
            Estimate::Proportion { x: 0, n: 40 },
            Estimate::Proportion { x: 10, n: 40 },
        );
        assert_eq!(a.no_test_reason(&b), None);
        assert!(a.test_change(&b).is_some());
        assert_eq!(
            Estimate::Plain {
                value: Some(1.0),
                n: 3
            }
            .no_test_reason(&Estimate::Plain {
                value: Some(2.0),
                n: 3
            }),
            None
        );
    }
}
