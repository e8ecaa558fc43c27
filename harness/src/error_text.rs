//! Error text as users see it: every place that shows an error (console, result file, trial
//! records) formats it through here. Each cause is said once, and libtorch's C++ stack trace
//! ("Exception raised from …" and two dozen "frame #N: …" lines), which means nothing to a user
//! and buries the line that does, is cut out.

/// `error` with its causes, each said once (see [`chain`]), without libtorch's stack traces.
pub fn shown(error: &anyhow::Error) -> String {
    without_torch_trace(&chain(&**error))
}

/// The error's message followed by each cause's that it does not already show, joined by
/// ": " like anyhow's `{:#}`. Many errors put their cause in their own message and also
/// return it as `source()` (thiserror does this for a field named `source`); `{:#}` then
/// says the cause twice ("… (os error 2): No such file or directory (os error 2)").
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let shown = e.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        cause = e.source();
    }
    text
}

/// The lines that start a libtorch stack trace, and the lines it is made of.
const TRACE_START: [&str; 2] = ["Exception raised from ", "frame #"];
const TRACE_LINE: &str = "frame #";

/// `text` with every libtorch stack trace cut out, the line break that ends it included, so
/// that the message around it reads as before. tch prints libtorch's message as is (line
/// breaks) in its errors and with Debug (the two characters `\n`) in its panics: both are
/// understood.
pub fn without_torch_trace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, sep)) = trace_start(rest) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // Drop the trace's lines: its first (an "Exception raised from" line or a frame), then
        // every frame after it.
        let mut first = true;
        while let Some(line) = rest.strip_prefix(sep) {
            let is_trace = if first {
                TRACE_START.iter().any(|s| line.starts_with(s))
            } else {
                line.starts_with(TRACE_LINE)
            };
            if !is_trace {
                break;
            }
            first = false;
            rest = &line[line.find(sep).unwrap_or(line.len())..];
        }
        // libtorch ends the trace with a line break of its own.
        rest = rest.strip_prefix(sep).unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

/// Where the first trace in `text` starts (at the line break before it), and which kind of
/// line break it uses.
fn trace_start(text: &str) -> Option<(usize, &'static str)> {
    ["\n", "\\n"]
        .iter()
        .flat_map(|&sep| {
            TRACE_START
                .iter()
                .filter_map(move |start| text.find(&format!("{sep}{start}")).map(|at| (at, sep)))
        })
        .min_by_key(|&(at, _)| at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: cannot read it: {source}")]
    struct Shows {
        path: String,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_is_said_once() {
        let os = || std::io::Error::from_raw_os_error(libc::ENOENT);
        let shows = Shows {
            path: "s.toml".into(),
            source: os(),
        };
        let once = format!("s.toml: cannot read it: {}", os());
        assert_eq!(chain(&shows), once);
        // Through anyhow's context too, and a cause that is not shown is kept.
        let e = anyhow::Error::from(shows).context("loading");
        assert_eq!(chain(&*e), format!("loading: {once}"));
        let e = anyhow::Error::from(os()).context("s.toml");
        assert_eq!(chain(&*e), format!("s.toml: {}", os()));
    }

    const TRACE: &str =
        "Exception raised from valid at ../caffe2/serialize/inline_container.cc:236 \
        (most recent call first):\nframe #0: c10::Error::Error(c10::SourceLocation, std::string) \
        + 0x96 (0x7f in libc10.so)\nframe #1: <unknown function> + 0x5d (0x7f in libc.so.6)\n";

    #[test]
    fn a_torch_trace_is_cut_out_and_the_text_around_it_kept() {
        let text = format!(
            "x.ckpt: not a readable checkpoint (Internal torch error: PytorchStreamReader failed \
             reading zip archive: failed finding central directory\n{TRACE}); delete it"
        );
        assert_eq!(
            without_torch_trace(&text),
            "x.ckpt: not a readable checkpoint (Internal torch error: PytorchStreamReader failed \
             reading zip archive: failed finding central directory); delete it"
        );
    }

    #[test]
    fn debug_formatted_traces_and_frames_alone_are_cut_too() {
        let debug = format!("Torch(\"bad shape\\n{}\")", TRACE.replace('\n', "\\n"));
        assert_eq!(without_torch_trace(&debug), "Torch(\"bad shape\")");
        let frames = "(a\nframe #0: f\nframe #1: g\n)";
        assert_eq!(without_torch_trace(frames), "(a)");
        let plain = "line one\nline two: frame #1 is fine inside a line";
        assert_eq!(without_torch_trace(plain), plain);
    }

    #[test]
    fn shown_keeps_the_causes() {
        let e = anyhow::anyhow!("torch says no\n{TRACE}").context("arm original");
        assert_eq!(shown(&e), "arm original: torch says no");
    }
}
