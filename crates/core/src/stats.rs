//! The statistics every KPI value carries (`shared/spec/kpis.md`, "Confidence
//! intervals" and "Change"): intervals, tests of change, the Benjamini-Hochberg
//! procedure, and percentiles.
//!
//! Each function takes sufficient statistics (counts, means, standard deviations), so
//! the query engine aggregates and this module only does arithmetic. Where a method
//! gives no answer (an empty sample, a zero variance) the result is `None`: no interval
//! and no significance are claimed where the method does not support one.
//!
//! Distributions come from `statrs`; the values are checked against statsmodels and
//! scipy in `tests/stats.rs`.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// The two-sided 95% normal quantile used throughout kpis.md.
pub const Z95: f64 = 1.959964;

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

impl Interval {
    /// The interval scaled by `factor` (proportions to percentages).
    pub fn scaled(self, factor: f64) -> Interval {
        Interval {
            low: self.low * factor,
            high: self.high * factor,
        }
    }
}

/// The outcome of a test of change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// The test statistic (z or t).
    pub statistic: f64,
    /// The two-sided p-value.
    pub p_value: f64,
}

/// The Wilson score interval of the proportion `x / n` (as a fraction 0..1), with
/// z = 1.959964. `None` when `n` is 0.
pub fn wilson(x: u64, n: u64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

/// NPS from promoter and detractor counts out of `n`, with its standard error, both in
/// NPS points (-100..100). `None` when `n` is 0.
pub fn nps(promoters: u64, detractors: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let (pp, pd) = (promoters as f64 / n, detractors as f64 / n);
    let value = 100.0 * (pp - pd);
    let variance = (pp + pd - (pp - pd).powi(2)).max(0.0);
    Some((value, 100.0 * (variance / n).sqrt()))
}

/// The NPS interval: value ± 1.959964 se, clipped to [-100, 100].
pub fn nps_interval(value: f64, se: f64) -> Interval {
    Interval {
        low: (value - Z95 * se).max(-100.0),
        high: (value + Z95 * se).min(100.0),
    }
}

/// The t-interval of a mean: mean ± t(0.975, n-1) s / sqrt(n). `None` for n < 2.
pub fn mean_interval(mean: f64, sd: f64, n: u64) -> Option<Interval> {
    if n < 2 || !sd.is_finite() {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .ok()?
        .inverse_cdf(0.975);
    let half = t * sd / (n as f64).sqrt();
    Some(Interval {
        low: mean - half,
        high: mean + half,
    })
}

/// Two-sided p-value of a standard normal statistic.
pub fn normal_two_sided(z: f64) -> f64 {
    let normal = Normal::standard();
    2.0 * normal.sf(z.abs())
}

/// The pooled two-proportion z-test of x1/n1 against x2/n2. `None` when a sample is
/// empty or the pooled variance is 0 (all or none of both samples).
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<TestResult> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (x1, n1, x2, n2) = (x1 as f64, n1 as f64, x2 as f64, n2 as f64);
    let pooled = (x1 + x2) / (n1 + n2);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if variance <= 0.0 {
        return None;
    }
    let z = (x1 / n1 - x2 / n2) / variance.sqrt();
    Some(TestResult {
        statistic: z,
        p_value: normal_two_sided(z),
    })
}

/// The NPS change test: z = (nps1 - nps2) / sqrt(se1² + se2²). `None` when both
/// standard errors are 0.
pub fn nps_z(nps1: f64, se1: f64, nps2: f64, se2: f64) -> Option<TestResult> {
    let se = (se1 * se1 + se2 * se2).sqrt();
    if se <= 0.0 || !se.is_finite() {
        return None;
    }
    let z = (nps1 - nps2) / se;
    Some(TestResult {
        statistic: z,
        p_value: normal_two_sided(z),
    })
}

/// Welch's t-test of mean1 against mean2 from sample standard deviations and sizes,
/// with Welch-Satterthwaite degrees of freedom. `None` when a sample has fewer than 2
/// values or both variances are 0.
pub fn welch_t(mean1: f64, sd1: f64, n1: u64, mean2: f64, sd2: f64, n2: u64) -> Option<TestResult> {
    if n1 < 2 || n2 < 2 {
        return None;
    }
    let (n1, n2) = (n1 as f64, n2 as f64);
    let (v1, v2) = (sd1 * sd1 / n1, sd2 * sd2 / n2);
    let se2 = v1 + v2;
    if se2 <= 0.0 || !se2.is_finite() {
        return None;
    }
    let t = (mean1 - mean2) / se2.sqrt();
    let df = se2 * se2 / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0));
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    Some(TestResult {
        statistic: t,
        p_value: 2.0 * dist.sf(t.abs()),
    })
}

