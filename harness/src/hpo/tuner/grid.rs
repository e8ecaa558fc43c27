//! Grid search as NNI's GridSearch (`nni/algorithms/hpo/gridsearch_tuner.py`), over every type.
//!
//! * `choice` and `randint` are categorical: every option, every integer (upper exclusive). A
//!   nested option's sub-parameters are dimensions of their own, walked only where it is chosen.
//! * The numeric types are walked through their CDF, in epochs: the first takes the median
//!   (position 1/2), the next adds 1/4 and 3/4, then 1/8, 3/8, …. Position x is the value
//!   `low + (high − low)·x` (in log space for the log types) or `μ + σ·Φ⁻¹(x)` for the normal
//!   family, then rounded to q and clipped as a draw is. An interval is divided again only
//!   while its two ends give different values, so a q-type or a narrow range runs out.
//! * Order: each epoch walks every combination of the grid so far that holds one of its new
//!   points, the last dimension fastest; a configuration proposed before is skipped. The grid
//!   ends when no interval can be divided: a space of choice, randint and q-types runs out
//!   (then `propose` returns None); a continuous range never does (a suite bounds the search
//!   with `max_trials`).

use crate::hpo::space::{ChoiceOption, Dist, NumInfo, Param, Params, SearchSpace};
use crate::hpo::tuner::{canonical, Tuner};
use serde_json::Value;
use std::collections::HashSet;

/// One dimension of the grid: a parameter of the space (dimension i is the parameter whose
/// pre-order id is i).
enum Axis {
    /// `size` options or integers; the grid holds their indices.
    Categorical { size: usize },
    /// Positions in (0, 1) of the CDF, in the order they joined the grid, and the intervals
    /// that may still be divided.
    Numeric {
        info: NumInfo,
        points: Vec<f64>,
        divisions: Vec<(f64, f64)>,
    },
}

impl Axis {
    fn len(&self) -> usize {
        match self {
            Axis::Categorical { size } => *size,
            Axis::Numeric { points, .. } => points.len(),
        }
    }
}

pub struct Grid {
    params: Vec<Param>,
    axes: Vec<Axis>,
    /// Per dimension, the nested option that must be chosen for it to take part: (the
    /// dimension of the enclosing choice, the option's index).
    parent: Vec<Option<(usize, usize)>>,
    /// The grid index of every dimension for the configuration being walked; None between
    /// epochs.
    vector: Option<Vec<usize>>,
    /// Per dimension, how many of its grid points earlier epochs had.
    epoch_bar: Vec<usize>,
    /// No interval left to divide: every configuration has been walked.
    exhausted: bool,
    /// Every configuration proposed, as canonical JSON.
    seen: HashSet<String>,
}

/// The value at CDF position `x` in the transformed space (log space for the log types).
fn cdf_inverse(info: &NumInfo, x: f64) -> f64 {
    match (info.low, info.high) {
        (Some(low), Some(high)) => low + (high - low) * x,
        _ if x <= 0.0 => f64::NEG_INFINITY,
        _ if x >= 1.0 => f64::INFINITY,
        _ => info.prior_mu + info.prior_sigma * crate::stats::hypothesis::normal_quantile(x),
    }
}

/// The parameter's value at position `x`, rounded and clipped as a draw is; an infinite
/// position (the ends of a normal type) is left as it is, as NNI compares it.
fn value_at(info: &NumInfo, x: f64) -> f64 {
    let t = cdf_inverse(info, x);
    if t.is_infinite() {
        t
    } else {
        info.finalize(t)
    }
}

/// Whether positions x < y give different values (NNI's `_less`).
fn less(info: &NumInfo, x: f64, y: f64) -> bool {
    value_at(info, x) < value_at(info, y)
}

impl Grid {
    pub fn new(space: &SearchSpace) -> Grid {
        let params = space.params.clone();
        let nodes = space.nodes();
        let mut parent = vec![None; nodes.len()];
        for node in &nodes {
            if let Dist::Choice(options) = &node.dist {
                for (k, option) in options.iter().enumerate() {
                    if let ChoiceOption::Nested { params, .. } = option {
                        for sub in params {
                            parent[sub.id] = Some((node.id, k));
                        }
                    }
                }
            }
        }
        let axes = nodes
            .iter()
            .map(|node| match &node.dist {
                Dist::Choice(options) => Axis::Categorical {
                    size: options.len(),
                },
                Dist::RandInt { lower, upper } => Axis::Categorical {
                    size: usize::try_from(upper - lower).unwrap_or(0),
                },
                dist => {
                    let info = dist.numeric().expect("every other type is numeric");
                    let divisions = [(0.0, 0.5), (0.5, 1.0)]
                        .into_iter()
                        .filter(|&(l, r)| less(&info, l, r))
                        .collect();
                    Axis::Numeric {
                        info,
                        points: vec![0.5],
                        divisions,
                    }
                }
            })
            .collect();
        Grid {
            params,
            epoch_bar: vec![0; nodes.len()],
            axes,
            parent,
            vector: None,
            exhausted: false,
            seen: HashSet::new(),
        }
    }

