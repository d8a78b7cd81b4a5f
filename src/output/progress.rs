//! Progress of long operations (save, restore, dump, migrate, block jobs, volume transfers).
//!
//! On a terminal: an indicatif bar on stderr. Otherwise virsh's own lines
//! (vshPrintJobProgress: `\rLABEL: [ 45 %]` on stderr), which log scrapers already parse.
//! Operations for which virsh prints no progress at all (vol-upload, vol-download) use
//! [`Progress::terminal_only`]: a bar for people, and nothing at all for scripts.

use std::io::{IsTerminal, Write};

/// Where the progress goes.
enum Draw {
    Bar(indicatif::ProgressBar),
    /// virsh's `\rLABEL: [ 45 %]` lines.
    Lines,
    /// Nowhere: virsh prints nothing for this operation and nobody is watching.
    Nothing,
}

pub struct Progress {
    label: String,
    draw: Draw,
    /// The byte count of a byte-measured operation; None when measured in percent.
    total: Option<u64>,
}

impl Progress {
    pub fn new(label: &str) -> Progress {
        let draw = if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(100);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{prefix}: [{bar:40}] {pos:>3} %")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_string());
            Draw::Bar(bar)
        } else {
            Draw::Lines
        };
        Progress {
            label: label.to_string(),
            draw,
            total: None,
        }
    }

    /// Whether [`Progress::terminal_only`] would draw anything: callers skip the work of
    /// finding a total (a daemon round trip, say) when it would not.
    pub fn on_terminal() -> bool {
        std::io::stderr().is_terminal()
    }

    /// A byte-measured bar of `total` bytes, drawn only when stderr is a terminal: for
    /// operations where virsh prints no progress, so that scripts see exactly what virsh
    /// prints.
    pub fn terminal_only(label: &str, total: u64) -> Progress {
        let draw = if Progress::on_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            // The bar takes what the terminal's width leaves, so that the line never wraps.
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{prefix}: [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
                 ({binary_bytes_per_sec}, {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_string());
            Draw::Bar(bar)
        } else {
            Draw::Nothing
        };
        Progress {
            label: label.to_string(),
            draw,
            total: Some(total),
        }
    }

    /// Report `percent` done (clamped to 100).
    pub fn set(&self, percent: u32) {
        let percent = percent.min(100);
        match &self.draw {
            Draw::Bar(bar) => match self.total {
                Some(total) => {
                    // Computed wide so that no product of a u64 total overflows.
                    let done = u128::from(total) * u128::from(percent) / 100;
                    bar.set_position(u64::try_from(done).unwrap_or(total));
                }
                None => bar.set_position(u64::from(percent)),
            },
            Draw::Lines => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(plain_line(&self.label, percent).as_bytes());
                let _ = err.flush();
            }
            Draw::Nothing => {}
        }
    }

    /// Report `bytes` done, of a byte-measured operation (clamped to its total).
    pub fn set_bytes(&self, bytes: u64) {
        if let (Draw::Bar(bar), Some(total)) = (&self.draw, self.total) {
            bar.set_position(bytes.min(total));
        }
    }

    /// The operation is over: the bar is completed and left on screen, as virsh leaves its
    /// last `[100 %]`.
    pub fn finish(self) {
        match self.total {
            Some(total) => self.set_bytes(total),
            None => self.set(100),
        }
        if let Draw::Bar(bar) = self.draw {
            bar.finish();
        }
    }

    /// The operation failed: the bar stays where it stopped, and the error lines that
    /// follow start on a line of their own.
    pub fn abandon(self) {
        if let Draw::Bar(bar) = self.draw {
            bar.abandon();
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

    #[test]
    fn terminal_only_is_silent_off_a_terminal() {
        // Under `cargo test` stderr is captured or a pipe more often than a terminal; the
        // point is only checked when it is not one.
        if Progress::on_terminal() {
            return;
        }
        let p = Progress::terminal_only("Upload", 1000);
        assert!(matches!(p.draw, Draw::Nothing));
        p.set_bytes(500);
        p.finish();
    }
}
