//! Predictive customer lifetime value for non-contractual purchasing: BG/NBD (Fader,
//! Hardie & Lee 2005) for the number of future purchases and Gamma-Gamma (Fader &
//! Hardie 2013) for their value, both fitted by maximum likelihood.
//!
//! Conventions of the literature (and of the Python package `lifetimes`): purchases
//! on the same day are one purchase; `frequency` is the number of repeat purchase
//! days, `recency` the time from the first purchase to the last, `T` the time from the
//! first purchase to the end of calibration (day differences in a time unit, weeks by
//! default); `monetary_value` is the mean value of the repeat purchases.
//!
//! The likelihood is evaluated over distinct (x, t_x, T) triples with their counts,
//! and the terms that depend only on x are computed once per distinct x, so a fit
//! costs little more per iteration for a million customers than for a thousand.

use std::collections::HashMap;

use statrs::function::gamma::ln_gamma;

use crate::optimize::{hessian, invert, nelder_mead};

/// One customer's purchase summary as of the end of calibration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Repeat purchase days (x).
    pub frequency: u32,
    /// Time from the first purchase to the last (t_x), in the time unit.
    pub recency: f64,
    /// Time from the first purchase to the end of calibration (T).
    pub t: f64,
    /// Mean value of the repeat purchases (0 without any).
    pub monetary_value: f64,
}

/// `(day, amount)` purchases sorted by day, those of the same day merged into one with
/// their total: the literature's "purchases on the same day are one transaction".
pub fn merge_days(mut purchases: Vec<(i32, f64)>) -> Vec<(i32, f64)> {
    purchases.sort_by_key(|(d, _)| *d);
    let mut merged: Vec<(i32, f64)> = Vec::with_capacity(purchases.len());
    for (d, amount) in purchases {
        match merged.last_mut() {
            Some((last, sum)) if *last == d => *sum += amount,
            _ => merged.push((d, amount)),
        }
    }
    merged
}

/// A customer's summary from `(day, amount)` purchases, days numbered consecutively
/// (local calendar days), purchases after `calibration_end` (inclusive end) ignored;
/// `None` without a purchase in calibration. `unit_days` is the time unit (7: weeks).
pub fn summarize(
    purchases: &[(i32, f64)],
    calibration_end: i32,
    unit_days: f64,
) -> Option<Summary> {
    let merged = merge_days(
        purchases
            .iter()
            .copied()
            .filter(|(d, _)| *d <= calibration_end)
            .collect(),
    );
    let (first, _) = *merged.first()?;
    let (last, _) = *merged.last()?;
    let repeats = &merged[1..];
    Some(Summary {
        frequency: repeats.len() as u32,
        recency: f64::from(last - first) / unit_days,
        t: f64::from(calibration_end - first) / unit_days,
        monetary_value: if repeats.is_empty() {
            0.0
        } else {
            repeats.iter().map(|(_, a)| a).sum::<f64>() / repeats.len() as f64
        },
    })
}

/// A fitted BG/NBD model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    /// Shape of the gamma purchase-rate distribution.
    pub r: f64,
    /// Scale of the gamma purchase-rate distribution.
    pub alpha: f64,
    /// Beta dropout-probability parameter a.
    pub a: f64,
    /// Beta dropout-probability parameter b.
    pub b: f64,
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    /// Standard errors of r, alpha, a, b (inverse Hessian); NaN where not available.
    pub se: [f64; 4],
}

/// A fitted Gamma-Gamma spend model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    /// Shape of a transaction's value around the customer's mean.
    pub p: f64,
    /// Shape of the distribution of customers' mean values.
    pub q: f64,
    /// Scale of the distribution of customers' mean values.
    pub v: f64,
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    /// Standard errors of p, q, v; NaN where not available.
    pub se: [f64; 3],
}

/// Distinct (x, t_x, T) with their counts, t_x and T as indexes into tables of their
/// distinct values (histories in days have few), so a likelihood evaluation takes
/// the logarithms once per distinct value.
struct Compressed {
    /// (x, index of t_x, index of T, count).
    rows: Vec<(u32, u32, u32, f64)>,
    recencies: Vec<f64>,
    ages: Vec<f64>,
    distinct_x: Vec<u32>,
}

