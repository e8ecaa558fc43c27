//! Facts fixed when the binary was built: the git commit and whether the tree was dirty.
use super::Fact;

pub struct BuildFacts {
    pub commit: Fact<String>,
    pub dirty: Fact<bool>,
}

pub fn capture() -> BuildFacts {
    let commit = match env!("HARNESS_GIT_COMMIT") {
        "" => Fact::unknown("not built from a git checkout"),
        c => Fact::known(c.to_string(), "git rev-parse HEAD at build time"),
    };
    let dirty = match env!("HARNESS_GIT_DIRTY") {
        "true" => Fact::known(true, "git status at build time (tracked files)"),
        "false" => Fact::known(false, "git status at build time (tracked files)"),
        _ => Fact::unknown("not built from a git checkout"),
    };
    BuildFacts { commit, dirty }
}
