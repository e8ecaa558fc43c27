//! NNI search spaces: `{"key": {"_type": T, "_value": V}}`.
//!
//! Sampling follows NNI's `nni/parameter_expressions.py`:
//! * `choice`: uniform over the options; an option that is an object is a *nested choice*
//!   option (`{"_name": ..., sub: {"_type": ..}}`), sampled as `{"_name": ..., sub: value}`.
//! * `randint [lower, upper)`: upper exclusive, JSON integer.
//! * `uniform [low, high]`, `loguniform [low, high]` = exp(uniform(ln low, ln high)).
//! * `quniform [low, high, q]` = clip(round(uniform(low, high) / q) * q, low, high);
//!   `qloguniform` likewise on the loguniform draw.
//! * `normal [mu, sigma]`, `qnormal [mu, sigma, q]` = round(normal / q) * q (no clip),
//!   `lognormal` = exp(normal), `qlognormal` = round(lognormal / q) * q (no clip, may be 0).
//!
//! `round` is numpy's round-half-to-even. Choice: NNI returns floats for the q-types; here a
//! q-type whose `q` (and, for quniform/qloguniform, both bounds) are integral yields a JSON
//! *integer*, otherwise a JSON float, so a Rust trainer can read `as_i64()` without surprise.
//! Key order of the file is kept (serde_json `preserve_order`).

use rand::Rng;
use rand_distr::StandardNormal;
use serde_json::{Map, Value};
use std::path::Path;
use thiserror::Error;

/// A sampled parameter set; nested choices become objects with `_name`.
pub type Params = Map<String, Value>;

/// A parameter set with its nested choices flattened, as a recipe and a report read it: a
/// nested choice (`{"_name": ..., sub: v}`) gives its key the `_name` value, followed by its
/// sub-parameters by their own names, at any depth; other parameters are kept as they are.
pub fn flatten_params(params: &Params) -> Vec<(String, Value)> {
    let mut flat = Vec::new();
    for (key, value) in params {
        match value.as_object() {
            Some(nested) if nested.contains_key("_name") => {
                flat.push((key.clone(), nested["_name"].clone()));
                let mut subs = nested.clone();
                // shift_remove keeps the other keys in order (remove swaps the last one in).
                subs.shift_remove("_name");
                flat.extend(flatten_params(&subs));
            }
            _ => flat.push((key.clone(), value.clone())),
        }
    }
    flat
}

/// A parameter set as the report's tables and the console write a configuration:
/// `name=value`, nested options flattened (`optimizer=sgd, momentum=0.7339`), numbers to four
/// significant digits ([`fmt_num`](crate::train::fmt_num)), so that `0.30000000000000004`
/// reads `0.3`. Only for reading: result files keep the exact values.
pub fn params_summary(params: &Params) -> String {
    flatten_params(params)
        .into_iter()
        .map(|(name, value)| {
            let value = match &value {
                Value::Number(n) => n.as_f64().map_or(n.to_string(), crate::train::fmt_num),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Errors from parsing a search space or checking it against what a trainer knows.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SpaceError {
    #[error("{file}: cannot read search space: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}: invalid JSON: {reason}")]
    Json { file: String, reason: String },
    #[error("{file}: {reason}")]
    Shape { file: String, reason: String },
    /// A malformed parameter specification; `key` is the path (`outer/option/sub` for nested).
    #[error("{file}: key \"{key}\": {reason}")]
    Invalid {
        file: String,
        key: String,
        reason: String,
    },
    /// The space does not fit the trainer's parameters (`check_params`).
    #[error("{file}: key \"{key}\": {reason}")]
    Mismatch {
        file: String,
        key: String,
        reason: String,
    },
}

/// One option of a `choice`.
#[derive(Debug, Clone, PartialEq)]
pub enum ChoiceOption {
    /// A plain JSON value (number, string, bool, null, array).
    Value(Value),
    /// A nested-choice option: `_name` plus sub-parameters.
    Nested { name: String, params: Vec<Param> },
}

impl ChoiceOption {
    /// The label of the option (`_name` for nested, the value as JSON text otherwise).
    pub fn label(&self) -> String {
        match self {
            ChoiceOption::Value(Value::String(s)) => s.clone(),
            ChoiceOption::Value(v) => v.to_string(),
            ChoiceOption::Nested { name, .. } => name.clone(),
        }
    }
}

/// The distribution of one parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    Choice(Vec<ChoiceOption>),
    RandInt { lower: i64, upper: i64 },
    Uniform { low: f64, high: f64 },
    QUniform { low: f64, high: f64, q: f64 },
    LogUniform { low: f64, high: f64 },
    QLogUniform { low: f64, high: f64, q: f64 },
    Normal { mu: f64, sigma: f64 },
    QNormal { mu: f64, sigma: f64, q: f64 },
    LogNormal { mu: f64, sigma: f64 },
    QLogNormal { mu: f64, sigma: f64, q: f64 },
}

impl Dist {
    /// The NNI `_type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Dist::Choice(_) => "choice",
            Dist::RandInt { .. } => "randint",
            Dist::Uniform { .. } => "uniform",
            Dist::QUniform { .. } => "quniform",
            Dist::LogUniform { .. } => "loguniform",
            Dist::QLogUniform { .. } => "qloguniform",
            Dist::Normal { .. } => "normal",
            Dist::QNormal { .. } => "qnormal",
            Dist::LogNormal { .. } => "lognormal",
            Dist::QLogNormal { .. } => "qlognormal",
        }
    }

    /// Numeric view used by the model-based tuners (None for choice / randint).
    pub(crate) fn numeric(&self) -> Option<NumInfo> {
        let int_q =
            |q: f64, bounds: &[f64]| is_integral(q) && bounds.iter().all(|b| is_integral(*b));
        Some(match *self {
            Dist::Choice(_) | Dist::RandInt { .. } => return None,
            Dist::Uniform { low, high } => NumInfo::bounded(false, low, high, None, false),
            Dist::QUniform { low, high, q } => {
                NumInfo::bounded(false, low, high, Some(q), int_q(q, &[low, high]))
            }
            Dist::LogUniform { low, high } => NumInfo::bounded(true, low, high, None, false),
            Dist::QLogUniform { low, high, q } => {
                NumInfo::bounded(true, low, high, Some(q), int_q(q, &[low, high]))
            }
            Dist::Normal { mu, sigma } => NumInfo::unbounded(false, mu, sigma, None, false),
            Dist::QNormal { mu, sigma, q } => {
                NumInfo::unbounded(false, mu, sigma, Some(q), is_integral(q))
            }
            Dist::LogNormal { mu, sigma } => NumInfo::unbounded(true, mu, sigma, None, false),
            Dist::QLogNormal { mu, sigma, q } => {
                NumInfo::unbounded(true, mu, sigma, Some(q), is_integral(q))
            }
        })
    }
}

/// Numeric description of a distribution in its *transformed* space (log space for log types).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumInfo {
    pub log: bool,
    /// Bounds in transformed space (None = unbounded).
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub prior_mu: f64,
    pub prior_sigma: f64,
    pub q: Option<f64>,
    /// q-type result is emitted as a JSON integer.
    pub integral: bool,
    /// Clip range in the original space applied after quantisation.
    pub clip: Option<(f64, f64)>,
}

impl NumInfo {
    /// `low`/`high` in the original space.
    fn bounded(log: bool, low: f64, high: f64, q: Option<f64>, integral: bool) -> Self {
        let (tl, th) = if log {
            (low.ln(), high.ln())
        } else {
            (low, high)
        };
        NumInfo {
            log,
            low: Some(tl),
            high: Some(th),
            prior_mu: 0.5 * (tl + th),
            prior_sigma: th - tl,
            q,
            integral,
            clip: Some((low, high)),
        }
    }
    fn unbounded(log: bool, mu: f64, sigma: f64, q: Option<f64>, integral: bool) -> Self {
        NumInfo {
            log,
            low: None,
            high: None,
            prior_mu: mu,
            prior_sigma: sigma,
            q,
            integral,
            clip: None,
        }
    }

