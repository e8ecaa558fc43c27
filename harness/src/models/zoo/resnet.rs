//! ResNet-18/50 and ResNeXt-50 (32×4d), after torchvision's `resnet.py` (ResNet v1.5: the
//! stride of a bottleneck sits on its 3×3 convolution).
//!
//! * ImageNet style: 7×7 stride-2 conv (64) → BN → ReLU → 3×3 stride-2 max-pool → 4 stages →
//!   global average pool → linear. Convs use `kaiming_normal_(fan_out, relu)`, BN weight 1 /
//!   bias 0, the linear layer PyTorch's default init.
//! * Cifar style (kuangliu): the stem becomes a 3×3 stride-1 padding-1 conv (64) and the
//!   max-pool is removed; everything else is unchanged (32×32 → 4×4 before pooling).

use super::{bn, conv2d, linear, Style, KAIMING_NORMAL_FAN_OUT, TORCH_DEFAULT};
use tch::nn::{self, ModuleT};
use tch::Tensor;

#[derive(Debug)]
struct Downsample {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
}

impl Downsample {
    fn new(p: nn::Path, cin: i64, cout: i64, stride: i64) -> Self {
        Downsample {
            conv: conv2d(
                &p / "0",
                cin,
                cout,
                1,
                stride,
                0,
                1,
                false,
                KAIMING_NORMAL_FAN_OUT,
            ),
            bn: bn(&p / "1", cout),
        }
    }
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply(&self.conv).apply_t(&self.bn, train)
    }
}

/// A block's ending: `relu(out + identity)`, where identity is the input or its downsampled
/// projection; in place, like torchvision (`out += identity`, ReLU(inplace=True)).
fn residual_relu(
    mut out: Tensor,
    xs: &Tensor,
    downsample: Option<&Downsample>,
    train: bool,
) -> Tensor {
    match downsample {
        Some(d) => out += d.forward_t(xs, train),
        None => out += xs,
    }
    let _ = out.relu_();
    out
}

#[derive(Debug)]
struct BasicBlock {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    downsample: Option<Downsample>,
}

impl BasicBlock {
    fn new(p: nn::Path, inplanes: i64, planes: i64, stride: i64) -> Self {
        let downsample = (stride != 1 || inplanes != planes)
            .then(|| Downsample::new(&p / "downsample", inplanes, planes, stride));
        BasicBlock {
            conv1: conv2d(
                &p / "conv1",
                inplanes,
                planes,
                3,
                stride,
                1,
                1,
                false,
                KAIMING_NORMAL_FAN_OUT,
            ),
            bn1: bn(&p / "bn1", planes),
            conv2: conv2d(
                &p / "conv2",
                planes,
                planes,
                3,
                1,
                1,
                1,
                false,
                KAIMING_NORMAL_FAN_OUT,
            ),
            bn2: bn(&p / "bn2", planes),
            downsample,
        }
    }
}

impl ModuleT for BasicBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        // In place like torchvision (ReLU(inplace=True), `out += identity`): fewer large
        // allocations per step; autograd allows it (BN and add do not need their outputs).
        let mut out = xs.apply(&self.conv1).apply_t(&self.bn1, train);
        let _ = out.relu_();
        let out = out.apply(&self.conv2).apply_t(&self.bn2, train);
        residual_relu(out, xs, self.downsample.as_ref(), train)
    }
}

#[derive(Debug)]
struct Bottleneck {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    conv3: nn::Conv2D,
    bn3: nn::BatchNorm,
    downsample: Option<Downsample>,
}

impl Bottleneck {
    const EXPANSION: i64 = 4;

    fn new(
        p: nn::Path,
        inplanes: i64,
        planes: i64,
        stride: i64,
        groups: i64,
        base_width: i64,
    ) -> Self {
        let width = planes * base_width / 64 * groups;
        let out = planes * Self::EXPANSION;
        let downsample = (stride != 1 || inplanes != out)
            .then(|| Downsample::new(&p / "downsample", inplanes, out, stride));
        Bottleneck {
            conv1: conv2d(
                &p / "conv1",
                inplanes,
                width,
                1,
                1,
                0,
                1,
                false,
                KAIMING_NORMAL_FAN_OUT,
            ),
            bn1: bn(&p / "bn1", width),
            conv2: conv2d(
                &p / "conv2",
                width,
                width,
                3,
                stride,
                1,
                groups,
                false,
                KAIMING_NORMAL_FAN_OUT,
            ),
            bn2: bn(&p / "bn2", width),
            conv3: conv2d(
                &p / "conv3",
                width,
                out,
                1,
                1,
                0,
                1,
                false,
                KAIMING_NORMAL_FAN_OUT,
            ),
            bn3: bn(&p / "bn3", out),
            downsample,
        }
    }
}

