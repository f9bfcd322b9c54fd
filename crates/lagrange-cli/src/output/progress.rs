//! Progress reporting through the core's [`Observer`]: an `indicatif` bar on stderr, shown only
//! when stderr is a terminal and `--quiet` is not given.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lagrange::integrators::{NoObserver, Observer};
use std::io::IsTerminal;

const TICKS: u64 = 1000;

/// A progress bar over simulated time.
pub struct Bar {
    bar: ProgressBar,
    /// Last position drawn (updates only when it changes: outputs can number millions).
    tick: Option<u64>,
}

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(TICKS), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self { bar, tick: None }
    }
}

impl Observer for Bar {
    fn on_output(&mut self, t: f64, t0: f64, t_end: f64) {
        let span = t_end - t0;
        let fraction = if span > 0.0 {
            ((t - t0) / span).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let tick = (fraction * TICKS as f64) as u64;
        if self.tick != Some(tick) {
            self.tick = Some(tick);
            self.bar.set_position(tick);
            self.bar.set_message(format!("t = {t:.4}"));
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// The observer for a run: a bar when stderr is a terminal and not `quiet`, else nothing.
pub fn observer(quiet: bool) -> Box<dyn Observer> {
    if !quiet && std::io::stderr().is_terminal() {
        Box::new(Bar::new())
    } else {
        Box::new(NoObserver)
    }
}
