//! SqueezeNet 1.1, after torchvision's `squeezenet.py`.
//!
//! * ImageNet style: 3×3 stride-2 conv (64, no padding) → ReLU → max-pool(3, 2, ceil) →
//!   Fire×2 → max-pool → Fire×2 → max-pool → Fire×4 → Dropout(0.5) → 1×1 conv to classes →
//!   ReLU → global average pool. Init: `final_conv` N(0, 0.01), other convs
//!   `kaiming_uniform_()`, all biases 0. On 32×32 inputs the spatial sizes are 15 → 7 → 3 → 1.
//! * Cifar style: the stem becomes a 3×3 stride-1 padding-1 conv and the max-pool right after
//!   it is removed; the two later max-pools stay (32 → 16 → 8 for the last Fire modules).

use super::{conv2d, Style, KAIMING_UNIFORM_FAN_IN};
use tch::nn::{self, Init, ModuleT};
use tch::Tensor;

#[derive(Debug)]
struct Fire {
    squeeze: nn::Conv2D,
    expand1x1: nn::Conv2D,
    expand3x3: nn::Conv2D,
}

impl Fire {
    fn new(p: nn::Path, cin: i64, squeeze: i64, e1: i64, e3: i64) -> Self {
        let k = KAIMING_UNIFORM_FAN_IN;
        Fire {
            squeeze: conv2d(&p / "squeeze", cin, squeeze, 1, 1, 0, 1, true, k),
            expand1x1: conv2d(&p / "expand1x1", squeeze, e1, 1, 1, 0, 1, true, k),
            expand3x3: conv2d(&p / "expand3x3", squeeze, e3, 3, 1, 1, 1, true, k),
        }
    }
}

impl ModuleT for Fire {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let s = xs.apply(&self.squeeze).relu();
        Tensor::cat(
            &[
                s.apply(&self.expand1x1).relu(),
                s.apply(&self.expand3x3).relu(),
            ],
            1,
        )
    }
}

fn max_pool_ceil(x: &Tensor) -> Tensor {
    x.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], true)
}

/// SqueezeNet 1.1.
#[derive(Debug)]
pub struct SqueezeNet {
    features: nn::SequentialT,
    final_conv: nn::Conv2D,
}

pub fn squeezenet1_1(p: &nn::Path, style: Style, num_classes: i64) -> SqueezeNet {
    let fp = p / "features";
    let k = KAIMING_UNIFORM_FAN_IN;
    let mut f = nn::seq_t();
    f = match style {
        Style::ImageNet => f
            .add(conv2d(&fp / 0, 3, 64, 3, 2, 0, 1, true, k))
            .add_fn(|x| x.relu())
            .add_fn(max_pool_ceil),
        Style::Cifar => f
            .add(conv2d(&fp / 0, 3, 64, 3, 1, 1, 1, true, k))
            .add_fn(|x| x.relu()),
    };
    let f = f
        .add(Fire::new(&fp / 3, 64, 16, 64, 64))
        .add(Fire::new(&fp / 4, 128, 16, 64, 64))
        .add_fn(max_pool_ceil)
        .add(Fire::new(&fp / 6, 128, 32, 128, 128))
        .add(Fire::new(&fp / 7, 256, 32, 128, 128))
        .add_fn(max_pool_ceil)
        .add(Fire::new(&fp / 9, 256, 48, 192, 192))
        .add(Fire::new(&fp / 10, 384, 48, 192, 192))
        .add(Fire::new(&fp / 11, 384, 64, 256, 256))
        .add(Fire::new(&fp / 12, 512, 64, 256, 256));
    let final_conv = conv2d(
        p / "classifier" / 1,
        512,
        num_classes,
        1,
        1,
        0,
        1,
        true,
        Init::Randn {
            mean: 0.0,
            stdev: 0.01,
        },
    );
    SqueezeNet {
        features: f,
        final_conv,
    }
}

impl ModuleT for SqueezeNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply_t(&self.features, train)
            .dropout(0.5, train)
            .apply(&self.final_conv)
            .relu()
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
    }
}