impl ModuleT for Bottleneck {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut out = xs.apply(&self.conv1).apply_t(&self.bn1, train);
        let _ = out.relu_();
        let mut out = out.apply(&self.conv2).apply_t(&self.bn2, train);
        let _ = out.relu_();
        let out = out.apply(&self.conv3).apply_t(&self.bn3, train);
        residual_relu(out, xs, self.downsample.as_ref(), train)
    }
}

#[derive(Debug, Clone, Copy)]
enum BlockKind {
    Basic,
    Bottleneck { groups: i64, base_width: i64 },
}

/// A ResNet / ResNeXt.
#[derive(Debug)]
pub struct ResNet {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    maxpool: bool,
    layers: Vec<nn::SequentialT>,
    fc: nn::Linear,
}

impl ResNet {
    fn new(
        p: &nn::Path,
        style: Style,
        num_classes: i64,
        kind: BlockKind,
        blocks: [i64; 4],
    ) -> Self {
        let (conv1, maxpool) = match style {
            Style::ImageNet => (
                conv2d(
                    p / "conv1",
                    3,
                    64,
                    7,
                    2,
                    3,
                    1,
                    false,
                    KAIMING_NORMAL_FAN_OUT,
                ),
                true,
            ),
            Style::Cifar => (
                conv2d(
                    p / "conv1",
                    3,
                    64,
                    3,
                    1,
                    1,
                    1,
                    false,
                    KAIMING_NORMAL_FAN_OUT,
                ),
                false,
            ),
        };
        let expansion = match kind {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck { .. } => Bottleneck::EXPANSION,
        };
        let mut inplanes = 64;
        let mut layers = Vec::with_capacity(4);
        for (i, (&n, planes)) in blocks.iter().zip([64i64, 128, 256, 512]).enumerate() {
            let lp = p / format!("layer{}", i + 1);
            let mut seq = nn::seq_t();
            for b in 0..n {
                let stride = if i > 0 && b == 0 { 2 } else { 1 };
                let bp = &lp / b;
                seq = match kind {
                    BlockKind::Basic => seq.add(BasicBlock::new(bp, inplanes, planes, stride)),
                    BlockKind::Bottleneck { groups, base_width } => seq.add(Bottleneck::new(
                        bp, inplanes, planes, stride, groups, base_width,
                    )),
                };
                inplanes = planes * expansion;
            }
            layers.push(seq);
        }
        ResNet {
            conv1,
            bn1: bn(p / "bn1", 64),
            maxpool,
            layers,
            fc: linear(p / "fc", 512 * expansion, num_classes, TORCH_DEFAULT, None),
        }
    }
}

impl ModuleT for ResNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = xs.apply(&self.conv1).apply_t(&self.bn1, train);
        let _ = x.relu_();
        if self.maxpool {
            x = x.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        }
        for l in &self.layers {
            x = x.apply_t(l, train);
        }
        x.adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.fc)
    }
}

pub fn resnet18(p: &nn::Path, style: Style, num_classes: i64) -> ResNet {
    ResNet::new(p, style, num_classes, BlockKind::Basic, [2, 2, 2, 2])
}

pub fn resnet50(p: &nn::Path, style: Style, num_classes: i64) -> ResNet {
    ResNet::new(
        p,
        style,
        num_classes,
        BlockKind::Bottleneck {
            groups: 1,
            base_width: 64,
        },
        [3, 4, 6, 3],
    )
}

pub fn resnext50_32x4d(p: &nn::Path, style: Style, num_classes: i64) -> ResNet {
    ResNet::new(
        p,
        style,
        num_classes,
        BlockKind::Bottleneck {
            groups: 32,
            base_width: 4,
        },
        [3, 4, 6, 3],
    )
}
