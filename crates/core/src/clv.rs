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

use statrs::function::gamma::{digamma, ln_gamma};

use crate::optimize::{hessian, invert, minimise};
use crate::threads::{Threads, sum_parts};

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

/// The BG/NBD log-likelihood of (r, alpha, a, b) over compressed data and its gradient
/// in those parameters, summed on the threads the caller gives (`threads::sum_parts`). Per customer, with
/// C = ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b),
/// A = -(r+x) ln(α+T) and, for x > 0, D = ln a - ln(b+x-1) - (r+x) ln(α+t_x):
/// ℓ = C + ln(e^A + e^D) (C + A for x = 0); the gradient weighs A's and D's
/// derivatives by their shares w = e^D / (e^A + e^D) and 1 - w.
fn bgnbd_log_likelihood(params: [f64; 4], data: &Compressed, threads: Threads) -> (f64, [f64; 4]) {
    let [r, alpha, a, b] = params;
    if !(r > 0.0 && alpha > 0.0 && a > 0.0 && b > 0.0) {
        return (f64::NEG_INFINITY, [f64::NAN; 4]);
    }
    let max_x = data.distinct_x.last().copied().unwrap_or(0) as usize;
    // Per distinct x: C with its derivatives in r, a, b (α's is r/α for all), and
    // ln a - ln(b+x-1) with its derivative in b.
    let mut by_x = vec![XTerms::default(); max_x + 1];
    let (lg_r, lg_b, lg_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
    let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
    let ln_alpha = alpha.ln();
    for &x in &data.distinct_x {
        let xf = f64::from(x);
        let dg_abx = digamma(a + b + xf);
        by_x[x as usize] = XTerms {
            constant: ln_gamma(r + xf) - lg_r + ln_gamma(b + xf) - lg_b - ln_gamma(a + b + xf)
                + lg_ab
                + r * ln_alpha,
            d_r: digamma(r + xf) - dg_r + ln_alpha,
            d_a: dg_ab - dg_abx,
            d_b: digamma(b + xf) - dg_b - dg_abx + dg_ab,
            dropout: if x > 0 {
                a.ln() - (b + xf - 1.0).ln()
            } else {
                0.0
            },
            dropout_d_b: if x > 0 { -1.0 / (b + xf - 1.0) } else { 0.0 },
        };
    }
    // ln(α + t) and 1 / (α + t) per distinct T and t_x.
    let logs = |times: &[f64]| -> Vec<(f64, f64)> {
        times
            .iter()
            .map(|t| ((alpha + t).ln(), 1.0 / (alpha + t)))
            .collect()
    };
    let (ages, recencies) = (logs(&data.ages), logs(&data.recencies));
    let sum = |rows: &[(u32, u32, u32, f64)]| -> (f64, [f64; 4]) {
        let (mut ll, mut g) = (0.0, [0.0; 4]);
        for &(x, tx, t, n) in rows {
            let rx = r + f64::from(x);
            let terms = &by_x[x as usize];
            let (ln_age, inv_age) = ages[t as usize];
            let first = -rx * ln_age;
            // d/dr, d/dα, d/da, d/db of the mixture term.
            let (value, mix) = if x > 0 {
                let (ln_rec, inv_rec) = recencies[tx as usize];
                let second = terms.dropout - rx * ln_rec;
                let (hi, lo) = if first > second {
                    (first, second)
                } else {
                    (second, first)
                };
                let value = hi + (lo - hi).exp().ln_1p();
                let w = (second - value).exp();
                let mix = [
                    -(1.0 - w) * ln_age - w * ln_rec,
                    -rx * ((1.0 - w) * inv_age + w * inv_rec),
                    w / a,
                    w * terms.dropout_d_b,
                ];
                (value, mix)
            } else {
                (first, [-ln_age, -rx * inv_age, 0.0, 0.0])
            };
            ll += n * (terms.constant + value);
            g[0] += n * (terms.d_r + mix[0]);
            g[1] += n * (r / alpha + mix[1]);
            g[2] += n * (terms.d_a + mix[2]);
            g[3] += n * (terms.d_b + mix[3]);
        }
        (ll, g)
    };
    sum_parts(&data.rows, threads, 10_000, sum)
}

/// The BG/NBD terms that depend on x alone (see [`bgnbd_log_likelihood`]).
#[derive(Debug, Clone, Copy, Default)]
struct XTerms {
    constant: f64,
    d_r: f64,
    d_a: f64,
    d_b: f64,
    dropout: f64,
    dropout_d_b: f64,
}

/// Fits BG/NBD by maximum likelihood (see [`maximise`]); `None` without customers or
/// when the fit fails.
pub fn fit_bgnbd(customers: &[Summary], threads: Threads) -> Option<BgNbd> {
    if customers.is_empty() {
        return None;
    }
    let data = compress(customers);
    let fit = maximise(
        &|p: [f64; 4]| bgnbd_log_likelihood(p, &data, threads),
        customers.len() as f64,
    )?;
    let [r, alpha, a, b] = fit.params;
    Some(BgNbd {
        r,
        alpha,
        a,
        b,
        log_likelihood: fit.log_likelihood,
        se: fit.se,
    })
}

/// [`minimise`]'s stopping rule on the mean negative log-likelihood's gradient in log
/// parameters.
const GRADIENT_TOLERANCE: f64 = 1e-10;

/// A maximum-likelihood fit: the parameters, the maximised log-likelihood and the
/// parameters' standard errors (NaN where the Hessian is singular).
struct Fit<const N: usize> {
    params: [f64; N],
    log_likelihood: f64,
    se: [f64; N],
}

/// Maximises a log-likelihood of N positive parameters given with its gradient:
/// [`minimise`] (L-BFGS, then Newton steps) on the log parameters from all parameters
/// 1, the objective being the mean negative log-likelihood over `count` customers (so
/// the gradient tolerance does not depend on how many there are); standard errors
/// from the inverse of the Hessian of the negative log-likelihood, by differences of
/// its gradient. `None` when the fit fails.
fn maximise<const N: usize>(
    ll: &dyn Fn([f64; N]) -> (f64, [f64; N]),
    count: f64,
) -> Option<Fit<N>> {
    let mean_nll = |theta: &[f64]| -> (f64, Vec<f64>) {
        let p: [f64; N] = std::array::from_fn(|i| theta[i].exp());
        let (value, g) = ll(p);
        (
            -value / count,
            (0..N).map(|i| -g[i] * p[i] / count).collect(),
        )
    };
    let minimum = minimise(&mean_nll, &[0.0; N], GRADIENT_TOLERANCE)?;
    let params: [f64; N] = std::array::from_fn(|i| minimum.point[i].exp());
    let log_likelihood = ll(params).0;
    let nll = |p: &[f64]| -> (f64, Vec<f64>) {
        let (value, g) = ll(std::array::from_fn(|i| p[i]));
        (-value, g.iter().map(|g| -g).collect())
    };
    let mut se = [f64::NAN; N];
    if let Some(cov) = invert(&hessian(&nll, &params)) {
        for (i, s) in se.iter_mut().enumerate() {
            *s = cov[i][i].max(0.0).sqrt();
        }
    }
    Some(Fit {
        params,
        log_likelihood,
        se,
    })
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

impl Buyers {
    /// The repeat buyers among `customers` (frequency > 0, positive mean value);
    /// `None` without any.
    fn of(customers: &[Summary]) -> Option<Buyers> {
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
        Some(Buyers { rows, distinct_x })
    }
}

/// The Gamma-Gamma log-likelihood of (p, q, v) over repeat buyers and its gradient.
/// Per buyer with x repeat purchases of mean m:
/// ℓ = ln Γ(px+q) - ln Γ(px) - ln Γ(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(xm+v).
fn gamma_gamma_log_likelihood(
    params: [f64; 3],
    buyers: &Buyers,
    threads: Threads,
) -> (f64, [f64; 3]) {
    let [p, q, v] = params;
    if !(p > 0.0 && q > 0.0 && v > 0.0) {
        return (f64::NEG_INFINITY, [f64::NAN; 3]);
    }
    let max_x = buyers.distinct_x.last().copied().unwrap_or(0) as usize;
    // Per distinct x: the gamma terms and q ln v, with their derivatives in p and q.
    let mut by_x = vec![(0.0, 0.0, 0.0); max_x + 1];
    let (lg_q, dg_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
    for &x in &buyers.distinct_x {
        let xf = f64::from(x);
        let px = p * xf;
        let dg_pxq = digamma(px + q);
        by_x[x as usize] = (
            ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_v,
            xf * (dg_pxq - digamma(px)),
            dg_pxq - dg_q + ln_v,
        );
    }
    let sum = |rows: &[(u32, f64, f64, f64)]| -> (f64, [f64; 3]) {
        let (mut ll, mut g) = (0.0, [0.0; 3]);
        for &(x, ln_x, m, ln_m) in rows {
            let (constant, d_p, d_q) = by_x[x as usize];
            let xf = f64::from(x);
            let (px, spend) = (p * xf, xf * m + v);
            let ln_spend = spend.ln();
            ll += constant + (px - 1.0) * ln_m + px * ln_x - (px + q) * ln_spend;
            g[0] += d_p + xf * (ln_m + ln_x - ln_spend);
            g[1] += d_q - ln_spend;
            g[2] += q / v - (px + q) / spend;
        }
        (ll, g)
    };
    sum_parts(&buyers.rows, threads, 10_000, sum)
}

/// Fits Gamma-Gamma on the repeat buyers (frequency > 0, positive mean value);
/// `None` without any.
pub fn fit_gamma_gamma(customers: &[Summary], threads: Threads) -> Option<GammaGamma> {
    let buyers = Buyers::of(customers)?;
    let fit = maximise(
        &|p: [f64; 3]| gamma_gamma_log_likelihood(p, &buyers, threads),
        buyers.rows.len() as f64,
    )?;
    let [p, q, v] = fit.params;
    Some(GammaGamma {
        p,
        q,
        v,
        log_likelihood: fit.log_likelihood,
        se: fit.se,
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

/// Discounted CLV over a horizon of `t` time units: the expected purchases of each
/// month (months of `month_units` time units), the last month cut at the horizon when
/// it is not a whole number of months, times the expected value and the margin, each
/// month discounted at `monthly_rate` (the cut month at its fraction). Undiscounted, it
/// is exactly the expected purchases over `t` times the value and the margin, so one
/// row's `clv` and `expected_purchases` are over the same horizon.
pub fn clv(
    model: &BgNbd,
    spend: &GammaGamma,
    s: &Summary,
    t: f64,
    month_units: f64,
    monthly_rate: f64,
    margin: f64,
) -> f64 {
    let value = spend.expected_value(s) * margin;
    let months = t / month_units;
    // A horizon within a millionth of whole months is that many months (12m, 1y).
    let whole = if (months - months.round()).abs() < 1e-6 {
        months.round()
    } else {
        months.floor()
    };
    let mut total = 0.0;
    let mut previous = 0.0;
    let mut step = |at: f64, month: f64| {
        let cumulative = model.expected_purchases(s, at);
        total += (cumulative - previous) * value / (1.0 + monthly_rate).powf(month);
        previous = cumulative;
    };
    for i in 1..=(whole as u32) {
        step(f64::from(i) * month_units, f64::from(i));
    }
    if months - whole > 1e-6 {
        step(t, months);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17, defect 10: `clv predict --horizon 90d` summed whole months (three, 91.3
    /// days) while `expected_purchases` was over 90 days. Undiscounted, the CLV is the
    /// expected purchases over the horizon times the expected value, for any horizon.
    #[test]
    fn clv_is_over_the_same_horizon_as_the_expected_purchases() {
        let bg = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
            log_likelihood: 0.0,
            se: [0.0; 4],
        };
        let gg = GammaGamma {
            p: 6.25,
            q: 3.74,
            v: 15.44,
            log_likelihood: 0.0,
            se: [0.0; 3],
        };
        let s = Summary {
            frequency: 2,
            recency: 30.43,
            t: 38.86,
            monetary_value: 22.5,
        };
        let month_units = 30.4375 / 7.0;
        for days in [90.0, 30.4375 * 12.0, 7.0 * 39.0, 10.0] {
            let t = days / 7.0;
            let undiscounted = clv(&bg, &gg, &s, t, month_units, 0.0, 1.0);
            let expected = bg.expected_purchases(&s, t) * gg.expected_value(&s);
            assert!(
                (undiscounted - expected).abs() < 1e-9 * expected,
                "{days} days: {undiscounted} vs {expected}"
            );
            // Discounting lowers it, and a margin scales it.
            let discounted = clv(&bg, &gg, &s, t, month_units, 0.01, 0.5);
            assert!(discounted < 0.5 * expected, "{days} days");
        }
    }

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

    /// Asserts that the gradient `ll` returns at `at` matches central differences of
    /// its value.
    fn assert_gradient<const N: usize>(ll: impl Fn([f64; N]) -> (f64, [f64; N]), at: [f64; N]) {
        let (_, analytic) = ll(at);
        let numeric: [f64; N] = std::array::from_fn(|i| {
            let h = 1e-6 * at[i];
            let (mut up, mut down) = (at, at);
            up[i] += h;
            down[i] -= h;
            (ll(up).0 - ll(down).0) / (2.0 * h)
        });
        for (a, n) in analytic.iter().zip(numeric) {
            assert!(
                (a - n).abs() < 1e-6 * (1.0 + n.abs()),
                "{analytic:?} {numeric:?}"
            );
        }
    }

    fn customers() -> Vec<Summary> {
        // Zero, one and several repeat purchases, repeated histories (counts > 1).
        let rows = [
            (0, 0.0, 10.0, 0.0),
            (0, 0.0, 30.0, 0.0),
            (1, 2.0, 10.0, 25.0),
            (1, 2.0, 10.0, 40.0),
            (3, 20.0, 30.0, 12.5),
            (7, 29.0, 30.0, 80.0),
            (2, 5.0, 38.0, 33.0),
        ];
        rows.iter()
            .map(|&(frequency, recency, t, monetary_value)| Summary {
                frequency,
                recency,
                t,
                monetary_value,
            })
            .collect()
    }

    #[test]
    fn gradients_match_central_differences() {
        let data = compress(&customers());
        for at in [[0.5, 4.0, 0.8, 2.4], [3.0, 25.0, 0.9, 16.0]] {
            assert_gradient(|p| bgnbd_log_likelihood(p, &data, Threads::ONE), at);
        }
        let buyers = Buyers::of(&customers()).unwrap();
        assert_eq!(buyers.distinct_x, [1, 2, 3, 7]);
        for at in [[6.0, 3.7, 15.0], [1.0, 1.0, 1.0]] {
            assert_gradient(|p| gamma_gamma_log_likelihood(p, &buyers, Threads::ONE), at);
        }
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