/// The Benjamini-Hochberg procedure at false discovery rate `q`: which of the tests
/// are significant. Tests without a p-value are not significant and do not count in
/// the family.
pub fn benjamini_hochberg(p_values: &[Option<f64>], q: f64) -> Vec<bool> {
    let mut ranked: Vec<(usize, f64)> = p_values
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let m = ranked.len() as f64;
    // The largest rank k with p(k) <= k q / m; the k smallest p-values are significant.
    let cutoff = ranked
        .iter()
        .enumerate()
        .filter(|(k, (_, p))| *p <= (*k as f64 + 1.0) * q / m)
        .map(|(k, _)| k + 1)
        .max()
        .unwrap_or(0);
    let mut significant = vec![false; p_values.len()];
    for (i, _) in &ranked[..cutoff] {
        significant[*i] = true;
    }
    significant
}

/// The `q`-th percentile (0..=100) of sorted values, interpolating linearly between
/// order statistics (R type 7, numpy's default). `None` for no values.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q / 100.0;
    let below = h.floor() as usize;
    let above = (below + 1).min(last);
    Some(sorted[below] + (h - below as f64) * (sorted[above] - sorted[below]))
}

/// The order statistics and weight of the `q`-th percentile (0..=100, R type 7) of
/// values in any order, found by selection (linear time; `values` is reordered):
/// `(below, above, w)`, the percentile being `below + w * (above - below)`, as
/// [`percentile_sorted`] computes it. `None` for no values.
pub fn percentile_select<T: Copy + Ord>(values: &mut [T], q: f64) -> Option<(T, T, f64)> {
    let last = values.len().checked_sub(1)?;
    let h = last as f64 * q / 100.0;
    let below = h.floor() as usize;
    let (_, &mut x_below, right) = values.select_nth_unstable(below);
    let x_above = right.iter().copied().min().unwrap_or(x_below);
    Some((x_below, x_above, h - below as f64))
}

/// The area under the ROC curve of a score meant to be higher for positives: the
/// probability that a random positive scores above a random negative (ties count
/// half), from the Mann-Whitney rank sum with midranks; with the Hanley-McNeil (1982)
/// 95% interval. `None` without positives or negatives.
pub fn auc(positives: &[f64], negatives: &[f64]) -> Option<(f64, Interval)> {
    let (np, nn) = (positives.len(), negatives.len());
    if np == 0 || nn == 0 {
        return None;
    }
    let mut all: Vec<(f64, bool)> = positives
        .iter()
        .map(|&x| (x, true))
        .chain(negatives.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1..=j share their mean.
        let midrank = (i + 1 + j) as f64 / 2.0;
        rank_sum += midrank * all[i..j].iter().filter(|(_, p)| *p).count() as f64;
        i = j;
    }
    let (npf, nnf) = (np as f64, nn as f64);
    let a = (rank_sum - npf * (npf + 1.0) / 2.0) / (npf * nnf);
    let q1 = a / (2.0 - a);
    let q2 = 2.0 * a * a / (1.0 + a);
    let variance =
        (a * (1.0 - a) + (npf - 1.0) * (q1 - a * a) + (nnf - 1.0) * (q2 - a * a)) / (npf * nnf);
    let se = variance.max(0.0).sqrt();
    Some((
        a,
        Interval {
            low: (a - Z95 * se).max(0.0),
            high: (a + Z95 * se).min(1.0),
        },
    ))
}

