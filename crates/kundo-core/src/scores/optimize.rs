//! Nelder-Mead minimization, restarted until a fresh simplex no longer improves the result.
//!
//! Derivative-free because the likelihoods' gradients would need digamma functions and more
//! code to get wrong; the models have three or four parameters, where Nelder-Mead is quick.
//! A single Nelder-Mead run can stall on a collapsed simplex short of the minimum (McKinnon
//! 1998), hence the restarts: the fit only counts as converged once a brand-new simplex around
//! the best point cannot find anything better. The procedure is fully deterministic (no random
//! starts), so refitting the same data always gives bit-identical parameters.

/// Reflection, expansion, contraction and shrink coefficients: the standard choice of Nelder
/// and Mead (1965), which works well in the few dimensions used here.
const REFLECT: f64 = 1.0;
const EXPAND: f64 = 2.0;
const CONTRACT: f64 = 0.5;
const SHRINK: f64 = 0.5;

/// How hard to try. The defaults suit likelihoods over log-parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Edge length of each fresh simplex, in the units of the search space.
    pub initial_step: f64,
    /// A run stops once every vertex is within this distance (per coordinate) of the best one…
    pub x_tol: f64,
    /// …and every vertex's value is within `f_tol · (1 + |best|)` of the best value; restarts
    /// stop once a run improves the best value by no more than that.
    pub f_tol: f64,
    /// Budget of objective evaluations over all runs together.
    pub max_evaluations: usize,
    /// Budget of runs.
    pub max_runs: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            initial_step: 0.5,
            x_tol: 1e-8,
            f_tol: 1e-12,
            max_evaluations: 50_000,
            max_runs: 50,
        }
    }
}

/// The best point found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Minimum {
    pub point: Vec<f64>,
    pub value: f64,
    pub evaluations: usize,
}

/// Why no minimum was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The objective is not finite at the starting point, so there is nothing to descend from.
    BadStart,
    /// The budget ran out before the restarts agreed.
    Budget { evaluations: usize },
}

/// Either failure means "no estimate" to the caller; a start where the likelihood is not
/// finite is reported like a search that ran out of budget, after one evaluation.
impl From<Failure> for super::FitError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::BadStart => Self::NotConverged { evaluations: 1 },
            Failure::Budget { evaluations } => Self::NotConverged { evaluations },
        }
    }
}

/// Counts evaluations and maps every non-finite value to +∞, so that NaN from a parameter
/// outside the model's domain simply loses every comparison instead of poisoning the ordering.
struct Objective<F> {
    f: F,
    evaluations: usize,
}

impl<F: FnMut(&[f64]) -> f64> Objective<F> {
    fn eval(&mut self, x: &[f64]) -> f64 {
        self.evaluations += 1;
        let v = (self.f)(x);
        if v.is_finite() { v } else { f64::INFINITY }
    }
}

/// Minimizes `f` from `start`.
pub(crate) fn minimize<F: FnMut(&[f64]) -> f64>(
    f: F,
    start: &[f64],
    settings: &Settings,
) -> Result<Minimum, Failure> {
    let mut objective = Objective { f, evaluations: 0 };
    let mut best = start.to_vec();
    let mut best_value = objective.eval(&best);
    if !best_value.is_finite() {
        return Err(Failure::BadStart);
    }
    for run_index in 0..settings.max_runs {
        let (point, value) = run(&mut objective, &best, best_value, settings)?;
        let improvement = best_value - value;
        best = point;
        best_value = value;
        // The first run always gets a second opinion: only a restart that finds nothing better
        // shows the first run did not stall.
        if run_index > 0 && improvement <= settings.f_tol * (1.0 + value.abs()) {
            return Ok(Minimum {
                point: best,
                value: best_value,
                evaluations: objective.evaluations,
            });
        }
    }
    Err(Failure::Budget {
        evaluations: objective.evaluations,
    })
}

/// One Nelder-Mead run from a fresh axis-aligned simplex around `start`.
fn run<F: FnMut(&[f64]) -> f64>(
    objective: &mut Objective<F>,
    start: &[f64],
    start_value: f64,
    settings: &Settings,
) -> Result<(Vec<f64>, f64), Failure> {
    let n = start.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    simplex.push((start.to_vec(), start_value));
    for i in 0..n {
        let mut vertex = start.to_vec();
        vertex[i] += settings.initial_step;
        let value = objective.eval(&vertex);
        simplex.push((vertex, value));
    }
    if n == 0 {
        return Ok((start.to_vec(), start_value));
    }

    loop {
        // total_cmp is a total order and values are never NaN here, so sorting cannot panic
        // or misorder.
        simplex.sort_by(|p, q| p.1.total_cmp(&q.1));
        if converged(&simplex, settings) {
            let (point, value) = simplex.swap_remove(0);
            return Ok((point, value));
        }
        if objective.evaluations >= settings.max_evaluations {
            return Err(Failure::Budget {
                evaluations: objective.evaluations,
            });
        }

        let worst_value = simplex[n].1;
        let second_worst_value = simplex[n - 1].1;
        let best_value = simplex[0].1;
        let mut centroid = vec![0.0; n];
        for (vertex, _) in &simplex[..n] {
            for (c, v) in centroid.iter_mut().zip(vertex) {
                *c += v / n as f64;
            }
        }
        let toward = |coefficient: f64, from: &[f64]| -> Vec<f64> {
            centroid
                .iter()
                .zip(from)
                .map(|(c, w)| c + coefficient * (c - w))
                .collect()
        };

        let worst = simplex[n].0.clone();
        let reflected = toward(REFLECT, &worst);
        let reflected_value = objective.eval(&reflected);

        if reflected_value < best_value {
            let expanded = toward(EXPAND, &worst);
            let expanded_value = objective.eval(&expanded);
            simplex[n] = if expanded_value < reflected_value {
                (expanded, expanded_value)
            } else {
                (reflected, reflected_value)
            };
            continue;
        }
        if reflected_value < second_worst_value {
            simplex[n] = (reflected, reflected_value);
            continue;
        }
        let (contracted, contracted_value, accepted) = if reflected_value < worst_value {
            // Outside contraction: between the centroid and the reflected point.
            let point = toward(CONTRACT * REFLECT, &worst);
            let value = objective.eval(&point);
            (point, value, value <= reflected_value)
        } else {
            // Inside contraction: between the centroid and the worst point.
            let point = toward(-CONTRACT, &worst);
            let value = objective.eval(&point);
            (point, value, value < worst_value)
        };
        if accepted {
            simplex[n] = (contracted, contracted_value);
            continue;
        }
        let anchor = simplex[0].0.clone();
        for (vertex, value) in simplex.iter_mut().skip(1) {
            for (v, a) in vertex.iter_mut().zip(&anchor) {
                *v = a + SHRINK * (*v - a);
            }
            *value = objective.eval(vertex);
        }
    }
}

/// Whether the sorted simplex is small in both position and value.
fn converged(simplex: &[(Vec<f64>, f64)], settings: &Settings) -> bool {
    let (best, best_value) = (&simplex[0].0, simplex[0].1);
    let value_spread = simplex
        .iter()
        .map(|(_, v)| v - best_value)
        .fold(0.0_f64, f64::max);
    let position_spread = simplex
        .iter()
        .flat_map(|(x, _)| x.iter().zip(best).map(|(a, b)| (a - b).abs()))
        .fold(0.0_f64, f64::max);
    value_spread <= settings.f_tol * (1.0 + best_value.abs()) && position_spread <= settings.x_tol
}
