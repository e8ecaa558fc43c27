//! Grid search (NNI GridSearch): choice, randint and quniform only.
//!
//! * choice: every option; a nested option expands to the product of its sub-parameters.
//! * randint: lower..upper (upper exclusive).
//! * quniform: clip(k·q, low, high) for k = round(low/q) ..= round(high/q), duplicates removed.
//!
//! Order: product in key order, the last key varies fastest. Then `propose` returns None.

use crate::hpo::space::{is_integral, ChoiceOption, Dist, Param, Params, SearchSpace};
use crate::hpo::tuner::Tuner;
use crate::hpo::BuildError;
use serde_json::Value;

/// Refuse grids larger than this (a typo like quniform q=1e-6 would never finish).
const MAX_GRID: usize = 10_000_000;

pub struct Grid {
    names: Vec<String>,
    values: Vec<Vec<Value>>,
    next: usize,
    total: usize,
}

fn too_big(file: &str, key: &str) -> BuildError {
    BuildError::Unsupported {
        file: file.into(),
        key: key.into(),
        reason: format!("grid has more than {MAX_GRID} points"),
    }
}

fn expand(ps: &[Param], file: &str, prefix: &str) -> Result<Vec<Params>, BuildError> {
    let mut combos = vec![Params::new()];
    for p in ps {
        let key = if prefix.is_empty() {
            p.name.clone()
        } else {
            format!("{prefix}/{}", p.name)
        };
        let vals = values_of(p, file, &key)?;
        if combos.len().saturating_mul(vals.len()) > MAX_GRID {
            return Err(too_big(file, &key));
        }
        let mut next = Vec::with_capacity(combos.len() * vals.len());
        for c in &combos {
            for v in &vals {
                let mut c = c.clone();
                c.insert(p.name.clone(), v.clone());
                next.push(c);
            }
        }
        combos = next;
    }
    Ok(combos)
}

fn values_of(p: &Param, file: &str, key: &str) -> Result<Vec<Value>, BuildError> {
    Ok(match &p.dist {
        Dist::Choice(opts) => {
            let mut out = Vec::new();
            for o in opts {
                match o {
                    ChoiceOption::Value(v) => out.push(v.clone()),
                    ChoiceOption::Nested { name, params } => {
                        for sub in expand(params, file, &format!("{key}/{name}"))? {
                            let mut m = Params::new();
                            m.insert("_name".into(), Value::String(name.clone()));
                            m.extend(sub);
                            out.push(Value::Object(m));
                        }
                    }
                }
            }
            out
        }
        Dist::RandInt { lower, upper } => {
            if (upper - lower) as u64 > MAX_GRID as u64 {
                return Err(too_big(file, key));
            }
            (*lower..*upper).map(Value::from).collect()
        }
        Dist::QUniform { low, high, q } => {
            let (a, b) = ((low / q).round_ties_even(), (high / q).round_ties_even());
            if b - a > MAX_GRID as f64 {
                return Err(too_big(file, key));
            }
            let integral = is_integral(*q) && is_integral(*low) && is_integral(*high);
            let mut out: Vec<f64> = Vec::new();
            let mut k = a;
            while k <= b {
                let v = (k * q).clamp(*low, *high);
                if out.last() != Some(&v) {
                    out.push(v);
                }
                k += 1.0;
            }
            out.into_iter()
                .map(|v| {
                    if integral {
                        Value::from(v.round() as i64)
                    } else {
                        Value::from(v)
                    }
                })
                .collect()
        }
        d => {
            return Err(BuildError::Unsupported {
                file: file.into(),
                key: key.into(),
                reason: format!(
                    "grid search supports only choice, randint and quniform, not {}",
                    d.type_name()
                ),
            })
        }
    })
}

impl Grid {
    pub fn new(space: &SearchSpace) -> Result<Grid, BuildError> {
        let mut names = Vec::new();
        let mut values = Vec::new();
        let mut total: usize = 1;
        for p in &space.params {
            let v = values_of(p, &space.source_name, &p.name)?;
            total = total
                .checked_mul(v.len())
                .filter(|t| *t <= MAX_GRID)
                .ok_or_else(|| too_big(&space.source_name, &p.name))?;
            names.push(p.name.clone());
            values.push(v);
        }
        Ok(Grid {
            names,
            values,
            next: 0,
            total,
        })
    }

    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

impl Tuner for Grid {
    fn propose(&mut self, _trial_id: usize) -> Option<Params> {
        if self.next >= self.total {
            return None;
        }
        let mut rem = self.next;
        let mut idx = vec![0; self.values.len()];
        for i in (0..self.values.len()).rev() {
            idx[i] = rem % self.values[i].len();
            rem /= self.values[i].len();
        }
        self.next += 1;
        let mut p = Params::new();
        for (i, name) in self.names.iter().enumerate() {
            p.insert(name.clone(), self.values[i][idx[i]].clone());
        }
        Some(p)
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

    #[test]
    fn enumerates_full_product_then_none() {
        let s = space(
            r#"{"a": {"_type": "choice", "_value": ["x", "y"]},
                "b": {"_type": "randint", "_value": [0, 3]},
                "c": {"_type": "quniform", "_value": [1, 10, 3]}}"#,
        );
        let mut g = build_tuner("grid", &s, Direction::Maximize, 0, &Value::Null).unwrap();
        let mut all = Vec::new();
        while let Some(p) = g.propose(all.len()) {
            all.push(p);
        }
        assert_eq!(all.len(), 2 * 3 * 4); // quniform [1, 10, 3] -> 1, 3, 6, 9
        assert!(g.propose(99).is_none());
        assert_eq!(
            Value::Object(all[0].clone()),
            json!({"a": "x", "b": 0, "c": 1})
        );
        assert_eq!(
            Value::Object(all[1].clone()),
            json!({"a": "x", "b": 0, "c": 3})
        );
        assert_eq!(
            Value::Object(all[23].clone()),
            json!({"a": "y", "b": 2, "c": 9})
        );
        let mut uniq: Vec<String> = all
            .iter()
            .map(|p| serde_json::to_string(p).unwrap())
            .collect();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), 24);
    }

    #[test]
    fn nested_choice_expands() {
        let s = space(
            r#"{"opt": {"_type": "choice", "_value": [
                {"_name": "sgd", "m": {"_type": "choice", "_value": [0.5, 0.9]}},
                {"_name": "adam"}]}}"#,
        );
        let mut g = Grid::new(&s).unwrap();
        assert_eq!(g.len(), 3);
        let got: Vec<Value> = std::iter::from_fn(|| g.propose(0))
            .map(|p| p["opt"].clone())
            .collect();
        assert_eq!(
            got,
            vec![
                json!({"_name": "sgd", "m": 0.5}),
                json!({"_name": "sgd", "m": 0.9}),
                json!({"_name": "adam"})
            ]
        );
    }

    #[test]
    fn rejects_continuous_types_naming_the_key() {
        let s = space(
            r#"{"a": {"_type": "choice", "_value": [1]}, "lr": {"_type": "loguniform", "_value": [0.001, 0.1]}}"#,
        );
        let e = build_tuner("grid", &s, Direction::Maximize, 0, &Value::Null)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("search_space.json") && e.contains("\"lr\"") && e.contains("loguniform"),
            "{e}"
        );
    }
}
