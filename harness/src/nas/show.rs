//! `harness arch show`: a validated architecture file as text, with the parameter count of the
//! network it defines.

use crate::nas::archfile::{self, OpsWritten};
use crate::nas::genotype::Genotype;
use crate::nas::network::DartsNetwork;
use crate::nas::render::cell_text;
use tch::{nn, Device};

/// Trainable parameters of the discrete network of `genotype` (auxiliary head excluded, the
/// DARTS convention). Builds the network on the CPU.
pub fn param_count(
    genotype: &Genotype,
    input_channels: i64,
    channels: i64,
    layers: usize,
    num_classes: i64,
) -> i64 {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = DartsNetwork::new(
        &vs.root(),
        genotype,
        input_channels,
        channels,
        layers,
        num_classes,
        false,
    );
    net.param_count_excluding_aux()
}

/// Network size for [`show`].
#[derive(Debug, Clone, Copy)]
pub struct ShowSize {
    pub layers: usize,
    pub channels: i64,
    pub classes: i64,
    pub input_channels: i64,
}

/// Imports `text` (from `source`) and renders both cells and the parameter count.
pub fn show(text: &str, source: &str, size: ShowSize) -> Result<String, archfile::ArchFileError> {
    let (g, written) = archfile::import(text, source)?;
    let params = param_count(
        &g,
        size.input_channels,
        size.channels,
        size.layers,
        size.classes,
    );
    let fmt = match written {
        OpsWritten::Index => "op indices",
        OpsWritten::Name => "op names",
        // NNI's loader takes either per key; say so rather than call the file one or the other.
        OpsWritten::Mixed => "op indices and names mixed",
    };
    Ok(format!(
        "{source}: valid DARTS architecture ({fmt})\n\n{}\n{}\nparameters: {params} ({:.2}M; {} cells, C={}, {} classes, {} input channels, auxiliary head excluded)\n",
        cell_text(&g.normal, "normal"),
        cell_text(&g.reduce, "reduce"),
        params as f64 / 1e6,
        size.layers,
        size.channels,
        size.classes,
        size.input_channels,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn darts_v2_file_at_l20_c36_has_3_35m_params() {
        let text = archfile::export(&Genotype::darts_v2(), archfile::OpFormat::Name);
        let size = ShowSize {
            layers: 20,
            channels: 36,
            classes: 10,
            input_channels: 3,
        };
        let out = show(&text, "v2.json", size).unwrap();
        assert!(out.contains("parameters: 3351502 "), "{out}");
        assert!(out.contains("normal cell") && out.contains("reduce cell"));
    }
}
