//! Model zoo: the ten torchvision architectures offered by the lab (`hpo/main.py`), in two styles.
//!
//! * [`Style::ImageNet`] reproduces torchvision's architecture unchanged (same layers, same
//!   parameter count, same variable names as torchvision's `state_dict`, torchvision's
//!   initialisation). This is what the lab trains on 32×32 CIFAR-10 images with a 1000-way head.
//! * [`Style::Cifar`] is the kuangliu/pytorch-cifar-style adaptation: the stem becomes a 3×3
//!   stride-1 convolution and the stem max-pool is dropped. Each family documents the exact
//!   changes in its own module.
//!
//! Every model maps `[N, 3, H, W]` float images to `[N, num_classes]` logits and runs on 32×32
//! inputs in both styles.

pub mod densenet;
pub mod mnasnet;
pub mod mobilenet;
pub mod resnet;
pub mod shufflenet;
pub mod squeezenet;
pub mod vgg;

use tch::nn::{self, Init};

/// Architecture flavour, see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// torchvision's architecture, unchanged.
    ImageNet,
    /// 3×3 stride-1 stem, no stem max-pool (kuangliu-style CIFAR adaptation).
    Cifar,
}

impl Style {
    pub fn as_str(&self) -> &'static str {
        match self {
            Style::ImageNet => "imagenet",
            Style::Cifar => "cifar",
        }
    }
}

impl std::fmt::Display for Style {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Style {
    type Err = ZooError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "imagenet" => Ok(Style::ImageNet),
            "cifar" => Ok(Style::Cifar),
            _ => Err(ZooError::UnknownStyle(s.to_string())),
        }
    }
}

/// A built model. Variables live in the `nn::Path` it was built under.
pub type Model = Box<dyn nn::ModuleT + Send>;

/// The lab's model choices, in the lab's order.
pub const MODEL_NAMES: [&str; 10] = [
    "resnet18",
    "resnet50",
    "vgg16",
    "vgg16_bn",
    "densenet121",
    "squeezenet1_1",
    "shufflenet_v2_x1_0",
    "mobilenet_v2",
    "resnext50_32x4d",
    "mnasnet1_0",
];

#[derive(Debug, thiserror::Error)]
pub enum ZooError {
    #[error("unknown model `{0}`; valid names: {names}", names = MODEL_NAMES.join(", "))]
    UnknownModel(String),
    #[error("unknown model style `{0}`; valid styles: imagenet, cifar")]
    UnknownStyle(String),
    #[error("num_classes must be positive, got {0}")]
    BadNumClasses(i64),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// Builds model `name` with its variables under `p`.
pub fn build(name: &str, p: &nn::Path, style: Style, num_classes: i64) -> Result<Model, ZooError> {
    if num_classes <= 0 {
        return Err(ZooError::BadNumClasses(num_classes));
    }
    let m: Model = match name {
        "resnet18" => Box::new(resnet::resnet18(p, style, num_classes)),
        "resnet50" => Box::new(resnet::resnet50(p, style, num_classes)),
        "resnext50_32x4d" => Box::new(resnet::resnext50_32x4d(p, style, num_classes)),
        "vgg16" => Box::new(vgg::vgg16(p, style, num_classes, false)),
        "vgg16_bn" => Box::new(vgg::vgg16(p, style, num_classes, true)),
        "densenet121" => Box::new(densenet::densenet121(p, style, num_classes)),
        "squeezenet1_1" => Box::new(squeezenet::squeezenet1_1(p, style, num_classes)),
        "shufflenet_v2_x1_0" => Box::new(shufflenet::shufflenet_v2_x1_0(p, style, num_classes)),
        "mobilenet_v2" => Box::new(mobilenet::mobilenet_v2(p, style, num_classes)),
        "mnasnet1_0" => Box::new(mnasnet::mnasnet1_0(p, style, num_classes)),
        _ => return Err(ZooError::UnknownModel(name.to_string())),
    };
    Ok(m)
}

/// Each model's trainable parameters without its classifier, and the classifier's input
/// features, in [`Style::ImageNet`] and [`Style::Cifar`] (taken from the built models and held
/// to them by the tests): a model with a c-way head has body + (features + 1) · c.
const SIZES: [(&str, [(i64, i64); 2]); 10] = [
    ("resnet18", [(11_176_512, 512), (11_168_832, 512)]),
    ("resnet50", [(23_508_032, 2048), (23_500_352, 2048)]),
    ("vgg16", [(134_260_544, 4096), (14_714_688, 512)]),
    ("vgg16_bn", [(134_268_992, 4096), (14_723_136, 512)]),
    ("densenet121", [(6_953_856, 1024), (6_946_176, 1024)]),
    ("squeezenet1_1", [(722_496, 512), (722_496, 512)]),
    ("shufflenet_v2_x1_0", [(1_253_604, 1024), (1_253_604, 1024)]),
    ("mobilenet_v2", [(2_223_872, 1280), (2_223_872, 1280)]),
    ("resnext50_32x4d", [(22_979_904, 2048), (22_972_224, 2048)]),
    ("mnasnet1_0", [(3_102_312, 1280), (3_102_312, 1280)]),
];

/// Number of trainable parameters (BatchNorm running statistics excluded, as in
/// `sum(p.numel() for p in model.parameters())`), counted without building the model: tch 0.24
/// has no meta device, and building them all with a 100000-way head took 3.9 GB.
pub fn param_count(name: &str, style: Style, num_classes: i64) -> Result<i64, ZooError> {
    if num_classes <= 0 {
        return Err(ZooError::BadNumClasses(num_classes));
    }
    let (_, sizes) = SIZES
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| ZooError::UnknownModel(name.to_string()))?;
    let (body, features) = sizes[match style {
        Style::ImageNet => 0,
        Style::Cifar => 1,
    }];
    Ok(body + (features + 1) * num_classes)
}

