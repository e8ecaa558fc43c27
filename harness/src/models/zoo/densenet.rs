//! DenseNet-121 (growth 32, blocks 6/12/24/16, 64 initial features, bottleneck width 4×32,
//! compression 0.5, no dropout), after torchvision's `densenet.py`.
//!
//! * ImageNet style: 7×7 stride-2 conv0 (64) → norm0 → ReLU → 3×3 stride-2 max-pool → dense
//!   blocks / transitions → norm5 → ReLU → global average pool → Linear(1024, classes).
//!   Init: convs `kaiming_normal_()` (fan_in), BN 1/0, linear default weight with zero bias.
//!   On 32×32 inputs the last dense block runs at 1×1.
//! * Cifar style (kuangliu `DenseNet121`): conv0 is a 3×3 stride-1 conv to 2×growth = 64
//!   channels and pool0 is removed (32×32 → 4×4 at the last block).

use super::{bn, conv2d, linear, Style, KAIMING_NORMAL_FAN_IN, TORCH_DEFAULT};
use tch::nn::{self, Init, ModuleT};
use tch::Tensor;

const GROWTH: i64 = 32;
const BN_SIZE: i64 = 4;
const BLOCKS: [i64; 4] = [6, 12, 24, 16];
const INIT_FEATURES: i64 = 64;

#[derive(Debug)]
struct DenseLayer {
    norm1: nn::BatchNorm,
    conv1: nn::Conv2D,
    norm2: nn::BatchNorm,
    conv2: nn::Conv2D,
}

impl DenseLayer {
    fn new(p: nn::Path, cin: i64) -> Self {
        let mid = BN_SIZE * GROWTH;
        DenseLayer {
            norm1: bn(&p / "norm1", cin),
            conv1: conv2d(
                &p / "conv1",
                cin,
                mid,
                1,
                1,
                0,
                1,
                false,
                KAIMING_NORMAL_FAN_IN,
            ),
            norm2: bn(&p / "norm2", mid),
            conv2: conv2d(
                &p / "conv2",
                mid,
                GROWTH,
                3,
                1,
                1,
                1,
                false,
                KAIMING_NORMAL_FAN_IN,
            ),
        }
    }
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply_t(&self.norm1, train)
            .relu()
            .apply(&self.conv1)
            .apply_t(&self.norm2, train)
            .relu()
            .apply(&self.conv2)
    }
}

#[derive(Debug)]
struct DenseBlock {
    layers: Vec<DenseLayer>,
}

impl DenseBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut feats = vec![xs.shallow_clone()];
        for l in &self.layers {
            let input = Tensor::cat(&feats, 1);
            feats.push(l.forward_t(&input, train));
        }
        Tensor::cat(&feats, 1)
    }
}

#[derive(Debug)]
struct Transition {
    norm: nn::BatchNorm,
    conv: nn::Conv2D,
}

/// DenseNet-121.
#[derive(Debug)]
pub struct DenseNet {
    conv0: nn::Conv2D,
    norm0: nn::BatchNorm,
    pool0: bool,
    blocks: Vec<DenseBlock>,
    transitions: Vec<Transition>,
    norm5: nn::BatchNorm,
    classifier: nn::Linear,
}

pub fn densenet121(p: &nn::Path, style: Style, num_classes: i64) -> DenseNet {
    let fp = p / "features";
    let (conv0, pool0) = match style {
        Style::ImageNet => (
            conv2d(
                &fp / "conv0",
                3,
                INIT_FEATURES,
                7,
                2,
                3,
                1,
                false,
                KAIMING_NORMAL_FAN_IN,
            ),
            true,
        ),
        Style::Cifar => (
            conv2d(
                &fp / "conv0",
                3,
                INIT_FEATURES,
                3,
                1,
                1,
                1,
                false,
                KAIMING_NORMAL_FAN_IN,
            ),
            false,
        ),
    };
    let norm0 = bn(&fp / "norm0", INIT_FEATURES);
    let mut c = INIT_FEATURES;
    let mut blocks = Vec::new();
    let mut transitions = Vec::new();
    for (i, &n) in BLOCKS.iter().enumerate() {
        let bp = &fp / format!("denseblock{}", i + 1);
        let layers = (0..n)
            .map(|j| DenseLayer::new(&bp / format!("denselayer{}", j + 1), c + j * GROWTH))
            .collect();
        blocks.push(DenseBlock { layers });
        c += n * GROWTH;
        if i + 1 != BLOCKS.len() {
            let tp = &fp / format!("transition{}", i + 1);
            transitions.push(Transition {
                norm: bn(&tp / "norm", c),
                conv: conv2d(
                    &tp / "conv",
                    c,
                    c / 2,
                    1,
                    1,
                    0,
                    1,
                    false,
                    KAIMING_NORMAL_FAN_IN,
                ),
            });
            c /= 2;
        }
    }
    DenseNet {
        conv0,
        norm0,
        pool0,
        blocks,
        transitions,
        norm5: bn(&fp / "norm5", c),
        classifier: linear(
            p / "classifier",
            c,
            num_classes,
            TORCH_DEFAULT,
            Some(Init::Const(0.0)),
        ),
    }
}

impl ModuleT for DenseNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = xs.apply(&self.conv0).apply_t(&self.norm0, train).relu();
        if self.pool0 {
            x = x.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        }
        for (i, b) in self.blocks.iter().enumerate() {
            x = b.forward_t(&x, train);
            if let Some(t) = self.transitions.get(i) {
                x = x.apply_t(&t.norm, train).relu().apply(&t.conv).avg_pool2d(
                    [2, 2],
                    [2, 2],
                    [0, 0],
                    false,
                    true,
                    None::<i64>,
                );
            }
        }
        x.apply_t(&self.norm5, train)
            .relu()
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .apply(&self.classifier)
    }
}