    /// Original-space value from a transformed-space draw, NNI rounding and clipping applied
    /// (bounded types are also clamped without q, so exp(ln high) can't exceed high by an ulp).
    pub fn finalize(&self, t: f64) -> f64 {
        let mut v = if self.log { t.exp() } else { t };
        if let Some(q) = self.q {
            v = quantize(v, q);
        }
        if let Some((lo, hi)) = self.clip {
            v = v.clamp(lo, hi);
        }
        v
    }

    /// Transformed-space value of an original-space value.
    pub fn transform(&self, v: f64) -> f64 {
        if self.log {
            v.max(f64::MIN_POSITIVE).ln()
        } else {
            v
        }
    }

    /// The support in the transformed space: [low, high], infinite where unbounded.
    pub fn bounds(&self) -> (f64, f64) {
        (
            self.low.unwrap_or(f64::NEG_INFINITY),
            self.high.unwrap_or(f64::INFINITY),
        )
    }

    /// For a q-type, the rounding bin of value `v`, [v − q/2, v + q/2], in the transformed
    /// space (what the estimators score a q-type value by); None for continuous types.
    pub fn rounding_bin(&self, v: f64) -> Option<(f64, f64)> {
        self.q
            .map(|q| (self.transform(v - q / 2.0), self.transform(v + q / 2.0)))
    }

    pub fn to_json(&self, v: f64) -> Value {
        if self.integral {
            Value::from(v.round() as i64)
        } else {
            Value::from(v)
        }
    }
}

/// NNI rounding: numpy round (half to even) of v/q, times q. Adding 0.0 turns the −0.0 of a
/// negative value rounded to zero into 0.0, as Python's `round` (an integer) gives.
pub fn quantize(v: f64, q: f64) -> f64 {
    (v / q).round_ties_even() * q + 0.0
}

pub(crate) fn is_integral(x: f64) -> bool {
    x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15
}

/// One named parameter. `id` is its pre-order index in the whole space (nested included).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub id: usize,
    pub dist: Dist,
}

/// A parsed, validated NNI search space.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpace {
    /// Where the space came from (file name), used in error messages.
    pub source_name: String,
    pub params: Vec<Param>,
    /// Number of parameter nodes, nested included.
    pub n_nodes: usize,
    /// The document as it was parsed: a result stores the space it searched, and this is
    /// the text that was validated (reading the file again could store an edited one).
    pub document: Value,
    /// (parameter key, field) of the fields of parameter specs that are not read (anything
    /// but _type and _value, e.g. a "_comment"), in file order.
    pub ignored_fields: Vec<(String, String)>,
}

/// What a trainer knows about one of its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// A number in [min, max], or in [min, max) where `max_excluded` (a momentum: 1 is not
    /// one, but NNI's `uniform [0, 1]`, whose draws stay below 1, is a momentum's range).
    Float {
        min: f64,
        max: f64,
        max_excluded: bool,
    },
    Int {
        min: i64,
        max: i64,
    },
    Choice(Vec<String>),
}

/// A parameter's value extracted from a `Params`: an option index or a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NodeVal {
    Index(usize),
    Num(f64),
}

struct Parser<'a> {
    file: &'a str,
    next_id: usize,
    /// (parameter key, field) of each field of a parameter spec other than _type and _value.
    ignored: Vec<(String, String)>,
}

