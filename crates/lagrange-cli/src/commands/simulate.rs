//! `lagrange simulate`: integrate from t = 0 to --t-end and write the trajectory and/or a plot.
//!
//! Outputs are rendered to temporary files and renamed into place only when every requested
//! output has been written, so a failure leaves no file behind.

use crate::app::RunFailure;
use crate::cli::SimulateArgs;
use crate::options::{Problem, SimulateOptions};
use crate::output::atomic::AtomicFile;
use crate::output::{Table, plot, progress};
use anyhow::{Context, Result, anyhow};
use lagrange::integrators::{IntegrationError, Trajectory, simulate_with};
use lagrange::mechanics::{Accelerations, EquationsOfMotion};
use lagrange::systems::System;
use lagrange::{accelerations, jacobi_integral, partial_time};
use lagrange_jit::CompiledEquations;
use std::io::{IsTerminal, Write};

pub fn run(args: &SimulateArgs) -> Result<()> {
    let options = SimulateOptions::from_args(args)?;
    let Problem {
        system,
        coordinates,
        q,
        q_dot,
    } = &options.problem;

    // A degenerate Lagrangian or a bad start is an input error: say so before integrating.
    accelerations(system, 0.0, q, q_dot).context("at the initial state")?;

    let eom: Box<dyn Accelerations + '_> = if options.compiled {
        Box::new(CompiledEquations::new(system).map_err(|e| {
            anyhow!("--eom compiled: {e} (from the command line: leave out --eom compiled)")
        })?)
    } else {
        Box::new(EquationsOfMotion::new(system))
    };
    let trajectory = {
        let mut observer = progress::observer(options.quiet);
        simulate_with(
            system,
            eom,
            &options.method,
            0.0,
            q,
            q_dot,
            options.t_end,
            options.dt,
            observer.as_mut(),
        )
        .map_err(|e| match e {
            // caught before any step: bad input, not a failed run
            IntegrationError::InvalidSettings { .. } => anyhow!(e),
            e => anyhow!(RunFailure(format!("integration failed: {e}"))),
        })?
    };
    let energy = energies(system, &trajectory)?;
    let table = Table {
        coordinates,
        t: &trajectory.t,
        q: &trajectory.q,
        q_dot: &trajectory.q_dot,
        energy: &energy,
    };

    let mut pending: Vec<AtomicFile> = Vec::new();
    if let Some(target) = &options.plot {
        let file = AtomicFile::new(&target.path)?;
        let labels = plot::Labels {
            title: &format!(
                "{} — {}, dt = {}",
                system.title(),
                options.integrator,
                options.dt
            ),
            conservative: conservative(system, &trajectory),
        };
        plot::render(&table, &labels, file.temp_path(), target.kind)
            .with_context(|| format!("cannot write plot '{}'", target.path.display()))?;
        pending.push(file);
    }
    if let Some(target) = &options.out {
        match &target.path {
            None => {
                let stdout = std::io::stdout();
                let mut lock = stdout.lock();
                target
                    .format
                    .write(&table, &mut lock)
                    .context("writing to stdout")?;
                lock.flush().context("writing to stdout")?;
            }
            Some(path) => {
                let file = AtomicFile::new(path)?;
                let mut handle = file.file()?;
                target
                    .format
                    .write(&table, &mut handle)
                    .and_then(|()| handle.sync_all())
                    .with_context(|| format!("cannot write '{}'", path.display()))?;
                pending.push(file);
            }
        }
    }
    for file in pending {
        file.commit()?;
    }
    if !options.quiet && std::io::stderr().is_terminal() {
        summary(&options, &table);
    }
    Ok(())
}

/// The Jacobi integral at every row; a non-finite state or energy is a blow-up, reported with
/// its time.
fn energies<S: System>(system: &S, trajectory: &Trajectory) -> Result<Vec<f64>> {
    let mut energy = Vec::with_capacity(trajectory.t.len());
    for ((t, q), q_dot) in trajectory
        .t
        .iter()
        .zip(&trajectory.q)
        .zip(&trajectory.q_dot)
    {
        let finite = q.iter().chain(q_dot).all(|v| v.is_finite());
        let e = if finite {
            jacobi_integral(system, *t, q, q_dot).ok()
        } else {
            None
        };
        match e {
            Some(e) if e.is_finite() => energy.push(e),
            _ => {
                return Err(anyhow!(RunFailure(format!(
                    "the solution blew up: non-finite state or energy at t = {t} (try a smaller --dt or --integrator dopri5)"
                ))));
            }
        }
    }
    Ok(energy)
}

/// Whether the energy should be conserved: no dissipation and no explicit time dependence
/// (∂L/∂t = 0 on a sample of the rows). Extra generalized forces are not detected.
fn conservative<S: System>(system: &S, trajectory: &Trajectory) -> bool {
    if system.has_dissipation() {
        return false;
    }
    let step = trajectory.t.len().div_ceil(50).max(1);
    (0..trajectory.t.len()).step_by(step).all(|i| {
        let (t, q, q_dot) = (trajectory.t[i], &trajectory.q[i], &trajectory.q_dot[i]);
        partial_time(system, t, q, q_dot).is_ok_and(|d| d == 0.0)
    })
}

fn summary(options: &SimulateOptions, table: &Table<'_>) {
    let e0 = table.energy.first().copied().unwrap_or(0.0);
    let worst = table
        .energy
        .iter()
        .map(|e| (e - e0).abs())
        .fold(0.0, f64::max);
    let drift = if e0 != 0.0 {
        format!("max |E-E0|/|E0| = {:.2e}", worst / e0.abs())
    } else {
        format!("max |E-E0| = {worst:.2e}")
    };
    let mut written: Vec<String> = Vec::new();
    if let Some(out) = &options.out {
        written.push(
            out.path
                .as_ref()
                .map_or("stdout".into(), |p| p.display().to_string()),
        );
    }
    if let Some(plot) = &options.plot {
        written.push(plot.path.display().to_string());
    }
    eprintln!(
        "{} rows, t = 0..{} ({}), {drift} -> {}",
        table.len(),
        options.t_end,
        options.integrator,
        written.join(", ")
    );
}
