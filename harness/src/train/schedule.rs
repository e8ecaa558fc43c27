//! Learning-rate schedules, as pure functions of the step or epoch.
use super::ScheduleKind;

/// Learning rate for a step. `epoch` is 0-based; `step` is the global mini-batch index
/// (0-based) since the start of training.
#[allow(clippy::too_many_arguments)]
pub fn learning_rate(
    kind: ScheduleKind,
    base: f64,
    ending_lr: f64,
    epochs: usize,
    step_size: usize,
    gamma: f64,
    epoch: usize,
    step: usize,
) -> f64 {
    match kind {
        ScheduleKind::None => base,
        ScheduleKind::Step => base * gamma.powi((epoch / step_size.max(1)) as i32),
        ScheduleKind::Cosine => cosine(base, ending_lr, epoch as f64, epochs as f64),
        // The lab's original: CosineAnnealingLR(T_max = epochs) stepped after every mini-batch,
        // so the "epoch" counter of the cosine is the step counter (lab8-reference §2).
        ScheduleKind::CosinePerStep => cosine(base, ending_lr, step as f64, epochs as f64),
    }
}

/// PyTorch's CosineAnnealingLR in closed form: periodic with period 2·T_max.
fn cosine(base: f64, eta_min: f64, t: f64, t_max: f64) -> f64 {
    eta_min + (base - eta_min) * (1.0 + (std::f64::consts::PI * t / t_max).cos()) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lr(kind: ScheduleKind, epoch: usize, step: usize) -> f64 {
        learning_rate(kind, 0.1, 0.0, 300, 30, 0.1, epoch, step)
    }

    #[test]
    fn cosine_per_epoch_goes_from_base_to_ending() {
        assert!((lr(ScheduleKind::Cosine, 0, 0) - 0.1).abs() < 1e-12);
        assert!((lr(ScheduleKind::Cosine, 150, 0) - 0.05).abs() < 1e-12);
        assert!(lr(ScheduleKind::Cosine, 299, 0) < 1e-5);
    }

    #[test]
    fn cosine_per_step_swings_every_t_max_steps() {
        // With T_max = 300 and 391 steps per epoch the LR reaches 0 after 300 steps
        // (0.77 epoch) and is back at the base after 600 (lab8-reference §2).
        assert!((lr(ScheduleKind::CosinePerStep, 0, 0) - 0.1).abs() < 1e-12);
        assert!(lr(ScheduleKind::CosinePerStep, 0, 300) < 1e-12);
        assert!((lr(ScheduleKind::CosinePerStep, 1, 600) - 0.1).abs() < 1e-12);
        assert!((lr(ScheduleKind::CosinePerStep, 0, 150) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn step_schedule_multiplies_by_gamma() {
        assert!((lr(ScheduleKind::Step, 29, 0) - 0.1).abs() < 1e-12);
        assert!((lr(ScheduleKind::Step, 30, 0) - 0.01).abs() < 1e-12);
        assert!((lr(ScheduleKind::Step, 60, 0) - 0.001).abs() < 1e-12);
        assert_eq!(lr(ScheduleKind::None, 100, 9999), 0.1);
    }
}
