//! The discrete DARTS network built from a [`Genotype`] (quark0/darts `cnn/model.py`
//! `NetworkCIFAR`, NNI `examples/nas/darts/model.py` with fixed choices).
//!
//! All BN layers are affine here (the retrain network), as in quark0's `model.py`; the pool
//! ops keep their BN as the lab reference (NNI's `PoolBN`) specifies, which adds 2·C
//! parameters per pool edge compared with quark0: DARTS_V2 at L=20, C=36 has 3,351,502
//! parameters excluding the auxiliary head = quark0's 3,349,342 + 2,160.

use crate::nas::cells::DiscreteCell;
use crate::nas::genotype::{Cell, Edge, Genotype};
use crate::nas::ops::{numel, Params};
use tch::nn::{self, ModuleT};
use tch::Tensor;

/// DARTS auxiliary head (AuxiliaryHeadCIFAR): ReLU, avg-pool, 1×1 conv to 128, BN, ReLU,
/// 2×2 conv to 768, BN, ReLU, linear.
///
/// On an 8×8 map (32×32 inputs) the pool is DARTS' 5×5 stride-3 average pool
/// (count_include_pad=false) giving 2×2. On any other map size (e.g. 2×2 maps from 8×8
/// digit images, or larger inputs) an adaptive average pool to 2×2 is used instead, so the
/// 2×2 conv always yields 1×1 and the linear layer sees 768 features.
#[derive(Debug)]
pub struct AuxHead {
    pub conv1: nn::Conv2D,
    pub bn1: nn::BatchNorm,
    pub conv2: nn::Conv2D,
    pub bn2: nn::BatchNorm,
    pub linear: nn::Linear,
}

impl AuxHead {
    pub fn new(p: nn::Path, c: i64, num_classes: i64) -> Self {
        let nobias = nn::ConvConfig {
            bias: false,
            ..Default::default()
        };
        AuxHead {
            conv1: nn::conv2d(&p / "conv1", c, 128, 1, nobias),
            bn1: nn::batch_norm2d(&p / "bn1", 128, Default::default()),
            conv2: nn::conv2d(&p / "conv2", 128, 768, 2, nobias),
            bn2: nn::batch_norm2d(&p / "bn2", 768, Default::default()),
            linear: nn::linear(&p / "linear", 768, num_classes, Default::default()),
        }
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let x = x.relu();
        let (h, w) = (x.size()[2], x.size()[3]);
        let x = if h == 8 && w == 8 {
            x.avg_pool2d([5, 5], [3, 3], [0, 0], false, false, None)
        } else {
            x.adaptive_avg_pool2d([2, 2])
        };
        let x = self.bn1.forward_t(&x.apply(&self.conv1), train).relu();
        let x = self.bn2.forward_t(&x.apply(&self.conv2), train).relu();
        x.flatten(1, -1).apply(&self.linear)
    }
}

impl Params for AuxHead {
    fn params(&self, out: &mut Vec<Tensor>) {
        self.conv1.params(out);
        self.bn1.params(out);
        self.conv2.params(out);
        self.bn2.params(out);
        self.linear.params(out);
    }
}

/// Indices of the reduction cells for `layers` cells: ⌊L/3⌋ and ⌊2L/3⌋.
pub fn reduction_layers(layers: usize) -> [usize; 2] {
    [layers / 3, 2 * layers / 3]
}

/// The DARTS stem: 3×3 convolution from the input channels to 3·C, then BN.
pub fn stem(p: &nn::Path, input_channels: i64, channels: i64) -> (nn::Conv2D, nn::BatchNorm) {
    let c_stem = 3 * channels;
    let conv = nn::conv2d(
        p / "stem_conv",
        input_channels,
        c_stem,
        3,
        nn::ConvConfig {
            padding: 1,
            bias: false,
            ..Default::default()
        },
    );
    let bn = nn::batch_norm2d(p / "stem_bn", c_stem, Default::default());
    (conv, bn)
}

/// One cell's place in the stack: the channels of its two inputs (cells k−2 and k−1), its
/// own channel count C (its output has 4·C), and whether it and its predecessor reduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellSlot {
    pub c_pp: i64,
    pub c_p: i64,
    pub c: i64,
    pub reduction: bool,
    pub reduction_prev: bool,
}

