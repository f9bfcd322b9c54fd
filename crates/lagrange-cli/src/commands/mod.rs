//! One file per command. To add a command: a variant in [`crate::cli::Command`], a file here
//! with `pub fn run(args) -> anyhow::Result<()>`, and one arm in [`dispatch`].

pub mod animate;
pub mod bench;
pub mod bench_cli;
pub mod bench_fields;
pub mod bench_learn;
pub mod bench_neural;
pub mod eom;
pub mod evaluate;
pub mod extrapolate;
pub mod generate;
pub mod landscape;
pub mod learn;
pub mod merge;
pub mod noise_sweep;
pub mod quantum;
pub mod report;
pub mod simulate;
pub mod symmetries;
pub mod systems;
pub mod train;

use crate::cli::Command;

pub fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Systems(args) => systems::run(&args),
        Command::Eom(args) => eom::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Learn(args) => learn::run(&args),
        Command::Landscape(args) => landscape::run(&args),
        Command::NoiseSweep(args) => noise_sweep::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Extrapolate(args) => extrapolate::run(&args),
        Command::Symmetries(args) => symmetries::run(&args),
        Command::Quantum(args) => quantum::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Animate(args) => animate::run(&args),
    }
}
