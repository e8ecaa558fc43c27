//! DARTS candidate operations (lab8-reference §4, NNI `examples/nas/darts/ops.py`,
//! quark0/darts `cnn/operations.py`).
//!
//! Op indices follow [`crate::nas::genotype::OPS`]. `affine` is `false` for the search
//! supernet and `true` for the discrete (retrain) network, as in DARTS.

use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

fn bn(p: nn::Path, c: i64, affine: bool) -> nn::BatchNorm {
    nn::batch_norm2d(
        p,
        c,
        nn::BatchNormConfig {
            affine,
            ..Default::default()
        },
    )
}

#[allow(clippy::too_many_arguments)]
fn conv(
    p: nn::Path,
    c_in: i64,
    c_out: i64,
    k: i64,
    stride: i64,
    padding: i64,
    dilation: i64,
    groups: i64,
) -> nn::Conv2D {
    nn::conv2d(
        p,
        c_in,
        c_out,
        k,
        nn::ConvConfig {
            stride,
            padding,
            dilation,
            groups,
            bias: false,
            ..Default::default()
        },
    )
}

/// 3×3 max or average pooling (padding 1; average excludes padding) followed by BN.
#[derive(Debug)]
pub struct PoolBn {
    pub max: bool,
    pub stride: i64,
    pub bn: nn::BatchNorm,
}

impl PoolBn {
    pub fn new(p: nn::Path, max: bool, c: i64, stride: i64, affine: bool) -> Self {
        PoolBn {
            max,
            stride,
            bn: bn(p / "bn", c, affine),
        }
    }
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let y = if self.max {
            x.max_pool2d([3, 3], [self.stride, self.stride], [1, 1], [1, 1], false)
        } else {
            x.avg_pool2d(
                [3, 3],
                [self.stride, self.stride],
                [1, 1],
                false,
                false,
                None,
            )
        };
        self.bn.forward_t(&y, train)
    }
}

/// ReLU → depthwise k×k conv (groups = C_in, dilation) → 1×1 conv → BN.
#[derive(Debug)]
pub struct DilConv {
    pub dw: nn::Conv2D,
    pub pw: nn::Conv2D,
    pub bn: nn::BatchNorm,
}

impl DilConv {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        p: nn::Path,
        c_in: i64,
        c_out: i64,
        k: i64,
        stride: i64,
        padding: i64,
        dilation: i64,
        affine: bool,
    ) -> Self {
        DilConv {
            dw: conv(&p / "dw", c_in, c_in, k, stride, padding, dilation, c_in),
            pw: conv(&p / "pw", c_in, c_out, 1, 1, 0, 1, 1),
            bn: bn(&p / "bn", c_out, affine),
        }
    }
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let y = x.relu().apply(&self.dw).apply(&self.pw);
        self.bn.forward_t(&y, train)
    }
}

/// DilConv(dilation 1, stride s) then DilConv(dilation 1, stride 1).
#[derive(Debug)]
pub struct SepConv {
    pub a: DilConv,
    pub b: DilConv,
}

impl SepConv {
    pub fn new(p: nn::Path, c: i64, k: i64, stride: i64, affine: bool) -> Self {
        let pad = k / 2;
        SepConv {
            a: DilConv::new(&p / "a", c, c, k, stride, pad, 1, affine),
            b: DilConv::new(&p / "b", c, c, k, 1, pad, 1, affine),
        }
    }
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        self.b.forward_t(&self.a.forward_t(x, train), train)
    }
}

/// ReLU, two 1×1 stride-2 convs to C_out/2 (the second on the input shifted by one pixel),
/// concat, BN.
///
/// The shifted input `x[:, :, 1:, 1:]` is zero-padded back to H×W at the bottom/right; for
/// even H, W this gives exactly DARTS' result (the padded row/column is never sampled by
/// the stride-2 1×1 conv), and for odd sizes both halves get the same ⌈H/2⌉ output.
#[derive(Debug)]
pub struct FactorizedReduce {
    pub c1: nn::Conv2D,
    pub c2: nn::Conv2D,
    pub bn: nn::BatchNorm,
}

