//! Commands the harness prints for the user to copy (how to resume a run): built in one place,
//! each word shell-quoted, so what is shown works when pasted.

/// `word` as one shell word (single-quoted unless it is plainly safe).
pub fn word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A path as one shell word that cannot be read as an option: `-rd/x.json` becomes
/// `./-rd/x.json`.
pub fn path_word(path: &str) -> String {
    if path.starts_with('-') {
        word(&format!("./{path}"))
    } else {
        word(path)
    }
}

/// `harness run SUITE [ARGS…] --resume RESULT`: `override_args` are the command-line arguments
/// that changed the suite (a resume without them is refused), one word each; `result` is
/// written as given, so a caller can pass a placeholder such as `RESULT`.
pub fn resume_command(suite: &str, override_args: &[String], result: &str) -> String {
    let mut words = vec!["harness".to_string(), "run".to_string(), path_word(suite)];
    words.extend(override_args.iter().map(|a| word(a)));
    words.push("--resume".into());
    words.push(result.to_string());
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(word("results/quick-vm-1.json"), "results/quick-vm-1.json");
        assert_eq!(word("my data"), "'my data'");
        assert_eq!(word("it's"), r"'it'\''s'");
        assert_eq!(word(""), "''");
        assert_eq!(path_word("-rd/r.json"), "./-rd/r.json");
        assert_eq!(path_word("-my dir/r.json"), "'./-my dir/r.json'");
    }

    #[test]
    fn the_resume_command_repeats_the_arguments() {
        let args: Vec<String> = ["--data-dir", "my data", "--epochs", "2"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            resume_command("suites/q.toml", &args, "RESULT"),
            "harness run suites/q.toml --data-dir 'my data' --epochs 2 --resume RESULT"
        );
    }
}
