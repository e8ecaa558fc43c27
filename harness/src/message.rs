//! One line for an error and its causes, as the command line prints it.

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
}
