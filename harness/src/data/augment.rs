//! Batched, device-generic augmentation on `[N, C, H, W]` tensors.
//!
//! Everything is expressed as whole-batch tensor ops (index grids + `gather`, `where`, masks), so
//! on CUDA no per-image work happens on the CPU. Random numbers come from libtorch's generator
//! of the tensor's device (seed it with `tch::manual_seed`), so a run is reproducible on the same
//! device; CPU and CUDA generators give different streams.
//!
//! The lab's train pipeline (`hpo/main.py`): random crop 32 with 4-pixel zero padding →
//! horizontal flip p = 0.5 → normalize → cutout (after normalization, probability 1). Test:
//! normalize only. [`Augment`] bundles it.

use tch::{Device, Kind, Tensor};

/// The lab's CIFAR-10 normalization constants.
pub const CIFAR10_MEAN: [f64; 3] = [0.4914, 0.4822, 0.4465];
pub const CIFAR10_STD: [f64; 3] = [0.2023, 0.1994, 0.2010];
/// DARTS' CIFAR-10 std (quark0's `utils._data_transforms_cifar10`; the mean is the lab's).
pub const DARTS_CIFAR10_STD: [f64; 3] = [0.2470, 0.2435, 0.2616];

fn int_opts(d: Device) -> (Kind, Device) {
    (Kind::Int64, d)
}

/// u8 images → float in [0, 1].
pub fn to_unit_float(images: &Tensor) -> Tensor {
    images.to_kind(Kind::Float) / 255.0
}

/// Per-channel `(x - mean) / std`.
pub fn normalize(x: &Tensor, mean: &[f64], std: &[f64]) -> Tensor {
    let d = x.device();
    let c = mean.len() as i64;
    let m = Tensor::from_slice(mean)
        .to_kind(x.kind())
        .to_device(d)
        .view([1, c, 1, 1]);
    let s = Tensor::from_slice(std)
        .to_kind(x.kind())
        .to_device(d)
        .view([1, c, 1, 1]);
    (x - m) / s
}

/// Random crop of the original size after zero-padding by `padding` on every side: per-sample
/// offsets drawn uniformly from `0..=2*padding` (offset `padding` = no shift).
pub fn random_crop(x: &Tensor, padding: i64) -> Tensor {
    if padding == 0 {
        return x.shallow_clone();
    }
    let n = x.size()[0];
    let oy = Tensor::randint(2 * padding + 1, [n], int_opts(x.device()));
    let ox = Tensor::randint(2 * padding + 1, [n], int_opts(x.device()));
    crop_at(x, padding, &oy, &ox)
}

/// [`random_crop`] of a batch already normalised so that a black pixel is `fill` (per channel):
/// the padding is black, as when the crop comes before normalisation.
pub fn random_crop_filled(x: &Tensor, padding: i64, fill: &[f64]) -> Tensor {
    let f = Tensor::from_slice(fill)
        .to_kind(x.kind())
        .to_device(x.device())
        .view([1, fill.len() as i64, 1, 1]);
    random_crop(&(x - &f), padding) + f
}

/// Crop with explicit per-sample offsets `oy`, `ox` (i64 `[N]`, in `0..=2*padding`) into the
/// zero-padded batch. Implemented with two `gather`s over index grids (no per-image loop).
pub fn crop_at(x: &Tensor, padding: i64, oy: &Tensor, ox: &Tensor) -> Tensor {
    let s = x.size();
    let (n, c, h, w) = (s[0], s[1], s[2], s[3]);
    let d = x.device();
    let xp = x.constant_pad_nd([padding, padding, padding, padding]);
    let rows = oy.view([n, 1]) + Tensor::arange(h, int_opts(d)).view([1, h]); // [N, H]
    let cols = ox.view([n, 1]) + Tensor::arange(w, int_opts(d)).view([1, w]); // [N, W]
    let wp = w + 2 * padding;
    let rows = rows.view([n, 1, h, 1]).expand([n, c, h, wp], false);
    let xr = xp.gather(2, &rows, false); // [N, C, H, Wp]
    let cols = cols.view([n, 1, 1, w]).expand([n, c, h, w], false);
    xr.gather(3, &cols, false)
}

/// Mirrors each sample left-right with probability `p`.
pub fn random_hflip(x: &Tensor, p: f64) -> Tensor {
    let n = x.size()[0];
    let mask = Tensor::rand([n], (Kind::Float, x.device())).lt(p);
    hflip_where(x, &mask)
}

/// Mirrors the samples where `mask` (bool `[N]`) is true.
pub fn hflip_where(x: &Tensor, mask: &Tensor) -> Tensor {
    let n = x.size()[0];
    x.flip([3]).where_self(&mask.view([n, 1, 1, 1]), x)
}

/// Cutout with centres drawn uniformly in `[0, H) × [0, W)` for every sample (probability 1).
pub fn cutout(x: &Tensor, length: i64) -> Tensor {
    if length <= 0 {
        return x.shallow_clone();
    }
    let s = x.size();
    let cy = Tensor::randint(s[2], [s[0]], int_opts(x.device()));
    let cx = Tensor::randint(s[3], [s[0]], int_opts(x.device()));
    cutout_at(x, length, &cy, &cx)
}