fn compress(customers: &[Summary]) -> Compressed {
    fn index_of(values: &mut Vec<f64>, seen: &mut HashMap<u64, u32>, v: f64) -> u32 {
        *seen.entry(v.to_bits()).or_insert_with(|| {
            values.push(v);
            (values.len() - 1) as u32
        })
    }
    let (mut recencies, mut ages) = (Vec::new(), Vec::new());
    let (mut seen_r, mut seen_a) = (HashMap::new(), HashMap::new());
    let mut counts: HashMap<(u32, u32, u32), f64> = HashMap::new();
    for s in customers {
        let r = index_of(&mut recencies, &mut seen_r, s.recency);
        let a = index_of(&mut ages, &mut seen_a, s.t);
        *counts.entry((s.frequency, r, a)).or_default() += 1.0;
    }
    let mut rows: Vec<(u32, u32, u32, f64)> = counts
        .into_iter()
        .map(|((x, r, a), n)| (x, r, a, n))
        .collect();
    rows.sort_by_key(|&(x, r, a, _)| (x, r, a));
    let mut distinct_x: Vec<u32> = rows.iter().map(|r| r.0).collect();
    distinct_x.dedup();
    Compressed {
        rows,
        recencies,
        ages,
        distinct_x,
    }
}

/// The BG/NBD log-likelihood of (r, alpha, a, b) over compressed data, summed on
/// two threads.
fn bgnbd_log_likelihood(params: [f64; 4], data: &Compressed) -> f64 {
    let [r, alpha, a, b] = params;
    if !(r > 0.0 && alpha > 0.0 && a > 0.0 && b > 0.0) {
        return f64::NEG_INFINITY;
    }
    let max_x = data.distinct_x.last().copied().unwrap_or(0) as usize;
    // Terms that depend on x alone: ln Γ(r+x) - ln Γ(r) + ln Γ(b+x) - ln Γ(b)
    // - ln Γ(a+b+x) + ln Γ(a+b) + r ln α, and ln a - ln(b+x-1).
    let mut by_x = vec![(0.0, 0.0); max_x + 1];
    let (lg_r, lg_b, lg_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
    for &x in &data.distinct_x {
        let xf = f64::from(x);
        let constant = ln_gamma(r + xf) - lg_r + ln_gamma(b + xf) - lg_b - ln_gamma(a + b + xf)
            + lg_ab
            + r * alpha.ln();
        let dropout = if x > 0 {
            a.ln() - (b + xf - 1.0).ln()
        } else {
            0.0
        };
        by_x[x as usize] = (constant, dropout);
    }
    let ln_ages: Vec<f64> = data.ages.iter().map(|t| (alpha + t).ln()).collect();
    let ln_recencies: Vec<f64> = data.recencies.iter().map(|t| (alpha + t).ln()).collect();
    let sum = |rows: &[(u32, u32, u32, f64)]| -> f64 {
        let mut sum = 0.0;
        for &(x, tx, t, n) in rows {
            let xf = f64::from(x);
            let (constant, dropout) = by_x[x as usize];
            let first = -(r + xf) * ln_ages[t as usize];
            let ll = if x > 0 {
                let second = dropout - (r + xf) * ln_recencies[tx as usize];
                let (hi, lo) = if first > second {
                    (first, second)
                } else {
                    (second, first)
                };
                hi + (lo - hi).exp().ln_1p()
            } else {
                first
            };
            sum += n * (constant + ll);
        }
        sum
    };
    let (left, right) = data.rows.split_at(data.rows.len() / 2);
    if left.len() < 10_000 {
        return sum(&data.rows);
    }
    std::thread::scope(|scope| {
        let other = scope.spawn(|| sum(right));
        sum(left) + other.join().unwrap_or(f64::NAN)
    })
}

/// Fits BG/NBD by maximum likelihood (Nelder-Mead on the log parameters, from 1);
/// `None` without customers or when the fit fails.
pub fn fit_bgnbd(customers: &[Summary]) -> Option<BgNbd> {
    if customers.is_empty() {
        return None;
    }
    let data = compress(customers);
    let nll =
        |p: &[f64]| -bgnbd_log_likelihood([p[0].exp(), p[1].exp(), p[2].exp(), p[3].exp()], &data);
    let (params, value) = minimise_on_log_scale(&nll, 4)?;
    let raw_nll = |p: &[f64]| -bgnbd_log_likelihood([p[0], p[1], p[2], p[3]], &data);
    let se = standard_errors::<4>(&raw_nll, &params);
    Some(BgNbd {
        r: params[0],
        alpha: params[1],
        a: params[2],
        b: params[3],
        log_likelihood: -value,
        se,
    })
}

/// Minimises a negative log-likelihood of log parameters from all parameters 1,
/// with a restart from the optimum (a 2% simplex, against a collapsed one); the
/// parameters (exponentiated) and the minimum, `None` when it is not finite. The
/// restart stops when the simplex spans 1e-8 in every log parameter, a relative
/// precision far below the standard errors (on a million customers, 1e-12 took
/// twice the likelihood evaluations for the same printed parameters).
fn minimise_on_log_scale(nll: &dyn Fn(&[f64]) -> f64, dims: usize) -> Option<(Vec<f64>, f64)> {
    let (mut point, mut value) = nelder_mead(nll, &vec![0.0; dims], 1.0, 1e-6, 20_000);
    let (p2, v2) = nelder_mead(nll, &point, 0.02, 1e-8, 20_000);
    if v2 <= value {
        (point, value) = (p2, v2);
    }
    value
        .is_finite()
        .then(|| (point.iter().map(|v| v.exp()).collect(), value))
}

fn standard_errors<const N: usize>(nll: &dyn Fn(&[f64]) -> f64, at: &[f64]) -> [f64; N] {
    let mut se = [f64::NAN; N];
    if let Some(cov) = invert(&hessian(nll, at)) {
        for (i, s) in se.iter_mut().enumerate() {
            *s = cov[i][i].max(0.0).sqrt();
        }
    }
    se
}

/// The Gauss hypergeometric function 2F1(a, b; c; z) by its series (|z| < 1).
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 0..100_000 {
        let k = f64::from(k);
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-15 * sum.abs() {
            break;
        }
    }
    sum
}

