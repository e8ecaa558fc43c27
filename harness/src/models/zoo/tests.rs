use super::*;
use crate::data::augment::rng_lock;
use tch::{Device, Kind, Tensor};

/// Trainable parameters of the model built.
fn built_count(name: &str, style: Style, num_classes: i64) -> i64 {
    let _g = rng_lock();
    let vs = nn::VarStore::new(Device::Cpu);
    let _model = tch::no_grad(|| build(name, &vs.root(), style, num_classes)).unwrap();
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

/// The built count, checked equal to the count without building.
fn imagenet_1000(name: &str) -> i64 {
    let built = built_count(name, Style::ImageNet, 1000);
    assert_eq!(param_count(name, Style::ImageNet, 1000).unwrap(), built);
    built
}

/// `harness models` and bench's memory check count without building: the count is the built
/// model's for every model, style and head (two head widths fix body + (features + 1) · c).
#[test]
fn counted_parameters_equal_the_built_models() {
    for name in MODEL_NAMES {
        for style in [Style::ImageNet, Style::Cifar] {
            for classes in [1, 7] {
                assert_eq!(
                    param_count(name, style, classes).unwrap(),
                    built_count(name, style, classes),
                    "{name} {style} {classes} classes"
                );
            }
        }
    }
    assert!(matches!(
        param_count("resnet19", Style::Cifar, 10),
        Err(ZooError::UnknownModel(_))
    ));
    assert!(matches!(
        param_count("resnet18", Style::Cifar, 0),
        Err(ZooError::BadNumClasses(0))
    ));
}

// Expected values: `num_params` of the torchvision model documentation pages.
#[test]
fn params_resnet18() {
    assert_eq!(imagenet_1000("resnet18"), 11_689_512);
}
#[test]
fn params_resnet50() {
    assert_eq!(imagenet_1000("resnet50"), 25_557_032);
}
#[test]
fn params_vgg16() {
    assert_eq!(imagenet_1000("vgg16"), 138_357_544);
}
#[test]
fn params_vgg16_bn() {
    assert_eq!(imagenet_1000("vgg16_bn"), 138_365_992);
}
#[test]
fn params_densenet121() {
    assert_eq!(imagenet_1000("densenet121"), 7_978_856);
}
#[test]
fn params_squeezenet1_1() {
    assert_eq!(imagenet_1000("squeezenet1_1"), 1_235_496);
}
#[test]
fn params_shufflenet_v2_x1_0() {
    assert_eq!(imagenet_1000("shufflenet_v2_x1_0"), 2_278_604);
}
#[test]
fn params_mobilenet_v2() {
    assert_eq!(imagenet_1000("mobilenet_v2"), 3_504_872);
}
#[test]
fn params_resnext50_32x4d() {
    assert_eq!(imagenet_1000("resnext50_32x4d"), 25_028_904);
}
#[test]
fn params_mnasnet1_0() {
    assert_eq!(imagenet_1000("mnasnet1_0"), 4_383_312);
}

#[test]
fn cifar_style_resnet18_params() {
    // Only the stem changes: 7×7×3×64 → 3×3×3×64 weights; with a 10-way head.
    let expected = 11_689_512 - 7 * 7 * 3 * 64 + 3 * 3 * 3 * 64 - 990 * 512 - 990;
    assert_eq!(built_count("resnet18", Style::Cifar, 10), expected);
    assert_eq!(param_count("resnet18", Style::Cifar, 10).unwrap(), expected);
}

#[test]
fn unknown_name_lists_valid_names() {
    let _g = rng_lock();
    let vs = nn::VarStore::new(Device::Cpu);
    let err = build("resnet19", &vs.root(), Style::ImageNet, 10)
        .err()
        .unwrap()
        .to_string();
    for n in MODEL_NAMES {
        assert!(err.contains(n), "{err}");
    }
    assert!(build("resnet18", &vs.root(), Style::ImageNet, 0).is_err());
    assert_eq!("cifar".parse::<Style>().unwrap(), Style::Cifar);
    assert!("foo".parse::<Style>().is_err());
}

#[test]
fn torchvision_variable_names() {
    let _g = rng_lock();
    let vs = nn::VarStore::new(Device::Cpu);
    let _m = build("resnet18", &vs.root(), Style::ImageNet, 1000).unwrap();
    let vars = vs.variables();
    for k in [
        "conv1.weight",
        "bn1.running_mean",
        "layer2.0.downsample.0.weight",
        "layer4.1.bn2.bias",
        "fc.weight",
    ] {
        assert!(vars.contains_key(k), "missing {k}");
    }
    // BN init: weight 1, bias 0.
    assert_eq!(vars["bn1.weight"].sum(Kind::Float).double_value(&[]), 64.0);
}

fn check_forward(name: &str, style: Style, classes: i64) {
    let _g = rng_lock();
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let m = build(name, &vs.root(), style, classes).unwrap();
    let x = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu));
    for train in [true, false] {
        let y = m.forward_t(&x, train);
        assert_eq!(y.size(), vec![2, classes], "{name} {style} train={train}");
        assert!(
            (y.isfinite().all().int64_value(&[]) != 0),
            "{name} {style} non-finite output"
        );
    }
}

#[test]
fn forward_resnet18_both_styles() {
    check_forward("resnet18", Style::ImageNet, 1000);
    check_forward("resnet18", Style::Cifar, 10);
}
#[test]
fn forward_mobilenet_v2_both_styles() {
    check_forward("mobilenet_v2", Style::ImageNet, 1000);
    check_forward("mobilenet_v2", Style::Cifar, 10);
}
#[test]
fn forward_squeezenet_both_styles() {
    check_forward("squeezenet1_1", Style::ImageNet, 1000);
    check_forward("squeezenet1_1", Style::Cifar, 10);
}
#[test]
fn forward_shufflenet_both_styles() {
    check_forward("shufflenet_v2_x1_0", Style::ImageNet, 1000);
    check_forward("shufflenet_v2_x1_0", Style::Cifar, 10);
}
#[test]
fn forward_densenet_mnasnet_imagenet_style() {
    check_forward("densenet121", Style::ImageNet, 10);
    check_forward("mnasnet1_0", Style::ImageNet, 10);
}
#[test]
fn forward_vgg16_bn_cifar_style() {
    check_forward("vgg16_bn", Style::Cifar, 10);
}
