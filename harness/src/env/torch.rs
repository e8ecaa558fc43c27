//! libtorch facts: versions, CUDA/cuDNN, threads, and the determinism switches.
use super::Fact;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The tch crate version; Cargo.toml pins it exactly (`tch = "=0.24.0"`).
pub const TCH_VERSION: &str = "0.24.0";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TorchRecord {
    pub libtorch_version: Fact<String>,
    pub libtorch_path: Fact<String>,
    pub tch_version: String,
    /// CUDA version libtorch was built with (torch/version.py); the CUDA libraries may still be absent.
    pub cuda_built: Fact<String>,
    pub cuda_available: Fact<bool>,
    pub cuda_device_count: Fact<i64>,
    pub cudnn_available: Fact<bool>,
    pub cudnn_version: Fact<String>,
    pub mps_available: Fact<bool>,
    pub intra_op_threads: Fact<i32>,
    pub inter_op_threads: Fact<i32>,
    pub mkl: Fact<bool>,
    pub onednn: Fact<bool>,
    pub openmp: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeterminismRecord {
    pub deterministic_algorithms: Fact<bool>,
    pub deterministic_cudnn: Fact<bool>,
    /// The harness never enables cuDNN autotuning: it picks kernels by timing, run to run.
    pub cudnn_benchmark: Fact<bool>,
}

impl TorchRecord {
    pub fn rows(&self) -> Vec<(String, String, String)> {
        fn row<T: std::fmt::Display>(name: &str, f: &Fact<T>) -> (String, String, String) {
            (name.to_string(), f.display(), f.source.clone())
        }
        vec![
            row("libtorch version", &self.libtorch_version),
            row("libtorch path", &self.libtorch_path),
            (
                "tch version".into(),
                self.tch_version.clone(),
                "Cargo.toml pin".into(),
            ),
            row("CUDA (libtorch built with)", &self.cuda_built),
            row("CUDA usable", &self.cuda_available),
            row("CUDA devices (libtorch)", &self.cuda_device_count),
            row("cuDNN usable", &self.cudnn_available),
            row("cuDNN version", &self.cudnn_version),
            row("MPS usable", &self.mps_available),
            row("intra-op threads", &self.intra_op_threads),
            row("inter-op threads", &self.inter_op_threads),
            row("MKL", &self.mkl),
            row("oneDNN (MKL-DNN)", &self.onednn),
            row("OpenMP", &self.openmp),
        ]
    }
}

impl DeterminismRecord {
    pub fn rows(&self) -> Vec<(String, String, String)> {
        vec![
            (
                "deterministic algorithms".into(),
                self.deterministic_algorithms.display(),
                self.deterministic_algorithms.source.clone(),
            ),
            (
                "cuDNN deterministic".into(),
                self.deterministic_cudnn.display(),
                self.deterministic_cudnn.source.clone(),
            ),
            (
                "cuDNN benchmark".into(),
                self.cudnn_benchmark.display(),
                self.cudnn_benchmark.source.clone(),
            ),
        ]
    }
}

pub fn capture() -> TorchRecord {
    let lib_dir = loaded_libtorch_dir();
    let version_py = lib_dir.as_ref().map(|d| d.join("..").join("version.py"));
    let version_text = version_py
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok());
    let libtorch_version = match (&version_text, env!("HARNESS_LIBTORCH_BUILD_VERSION")) {
        (Some(text), _) if python_assignment(text, "__version__").is_some() => Fact::known(
            python_assignment(text, "__version__").unwrap_or_default(),
            "torch/version.py beside the loaded libtorch",
        ),
        (_, "") => Fact::unknown("no torch/version.py beside the loaded libtorch"),
        (_, v) => Fact::known(v.to_string(), "torch/version.py at build time"),
    };
    let cuda_built = match &version_text {
        Some(text) => match python_assignment(text, "cuda") {
            Some(v) => Fact::known(v, "torch/version.py (`cuda`)"),
            None => Fact::unknown("libtorch was built without CUDA"),
        },
        None => Fact::unknown("no torch/version.py beside the loaded libtorch"),
    };
    let cuda_available = tch::Cuda::is_available();
    let cudnn_version = if cuda_available && tch::Cuda::cudnn_is_available() {
        let v = tch::utils::version_cudnn();
        Fact::known(
            format!("{}.{}.{}", v / 10000, (v / 100) % 100, v % 100),
            "at::Context::versionCuDNN",
        )
    } else {
        Fact::unknown("cuDNN is not usable in this process (no CUDA)")
    };
    let cuda_source = if cfg!(feature = "cuda") {
        "tch::Cuda::is_available (CUDA build)"
    } else {
        "tch::Cuda::is_available (CPU build: libtorch_cuda not linked)"
    };
    TorchRecord {
        libtorch_version,
        libtorch_path: match &lib_dir {
            Some(d) => Fact::known(d.display().to_string(), "/proc/self/maps"),
            None => Fact::unknown("libtorch_cpu not found in /proc/self/maps"),
        },
        tch_version: TCH_VERSION.to_string(),
        cuda_built,
        cuda_available: Fact::known(cuda_available, cuda_source),
        cuda_device_count: Fact::known(tch::Cuda::device_count(), "tch::Cuda::device_count"),
        cudnn_available: Fact::known(
            tch::Cuda::cudnn_is_available(),
            "tch::Cuda::cudnn_is_available",
        ),
        cudnn_version,
        mps_available: Fact::known(tch::utils::has_mps(), "at::Context::hasMPS"),
        intra_op_threads: Fact::known(tch::get_num_threads(), "at::get_num_threads"),
        inter_op_threads: Fact::known(
            tch::get_num_interop_threads(),
            "at::get_num_interop_threads",
        ),
        mkl: Fact::known(tch::utils::has_mkl(), "at::Context::hasMKL"),
        onednn: Fact::known(tch::utils::has_mkldnn(), "at::Context::hasMKLDNN"),
        openmp: Fact::known(tch::utils::has_openmp(), "at::Context::hasOpenMP"),
    }
}