/// Zeroes, in all channels, rows `clip(cy - L/2, 0, H) .. clip(cy + L/2, 0, H)` and the same
/// for columns (integer division `L/2`, the DeVries & Taylor `Cutout` the lab uses: an L×L
/// square for even L, clipped at the border; (L−1)×(L−1) for odd L).
pub fn cutout_at(x: &Tensor, length: i64, cy: &Tensor, cx: &Tensor) -> Tensor {
    let s = x.size();
    let (n, h, w) = (s[0], s[2], s[3]);
    let d = x.device();
    let half = length / 2;
    let y1 = (cy - half).view([n, 1]);
    let y2 = (cy + half).view([n, 1]);
    let x1 = (cx - half).view([n, 1]);
    let x2 = (cx + half).view([n, 1]);
    let ys = Tensor::arange(h, int_opts(d)).view([1, h]);
    let xs = Tensor::arange(w, int_opts(d)).view([1, w]);
    let in_y = ys.ge_tensor(&y1).logical_and(&ys.lt_tensor(&y2)); // [N, H]
    let in_x = xs.ge_tensor(&x1).logical_and(&xs.lt_tensor(&x2)); // [N, W]
    let hole = in_y
        .view([n, 1, h, 1])
        .logical_and(&in_x.view([n, 1, 1, w]));
    x.masked_fill(&hole, 0.0)
}

/// A train/test transform recipe.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augment {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    /// Zero padding for the random crop; 0 disables the crop.
    pub crop_padding: i64,
    /// Horizontal-flip probability; 0 disables it.
    pub flip_p: f64,
    /// Cutout length; 0 disables it.
    pub cutout: i64,
}

impl Augment {
    /// The lab's recipe with the given cutout length (0 = none).
    pub fn cifar10_lab(cutout: i64) -> Self {
        Augment {
            mean: CIFAR10_MEAN.to_vec(),
            std: CIFAR10_STD.to_vec(),
            crop_padding: 4,
            flip_p: 0.5,
            cutout,
        }
    }

    /// Train transform of a u8 batch (any device): crop → flip → normalize → cutout.
    pub fn train_batch(&self, images: &Tensor) -> Tensor {
        let mut x = to_unit_float(images);
        if self.crop_padding > 0 {
            x = random_crop(&x, self.crop_padding);
        }
        if self.flip_p > 0.0 {
            x = random_hflip(&x, self.flip_p);
        }
        x = normalize(&x, &self.mean, &self.std);
        if self.cutout > 0 {
            x = cutout(&x, self.cutout);
        }
        x
    }

    /// Test transform: normalize only.
    pub fn test_batch(&self, images: &Tensor) -> Tensor {
        normalize(&to_unit_float(images), &self.mean, &self.std)
    }
}