impl BgNbd {
    /// The odds term of a repeat buyer having dropped out: a/(b+x-1) ((α+T)/(α+t_x))^(r+x).
    fn dropout_odds(&self, s: &Summary) -> f64 {
        if s.frequency == 0 {
            return 0.0;
        }
        let x = f64::from(s.frequency);
        self.a / (self.b + x - 1.0)
            * ((self.alpha + s.t) / (self.alpha + s.recency)).powf(self.r + x)
    }

    /// The probability that the customer is still active at the end of calibration.
    pub fn p_alive(&self, s: &Summary) -> f64 {
        1.0 / (1.0 + self.dropout_odds(s))
    }

    /// Expected purchases in the `t` time units after calibration, given the history.
    pub fn expected_purchases(&self, s: &Summary, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let x = f64::from(s.frequency);
        let z = t / (alpha + s.t + t);
        let hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let first = (a + b + x - 1.0) / (a - 1.0);
        let second = 1.0 - hyp * ((alpha + s.t) / (alpha + s.t + t)).powf(r + x);
        first * second / (1.0 + self.dropout_odds(s))
    }
}

/// Repeat buyers for Gamma-Gamma: (x, ln x, m, ln m), sorted by x.
struct Buyers {
    rows: Vec<(u32, f64, f64, f64)>,
    distinct_x: Vec<u32>,
}

/// The Gamma-Gamma log-likelihood of (p, q, v) over repeat buyers.
fn gamma_gamma_log_likelihood(params: [f64; 3], buyers: &Buyers) -> f64 {
    let [p, q, v] = params;
    if !(p > 0.0 && q > 0.0 && v > 0.0) {
        return f64::NEG_INFINITY;
    }
    let max_x = buyers.distinct_x.last().copied().unwrap_or(0) as usize;
    // ln Γ(px + q) - ln Γ(px) - ln Γ(q) + q ln v per distinct x.
    let mut by_x = vec![0.0; max_x + 1];
    let (lg_q, q_ln_v) = (ln_gamma(q), q * v.ln());
    for &x in &buyers.distinct_x {
        let px = p * f64::from(x);
        by_x[x as usize] = ln_gamma(px + q) - ln_gamma(px) - lg_q + q_ln_v;
    }
    let sum = |rows: &[(u32, f64, f64, f64)]| -> f64 {
        rows.iter()
            .map(|&(x, ln_x, m, ln_m)| {
                let xf = f64::from(x);
                let px = p * xf;
                by_x[x as usize] + (px - 1.0) * ln_m + px * ln_x - (px + q) * (xf * m + v).ln()
            })
            .sum()
    };
    let (left, right) = buyers.rows.split_at(buyers.rows.len() / 2);
    if left.len() < 10_000 {
        return sum(&buyers.rows);
    }
    std::thread::scope(|scope| {
        let other = scope.spawn(|| sum(right));
        sum(left) + other.join().unwrap_or(f64::NAN)
    })
}

