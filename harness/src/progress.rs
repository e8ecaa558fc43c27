//! Progress: a bar on a terminal, one plain line per finished run otherwise (CI logs).
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Progress {
    /// `total_epochs` sizes the bar; `quiet` prints nothing at all.
    pub fn new(total_epochs: u64, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { bar: None, quiet };
        }
        let bar = ProgressBar::new(total_epochs);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} epochs  {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Progress {
            bar: Some(bar),
            quiet,
        }
    }

    pub fn is_bar(&self) -> bool {
        self.bar.is_some()
    }

    pub fn set_message(&self, msg: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(msg);
        }
    }

    pub fn epoch_done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// A line that stays: above the bar on a terminal, on stderr otherwise (nothing when
    /// quiet).
    pub fn line(&self, msg: String) {
        match &self.bar {
            Some(bar) => bar.println(msg),
            None if !self.quiet => eprintln!("{msg}"),
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
