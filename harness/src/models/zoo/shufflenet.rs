//! ShuffleNet V2 ×1.0 (stage repeats 4/8/4, channels 24/116/232/464/1024), after torchvision's
//! `shufflenetv2.py`.
//!
//! * ImageNet style: 3×3 stride-2 conv (24) → BN → ReLU → max-pool(3, 2, 1) → stages 2–4 →
//!   1×1 conv (1024) → BN → ReLU → spatial mean → Linear(1024, classes). torchvision applies
//!   no custom init, so convs and the linear use PyTorch's defaults; BN 1/0.
//! * Cifar style (kuangliu `ShuffleNetV2`): the stem conv has stride 1 and the max-pool is
//!   removed (32×32 → 4×4 at conv5).

use super::{bn, conv2d, linear, Style, TORCH_DEFAULT};
use tch::nn::{self, ModuleT};
use tch::Tensor;

fn channel_shuffle(x: &Tensor, groups: i64) -> Tensor {
    let s = x.size();
    let (b, c, h, w) = (s[0], s[1], s[2], s[3]);
    x.view([b, groups, c / groups, h, w])
        .transpose(1, 2)
        .contiguous()
        .view([b, c, h, w])
}

#[derive(Debug)]
struct ConvBn {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
}

impl ConvBn {
    #[allow(clippy::too_many_arguments)]
    fn new(
        p: &nn::Path,
        ci: usize,
        bi: usize,
        cin: i64,
        cout: i64,
        k: i64,
        stride: i64,
        groups: i64,
    ) -> Self {
        ConvBn {
            conv: conv2d(
                p / ci,
                cin,
                cout,
                k,
                stride,
                (k - 1) / 2,
                groups,
                false,
                TORCH_DEFAULT,
            ),
            bn: bn(p / bi, cout),
        }
    }
    fn fwd(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply(&self.conv).apply_t(&self.bn, train)
    }
}

#[derive(Debug)]
struct InvertedResidual {
    stride: i64,
    branch1: Option<(ConvBn, ConvBn)>,
    branch2: (ConvBn, ConvBn, ConvBn),
}

impl InvertedResidual {
    fn new(p: nn::Path, inp: i64, oup: i64, stride: i64) -> Self {
        let bf = oup / 2;
        let branch1 = (stride > 1).then(|| {
            let b = &p / "branch1";
            (
                ConvBn::new(&b, 0, 1, inp, inp, 3, stride, inp),
                ConvBn::new(&b, 2, 3, inp, bf, 1, 1, 1),
            )
        });
        let b = &p / "branch2";
        let cin = if stride > 1 { inp } else { bf };
        let branch2 = (
            ConvBn::new(&b, 0, 1, cin, bf, 1, 1, 1),
            ConvBn::new(&b, 3, 4, bf, bf, 3, stride, bf),
            ConvBn::new(&b, 5, 6, bf, bf, 1, 1, 1),
        );
        InvertedResidual {
            stride,
            branch1,
            branch2,
        }
    }

    fn branch2(&self, x: &Tensor, train: bool) -> Tensor {
        let (a, b, c) = &self.branch2;
        c.fwd(&b.fwd(&a.fwd(x, train).relu(), train), train).relu()
    }
}

impl ModuleT for InvertedResidual {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let out = match &self.branch1 {
            None => {
                debug_assert_eq!(self.stride, 1);
                let parts = xs.chunk(2, 1);
                Tensor::cat(
                    &[parts[0].shallow_clone(), self.branch2(&parts[1], train)],
                    1,
                )
            }
            Some((a, b)) => {
                let b1 = b.fwd(&a.fwd(xs, train), train).relu();
                Tensor::cat(&[b1, self.branch2(xs, train)], 1)
            }
        };
        channel_shuffle(&out, 2)
    }
}

/// ShuffleNet V2.
#[derive(Debug)]
pub struct ShuffleNetV2 {
    conv1: ConvBn,
    maxpool: bool,
    stages: Vec<nn::SequentialT>,
    conv5: ConvBn,
    fc: nn::Linear,
}

pub fn shufflenet_v2_x1_0(p: &nn::Path, style: Style, num_classes: i64) -> ShuffleNetV2 {
    let repeats = [4i64, 8, 4];
    let channels = [24i64, 116, 232, 464, 1024];
    let (stride, maxpool) = match style {
        Style::ImageNet => (2, true),
        Style::Cifar => (1, false),
    };
    let conv1 = ConvBn::new(&(p / "conv1"), 0, 1, 3, channels[0], 3, stride, 1);
    let mut cin = channels[0];
    let mut stages = Vec::new();
    for (i, (&r, &cout)) in repeats.iter().zip(&channels[1..4]).enumerate() {
        let sp = p / format!("stage{}", i + 2);
        let mut seq = nn::seq_t().add(InvertedResidual::new(&sp / 0, cin, cout, 2));
        for j in 1..r {
            seq = seq.add(InvertedResidual::new(&sp / j, cout, cout, 1));
        }
        stages.push(seq);
        cin = cout;
    }
    let conv5 = ConvBn::new(&(p / "conv5"), 0, 1, cin, channels[4], 1, 1, 1);
    let fc = linear(p / "fc", channels[4], num_classes, TORCH_DEFAULT, None);
    ShuffleNetV2 {
        conv1,
        maxpool,
        stages,
        conv5,
        fc,
    }
}

impl ModuleT for ShuffleNetV2 {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = self.conv1.fwd(xs, train).relu();
        if self.maxpool {
            x = x.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        }
        for s in &self.stages {
            x = x.apply_t(s, train);
        }
        self.conv5
            .fwd(&x, train)
            .relu()
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .apply(&self.fc)
    }
}