    /// Whether dimension `i` takes part in the configuration `vector` describes.
    fn active(&self, vector: &[usize], i: usize) -> bool {
        match self.parent[i] {
            None => true,
            Some((p, k)) => vector[p] == k && self.active(vector, p),
        }
    }

    /// The next combination of this epoch (the last active dimension fastest), or None at the
    /// epoch's end. Inactive dimensions keep their index, as NNI's walk does.
    fn next_vector(&mut self) {
        let Some(mut vector) = self.vector.take() else {
            self.vector = Some(vec![0; self.axes.len()]);
            return;
        };
        let active: Vec<usize> = (0..vector.len())
            .filter(|&i| self.active(&vector, i))
            .collect();
        for &i in active.iter().rev() {
            if vector[i] + 1 < self.axes[i].len() {
                vector[i] += 1;
                self.vector = Some(vector);
                return;
            }
            vector[i] = 0;
        }
    }

    /// Divides every numeric dimension's intervals at their midpoints (NNI's `_next_grid`);
    /// the grid is exhausted when nothing could be divided.
    fn next_epoch(&mut self) {
        let mut updated = false;
        for (i, axis) in self.axes.iter_mut().enumerate() {
            self.epoch_bar[i] = axis.len();
            let Axis::Numeric {
                info,
                points,
                divisions,
            } = axis
            else {
                continue;
            };
            let mut new_divisions = Vec::new();
            for &(l, r) in divisions.iter() {
                let mid = (l + r) / 2.0;
                let (diff_l, diff_r) = (less(info, l, mid), less(info, mid, r));
                // 0 and 1 are never grid points (they are ±∞ for the normal family).
                if (diff_l || l == 0.0) && (diff_r || r == 1.0) {
                    points.push(mid);
                    updated = true;
                }
                if diff_l {
                    new_divisions.push((l, mid));
                    updated |= l == 0.0;
                }
                if diff_r {
                    new_divisions.push((mid, r));
                    updated |= r == 1.0;
                }
            }
            *divisions = new_divisions;
        }
        self.exhausted = !updated;
    }

    /// The next configuration of the walk, proposed before or not (NNI's `_suggest`, which
    /// its Deduplicator calls with its own record of what was proposed).
    pub(crate) fn next_point(&mut self) -> Option<Params> {
        loop {
            if self.exhausted {
                return None;
            }
            self.next_vector();
            let Some(vector) = &self.vector else {
                self.next_epoch();
                continue;
            };
            let walked_before = vector
                .iter()
                .zip(&self.epoch_bar)
                .all(|(index, bar)| index < bar);
            if !walked_before {
                return Some(self.configuration(vector));
            }
        }
    }

    /// The parameter set `vector` points at.
    fn configuration(&self, vector: &[usize]) -> Params {
        self.params
            .iter()
            .map(|p| (p.name.clone(), self.value_of(p, vector)))
            .collect()
    }

    fn value_of(&self, p: &Param, vector: &[usize]) -> Value {
        let index = vector[p.id];
        match (&p.dist, &self.axes[p.id]) {
            (Dist::Choice(options), _) => match &options[index] {
                ChoiceOption::Value(v) => v.clone(),
                ChoiceOption::Nested { name, params } => {
                    let mut m = Params::new();
                    m.insert("_name".into(), Value::String(name.clone()));
                    for sub in params {
                        m.insert(sub.name.clone(), self.value_of(sub, vector));
                    }
                    Value::Object(m)
                }
            },
            (Dist::RandInt { lower, .. }, _) => Value::from(lower + index as i64),
            (_, Axis::Numeric { info, points, .. }) => info.to_json(value_at(info, points[index])),
            (_, Axis::Categorical { .. }) => unreachable!("numeric types have numeric axes"),
        }
    }
}

