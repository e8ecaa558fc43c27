//! A training recipe: model, optimizer, schedule and budget. Field names follow the lab's
//! `hpo/main.py` arguments (initial_lr, weight_decay, ending_lr, ...), so an NNI search space
//! written for the lab names the same fields.
use super::OptimizerKind;
pub use crate::models::zoo::Style;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// Constant learning rate.
    #[default]
    None,
    /// Multiply by `gamma` every `step_size` epochs.
    Step,
    /// Cosine from `initial_lr` to `ending_lr` over `epochs`, updated once per epoch.
    Cosine,
    /// The lab's original: cosine with T_max = epochs, but stepped after every mini-batch.
    CosinePerStep,
}

impl ScheduleKind {
    pub const NAMES: [&'static str; 4] = ["none", "step", "cosine", "cosine_per_step"];
}

/// Which test accuracy a run reports as its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReportedAccuracy {
    /// The last epoch's (the lab's "Final accuracy"; honest: no selection on the test set).
    #[default]
    Last,
    /// The best epoch's (DARTS' retrain script reports this; it selects on the test set).
    Best,
}

/// Per-batch training augmentation (datasets stored as u8 images, i.e. CIFAR-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AugmentKind {
    /// No augmentation.
    #[default]
    None,
    /// The lab's: random 32×32 crop of the image zero-padded by 4, then horizontal flip p = 0.5.
    CropFlip,
}

impl AugmentKind {
    pub const NAMES: [&'static str; 2] = ["none", "crop_flip"];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Model name (`harness models` lists them).
    pub model: String,
    /// Hidden units (mlp) or channels of the first convolution (cnn).
    #[serde(default = "default_width")]
    pub width: i64,
    #[serde(default)]
    pub dropout: f64,
    /// Zoo models only: "cifar" (default: 3×3 stride-1 stem, no stem max-pool, the usual
    /// CIFAR adaptation) or "imagenet" (torchvision's architecture unchanged, as the lab's
    /// `hpo/main.py` trains it). Ignored by mlp and cnn.
    #[serde(default = "default_style")]
    pub style: Style,
    /// Width of the classifier head; `None` = the dataset's class count. The lab keeps
    /// torchvision's 1000-way head on CIFAR-10 (labels 0–9 index into 1000 logits); must be
    /// at least the dataset's class count.
    #[serde(default)]
    pub head_classes: Option<i64>,
    /// Per-batch augmentation of the training images (u8-image datasets only).
    #[serde(default)]
    pub augment: AugmentKind,
    /// Cutout square side in pixels, applied after normalisation to every training image
    /// (the lab's `--cutout`); 0 = off. u8-image datasets only.
    #[serde(default)]
    pub cutout: i64,
    pub optimizer: OptimizerKind,
    pub initial_lr: f64,
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub nesterov: bool,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub schedule: ScheduleKind,
    /// Final learning rate of the cosine schedules (PyTorch's eta_min).
    #[serde(default)]
    pub ending_lr: f64,
    /// Step schedule: epochs between decays, and the decay factor.
    #[serde(default = "default_step_size")]
    pub step_size: usize,
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    pub epochs: usize,
    pub batch_size: usize,
    /// Clip the gradient's global L2 norm to this value; 0 turns clipping off.
    #[serde(default)]
    pub grad_clip: f64,
    #[serde(default)]
    pub report: ReportedAccuracy,
}

fn default_width() -> i64 {
    32
}
fn default_style() -> Style {
    Style::Cifar
}
fn default_step_size() -> usize {
    30
}
fn default_gamma() -> f64 {
    0.1
}

/// A recipe field with an invalid value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RecipeError {
    pub field: String,
    pub message: String,
}

