use crate::hpo::space::{Params, SearchSpace};
use crate::hpo::tuner::Tuner;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Independent draws from the search space.
pub struct RandomTuner {
    space: SearchSpace,
    rng: ChaCha8Rng,
}

impl RandomTuner {
    pub fn new(space: SearchSpace, seed: u64) -> Self {
        RandomTuner {
            space,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl Tuner for RandomTuner {
    fn propose(&mut self, _trial_id: usize) -> Option<Params> {
        Some(self.space.sample(&mut self.rng))
    }
    fn observe(&mut self, _trial_id: usize, _params: &Params, _metric: Option<f64>) {}
    fn name(&self) -> &'static str {
        "random"
    }
}
