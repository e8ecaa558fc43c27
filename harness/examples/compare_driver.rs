//! Drives a harness tuner or assessor from a JSON spec, for comparing it with the reference
//! implementation it follows (NNI, hyperopt, Optuna): `scripts/compare-reference/` feeds both
//! the same spec. Usage: `cargo run --release --example compare_driver -- SPEC.json`.
//!
//! A tuner spec `{"tuner", "options", "space", "maximize", "history": [{"parameter", "value"}],
//! "n", "seed"}` prints `n` proposals as JSON lines, all made after observing `history` (the
//! model-based tuners do not change state when proposing, so each is a draw from the same
//! proposal distribution). An assessor spec `{"assessor", "options", "maximize", "curves"}`
//! runs one trial per curve in turn, asking the assessor after every epoch but the last (null
//! in a curve is NaN), and prints the list of epochs each trial ran.
use harness::hpo::{build_assessor, build_tuner, Decision, Direction, Params, SearchSpace};
use serde_json::Value;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: compare_driver SPEC.json");
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let direction = if spec["maximize"].as_bool().unwrap_or(true) {
        Direction::Maximize
    } else {
        Direction::Minimize
    };
    if let Some(name) = spec["assessor"].as_str() {
        run_assessor(name, &spec, direction);
    } else {
        propose(&spec, direction);
    }
}

fn propose(spec: &Value, direction: Direction) {
    let space = SearchSpace::from_json_str(&spec["space"].to_string(), "space.json").unwrap();
    let name = spec["tuner"]
        .as_str()
        .expect("a \"tuner\" or an \"assessor\"");
    let seed = spec["seed"].as_u64().unwrap_or(0);
    let mut tuner = build_tuner(name, &space, direction, seed, &spec["options"]).unwrap();
    let history = spec["history"].as_array().cloned().unwrap_or_default();
    for (id, h) in history.iter().enumerate() {
        let params: Params = h["parameter"].as_object().unwrap().clone();
        tuner.observe(id, &params, h["value"].as_f64());
    }
    for k in 0..spec["n"].as_u64().unwrap() as usize {
        match tuner.propose(history.len() + k) {
            Some(p) => println!("{}", Value::Object(p)),
            None => break,
        }
    }
}

fn run_assessor(name: &str, spec: &Value, direction: Direction) {
    let curves: Vec<Vec<Option<f64>>> = serde_json::from_value(spec["curves"].clone()).unwrap();
    let curves: Vec<Vec<f64>> = curves
        .into_iter()
        .map(|c| c.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        .collect();
    let epochs = curves[0].len();
    let mut assessor = build_assessor(name, direction, epochs, &spec["options"]).unwrap();
    let mut ran = Vec::new();
    for (id, curve) in curves.iter().enumerate() {
        let mut e = 1;
        while e < epochs && assessor.assess(id, &curve[..e]) == Decision::Continue {
            e += 1;
        }
        assessor.trial_end(id, &curve[..e], e == epochs);
        ran.push(e);
    }
    println!("{}", serde_json::to_string(&ran).unwrap());
}
