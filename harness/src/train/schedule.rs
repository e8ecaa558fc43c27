//! Learning-rate schedules, as pure functions of the step or epoch.
use super::{Recipe, ScheduleKind};

/// A recipe's learning-rate schedule.
#[derive(Debug, Clone, Copy)]
pub struct LrSchedule {
    pub kind: ScheduleKind,
    pub base: f64,
    pub ending_lr: f64,
    pub epochs: usize,
    pub step_size: usize,
    pub gamma: f64,
}

impl From<&Recipe> for LrSchedule {
    fn from(r: &Recipe) -> Self {
        LrSchedule {
            kind: r.schedule,
            base: r.initial_lr,
            ending_lr: r.ending_lr,
            epochs: r.epochs,
            step_size: r.step_size,
            gamma: r.gamma,
        }
    }
}

impl LrSchedule {
    /// Learning rate for a step. `epoch` is 0-based; `step` is the global mini-batch index
    /// (0-based) since the start of training.
    pub fn at(&self, epoch: usize, step: usize) -> f64 {
        let (base, eta_min) = (self.base, self.ending_lr);
        match self.kind {
            ScheduleKind::None => base,
            ScheduleKind::Step => base * self.gamma.powi((epoch / self.step_size.max(1)) as i32),
            ScheduleKind::Cosine => cosine(base, eta_min, epoch as f64, self.epochs as f64),
            // The lab's original: CosineAnnealingLR(T_max = epochs) stepped after every
            // mini-batch, so the cosine's "epoch" counter is the step counter (lab8-reference §2).
            ScheduleKind::CosinePerStep => cosine(base, eta_min, step as f64, self.epochs as f64),
        }
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
        let schedule = LrSchedule {
            kind,
            base: 0.1,
            ending_lr: 0.0,
            epochs: 300,
            step_size: 30,
            gamma: 0.1,
        };
        schedule.at(epoch, step)
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
