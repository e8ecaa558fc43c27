//! VGG-16 (configuration "D"), with or without batch norm, after torchvision's `vgg.py`.
//!
//! * ImageNet style: 13 3×3 convs (+BN) with 5 max-pools → adaptive average pool to 7×7 →
//!   Linear(25088, 4096) → ReLU → Dropout(0.5) → Linear(4096, 4096) → ReLU → Dropout(0.5) →
//!   Linear(4096, classes). On 32×32 inputs the features are 1×1 and the adaptive pool
//!   replicates them to 7×7, exactly as torchvision does. Init: convs
//!   `kaiming_normal_(fan_out, relu)` with zero bias, BN 1/0, linears N(0, 0.01) with zero bias.
//! * Cifar style (kuangliu `VGG('VGG16')`): same conv stack (VGG has no stem to change), then
//!   the 512×1×1 features go straight into a single Linear(512, classes); the 7×7 pool and the
//!   two 4096-wide hidden layers are dropped.

use super::{bn, conv2d, linear, Style, KAIMING_NORMAL_FAN_OUT};
use tch::nn::{self, Init, ModuleT};
use tch::Tensor;

const CFG_D: [i64; 18] = [
    64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
];

/// A VGG network.
#[derive(Debug)]
pub struct Vgg {
    features: nn::SequentialT,
    classifier: Vec<nn::Linear>,
    style: Style,
}

pub fn vgg16(p: &nn::Path, style: Style, num_classes: i64, batch_norm: bool) -> Vgg {
    let fp = p / "features";
    let mut features = nn::seq_t();
    let mut idx = 0usize;
    let mut cin = 3;
    for &v in CFG_D.iter() {
        if v == 0 {
            features = features.add_fn(|x| x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false));
            idx += 1;
        } else {
            features = features.add(conv2d(
                &fp / idx,
                cin,
                v,
                3,
                1,
                1,
                1,
                true,
                KAIMING_NORMAL_FAN_OUT,
            ));
            idx += 1;
            if batch_norm {
                features = features.add(bn(&fp / idx, v));
                idx += 1;
            }
            features = features.add_fn(|x| x.relu());
            idx += 1;
            cin = v;
        }
    }
    let cp = p / "classifier";
    let w = Init::Randn {
        mean: 0.0,
        stdev: 0.01,
    };
    let b = Some(Init::Const(0.0));
    let classifier = match style {
        Style::ImageNet => vec![
            linear(&cp / 0, 512 * 7 * 7, 4096, w, b),
            linear(&cp / 3, 4096, 4096, w, b),
            linear(&cp / 6, 4096, num_classes, w, b),
        ],
        Style::Cifar => vec![linear(&cp / 0, 512, num_classes, w, b)],
    };
    Vgg {
        features,
        classifier,
        style,
    }
}

impl ModuleT for Vgg {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = xs.apply_t(&self.features, train);
        match self.style {
            Style::ImageNet => x
                .adaptive_avg_pool2d([7, 7])
                .flatten(1, -1)
                .apply(&self.classifier[0])
                .relu()
                .dropout(0.5, train)
                .apply(&self.classifier[1])
                .relu()
                .dropout(0.5, train)
                .apply(&self.classifier[2]),
            Style::Cifar => x
                .adaptive_avg_pool2d([1, 1])
                .flatten(1, -1)
                .apply(&self.classifier[0]),
        }
    }
}
