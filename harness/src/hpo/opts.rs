//! Reading `{"option": value}` objects for tuners and assessors, loudly.

use crate::hpo::BuildError;
use serde_json::Value;

pub(crate) struct Opts<'a> {
    component: &'static str,
    map: Option<&'a serde_json::Map<String, Value>>,
    valid: Vec<&'static str>,
}

impl<'a> Opts<'a> {
    pub fn new(component: &'static str, v: &'a Value) -> Result<Self, BuildError> {
        let map = match v {
            Value::Null => None,
            Value::Object(m) => Some(m),
            other => {
                return Err(BuildError::NotATable {
                    component: component.into(),
                    got: other.to_string(),
                })
            }
        };
        Ok(Opts {
            component,
            map,
            valid: Vec::new(),
        })
    }

    fn bad(&self, key: &str, reason: String) -> BuildError {
        BuildError::BadOption {
            component: self.component.into(),
            key: key.into(),
            reason,
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.valid.push(key);
        self.map.and_then(|m| m.get(key))
    }

    pub fn f64(
        &mut self,
        key: &'static str,
        default: f64,
        ok: impl Fn(f64) -> bool,
        what: &str,
    ) -> Result<f64, BuildError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.as_f64() {
                Some(x) if ok(x) => Ok(x),
                _ => Err(self.bad(key, format!("must be {what}, got {v}"))),
            },
        }
    }

    pub fn usize(
        &mut self,
        key: &'static str,
        default: usize,
        min: usize,
    ) -> Result<usize, BuildError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.as_u64() {
                Some(x) if x as usize >= min => Ok(x as usize),
                _ => Err(self.bad(key, format!("must be an integer >= {min}, got {v}"))),
            },
        }
    }

    pub fn bool(&mut self, key: &'static str, default: bool) -> Result<bool, BuildError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.bad(key, format!("must be true or false, got {v}"))),
        }
    }

    /// One of `allowed` (a string); `default` when absent.
    pub fn choice(
        &mut self,
        key: &'static str,
        default: &'static str,
        allowed: &[&'static str],
    ) -> Result<&'static str, BuildError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match allowed.iter().find(|a| v.as_str() == Some(**a)) {
                Some(a) => Ok(a),
                None => Err(self.bad(
                    key,
                    format!("must be one of {}, got {v}", allowed.join(", ")),
                )),
            },
        }
    }

    /// Error on keys nobody asked for (typos must not silently fall back to defaults).
    pub fn finish(self) -> Result<(), BuildError> {
        let Some(m) = self.map else { return Ok(()) };
        let unknown: Vec<String> = m
            .keys()
            .filter(|k| !self.valid.contains(&k.as_str()))
            .map(|k| format!("\"{k}\""))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(BuildError::UnknownOption {
                component: self.component.into(),
                keys: unknown.join(", "),
                valid: if self.valid.is_empty() {
                    "none".into()
                } else {
                    self.valid.join(", ")
                },
            })
        }
    }
}