impl Recipe {
    /// Why `field` has no effect on training under this recipe (the condition under which it
    /// would), or None when it does. A search that varies such a field spends its trials on
    /// differences that are not there, and a recipe that sets one is misread by its reader.
    pub fn unused_field(&self, field: &str) -> Option<&'static str> {
        let small = !crate::models::is_zoo(&self.model);
        let cosine = matches!(
            self.schedule,
            ScheduleKind::Cosine | ScheduleKind::CosinePerStep
        );
        match field {
            "momentum" if self.optimizer == OptimizerKind::Adam => {
                Some("used only with optimizer = \"sgd\" or \"rmsprop\"")
            }
            "nesterov" if self.optimizer != OptimizerKind::Sgd => {
                Some("used only with optimizer = \"sgd\"")
            }
            "ending_lr" if !cosine => {
                Some("used only with schedule = \"cosine\" or \"cosine_per_step\"")
            }
            "step_size" | "gamma" if self.schedule != ScheduleKind::Step => {
                Some("used only with schedule = \"step\"")
            }
            "style" if small => Some("used only by the torchvision models, not mlp or cnn"),
            "width" | "dropout" if !small => Some("used only by the models mlp and cnn"),
            _ => None,
        }
    }

    /// Checks every range; the error names the field.
    pub fn validate(&self) -> Result<(), RecipeError> {
        use super::ranges;
        let bad = |field: &str, message: String| {
            Err(RecipeError {
                field: field.to_string(),
                message,
            })
        };
        let within = |field: &str, check: ranges::Check| {
            check.map_err(|message| RecipeError {
                field: field.to_string(),
                message,
            })
        };
        let finite_in = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
        within("initial_lr", ranges::positive(self.initial_lr))?;
        within("momentum", ranges::below_one(self.momentum))?;
        if self.nesterov && (self.momentum == 0.0 || self.optimizer != OptimizerKind::Sgd) {
            return bad(
                "nesterov",
                "needs optimizer = \"sgd\" and momentum > 0".to_string(),
            );
        }
        within("weight_decay", ranges::fraction(self.weight_decay))?;
        within(
            "ending_lr",
            ranges::lr_floor(self.ending_lr, "initial_lr", self.initial_lr),
        )?;
        if !finite_in(self.dropout, 0.0, 0.99) {
            return bad(
                "dropout",
                format!("must be in [0, 0.99], got {}", self.dropout),
            );
        }
        within(
            "grad_clip",
            ranges::non_negative(self.grad_clip, Some("0 = off")),
        )?;
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return bad("gamma", format!("must be in (0, 1], got {}", self.gamma));
        }
        if self.step_size == 0 {
            return bad("step_size", "must be >= 1".to_string());
        }
        within("epochs", ranges::count(self.epochs))?;
        within("batch_size", ranges::count(self.batch_size))?;
        if !(1..=65_536).contains(&self.width) {
            return bad(
                "width",
                format!("must be in [1, 65536], got {}", self.width),
            );
        }
        if let Some(h) = self.head_classes {
            if !(1..=1_000_000).contains(&h) {
                return bad("head_classes", format!("must be in [1, 1000000], got {h}"));
            }
        }
        within("cutout", ranges::cutout(self.cutout))?;
        if !crate::models::model_names().contains(&self.model.as_str()) {
            return bad(
                "model",
                format!(
                    "unknown model \"{}\": expected one of {}",
                    self.model,
                    crate::models::model_names().join(", ")
                ),
            );
        }
        Ok(())
    }

    /// The recipe with some fields replaced (by name), e.g. by an HPO trial's parameters.
    /// The result is validated; an unknown field or a value of the wrong type is an error.
    pub fn with_overrides(
        &self,
        overrides: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Recipe, RecipeError> {
        let mut value = serde_json::to_value(self).expect("a recipe serialises");
        let map = value.as_object_mut().expect("a recipe is an object");
        for (key, v) in overrides {
            if !map.contains_key(key) {
                return Err(RecipeError {
                    field: key.clone(),
                    message: "not a recipe field".to_string(),
                });
            }
            map.insert(key.clone(), v.clone());
        }
        let recipe: Recipe = serde_json::from_value(value).map_err(|e| RecipeError {
            field: overrides.keys().cloned().collect::<Vec<_>>().join(", "),
            message: e.to_string(),
        })?;
        recipe.validate()?;
        Ok(recipe)
    }

    /// "name=value" pairs for the report's hyper-parameter column, in a stable order.
    pub fn summary_pairs(&self) -> Vec<(String, String)> {
        self.summary_pairs_showing(&[])
    }

    /// [`Recipe::summary_pairs`], where the fields named in `chosen` (a search's choices) are
    /// shown whatever their value: a chosen `dropout = 0` is a result of the search, not a
    /// default to leave out.
    pub fn summary_pairs_showing(&self, chosen: &[&str]) -> Vec<(String, String)> {
        let mut pairs = vec![("model".to_string(), self.model.clone())];
        let chosen = |field: &str| chosen.contains(&field);
        // Only the fields that act on this recipe (zoo models have fixed widths, Adam has no
        // momentum, …): the same rule that refuses a suite key that changes nothing.
        let used = |field: &str| self.unused_field(field).is_none();
        // A chosen field that does not act on this recipe (momentum the search drew for Adam) is
        // still shown: the caller says it had no effect.
        let used = |field: &str| used(field) || chosen(field);
        if used("width") {
            pairs.push(("width".to_string(), self.width.to_string()));
        }
        if self.dropout > 0.0 || chosen("dropout") {
            pairs.push(("dropout".into(), fmt_num(self.dropout)));
        }
        if used("style") {
            pairs.push(("style".into(), self.style.to_string()));
        }
        if let Some(h) = self.head_classes {
            pairs.push(("head_classes".into(), h.to_string()));
        }
        if self.augment != AugmentKind::None || chosen("augment") {
            let augment = serde_json::to_value(self.augment).unwrap_or_default();
            pairs.push((
                "augment".into(),
                augment.as_str().unwrap_or("?").to_string(),
            ));
        }
        if self.cutout > 0 || chosen("cutout") {
            pairs.push(("cutout".into(), self.cutout.to_string()));
        }
        let optimizer = serde_json::to_value(self.optimizer).unwrap_or_default();
        pairs.push((
            "optimizer".into(),
            optimizer.as_str().unwrap_or("?").to_string(),
        ));
        pairs.push(("initial_lr".into(), fmt_num(self.initial_lr)));
        if used("momentum") {
            pairs.push(("momentum".into(), fmt_num(self.momentum)));
        }
        if self.nesterov || chosen("nesterov") {
            pairs.push(("nesterov".into(), self.nesterov.to_string()));
        }
        pairs.push(("weight_decay".into(), fmt_num(self.weight_decay)));
        let schedule = serde_json::to_value(self.schedule).unwrap_or_default();
        pairs.push((
            "schedule".into(),
            schedule.as_str().unwrap_or("?").to_string(),
        ));
        if used("ending_lr") {
            pairs.push(("ending_lr".into(), fmt_num(self.ending_lr)));
        }
        if used("step_size") {
            pairs.push(("step_size".into(), self.step_size.to_string()));
            pairs.push(("gamma".into(), fmt_num(self.gamma)));
        }
        pairs.push(("epochs".into(), self.epochs.to_string()));
        pairs.push(("batch_size".into(), self.batch_size.to_string()));
        if self.grad_clip > 0.0 || chosen("grad_clip") {
            pairs.push(("grad_clip".into(), fmt_num(self.grad_clip)));
        }
        let report = serde_json::to_value(self.report).unwrap_or_default();
        pairs.push(("report".into(), report.as_str().unwrap_or("?").to_string()));
        pairs
    }
}

