//! Entry point of the command line: parse, dispatch, and the error-reporting policy.

use crate::cli::Cli;
use crate::commands;
use clap::Parser;
use std::fmt;

/// Exit status for a failure while running or writing (integration blew up, disk full, ...).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for bad input: usage, system file, options, state, parameters.
pub const EXIT_INPUT: u8 = 2;
/// Exit status after an internal error (a bug).
pub const EXIT_INTERNAL: u8 = 70;

/// Marks an error as a failure of the run itself rather than of the input (exit status 1).
#[derive(Debug)]
pub struct RunFailure(pub String);

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunFailure {}

/// Parses the command line and runs the command.
pub fn run() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_error(error),
    };
    commands::dispatch(cli.command)
}

/// Help and version go to stdout as clap renders them; usage errors become one `error:` line.
fn clap_error(error: clap::Error) -> anyhow::Result<()> {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            error.print()?;
            Ok(())
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // `lagrange` alone: show the help, but exit non-zero.
            let _ = error.print();
            anyhow::bail!("no command given (try `lagrange --help`)")
        }
        _ => {
            // clap renders "error: ...\n  detail\n\nUsage: ...\n\nFor more information ...";
            // keep the paragraph that states the problem, on one line.
            let rendered = error.render().to_string();
            let problem: Vec<&str> = rendered
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let problem = problem.join(" ");
            let problem = problem.strip_prefix("error:").unwrap_or(&problem).trim();
            anyhow::bail!("{problem} (see `--help`)")
        }
    }
}

/// Collapses any line breaks of a message into one line.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The whole context chain of `error` on one line, joined with ": ".
///
/// A cause whose text its wrapper already shows (`#[error("...: {0}")]` plus `#[source]`) is not
/// repeated.
pub fn error_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = one_line(&cause.to_string());
        if text.is_empty() || parts.last().is_some_and(|prev| prev.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// Whether the error is a closed stdout (`lagrange systems | head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The exit status for `error`.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if is_broken_pipe(error) {
        0
    } else if error.chain().any(|cause| cause.is::<RunFailure>()) {
        EXIT_FAILURE
    } else {
        EXIT_INPUT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn chain_is_one_line_without_repeats() {
        let inner = std::io::Error::other("disk\nfull");
        let e = Err::<(), _>(inner).context("writing out.csv").unwrap_err();
        assert_eq!(error_line(&e), "writing out.csv: disk full");
        let e = anyhow::anyhow!("outer: inner").context("top");
        assert_eq!(error_line(&e), "top: outer: inner");
    }
}