/// Tests that use libtorch's global generator hold this lock, so a test asserting
/// seed-determinism is not disturbed by another test drawing numbers concurrently.
#[cfg(test)]
pub(crate) fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: i64) -> Tensor {
        Tensor::arange(n * 3 * 32 * 32, (Kind::Float, Device::Cpu)).view([n, 3, 32, 32])
    }

    fn same(a: &Tensor, b: &Tensor) -> bool {
        a.size() == b.size() && (a.eq_tensor(b).all().int64_value(&[]) != 0)
    }

    #[test]
    fn a_crop_after_normalising_pads_with_normalised_black() {
        // Cropping normalised images with the fill equals cropping the unit-float images (zero
        // = black padding) and normalising afterwards, draw for draw.
        let _g = rng_lock();
        let x = Tensor::rand([6, 3, 32, 32], (Kind::Float, Device::Cpu));
        let fill: Vec<f64> = CIFAR10_MEAN
            .iter()
            .zip(DARTS_CIFAR10_STD)
            .map(|(m, s)| -m / s)
            .collect();
        tch::manual_seed(3);
        let before = normalize(&random_crop(&x, 4), &CIFAR10_MEAN, &DARTS_CIFAR10_STD);
        tch::manual_seed(3);
        let after = random_crop_filled(&normalize(&x, &CIFAR10_MEAN, &DARTS_CIFAR10_STD), 4, &fill);
        let gap = (before - after).abs().max().double_value(&[]);
        assert!(gap < 1e-5, "{gap}");
    }

    #[test]
    fn shapes_and_kinds() {
        let _g = rng_lock();
        tch::manual_seed(1);
        let imgs = Tensor::randint(256, [5, 3, 32, 32], (Kind::Uint8, Device::Cpu));
        let a = Augment::cifar10_lab(16);
        let t = a.train_batch(&imgs);
        assert_eq!(t.size(), vec![5, 3, 32, 32]);
        assert_eq!(t.kind(), Kind::Float);
        assert_eq!(a.test_batch(&imgs).size(), vec![5, 3, 32, 32]);
    }

    #[test]
    fn normalize_matches_formula() {
        let _g = rng_lock();
        let x = Tensor::ones([1, 3, 2, 2], (Kind::Float, Device::Cpu));
        let y = normalize(&x, &CIFAR10_MEAN, &CIFAR10_STD);
        let v = y.double_value(&[0, 2, 1, 1]);
        assert!((v - (1.0 - 0.4465) / 0.2010).abs() < 1e-5);
    }

    #[test]
    fn crop_no_shift_preserves_content() {
        let _g = rng_lock();
        let x = batch(3);
        let four = Tensor::full([3], 4, (Kind::Int64, Device::Cpu));
        assert!(same(&crop_at(&x, 4, &four, &four), &x));
    }

    #[test]
    fn crop_shift_moves_content_and_pads_zeros() {
        let _g = rng_lock();
        let x = batch(2) + 1.0; // strictly positive
        let oy = Tensor::from_slice(&[0i64, 8]);
        let ox = Tensor::from_slice(&[4i64, 1]);
        let y = crop_at(&x, 4, &oy, &ox);
        // Sample 0: shifted down by 4 (top 4 rows are padding), no horizontal shift.
        assert!(same(
            &y.get(0).narrow(1, 0, 4),
            &Tensor::zeros([3, 4, 32], (Kind::Float, Device::Cpu))
        ));
        assert!(same(&y.get(0).narrow(1, 4, 28), &x.get(0).narrow(1, 0, 28)));
        // Sample 1: up by 4, right by 3.
        assert!(same(
            &y.get(1).narrow(1, 0, 28).narrow(2, 3, 29),
            &x.get(1).narrow(1, 4, 28).narrow(2, 0, 29)
        ));
        assert_eq!(
            y.get(1)
                .narrow(1, 28, 4)
                .count_nonzero(None)
                .int64_value(&[]),
            0
        );
        // Random crop: every output is a 32×32 window of the padded input.
        tch::manual_seed(3);
        assert_eq!(random_crop(&x, 4).size(), vec![2, 3, 32, 32]);
    }

    #[test]
    fn flip_really_mirrors() {
        let _g = rng_lock();
        let x = batch(2);
        let mask = Tensor::from_slice(&[true, false]);
        let y = hflip_where(&x, &mask);
        for c in 0..3 {
            for r in [0, 17, 31] {
                for col in 0..32 {
                    assert_eq!(
                        y.double_value(&[0, c, r, col]),
                        x.double_value(&[0, c, r, 31 - col])
                    );
                }
            }
        }
        assert!(same(&y.get(1), &x.get(1)));
        // p = 1 mirrors everything, p = 0 nothing.
        assert!(same(&random_hflip(&x, 1.0), &x.flip([3])));
        assert!(same(&random_hflip(&x, 0.0), &x));
    }

    #[test]
    fn cutout_zeros_exact_clipped_square() {
        let _g = rng_lock();
        let n = 4;
        let x = Tensor::ones([n, 3, 32, 32], (Kind::Float, Device::Cpu));
        let cy = Tensor::from_slice(&[0i64, 16, 31, 5]);
        let cx = Tensor::from_slice(&[0i64, 16, 31, 30]);
        let y = cutout_at(&x, 16, &cy, &cx);
        // Clipped areas: 8×8, 16×16, 9×9 (rows 23..32), 13×10 (rows 0..13, cols 22..32).
        let expected = [64i64, 256, 81, 130];
        for (i, e) in expected.iter().enumerate() {
            let zeros = y.get(i as i64).eq(0.0).sum(Kind::Int64).int64_value(&[]);
            assert_eq!(zeros, 3 * e, "sample {i}");
        }
        // Square position for sample 1: rows/cols 8..24.
        assert_eq!(y.double_value(&[1, 0, 8, 8]), 0.0);
        assert_eq!(y.double_value(&[1, 2, 23, 23]), 0.0);
        assert_eq!(y.double_value(&[1, 1, 24, 16]), 1.0);
        assert_eq!(y.double_value(&[1, 1, 7, 16]), 1.0);

        // Random centres: same count as recomputed from the drawn centres.
        tch::manual_seed(9);
        let y = cutout(&x, 16);
        tch::manual_seed(9);
        let cy = Tensor::randint(32, [n], (Kind::Int64, Device::Cpu));
        let cx = Tensor::randint(32, [n], (Kind::Int64, Device::Cpu));
        for i in 0..n {
            let span = |c: i64| (c + 8).min(32) - (c - 8).max(0);
            let area = span(cy.int64_value(&[i])) * span(cx.int64_value(&[i]));
            assert_eq!(y.get(i).eq(0.0).sum(Kind::Int64).int64_value(&[]), 3 * area);
        }
    }

    #[test]
    fn deterministic_with_same_seed() {
        let _g = rng_lock();
        let imgs = Tensor::randint(256, [8, 3, 32, 32], (Kind::Uint8, Device::Cpu));
        let a = Augment::cifar10_lab(8);
        tch::manual_seed(42);
        let y1 = a.train_batch(&imgs);
        tch::manual_seed(42);
        let y2 = a.train_batch(&imgs);
        tch::manual_seed(43);
        let y3 = a.train_batch(&imgs);
        assert!(same(&y1, &y2));
        assert!(!same(&y1, &y3));
    }
}
