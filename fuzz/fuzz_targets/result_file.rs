//! The result-file parser (`results::parse_result`, what `read_result` runs on a file's text).
//! Only a panic is a failure.
#![no_main]

use harness::results::parse_result;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Lossy text (every invalid byte a 3-byte U+FFFD) reaches multi-byte text in the parser.
    let text = String::from_utf8_lossy(data);
    let _ = parse_result(&text, "fuzz.json");
});
