//! Small numerical tools for maximum likelihood: Nelder-Mead minimisation and a
//! finite-difference Hessian for standard errors. The models fitted here have three
//! or four parameters, where a derivative-free simplex is robust and fast enough.

/// Minimises `f` from `start` with the Nelder-Mead simplex (standard coefficients:
/// reflection 1, expansion 2, contraction 0.5, shrink 0.5). Stops when the simplex's
/// function values and points agree within `tolerance`, or after `max_evals`
/// evaluations. Returns the best point and its value.
pub fn nelder_mead(
    f: &dyn Fn(&[f64]) -> f64,
    start: &[f64],
    step: f64,
    tolerance: f64,
    max_evals: usize,
) -> (Vec<f64>, f64) {
    let n = start.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    simplex.push((start.to_vec(), f(start)));
    for i in 0..n {
        let mut p = start.to_vec();
        p[i] += step;
        let v = f(&p);
        simplex.push((p, v));
    }
    let mut evals = n + 1;
    let value = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    while evals < max_evals {
        simplex.sort_by(|a, b| value(a.1).total_cmp(&value(b.1)));
        let (best, worst) = (value(simplex[0].1), value(simplex[n].1));
        let spread = simplex
            .iter()
            .skip(1)
            .flat_map(|(p, _)| p.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if (worst - best).abs() <= tolerance * (1.0 + best.abs()) && spread <= tolerance {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|(p, _)| p[j]).sum::<f64>() / n as f64)
            .collect();
        let towards = |coef: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[n].0)
                .map(|(c, w)| c + coef * (c - w))
                .collect()
        };
        let reflected = towards(1.0);
        let fr = value(f(&reflected));
        evals += 1;
        if fr < best {
            let expanded = towards(2.0);
            let fe = value(f(&expanded));
            evals += 1;
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < value(simplex[n - 1].1) {
            simplex[n] = (reflected, fr);
        } else {
            let (contracted, fc) = if fr < worst {
                let p = towards(0.5);
                let v = value(f(&p));
                (p, v)
            } else {
                let p = towards(-0.5);
                let v = value(f(&p));
                (p, v)
            };
            evals += 1;
            if fc < worst.min(fr) {
                simplex[n] = (contracted, fc);
            } else {
                // Shrink towards the best point.
                let best_point = simplex[0].0.clone();
                for (p, v) in simplex.iter_mut().skip(1) {
                    for (x, b) in p.iter_mut().zip(&best_point) {
                        *x = b + 0.5 * (*x - b);
                    }
                    *v = value(f(p));
                    evals += 1;
                }
            }
        }
    }
    simplex.sort_by(|a, b| value(a.1).total_cmp(&value(b.1)));
    let (point, v) = simplex.swap_remove(0);
    (point, v)
}

/// The Hessian of `f` at `x` by central differences (step relative to each
/// coordinate).
pub fn hessian(f: &dyn Fn(&[f64]) -> f64, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let h: Vec<f64> = x.iter().map(|v| 1e-4 * v.abs().max(1e-2)).collect();
    let at = |di: usize, si: f64, dj: usize, sj: f64| {
        let mut p = x.to_vec();
        p[di] += si * h[di];
        p[dj] += sj * h[dj];
        f(&p)
    };
    let mut out = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in i..n {
            let v = (at(i, 1.0, j, 1.0) - at(i, 1.0, j, -1.0) - at(i, -1.0, j, 1.0)
                + at(i, -1.0, j, -1.0))
                / (4.0 * h[i] * h[j]);
            out[i][j] = v;
            out[j][i] = v;
        }
    }
    out
}

/// Gauss-Jordan elimination with partial pivoting on an augmented matrix `[A | B]`
/// (A square, B any number of columns): the solution X of A X = B, by columns of B
/// per row of A. `None` when A is singular (a pivot below 1e-12 of A's largest entry).
fn eliminate(a: &mut [Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let m = a.len();
    let scale = a
        .iter()
        .flat_map(|row| row[..m].iter())
        .fold(0.0f64, |s, v| s.max(v.abs()));
    for col in 0..m {
        let pivot = (col..m).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    Some(
        a.iter()
            .enumerate()
            .map(|(i, row)| row[m..].iter().map(|v| v / row[i]).collect())
            .collect(),
    )
}

/// Solves A x = b given the augmented matrix `[A | b]`; `None` when A is singular.
pub fn solve(a: &mut [Vec<f64>]) -> Option<Vec<f64>> {
    Some(eliminate(a)?.into_iter().map(|row| row[0]).collect())
}

/// The inverse of a small square matrix; `None` when singular.
pub fn invert(matrix: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = matrix.len();
    let mut a: Vec<Vec<f64>> = matrix
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..n).map(|j| if i == j { 1.0 } else { 0.0 }));
            r
        })
        .collect();
    eliminate(&mut a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rosenbrock_minimum_and_a_known_hessian() {
        let rosenbrock = |p: &[f64]| (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2);
        let (x, v) = nelder_mead(&rosenbrock, &[-1.2, 1.0], 0.5, 1e-12, 20_000);
        assert!(
            (x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5,
            "{x:?}"
        );
        assert!(v < 1e-10);
        // Hessian of the Rosenbrock function at (1, 1): [[802, -400], [-400, 200]].
        let h = hessian(&rosenbrock, &[1.0, 1.0]);
        assert!((h[0][0] - 802.0).abs() < 1e-3 && (h[0][1] + 400.0).abs() < 1e-3);
        let inv = invert(&h).unwrap();
        // det = 802 * 200 - 400^2 = 400; inverse [[0.5, 1], [1, 2.005]].
        assert!((inv[0][0] - 0.5).abs() < 1e-4 && (inv[1][1] - 2.005).abs() < 1e-4);
    }
}
