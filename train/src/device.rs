//! Which device a run uses: CUDA when available unless told otherwise.

use tch::{Cuda, Device};

/// The torch this binary was built against (read from the PyPI package at build time).
pub const TORCH_VERSION: &str = env!("KTRDR_TORCH_VERSION");

/// `None` or `auto`: CUDA if available, else CPU. `cpu`, `cuda` or `cuda:N` as asked, and an error
/// when CUDA is asked for but absent.
pub fn resolve(requested: Option<&str>) -> Result<Device, String> {
    match requested
        .map(str::trim)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("") | Some("auto") => Ok(Device::cuda_if_available()),
        Some("cpu") => Ok(Device::Cpu),
        Some(s) if s == "cuda" || s.starts_with("cuda:") => {
            let index = match s.strip_prefix("cuda:") {
                Some(n) => n
                    .parse::<usize>()
                    .map_err(|_| format!("device {s:?}: expected cuda:N"))?,
                None => 0,
            };
            let count = Cuda::device_count().max(0) as usize;
            if index < count {
                Ok(Device::Cuda(index))
            } else if count == 0 {
                Err("CUDA is not available in this ktrdrd (no GPU, or a build without the CUDA link arguments: see docs/training.md)".into())
            } else {
                Err(format!("device {s:?}: only {count} CUDA device(s)"))
            }
        }
        Some(other) => Err(format!(
            "device {other:?}: expected auto, cpu, cuda or cuda:N"
        )),
    }
}

pub fn name(d: Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".into(),
        Device::Vulkan => "vulkan".into(),
    }
}

/// What `health` reports: the default device and how many CUDA devices there are.
pub fn summary() -> String {
    let n = Cuda::device_count();
    if n > 0 {
        format!("cuda ({n} device(s)), torch {TORCH_VERSION}")
    } else {
        format!("cpu (no CUDA), torch {TORCH_VERSION}")
    }
}

/// Intra-op threads torch uses for work started on the calling thread. OpenMP keeps this per
/// thread, so every thread that trains or scores sets it before its first tensor operation.
pub fn set_threads(n: usize) {
    tch::set_num_threads(n.clamp(1, i32::MAX as usize) as i32);
}