/// The cells of a `layers`-cell network on `channels` initial channels (after the 3·C stem;
/// reduction cells double C), and the last cell's output channels (the classifier's input).
pub fn cell_slots(channels: i64, layers: usize) -> (Vec<CellSlot>, i64) {
    let reds = reduction_layers(layers);
    let (mut c_pp, mut c_p, mut c) = (3 * channels, 3 * channels, channels);
    let mut reduction_prev = false;
    let mut slots = Vec::with_capacity(layers);
    for i in 0..layers {
        let reduction = reds.contains(&i);
        if reduction {
            c *= 2;
        }
        slots.push(CellSlot {
            c_pp,
            c_p,
            c,
            reduction,
            reduction_prev,
        });
        reduction_prev = reduction;
        c_pp = c_p;
        c_p = 4 * c;
    }
    (slots, c_p)
}

/// The discrete network.
#[derive(Debug)]
pub struct DartsNetwork {
    pub stem_conv: nn::Conv2D,
    pub stem_bn: nn::BatchNorm,
    pub cells: Vec<DiscreteCell>,
    /// Index of the cell after which the auxiliary head reads (⌊2L/3⌋).
    pub aux_pos: usize,
    pub aux: Option<AuxHead>,
    pub classifier: nn::Linear,
}

impl DartsNetwork {
    /// Builds the network under `p` (variables on `p`'s device and kind). `channels` is C of
    /// the first cells; the stem outputs 3·C; reduction cells double C.
    pub fn new(
        p: &nn::Path,
        genotype: &Genotype,
        input_channels: i64,
        channels: i64,
        layers: usize,
        num_classes: i64,
        auxiliary: bool,
    ) -> Self {
        assert!(layers >= 1, "need at least one cell");
        let (stem_conv, stem_bn) = stem(p, input_channels, channels);
        let (slots, c_out) = cell_slots(channels, layers);
        let aux_pos = reduction_layers(layers)[1];
        let mut cells = Vec::with_capacity(layers);
        let mut aux = None;
        for (i, slot) in slots.iter().enumerate() {
            let cell_desc: &Cell = if slot.reduction {
                &genotype.reduce
            } else {
                &genotype.normal
            };
            cells.push(DiscreteCell::new(
                p / format!("cell{i}"),
                cell_desc,
                slot.c_pp,
                slot.c_p,
                slot.c,
                slot.reduction,
                slot.reduction_prev,
            ));
            if i == aux_pos && auxiliary {
                aux = Some(AuxHead::new(p / "aux", 4 * slot.c, num_classes));
            }
        }
        let classifier = nn::linear(p / "classifier", c_out, num_classes, Default::default());
        DartsNetwork {
            stem_conv,
            stem_bn,
            cells,
            aux_pos,
            aux,
            classifier,
        }
    }

    /// Trainable parameters of the network [`DartsNetwork::new`] builds without its
    /// auxiliary head (the DARTS convention), counted without building it: at 1024 channels
    /// the network itself takes gigabytes.
    pub fn param_count(
        genotype: &Genotype,
        input_channels: i64,
        channels: i64,
        layers: usize,
        num_classes: i64,
    ) -> i64 {
        let stem = 9 * input_channels * 3 * channels + 2 * 3 * channels;
        let (slots, c_out) = cell_slots(channels, layers);
        let cells: i64 = slots
            .iter()
            .map(|s| {
                let cell = if s.reduction {
                    &genotype.reduce
                } else {
                    &genotype.normal
                };
                DiscreteCell::param_count(cell, s.c_pp, s.c_p, s.c, s.reduction, s.reduction_prev)
            })
            .sum();
        stem + cells + c_out * num_classes + num_classes
    }

