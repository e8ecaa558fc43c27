//! Models the trainer can build by name.
//!
//! `mlp` and `cnn` are the small models for the 8×8 digits; their sizes come from the recipe
//! (`width`, `dropout`). The ten torchvision models of the lab ([`zoo`]) take 3-channel images
//! and come in two styles (`recipe.style`: "imagenet" = torchvision unchanged, "cifar" = 3×3
//! stride-1 stem without the stem max-pool).
//!
//! The classifier head has `recipe.head_classes` outputs when set (the lab keeps torchvision's
//! 1000-way head on CIFAR-10), else the dataset's class count.

pub mod memory;
mod small;
pub mod zoo;

use crate::train::Recipe;
use tch::nn;

/// A network: images `[N, C, H, W]` in, logits `[N, classes]` out.
pub type Model = Box<dyn nn::ModuleT>;

/// Every model name the harness can build.
pub fn model_names() -> Vec<&'static str> {
    small::NAMES
        .iter()
        .chain(zoo::MODEL_NAMES.iter())
        .copied()
        .collect()
}

/// Whether `name` is one of the ten torchvision models.
pub fn is_zoo(name: &str) -> bool {
    zoo::MODEL_NAMES.contains(&name)
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model \"{name}\": expected one of {}", model_names().join(", "))]
    Unknown { name: String },
    #[error("model \"{name}\": {message}")]
    Invalid { name: String, message: String },
}

/// Builds the recipe's model under `p` for inputs of `image_shape` ([C, H, W]) and a dataset
/// of `classes` classes (the head has `recipe.head_classes` outputs when set; fewer than
/// `classes` is an error).
pub fn build(
    recipe: &Recipe,
    p: &nn::Path,
    image_shape: [i64; 3],
    classes: i64,
) -> Result<Model, ModelError> {
    let invalid = |message: String| ModelError::Invalid {
        name: recipe.model.clone(),
        message,
    };
    let classes = match recipe.head_classes {
        Some(h) if h < classes => {
            return Err(invalid(format!(
                "head_classes = {h} is smaller than the dataset's {classes} classes"
            )))
        }
        Some(h) => h,
        None => classes,
    };
    if is_zoo(&recipe.model) {
        if image_shape[0] != 3 || image_shape[1] < 32 || image_shape[2] < 32 {
            return Err(invalid(format!(
                "needs 3-channel images of at least 32×32 (e.g. cifar10), the dataset has {}×{}×{}",
                image_shape[0], image_shape[1], image_shape[2]
            )));
        }
        let m: Model = zoo::build(&recipe.model, p, recipe.style, classes)
            .map_err(|e| invalid(e.to_string()))?;
        return Ok(m);
    }
    match recipe.model.as_str() {
        "mlp" => Ok(Box::new(small::mlp(
            p,
            image_shape,
            recipe.width,
            recipe.dropout,
            classes,
        ))),
        "cnn" => Ok(Box::new(small::cnn(
            p,
            image_shape,
            recipe.width,
            recipe.dropout,
            classes,
        ))),
        other => Err(ModelError::Unknown {
            name: other.to_string(),
        }),
    }
}

/// Why the recipe's model cannot be trained in `memory` (see [`crate::env::MemoryBudget`]):
/// its weights, their gradients and the optimizer's state (4 bytes a value each) alone would
/// not fit. Checked before the model is built: on Linux an allocation that size is granted
/// and then the kernel kills the process (no message, the result left "running"). The small
/// models only: their size comes from `width`; the zoo's sizes are fixed (the largest, vgg,
/// needs about 2 GB).
pub fn memory_problem(
    recipe: &Recipe,
    image_shape: [i64; 3],
    classes: i64,
    memory: crate::env::MemoryBudget,
) -> Option<String> {
    let classes = recipe.head_classes.unwrap_or(classes);
    let params = small::parameters(&recipe.model, image_shape, recipe.width, classes)?;
    let copies = 2.0 + recipe.optimizer.state_slots(recipe.momentum) as f64;
    let needed = params * 4.0 * copies;
    let gb = |b: f64| b / 1e9;
    (needed > memory.bytes as f64).then(|| {
        format!(
            "model {} of width {} has {:.3e} parameters: training it needs at least {:.1} GB \
             (weights, gradients and optimizer state) and {memory}; lower width",
            recipe.model,
            recipe.width,
            params,
            gb(needed),
        )
    })
}

