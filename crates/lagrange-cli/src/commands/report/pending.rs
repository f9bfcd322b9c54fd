//! Report sections 10–12: particles and fields, quantum, future directions.

use super::{Context, Section};
use anyhow::Result;

pub const FIELDS_TITLE: &str = "Can it capture interactions between particles and fields?";
pub const QUANTUM_TITLE: &str = "Can it be extended to quantum dynamics?";
pub const FUTURE_TITLE: &str = "Future directions";

pub fn fields(_ctx: &mut Context) -> Result<Section> {
    Ok(Section::not_measured(
        "fields",
        FIELDS_TITLE,
        "lattice fields and particles coupled to them are the subject of the issue on fields \
         and quantum, not landed yet. What is measured today: particles in given fields — the \
         cyclotron and E × B drift, whose velocity-dependent potentials the symmetries and the \
         error sections cover.",
    ))
}

pub fn quantum(_ctx: &mut Context) -> Result<Section> {
    Ok(Section::not_measured(
        "quantum",
        QUANTUM_TITLE,
        "path integrals from the same L (Dirac 1933) are the subject of the issue on fields and \
         quantum, not landed yet. How learning would work: the propagator K = ∫ e^{iS/ħ} Dq is \
         a functional of the same L, so a parametric or neural L can be fitted to measured \
         transition probabilities |K|² by differentiating the discretized path integral with \
         the same dual numbers.",
    ))
}

pub fn future(ctx: &mut Context) -> Result<Section> {
    let mut body = String::from(
        "- **Fields and quantum** (sections 10–11): lattice densities through the compiled term \
         kernels, particles coupled to them, and path integrals from the same L.\n\
         - **GPU** (section 9): measure the neural training step, the one workload large enough \
         to gain from one, against the CPU figures.\n",
    );
    for d in &ctx.shared.directions {
        body.push_str(&format!("- {d}\n"));
    }
    let count = 2 + ctx.shared.directions.len();
    Ok(Section {
        id: "future",
        title: FUTURE_TITLE,
        summary: format!(
            "{count} directions: fields and path integrals, a GPU measurement, and what the sections above found lacking"
        ),
        answer: "What the measurements above suggest doing next (the first two are the open \
                 issues; the rest come from this run's numbers)."
            .into(),
        body,
        slide_figure: None,
    })
}
