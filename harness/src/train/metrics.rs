use serde::{Deserialize, Serialize};

/// What one epoch did. Accuracies are fractions in [0, 1]; `lr` is the learning rate of the
/// epoch's first step; `seconds` covers training and evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_acc: f64,
    pub test_loss: f64,
    pub test_acc: f64,
    pub lr: f64,
    pub seconds: f64,
}

/// One training run (one seed) from start to end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    pub seed: u64,
    pub epochs: Vec<EpochRecord>,
    /// Test accuracy after the last completed epoch (None if diverged).
    pub final_test_acc: Option<f64>,
    pub best_test_acc: Option<f64>,
    pub best_epoch: Option<usize>,
    /// First epoch (1-based) whose training loss was NaN or infinite; training stopped there.
    pub diverged_at_epoch: Option<usize>,
    /// Epoch after which the callback asked to stop (early stopping or interruption).
    pub stopped_at_epoch: Option<usize>,
    pub parameters: i64,
    pub wall_seconds: f64,
    /// Training images per second over all epochs (evaluation excluded).
    pub train_images_per_s: f64,
}

impl RunOutcome {
    /// The accuracy the recipe reports: last epoch's or best epoch's.
    pub fn reported_acc(&self, which: super::ReportedAccuracy) -> Option<f64> {
        match which {
            super::ReportedAccuracy::Last => self.final_test_acc,
            super::ReportedAccuracy::Best => self.best_test_acc,
        }
    }

    /// Train accuracy minus test accuracy at the last epoch: a visible sign of over-fitting.
    pub fn final_gap(&self) -> Option<f64> {
        if self.diverged_at_epoch.is_some() {
            return None;
        }
        self.epochs.last().map(|e| e.train_acc - e.test_acc)
    }
}