/// Mean and sample standard deviation with Welford's algorithm, mergeable so that
/// partial results (partitions, periods) combine exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// Number of values.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    m2: f64,
}

impl Moments {
    /// `count` copies of `value`.
    pub fn constant(value: f64, count: u64) -> Moments {
        Moments {
            n: count,
            mean: if count > 0 { value } else { 0.0 },
            m2: 0.0,
        }
    }

    /// Adds a value.
    pub fn update(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Combines two partial results (Chan et al.).
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        self.mean += delta * other.n as f64 / n as f64;
        self.m2 += other.m2 + delta * delta * self.n as f64 * other.n as f64 / n as f64;
        self.n = n;
    }

    /// The sample standard deviation (n - 1 in the denominator); `None` for n < 2.
    pub fn sd(&self) -> Option<f64> {
        (self.n >= 2).then(|| (self.m2 / (self.n - 1) as f64).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_by_hand() {
        // Pairs (positive, negative) of [0.9, 0.8, 0.4] x [0.7, 0.4, 0.1]: 0.9 and 0.8
        // beat all three (6), 0.4 beats 0.1 and ties 0.4 (1.5): 7.5 / 9.
        let (a, ci) = auc(&[0.9, 0.8, 0.4], &[0.7, 0.4, 0.1]).unwrap();
        assert!((a - 7.5 / 9.0).abs() < 1e-12);
        // Hanley-McNeil: q1 = a / (2 - a), q2 = 2a^2 / (1 + a).
        let (q1, q2) = (a / (2.0 - a), 2.0 * a * a / (1.0 + a));
        let se = ((a * (1.0 - a) + 2.0 * (q1 - a * a) + 2.0 * (q2 - a * a)) / 9.0).sqrt();
        assert!((ci.low - (a - 1.959964 * se)).abs() < 1e-6);
        assert_eq!(ci.high, 1.0);
        assert_eq!(auc(&[1.0], &[]), None);
        assert_eq!(auc(&[0.0, 0.0], &[1.0]).unwrap().0, 0.0);
    }

    #[test]
    fn nps_by_hand() {
        // 5 promoters, 3 passives, 2 detractors of 10: NPS = 100 * (0.5 - 0.2) = 30.
        // Variance = 0.5 + 0.2 - 0.3^2 = 0.61; se = 100 * sqrt(0.061) = 24.698.
        let (value, se) = nps(5, 2, 10).unwrap();
        assert!((value - 30.0).abs() < 1e-12);
        assert!((se - 24.698_178).abs() < 1e-5, "{se}");
        let interval = nps_interval(value, se);
        assert!((interval.low - (30.0 - 1.959964 * se)).abs() < 1e-9);
        // One response, a promoter: se 0, interval the point itself.
        let (value, se) = nps(1, 0, 1).unwrap();
        assert_eq!((value, se), (100.0, 0.0));
        assert_eq!(
            nps_interval(value, se),
            Interval {
                low: 100.0,
                high: 100.0
            }
        );
        assert_eq!(nps(0, 0, 0), None);
    }

    #[test]
    fn moments_merge_like_one_pass() {
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let mut all = Moments::default();
        values.iter().for_each(|x| all.update(*x));
        let (mut a, mut b) = (Moments::default(), Moments::default());
        values[..3].iter().for_each(|x| a.update(*x));
        values[3..].iter().for_each(|x| b.update(*x));
        a.merge(&b);
        // Mean 5; sum of squared deviations 32; sample sd sqrt(32 / 7).
        assert_eq!(all.mean, 5.0);
        assert!((a.mean - 5.0).abs() < 1e-12);
        assert!((a.sd().unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!((all.sd().unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(Moments::default().sd(), None);
    }
}