impl FactorizedReduce {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64, affine: bool) -> Self {
        assert!(c_out % 2 == 0, "FactorizedReduce needs an even C_out");
        FactorizedReduce {
            c1: conv(&p / "c1", c_in, c_out / 2, 1, 2, 0, 1, 1),
            c2: conv(&p / "c2", c_in, c_out / 2, 1, 2, 0, 1, 1),
            bn: bn(&p / "bn", c_out, affine),
        }
    }
    /// Trainable parameters with affine BN: two 1×1 convs to C_out/2 each, then BN.
    pub fn param_count(c_in: i64, c_out: i64) -> i64 {
        2 * c_in * (c_out / 2) + 2 * c_out
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let x = x.relu();
        let shifted = x
            .narrow(2, 1, x.size()[2] - 1)
            .narrow(3, 1, x.size()[3] - 1)
            .constant_pad_nd([0, 1, 0, 1]);
        let y = Tensor::cat(&[x.apply(&self.c1), shifted.apply(&self.c2)], 1);
        self.bn.forward_t(&y, train)
    }
}

/// ReLU → 1×1 conv → BN (cell preprocessing; "ReLUConvBN" in DARTS).
#[derive(Debug)]
pub struct StdConv {
    pub conv: nn::Conv2D,
    pub bn: nn::BatchNorm,
}

impl StdConv {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64, affine: bool) -> Self {
        StdConv {
            conv: conv(&p / "conv", c_in, c_out, 1, 1, 0, 1, 1),
            bn: bn(&p / "bn", c_out, affine),
        }
    }
    /// Trainable parameters with affine BN: the 1×1 conv, then BN.
    pub fn param_count(c_in: i64, c_out: i64) -> i64 {
        c_in * c_out + 2 * c_out
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        self.bn.forward_t(&x.relu().apply(&self.conv), train)
    }
}

/// One candidate operation on an edge.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Op {
    Pool(PoolBn),
    Identity,
    FactorizedReduce(FactorizedReduce),
    SepConv(SepConv),
    DilConv(DilConv),
}

impl Op {
    /// Builds op `index` (see [`crate::nas::genotype::OPS`]) for C channels in and out.
    pub fn new(p: nn::Path, index: usize, c: i64, stride: i64, affine: bool) -> Op {
        match index {
            0 => Op::Pool(PoolBn::new(p, true, c, stride, affine)),
            1 => Op::Pool(PoolBn::new(p, false, c, stride, affine)),
            2 if stride == 1 => Op::Identity,
            2 => Op::FactorizedReduce(FactorizedReduce::new(p, c, c, affine)),
            3 => Op::SepConv(SepConv::new(p, c, 3, stride, affine)),
            4 => Op::SepConv(SepConv::new(p, c, 5, stride, affine)),
            5 => Op::DilConv(DilConv::new(p, c, c, 3, stride, 2, 2, affine)),
            6 => Op::DilConv(DilConv::new(p, c, c, 5, stride, 4, 2, affine)),
            _ => panic!("unknown DARTS op index {index}"),
        }
    }

    /// Trainable parameters of op `index` for C channels (affine BN: 2 per channel), counted
    /// without building it, matching [`Op::new`] with `affine = true`.
    pub fn param_count(index: usize, c: i64, stride: i64) -> i64 {
        let bn = 2 * c;
        // Depthwise k×k, then pointwise C→C, then BN.
        let dil_conv = |k: i64| k * k * c + c * c + bn;
        match index {
            0 | 1 => bn,
            2 if stride == 1 => 0,
            2 => FactorizedReduce::param_count(c, c),
            3 => 2 * dil_conv(3),
            4 => 2 * dil_conv(5),
            5 => dil_conv(3),
            6 => dil_conv(5),
            _ => panic!("unknown DARTS op index {index}"),
        }
    }

    pub fn is_identity(&self) -> bool {
        matches!(self, Op::Identity)
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        match self {
            Op::Pool(o) => o.forward_t(x, train),
            Op::Identity => x.shallow_clone(),
            Op::FactorizedReduce(o) => o.forward_t(x, train),
            Op::SepConv(o) => o.forward_t(x, train),
            Op::DilConv(o) => o.forward_t(x, train),
        }
    }
}

/// Per-sample drop path: zeroes whole samples with probability `drop_prob` and scales the
/// survivors by 1/keep. Identity outside training or when `drop_prob` is 0.
pub fn drop_path(x: &Tensor, drop_prob: f64, train: bool) -> Tensor {
    if !train || drop_prob <= 0.0 {
        return x.shallow_clone();
    }
    let keep = 1.0 - drop_prob;
    let mask = Tensor::empty([x.size()[0], 1, 1, 1], (x.kind(), x.device())).bernoulli_float_(keep);
    x / keep * mask
}

/// Mean cross-entropy computed in the logits' own precision (tch's helper forces f32).
pub fn cross_entropy(logits: &Tensor, targets: &Tensor) -> Tensor {
    logits.cross_entropy_loss::<Tensor>(targets, None, tch::Reduction::Mean, -100, 0.0)
}

