//! Build script: embeds libtorch's library folder as an rpath (so binaries, `cargo test` and
//! `cargo nextest` run without LD_LIBRARY_PATH), and records build-time facts for the
//! environment record: the git commit (and whether the tree was dirty) and the version of the
//! libtorch the binary was linked against.
use std::path::Path;
use std::process::Command;

fn main() {
    // torch-sys sets DEP_TCH_LIBTORCH_LIB for its direct dependents (it declares `links = "tch"`).
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        let version_py = Path::new(&lib).join("..").join("version.py");
        println!("cargo:rerun-if-changed={}", version_py.display());
        let version = std::fs::read_to_string(&version_py)
            .ok()
            .and_then(|text| python_assignment(&text, "__version__"))
            .unwrap_or_default();
        println!("cargo:rustc-env=HARNESS_LIBTORCH_BUILD_VERSION={version}");
        println!("cargo:rustc-env=HARNESS_LIBTORCH_BUILD_LIB={lib}");
    } else {
        println!("cargo:rustc-env=HARNESS_LIBTORCH_BUILD_VERSION=");
        println!("cargo:rustc-env=HARNESS_LIBTORCH_BUILD_LIB=");
    }
    #[cfg(feature = "cuda")]
    {
        // With --as-needed the linker drops libtorch_cuda.so and CUDA silently stays off
        // (tch-rs #980): force libtorch.so (which needs libtorch_cuda.so) to stay NEEDED.
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch");
    }

    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_default();
    let dirty = match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(s) if s.is_empty() => "false",
        Some(_) => "true",
        None => "",
    };
    println!("cargo:rustc-env=HARNESS_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=HARNESS_GIT_DIRTY={dirty}");
    for path in ["../.git/HEAD", "../.git/index", "../.git/refs/heads"] {
        if Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// Reads `name = 'value'` from a Python file such as torch/version.py.
fn python_assignment(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.trim_start();
        let rest = rest
            .strip_prefix(':')
            .map_or(rest, |r| r.split_once('=').map_or(r, |x| x.1));
        let value = rest.trim_start().strip_prefix('=').unwrap_or(rest).trim();
        let value = value.trim_matches(|c| c == '\'' || c == '"');
        (!value.is_empty() && value != "None").then(|| value.to_string())
    })
}