pub fn capture_determinism() -> DeterminismRecord {
    let ctx = context::Context::global();
    DeterminismRecord {
        deterministic_algorithms: Fact::known(
            ctx.deterministic_algorithms(),
            "at::Context::deterministicAlgorithms",
        ),
        deterministic_cudnn: Fact::known(
            ctx.deterministic_cudnn(),
            "at::Context::deterministicCuDNN",
        ),
        cudnn_benchmark: Fact::known(false, "set by the harness (never enabled)"),
    }
}

/// Turns on libtorch's deterministic algorithms and deterministic cuDNN, and turns off cuDNN
/// autotuning, so that a seeded run repeats exactly where the hardware allows it.
pub fn enable_determinism() {
    let ctx = context::Context::global();
    ctx.set_deterministic_algorithms(true);
    ctx.set_deterministic_cudnn(true);
    tch::Cuda::cudnn_set_benchmark(false);
}

/// The folder of the libtorch_cpu library this process has loaded.
fn loaded_libtorch_dir() -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| {
            Path::new(p)
                .file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with("libtorch_cpu"))
        })
        .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
        .or_else(|| {
            let built = env!("HARNESS_LIBTORCH_BUILD_LIB");
            (!built.is_empty()).then(|| PathBuf::from(built))
        })
}

/// Reads `name = 'value'` (or `name: T = 'value'`) from torch/version.py.
fn python_assignment(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        if !(rest.starts_with(' ') || rest.starts_with('=') || rest.starts_with(':')) {
            return None;
        }
        let value = rest.split_once('=')?.1.trim();
        let value = value.trim_matches(|c| c == '\'' || c == '"');
        (!value.is_empty() && value != "None").then(|| value.to_string())
    })
}

/// The libtorch global context, which tch does not wrap for the determinism switches.
mod context {
    use std::ffi::c_void;

    // These are C++ member functions of at::Context exported by libtorch_cpu (already linked
    // through torch-sys). On the Itanium C++ ABI a non-virtual member function takes `this` as
    // its first argument, so they can be declared as plain functions here.
    extern "C" {
        #[link_name = "_ZN2at13globalContextEv"]
        fn at_global_context() -> *mut c_void;
        #[link_name = "_ZNK2at7Context23deterministicAlgorithmsEv"]
        fn at_deterministic_algorithms(ctx: *mut c_void) -> bool;
        #[link_name = "_ZN2at7Context26setDeterministicAlgorithmsEbb"]
        fn at_set_deterministic_algorithms(ctx: *mut c_void, on: bool, warn_only: bool);
        #[link_name = "_ZNK2at7Context18deterministicCuDNNEv"]
        fn at_deterministic_cudnn(ctx: *mut c_void) -> bool;
        #[link_name = "_ZN2at7Context21setDeterministicCuDNNEb"]
        fn at_set_deterministic_cudnn(ctx: *mut c_void, on: bool);
    }

    pub struct Context(*mut c_void);

    impl Context {
        pub fn global() -> Context {
            // SAFETY: at::globalContext() returns a pointer to a process-wide static.
            Context(unsafe { at_global_context() })
        }
        pub fn deterministic_algorithms(&self) -> bool {
            // SAFETY: self.0 is the live global context.
            unsafe { at_deterministic_algorithms(self.0) }
        }
        pub fn set_deterministic_algorithms(&self, on: bool) {
            // SAFETY: as above; warn_only = false makes non-deterministic ops raise.
            unsafe { at_set_deterministic_algorithms(self.0, on, false) }
        }
        pub fn deterministic_cudnn(&self) -> bool {
            // SAFETY: as above.
            unsafe { at_deterministic_cudnn(self.0) }
        }
        pub fn set_deterministic_cudnn(&self, on: bool) {
            // SAFETY: as above.
            unsafe { at_set_deterministic_cudnn(self.0, on) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_version_py_assignments() {
        let text = "__version__ = '2.11.0+cpu'\ncuda: Optional[str] = None\ncudnn = '9'\n";
        assert_eq!(
            python_assignment(text, "__version__").as_deref(),
            Some("2.11.0+cpu")
        );
        assert_eq!(python_assignment(text, "cuda"), None);
        assert_eq!(python_assignment(text, "cudnn").as_deref(), Some("9"));
    }

    #[test]
    fn determinism_switches_round_trip() {
        enable_determinism();
        let d = capture_determinism();
        assert_eq!(d.deterministic_algorithms.value, Some(true));
        assert_eq!(d.deterministic_cudnn.value, Some(true));
    }
}