/// Number of trainable scalars in a variable store.
pub fn parameter_count(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

/// One row of `harness models`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelRow {
    pub model: String,
    /// "small" (mlp, cnn: sized by the recipe) or "torchvision" (the zoo).
    pub family: String,
    /// Trainable parameters by style ("imagenet", "cifar"); for mlp/cnn a single entry
    /// "digits" (1×8×8 inputs, width 32, 10 classes).
    pub parameters: serde_json::Map<String, serde_json::Value>,
}

/// Every model with its parameter count(s); zoo heads have `classes` outputs. Nothing is
/// built: the counts are computed.
pub fn catalogue(classes: i64) -> anyhow::Result<Vec<ModelRow>> {
    let mut rows = Vec::new();
    for name in small::NAMES {
        let count = small::parameters(name, [1, 8, 8], 32, 10).expect("a small model") as i64;
        let mut parameters = serde_json::Map::new();
        parameters.insert("digits".into(), count.into());
        rows.push(ModelRow {
            model: name.to_string(),
            family: "small".into(),
            parameters,
        });
    }
    for name in zoo::MODEL_NAMES {
        let mut parameters = serde_json::Map::new();
        for style in [zoo::Style::ImageNet, zoo::Style::Cifar] {
            let n = zoo::param_count(name, style, classes)?;
            parameters.insert(style.to_string(), n.into());
        }
        rows.push(ModelRow {
            model: name.to_string(),
            family: "torchvision".into(),
            parameters,
        });
    }
    Ok(rows)
}

/// The table `harness models` prints.
pub fn catalogue_table(rows: &[ModelRow], classes: i64) -> String {
    let mut b = tabled::builder::Builder::default();
    b.push_record([
        "model".to_string(),
        format!("imagenet style ({classes}-way head)"),
        format!("cifar style ({classes}-way head)"),
        "note".to_string(),
    ]);
    let get = |r: &ModelRow, k: &str| {
        r.parameters
            .get(k)
            .and_then(|v| v.as_i64())
            .map(group_thousands)
            .unwrap_or_else(|| "-".into())
    };
    for r in rows {
        if r.family == "small" {
            b.push_record([
                r.model.clone(),
                "-".into(),
                "-".into(),
                format!(
                    "{} on 8×8 digits at width 32, 10 classes (sized by the recipe)",
                    get(r, "digits")
                ),
            ]);
        } else {
            b.push_record([
                r.model.clone(),
                get(r, "imagenet"),
                get(r, "cifar"),
                String::new(),
            ]);
        }
    }
    let mut table = b.build();
    table.with(tabled::settings::Style::rounded());
    table.to_string()
}

