//! The NNI search-space parser (`SearchSpace::from_json_str`). A space it accepts must also
//! survive what a suite does with it right after loading: the check against the recipe's
//! parameters and drawing parameter sets. Only a panic is a failure.
#![no_main]

use harness::hpo::space::SearchSpace;
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;

fuzz_target!(|data: &[u8]| {
    // Lossy, not skipped: every invalid byte becomes a 3-byte U+FFFD, so multi-byte text (and
    // code slicing strings by byte) is reached without the fuzzer having to build valid UTF-8.
    let text = String::from_utf8_lossy(data);
    let Ok(space) = SearchSpace::from_json_str(&text, "search_space.json") else {
        return;
    };
    let _ = space.check_params(&harness::suite::tuned::recipe_param_specs());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    for _ in 0..4 {
        let _ = space.sample(&mut rng);
    }
});
