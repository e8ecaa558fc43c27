//! `harness arch show`: a validated architecture file as text, with the parameter count of the
//! network it defines.

use crate::nas::archfile::{self, OpsWritten};
use crate::nas::network::DartsNetwork;
use crate::nas::render::cell_text;

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
    // Counted from the genotype and sizes: building the network only to count it took 7.5 GB
    // at 1024 channels.
    let params = DartsNetwork::param_count(
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
        "{source}: valid DARTS architecture ({fmt})\n\n{}\n{}\nparameters: {params} ({:.2}M; {} cells, C={}, {}, {}, auxiliary head excluded)\n",
        cell_text(&g.normal, "normal"),
        cell_text(&g.reduce, "reduce"),
        params as f64 / 1e6,
        size.layers,
        size.channels,
        count(size.classes, "class", "classes"),
        count(size.input_channels, "input channel", "input channels"),
    ))
}

/// "1 class", "10 classes".
fn count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nas::genotype::Genotype;

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

    /// The count shown is the count of the network built, for any genotype and size.
    #[test]
    fn counted_parameters_equal_the_built_networks() {
        use rand::SeedableRng;
        use tch::{nn, Device};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut genotypes = vec![Genotype::darts_v2()];
        genotypes.extend((0..6).map(|_| Genotype::random(&mut rng)));
        let sizes = [(3, 4, 3, 10), (1, 5, 5, 2), (3, 3, 7, 17), (2, 8, 4, 1000)];
        for g in &genotypes {
            for (input_channels, channels, layers, classes) in sizes {
                let vs = nn::VarStore::new(Device::Cpu);
                let net = DartsNetwork::new(
                    &vs.root(),
                    g,
                    input_channels,
                    channels,
                    layers,
                    classes,
                    false,
                );
                assert_eq!(
                    DartsNetwork::param_count(g, input_channels, channels, layers, classes),
                    net.param_count_excluding_aux(),
                    "{g:?} at input {input_channels}, C={channels}, L={layers}, {classes} classes"
                );
            }
        }
    }
}
