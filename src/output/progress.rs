//! Progress of long operations (save, restore, dump, migrate, block jobs, volume transfers).
//!
//! On a terminal: an indicatif bar on stderr. Otherwise virsh's own lines
//! (vshPrintJobProgress: `\rLABEL: [ 45 %]` on stderr), which log scrapers already parse.

use std::io::{IsTerminal, Write};

pub struct Progress {
    label: String,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(label: &str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(100);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{prefix}: [{bar:40}] {pos:>3} %")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_string());
            bar
        });
        Progress {
            label: label.to_string(),
            bar,
        }
    }

    /// Report `percent` done (clamped to 100).
    pub fn set(&self, percent: u32) {
        let percent = percent.min(100);
        match &self.bar {
            Some(bar) => bar.set_position(u64::from(percent)),
            None => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(plain_line(&self.label, percent).as_bytes());
                let _ = err.flush();
            }
        }
    }

    /// The operation is over: the bar is completed and left on screen, as virsh leaves its
    /// last `[100 %]`.
    pub fn finish(self) {
        self.set(100);
        if let Some(bar) = self.bar {
            bar.finish();
        }
    }
}

/// virsh's progress line: `\rLABEL: [%3d %]`.
pub fn plain_line(label: &str, percent: u32) -> String {
    format!("\r{label}: [{percent:3} %]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virsh_layout() {
        assert_eq!(plain_line("Managedsave", 100), "\rManagedsave: [100 %]");
        assert_eq!(plain_line("Migration", 5), "\rMigration: [  5 %]");
    }
}
