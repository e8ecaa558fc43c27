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
        let n_test = ((members.len() as f64) * test_fraction).round() as usize;
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
}
