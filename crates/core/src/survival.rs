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

/// Customer lifetimes kept in the orders that [`Lives::at`] needs to give the
/// observations of [`lifetimes_at`] at many instants already sorted by duration, in
/// linear time per instant: the events by their fixed duration (churned - won), and
/// every life by `won` descending, since a life censored at `end` lasts `end - won`.
#[derive(Debug, Clone)]
pub struct Lives {
    /// (churned - won, won, churned) of the churned lives, by duration.
    events: Vec<(i64, i64, i64)>,
    /// (won, churned) of every life, latest won first.
    by_won: Vec<(i64, Option<i64>)>,
}

impl Lives {
    /// Sorts `lives`, (won, churned) in microseconds.
    pub fn new(lives: &[(i64, Option<i64>)]) -> Lives {
        let mut events: Vec<(i64, i64, i64)> = lives
            .iter()
            .filter_map(|&(won, lost)| lost.map(|lost| (lost - won, won, lost)))
            .collect();
        events.sort_unstable();
        let mut by_won = lives.to_vec();
        by_won.sort_unstable_by_key(|life| std::cmp::Reverse(life.0));
        Lives { events, by_won }
    }

    /// [`lifetimes_at`] of these lives, sorted by duration (events before censored
    /// lives of the same duration).
    pub fn at(&self, end: i64, unit: f64) -> Vec<(f64, bool)> {
        self.observations(end, unit).collect()
    }

    /// The Kaplan-Meier median of the lifetimes at `end` (`median(&kaplan_meier(..))`
    /// of [`Lives::at`], to the bit) and their number, without collecting them: the
    /// curve is followed only until it reaches one half.
    pub fn median_at(&self, end: i64, unit: f64) -> (Option<f64>, u64) {
        // Every life won before `end` is an event or censored there; `by_won` is
        // sorted latest first.
        let n = (self.by_won.len() - self.by_won.partition_point(|(won, _)| *won >= end)) as u64;
        let mut observations = self.observations(end, unit).peekable();
        // As `kaplan_meier` steps: observations of one time together.
        let (mut at_risk, mut survival) = (n, 1.0);
        while let Some((t, event)) = observations.next() {
            let (mut same, mut events) = (1, u64::from(event));
            while let Some((_, event)) = observations.next_if(|o| o.0 == t) {
                same += 1;
                events += u64::from(event);
            }
            if events > 0 {
                survival *= 1.0 - events as f64 / at_risk as f64;
                if survival <= 0.5 {
                    return (Some(t), n);
                }
            }
            at_risk -= same;
        }
        (None, n)
    }

    /// The (duration in `unit`s, event) of the lives at `end`, by duration, events
    /// first.
    fn observations(&self, end: i64, unit: f64) -> impl Iterator<Item = (f64, bool)> + '_ {
        let mut events = self
            .events
            .iter()
            .filter(move |(_, won, lost)| *won < end && *lost < end)
            .map(|(duration, _, _)| *duration)
            .peekable();
        let mut censored = self
            .by_won
            .iter()
            .filter(move |(won, lost)| *won < end && lost.is_none_or(|lost| lost >= end))
            .map(move |(won, _)| end - won)
            .peekable();
        std::iter::from_fn(move || {
            let event = match (events.peek(), censored.peek()) {
                (Some(e), Some(c)) => e <= c,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return None,
            };
            let duration = if event {
                events.next()
            } else {
                censored.next()
            };
            Some((duration.expect("peeked") as f64 / unit, event))
        })
    }
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

    /// (won, churned): churned before, at and after the instants, never, won later.
    const LIVES: [(i64, Option<i64>); 8] = [
        (0, Some(50)),
        (10, None),
        (20, Some(100)),
        (5, Some(55)),
        (30, None),
        (120, None),
        (40, Some(90)),
        (60, Some(61)),
    ];

    #[test]
    fn sorted_lives_give_the_observations_of_lifetimes_at_in_order() {
        let lives = LIVES;
        let sorted = Lives::new(&lives);
        for end in [0, 50, 56, 90, 100, 101, 200] {
            let mut expected = lifetimes_at(&lives, end, 10.0);
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
            let got = sorted.at(end, 10.0);
            assert_eq!(got, expected, "at {end}");
        }
        // At 100: events 50 (0-50), 50 (5-55), 1 (60-61), 50 (40-90); censored
        // 20-100 is still alive at 100 (80), 10 -> 90, 30 -> 70.
        assert_eq!(
            sorted.at(100, 10.0),
            [
                (0.1, true),
                (5.0, true),
                (5.0, true),
                (5.0, true),
                (7.0, false),
                (8.0, false),
                (9.0, false)
            ]
        );
    }

    #[test]
    fn the_streamed_median_is_the_curve_median() {
        // LIVES at 100 (see above): 0.1 (event), 5 (three events), 7, 8, 9 (censored).
        // S(0.1) = 6/7; S(5) = 6/7 * 3/6 = 3/7 <= 0.5: the median is 5.
        assert_eq!(Lives::new(&LIVES).median_at(100, 10.0), (Some(5.0), 7));
        // Many lives with tied durations, medians reached or not, at many instants.
        let mut state = 7u64;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) % m
        };
        let lives: Vec<(i64, Option<i64>)> = (0..3_000)
            .map(|_| {
                let won = next(1_000) as i64;
                let lost = (next(3) > 0).then(|| won + next(400) as i64);
                (won, lost)
            })
            .collect();
        let sorted = Lives::new(&lives);
        let (mut reached, mut unreached) = (0, 0);
        for end in (0..1_500).step_by(37) {
            let mut observations = sorted.at(end, 30.0);
            let n = observations.len() as u64;
            let want = median(&kaplan_meier(&mut observations));
            let got = sorted.median_at(end, 30.0);
            assert_eq!(got.1, n, "at {end}");
            assert_eq!(got.0.map(f64::to_bits), want.map(f64::to_bits), "at {end}");
            if want.is_some() {
                reached += 1;
            } else {
                unreached += 1;
            }
        }
        assert!(reached > 5 && unreached > 5, "{reached} {unreached}");
    }

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
