//! `lagrange`: write a Lagrangian once, get equations of motion, trajectories and plots.
//!
//! `main` only runs [`app::run`] and turns an error into exactly one line on stderr:
//! `error: <message>` (the whole context chain joined with ": "), then exits non-zero
//! (2 for bad input, 1 for a failure while running or writing).

mod app;
mod cli;
mod commands;
mod device;
mod limits;
mod options;
mod output;
mod shard;
mod system;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A bug must still end as one `error:` line, never as a panic message with a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        eprintln!("error: internal error: {}", app::one_line(&message));
    }));
    // Ctrl-C or a kill must not leave a temporary output file behind; without the handler the
    // default action (exit) still leaves no partial *target*, so a failure here is not fatal.
    let _ = output::atomic::remove_temp_files_on_signal();
    match std::panic::catch_unwind(app::run) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            if !app::is_broken_pipe(&error) {
                eprintln!("error: {}", app::error_line(&error));
            }
            ExitCode::from(app::exit_code(&error))
        }
        Err(_) => ExitCode::from(app::EXIT_INTERNAL),
    }
}
