//! The NNI exported-architecture parser (`archfile::import`). Only a panic is a failure; an
//! accepted file must also export and import back to the same genotype and op format (a file
//! mixing indices and names exports as names).
#![no_main]

use harness::nas::archfile::{export, import};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Lossy, not skipped: every invalid byte becomes a 3-byte U+FFFD, so multi-byte text (and
    // code slicing strings by byte) is reached without the fuzzer having to build valid UTF-8.
    let text = String::from_utf8_lossy(data);
    let Ok((genotype, written)) = import(&text, "epoch_0.json") else {
        return;
    };
    let format = written.format();
    let again = import(&export(&genotype, format), "exported.json")
        .expect("an exported architecture imports again");
    assert_eq!(again, (genotype, format.into()), "export/import round trip");
});
