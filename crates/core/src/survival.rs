//! Kaplan-Meier survival (the product-limit estimator), ties grouped: at a time `t`,
//! everyone whose duration is at least `t` is at risk, including those censored at
//! `t`, and all events at `t` are counted together.
//!
//! Used by `median_lifetime` (kpis.md): the median is the smallest event time at which
//! the survival estimate is 0.5 or below, not interpolated; none when it never is.
//!
//! Intervals follow R's `survfit` defaults: Greenwood's variance on the log scale
//! (`conf.type = "log"`), the median's interval from where the interval's bounds
//! cross 0.5. The log-rank test is R's `survdiff` (rho = 0).

/// One step of the survival curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The event time.
    pub t: f64,
    /// Subjects at risk just before `t`.
    pub at_risk: u64,
    /// Events at `t`.
    pub events: u64,
    /// The survival estimate just after `t`.
    pub survival: f64,
    /// Greenwood's sum up to `t`: sum of d / (n (n - d)), the variance of log S.
    pub greenwood: f64,
}

impl Step {
    /// The 95% interval of the survival estimate (log scale, clipped to [0, 1]);
    /// `None` once the estimate is 0.
    pub fn interval(&self) -> Option<(f64, f64)> {
        if self.survival <= 0.0 || !self.greenwood.is_finite() {
            return None;
        }
        let half = crate::stats::Z95 * self.greenwood.sqrt();
        Some((
            (self.survival * (-half).exp()).min(1.0),
            (self.survival * half.exp()).min(1.0),
        ))
    }
}

/// Customer lifetimes as survival observations at the instant `end` (microseconds):
/// of the customers won before it, (churned - won, event) for those churned before it
/// and (end - won, censored) for the others, in `unit` microseconds.
pub fn lifetimes_at(lives: &[(i64, Option<i64>)], end: i64, unit: f64) -> Vec<(f64, bool)> {
    lives
        .iter()
        .filter(|(won, _)| *won < end)
        .map(|(won, lost)| match lost {
            Some(lost) if *lost < end => ((lost - won) as f64 / unit, true),
            _ => ((end - won) as f64 / unit, false),
        })
        .collect()
}

/// The Kaplan-Meier curve of `(duration, event)` observations (`event` false means
/// censored at `duration`); one step per distinct event time, in order.
pub fn kaplan_meier(observations: &mut [(f64, bool)]) -> Vec<Step> {
    observations.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk = observations.len() as u64;
    let mut survival = 1.0;
    let mut greenwood = 0.0;
    let mut steps = Vec::new();
    let mut i = 0;
    while i < observations.len() {
        let t = observations[i].0;
        let same = observations[i..].iter().take_while(|o| o.0 == t).count();
        let events = observations[i..i + same].iter().filter(|o| o.1).count() as u64;
        if events > 0 {
            survival *= 1.0 - events as f64 / at_risk as f64;
            let (n, d) = (at_risk as f64, events as f64);
            greenwood += if n > d {
                d / (n * (n - d))
            } else {
                f64::INFINITY
            };
            steps.push(Step {
                t,
                at_risk,
                events,
                survival,
                greenwood,
            });
        }
        at_risk -= same as u64;
        i += same;
    }
    steps
}

/// The median of a Kaplan-Meier curve: the first event time with survival <= 0.5.
pub fn median(steps: &[Step]) -> Option<f64> {
    steps.iter().find(|s| s.survival <= 0.5).map(|s| s.t)
}

/// The 95% interval of the median: from the first time the interval's lower bound
/// is at or below 0.5 to the first time its upper bound is (R's `survfit`); an end
/// is `None` when that never happens.
pub fn median_interval(steps: &[Step]) -> (Option<f64>, Option<f64>) {
    let first = |f: &dyn Fn(&Step) -> bool| steps.iter().find(|s| f(s)).map(|s| s.t);
    let low = first(&|s| {
        s.interval()
            .map_or(s.survival <= 0.5, |(low, _)| low <= 0.5)
    });
    let high = first(&|s| {
        s.interval()
            .map_or(s.survival <= 0.5, |(_, high)| high <= 0.5)
    });
    (low, high)
}

/// The restricted mean survival time up to `tau`: the area under the curve on
/// [0, tau].
pub fn restricted_mean(steps: &[Step], tau: f64) -> f64 {
    let (mut area, mut last_t, mut s) = (0.0, 0.0, 1.0);
    for step in steps.iter().take_while(|step| step.t <= tau) {
        area += s * (step.t - last_t);
        last_t = step.t;
        s = step.survival;
    }
    area + s * (tau - last_t).max(0.0)
}

