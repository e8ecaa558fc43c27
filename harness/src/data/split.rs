//! A fixed, seeded, stratified train/test split, recorded so every machine can verify that it
//! tested on the same images.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub method: String,
    pub seed: u64,
    pub test_fraction: f64,
    /// SHA-256 of the sorted test indices (little-endian u32), first 16 hex digits.
    pub test_indices_sha256: String,
}

/// Splits sample indices per class: within each class the indices are shuffled with the seed
/// and `round(n_class · test_fraction)` go to the test set. Both lists are returned sorted.
pub fn stratified_split(
    labels: &[i64],
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>, Split) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut classes: Vec<i64> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        members.shuffle(&mut rng);
        let n_test = test_count(members.len(), test_fraction);
        test.extend_from_slice(&members[..n_test]);
        train.extend_from_slice(&members[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    let mut hasher = Sha256::new();
    for &i in &test {
        hasher.update((i as u32).to_le_bytes());
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let split = Split {
        method: "stratified per class, seeded shuffle (ChaCha8)".to_string(),
        seed,
        test_fraction,
        test_indices_sha256: hex,
    };
    (train, test, split)
}

/// How many of a class's `n` images [`stratified_split`] puts on the test side.
pub fn test_count(n: usize, test_fraction: f64) -> usize {
    (((n as f64) * test_fraction).round() as usize).min(n)
}

/// The sides [`stratified_split`] makes of classes of these sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitSizes {
    /// Training images per class, in the order of the class sizes given.
    pub train_per_class: Vec<usize>,
    pub n_train: usize,
    pub n_test: usize,
}

/// The sizes of a stratified split of classes of `class_sizes` images, or why it is unusable
/// (`held_out` names the held-out side in the message: "test" or "validation").
/// An empty side does not make training fail: every run reports a NaN accuracy, is recorded as
/// diverged and the suite still "completes", so it is refused up front. Every class needs a
/// training image, not just the side as a whole: a class with none is never learnt while its
/// test images still count, which caps the accuracy without any sign of why, and the
/// validation splits taken from the training side lose it as well.
pub fn check_split(
    class_sizes: &[usize],
    test_fraction: f64,
    held_out: &str,
) -> Result<SplitSizes, String> {
    let test: Vec<usize> = class_sizes
        .iter()
        .map(|&n| test_count(n, test_fraction))
        .collect();
    let train_per_class: Vec<usize> = class_sizes.iter().zip(&test).map(|(n, t)| n - t).collect();
    let (n_train, n_test) = (train_per_class.iter().sum(), test.iter().sum());
    let sides = format!("{n_train} training and {n_test} {held_out} images");
    if n_train + n_test == 0 {
        return Err("no images at all".to_string());
    }
    if n_test == 0 {
        return Err(format!(
            "{sides}: the {held_out} side would be empty (it needs at least one image)"
        ));
    }
    if let Some(class) = train_per_class.iter().position(|&n| n == 0) {
        return Err(format!(
            "{sides}, with all {} images of class {class} on the {held_out} side: every class \
             needs at least one training image",
            class_sizes[class]
        ));
    }
    Ok(SplitSizes {
        train_per_class,
        n_train,
        n_test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_disjoint_and_seeded() {
        let labels: Vec<i64> = (0..100).map(|i| i % 4).collect();
        let (train, test, split) = stratified_split(&labels, 0.2, 7);
        assert_eq!(test.len(), 20);
        assert_eq!(train.len(), 80);
        for class in 0..4 {
            assert_eq!(test.iter().filter(|&&i| labels[i] == class).count(), 5);
        }
        assert!(test.iter().all(|i| !train.contains(i)));
        let (_, test2, split2) = stratified_split(&labels, 0.2, 7);
        assert_eq!(test, test2);
        assert_eq!(split, split2);
        let (_, test3, _) = stratified_split(&labels, 0.2, 8);
        assert_ne!(test, test3);
    }

    #[test]
    fn split_sizes_refuse_an_empty_side_or_an_untrained_class() {
        let digits = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];
        let ok = check_split(&digits, 0.5, "test").unwrap();
        assert_eq!((ok.n_train, ok.n_test), (896, 901));
        let e = check_split(&digits, 0.0001, "test").unwrap_err();
        assert!(e.starts_with("1797 training and 0 test images"), "{e}");
        let e = check_split(&digits, 0.9999, "test").unwrap_err();
        assert!(e.starts_with("0 training and 1797 test images"), "{e}");
        assert!(e.contains("all 178 images of class 0"), "{e}");
        // One class too small to keep a training image while the others can.
        let e = check_split(&[10, 1], 0.5, "test").unwrap_err();
        assert!(e.contains("class 1"), "{e}");
        assert!(check_split(&[0; 10], 0.2, "test").is_err());
        // The counts are the ones stratified_split makes.
        let labels: Vec<i64> = (0..25).map(|i| i % 2).collect();
        let (train, test, _) = stratified_split(&labels, 0.3, 1);
        let sizes = check_split(&[13, 12], 0.3, "test").unwrap();
        assert_eq!((sizes.n_train, sizes.n_test), (train.len(), test.len()));
    }
}
