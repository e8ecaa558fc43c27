//! Datasets: the embedded UCI digits (the default), a deterministic synthetic set for tests,
//! and (in `cifar10`) CIFAR-10 from its official binary files.
//!
//! The digits and synthetic sets arrive as float tensors `[N, C, H, W]`, already normalised;
//! CIFAR-10 arrives as u8 images (`u8_images` is set) that the trainer normalises, and for
//! training augments, one batch at a time on the device. Labels are int64. A [`DatasetInfo`]
//! goes into the result file (source, licence, split, normalisation).

pub mod augment;
pub mod cifar10;
pub mod digits;
mod split;
pub mod synthetic;

use crate::train::{AugmentKind, Recipe};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tch::Tensor;

pub use split::{check_split, stratified_split, Split, SplitSizes};

/// Which dataset a suite trains on, and how it is split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// "digits" (embedded), "synthetic" (generated, for tests) or "cifar10".
    pub name: String,
    /// Fraction of each class held out as the test set (digits, synthetic).
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Seed of the stratified split; fixed per suite so every machine tests on the same images.
    #[serde(default)]
    pub split_seed: u64,
    /// Samples per class (synthetic only).
    #[serde(default)]
    pub samples_per_class: Option<usize>,
    /// Folder of the dataset files (cifar10).
    #[serde(default)]
    pub dir: Option<String>,
    /// Use only the first N training / test images (for smoke suites).
    #[serde(default)]
    pub train_limit: Option<usize>,
    #[serde(default)]
    pub test_limit: Option<usize>,
}

fn default_test_fraction() -> f64 {
    0.2
}

/// What the result file records about the data a run saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub name: String,
    pub source: String,
    pub licence: String,
    pub classes: i64,
    /// [C, H, W]
    pub image_shape: [i64; 3],
    pub n_train: usize,
    pub n_test: usize,
    pub split: Option<Split>,
    pub normalization: String,
}

pub struct Dataset {
    pub info: DatasetInfo,
    pub train_x: Tensor,
    pub train_y: Tensor,
    pub test_x: Tensor,
    pub test_y: Tensor,
    /// Set when `train_x`/`test_x` hold u8 images that must be normalised per batch.
    pub u8_images: Option<U8Images>,
}

/// How u8 images become network inputs: `x/255`, then `(x - mean[c]) / std[c]`.
#[derive(Debug, Clone, PartialEq)]
pub struct U8Images {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

/// Default folder of the CIFAR-10 files (relative to the working directory).
pub const DEFAULT_CIFAR10_DIR: &str = "data/cifar10";

impl Dataset {
    pub fn classes(&self) -> i64 {
        self.info.classes
    }

    /// The per-batch transform a recipe needs on this dataset: `None` for float datasets
    /// (digits, synthetic), which take no augmentation; for u8 images, normalisation plus the
    /// recipe's crop/flip and cutout on training batches.
    pub fn batch_transform(&self, recipe: &Recipe) -> Result<Option<augment::Augment>, DataError> {
        match &self.u8_images {
            None => {
                if recipe.augment != AugmentKind::None || recipe.cutout > 0 {
                    return Err(DataError::Invalid {
                        name: self.info.name.clone(),
                        message: "augment and cutout need a dataset of u8 images (cifar10); \
                                  set augment = \"none\" and cutout = 0"
                            .to_string(),
                    });
                }
                Ok(None)
            }
            Some(u8) => {
                let crop_flip = recipe.augment == AugmentKind::CropFlip;
                Ok(Some(augment::Augment {
                    mean: u8.mean.clone(),
                    std: u8.std.clone(),
                    crop_padding: if crop_flip { 4 } else { 0 },
                    flip_p: if crop_flip { 0.5 } else { 0.0 },
                    cutout: recipe.cutout,
                }))
            }
        }
    }

    /// The same data as normalised floats, for loops that take whole float tensors (the DARTS
    /// search and retrain): u8 images go through `x/255`, then the dataset's per-channel mean
    /// and the given `std` (DARTS normalises CIFAR-10 with its true std, the lab's
    /// `hpo/main.py` with another one); float datasets are returned as they are.
    pub fn normalized_floats_with_std(&self, std: &[f64]) -> Dataset {
        let Some(u8) = &self.u8_images else {
            return self.shallow_clone();
        };
        let norm = |x: &Tensor| augment::normalize(&augment::to_unit_float(x), &u8.mean, std);
        Dataset {
            info: self.info.clone(),
            train_x: norm(&self.train_x),
            train_y: self.train_y.shallow_clone(),
            test_x: norm(&self.test_x),
            test_y: self.test_y.shallow_clone(),
            u8_images: None,
        }
    }

