//! GPUs through NVML. NVML is loaded at run time: without an NVIDIA driver the record says
//! "none" with the reason instead of failing.
use super::{format_bytes, Fact};
use nvml_wrapper::Nvml;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuRecord {
    pub count: Fact<u32>,
    pub driver_version: Fact<String>,
    pub cuda_driver_version: Fact<String>,
    pub devices: Vec<GpuDevice>,
    /// Why no GPU is listed (no NVML library, no device), when none is.
    pub none_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuDevice {
    pub index: u32,
    pub name: Fact<String>,
    pub memory_bytes: Fact<u64>,
    pub uuid: Fact<String>,
    pub compute_capability: Fact<String>,
}

impl GpuRecord {
    fn none(reason: String) -> GpuRecord {
        GpuRecord {
            count: Fact::known(0, "NVML"),
            driver_version: Fact::unknown(&reason),
            cuda_driver_version: Fact::unknown(&reason),
            devices: Vec::new(),
            none_reason: Some(reason),
        }
    }

    /// "NVIDIA H200 ×1" or "none (reason)" for tables.
    pub fn summary(&self) -> String {
        if self.devices.is_empty() {
            return match &self.none_reason {
                Some(r) => format!("none ({r})"),
                None => "none".to_string(),
            };
        }
        let mut names: Vec<(String, usize)> = Vec::new();
        for d in &self.devices {
            let name = d.name.display();
            match names.iter_mut().find(|(n, _)| *n == name) {
                Some((_, c)) => *c += 1,
                None => names.push((name, 1)),
            }
        }
        names
            .iter()
            .map(|(n, c)| format!("{n} ×{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn rows(&self) -> Vec<(String, String, String)> {
        let mut rows = vec![(
            "GPUs".to_string(),
            self.summary(),
            self.count.source.clone(),
        )];
        if self.devices.is_empty() {
            return rows;
        }
        rows.push((
            "GPU driver".into(),
            self.driver_version.display(),
            self.driver_version.source.clone(),
        ));
        rows.push((
            "CUDA driver version".into(),
            self.cuda_driver_version.display(),
            self.cuda_driver_version.source.clone(),
        ));
        for d in &self.devices {
            let mem = d.memory_bytes.value.map_or("n/a".into(), format_bytes);
            rows.push((
                format!("GPU {}", d.index),
                format!(
                    "{}, {mem}, compute {}, {}",
                    d.name.display(),
                    d.compute_capability.display(),
                    d.uuid.display()
                ),
                "NVML".into(),
            ));
        }
        rows
    }
}

pub fn capture() -> GpuRecord {
    let nvml = match Nvml::init() {
        Ok(n) => n,
        Err(nvml_wrapper::error::NvmlError::LibloadingError(_)) => {
            return GpuRecord::none(
                "no NVIDIA driver: the NVML library (libnvidia-ml.so.1) is not installed".into(),
            )
        }
        Err(e) => return GpuRecord::none(format!("NVML could not be initialised: {e}")),
    };
    let count = match nvml.device_count() {
        Ok(c) => c,
        Err(e) => return GpuRecord::none(format!("NVML device count failed: {e}")),
    };
    if count == 0 {
        return GpuRecord::none("NVML found no NVIDIA device".to_string());
    }
    let driver_version = Fact::from_result(nvml.sys_driver_version(), "NVML");
    let cuda_driver_version = Fact::from_result(
        nvml.sys_cuda_driver_version().map(|v| {
            format!(
                "{}.{}",
                nvml_wrapper::cuda_driver_version_major(v),
                nvml_wrapper::cuda_driver_version_minor(v)
            )
        }),
        "NVML",
    );
    let devices = (0..count)
        .map(|index| match nvml.device_by_index(index) {
            Ok(d) => GpuDevice {
                index,
                name: Fact::from_result(d.name(), "NVML"),
                memory_bytes: Fact::from_result(d.memory_info().map(|m| m.total), "NVML"),
                uuid: Fact::from_result(d.uuid(), "NVML"),
                compute_capability: Fact::from_result(
                    d.cuda_compute_capability()
                        .map(|c| format!("{}.{}", c.major, c.minor)),
                    "NVML",
                ),
            },
            Err(e) => GpuDevice {
                index,
                name: Fact::unknown(format!("NVML: {e}")),
                memory_bytes: Fact::unknown(format!("NVML: {e}")),
                uuid: Fact::unknown(format!("NVML: {e}")),
                compute_capability: Fact::unknown(format!("NVML: {e}")),
            },
        })
        .collect();
    GpuRecord {
        count: Fact::known(count, "NVML"),
        driver_version,
        cuda_driver_version,
        devices,
        none_reason: None,
    }
}
