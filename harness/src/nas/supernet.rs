//! The DARTS search supernet (quark0/darts `cnn/model_search.py`, NNI's DARTS search
//! space): every edge is a softmax-weighted mixture of the 7 candidate ops plus the zero op
//! (8 logits), separate logits for normal and reduction cells.

use crate::nas::cells::{SearchCell, EDGES};
use crate::nas::genotype::OPS;
use crate::nas::network::{cell_slots, stem};
use crate::nas::ops::{cross_entropy, Params};
use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

/// Architecture logits per edge: the 7 real ops then the zero op (index 7).
pub const LOGITS: usize = OPS.len() + 1;

#[derive(Debug)]
pub struct SuperNet {
    pub stem_conv: nn::Conv2D,
    pub stem_bn: nn::BatchNorm,
    pub cells: Vec<SearchCell>,
    pub classifier: nn::Linear,
    /// [14, 8] logits of the normal cells (requires grad; not in the weights' VarStore).
    pub alpha_normal: Tensor,
    /// [14, 8] logits of the reduction cells.
    pub alpha_reduce: Tensor,
}

fn rows(t: &Tensor) -> Vec<Vec<f64>> {
    let t = t.detach().to_kind(Kind::Double).to_device(tch::Device::Cpu);
    let flat: Vec<f64> = Vec::<f64>::try_from(t.flatten(0, -1)).expect("alpha to vec");
    flat.chunks(LOGITS).map(|c| c.to_vec()).collect()
}

impl SuperNet {
    /// Seeds libtorch's RNG with `seed`, then builds the weights under `p` (device and kind
    /// of `p`) and the logits (1e-3·randn, outside the VarStore). Stem: 3×3 conv to 3·C +
    /// BN; reduction cells at ⌊L/3⌋ and ⌊2L/3⌋; global average pool → linear.
    pub fn new(
        p: &nn::Path,
        channels: i64,
        layers: usize,
        num_classes: i64,
        input_channels: i64,
        seed: i64,
    ) -> Self {
        tch::manual_seed(seed);
        let (stem_conv, stem_bn) = stem(p, input_channels, channels);
        let (slots, c_out) = cell_slots(channels, layers);
        let cells = slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                SearchCell::new(
                    p / format!("cell{i}"),
                    s.c_pp,
                    s.c_p,
                    s.c,
                    s.reduction,
                    s.reduction_prev,
                )
            })
            .collect();
        let classifier = nn::linear(p / "classifier", c_out, num_classes, Default::default());
        let opts = (p.kind(), p.device());
        let alpha_normal =
            (Tensor::randn([EDGES as i64, LOGITS as i64], opts) * 1e-3).set_requires_grad(true);
        let alpha_reduce =
            (Tensor::randn([EDGES as i64, LOGITS as i64], opts) * 1e-3).set_requires_grad(true);
        SuperNet {
            stem_conv,
            stem_bn,
            cells,
            classifier,
            alpha_normal,
            alpha_reduce,
        }
    }

    /// Logits for a batch; BN uses batch statistics when `train`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let wn = self.alpha_normal.softmax(-1, self.alpha_normal.kind());
        let wr = self.alpha_reduce.softmax(-1, self.alpha_reduce.kind());
        let s = self.stem_bn.forward_t(&x.apply(&self.stem_conv), train);
        let (mut s0, mut s1) = (s.shallow_clone(), s);
        for cell in &self.cells {
            let w = if cell.reduction { &wr } else { &wn };
            let out = cell.forward_t(&s0, &s1, w, train);
            s0 = s1;
            s1 = out;
        }
        s1.adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .apply(&self.classifier)
    }

    /// Mean cross-entropy of a batch (training-mode BN).
    pub fn loss(&self, x: &Tensor, y: &Tensor) -> Tensor {
        cross_entropy(&self.forward_t(x, true), y)
    }

    /// The network weights (everything but the architecture logits).
    pub fn weights(&self) -> Vec<Tensor> {
        let mut out = Vec::new();
        self.stem_conv.params(&mut out);
        self.stem_bn.params(&mut out);
        for c in &self.cells {
            c.params(&mut out);
        }
        self.classifier.params(&mut out);
        out
    }

    /// The architecture logits as tensors: [normal, reduce].
    pub fn alpha_tensors(&self) -> Vec<Tensor> {
        vec![
            self.alpha_normal.shallow_clone(),
            self.alpha_reduce.shallow_clone(),
        ]
    }

    /// Raw logits (normal, reduce): 14 edges (n2:p0,p1; n3:p0..p2; n4:p0..p3; n5:p0..p4) ×
    /// 8 logits (OPS order, then zero).
    pub fn alphas(&self) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        (rows(&self.alpha_normal), rows(&self.alpha_reduce))
    }

    /// Softmax over the 8 logits of every edge, same layout as [`SuperNet::alphas`].
    pub fn softmax_weights(&self) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let sm = |t: &Tensor| rows(&t.detach().softmax(-1, Kind::Double));
        (sm(&self.alpha_normal), sm(&self.alpha_reduce))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn supernet_forward_and_alpha_shapes() {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = SuperNet::new(&vs.root(), 2, 3, 10, 3, 7);
        let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        assert_eq!(net.forward_t(&x, true).size(), vec![2, 10]);
        assert_eq!(net.forward_t(&x, false).size(), vec![2, 10]);
        let (n, r) = net.alphas();
        assert_eq!((n.len(), r.len()), (14, 14));
        assert!(n.iter().chain(r.iter()).all(|e| e.len() == 8));
        assert!(n.iter().flatten().all(|v| v.abs() < 1e-2));
        let (wn, wr) = net.softmax_weights();
        for e in wn.iter().chain(wr.iter()) {
            assert!((e.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        // Weights and logits are disjoint; every trainable variable is a weight.
        let w = net.weights();
        assert_eq!(w.len(), vs.trainable_variables().len());
        // Same seed → same logits.
        let vs2 = nn::VarStore::new(Device::Cpu);
        let net2 = SuperNet::new(&vs2.root(), 2, 3, 10, 3, 7);
        assert_eq!(net.alphas(), net2.alphas());
    }
}
