//! Kaplan-Meier survival (the product-limit estimator), ties grouped: at a time `t`,
//! everyone whose duration is at least `t` is at risk, including those censored at
//! `t`, and all events at `t` are counted together.
//!
//! Used by `median_lifetime` (kpis.md): the median is the smallest event time at which
//! the survival estimate is 0.5 or below, not interpolated; none when it never is.

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
}

/// The Kaplan-Meier curve of `(duration, event)` observations (`event` false means
/// censored at `duration`); one step per distinct event time, in order.
pub fn kaplan_meier(observations: &mut [(f64, bool)]) -> Vec<Step> {
    observations.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk = observations.len() as u64;
    let mut survival = 1.0;
    let mut steps = Vec::new();
    let mut i = 0;
    while i < observations.len() {
        let t = observations[i].0;
        let same = observations[i..].iter().take_while(|o| o.0 == t).count();
        let events = observations[i..i + same].iter().filter(|o| o.1).count() as u64;
        if events > 0 {
            survival *= 1.0 - events as f64 / at_risk as f64;
            steps.push(Step {
                t,
                at_risk,
                events,
                survival,
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
