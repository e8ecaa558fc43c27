//! Panics as errors. libtorch's Rust bindings panic where they cannot return an error (a
//! model too large for memory fails inside `VarStore`, which unwraps), so the harness catches
//! panics where a failure must stay tidy — a trial, an arm, a command — and reports them as
//! one error line instead of a backtrace.
use std::sync::Mutex;

/// Where the last panic happened ("file:line"), noted by [`install_hook`] for the message.
static LAST_LOCATION: Mutex<Option<String>> = Mutex::new(None);

/// Replaces the default hook (which prints "thread panicked at …" and, with `RUST_BACKTRACE`,
/// a backtrace) with one that only notes the location: every panic is caught and reported, with
/// that location, by [`message`]'s callers.
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        if let Some(l) = info.location() {
            *LAST_LOCATION.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(format!("{}:{}", l.file(), l.line()));
        }
    }));
}

/// The text of a panic's payload, with where it happened when known, without libtorch's C++
/// stack trace.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".into()
    };
    let at = LAST_LOCATION
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(tried) = allocation_failure(&text) {
        return format!(
            "libtorch could not allocate memory ({tried}): the model or batch is too large \
             for this machine"
        );
    }
    let text = crate::error_text::without_torch_trace(&text);
    match at {
        Some(at) => format!("{text} (at {at})"),
        None => text,
    }
}

/// "you tried to allocate N bytes" from libtorch's out-of-memory message.
fn allocation_failure(text: &str) -> Option<&str> {
    if !text.contains("can't allocate memory") && !text.contains("out of memory") {
        return None;
    }
    let start = text.find("you tried to allocate")?;
    let rest = &text[start..];
    Some(&rest[..rest.find('.').unwrap_or(rest.len())])
}

/// Runs `f`, turning a panic into an error ("panicked: …").
pub fn guarded<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(anyhow::anyhow!("panicked: {}", message(p.as_ref()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_text() {
        let e = guarded::<()>(|| panic!("can't allocate memory")).unwrap_err();
        assert!(
            e.to_string().starts_with("panicked: can't allocate memory"),
            "{e}"
        );
        assert_eq!(guarded(|| Ok(3)).unwrap(), 3);
    }

    #[test]
    fn libtorch_messages_lose_their_stack_frames() {
        let oom = r#"called `Result::unwrap()` on an `Err` value: Torch("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate 204800000000 bytes. Error code 12 (Cannot allocate memory)\nframe #0: c10::ThrowEnforceNotMet")"#;
        let e = guarded::<()>(|| std::panic::panic_any(oom.to_string())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "panicked: libtorch could not allocate memory (you tried to allocate 204800000000 \
             bytes): the model or batch is too large for this machine"
        );
        let other = r#"Torch("shape '[2, 3]' is invalid\nframe #0: at::native")"#;
        let e = guarded::<()>(|| std::panic::panic_any(other.to_string())).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(r#"panicked: Torch("shape '[2, 3]' is invalid"#)
                && !e.to_string().contains("frame #"),
            "{e}"
        );
    }
}
