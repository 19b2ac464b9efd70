//! Small numerical tools for maximum likelihood: minimisation of a function with an
//! analytic gradient (argmin's L-BFGS with its Moré-Thuente line search, then Newton
//! steps), the Hessian by central differences of that gradient, and small dense
//! linear algebra (standard errors, least squares, Newton steps).

use std::cell::RefCell;

use argmin::core::{CostFunction, Error, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

/// A function's value and gradient at a point.
pub type ValueAndGradient<'a> = dyn Fn(&[f64]) -> (f64, Vec<f64>) + 'a;

/// A point with the function's value and gradient there.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// `f` for argmin, evaluated once per point: the line search asks for the value and
/// the gradient at the same trial points, and one pass over the data gives both.
struct Objective<'a> {
    f: &'a ValueAndGradient<'a>,
    last: RefCell<Option<Evaluation>>,
}

impl Objective<'_> {
    fn at(&self, p: &[f64]) -> (f64, Vec<f64>) {
        if let Some((q, v, g)) = self.last.borrow().as_ref()
            && q == p
        {
            return (*v, g.clone());
        }
        let (v, g) = (self.f)(p);
        // A point where the function is not finite is one the line search must avoid.
        let v = if v.is_finite() { v } else { f64::INFINITY };
        *self.last.borrow_mut() = Some((p.to_vec(), v, g.clone()));
        (v, g)
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, p: &Vec<f64>) -> Result<f64, Error> {
        Ok(self.at(p).0)
    }
}

impl Gradient for Objective<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.at(p).1)
    }
}

/// The gradient norm at which [`minimise`] hands over from L-BFGS to Newton steps.
pub const HANDOFF: f64 = 1e-6;

/// The result of [`minimise`].
#[derive(Debug, Clone)]
pub struct Minimum {
    /// The best point found.
    pub point: Vec<f64>,
    /// The function there.
    pub value: f64,
    /// The Euclidean norm of the gradient there.
    pub gradient_norm: f64,
}

/// Minimises `f` (value and gradient) from `start`: L-BFGS (memory 8, Moré-Thuente
/// line search) until the gradient's norm is below [`HANDOFF`] or the line search can
/// no longer find a lower value, then at most five Newton steps with the Hessian by
/// differences of the gradient while they shrink the gradient, until its norm is
/// below `gradient_tolerance`. Near the optimum the value changes by less than its
/// rounding error long before the gradient vanishes, so the line search stops early
/// there; the gradient is still exact enough for Newton's method, which converges
/// quadratically from where it stopped. `None` when no finite value is found.
pub fn minimise(f: &ValueAndGradient, start: &[f64], gradient_tolerance: f64) -> Option<Minimum> {
    let objective = Objective {
        f,
        last: RefCell::new(None),
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 8)
        .with_tolerance_grad(HANDOFF.max(gradient_tolerance))
        .ok()?
        .with_tolerance_cost(0.0)
        .ok()?;
    // A line search that gives up ends the run (not in an error) with the best point.
    let result = Executor::new(objective, solver)
        .configure(|state| state.param(start.to_vec()).max_iters(1_000))
        .run()
        .ok()?;
    let mut point = result.state().get_best_param()?.clone();
    let norm = |g: &[f64]| g.iter().map(|v| v * v).sum::<f64>().sqrt();
    let (mut value, mut gradient) = f(&point);
    for _ in 0..5 {
        if norm(&gradient) <= gradient_tolerance {
            break;
        }
        let mut system = hessian(f, &point);
        for (row, g) in system.iter_mut().zip(&gradient) {
            row.push(-g);
        }
        let Some(step) = solve(&mut system) else {
            break;
        };
        let next: Vec<f64> = point.iter().zip(&step).map(|(p, s)| p + s).collect();
        let (next_value, next_gradient) = f(&next);
        let uphill = next_value > value + 1e-12 * value.abs();
        if !next_value.is_finite() || uphill || norm(&next_gradient) >= norm(&gradient) {
            break;
        }
        (point, value, gradient) = (next, next_value, next_gradient);
    }
    value.is_finite().then(|| Minimum {
        gradient_norm: norm(&gradient),
        point,
        value,
    })
}

/// The Hessian at `x` by central differences of the gradient `f` (step relative to
/// each coordinate), symmetrised.
pub fn hessian(f: &ValueAndGradient, x: &[f64]) -> Vec<Vec<f64>> {
    // Row i: the derivative of the gradient along coordinate i.
    let rows: Vec<Vec<f64>> = (0..x.len())
        .map(|i| {
            let h = 1e-5 * x[i].abs().max(1e-2);
            let mut p = x.to_vec();
            p[i] = x[i] + h;
            let (_, up) = f(&p);
            p[i] = x[i] - h;
            let (_, down) = f(&p);
            up.iter()
                .zip(down)
                .map(|(u, d)| (u - d) / (2.0 * h))
                .collect()
        })
        .collect();
    (0..x.len())
        .map(|i| {
            (0..x.len())
                .map(|j| 0.5 * (rows[i][j] + rows[j][i]))
                .collect()
        })
        .collect()
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
        // f = (1 - x)^2 + 100 (y - x^2)^2, gradient by hand:
        // (-2 (1 - x) - 400 x (y - x^2), 200 (y - x^2)); minimum 0 at (1, 1).
        let rosenbrock = |p: &[f64]| {
            let (x, y) = (p[0], p[1]);
            (
                (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
                vec![
                    -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
                    200.0 * (y - x * x),
                ],
            )
        };
        let m = minimise(&rosenbrock, &[-1.2, 1.0], 1e-10).unwrap();
        let x = &m.point;
        assert!(
            (x[0] - 1.0).abs() < 1e-8 && (x[1] - 1.0).abs() < 1e-8,
            "{m:?}"
        );
        assert!(m.value < 1e-16 && m.gradient_norm < 1e-10, "{m:?}");
        // Hessian of the Rosenbrock function at (1, 1): [[802, -400], [-400, 200]].
        let h = hessian(&rosenbrock, &[1.0, 1.0]);
        assert!((h[0][0] - 802.0).abs() < 1e-6 && (h[0][1] + 400.0).abs() < 1e-6);
        assert!((h[1][1] - 200.0).abs() < 1e-6, "{h:?}");
        let inv = invert(&h).unwrap();
        // det = 802 * 200 - 400^2 = 400; inverse [[0.5, 1], [1, 2.005]].
        assert!((inv[0][0] - 0.5).abs() < 1e-4 && (inv[1][1] - 2.005).abs() < 1e-4);
    }
}