impl Tuner for Grid {
    fn propose(&mut self, _trial_id: usize) -> Option<Params> {
        loop {
            let params = self.next_point()?;
            if self.seen.insert(canonical(&params)) {
                return Some(params);
            }
        }
    }
    fn observe(&mut self, _trial_id: usize, _params: &Params, _metric: Option<f64>) {}
    fn name(&self) -> &'static str {
        "grid"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpo::tuner::tests::space;
    use crate::hpo::tuner::{build_tuner, Direction};
    use serde_json::json;

    /// The grid tuner's first `n` proposals (fewer where it runs out), and whether it ran out.
    fn walk(text: &str, n: usize) -> (Vec<Value>, bool) {
        let mut g =
            build_tuner("grid", &space(text), Direction::Maximize, 0, &Value::Null).unwrap();
        let walked: Vec<Value> = (0..n)
            .map_while(|i| g.propose(i))
            .map(Value::Object)
            .collect();
        let ended = walked.len() < n;
        (walked, ended)
    }

    /// Equal as NNI prints them: numbers by value (NNI writes the q-types as floats, harness
    /// as integers where q and the bounds are whole), within 1e-12 (Φ⁻¹ is scipy's erfinv
    /// there, statrs here).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() <= 1e-12
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }

    fn assert_walk(text: &str, nni: &str, nni_ends: bool) {
        let nni: Vec<Value> = serde_json::from_str(nni).unwrap();
        let (walked, ended) = walk(text, nni.len() + 1);
        let ours = &walked[..walked.len().min(nni.len())];
        assert!(
            ours.len() == nni.len() && ours.iter().zip(&nni).all(|(a, b)| same(a, b)),
            "harness: {ours:?}\nNNI:     {nni:?}"
        );
        assert_eq!(ended, nni_ends, "{walked:?}");
    }

    // The expected sequences are NNI 3.0's `GridSearchTuner().generate_parameters` on the
    // same spaces (nni 3.0 from PyPI, 2026-11-30).

    /// NNI's own example (gridsearch_tuner.py's comment): the normal parameter's grid grows by
    /// quartiles, the quniform's runs out at 2 and 3.
    #[test]
    fn walks_nnis_documented_example_as_nni_does() {
        assert_walk(
            r#"{"x": {"_type": "choice", "_value": [5, 7]}, "y": {"_type": "normal", "_value": [0, 1]},
                "z": {"_type": "quniform", "_value": [2, 3, 1]}}"#,
            DOC,
            false,
        );
    }

    /// Choice, randint and quniform: every combination once (quniform [1, 10, 3] gives 1, 3,
    /// 6 and 9), median first, then the quartiles, then the end the clip reaches; then None.
    #[test]
    fn a_discrete_space_is_walked_as_nni_does_then_ends() {
        let text = r#"{"a": {"_type": "choice", "_value": ["x", "y"]},
                       "b": {"_type": "randint", "_value": [0, 3]},
                       "c": {"_type": "quniform", "_value": [1, 10, 3]}}"#;
        assert_walk(text, DISCRETE, true);
        assert_eq!(walk(text, 100).0.len(), 2 * 3 * 4);
    }

    /// A nested option's parameter is walked only where its option is chosen; the log type's
    /// grid is even in log space.
    #[test]
    fn nested_and_log_dimensions_are_walked_as_nni_does() {
        assert_walk(
            r#"{"opt": {"_type": "choice", "_value": [
                    {"_name": "sgd", "m": {"_type": "uniform", "_value": [0.5, 0.9]}}, {"_name": "adam"}]},
                "lr": {"_type": "loguniform", "_value": [0.001, 0.1]}}"#,
            NESTED,
            false,
        );
    }

    /// q-types whose values repeat: a qloguniform runs out after its 15 values, a qlognormal
    /// (unbounded) does not.
    #[test]
    fn q_types_are_walked_as_nni_does() {
        assert_walk(
            r#"{"v": {"_type": "qloguniform", "_value": [1, 100, 7]}}"#,
            QLOGUNIFORM,
            true,
        );
        assert_walk(
            r#"{"v": {"_type": "qlognormal", "_value": [0, 1, 0.5]}}"#,
            QLOGNORMAL,
            false,
        );
    }

    #[test]
    fn nested_choice_expands() {
        let (got, ended) = walk(
            r#"{"opt": {"_type": "choice", "_value": [
                {"_name": "sgd", "m": {"_type": "choice", "_value": [0.5, 0.9]}},
                {"_name": "adam"}]}}"#,
            4,
        );
        assert!(ended);
        let got: Vec<Value> = got.into_iter().map(|p| p["opt"].clone()).collect();
        assert_eq!(
            got,
            vec![
                json!({"_name": "sgd", "m": 0.5}),
                json!({"_name": "sgd", "m": 0.9}),
                json!({"_name": "adam"})
            ]
        );
    }

    const DOC: &str = r#"[{"x": 5, "y": 0.0, "z": 2.0}, {"x": 7, "y": 0.0, "z": 2.0}, {"x": 5, "y": 0.0, "z": 3.0}, {"x": 5, "y": -0.6744897501960818, "z": 2.0}, {"x": 5, "y": -0.6744897501960818, "z": 3.0}, {"x": 5, "y": 0.6744897501960818, "z": 2.0}, {"x": 5, "y": 0.6744897501960818, "z": 3.0}, {"x": 7, "y": 0.0, "z": 3.0}, {"x": 7, "y": -0.6744897501960818, "z": 2.0}, {"x": 7, "y": -0.6744897501960818, "z": 3.0}, {"x": 7, "y": 0.6744897501960818, "z": 2.0}, {"x": 7, "y": 0.6744897501960818, "z": 3.0}, {"x": 5, "y": -1.150349380376008, "z": 2.0}, {"x": 5, "y": -1.150349380376008, "z": 3.0}, {"x": 5, "y": -0.3186393639643752, "z": 2.0}, {"x": 5, "y": -0.3186393639643752, "z": 3.0}]"#;
    const DISCRETE: &str = r#"[{"a": "x", "b": 0, "c": 6.0}, {"a": "x", "b": 1, "c": 6.0}, {"a": "x", "b": 2, "c": 6.0}, {"a": "y", "b": 0, "c": 6.0}, {"a": "y", "b": 1, "c": 6.0}, {"a": "y", "b": 2, "c": 6.0}, {"a": "x", "b": 0, "c": 3.0}, {"a": "x", "b": 0, "c": 9.0}, {"a": "x", "b": 1, "c": 3.0}, {"a": "x", "b": 1, "c": 9.0}, {"a": "x", "b": 2, "c": 3.0}, {"a": "x", "b": 2, "c": 9.0}, {"a": "y", "b": 0, "c": 3.0}, {"a": "y", "b": 0, "c": 9.0}, {"a": "y", "b": 1, "c": 3.0}, {"a": "y", "b": 1, "c": 9.0}, {"a": "y", "b": 2, "c": 3.0}, {"a": "y", "b": 2, "c": 9.0}, {"a": "x", "b": 0, "c": 1.0}, {"a": "x", "b": 1, "c": 1.0}, {"a": "x", "b": 2, "c": 1.0}, {"a": "y", "b": 0, "c": 1.0}, {"a": "y", "b": 1, "c": 1.0}, {"a": "y", "b": 2, "c": 1.0}]"#;
    const NESTED: &str = r#"[{"opt": {"_name": "sgd", "m": 0.7}, "lr": 0.010000000000000004}, {"opt": {"_name": "adam"}, "lr": 0.010000000000000004}, {"opt": {"_name": "sgd", "m": 0.7}, "lr": 0.003162277660168382}, {"opt": {"_name": "sgd", "m": 0.7}, "lr": 0.03162277660168381}, {"opt": {"_name": "sgd", "m": 0.6}, "lr": 0.010000000000000004}, {"opt": {"_name": "sgd", "m": 0.6}, "lr": 0.003162277660168382}, {"opt": {"_name": "sgd", "m": 0.6}, "lr": 0.03162277660168381}, {"opt": {"_name": "sgd", "m": 0.8}, "lr": 0.010000000000000004}, {"opt": {"_name": "sgd", "m": 0.8}, "lr": 0.003162277660168382}, {"opt": {"_name": "sgd", "m": 0.8}, "lr": 0.03162277660168381}, {"opt": {"_name": "adam"}, "lr": 0.003162277660168382}, {"opt": {"_name": "adam"}, "lr": 0.03162277660168381}]"#;
    const QLOGUNIFORM: &str = r#"[{"v": 7.0}, {"v": 1.0}, {"v": 35.0}, {"v": 21.0}, {"v": 56.0}, {"v": 14.0}, {"v": 42.0}, {"v": 77.0}, {"v": 28.0}, {"v": 49.0}, {"v": 63.0}, {"v": 84.0}, {"v": 70.0}, {"v": 91.0}, {"v": 98.0}]"#;
    const QLOGNORMAL: &str = r#"[{"v": 1.0}, {"v": 0.5}, {"v": 2.0}, {"v": 1.5}, {"v": 3.0}, {"v": 0.0}, {"v": 2.5}, {"v": 4.5}, {"v": 3.5}, {"v": 6.5}]"#;
}
