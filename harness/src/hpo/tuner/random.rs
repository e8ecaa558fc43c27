use crate::hpo::space::{Params, SearchSpace};
use crate::hpo::tuner::dedup::Dedup;
use crate::hpo::tuner::Tuner;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Independent draws from the search space, without repeats where repeats can happen (NNI's
/// RandomTuner with its `Deduplicator`): in a space with no continuous parameter a draw that
/// was proposed before is replaced by the next untried point of a grid search over the space,
/// and once the grid is exhausted the tuner is too.
pub struct RandomTuner {
    space: SearchSpace,
    rng: ChaCha8Rng,
    /// None where no draw can repeat (some top-level parameter is continuous): the draws are
    /// then proposed as they come, as before deduplication existed.
    dedup: Option<Dedup>,
}

impl RandomTuner {
    pub fn new(space: SearchSpace, seed: u64) -> Self {
        let dedup = Dedup::for_space(&space);
        RandomTuner {
            space,
            rng: ChaCha8Rng::seed_from_u64(seed),
            dedup,
        }
    }
}

impl Tuner for RandomTuner {
    fn propose(&mut self, _trial_id: usize) -> Option<Params> {
        let drawn = self.space.sample(&mut self.rng);
        match &mut self.dedup {
            Some(dedup) => dedup.pass(drawn, &self.space),
            None => Some(drawn),
        }
    }
    fn observe(&mut self, _trial_id: usize, _params: &Params, _metric: Option<f64>) {}
    fn name(&self) -> &'static str {
        "random"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpo::tuner::canonical;
    use crate::hpo::tuner::tests::{drive, space, MIXED};
    use serde_json::Value;
    use std::collections::HashSet;

    fn proposals(text: &str, seed: u64, n: usize) -> Vec<Value> {
        let mut t = RandomTuner::new(space(text), seed);
        drive(&mut t, n, &|_| Some(0.5))
            .into_iter()
            .map(Value::Object)
            .collect()
    }

    /// The draws before deduplication: what the tuner proposed until it removed repeats.
    fn draws(text: &str, seed: u64, n: usize) -> Vec<Value> {
        let s = space(text);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| Value::Object(s.sample(&mut rng))).collect()
    }

    #[test]
    fn a_repeat_is_replaced_by_an_untried_grid_point_until_none_is_left() {
        // The QA's case: 6 trials asked of a two-point space proposed [64, 64, 64, 32, 64, 64].
        let two = r#"{"batch_size": {"_type": "choice", "_value": [32, 64]}}"#;
        let drawn: Vec<Value> = draws(two, 0, 6)
            .iter()
            .map(|p| p["batch_size"].clone())
            .collect();
        assert_eq!(drawn, [64, 64, 64, 32, 64, 64]);
        let got: Vec<Value> = proposals(two, 0, 6)
            .iter()
            .map(|p| p["batch_size"].clone())
            .collect();
        // The second 64 becomes the grid's first untried point; then nothing is left.
        assert_eq!(got, [64, 32]);
        // Every point of a larger discrete space exactly once, nested options included.
        let space_text = r#"{"k": {"_type": "randint", "_value": [0, 3]},
            "q": {"_type": "quniform", "_value": [0, 1, 0.5]},
            "opt": {"_type": "choice", "_value": [
                {"_name": "sgd", "m": {"_type": "choice", "_value": [0.5, 0.9]}},
                {"_name": "adam"}]}}"#;
        let got = proposals(space_text, 3, 100);
        assert_eq!(got.len(), 3 * 3 * 3);
        let distinct: HashSet<String> = got.iter().map(Value::to_string).collect();
        assert_eq!(distinct.len(), got.len());
        // Proposals up to the first repeat are the draws themselves.
        let first = draws(space_text, 3, 100);
        let repeat = (1..first.len())
            .find(|&i| first[..i].contains(&first[i]))
            .unwrap();
        assert_eq!(got[..repeat], first[..repeat]);
        assert_eq!(got, proposals(space_text, 3, 100), "reproducible");
    }

    #[test]
    fn a_space_with_a_continuous_parameter_gets_the_same_proposals_as_before() {
        // The quick suite's space (loguniform learning rate): never deduplicated.
        let quick = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../suites/quick_search_space.json"),
        )
        .unwrap();
        for seed in [0, 1, 1000] {
            assert_eq!(
                proposals(&quick, seed, 40),
                draws(&quick, seed, 40),
                "seed {seed}"
            );
        }
        assert_eq!(proposals(MIXED, 5, 40), draws(MIXED, 5, 40));
    }

    /// Spaces where draws repeat although some parameter is continuous or unbounded — a
    /// continuous range inside a nested option, a qloguniform, a qnormal — get no repeats, as
    /// NNI's Deduplicator (its grid walks every type); the bounded q-type runs out.
    #[test]
    fn repeats_of_nested_and_q_types_are_replaced_as_nni_does() {
        let distinct = |got: &[Value]| {
            got.iter()
                .map(Value::to_string)
                .collect::<HashSet<_>>()
                .len()
        };
        // Draws repeat {"_name": "adam"}; each repeat becomes a grid point (sgd, m = 0.7, …).
        let nested = r#"{"opt": {"_type": "choice", "_value": [
            {"_name": "sgd", "m": {"_type": "uniform", "_value": [0.5, 0.9]}},
            {"_name": "adam"}]}}"#;
        assert!(
            draws(nested, 2, 20)
                .iter()
                .filter(|p| p["opt"]["_name"] == "adam")
                .count()
                > 1
        );
        let got = proposals(nested, 2, 20);
        assert_eq!(distinct(&got), 20, "{got:?}");
        assert_eq!(
            got.iter().filter(|p| p["opt"]["_name"] == "adam").count(),
            1
        );
        // qloguniform [1, 100, 7] has 15 values (1, 7, 14, …, 98): 15 proposals, then none.
        let q = r#"{"v": {"_type": "qloguniform", "_value": [1, 100, 7]}}"#;
        let got = proposals(q, 7, 40);
        assert_eq!((got.len(), distinct(&got)), (15, 15), "{got:?}");
        // qnormal [0.5, 1, 0.3]: unbounded, so never exhausted, and never repeated.
        let qn = r#"{"v": {"_type": "qnormal", "_value": [0.5, 1, 0.3]}}"#;
        let got = proposals(qn, 7, 40);
        assert_eq!((got.len(), distinct(&got)), (40, 40), "{got:?}");
    }

    #[test]
    fn configurations_are_compared_with_sorted_keys() {
        let a = serde_json::json!({"b": 1, "a": {"y": 2, "x": [1, {"d": 0, "c": 1}]}});
        let b = serde_json::json!({"a": {"x": [1, {"c": 1, "d": 0}], "y": 2}, "b": 1});
        assert_eq!(
            canonical(a.as_object().unwrap()),
            canonical(b.as_object().unwrap())
        );
    }
}
