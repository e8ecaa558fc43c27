//! The UCI optical recognition of handwritten digits data set, compiled into the binary.
//!
//! 1,797 grey images of 8×8 pixels with values 0..16, 10 classes. Source: E. Alpaydin and
//! C. Kaynak, UCI Machine Learning Repository (CC BY 4.0), in the copy scikit-learn ships as
//! `sklearn/datasets/data/digits.csv.gz` (BSD-3-Clause). See `harness/data/README.md`.
use super::{split_and_standardize, DataError, Dataset, DatasetInfo};
use std::io::Read;
use tch::Tensor;

const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");
pub const SAMPLES: usize = 1797;
const PIXELS: usize = 64;

/// Pixels (0..16) and labels of all 1,797 samples, in file order.
pub fn raw() -> Result<(Vec<f32>, Vec<i64>), DataError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .map_err(|e| DataError::CorruptDigits(e.to_string()))?;
    let mut pixels = Vec::with_capacity(SAMPLES * PIXELS);
    let mut labels = Vec::with_capacity(SAMPLES);
    for (line_no, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let values: Vec<&str> = line.split(',').collect();
        if values.len() != PIXELS + 1 {
            return Err(DataError::CorruptDigits(format!(
                "line {}: {} values, expected {}",
                line_no + 1,
                values.len(),
                PIXELS + 1
            )));
        }
        for v in &values[..PIXELS] {
            let p: f32 = v.trim().parse().map_err(|_| {
                DataError::CorruptDigits(format!("line {}: bad pixel {v:?}", line_no + 1))
            })?;
            pixels.push(p);
        }
        let label: i64 = values[PIXELS]
            .trim()
            .parse()
            .map_err(|_| DataError::CorruptDigits(format!("line {}: bad label", line_no + 1)))?;
        labels.push(label);
    }
    if labels.len() != SAMPLES {
        return Err(DataError::CorruptDigits(format!(
            "{} samples, expected {SAMPLES}",
            labels.len()
        )));
    }
    Ok((pixels, labels))
}

pub fn load(test_fraction: f64, split_seed: u64) -> Result<Dataset, DataError> {
    let (pixels, labels) = raw()?;
    let images = Tensor::from_slice(&pixels).view([SAMPLES as i64, 1, 8, 8]) / 16.0;
    let sides = split_and_standardize(&images, &labels, test_fraction, split_seed);
    Ok(Dataset {
        info: DatasetInfo {
            name: "digits".to_string(),
            source: "UCI optical recognition of handwritten digits (Alpaydin & Kaynak), \
                     embedded from scikit-learn's digits.csv.gz"
                .to_string(),
            licence: "data CC BY 4.0 (UCI); file from scikit-learn, BSD-3-Clause".to_string(),
            classes: 10,
            image_shape: [1, 8, 8],
            n_train: sides.train_x.size()[0] as usize,
            n_test: sides.test_x.size()[0] as usize,
            split: Some(sides.split),
            normalization: format!("x/16 then {}", sides.normalization),
        },
        train_x: sides.train_x,
        train_y: sides.train_y,
        test_x: sides.test_x,
        test_y: sides.test_y,
        u8_images: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_digits_have_the_published_shape() {
        let (pixels, labels) = raw().unwrap();
        assert_eq!(labels.len(), 1797);
        assert_eq!(pixels.len(), 1797 * 64);
        assert!(pixels.iter().all(|&p| (0.0..=16.0).contains(&p)));
        for class in 0..10 {
            let n = labels.iter().filter(|&&l| l == class).count();
            assert!((174..=183).contains(&n), "class {class}: {n}");
        }
    }

    #[test]
    fn split_is_recorded_and_normalised() {
        let ds = load(0.2, 0).unwrap();
        assert_eq!(ds.info.n_train + ds.info.n_test, 1797);
        assert_eq!(ds.info.n_test, 359);
        assert_eq!(ds.train_x.size(), vec![ds.info.n_train as i64, 1, 8, 8]);
        let mean = ds.train_x.mean(tch::Kind::Float).double_value(&[]);
        assert!(mean.abs() < 1e-4, "{mean}");
        let again = load(0.2, 0).unwrap();
        assert_eq!(ds.info.split, again.info.split);
    }
}
