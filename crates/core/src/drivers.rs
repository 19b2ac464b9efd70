//! What drives a score: the Shapley decomposition of R² over the predictors of a
//! linear regression (each predictor's average gain in R² over every order of
//! entering the model; the shares add up to the full model's R²), and the
//! decomposition of an NPS change between two periods into segment mix and
//! within-segment rate effects.

/// One predictor's share of the explained variance.
#[derive(Debug, Clone, PartialEq)]
pub struct Importance {
    /// The predictor's name.
    pub name: String,
    /// Its Shapley share of R² (the shares sum to the full R²).
    pub shapley_r2: f64,
    /// Its share of the full R², in percent.
    pub percent: f64,
}

/// The result of a key-driver analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Drivers {
    /// Rows used (complete cases).
    pub n: usize,
    /// R² of the model with every predictor.
    pub r2: f64,
    /// What R² says about the population (its interval and test).
    pub fit: Fit,
    /// Per predictor, most important first.
    pub importance: Vec<Importance>,
}

/// How much a regression's R² can be trusted: adjusted R², a 95% interval and the
/// overall F test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// R² adjusted for the number of predictors.
    pub adjusted: f64,
    /// 95% interval of the population R²: R² ± 1.96 SE with Olkin and Finn's
    /// large-sample SE, `sqrt(4 R² (1 - R²)² (n - k - 1)² / ((n² - 1)(n + 3)))`, cut to
    /// [0, 1] (as R's `psychometric::CI.Rsq`).
    pub interval: crate::stats::Interval,
    /// The p-value of the F test that every coefficient is 0.
    pub p_value: f64,
}

impl Fit {
    /// The fit of an R² over `n` rows and `k` predictors (`n > k + 1`).
    pub fn new(r2: f64, n: usize, k: usize) -> Fit {
        use statrs::distribution::{ContinuousCDF, FisherSnedecor};
        let (nf, kf) = (n as f64, k as f64);
        let residual_df = nf - kf - 1.0;
        let adjusted = 1.0 - (1.0 - r2) * (nf - 1.0) / residual_df;
        let se = (4.0 * r2 * (1.0 - r2).powi(2) * residual_df.powi(2)
            / ((nf * nf - 1.0) * (nf + 3.0)))
            .sqrt();
        let interval = crate::stats::Interval {
            low: (r2 - 1.96 * se).max(0.0),
            high: (r2 + 1.96 * se).min(1.0),
        };
        let f = (r2 / kf) / ((1.0 - r2).max(f64::MIN_POSITIVE) / residual_df);
        let p_value = FisherSnedecor::new(kf, residual_df)
            .map(|d| d.sf(f))
            .unwrap_or(f64::NAN);
        Fit {
            adjusted,
            interval,
            p_value,
        }
    }

    /// Whether the predictors explain almost none of the variance: under 5% of it,
    /// or not significantly more than none (F test p >= 0.05).
    pub fn explains_little(&self, r2: f64) -> bool {
        r2 < 0.05 || self.p_value.is_nan() || self.p_value >= 0.05
    }
}

/// R² of the least-squares regression of `y` on the columns `subset` of `x` (with an
/// intercept), from the covariance matrix `cov` (predictors then y, last) of the data.
fn r2(cov: &[Vec<f64>], subset: &[usize]) -> f64 {
    let k = cov.len() - 1;
    if subset.is_empty() || cov[k][k] <= 0.0 {
        return 0.0;
    }
    // Solve Sxx beta = Sxy; R² = Sxy' beta / Syy.
    let mut a: Vec<Vec<f64>> = subset
        .iter()
        .map(|&i| {
            let mut row: Vec<f64> = subset.iter().map(|&j| cov[i][j]).collect();
            row.push(cov[i][k]);
            row
        })
        .collect();
    let Some(beta) = crate::optimize::solve(&mut a) else {
        return f64::NAN;
    };
    let explained: f64 = subset.iter().zip(&beta).map(|(&i, b)| cov[i][k] * b).sum();
    explained / cov[k][k]
}