impl Parser<'_> {
    fn err(&self, key: &str, reason: impl Into<String>) -> SpaceError {
        SpaceError::Invalid {
            file: self.file.to_string(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    fn parse_params(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
    ) -> Result<Vec<Param>, SpaceError> {
        let mut out = Vec::new();
        for (name, spec) in obj {
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let id = self.next_id;
            self.next_id += 1;
            let dist = self.parse_dist(spec, &key)?;
            out.push(Param {
                name: name.clone(),
                id,
                dist,
            });
        }
        Ok(out)
    }

    fn parse_dist(&mut self, spec: &Value, key: &str) -> Result<Dist, SpaceError> {
        let obj = spec.as_object().ok_or_else(|| {
            self.err(
                key,
                format!("expected an object {{\"_type\": ..., \"_value\": ...}}, got {spec}"),
            )
        })?;
        // NNI reads _type and _value and ignores the rest (a "_comment", say), so an existing
        // search_space.json works unchanged; the ignored fields are listed for a note.
        let others: Vec<&String> = obj
            .keys()
            .filter(|k| *k != "_type" && *k != "_value")
            .collect();
        // A required field missing beside an ignored one is most likely misspelt there.
        let found = match others.as_slice() {
            [] => String::new(),
            fields => format!(
                " (the spec has {}, which is not read: misspelt?)",
                fields
                    .iter()
                    .map(|f| format!("\"{f}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let ty = match obj.get("_type") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(self.err(key, format!("_type must be a string, got {other}")))
            }
            None => return Err(self.err(key, format!("missing _type{found}"))),
        };
        let value = obj
            .get("_value")
            .ok_or_else(|| self.err(key, format!("{ty}: missing _value{found}")))?;
        self.ignored
            .extend(others.into_iter().map(|f| (key.to_string(), f.clone())));
        if ty == "choice" {
            return self.parse_choice(value, key);
        }
        const NUMERIC: [(&str, usize); 9] = [
            ("randint", 2),
            ("uniform", 2),
            ("quniform", 3),
            ("loguniform", 2),
            ("qloguniform", 3),
            ("normal", 2),
            ("qnormal", 3),
            ("lognormal", 2),
            ("qlognormal", 3),
        ];
        let Some(&(_, arity)) = NUMERIC.iter().find(|(n, _)| *n == ty) else {
            return Err(self.err(
                key,
                format!(
                    "unknown _type \"{ty}\" (valid: choice, randint, uniform, quniform, loguniform, \
                     qloguniform, normal, qnormal, lognormal, qlognormal)"
                ),
            ));
        };
        let arr = value
            .as_array()
            .ok_or_else(|| self.err(key, format!("{ty}: _value must be an array, got {value}")))?;
        let what = match ty {
            "randint" => "[lower, upper]",
            "uniform" | "loguniform" => "[low, high]",
            "quniform" | "qloguniform" => "[low, high, q]",
            "normal" | "lognormal" => "[mu, sigma]",
            _ => "[mu, sigma, q]",
        };
        if arr.len() != arity {
            // NNI's random and TPE tuners read the first values and ignore the rest (NNI's own
            // mnist example has a four-value uniform): say what they would have used.
            let nni_reads = if arr.len() > arity {
                let first: Vec<String> = arr[..arity].iter().map(Value::to_string).collect();
                format!(
                    " (NNI's random and TPE tuners would silently use the first {arity}: write \
                     [{}] if that is what you mean)",
                    first.join(", ")
                )
            } else {
                String::new()
            };
            return Err(self.err(
                key,
                format!(
                    "{ty}: _value must be {what} ({arity} numbers), got {} element(s){nni_reads}",
                    arr.len()
                ),
            ));
        }
        let mut v = Vec::with_capacity(arity);
        for x in arr {
            match x.as_f64() {
                Some(f) if f.is_finite() => v.push(f),
                _ => {
                    return Err(self.err(
                        key,
                        format!("{ty}: _value must be {what} of numbers, got {x}"),
                    ))
                }
            }
        }
        let check_q = |q: f64| -> Result<(), SpaceError> {
            if q <= 0.0 {
                Err(self.err(key, format!("{ty} needs q > 0, got {}", num(q))))
            } else {
                Ok(())
            }
        };
        let check_range = |low: f64, high: f64| -> Result<(), SpaceError> {
            if low >= high {
                Err(self.err(
                    key,
                    format!(
                        "{ty} needs low < high, got low {} >= high {}",
                        num(low),
                        num(high)
                    ),
                ))
            } else {
                Ok(())
            }
        };
        let check_log = |low: f64| -> Result<(), SpaceError> {
            if low <= 0.0 {
                Err(self.err(key, format!("{ty} needs low > 0, got {}", num(low))))
            } else {
                Ok(())
            }
        };
        let check_sigma = |s: f64| -> Result<(), SpaceError> {
            if s <= 0.0 {
                Err(self.err(key, format!("{ty} needs sigma > 0, got {}", num(s))))
            } else {
                Ok(())
            }
        };
        Ok(match ty {
            "randint" => {
                if !is_integral(v[0]) || !is_integral(v[1]) {
                    return Err(self.err(
                        key,
                        format!(
                            "randint bounds must be integers of magnitude below 9e15 (exact in \
                             JSON's doubles), got [{}, {}]",
                            arr[0], arr[1]
                        ),
                    ));
                }
                let (lower, upper) = (v[0] as i64, v[1] as i64);
                if upper.checked_sub(lower).is_none() {
                    return Err(self.err(key, "randint range too large"));
                }
                if lower >= upper {
                    return Err(self.err(
                        key,
                        format!("randint needs lower < upper (upper is exclusive), got [{lower}, {upper}]"),
                    ));
                }
                Dist::RandInt { lower, upper }
            }
            "uniform" => {
                check_range(v[0], v[1])?;
                Dist::Uniform {
                    low: v[0],
                    high: v[1],
                }
            }
            "quniform" => {
                check_q(v[2])?;
                check_range(v[0], v[1])?;
                Dist::QUniform {
                    low: v[0],
                    high: v[1],
                    q: v[2],
                }
            }
            "loguniform" => {
                check_log(v[0])?;
                check_range(v[0], v[1])?;
                Dist::LogUniform {
                    low: v[0],
                    high: v[1],
                }
            }
            "qloguniform" => {
                check_log(v[0])?;
                check_q(v[2])?;
                check_range(v[0], v[1])?;
                Dist::QLogUniform {
                    low: v[0],
                    high: v[1],
                    q: v[2],
                }
            }
            "normal" => {
                check_sigma(v[1])?;
                Dist::Normal {
                    mu: v[0],
                    sigma: v[1],
                }
            }
            "qnormal" => {
                check_sigma(v[1])?;
                check_q(v[2])?;
                Dist::QNormal {
                    mu: v[0],
                    sigma: v[1],
                    q: v[2],
                }
            }
            "lognormal" => {
                check_sigma(v[1])?;
                Dist::LogNormal {
                    mu: v[0],
                    sigma: v[1],
                }
            }
            _ => {
                check_sigma(v[1])?;
                check_q(v[2])?;
                Dist::QLogNormal {
                    mu: v[0],
                    sigma: v[1],
                    q: v[2],
                }
            }
        })
    }

    fn parse_choice(&mut self, value: &Value, key: &str) -> Result<Dist, SpaceError> {
        let arr = value.as_array().ok_or_else(|| {
            self.err(
                key,
                format!("choice: _value must be an array of options, got {value}"),
            )
        })?;
        if arr.is_empty() {
            return Err(self.err(key, "choice needs at least one option, got an empty list"));
        }
        let mut options = Vec::with_capacity(arr.len());
        for (i, opt) in arr.iter().enumerate() {
            match opt {
                Value::Object(o) => {
                    let name = match o.get("_name") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Number(n)) => n.to_string(),
                        Some(other) => {
                            return Err(self.err(
                                key,
                                format!("nested choice option {i}: _name must be a string, got {other}"),
                            ))
                        }
                        None => {
                            return Err(self.err(
                                key,
                                format!("nested choice option {i} has no _name (an object option must be {{\"_name\": ..., sub-parameters}})"),
                            ))
                        }
                    };
                    let mut subs = o.clone();
                    // shift_remove keeps the sub-parameters in the file's order.
                    subs.shift_remove("_name");
                    let prefix = format!("{key}/{name}");
                    let params = self.parse_params(&subs, &prefix)?;
                    options.push(ChoiceOption::Nested { name, params });
                }
                v => options.push(ChoiceOption::Value(v.clone())),
            }
        }
        let mut seen = std::collections::HashSet::new();
        for o in &options {
            if let ChoiceOption::Nested { name, .. } = o {
                if !seen.insert(name.clone()) {
                    return Err(self.err(key, format!("nested choice: duplicate _name \"{name}\"")));
                }
            }
        }
        Ok(Dist::Choice(options))
    }
}

impl SearchSpace {
    /// Parse NNI search-space JSON text; `source_name` (e.g. the file name) prefixes errors.
    pub fn from_json_str(text: &str, source_name: &str) -> Result<SearchSpace, SpaceError> {
        let v: Value = crate::strict_json::parse(text).map_err(|e| SpaceError::Json {
            file: source_name.to_string(),
            reason: e.to_string(),
        })?;
        Self::from_value(&v, source_name)
    }

    /// Parse an already-decoded JSON value.
    pub fn from_value(v: &Value, source_name: &str) -> Result<SearchSpace, SpaceError> {
        let obj = v.as_object().ok_or_else(|| SpaceError::Shape {
            file: source_name.to_string(),
            reason:
                "a search space must be a JSON object {\"key\": {\"_type\": ..., \"_value\": ...}}"
                    .into(),
        })?;
        if obj.is_empty() {
            return Err(SpaceError::Shape {
                file: source_name.to_string(),
                reason: "the search space is empty".into(),
            });
        }
        let mut p = Parser {
            file: source_name,
            next_id: 0,
            ignored: Vec::new(),
        };
        let params = p.parse_params(obj, "")?;
        Ok(SearchSpace {
            source_name: source_name.to_string(),
            params,
            n_nodes: p.next_id,
            document: v.clone(),
            ignored_fields: p.ignored,
        })
    }

    /// A one-line note naming the fields of parameter specs that were ignored, if any.
    pub fn ignored_note(&self) -> Option<String> {
        if self.ignored_fields.is_empty() {
            return None;
        }
        let fields: Vec<String> = self
            .ignored_fields
            .iter()
            .map(|(key, field)| format!("\"{field}\" of key \"{key}\""))
            .collect();
        Some(format!(
            "{}: ignored {} (a parameter is read from _type and _value only, as in NNI)",
            self.source_name,
            fields.join(", ")
        ))
    }

    /// Read and parse a file; errors name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<SearchSpace, SpaceError> {
        let path = path.as_ref();
        Self::from_json_str(&Self::read_text(path)?, &path.display().to_string())
    }

    /// The text of a search-space file, as [`SearchSpace::load`] reads it.
    pub fn read_text(path: &Path) -> Result<String, SpaceError> {
        std::fs::read_to_string(path).map_err(|e| SpaceError::Io {
            file: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Draw one parameter set.
    pub fn sample(&self, rng: &mut impl Rng) -> Params {
        sample_params(&self.params, rng)
    }

    /// All parameter nodes in pre-order (index = id).
    pub fn nodes(&self) -> Vec<&Param> {
        fn walk<'a>(ps: &'a [Param], out: &mut Vec<&'a Param>) {
            for p in ps {
                out.push(p);
                if let Dist::Choice(opts) = &p.dist {
                    for o in opts {
                        if let ChoiceOption::Nested { params, .. } = o {
                            walk(params, out);
                        }
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(self.n_nodes);
        walk(&self.params, &mut out);
        out
    }

    /// Per node id, the value in `params` (None where the node was inactive or missing).
    pub(crate) fn extract(&self, params: &Params) -> Vec<Option<NodeVal>> {
        let mut out = vec![None; self.n_nodes];
        extract_into(&self.params, params, &mut out);
        out
    }

    /// Partial parameter sets that each set one parameter to one of its extreme values (every
    /// choice option, the two ends of a range, the centre of an unbounded type), inside the
    /// options that enclose it: what a suite checks its base recipe against before running,
    /// so that a value no trial could train with is found when the suite is read.
    pub fn probes(&self) -> Vec<Probe> {
        let mut out = Vec::new();
        probe_list(
            &self.params,
            "",
            &mut |key: String, value: Value, wrap: &dyn Fn(Value) -> Params| {
                out.push(Probe {
                    key,
                    value: value.clone(),
                    params: wrap(value),
                })
            },
        );
        out
    }

    /// Check the space against the parameters a trainer accepts.
    pub fn check_params(&self, known: &[ParamSpec]) -> Result<(), SpaceError> {
        check_list(&self.params, known, &self.source_name, "", &[])
    }
}

/// One parameter at one of its extremes; see [`SearchSpace::probes`].
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// The parameter's path (`optimizer/sgd/momentum`).
    pub key: String,
    pub value: Value,
    /// The parameter set holding just that value (and the `_name`s that enclose it).
    pub params: Params,
}

type ProbeSink<'a> = dyn FnMut(String, Value, &dyn Fn(Value) -> Params) + 'a;

fn probe_list(ps: &[Param], prefix: &str, emit: &mut ProbeSink) {
    for p in ps {
        let key = if prefix.is_empty() {
            p.name.clone()
        } else {
            format!("{prefix}/{}", p.name)
        };
        let single = |v: Value| Params::from_iter([(p.name.clone(), v)]);
        match &p.dist {
            Dist::Choice(opts) => {
                for o in opts {
                    match o {
                        ChoiceOption::Value(v) => emit(key.clone(), v.clone(), &single),
                        ChoiceOption::Nested { name, params } => {
                            let named = |subs: Params| {
                                let mut m = Params::from_iter([(
                                    "_name".to_string(),
                                    Value::String(name.clone()),
                                )]);
                                m.extend(subs);
                                single(Value::Object(m))
                            };
                            emit(key.clone(), Value::String(name.clone()), &|_| {
                                named(Params::new())
                            });
                            let prefix = format!("{key}/{name}");
                            probe_list(
                                params,
                                &prefix,
                                &mut |k: String, v: Value, wrap: &dyn Fn(Value) -> Params| {
                                    emit(k, v, &|x| named(wrap(x)))
                                },
                            );
                        }
                    }
                }
            }
            Dist::RandInt { lower, upper } => {
                emit(key.clone(), Value::from(*lower), &single);
                emit(key.clone(), Value::from(upper - 1), &single);
            }
            d => {
                let n = d.numeric().expect("every other type is numeric");
                let ends = match (n.low, n.high) {
                    (Some(lo), Some(hi)) => vec![lo, hi],
                    _ => vec![n.prior_mu],
                };
                for t in ends {
                    emit(key.clone(), n.to_json(n.finalize(t)), &single);
                }
            }
        }
    }
}

fn sample_params(ps: &[Param], rng: &mut impl Rng) -> Params {
    let mut out = Params::new();
    for p in ps {
        out.insert(p.name.clone(), sample_dist(&p.dist, rng));
    }
    out
}

/// Draw a value from one distribution (nested choices recurse).
pub(crate) fn sample_dist(d: &Dist, rng: &mut impl Rng) -> Value {
    match d {
        Dist::Choice(opts) => {
            let i = rng.random_range(0..opts.len());
            option_value(&opts[i], rng)
        }
        Dist::RandInt { lower, upper } => Value::from(rng.random_range(*lower..*upper)),
        _ => {
            let n = d.numeric().expect("numeric dist");
            let t = match (n.low, n.high) {
                (Some(lo), Some(hi)) => lo + (hi - lo) * rng.random::<f64>(),
                _ => {
                    let z: f64 = rng.sample(StandardNormal);
                    n.prior_mu + n.prior_sigma * z
                }
            };
            n.to_json(n.finalize(t))
        }
    }
}

/// The sampled value for a chosen option (nested options sample their sub-parameters).
pub(crate) fn option_value(o: &ChoiceOption, rng: &mut impl Rng) -> Value {
    match o {
        ChoiceOption::Value(v) => v.clone(),
        ChoiceOption::Nested { name, params } => {
            let mut m = Params::new();
            m.insert("_name".into(), Value::String(name.clone()));
            m.extend(sample_params(params, rng));
            Value::Object(m)
        }
    }
}

/// Index of the option `v` selects, if any.
pub(crate) fn option_index(opts: &[ChoiceOption], v: &Value) -> Option<usize> {
    opts.iter().position(|o| match (o, v) {
        (ChoiceOption::Value(a), b) => json_num_eq(a, b),
        (ChoiceOption::Nested { name, .. }, Value::Object(m)) => {
            m.get("_name").map(|n| match n {
                Value::String(s) => s == name,
                _ => false,
            }) == Some(true)
        }
        _ => false,
    })
}

fn json_num_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn extract_into(ps: &[Param], params: &Params, out: &mut [Option<NodeVal>]) {
    for p in ps {
        let Some(v) = params.get(&p.name) else {
            continue;
        };
        match &p.dist {
            Dist::Choice(opts) => {
                if let Some(i) = option_index(opts, v) {
                    out[p.id] = Some(NodeVal::Index(i));
                    if let (ChoiceOption::Nested { params: subs, .. }, Value::Object(m)) =
                        (&opts[i], v)
                    {
                        extract_into(subs, m, out);
                    }
                }
            }
            Dist::RandInt { lower, upper } => {
                if let Some(x) = v.as_f64() {
                    let i = x.round() as i64;
                    if (*lower..*upper).contains(&i) {
                        out[p.id] = Some(NodeVal::Index((i - lower) as usize));
                    }
                }
            }
            _ => {
                if let Some(x) = v.as_f64() {
                    out[p.id] = Some(NodeVal::Num(x));
                }
            }
        }
    }
}

/// `outer`: the keys of the enclosing levels (with their paths), which a nested option must
/// not set again: a trial gets one value per trainer parameter, so one of the two would be
/// dropped without a word.
fn check_list(
    ps: &[Param],
    known: &[ParamSpec],
    file: &str,
    prefix: &str,
    outer: &[(String, String)],
) -> Result<(), SpaceError> {
    let path = |p: &Param| {
        if prefix.is_empty() {
            p.name.clone()
        } else {
            format!("{prefix}/{}", p.name)
        }
    };
    let mut scope = outer.to_vec();
    scope.extend(ps.iter().map(|p| (p.name.clone(), path(p))));
    for p in ps {
        let key = path(p);
        let mismatch = |reason: String| SpaceError::Mismatch {
            file: file.to_string(),
            key: key.clone(),
            reason,
        };
        let Some(spec) = known.iter().find(|k| k.name == p.name) else {
            let names: Vec<&str> = known.iter().map(|k| k.name.as_str()).collect();
            return Err(mismatch(format!(
                "unknown parameter \"{}\" (the trainer knows: {})",
                p.name,
                names.join(", ")
            )));
        };
        if let Some((_, other)) = outer.iter().find(|(name, _)| *name == p.name) {
            return Err(mismatch(format!(
                "\"{}\" is also set by \"{other}\"; a trial can use only one of the two values",
                p.name
            )));
        }
        check_one(&p.dist, &spec.kind, &mismatch)?;
        if let Dist::Choice(opts) = &p.dist {
            for o in opts {
                if let ChoiceOption::Nested { name, params } = o {
                    check_list(params, known, file, &format!("{key}/{name}"), &scope)?;
                }
            }
        }
    }
    Ok(())
}

fn fmt_range_f(min: f64, max: f64) -> String {
    format!("[{}, {}]", num(min), num(max))
}

/// Whether `x` is past an allowed maximum, which `max_excluded` leaves out of the range.
fn beyond_max(x: f64, max: f64, max_excluded: bool) -> bool {
    x > max || (max_excluded && x == max)
}

/// An allowed float range as a message writes it: `[0, 1)` where the maximum is excluded.
fn fmt_allowed(min: f64, max: f64, max_excluded: bool) -> String {
    if max_excluded {
        format!("[{}, {})", num(min), num(max))
    } else {
        fmt_range_f(min, max)
    }
}

/// A number in a message, shortest round-trip: `1e308` and `1e-12` in exponent form (`{}`
/// would print every digit of 1e308), `0.05` and `65536` as written.
fn num(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e16).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn check_one(
    d: &Dist,
    kind: &ParamKind,
    mismatch: &dyn Fn(String) -> SpaceError,
) -> Result<(), SpaceError> {
    let ty = d.type_name();
    match kind {
        ParamKind::Choice(allowed) => {
            let Dist::Choice(opts) = d else {
                return Err(mismatch(format!(
                    "{ty} gives numbers but the parameter is a choice among [{}]",
                    allowed.join(", ")
                )));
            };
            for o in opts {
                let label = match o {
                    ChoiceOption::Value(Value::String(s)) => s.clone(),
                    ChoiceOption::Nested { name, .. } => name.clone(),
                    ChoiceOption::Value(v) => {
                        return Err(mismatch(format!(
                        "choice value {v} is not a string; the parameter is a choice among [{}]",
                        allowed.join(", ")
                    )))
                    }
                };
                if !allowed.contains(&label) {
                    return Err(mismatch(format!(
                        "choice value \"{label}\" is not allowed (allowed: {})",
                        allowed.join(", ")
                    )));
                }
            }
            Ok(())
        }
        ParamKind::Float { .. } | ParamKind::Int { .. } if matches!(d, Dist::Choice(_)) => {
            let (is_int, lo, hi, hi_excluded) = match kind {
                ParamKind::Float {
                    min,
                    max,
                    max_excluded,
                } => (false, *min, *max, *max_excluded),
                ParamKind::Int { min, max } => (true, *min as f64, *max as f64, false),
                _ => unreachable!(),
            };
            let Dist::Choice(opts) = d else {
                unreachable!()
            };
            let what = if is_int { "an integer" } else { "a number" };
            for o in opts {
                let v = match o {
                    ChoiceOption::Value(v) => v,
                    ChoiceOption::Nested { name, .. } => {
                        return Err(mismatch(format!(
                            "nested choice option \"{name}\" but the parameter is {what}"
                        )))
                    }
                };
                let x = match v.as_f64() {
                    // A float like 16.0 would reach the trainer as a float and fail every trial.
                    Some(x) if is_int && is_integral(x) && !(v.is_i64() || v.is_u64()) => {
                        return Err(mismatch(format!(
                            "choice value {v} is written as a float but the parameter is an \
                             integer; write {}",
                            x as i64
                        )))
                    }
                    Some(x) if !is_int || is_integral(x) => x,
                    _ => return Err(mismatch(format!("choice value {v} is not {what}"))),
                };
                if x < lo || beyond_max(x, hi, hi_excluded) {
                    return Err(mismatch(format!(
                        "choice value {v} is outside the allowed range {}",
                        fmt_allowed(lo, hi, hi_excluded)
                    )));
                }
            }
            Ok(())
        }
        ParamKind::Float {
            min,
            max,
            max_excluded,
        } if is_unbounded(d) => check_centre(d, *min, *max, *max_excluded, mismatch),
        ParamKind::Float {
            min,
            max,
            max_excluded,
        } => {
            let (lo, hi) = support(d);
            // uniform and loguniform draw in [low, high): their high is never a value.
            let high_drawn = !matches!(d, Dist::Uniform { .. } | Dist::LogUniform { .. });
            if lo < *min || beyond_max(hi, *max, *max_excluded && high_drawn) {
                return Err(mismatch(format!(
                    "{ty} range {} is outside the allowed range {}",
                    fmt_range_f(lo, hi),
                    fmt_allowed(*min, *max, *max_excluded)
                )));
            }
            Ok(())
        }
        ParamKind::Int { min, max } => {
            let integral = match d {
                Dist::RandInt { .. } => true,
                _ => d.numeric().map(|n| n.integral).unwrap_or(false),
            };
            if let Some((name, x)) = inexact_integer(d) {
                return Err(mismatch(format!(
                    "{ty} {name} {} is too large to be exact: the parameter is an integer, and \
                     integers are exact in JSON's doubles only below 9e15 in magnitude",
                    num(x)
                )));
            }
            if !integral {
                return Err(mismatch(format!(
                    "{ty} gives non-integer values but the parameter is an integer \
                     (use randint, choice of integers, or a q-type with integer q and bounds)"
                )));
            }
            if is_unbounded(d) {
                return check_centre(d, *min as f64, *max as f64, false, mismatch);
            }
            let (lo, hi) = support(d);
            if lo < *min as f64 || hi > *max as f64 {
                return Err(mismatch(format!(
                    "{ty} range {} is outside the allowed range [{min}, {max}]",
                    fmt_range_f(lo, hi)
                )));
            }
            Ok(())
        }
    }
}

/// The first of a q-type's values that decide whether it gives integers (q, and the bounds of
/// quniform/qloguniform) that is a whole number too large to be exact, with its name: such a
/// space is refused for an integer parameter because of its size, not as "non-integer".
fn inexact_integer(d: &Dist) -> Option<(&'static str, f64)> {
    let named = match *d {
        Dist::QUniform { low, high, q } | Dist::QLogUniform { low, high, q } => {
            vec![("low", low), ("high", high), ("q", q)]
        }
        Dist::QNormal { q, .. } | Dist::QLogNormal { q, .. } => vec![("q", q)],
        _ => vec![],
    };
    named
        .into_iter()
        .find(|(_, x)| x.is_finite() && x.fract() == 0.0 && !is_integral(*x))
}

/// normal, qnormal, lognormal and qlognormal: every value has a chance, whatever the
/// parameter's range.
fn is_unbounded(d: &Dist) -> bool {
    matches!(
        d,
        Dist::Normal { .. }
            | Dist::QNormal { .. }
            | Dist::LogNormal { .. }
            | Dist::QLogNormal { .. }
    )
}

/// An unbounded type fits a bounded parameter when its centre (μ, or e^μ for the log types)
/// does. As in NNI, a rare draw outside the parameter's range fails its trial, with the
/// recipe's message; the search goes on.
fn check_centre(
    d: &Dist,
    min: f64,
    max: f64,
    max_excluded: bool,
    mismatch: &dyn Fn(String) -> SpaceError,
) -> Result<(), SpaceError> {
    let centre = match *d {
        Dist::Normal { mu, .. } | Dist::QNormal { mu, .. } => mu,
        Dist::LogNormal { mu, .. } | Dist::QLogNormal { mu, .. } => mu.exp(),
        _ => unreachable!("check_centre is for unbounded types"),
    };
    if centre < min || beyond_max(centre, max, max_excluded) {
        return Err(mismatch(format!(
            "{} centred at {} is outside the allowed range {}",
            d.type_name(),
            num(centre),
            fmt_allowed(min, max, max_excluded)
        )));
    }
    Ok(())
}

/// The smallest interval holding every value `d` can produce (randint: upper - 1).
fn support(d: &Dist) -> (f64, f64) {
    match *d {
        Dist::RandInt { lower, upper } => (lower as f64, (upper - 1) as f64),
        Dist::Uniform { low, high }
        | Dist::QUniform { low, high, .. }
        | Dist::LogUniform { low, high }
        | Dist::QLogUniform { low, high, .. } => (low, high),
        Dist::Normal { .. } | Dist::QNormal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
        Dist::LogNormal { .. } => (0.0, f64::INFINITY),
        Dist::QLogNormal { .. } => (0.0, f64::INFINITY),
        Dist::Choice(_) => (f64::NEG_INFINITY, f64::INFINITY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A nested choice gives its key the chosen `_name`, then its sub-parameters, at any depth
    /// and wherever `_name` stands in the object; plain values stay as they are, in order.
    #[test]
    fn nested_choices_flatten_to_their_names_then_their_sub_parameters() {
        let params: Params = serde_json::from_str(
            r#"{"batch_size": 32,
                "optimizer": {"momentum": 0.9, "_name": "sgd",
                              "schedule": {"_name": "step", "step_size": 5}},
                "width": [1, 2]}"#,
        )
        .unwrap();
        let flat = flatten_params(&params);
        let names: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "batch_size",
                "optimizer",
                "momentum",
                "schedule",
                "step_size",
                "width"
            ]
        );
        assert_eq!(flat[1].1, "sgd");
        assert_eq!(flat[3].1, "step");
        assert_eq!(flat[5].1, serde_json::json!([1, 2]));
    }

    fn space(text: &str) -> SearchSpace {
        SearchSpace::from_json_str(text, "search_space.json").unwrap()
    }
    fn err(text: &str) -> String {
        SearchSpace::from_json_str(text, "search_space.json")
            .unwrap_err()
            .to_string()
    }
    fn draws(text: &str, n: usize) -> Vec<Value> {
        let s = space(text);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        (0..n).map(|_| s.sample(&mut rng)["x"].clone()).collect()
    }

    #[test]
    fn keeps_key_order() {
        let s = space(
            r#"{"z": {"_type":"uniform","_value":[0,1]}, "a": {"_type":"uniform","_value":[0,1]}, "m": {"_type":"randint","_value":[0,3]}}"#,
        );
        let names: Vec<_> = s.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["z", "a", "m"]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let keys: Vec<_> = s.sample(&mut rng).keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn choice_samples_all_options_and_keeps_types() {
        let v = draws(
            r#"{"x": {"_type":"choice","_value":[0, 8, "adam", 1.5]}}"#,
            400,
        );
        for want in [
            Value::from(0),
            Value::from(8),
            Value::from("adam"),
            Value::from(1.5),
        ] {
            assert!(v.contains(&want), "{want} never drawn");
        }
        assert!(v.iter().all(|x| x.is_i64() || x.is_string() || x.is_f64()));
        assert!(v
            .iter()
            .filter(|x| x.as_i64() == Some(8) || x.as_f64() == Some(8.0))
            .all(|x| x.is_i64()));
    }

    #[test]
    fn randint_upper_exclusive_integers() {
        let v = draws(r#"{"x": {"_type":"randint","_value":[2, 5]}}"#, 500);
        let ints: Vec<i64> = v.iter().map(|x| x.as_i64().expect("integer")).collect();
        assert!(ints.iter().all(|i| (2..5).contains(i)));
        for want in 2..5 {
            assert!(ints.contains(&want));
        }
    }

    #[test]
    fn uniform_and_loguniform_bounds() {
        let v = draws(r#"{"x": {"_type":"uniform","_value":[-1.5, 2.5]}}"#, 1000);
        let xs: Vec<f64> = v.iter().map(|x| x.as_f64().unwrap()).collect();
        assert!(xs.iter().all(|x| (-1.5..=2.5).contains(x)));
        assert!(xs.iter().any(|x| *x < -1.0) && xs.iter().any(|x| *x > 2.0));
        let v = draws(
            r#"{"x": {"_type":"loguniform","_value":[1e-4, 0.1]}}"#,
            1000,
        );
        let xs: Vec<f64> = v.iter().map(|x| x.as_f64().unwrap()).collect();
        assert!(xs.iter().all(|x| (1e-4..=0.1).contains(x)));
        // log-uniform: about a third of the mass per decade
        let below_1e3 = xs.iter().filter(|x| **x < 1e-3).count();
        assert!((250..420).contains(&below_1e3), "{below_1e3}");
    }

    #[test]
    fn quniform_rounds_to_multiples_and_clips() {
        let v = draws(r#"{"x": {"_type":"quniform","_value":[1, 10, 4]}}"#, 1000);
        let xs: Vec<i64> = v
            .iter()
            .map(|x| x.as_i64().expect("integral q-type is an integer"))
            .collect();
        // u/4 in [0.25, 2.5]; round (half to even) -> {0, 1, 2}; *4 clipped to [1, 10] -> {1, 4, 8}
        for x in &xs {
            assert!([1, 4, 8].contains(x), "{x}");
        }
        for want in [1, 4, 8] {
            assert!(xs.contains(&want));
        }
        let v = draws(r#"{"x": {"_type":"quniform","_value":[0, 1, 0.25]}}"#, 500);
        for x in v {
            let f = x.as_f64().unwrap();
            assert!((0.0..=1.0).contains(&f));
            assert!(((f / 0.25) - (f / 0.25).round()).abs() < 1e-9, "{f}");
        }
    }

    #[test]
    fn qloguniform_multiples_within_bounds() {
        let v = draws(
            r#"{"x": {"_type":"qloguniform","_value":[1, 1000, 10]}}"#,
            500,
        );
        for x in v {
            let i = x.as_i64().unwrap();
            assert!((1..=1000).contains(&i));
            assert!(i % 10 == 0 || i == 1, "{i}");
        }
    }

    #[test]
    fn normal_family() {
        let v = draws(r#"{"x": {"_type":"normal","_value":[10, 2]}}"#, 2000);
        let xs: Vec<f64> = v.iter().map(|x| x.as_f64().unwrap()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 10.0).abs() < 0.2, "{mean}");
        let v = draws(r#"{"x": {"_type":"qnormal","_value":[0, 3, 0.5]}}"#, 500);
        for x in v {
            let f = x.as_f64().unwrap();
            assert_eq!(f, (f / 0.5).round() * 0.5);
        }
        let v = draws(r#"{"x": {"_type":"lognormal","_value":[0, 1]}}"#, 1000);
        let xs: Vec<f64> = v.iter().map(|x| x.as_f64().unwrap()).collect();
        assert!(xs.iter().all(|x| *x > 0.0));
        let below_one = xs.iter().filter(|x| **x < 1.0).count();
        assert!((430..570).contains(&below_one), "{below_one}");
        let v = draws(r#"{"x": {"_type":"qlognormal","_value":[2, 1, 3]}}"#, 500);
        for x in v {
            let i = x.as_i64().unwrap();
            assert!(i >= 0 && i % 3 == 0, "{i}");
        }
    }

    #[test]
    fn quantize_is_round_half_even() {
        assert_eq!(quantize(2.5, 1.0), 2.0);
        assert_eq!(quantize(3.5, 1.0), 4.0);
        assert_eq!(quantize(6.0, 4.0), 8.0);
        assert_eq!(quantize(10.0, 4.0), 8.0);
        // A small negative value rounds to zero, not to −0.0 (which JSON prints as "-0.0").
        assert!(quantize(-0.1, 0.3).is_sign_positive());
        assert_eq!(Value::from(quantize(-0.1, 0.3)).to_string(), "0.0");
    }

    /// A nested option's sub-parameters keep the file's order, in the parsed space, in every
    /// draw and when flattened (NNI keeps it; a swap_remove of `_name` moved the last first).
    #[test]
    fn nested_sub_parameters_keep_the_files_order() {
        let s = space(
            r#"{"optimizer": {"_type": "choice", "_value": [
                {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0.5, 0.9]},
                 "weight_decay": {"_type": "uniform", "_value": [0.0, 0.1]},
                 "width": {"_type": "choice", "_value": [8, 16]}}]}}"#,
        );
        let names: Vec<&str> = s.nodes().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["optimizer", "momentum", "weight_decay", "width"]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let drawn = s.sample(&mut rng);
        let keys: Vec<&String> = drawn["optimizer"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["_name", "momentum", "weight_decay", "width"]);
        let flat: Vec<String> = flatten_params(&drawn).into_iter().map(|(k, _)| k).collect();
        assert_eq!(flat, ["optimizer", "momentum", "weight_decay", "width"]);
    }

    #[test]
    fn nested_choice_structure() {
        let s = space(
            r#"{"optimizer": {"_type": "choice", "_value": [
                {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0.5, 0.99]}},
                {"_name": "adam"}
            ]}, "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]}}"#,
        );
        assert_eq!(s.n_nodes, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut sgd, mut adam) = (0, 0);
        for _ in 0..200 {
            let p = s.sample(&mut rng);
            let o = p["optimizer"]
                .as_object()
                .expect("nested sample is an object");
            match o["_name"].as_str().unwrap() {
                "sgd" => {
                    sgd += 1;
                    let m = o["momentum"].as_f64().unwrap();
                    assert!((0.5..=0.99).contains(&m));
                    assert_eq!(o.len(), 2);
                }
                "adam" => {
                    adam += 1;
                    assert_eq!(o.len(), 1);
                }
                other => panic!("{other}"),
            }
            let ex = s.extract(&p);
            assert!(ex[0].is_some() && ex[2].is_some());
            assert_eq!(ex[1].is_some(), o["_name"] == "sgd");
        }
        assert!(sgd > 50 && adam > 50);
    }

    #[test]
    fn same_seed_same_samples() {
        let s = space(
            r#"{"a": {"_type":"uniform","_value":[0,1]}, "b": {"_type":"choice","_value":[1,2,3]}}"#,
        );
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..10).map(|_| s.sample(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }

    fn assert_err(text: &str, parts: &[&str]) {
        let e = err(text);
        assert!(e.starts_with("search_space.json"), "{e}");
        for p in parts {
            assert!(e.contains(p), "`{e}` lacks `{p}`");
        }
    }

    #[test]
    fn validation_errors_name_key_and_reason() {
        assert_err(
            r#"{"grad_clip": {"_type":"loguniform","_value":[0.0, 5.0]}}"#,
            &["key \"grad_clip\"", "loguniform needs low > 0, got 0"],
        );
        assert_err(
            r#"{"g": {"_type":"qloguniform","_value":[-1, 5, 1]}}"#,
            &["\"g\"", "qloguniform needs low > 0"],
        );
        assert_err(
            r#"{"u": {"_type":"uniform","_value":[2, 1]}}"#,
            &["\"u\"", "low < high"],
        );
        assert_err(
            r#"{"u": {"_type":"uniform","_value":[1, 1]}}"#,
            &["\"u\"", "low < high"],
        );
        assert_err(
            r#"{"q": {"_type":"quniform","_value":[0, 1, 0]}}"#,
            &["\"q\"", "q > 0"],
        );
        assert_err(
            r#"{"n": {"_type":"normal","_value":[0, 0]}}"#,
            &["\"n\"", "sigma > 0"],
        );
        assert_err(
            r#"{"n": {"_type":"qlognormal","_value":[0, -1, 1]}}"#,
            &["\"n\"", "sigma > 0"],
        );
        assert_err(
            r#"{"c": {"_type":"choice","_value":[]}}"#,
            &["\"c\"", "empty"],
        );
        assert_err(
            r#"{"t": {"_type":"gaussian","_value":[0, 1]}}"#,
            &["\"t\"", "unknown _type \"gaussian\""],
        );
        assert_err(
            r#"{"a": {"_type":"uniform","_value":[0]}}"#,
            &["\"a\"", "[low, high]", "got 1 element"],
        );
        // NNI's mnist example: NNI's tuners would use [0.1, 0.2], and the message says so.
        assert_err(
            r#"{"dropout_rate": {"_type":"uniform","_value":[0.1, 0.2, 0.5, 0.8]}}"#,
            &[
                "\"dropout_rate\"",
                "got 4 element(s) (NNI's random and TPE tuners would silently use the first 2: \
                 write [0.1, 0.2] if that is what you mean)",
            ],
        );
        assert_err(
            r#"{"a": {"_type":"uniform","_value":[0, "1"]}}"#,
            &["\"a\"", "numbers"],
        );
        assert_err(
            r#"{"a": {"_type":"uniform","_value":5}}"#,
            &["\"a\"", "must be an array"],
        );
        assert_err(
            r#"{"r": {"_type":"randint","_value":[0.5, 4]}}"#,
            &["\"r\"", "randint bounds must be integers"],
        );
        assert_err(
            r#"{"r": {"_type":"randint","_value":[4, 4]}}"#,
            &["\"r\"", "lower < upper"],
        );
        assert_err(
            r#"{"opt": {"_type":"choice","_value":[{"momentum": {"_type":"uniform","_value":[0,1]}}]}}"#,
            &["\"opt\"", "no _name"],
        );
        assert_err(
            r#"{"opt": {"_type":"choice","_value":[{"_name":"sgd","m": {"_type":"uniform","_value":[1,0]}}]}}"#,
            &["\"opt/sgd/m\"", "low < high"],
        );
        assert_err(
            r#"{"x": {"_type":"uniform"}}"#,
            &["\"x\"", "missing _value"],
        );
        assert_err(r#"{"x": [1,2]}"#, &["\"x\"", "expected an object"]);
        // A required field missing beside one that is not read: said together.
        assert_eq!(
            err(r#"{"x": {"_type":"uniform","_vaule":[0,1]}}"#),
            "search_space.json: key \"x\": uniform: missing _value (the spec has \"_vaule\", \
             which is not read: misspelt?)"
        );
        assert_eq!(
            err(r#"{"x": {"type":"uniform","_value":[0,1]}}"#),
            "search_space.json: key \"x\": missing _type (the spec has \"type\", which is not \
             read: misspelt?)"
        );
        assert!(err("[1]").contains("must be a JSON object"));
        assert!(err("{").contains("invalid JSON"));
    }

    #[test]
    fn fields_besides_type_and_value_are_ignored_as_nni_does_and_listed() {
        let plain = space(
            r#"{"lr": {"_type":"uniform","_value":[0.01,0.1]},
                "opt": {"_type":"choice","_value":[{"_name":"sgd","m":{"_type":"uniform","_value":[0,1]}}]}}"#,
        );
        let commented = space(
            r#"{"lr": {"_type":"uniform","_value":[0.01,0.1],"_comment":"hi"},
                "opt": {"_type":"choice","_value":[{"_name":"sgd","m":{"_type":"uniform","_value":[0,1],"note":2}}]}}"#,
        );
        assert_eq!(plain.params, commented.params);
        assert_eq!(plain.ignored_note(), None);
        assert_eq!(
            commented.ignored_note().unwrap(),
            "search_space.json: ignored \"_comment\" of key \"lr\", \"note\" of key \"opt/sgd/m\" \
             (a parameter is read from _type and _value only, as in NNI)"
        );
        let mut a = ChaCha8Rng::seed_from_u64(3);
        let mut b = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(plain.sample(&mut a), commented.sample(&mut b));
    }

    #[test]
    fn load_names_the_file() {
        let e = SearchSpace::load("/nonexistent/dir/space.json")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent/dir/space.json") && e.contains("cannot read"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("hpo-core-space-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("search_space.json");
        std::fs::write(
            &f,
            r#"{"grad_clip": {"_type":"loguniform","_value":[0, 5]}}"#,
        )
        .unwrap();
        let e = SearchSpace::load(&f).unwrap_err().to_string();
        assert!(
            e.contains("search_space.json: key \"grad_clip\": loguniform needs low > 0, got 0"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    fn known() -> Vec<ParamSpec> {
        vec![
            ParamSpec {
                name: "lr".into(),
                kind: ParamKind::Float {
                    min: 0.0,
                    max: 1.0,
                    max_excluded: false,
                },
            },
            ParamSpec {
                name: "batch_size".into(),
                kind: ParamKind::Int { min: 1, max: 1024 },
            },
            ParamSpec {
                name: "optimizer".into(),
                kind: ParamKind::Choice(vec!["sgd".into(), "adam".into()]),
            },
            ParamSpec {
                name: "momentum".into(),
                kind: ParamKind::Float {
                    min: 0.0,
                    max: 1.0,
                    max_excluded: false,
                },
            },
        ]
    }

    fn check(text: &str) -> Result<(), String> {
        space(text)
            .check_params(&known())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn check_params_accepts_good_space() {
        check(
            r#"{"lr": {"_type":"loguniform","_value":[1e-4, 0.1]},
                "batch_size": {"_type":"choice","_value":[64, 128, 256]},
                "optimizer": {"_type":"choice","_value":[{"_name":"sgd","momentum":{"_type":"uniform","_value":[0.5,0.99]}},{"_name":"adam"}]}}"#,
        )
        .unwrap();
        check(r#"{"batch_size": {"_type":"quniform","_value":[16, 512, 16]}}"#).unwrap();
        check(r#"{"batch_size": {"_type":"randint","_value":[1, 1025]}}"#).unwrap();
    }

    /// Huge and tiny bounds are written in exponent form, not digit by digit (1e308 has 309).
    #[test]
    fn numbers_in_messages_are_short() {
        assert_eq!(
            check(r#"{"lr": {"_type":"uniform","_value":[-1e308, 1e308]}}"#).unwrap_err(),
            "search_space.json: key \"lr\": uniform range [-1e308, 1e308] is outside the \
             allowed range [0, 1]"
        );
        assert_eq!(
            err(r#"{"lr": {"_type":"uniform","_value":[1e308, -2.5e-7]}}"#),
            "search_space.json: key \"lr\": uniform needs low < high, got low 1e308 >= high \
             -2.5e-7"
        );
        assert_eq!(
            check(r#"{"lr": {"_type":"normal","_value":[12345678.5, 1]}}"#).unwrap_err(),
            "search_space.json: key \"lr\": normal centred at 12345678.5 is outside the allowed \
             range [0, 1]"
        );
        assert_eq!(num(1e16), "1e16");
        assert_eq!(num(9999999999999998.0), "9999999999999998");
        assert_eq!(num(0.0001), "0.0001");
        assert_eq!(num(0.00009), "9e-5");
        assert_eq!(num(0.0), "0");
    }

    #[test]
    fn check_params_errors() {
        let e = check(r#"{"epochz": {"_type":"choice","_value":[1]}}"#).unwrap_err();
        assert!(
            e.contains("\"epochz\"")
                && e.contains("unknown parameter")
                && e.contains("lr, batch_size, optimizer, momentum"),
            "{e}"
        );
        let e =
            check(r#"{"batch_size": {"_type":"choice","_value":["big", "small"]}}"#).unwrap_err();
        assert!(
            e.contains("\"batch_size\"") && e.contains("not an integer"),
            "{e}"
        );
        let e = check(r#"{"batch_size": {"_type":"uniform","_value":[1, 10]}}"#).unwrap_err();
        assert!(e.contains("non-integer"), "{e}");
        let e = check(r#"{"optimizer": {"_type":"uniform","_value":[0, 1]}}"#).unwrap_err();
        assert!(
            e.contains("\"optimizer\"") && e.contains("choice among [sgd, adam]"),
            "{e}"
        );
        let e =
            check(r#"{"optimizer": {"_type":"choice","_value":["sgd", "rmsprop"]}}"#).unwrap_err();
        assert!(e.contains("\"rmsprop\" is not allowed"), "{e}");
        let e = check(r#"{"lr": {"_type":"uniform","_value":[0, 2]}}"#).unwrap_err();
        assert!(
            e.contains("\"lr\"") && e.contains("outside the allowed range [0, 1]"),
            "{e}"
        );
        // The unbounded types are checked by their centre (a rare draw outside the range fails
        // its trial, as in NNI).
        check(r#"{"lr": {"_type":"normal","_value":[0.5, 0.1]}}"#).unwrap();
        check(r#"{"lr": {"_type":"lognormal","_value":[-3, 0.5]}}"#).unwrap();
        check(r#"{"batch_size": {"_type":"qlognormal","_value":[4, 0.5, 16]}}"#).unwrap();
        let e = check(r#"{"lr": {"_type":"normal","_value":[1.5, 0.1]}}"#).unwrap_err();
        assert!(
            e.contains("normal centred at 1.5 is outside the allowed range [0, 1]"),
            "{e}"
        );
        let e = check(r#"{"lr": {"_type":"lognormal","_value":[1, 0.1]}}"#).unwrap_err();
        assert!(e.contains("lognormal centred at 2.718"), "{e}");
        let e = check(r#"{"batch_size": {"_type":"qnormal","_value":[64, 8, 0.5]}}"#).unwrap_err();
        assert!(e.contains("non-integer"), "{e}");
        // A whole number beyond 9e15 is not exact in a double: said so, not "non-integer".
        for (space, name) in [
            (
                r#"{"_type":"qloguniform","_value":[1, 1e300, 1]}"#,
                "qloguniform high 1e300",
            ),
            (
                r#"{"_type":"quniform","_value":[-1e16, 64, 16]}"#,
                "quniform low -1e16",
            ),
            (
                r#"{"_type":"quniform","_value":[16, 64, 1e20]}"#,
                "quniform q 1e20",
            ),
            (
                r#"{"_type":"qnormal","_value":[64, 8, 1e16]}"#,
                "qnormal q 1e16",
            ),
            (
                r#"{"_type":"qlognormal","_value":[4, 0.5, 1e300]}"#,
                "qlognormal q 1e300",
            ),
        ] {
            let e = check(&format!(r#"{{"batch_size": {space}}}"#)).unwrap_err();
            assert_eq!(
                e,
                format!(
                    "search_space.json: key \"batch_size\": {name} is too large to be exact: \
                     the parameter is an integer, and integers are exact in JSON's doubles only \
                     below 9e15 in magnitude"
                )
            );
        }
        // An integer parameter's choice written with floats would fail every trial.
        let e = check(r#"{"batch_size": {"_type":"choice","_value":[16.0, 32]}}"#).unwrap_err();
        assert!(
            e.contains("choice value 16.0 is written as a float") && e.contains("write 16"),
            "{e}"
        );
        // One trainer parameter set at two levels: one of the values would be dropped.
        let e = check(
            r#"{"momentum": {"_type":"uniform","_value":[0.1, 0.2]},
                "optimizer": {"_type":"choice","_value":[{"_name":"sgd","momentum":{"_type":"uniform","_value":[0.5,0.9]}}]}}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("\"optimizer/sgd/momentum\"")
                && e.contains("\"momentum\" is also set by \"momentum\""),
            "{e}"
        );
        // ...but sibling options may each set it.
        check(
            r#"{"optimizer": {"_type":"choice","_value":[
                {"_name":"sgd","momentum":{"_type":"uniform","_value":[0.5,0.9]}},
                {"_name":"adam","momentum":{"_type":"uniform","_value":[0.1,0.2]}}]}}"#,
        )
        .unwrap();
        let e = check(r#"{"batch_size": {"_type":"randint","_value":[1, 1026]}}"#).unwrap_err();
        assert!(e.contains("[1, 1025]") && e.contains("[1, 1024]"), "{e}");
        let e = check(r#"{"lr": {"_type":"choice","_value":[0.1, 3]}}"#).unwrap_err();
        assert!(e.contains("choice value 3 is outside"), "{e}");
        // nested sub-parameters are checked by their own names
        let e = check(
            r#"{"optimizer": {"_type":"choice","_value":[{"_name":"sgd","momentum":{"_type":"uniform","_value":[0.5,1.5]}}]}}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("\"optimizer/sgd/momentum\"") && e.contains("outside"),
            "{e}"
        );
        let e = check(
            r#"{"optimizer": {"_type":"choice","_value":[{"_name":"sgd","nesterov":{"_type":"choice","_value":[true]}}]}}"#,
        )
        .unwrap_err();
        assert!(e.contains("unknown parameter \"nesterov\""), "{e}");
    }

    #[test]
    fn a_repeated_key_is_an_error_naming_it() {
        let e = SearchSpace::from_json_str(
            "{\"lr\": {\"_type\":\"uniform\",\"_value\":[0.1, 0.2]},\n \"lr\": {\"_type\":\"uniform\",\"_value\":[0.3, 0.4]}}",
            "s.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("s.json: invalid JSON")
                && e.contains("\"lr\" is given twice")
                && e.contains("line 2"),
            "{e}"
        );
    }

    #[test]
    fn probes_cover_every_option_and_both_ends_inside_their_enclosing_options() {
        let s = space(
            r#"{"lr": {"_type":"qloguniform","_value":[0.001, 0.1, 0.001]},
                "batch_size": {"_type":"randint","_value":[16, 33]},
                "optimizer": {"_type":"choice","_value":[
                    {"_name":"sgd","momentum":{"_type":"normal","_value":[0.8, 0.05]}},
                    "adam"]}}"#,
        );
        let probes: Vec<String> = s
            .probes()
            .iter()
            .map(|p| {
                format!(
                    "{} = {} -> {}",
                    p.key,
                    p.value,
                    Value::Object(p.params.clone())
                )
            })
            .collect();
        assert_eq!(
            probes,
            vec![
                r#"lr = 0.001 -> {"lr":0.001}"#,
                r#"lr = 0.1 -> {"lr":0.1}"#,
                r#"batch_size = 16 -> {"batch_size":16}"#,
                r#"batch_size = 32 -> {"batch_size":32}"#,
                r#"optimizer = "sgd" -> {"optimizer":{"_name":"sgd"}}"#,
                r#"optimizer/sgd/momentum = 0.8 -> {"optimizer":{"_name":"sgd","momentum":0.8}}"#,
                r#"optimizer = "adam" -> {"optimizer":"adam"}"#,
            ]
        );
    }
}