// ---------------------------------------------------------------------------------------------
// Shared layer helpers (crate-internal).

/// PyTorch's default `Conv2d`/`Linear` weight init: `kaiming_uniform_(a=sqrt(5))`, i.e. a
/// uniform bound of `1/sqrt(fan_in)` (tch's own default uses the ReLU gain instead).
pub(crate) const TORCH_DEFAULT: Init = Init::Kaiming {
    dist: nn::init::NormalOrUniform::Uniform,
    fan: nn::init::FanInOut::FanIn,
    non_linearity: nn::init::NonLinearity::ExplicitGain(0.577_350_269_189_625_8),
};

/// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`.
pub(crate) const KAIMING_NORMAL_FAN_OUT: Init = Init::Kaiming {
    dist: nn::init::NormalOrUniform::Normal,
    fan: nn::init::FanInOut::FanOut,
    non_linearity: nn::init::NonLinearity::ReLU,
};

/// `kaiming_normal_()` with defaults (fan_in, gain sqrt(2)).
pub(crate) const KAIMING_NORMAL_FAN_IN: Init = nn::init::DEFAULT_KAIMING_NORMAL;

/// `kaiming_uniform_()` with defaults (fan_in, gain sqrt(2)).
pub(crate) const KAIMING_UNIFORM_FAN_IN: Init = nn::init::DEFAULT_KAIMING_UNIFORM;

/// Convolution builder. `bias` convs get a zero bias unless `torch_default_bias` is requested.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv2d(
    p: nn::Path,
    cin: i64,
    cout: i64,
    k: i64,
    stride: i64,
    padding: i64,
    groups: i64,
    bias: bool,
    ws_init: Init,
) -> nn::Conv2D {
    let cfg = nn::ConvConfig {
        stride,
        padding,
        groups,
        bias,
        ws_init,
        bs_init: Init::Const(0.0),
        ..Default::default()
    };
    nn::conv2d(p, cin, cout, k, cfg)
}

/// BatchNorm2d with weight 1, bias 0 and the given momentum (PyTorch semantics).
pub(crate) fn bn_m(p: nn::Path, c: i64, momentum: f64) -> nn::BatchNorm {
    let cfg = nn::BatchNormConfig {
        momentum,
        ws_init: Init::Const(1.0),
        bs_init: Init::Const(0.0),
        ..Default::default()
    };
    nn::batch_norm2d(p, c, cfg)
}

/// BatchNorm2d with PyTorch defaults (momentum 0.1, eps 1e-5, weight 1, bias 0).
pub(crate) fn bn(p: nn::Path, c: i64) -> nn::BatchNorm {
    bn_m(p, c, 0.1)
}

/// Linear layer with explicit weight init and either a constant bias or PyTorch's default bias
/// (`U(-1/sqrt(fan_in), 1/sqrt(fan_in))`) when `bias` is `None`.
pub(crate) fn linear(p: nn::Path, i: i64, o: i64, ws_init: Init, bias: Option<Init>) -> nn::Linear {
    nn::linear(
        p,
        i,
        o,
        nn::LinearConfig {
            ws_init,
            bs_init: bias,
            bias: true,
        },
    )
}

#[cfg(test)]
mod tests;
