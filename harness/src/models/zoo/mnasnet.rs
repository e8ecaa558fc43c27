//! MNASNet 1.0, after torchvision's `mnasnet.py` (depths 32/16/24/40/80/96/192/320, BN
//! momentum 1 − 0.9997).
//!
//! * ImageNet style: 3×3 stride-2 conv (32) → BN → ReLU → depthwise 3×3 → BN → ReLU → 1×1 (16)
//!   → BN → six inverted-residual stacks (k, s, t, n) = (3,2,3,3) (5,2,3,3) (5,2,6,3)
//!   (3,1,6,2) (5,2,6,4) (3,1,6,1) → 1×1 conv (1280) → BN → ReLU → spatial mean →
//!   Dropout(0.2) → Linear(1280, classes). Init: convs `kaiming_normal_(fan_out, relu)`, BN 1/0,
//!   linear `kaiming_uniform_(fan_out, sigmoid)` with zero bias.
//! * Cifar style: the stem conv has stride 1 and, as kuangliu does for MobileNetV2, the first
//!   stride-2 stack (24 channels) gets stride 1, so 32×32 inputs end at 4×4 instead of 1×1.

use super::{bn_m, conv2d, linear, Style, KAIMING_NORMAL_FAN_OUT};
use tch::nn::{self, Init, ModuleT};
use tch::Tensor;

const BN_MOMENTUM: f64 = 1.0 - 0.9997;

#[derive(Debug)]
struct ConvBn {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
}

impl ConvBn {
    fn new(p: &nn::Path, ci: usize, cin: i64, cout: i64, k: i64, stride: i64, groups: i64) -> Self {
        ConvBn {
            conv: conv2d(
                p / ci,
                cin,
                cout,
                k,
                stride,
                k / 2,
                groups,
                false,
                KAIMING_NORMAL_FAN_OUT,
            ),
            bn: bn_m(p / (ci + 1), cout, BN_MOMENTUM),
        }
    }
    fn fwd(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply(&self.conv).apply_t(&self.bn, train)
    }
}

#[derive(Debug)]
struct InvertedResidual {
    expand: ConvBn,
    depthwise: ConvBn,
    project: ConvBn,
    residual: bool,
}

impl InvertedResidual {
    fn new(p: nn::Path, cin: i64, cout: i64, k: i64, stride: i64, t: i64) -> Self {
        let mid = cin * t;
        let lp = &p / "layers";
        InvertedResidual {
            expand: ConvBn::new(&lp, 0, cin, mid, 1, 1, 1),
            depthwise: ConvBn::new(&lp, 3, mid, mid, k, stride, mid),
            project: ConvBn::new(&lp, 6, mid, cout, 1, 1, 1),
            residual: cin == cout && stride == 1,
        }
    }
}

impl ModuleT for InvertedResidual {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let y = self.expand.fwd(xs, train).relu();
        let y = self.depthwise.fwd(&y, train).relu();
        let y = self.project.fwd(&y, train);
        if self.residual {
            y + xs
        } else {
            y
        }
    }
}

/// MNASNet.
#[derive(Debug)]
pub struct MnasNet {
    stem: [ConvBn; 3],
    stacks: nn::SequentialT,
    head: ConvBn,
    classifier: nn::Linear,
}

pub fn mnasnet1_0(p: &nn::Path, style: Style, num_classes: i64) -> MnasNet {
    let lp = p / "layers";
    let cifar = style == Style::Cifar;
    let stem = [
        ConvBn::new(&lp, 0, 3, 32, 3, if cifar { 1 } else { 2 }, 1),
        ConvBn::new(&lp, 3, 32, 32, 3, 1, 32),
        ConvBn::new(&lp, 6, 32, 16, 1, 1, 1),
    ];
    // (out, kernel, stride, expansion, repeats)
    let cfg: [(i64, i64, i64, i64, i64); 6] = [
        (24, 3, 2, 3, 3),
        (40, 5, 2, 3, 3),
        (80, 5, 2, 6, 3),
        (96, 3, 1, 6, 2),
        (192, 5, 2, 6, 4),
        (320, 3, 1, 6, 1),
    ];
    let mut stacks = nn::seq_t();
    let mut cin = 16;
    for (si, (cout, k, s, t, n)) in cfg.into_iter().enumerate() {
        let s = if cifar && cout == 24 { 1 } else { s };
        let sp = &lp / (8 + si);
        for j in 0..n {
            let stride = if j == 0 { s } else { 1 };
            stacks = stacks.add(InvertedResidual::new(&sp / j, cin, cout, k, stride, t));
            cin = cout;
        }
    }
    let head = ConvBn::new(&lp, 14, cin, 1280, 1, 1, 1);
    let linear_init = Init::Kaiming {
        dist: nn::init::NormalOrUniform::Uniform,
        fan: nn::init::FanInOut::FanOut,
        non_linearity: nn::init::NonLinearity::Sigmoid,
    };
    let classifier = linear(
        p / "classifier" / 1,
        1280,
        num_classes,
        linear_init,
        Some(Init::Const(0.0)),
    );
    MnasNet {
        stem,
        stacks,
        head,
        classifier,
    }
}

impl ModuleT for MnasNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = self.stem[0].fwd(xs, train).relu();
        let x = self.stem[1].fwd(&x, train).relu();
        let x = self.stem[2].fwd(&x, train);
        self.head
            .fwd(&x.apply_t(&self.stacks, train), train)
            .relu()
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .dropout(0.2, train)
            .apply(&self.classifier)
    }
}