    /// Returns (logits, auxiliary logits). The auxiliary logits are `Some` only in training
    /// mode with an auxiliary head. `drop_path_prob` applies to every non-identity edge op
    /// during training.
    pub fn forward(
        &self,
        x: &Tensor,
        train: bool,
        drop_path_prob: f64,
    ) -> (Tensor, Option<Tensor>) {
        let s = self.stem_bn.forward_t(&x.apply(&self.stem_conv), train);
        let (mut s0, mut s1) = (s.shallow_clone(), s);
        let mut aux_logits = None;
        for (i, cell) in self.cells.iter().enumerate() {
            let out = cell.forward_t(&s0, &s1, train, drop_path_prob);
            s0 = s1;
            s1 = out;
            if i == self.aux_pos && train {
                if let Some(aux) = &self.aux {
                    aux_logits = Some(aux.forward_t(&s1, train));
                }
            }
        }
        let logits = s1
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .apply(&self.classifier);
        (logits, aux_logits)
    }

    /// Trainable tensors of the network without the auxiliary head.
    pub fn params_excluding_aux(&self) -> Vec<Tensor> {
        let mut out = Vec::new();
        self.stem_conv.params(&mut out);
        self.stem_bn.params(&mut out);
        for c in &self.cells {
            c.params(&mut out);
        }
        self.classifier.params(&mut out);
        out
    }

    /// All trainable tensors (including the auxiliary head).
    pub fn params(&self) -> Vec<Tensor> {
        let mut out = self.params_excluding_aux();
        if let Some(a) = &self.aux {
            a.params(&mut out);
        }
        out
    }

    /// Number of trainable scalars excluding the auxiliary head (the DARTS convention).
    pub fn param_count_excluding_aux(&self) -> i64 {
        numel(&self.params_excluding_aux())
    }
}

/// The DARTS paper's second-order cell (quark0 `genotypes.py` DARTS_V2), in lab op indices.
pub fn darts_v2() -> Genotype {
    let e = |input, op| Edge { input, op };
    Genotype {
        normal: Cell {
            nodes: vec![
                [e(0, 3), e(1, 3)],
                [e(0, 3), e(1, 3)],
                [e(0, 2), e(1, 3)],
                [e(0, 2), e(2, 5)],
            ],
        },
        reduce: Cell {
            nodes: vec![
                [e(0, 0), e(1, 0)],
                [e(1, 0), e(2, 2)],
                [e(0, 0), e(2, 2)],
                [e(1, 0), e(2, 2)],
            ],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn darts_v2_param_count_bar() {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = DartsNetwork::new(&vs.root(), &darts_v2(), 3, 36, 20, 10, true);
        let n = net.param_count_excluding_aux();
        let all = numel(&net.params());
        let vs_total: i64 = vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum();
        eprintln!("DARTS_V2 L=20 C=36: {n} params excl. aux, {all} incl. aux");
        assert_eq!(all, vs_total, "Params walk covers every trainable variable");
        assert!((3_200_000..=3_400_000).contains(&n), "{n}");
        // quark0 reports 3,349,342; the lab's PoolBN adds 2·C per max-pool edge of the two
        // reduction cells (5 each): 5·2·72 + 5·2·144 = 2,160.
        assert_eq!(n, 3_349_342 + 2_160);
    }

    #[test]
    fn small_network_forward_shapes() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        // 8×8 single-channel "digits": maps 8 → 4 → 2, aux head on a 2×2 map.
        let net = DartsNetwork::new(&vs.root(), &darts_v2(), 1, 4, 5, 10, true);
        let x = Tensor::randn([3, 1, 8, 8], (Kind::Float, Device::Cpu));
        let (y, aux) = net.forward(&x, true, 0.2);
        assert_eq!(y.size(), vec![3, 10]);
        assert_eq!(aux.unwrap().size(), vec![3, 10]);
        let (y, aux) = net.forward(&x, false, 0.2);
        assert_eq!(y.size(), vec![3, 10]);
        assert!(aux.is_none());
        // 32×32: the aux head sees an 8×8 map and uses DARTS' exact pooling.
        let net = DartsNetwork::new(&(vs.root() / "b"), &darts_v2(), 3, 4, 3, 10, true);
        let x = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu));
        let (y, aux) = net.forward(&x, true, 0.0);
        assert_eq!(y.size(), vec![2, 10]);
        assert_eq!(aux.unwrap().size(), vec![2, 10]);
    }
}