/// Shapley decomposition of R² for `y` on the named predictor columns `x` (rows of
/// equal length; rows with any missing value, NaN, are left out). `None` with fewer
/// complete rows than predictors + 2, more than 16 predictors, or collinear ones.
pub fn shapley_r2(names: &[&str], x: &[Vec<f64>], y: &[f64]) -> Option<Drivers> {
    let k = names.len();
    if k == 0 || k > 16 {
        return None;
    }
    let rows: Vec<(&Vec<f64>, f64)> = x
        .iter()
        .zip(y)
        .filter(|(r, v)| r.len() == k && r.iter().all(|c| c.is_finite()) && v.is_finite())
        .map(|(r, v)| (r, *v))
        .collect();
    let n = rows.len();
    if n < k + 2 {
        return None;
    }
    // Means, then the covariance matrix of (x..., y).
    let mut mean = vec![0.0; k + 1];
    for (r, v) in &rows {
        for (m, c) in mean.iter_mut().zip(r.iter().chain(std::iter::once(v))) {
            *m += c / n as f64;
        }
    }
    let mut cov = vec![vec![0.0; k + 1]; k + 1];
    for (r, v) in &rows {
        let d: Vec<f64> = r
            .iter()
            .chain(std::iter::once(v))
            .zip(&mean)
            .map(|(c, m)| c - m)
            .collect();
        for i in 0..=k {
            for j in 0..=k {
                cov[i][j] += d[i] * d[j];
            }
        }
    }
    // R² of every subset (bit i set = predictor i in).
    let subsets = 1usize << k;
    let mut r2_of = vec![0.0; subsets];
    for (mask, value) in r2_of.iter_mut().enumerate().skip(1) {
        let subset: Vec<usize> = (0..k).filter(|i| mask & (1 << i) != 0).collect();
        *value = r2(&cov, &subset);
        if !value.is_finite() {
            return None;
        }
    }
    // Shapley weight of a subset S not containing i: |S|! (k - |S| - 1)! / k!.
    let factorial = |n: usize| (1..=n).map(|i| i as f64).product::<f64>();
    let full = r2_of[subsets - 1];
    let mut importance: Vec<Importance> = (0..k)
        .map(|i| {
            let mut phi = 0.0;
            for mask in 0..subsets {
                if mask & (1 << i) != 0 {
                    continue;
                }
                let s = mask.count_ones() as usize;
                let weight = factorial(s) * factorial(k - s - 1) / factorial(k);
                phi += weight * (r2_of[mask | (1 << i)] - r2_of[mask]);
            }
            Importance {
                name: names[i].to_string(),
                shapley_r2: phi,
                percent: if full > 0.0 { 100.0 * phi / full } else { 0.0 },
            }
        })
        .collect();
    importance.sort_by(|a, b| b.shapley_r2.total_cmp(&a.shapley_r2));
    Some(Drivers {
        n,
        r2: full,
        fit: Fit::new(full, n, k),
        importance,
    })
}

/// One segment's NPS inputs in two periods: (promoters, detractors, answers) before
/// and after.
pub type SegmentCounts = ((u64, u64, u64), (u64, u64, u64));

/// An NPS change split into mix and rate effects.
#[derive(Debug, Clone, PartialEq)]
pub struct NpsChange {
    /// The effect of segment weights changing (at the first period's NPS).
    pub mix: f64,
    /// The effect of segment NPS changing (at the second period's weights).
    pub rate: f64,
    /// Per segment: (segment, mix, rate).
    pub segments: Vec<(String, f64, f64)>,
}

