//! MobileNet V2 (width 1.0), after torchvision's `mobilenetv2.py`.
//!
//! * ImageNet style: 3×3 stride-2 ConvBNReLU6 (32) → 17 inverted residual blocks
//!   (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2)
//!   (6,320,1,1) → 1×1 ConvBNReLU6 (1280) → global average pool → Dropout(0.2) →
//!   Linear(1280, classes). Init: convs `kaiming_normal_(fan_out)` with zero bias, BN 1/0,
//!   linear N(0, 0.01) with zero bias.
//! * Cifar style (kuangliu `MobileNetV2`): the stem conv has stride 1, and the first stage
//!   with stride 2 (24 channels) gets stride 1 ("NOTE: change stride 2 -> 1 for CIFAR10"),
//!   so 32×32 inputs end at 4×4 instead of 1×1.

use super::{bn, conv2d, linear, Style, KAIMING_NORMAL_FAN_OUT};
use tch::nn::{self, Init, ModuleT};
use tch::Tensor;

/// Conv → BN → optional ReLU6, named `{p}.{ci}` / `{p}.{ci+1}`.
#[derive(Debug)]
pub(crate) struct ConvBnAct {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
    relu6: bool,
}

impl ConvBnAct {
    #[allow(clippy::too_many_arguments)]
    fn new(
        p: &nn::Path,
        ci: usize,
        cin: i64,
        cout: i64,
        k: i64,
        stride: i64,
        groups: i64,
        relu6: bool,
    ) -> Self {
        ConvBnAct {
            conv: conv2d(
                p / ci,
                cin,
                cout,
                k,
                stride,
                (k - 1) / 2,
                groups,
                false,
                KAIMING_NORMAL_FAN_OUT,
            ),
            bn: bn(p / (ci + 1), cout),
            relu6,
        }
    }
}

impl ModuleT for ConvBnAct {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = xs.apply(&self.conv).apply_t(&self.bn, train);
        if self.relu6 {
            x.clamp(0.0, 6.0)
        } else {
            x
        }
    }
}

#[derive(Debug)]
struct InvertedResidual {
    layers: nn::SequentialT,
    residual: bool,
}

impl InvertedResidual {
    fn new(p: nn::Path, inp: i64, oup: i64, stride: i64, t: i64) -> Self {
        let hidden = inp * t;
        let cp = &p / "conv";
        let mut layers = nn::seq_t();
        let mut i = 0usize;
        if t != 1 {
            // torchvision: conv.0 is a Conv2dNormActivation (conv.0.0 / conv.0.1).
            layers = layers.add(ConvBnAct::new(&(&cp / i), 0, inp, hidden, 1, 1, 1, true));
            i += 1;
        }
        layers = layers.add(ConvBnAct::new(
            &(&cp / i),
            0,
            hidden,
            hidden,
            3,
            stride,
            hidden,
            true,
        ));
        i += 1;
        layers = layers.add(ConvBnAct::new(&cp, i, hidden, oup, 1, 1, 1, false));
        InvertedResidual {
            layers,
            residual: stride == 1 && inp == oup,
        }
    }
}

impl ModuleT for InvertedResidual {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let y = xs.apply_t(&self.layers, train);
        if self.residual {
            y + xs
        } else {
            y
        }
    }
}

/// MobileNet V2.
#[derive(Debug)]
pub struct MobileNetV2 {
    features: nn::SequentialT,
    classifier: nn::Linear,
}

pub fn mobilenet_v2(p: &nn::Path, style: Style, num_classes: i64) -> MobileNetV2 {
    let settings: [(i64, i64, i64, i64); 7] = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ];
    let fp = p / "features";
    let stem_stride = if style == Style::Cifar { 1 } else { 2 };
    let mut features = nn::seq_t().add(ConvBnAct::new(
        &(&fp / 0),
        0,
        3,
        32,
        3,
        stem_stride,
        1,
        true,
    ));
    let mut cin = 32;
    let mut idx = 1usize;
    for (t, c, n, s) in settings {
        let s = if style == Style::Cifar && c == 24 {
            1
        } else {
            s
        };
        for i in 0..n {
            let stride = if i == 0 { s } else { 1 };
            features = features.add(InvertedResidual::new(&fp / idx, cin, c, stride, t));
            cin = c;
            idx += 1;
        }
    }
    features = features.add(ConvBnAct::new(&(&fp / idx), 0, cin, 1280, 1, 1, 1, true));
    let classifier = linear(
        p / "classifier" / 1,
        1280,
        num_classes,
        Init::Randn {
            mean: 0.0,
            stdev: 0.01,
        },
        Some(Init::Const(0.0)),
    );
    MobileNetV2 {
        features,
        classifier,
    }
}

impl ModuleT for MobileNetV2 {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply_t(&self.features, train)
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .dropout(0.2, train)
            .apply(&self.classifier)
    }
}