fn group_thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MemoryBudget;

    /// The count that decides whether a model fits is the count of the model built.
    #[test]
    fn small_model_parameters_are_counted_without_building() {
        for (shape, width, classes) in [
            ([1, 8, 8], 3, 10),
            ([1, 8, 8], 32, 10),
            ([3, 32, 32], 5, 1000),
        ] {
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let _m = small::mlp(&vs.root(), shape, width, 0.0, classes);
            let built = parameter_count(&vs) as f64;
            assert_eq!(small::parameters("mlp", shape, width, classes), Some(built));
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let _m = small::cnn(&vs.root(), shape, width, 0.0, classes);
            let built = parameter_count(&vs) as f64;
            assert_eq!(small::parameters("cnn", shape, width, classes), Some(built));
        }
        assert_eq!(small::parameters("resnet18", [3, 32, 32], 8, 10), None);
    }

    /// `harness models` prints the built models' counts, without building them.
    #[test]
    fn the_catalogue_counts_are_the_built_models() {
        let _g = crate::data::augment::rng_lock();
        let rows = catalogue(3).unwrap();
        let row = |name: &str| rows.iter().find(|r| r.model == name).unwrap();
        for name in small::NAMES {
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let mut r = recipe(name, None);
            r.width = 32;
            let _m = build(&r, &vs.root(), [1, 8, 8], 10).unwrap();
            assert_eq!(row(name).parameters["digits"], parameter_count(&vs));
        }
        for name in ["resnet18", "squeezenet1_1", "mobilenet_v2"] {
            for style in [zoo::Style::ImageNet, zoo::Style::Cifar] {
                let vs = nn::VarStore::new(tch::Device::Cpu);
                let _m = zoo::build(name, &vs.root(), style, 3).unwrap();
                assert_eq!(
                    row(name).parameters[style.as_str()],
                    parameter_count(&vs),
                    "{name} {style}"
                );
            }
        }
        // The widest head: vgg16's 4096 features + 1 bias per class.
        let rows = catalogue(100_000).unwrap();
        let vgg = rows.iter().find(|r| r.model == "vgg16").unwrap();
        assert_eq!(vgg.parameters["imagenet"], 134_260_544 + 4097 * 100_000);
        assert_eq!(vgg.parameters["cifar"], 14_714_688 + 513 * 100_000);
    }

    #[test]
    fn a_model_whose_training_state_exceeds_memory_is_refused() {
        let mut r = recipe("mlp", None);
        r.width = 65536;
        r.momentum = 0.9;
        // 64·65536 + 65536² + 65536·10 weights and biases ≈ 4.30e9; ×4 bytes ×3 (weights,
        // gradients, momentum) ≈ 51.6 GB.
        let e = memory_problem(&r, [1, 8, 8], 10, MemoryBudget::machine(24_000_000_000)).unwrap();
        assert_eq!(
            e,
            "model mlp of width 65536 has 4.300e9 parameters: training it needs at least 51.6 GB \
             (weights, gradients and optimizer state) and this machine has 24.0 GB of memory; \
             lower width"
        );
        assert_eq!(
            memory_problem(&r, [1, 8, 8], 10, MemoryBudget::machine(60_000_000_000)),
            None
        );
        // Without momentum, plain SGD keeps no state: 34.4 GB.
        r.momentum = 0.0;
        assert_eq!(
            memory_problem(&r, [1, 8, 8], 10, MemoryBudget::machine(40_000_000_000)),
            None
        );
        // The zoo's sizes are fixed and small.
        assert_eq!(
            memory_problem(
                &recipe("resnet18", None),
                [3, 32, 32],
                10,
                MemoryBudget::machine(1)
            ),
            None
        );
    }

    fn recipe(model: &str, head: Option<i64>) -> Recipe {
        let mut r: Recipe = serde_json::from_value(serde_json::json!({
            "model": model, "optimizer": "sgd", "initial_lr": 0.1, "epochs": 1, "batch_size": 8
        }))
        .unwrap();
        r.head_classes = head;
        r
    }

    #[test]
    fn names_heads_and_shapes() {
        let names = model_names();
        assert_eq!(names.len(), 12);
        assert_eq!(&names[..3], ["mlp", "cnn", "resnet18"]);
        assert_eq!(recipe("resnet18", None).style, zoo::Style::Cifar);
        let vs = nn::VarStore::new(tch::Device::Cpu);
        // A head narrower than the dataset's classes is refused.
        let e = build(&recipe("cnn", Some(5)), &vs.root(), [1, 8, 8], 10)
            .err()
            .unwrap();
        assert!(e.to_string().contains("head_classes"), "{e}");
        // Zoo models need 3-channel 32×32 images.
        let e = build(&recipe("squeezenet1_1", None), &vs.root(), [1, 8, 8], 10)
            .err()
            .unwrap();
        assert!(e.to_string().contains("3-channel"), "{e}");
        // A wider head works: 1000 logits for 10 classes.
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let m = build(&recipe("mlp", Some(1000)), &vs.root(), [1, 8, 8], 10).unwrap();
        let y = m.forward_t(
            &tch::Tensor::zeros([2, 1, 8, 8], tch::kind::FLOAT_CPU),
            false,
        );
        assert_eq!(y.size(), vec![2, 1000]);
    }
}