/// Short decimal form with at most 4 significant digits: 0.1 → "0.1", 5e-4 → "5e-4",
/// 0.4261627700690564 → "0.4262", 1e300 → "1e300" (not its 301 digits).
pub fn fmt_num(v: f64) -> String {
    let v: f64 = format!("{v:.3e}").parse().unwrap_or(v);
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe() -> Recipe {
        serde_json::from_value(serde_json::json!({
            "model": "cnn", "optimizer": "sgd", "initial_lr": 0.1, "momentum": 0.9,
            "epochs": 10, "batch_size": 64
        }))
        .unwrap()
    }

    #[test]
    fn validation_names_the_field() {
        let mut r = recipe();
        r.initial_lr = 0.0;
        assert_eq!(r.validate().unwrap_err().field, "initial_lr");
        let mut r = recipe();
        r.momentum = 1.5;
        assert_eq!(r.validate().unwrap_err().field, "momentum");
        let mut r = recipe();
        r.model = "resnet9000".into();
        let e = r.validate().unwrap_err();
        assert_eq!(e.field, "model");
        assert!(e.message.contains("mlp, cnn"), "{e}");
        assert!(recipe().validate().is_ok());
    }

    #[test]
    fn overrides_replace_fields_and_reject_unknown_or_mistyped() {
        let mut o = serde_json::Map::new();
        o.insert("initial_lr".into(), serde_json::json!(0.01));
        o.insert("optimizer".into(), serde_json::json!("adam"));
        let r = recipe().with_overrides(&o).unwrap();
        assert_eq!(r.initial_lr, 0.01);
        assert_eq!(r.optimizer, OptimizerKind::Adam);
        let mut bad = serde_json::Map::new();
        bad.insert("learning_rate".into(), serde_json::json!(0.01));
        assert_eq!(
            recipe().with_overrides(&bad).unwrap_err().field,
            "learning_rate"
        );
        let mut bad = serde_json::Map::new();
        bad.insert("batch_size".into(), serde_json::json!("big"));
        assert_eq!(
            recipe().with_overrides(&bad).unwrap_err().field,
            "batch_size"
        );
    }

    #[test]
    fn numbers_print_short() {
        assert_eq!(fmt_num(0.1), "0.1");
        assert_eq!(fmt_num(5e-4), "5e-4");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(128.0), "128");
        assert_eq!(fmt_num(0.4261627700690564), "0.4262");
        assert_eq!(fmt_num(1.5458544115301362e-5), "1.546e-5");
        assert_eq!(fmt_num(1e300), "1e300");
        assert_eq!(fmt_num(123_456.0), "123500");
        assert_eq!(fmt_num(1_234_567.0), "1.235e6");
    }
}
