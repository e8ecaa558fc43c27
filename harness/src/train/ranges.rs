//! The ranges a training setting must lie in, with the words that say so. A recipe
//! (`Recipe::validate`) and the nas arm's search and retrain settings share them, so the same
//! kind of value gets the same message wherever a suite sets it. Each check gives the message
//! only; the caller names the key.

/// A check's outcome: the message (without the key) when the value is out of range.
pub type Check = Result<(), String>;

fn finite_in(v: f64, lo: f64, hi: f64) -> bool {
    v.is_finite() && v >= lo && v <= hi
}

fn check(ok: bool, message: impl FnOnce() -> String) -> Check {
    if ok {
        Ok(())
    } else {
        Err(message())
    }
}

/// As `check`, for a float: NaN and ±inf are said to be out because they are not finite
/// ("must be >= 0, got inf" would read as a contradiction).
fn check_f64(v: f64, ok: bool, message: impl FnOnce() -> String) -> Check {
    check(ok, || {
        let m = message();
        if v.is_finite() {
            m
        } else {
            m.replacen("must be ", "must be a finite number ", 1)
        }
    })
}

/// A learning rate or a clipping limit that must be used: `> 0`.
pub fn positive(v: f64) -> Check {
    check_f64(v, v.is_finite() && v > 0.0, || {
        format!("must be > 0, got {v}")
    })
}

/// `>= 0`, where `what_zero_means` (e.g. "0 = off") says what 0 does, if anything.
pub fn non_negative(v: f64, what_zero_means: Option<&str>) -> Check {
    check_f64(v, finite_in(v, 0.0, f64::MAX), || match what_zero_means {
        Some(zero) => format!("must be >= 0 ({zero}), got {v}"),
        None => format!("must be >= 0, got {v}"),
    })
}

/// A momentum or a drop probability: `[0, 1)` (1 would never forget, or drop everything).
pub fn below_one(v: f64) -> Check {
    check_f64(v, v.is_finite() && (0.0..1.0).contains(&v), || {
        format!("must be in [0, 1), got {v}")
    })
}

/// A weight decay: `[0, 1]`.
pub fn fraction(v: f64) -> Check {
    check_f64(v, finite_in(v, 0.0, 1.0), || {
        format!("must be in [0, 1], got {v}")
    })
}

/// A schedule's floor: `[0, lr]`, naming the learning rate's key.
pub fn lr_floor(v: f64, lr_key: &str, lr: f64) -> Check {
    check_f64(v, finite_in(v, 0.0, lr), || {
        format!("must be in [0, {lr_key} = {lr}], got {v}")
    })
}

/// Epochs, batch sizes, sample counts: `[1, 1000000]`.
pub fn count(v: usize) -> Check {
    check((1..=1_000_000).contains(&v), || {
        format!("must be in [1, 1000000], got {v}")
    })
}

/// A cutout square's side in pixels: `[0, 1024]`, 0 switching it off.
pub fn cutout(v: i64) -> Check {
    check((0..=1024).contains(&v), || {
        format!("must be in [0, 1024] pixels (0 = off), got {v}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_words() {
        assert_eq!(positive(0.0).unwrap_err(), "must be > 0, got 0");
        assert!(positive(f64::NAN).is_err() && positive(1e-9).is_ok());
        assert_eq!(
            non_negative(-1.0, Some("0 = off")).unwrap_err(),
            "must be >= 0 (0 = off), got -1"
        );
        assert_eq!(
            non_negative(-1.0, None).unwrap_err(),
            "must be >= 0, got -1"
        );
        assert!(below_one(0.99).is_ok() && below_one(1.0).is_err());
        assert!(below_one(0.999_999_9).is_ok() && below_one(-0.0).is_ok());
        assert!(fraction(1.0).is_ok() && fraction(1.5).is_err());
        assert_eq!(
            lr_floor(0.2, "lr", 0.1).unwrap_err(),
            "must be in [0, lr = 0.1], got 0.2"
        );
        assert!(count(0).is_err() && count(1).is_ok() && count(1_000_001).is_err());
        // Not finite is what is wrong with inf and NaN, not the bound they would satisfy.
        assert_eq!(
            non_negative(f64::INFINITY, Some("0 = off")).unwrap_err(),
            "must be a finite number >= 0 (0 = off), got inf"
        );
        assert_eq!(
            positive(f64::NAN).unwrap_err(),
            "must be a finite number > 0, got NaN"
        );
        assert_eq!(
            fraction(f64::NEG_INFINITY).unwrap_err(),
            "must be a finite number in [0, 1], got -inf"
        );
        assert!(cutout(-1).is_err() && cutout(0).is_ok() && cutout(1025).is_err());
    }
}
