//! Called from the build script of every crate whose binaries link libtorch (through `tch`).
//!
//! torch-sys (`links = "tch"`) hands its direct dependents `DEP_TCH_LIBTORCH_LIB`, the directory of
//! the libtorch it linked. Link arguments of a dependency do not reach the final binary, so each crate
//! that builds a binary or test linking libtorch must depend on `torch-sys` itself and call [`emit`]:
//! the rpath lets the binary find libtorch without `LD_LIBRARY_PATH`.

use std::path::Path;

/// Prints the rpath, the CUDA link arguments when wanted, and the torch version for
/// `env!("KTRDR_TORCH_VERSION")`.
pub fn emit() {
    println!("cargo:rerun-if-env-changed=KTRDR_TORCH_CUDA");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").ok();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if let Some(lib) = &lib
        && (os == "linux" || os == "macos")
    {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    // Without these the linker drops libtorch_cuda (nothing references it by symbol) and CUDA
    // silently stays unavailable. They also make every start-up load the CUDA libraries, which a
    // machine without a GPU pays for nothing; hence only on request or when a driver is present.
    if os == "linux" && wants_cuda() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch");
    }
    let version = lib
        .as_deref()
        .and_then(|l| torch_version(Path::new(l)))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KTRDR_TORCH_VERSION={version}");
}

fn wants_cuda() -> bool {
    match std::env::var("KTRDR_TORCH_CUDA").ok().as_deref() {
        Some("1") | Some("true") | Some("yes") => true,
        Some("0") | Some("false") | Some("no") => false,
        _ => Path::new("/proc/driver/nvidia/version").exists(),
    }
}

/// A PyPI torch keeps libtorch in `torch/lib` and its version in `torch/version.py`.
fn torch_version(lib: &Path) -> Option<String> {
    let text = std::fs::read_to_string(lib.parent()?.join("version.py")).ok()?;
    text.lines().find_map(|l| {
        let v = l.strip_prefix("__version__")?.split('=').nth(1)?.trim();
        Some(v.trim_matches(|c| c == '\'' || c == '"').to_string())
    })
}
