//! Entry point of the command line: parse, dispatch, and the error-reporting policy.

use crate::cli::Cli;
use crate::commands;
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::fmt;
use std::io::Write;

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
    let mut command = Cli::command();
    command.build();
    let args = attach_negative_values(&command, std::env::args_os().collect());
    let cli = match command
        .try_get_matches_from(args)
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => return clap_error(error),
    };
    commands::dispatch(cli.command)
}

/// One `warning: ...` line on stderr (a closed stderr is not an error).
pub fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "warning: {}", one_line(message));
}

/// Rewrites `--opt -1e-6` as `--opt=-1e-6` for every option of the command that takes a value.
///
/// clap reads a token after an option as a value only if it does not look like a flag, and its
/// idea of a negative number leaves out `-1e-6`, `-.5` and `-inf`; such a value was reported as
/// "unexpected argument '-1e-6'" without naming the option. Attached, it reaches the option's
/// own check, whose message names the option ("--rtol must be positive, got -1e-6").
fn attach_negative_values(command: &clap::Command, args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut subcommand: Option<&clap::Command> = None;
    let mut args = args.into_iter().enumerate().peekable();
    while let Some((i, arg)) = args.next() {
        let text = arg.to_str().unwrap_or_default();
        if text == "--" {
            out.push(arg);
            out.extend(args.map(|(_, a)| a));
            break;
        }
        if i > 0 && subcommand.is_none() && !text.starts_with('-') {
            subcommand = command.find_subcommand(text);
        }
        let takes_value = text
            .strip_prefix("--")
            .filter(|name| !name.contains('='))
            .zip(subcommand)
            .is_some_and(|(name, sub)| option_takes_value(sub, name));
        let negative = args
            .peek()
            .and_then(|(_, next)| next.to_str())
            .filter(|next| is_negative_number(next))
            .map(str::to_string);
        match negative {
            Some(value) if takes_value => {
                args.next();
                out.push(format!("{text}={value}").into());
            }
            _ => out.push(arg),
        }
    }
    out
}

fn option_takes_value(command: &clap::Command, name: &str) -> bool {
    command.get_arguments().any(|arg| {
        let named = arg.get_long() == Some(name)
            || arg
                .get_all_aliases()
                .is_some_and(|aliases| aliases.contains(&name));
        named && !arg.is_positional() && arg.get_action().takes_values()
    })
}

/// `-` followed by anything Rust reads as a number: `-1`, `-1e-6`, `-.5`, `-inf`, `-nan`.
fn is_negative_number(text: &str) -> bool {
    text.strip_prefix('-')
        .is_some_and(|rest| !rest.starts_with('-') && rest.parse::<f64>().is_ok())
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