/// The change of NPS between two periods split exactly into a mix effect (segment
/// weights changing, at the first period's NPS) and a rate effect (segment NPS
/// changing, at the second period's weights): change = mix + rate. Per segment:
/// (mix, rate); segments absent from a period have weight 0 there (and contribute
/// their rate only where they have answers in both).
pub fn nps_change(segments: &[(String, SegmentCounts)]) -> Option<NpsChange> {
    let total = |f: fn(&SegmentCounts) -> u64| segments.iter().map(|(_, c)| f(c)).sum::<u64>();
    let (n1, n2) = (total(|c| c.0.2), total(|c| c.1.2));
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let nps = |(p, d, n): (u64, u64, u64)| {
        if n == 0 {
            None
        } else {
            Some(100.0 * (p as f64 - d as f64) / n as f64)
        }
    };
    let mut parts = Vec::new();
    let (mut mix, mut rate) = (0.0, 0.0);
    for (name, (before, after)) in segments {
        let (w1, w2) = (before.2 as f64 / n1 as f64, after.2 as f64 / n2 as f64);
        let (s1, s2) = (nps(*before), nps(*after));
        // Mix at the first period's NPS; a segment new in the second period brings
        // its own NPS in as mix. Rate where the segment has both.
        let m = match (s1, s2) {
            (Some(s1), _) => (w2 - w1) * s1,
            (None, Some(s2)) => w2 * s2,
            (None, None) => 0.0,
        };
        let r = match (s1, s2) {
            (Some(s1), Some(s2)) => w2 * (s2 - s1),
            _ => 0.0,
        };
        mix += m;
        rate += r;
        parts.push((name.clone(), m, r));
    }
    Some(NpsChange {
        mix,
        rate,
        segments: parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17, defect 9: R² comes with its interval and test. With n = 30 and k = 2,
    /// F(2, 27) = 3.354 is the 95% critical value (tables), reached at
    /// R² = 2F / (27 + 2F) = 0.19900; adjusted R² = 1 - 0.801 * 29 / 27 = 0.13967; the
    /// Olkin-Finn SE is sqrt(4 * 0.199 * 0.801² * 27² / (899 * 33)) = sqrt(372.3 / 29667)
    /// = 0.11203 by hand.
    #[test]
    fn the_fit_of_r2_by_hand() {
        let r2 = 2.0 * 3.354 / (27.0 + 2.0 * 3.354);
        let fit = Fit::new(r2, 30, 2);
        assert!((fit.p_value - 0.05).abs() < 2e-4, "{}", fit.p_value);
        assert!((fit.adjusted - (1.0 - (1.0 - r2) * 29.0 / 27.0)).abs() < 1e-12);
        let se = (4.0 * r2 * (1.0 - r2).powi(2) * 27.0f64.powi(2) / (899.0 * 33.0)).sqrt();
        assert!((se - 0.11203).abs() < 1e-4, "{se}");
        // 0.199 - 1.96 * 0.112 is below 0: cut at 0.
        assert_eq!(fit.interval.low, 0.0);
        assert!((fit.interval.high - (r2 + 1.96 * se)).abs() < 1e-9);
        // R² = 0.001 over 1,000 answers and 4 predictors explains almost nothing.
        let weak = Fit::new(0.001, 1000, 4);
        assert!(weak.explains_little(0.001));
        assert_eq!(weak.interval.low, 0.0);
        assert!(weak.p_value > 0.5, "{}", weak.p_value);
        assert!(!Fit::new(0.3, 100, 2).explains_little(0.3));
    }

    #[test]
    fn two_predictors_have_the_closed_form() {
        // y = x1 + 0.5 x2 + noise-free pattern; Shapley with two predictors:
        // phi1 = (R²(1) + R²(1,2) - R²(2)) / 2.
        let x: Vec<Vec<f64>> = vec![
            vec![1.0, 2.0],
            vec![2.0, 1.0],
            vec![3.0, 4.0],
            vec![4.0, 3.0],
            vec![5.0, 7.0],
            vec![6.0, 5.0],
        ];
        let y = [2.1, 2.4, 5.2, 5.4, 8.6, 8.4];
        let d = shapley_r2(&["x1", "x2"], &x, &y).unwrap();
        let single = |i: usize| {
            let xs: Vec<f64> = x.iter().map(|r| r[i]).collect();
            let (mx, my) = (xs.iter().sum::<f64>() / 6.0, y.iter().sum::<f64>() / 6.0);
            let sxy: f64 = xs.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
            let sxx: f64 = xs.iter().map(|a| (a - mx).powi(2)).sum();
            let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
            sxy * sxy / (sxx * syy)
        };
        let phi1 = (single(0) + d.r2 - single(1)) / 2.0;
        let x1 = d.importance.iter().find(|i| i.name == "x1").unwrap();
        assert!((x1.shapley_r2 - phi1).abs() < 1e-12);
        let sum: f64 = d.importance.iter().map(|i| i.shapley_r2).sum();
        assert!((sum - d.r2).abs() < 1e-12);
        assert_eq!(d.n, 6);
    }

    #[test]
    fn nps_change_splits_exactly() {
        // Segment a: 60/20 of 100 (NPS 40) -> 30/10 of 50 (40): only its weight drops.
        // Segment b: 10/30 of 100 (-20) -> 75/25 of 150 (33.3).
        let segments = vec![
            ("a".to_string(), ((60, 20, 100), (30, 10, 50))),
            ("b".to_string(), ((10, 30, 100), (75, 25, 150))),
        ];
        let NpsChange {
            mix,
            rate,
            segments: parts,
        } = nps_change(&segments).unwrap();
        // Before: 100 * (70 - 50) / 200 = 10; after: 100 * (105 - 35) / 200 = 35.
        assert!((mix + rate - 25.0).abs() < 1e-9);
        // Mix: (0.25 - 0.5) * 40 + (0.75 - 0.5) * (-20) = -15; rate: 0.75 * 53.33 = 40.
        assert!((mix + 15.0).abs() < 1e-9 && (rate - 40.0).abs() < 1e-9);
        assert_eq!(parts[0].2, 0.0);
    }
}