    /// A second handle to the same tensors (no copy), e.g. for a trial thread.
    pub fn shallow_clone(&self) -> Dataset {
        Dataset {
            info: self.info.clone(),
            train_x: self.train_x.shallow_clone(),
            train_y: self.train_y.shallow_clone(),
            test_x: self.test_x.shallow_clone(),
            test_y: self.test_y.shallow_clone(),
            u8_images: self.u8_images.clone(),
        }
    }

    /// The same data on another device (the whole set lives there; no per-batch copies).
    pub fn to_device(&self, device: tch::Device) -> Dataset {
        Dataset {
            info: self.info.clone(),
            train_x: self.train_x.to_device(device),
            train_y: self.train_y.to_device(device),
            test_x: self.test_x.to_device(device),
            test_y: self.test_y.to_device(device),
            u8_images: self.u8_images.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("unknown dataset \"{0}\": expected one of digits, synthetic, cifar10")]
    Unknown(String),
    #[error("embedded digits data is corrupt: {0}")]
    CorruptDigits(String),
    #[error("dataset \"{name}\": {message}")]
    Invalid { name: String, message: String },
}

/// Loads the dataset a suite names.
pub fn load(spec: &DatasetSpec) -> anyhow::Result<Dataset> {
    if !(spec.test_fraction > 0.0 && spec.test_fraction < 1.0) {
        return Err(DataError::Invalid {
            name: spec.name.clone(),
            message: format!(
                "test_fraction must be in (0, 1), got {}",
                spec.test_fraction
            ),
        }
        .into());
    }
    if let Some(sizes) = class_sizes(spec)? {
        check_split(&sizes, spec.test_fraction, "test").map_err(|m| DataError::Invalid {
            name: spec.name.clone(),
            message: format!("test_fraction {} gives {m}", spec.test_fraction),
        })?;
    }
    match spec.name.as_str() {
        "digits" => Ok(digits::load(spec.test_fraction, spec.split_seed)?),
        "synthetic" => Ok(synthetic::load(
            spec.samples_per_class
                .unwrap_or(synthetic::DEFAULT_SAMPLES_PER_CLASS),
            spec.test_fraction,
            spec.split_seed,
        )),
        "cifar10" => load_cifar10(spec),
        other => Err(DataError::Unknown(other.to_string()).into()),
    }
}

/// Side in pixels of a dataset's square images, before loading it.
pub fn image_side(name: &str) -> Option<i64> {
    match name {
        "digits" | "synthetic" => Some(8),
        "cifar10" => Some(32),
        _ => None,
    }
}

/// Images per class (labels 0, 1, …) of a dataset that `test_fraction` splits (digits,
/// synthetic), without building it; `None` for cifar10, whose split is fixed.
pub fn class_sizes(spec: &DatasetSpec) -> Result<Option<Vec<usize>>, DataError> {
    match spec.name.as_str() {
        "digits" => {
            let (_, labels) = digits::raw()?;
            let mut sizes = vec![0; 10];
            for l in labels {
                let slot = usize::try_from(l).ok().and_then(|l| sizes.get_mut(l));
                *slot.ok_or_else(|| DataError::CorruptDigits(format!("label {l}")))? += 1;
            }
            Ok(Some(sizes))
        }
        "synthetic" => Ok(Some(vec![
            spec.samples_per_class.unwrap_or(
                synthetic::DEFAULT_SAMPLES_PER_CLASS
            );
            synthetic::CLASSES
        ])),
        "cifar10" => Ok(None),
        other => Err(DataError::Unknown(other.to_string())),
    }
}

/// CIFAR-10 from `spec.dir` (default [`DEFAULT_CIFAR10_DIR`]), the first `train_limit` /
/// `test_limit` images, kept as u8 on the CPU.
fn load_cifar10(spec: &DatasetSpec) -> anyhow::Result<Dataset> {
    let dir = PathBuf::from(spec.dir.as_deref().unwrap_or(DEFAULT_CIFAR10_DIR));
    let c = cifar10::load(&dir, spec.train_limit, spec.test_limit)?;
    let base = cifar10::resolve_dir(&dir)?;
    let synthetic = base.join(cifar10::SYNTHETIC_MARKER).is_file();
    let (n_train, n_test) = (c.train_labels.size()[0], c.test_labels.size()[0]);
    if n_train == 0 || n_test == 0 {
        return Err(DataError::Invalid {
            name: "cifar10".into(),
            message: "train_limit and test_limit must be at least 1".into(),
        }
        .into());
    }
    let limits = match (spec.train_limit, spec.test_limit) {
        (None, None) => String::new(),
        _ => format!("; first {n_train} training and {n_test} test images only"),
    };
    let (source, licence) = if synthetic {
        (
            format!(
                "SYNTHETIC CIFAR-10-format files (harness cifar10::write_synthetic) in {}{limits}",
                base.display()
            ),
            "generated by the harness".to_string(),
        )
    } else {
        (
            format!(
                "CIFAR-10 binary version (Krizhevsky 2009), {} in {}{limits}",
                cifar10::URL,
                base.display()
            ),
            "no licence stated by the authors; cite Krizhevsky, Learning Multiple Layers of \
             Features from Tiny Images, 2009"
                .to_string(),
        )
    };
    let mean = augment::CIFAR10_MEAN.to_vec();
    let std = augment::CIFAR10_STD.to_vec();
    let normalization = format!(
        "per batch on the device: x/255 then (x - mean) / std per channel, mean {mean:?}, std {std:?} (the lab's constants)"
    );
    Ok(Dataset {
        info: DatasetInfo {
            name: "cifar10".to_string(),
            source,
            licence,
            classes: 10,
            image_shape: [3, 32, 32],
            n_train: n_train as usize,
            n_test: n_test as usize,
            split: None,
            normalization,
        },
        train_x: c.train_images,
        train_y: c.train_labels,
        test_x: c.test_images,
        test_y: c.test_labels,
        u8_images: Some(U8Images { mean, std }),
    })
}

/// The train and test sides of a labelled image set, split with [`stratified_split`] and
/// standardised with the training side's mean and std (one scalar each: the datasets here are
/// grey-scale).
pub(crate) struct StandardizedSplit {
    pub train_x: Tensor,
    pub train_y: Tensor,
    pub test_x: Tensor,
    pub test_y: Tensor,
    pub split: Split,
    /// What was done, for the record: `(x - mean) / std (training-set mean and std)`.
    pub normalization: String,
}

/// Splits `images` ([N, …], one per label) and standardises both sides by the training side.
pub(crate) fn split_and_standardize(
    images: &Tensor,
    labels: &[i64],
    test_fraction: f64,
    seed: u64,
) -> StandardizedSplit {
    let (train_idx, test_idx, split) = stratified_split(labels, test_fraction, seed);
    let all_y = Tensor::from_slice(labels);
    let pick = |idx: &[usize]| {
        let idx = Tensor::from_slice(&idx.iter().map(|&i| i as i64).collect::<Vec<_>>());
        (images.index_select(0, &idx), all_y.index_select(0, &idx))
    };
    let (train_x, train_y) = pick(&train_idx);
    let (test_x, test_y) = pick(&test_idx);
    let mean = train_x.mean(tch::Kind::Float).double_value(&[]);
    let std = train_x.std(true).double_value(&[]).max(1e-8);
    StandardizedSplit {
        train_x: (train_x - mean) / std,
        train_y,
        test_x: (test_x - mean) / std,
        test_y,
        split,
        normalization: format!("(x - {mean:.6}) / {std:.6} (training-set mean and std)"),
    }
}

impl Dataset {
    /// Whether [`Dataset::validation_split`] with `fraction` leaves images on both sides and a
    /// training image in every class, without building it; returns the training labels.
    pub fn check_validation_split(&self, fraction: f64) -> anyhow::Result<Vec<i64>> {
        let labels = Vec::<i64>::try_from(&self.train_y.to_device(tch::Device::Cpu))?;
        let mut sizes = std::collections::BTreeMap::<i64, usize>::new();
        for &l in &labels {
            *sizes.entry(l).or_default() += 1;
        }
        check_split(
            &sizes.into_values().collect::<Vec<_>>(),
            fraction,
            "validation",
        )
        .map_err(|m| DataError::Invalid {
            name: self.info.name.clone(),
            message: format!(
                "a validation fraction of {fraction} of the {} training images gives {m}",
                labels.len()
            ),
        })?;
        Ok(labels)
    }