/// The log-rank test between groups of `(duration, event)` observations: the
/// chi-square statistic on k - 1 degrees of freedom and its p-value. `None` with
/// fewer than two non-empty groups or no events.
pub fn log_rank(groups: &[Vec<(f64, bool)>]) -> Option<(f64, usize, f64)> {
    let groups: Vec<&Vec<(f64, bool)>> = groups.iter().filter(|g| !g.is_empty()).collect();
    let k = groups.len();
    if k < 2 {
        return None;
    }
    let mut all: Vec<(f64, bool, usize)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, obs)| obs.iter().map(move |&(t, e)| (t, e, g)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk: Vec<f64> = groups.iter().map(|g| g.len() as f64).collect();
    let mut observed_minus_expected = vec![0.0; k];
    let mut variance = vec![vec![0.0; k]; k];
    let mut i = 0;
    while i < all.len() {
        let t = all[i].0;
        let same = all[i..].iter().take_while(|o| o.0 == t).count();
        let mut deaths = vec![0.0; k];
        for &(_, event, g) in &all[i..i + same] {
            if event {
                deaths[g] += 1.0;
            }
        }
        let d: f64 = deaths.iter().sum();
        let n: f64 = at_risk.iter().sum();
        if d > 0.0 && n > 1.0 {
            let factor = d * (n - d) / (n - 1.0);
            for g in 0..k {
                observed_minus_expected[g] += deaths[g] - d * at_risk[g] / n;
                for h in 0..k {
                    let delta = if g == h { 1.0 } else { 0.0 };
                    variance[g][h] += factor * at_risk[g] / n * (delta - at_risk[h] / n);
                }
            }
        } else if d > 0.0 {
            for g in 0..k {
                observed_minus_expected[g] += deaths[g] - d * at_risk[g] / n;
            }
        }
        for &(_, _, g) in &all[i..i + same] {
            at_risk[g] -= 1.0;
        }
        i += same;
    }
    // Drop the last group (the statistic is invariant to which) and solve V x = O - E.
    let m = k - 1;
    let mut a: Vec<Vec<f64>> = (0..m)
        .map(|g| {
            let mut row = variance[g][..m].to_vec();
            row.push(observed_minus_expected[g]);
            row
        })
        .collect();
    let x = crate::optimize::solve(&mut a)?;
    let chi2: f64 = (0..m).map(|g| observed_minus_expected[g] * x[g]).sum();
    let dist = statrs::distribution::ChiSquared::new(m as f64).ok()?;
    use statrs::distribution::ContinuousCDF;
    Some((chi2, m, dist.sf(chi2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_limit_by_hand() {
        // 1 (event), 2 (censored), 3, 4 (events), 5 (censored).
        // t=1: 5 at risk, S = 4/5. t=3: 3 at risk, S = 0.8 * 2/3 = 0.5333.
        // t=4: 2 at risk, S = 0.5333 / 2 = 0.2667: the median is 4.
        let mut obs = [
            (3.0, true),
            (1.0, true),
            (5.0, false),
            (2.0, false),
            (4.0, true),
        ];
        let steps = kaplan_meier(&mut obs);
        assert_eq!(steps.len(), 3);
        assert_eq!((steps[1].t, steps[1].at_risk), (3.0, 3));
        assert!((steps[1].survival - 8.0 / 15.0).abs() < 1e-12);
        assert_eq!(median(&steps), Some(4.0));
        // Greenwood at t=3: 1 / (5 * 4) + 1 / (3 * 2) = 0.05 + 0.16667.
        assert!((steps[1].greenwood - (0.05 + 1.0 / 6.0)).abs() < 1e-12);
        let (low, high) = steps[1].interval().unwrap();
        let half = 1.959964 * (0.05f64 + 1.0 / 6.0).sqrt();
        assert!((low - 8.0 / 15.0 * (-half).exp()).abs() < 1e-12);
        assert_eq!(high, 1.0);
        // Area: 1 * 1 (0..1) + 0.8 * 2 (1..3) + 0.5333 * 1 (3..4) + 0.2667 * 1 (4..5).
        let rmst = restricted_mean(&steps, 5.0);
        assert!((rmst - (1.0 + 1.6 + 8.0 / 15.0 + 4.0 / 15.0)).abs() < 1e-12);
    }

    #[test]
    fn ties_and_censoring_at_the_same_time() {
        // At t=2 four are at risk (the one censored at 2 included); two events: S = 1/2,
        // which is <= 0.5, so the median is 2.
        let mut obs = [(2.0, true), (2.0, true), (2.0, false), (6.0, false)];
        let steps = kaplan_meier(&mut obs);
        assert_eq!(
            (steps[0].at_risk, steps[0].events, steps[0].survival),
            (4, 2, 0.5)
        );
        assert_eq!(median(&steps), Some(2.0));
        // Never at or below one half: no median.
        let mut obs = [(1.0, true), (3.0, false), (4.0, false)];
        assert_eq!(median(&kaplan_meier(&mut obs)), None);
        assert_eq!(median(&kaplan_meier(&mut [])), None);
    }
}
