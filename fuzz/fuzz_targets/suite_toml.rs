//! The suite parser (`LoadedSuite::parse`): TOML, validation with file:line:key errors, and
//! the search space / architecture files a suite names. The suite is parsed as if it lived in
//! the repository's suites/ folder, so relative `search_space` names reach the real spaces.
//! Only a panic is a failure; every Ok and Err is fine.
#![no_main]

use harness::suite::LoadedSuite;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn suite_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("suites")
            .join("fuzz.toml")
    })
}

fuzz_target!(|data: &[u8]| {
    // Lossy, not skipped: every invalid byte becomes a 3-byte U+FFFD, so multi-byte text (and
    // code slicing strings by byte) is reached without the fuzzer having to build valid UTF-8.
    let text = String::from_utf8_lossy(data);
    let _ = LoadedSuite::parse(&text, suite_path());
});