    /// Holds out a stratified, seeded `fraction` of the training set as a validation set:
    /// the returned dataset trains on the rest and "tests" on the held-out part, so that
    /// selection (HPO) never looks at the real test set.
    pub fn validation_split(&self, fraction: f64, seed: u64) -> anyhow::Result<Dataset> {
        let labels = self.check_validation_split(fraction)?;
        let (train_idx, val_idx, split) = stratified_split(&labels, fraction, seed);
        let device = self.train_x.device();
        let index = |idx: &[usize]| {
            Tensor::from_slice(&idx.iter().map(|&i| i as i64).collect::<Vec<_>>()).to_device(device)
        };
        let (ti, vi) = (index(&train_idx), index(&val_idx));
        let mut info = self.info.clone();
        info.name = format!("{} (validation split of the training set)", self.info.name);
        info.n_train = train_idx.len();
        info.n_test = val_idx.len();
        info.split = Some(split);
        Ok(Dataset {
            info,
            train_x: self.train_x.index_select(0, &ti),
            train_y: self.train_y.index_select(0, &ti),
            test_x: self.train_x.index_select(0, &vi),
            test_y: self.train_y.index_select(0, &vi),
            u8_images: self.u8_images.clone(),
        })
    }
}

#[cfg(test)]
mod cifar_tests {
    use super::*;