/// Fits Gamma-Gamma on the repeat buyers (frequency > 0, positive mean value);
/// `None` without any.
pub fn fit_gamma_gamma(customers: &[Summary]) -> Option<GammaGamma> {
    let mut rows: Vec<(u32, f64, f64, f64)> = customers
        .iter()
        .filter(|s| s.frequency > 0 && s.monetary_value > 0.0)
        .map(|s| {
            let m = s.monetary_value;
            (s.frequency, f64::from(s.frequency).ln(), m, m.ln())
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by_key(|r| r.0);
    let mut distinct_x: Vec<u32> = rows.iter().map(|r| r.0).collect();
    distinct_x.dedup();
    let buyers = Buyers { rows, distinct_x };
    let nll =
        |p: &[f64]| -gamma_gamma_log_likelihood([p[0].exp(), p[1].exp(), p[2].exp()], &buyers);
    let (params, value) = minimise_on_log_scale(&nll, 3)?;
    let raw_nll = |p: &[f64]| -gamma_gamma_log_likelihood([p[0], p[1], p[2]], &buyers);
    Some(GammaGamma {
        p: params[0],
        q: params[1],
        v: params[2],
        log_likelihood: -value,
        se: standard_errors::<3>(&raw_nll, &params),
    })
}

impl GammaGamma {
    /// Expected mean value of the customer's future purchases: the posterior mean
    /// p (v + x m) / (p x + q - 1); the population mean p v / (q - 1) without repeats.
    pub fn expected_value(&self, s: &Summary) -> f64 {
        let x = f64::from(s.frequency);
        if s.frequency == 0 || s.monetary_value <= 0.0 {
            return self.p * self.v / (self.q - 1.0);
        }
        self.p * (self.v + x * s.monetary_value) / (self.p * x + self.q - 1.0)
    }
}

/// Discounted CLV over `months` months: the expected purchases of each month (months
/// of `month_units` time units) times the expected value and the margin, discounted
/// at `monthly_rate` per month.
pub fn clv(
    model: &BgNbd,
    spend: &GammaGamma,
    s: &Summary,
    months: u32,
    month_units: f64,
    monthly_rate: f64,
    margin: f64,
) -> f64 {
    let value = spend.expected_value(s) * margin;
    let mut total = 0.0;
    let mut previous = 0.0;
    for i in 1..=months {
        let cumulative = model.expected_purchases(s, f64::from(i) * month_units);
        total += (cumulative - previous) * value / (1.0 + monthly_rate).powi(i as i32);
        previous = cumulative;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_merge_days_and_stop_at_calibration_end() {
        // Days 0 (10 + 5 the same day: one purchase), 14 (7) and 21 (20); calibration
        // ends on day 21 (inclusive), day 28 is after it. In weeks: x = 2, t_x = 3,
        // T = 3; the repeat purchases' mean (7 + 20) / 2 = 13.5.
        let s = summarize(
            &[(0, 10.0), (0, 5.0), (14, 7.0), (21, 20.0), (28, 99.0)],
            21,
            7.0,
        )
        .unwrap();
        assert_eq!(s.frequency, 2);
        assert_eq!((s.recency, s.t), (3.0, 3.0));
        assert_eq!(s.monetary_value, 13.5);
        assert_eq!(summarize(&[(30, 1.0)], 21, 7.0), None);
    }

    #[test]
    fn hypergeometric_closed_forms() {
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z.
        let z: f64 = 0.6;
        assert!((hyp2f1(1.0, 1.0, 2.0, z) - (-(1.0 - z).ln() / z)).abs() < 1e-12);
        // 2F1(a, b; b; z) = (1 - z)^-a.
        assert!((hyp2f1(2.5, 3.0, 3.0, 0.3) - 0.7f64.powf(-2.5)).abs() < 1e-12);
    }
}
