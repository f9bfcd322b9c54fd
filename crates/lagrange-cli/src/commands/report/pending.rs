//! Report sections 11–12: quantum, future directions.

use super::{Context, Section};
use anyhow::Result;

pub const QUANTUM_TITLE: &str = "Can it be extended to quantum dynamics?";
pub const FUTURE_TITLE: &str = "Future directions";

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
        "- **Fields** (section 10): trace one term per class instead of every term (compiling 10⁶ \
         sites takes seconds), and fields with gauge links (the lattice Maxwell field).\n\
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
            "{count} directions: bigger lattices and gauge fields, a GPU measurement, and what the sections above found lacking"
        ),
        answer: "What the measurements above suggest doing next (the first two are the open \
                 issues; the rest come from this run's numbers)."
            .into(),
        body,
        slide_figure: None,
    })
}
