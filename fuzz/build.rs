//! Embeds libtorch's library folder as an rpath so the fuzz binaries start without
//! LD_LIBRARY_PATH (the harness library links libtorch even though no target calls it).
fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