    fn recipe(extra: serde_json::Value) -> Recipe {
        let mut v = serde_json::json!({
            "model": "cnn", "optimizer": "sgd", "initial_lr": 0.1, "epochs": 1, "batch_size": 8
        });
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn cifar10_loads_u8_with_limits_and_transforms_per_recipe() {
        let tmp = tempfile::tempdir().unwrap();
        cifar10::write_synthetic(tmp.path(), 4, 6, 1).unwrap();
        let spec = DatasetSpec {
            name: "cifar10".into(),
            test_fraction: 0.2,
            split_seed: 0,
            samples_per_class: None,
            dir: Some(tmp.path().display().to_string()),
            train_limit: Some(10),
            test_limit: Some(5),
        };
        let ds = load(&spec).unwrap();
        assert_eq!(ds.train_x.size(), vec![10, 3, 32, 32]);
        assert_eq!(ds.train_x.kind(), tch::Kind::Uint8);
        assert_eq!((ds.info.n_train, ds.info.n_test), (10, 5));
        assert!(ds.info.source.contains("SYNTHETIC"), "{}", ds.info.source);
        let t = ds
            .batch_transform(&recipe(
                serde_json::json!({"augment": "crop_flip", "cutout": 8}),
            ))
            .unwrap()
            .unwrap();
        assert_eq!((t.crop_padding, t.flip_p, t.cutout), (4, 0.5, 8));
        let t = ds
            .batch_transform(&recipe(serde_json::json!({})))
            .unwrap()
            .unwrap();
        assert_eq!((t.crop_padding, t.flip_p, t.cutout), (0, 0.0, 0));
        // 10 images of random classes are too few to hold out 20% of each class.
        let e = ds.validation_split(0.2, 0).err().unwrap();
        assert!(e.is::<DataError>(), "{e}");
        assert!(e.to_string().contains("0 validation images"), "{e}");
        let more = tempfile::tempdir().unwrap();
        cifar10::write_synthetic(more.path(), 40, 6, 1).unwrap();
        let big = load(&DatasetSpec {
            dir: Some(more.path().display().to_string()),
            train_limit: None,
            ..spec.clone()
        })
        .unwrap();
        assert_eq!(
            big.validation_split(0.2, 0).unwrap().u8_images,
            ds.u8_images
        );
        let missing = DatasetSpec {
            dir: Some(tmp.path().join("nope").display().to_string()),
            ..spec
        };
        let e = load(&missing).err().unwrap().to_string();
        assert!(e.contains("harness data cifar10"), "{e}");
    }

    #[test]
    fn a_split_with_an_empty_side_is_a_data_error() {
        let spec = DatasetSpec {
            name: "digits".into(),
            test_fraction: 0.9999,
            split_seed: 0,
            samples_per_class: None,
            dir: None,
            train_limit: None,
            test_limit: None,
        };
        let e = load(&spec).err().unwrap();
        assert!(e.is::<DataError>(), "{e}");
        assert!(
            e.to_string()
                .contains("test_fraction 0.9999 gives 0 training and 1797 test images"),
            "{e}"
        );
        let one = DatasetSpec {
            name: "synthetic".into(),
            samples_per_class: Some(1),
            test_fraction: 0.5,
            ..spec
        };
        let e = load(&one).err().unwrap().to_string();
        assert!(e.contains("0 training and 10 test images"), "{e}");
    }

    #[test]
    fn float_datasets_refuse_augmentation() {
        let ds = synthetic::load(5, 0.2, 0);
        assert!(ds
            .batch_transform(&recipe(serde_json::json!({})))
            .unwrap()
            .is_none());
        let e = ds
            .batch_transform(&recipe(serde_json::json!({"cutout": 16})))
            .unwrap_err();
        assert!(e.to_string().contains("cutout"), "{e}");
    }
}