/// Number of correct top-1 predictions (a scalar i64 tensor, not synchronised).
pub fn correct(logits: &Tensor, targets: &Tensor) -> Tensor {
    logits.argmax(-1, false).eq_tensor(targets).sum(Kind::Int64)
}

/// Collects the trainable tensors of a module (shallow clones sharing storage).
pub trait Params {
    fn params(&self, out: &mut Vec<Tensor>);
}

impl Params for nn::Conv2D {
    fn params(&self, out: &mut Vec<Tensor>) {
        out.push(self.ws.shallow_clone());
        if let Some(b) = &self.bs {
            out.push(b.shallow_clone());
        }
    }
}

impl Params for nn::Linear {
    fn params(&self, out: &mut Vec<Tensor>) {
        out.push(self.ws.shallow_clone());
        if let Some(b) = &self.bs {
            out.push(b.shallow_clone());
        }
    }
}

impl Params for nn::BatchNorm {
    fn params(&self, out: &mut Vec<Tensor>) {
        if let Some(w) = &self.ws {
            out.push(w.shallow_clone());
        }
        if let Some(b) = &self.bs {
            out.push(b.shallow_clone());
        }
    }
}

impl Params for PoolBn {
    fn params(&self, out: &mut Vec<Tensor>) {
        self.bn.params(out);
    }
}

impl Params for DilConv {
    fn params(&self, out: &mut Vec<Tensor>) {
        self.dw.params(out);
        self.pw.params(out);
        self.bn.params(out);
    }
}

impl Params for SepConv {
    fn params(&self, out: &mut Vec<Tensor>) {
        self.a.params(out);
        self.b.params(out);
    }
}

impl Params for FactorizedReduce {
    fn params(&self, out: &mut Vec<Tensor>) {
        self.c1.params(out);
        self.c2.params(out);
        self.bn.params(out);
    }
}

impl Params for StdConv {
    fn params(&self, out: &mut Vec<Tensor>) {
        self.conv.params(out);
        self.bn.params(out);
    }
}

impl Params for Op {
    fn params(&self, out: &mut Vec<Tensor>) {
        match self {
            Op::Pool(o) => o.params(out),
            Op::Identity => {}
            Op::FactorizedReduce(o) => o.params(out),
            Op::SepConv(o) => o.params(out),
            Op::DilConv(o) => o.params(out),
        }
    }
}

/// Total number of scalars in a parameter list.
pub fn numel(params: &[Tensor]) -> i64 {
    params.iter().map(|t| t.numel() as i64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn op_shapes_stride_1_and_2() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let c = 4;
        for (h, w) in [(8, 8), (7, 7)] {
            let x = Tensor::randn([2, c, h, w], (Kind::Float, Device::Cpu));
            for stride in [1, 2] {
                for idx in 0..7 {
                    for affine in [false, true] {
                        let op = Op::new(
                            vs.root() / format!("o{h}_{stride}_{idx}_{affine}"),
                            idx,
                            c,
                            stride,
                            affine,
                        );
                        let y = op.forward_t(&x, true);
                        let expect = if stride == 1 { h } else { (h + 1) / 2 };
                        assert_eq!(
                            y.size(),
                            vec![2, c, expect, expect],
                            "op {idx} stride {stride} in {h}x{w}"
                        );
                        let y = op.forward_t(&x, false);
                        assert_eq!(y.size()[2], expect);
                    }
                }
            }
        }
        let fr = FactorizedReduce::new(vs.root() / "fr", 6, 8, true);
        let x = Tensor::randn([2, 6, 8, 8], (Kind::Float, Device::Cpu));
        assert_eq!(fr.forward_t(&x, true).size(), vec![2, 8, 4, 4]);
        let sc = StdConv::new(vs.root() / "sc", 6, 8, false);
        assert_eq!(sc.forward_t(&x, true).size(), vec![2, 8, 8, 8]);
    }

    #[test]
    fn drop_path_is_per_sample_and_scaled() {
        tch::manual_seed(1);
        let x = Tensor::ones([1000, 2, 2, 2], (Kind::Float, Device::Cpu));
        let y = drop_path(&x, 0.2, true);
        let flat = y.view([1000, 8]);
        let row_min = flat.min_dim(1, false).0;
        let row_max = flat.max_dim(1, false).0;
        assert!(row_min.equal(&row_max), "whole samples are dropped or kept");
        let mean = f64::try_from(y.mean(Kind::Float)).unwrap();
        assert!((mean - 1.0).abs() < 0.1, "expectation preserved: {mean}");
        assert!(drop_path(&x, 0.2, false).equal(&x));
    }
}
