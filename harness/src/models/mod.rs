//! Models the trainer can build by name.
//!
//! `mlp` and `cnn` are the small models for the 8×8 digits; their sizes come from the recipe
//! (`width`, `dropout`).

mod small;

use crate::train::Recipe;
use tch::nn;

/// A network: images `[N, C, H, W]` in, logits `[N, classes]` out.
pub type Model = Box<dyn nn::ModuleT>;

/// Every model name the harness can build.
pub fn model_names() -> Vec<&'static str> {
    small::NAMES.to_vec()
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model \"{name}\": expected one of {}", model_names().join(", "))]
    Unknown { name: String },
    #[error("model \"{name}\": {message}")]
    Invalid { name: String, message: String },
}

/// Builds the recipe's model under `p` for inputs of `image_shape` ([C, H, W]) and
/// `classes` outputs.
pub fn build(
    recipe: &Recipe,
    p: &nn::Path,
    image_shape: [i64; 3],
    classes: i64,
) -> Result<Model, ModelError> {
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

/// Number of trainable scalars in a variable store.
pub fn parameter_count(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}
