//! Report section 12: future directions.

use super::{Context, Section};
use anyhow::Result;

pub const FUTURE_TITLE: &str = "Future directions";

pub fn future(ctx: &mut Context) -> Result<Section> {
    let mut body = String::from(
        "- **Fields** (section 10): lattice kernels with strided SIMD addressing (the 2-D wave \
         equation runs ≈ 5× a hand-written stencil), one trace per class of terms instead of \
         per term (compiling 10⁶ sites takes seconds), and gauge fields on links.\n\
         - **Quantum** (section 11): the pair-product or Takahashi–Imada action (O(Δτ⁴)), \
         staging moves, and fitting V to measured densities of several coordinates.\n\
         - **GPU** (section 9): the structured model's head and the mass penalty on the GPU \
         (they run on the CPU only), and fewer kernel launches at small batches, where a step \
         is launch-bound.\n",
    );
    for d in &ctx.shared.directions {
        body.push_str(&format!("- {d}\n"));
    }
    let count = 3 + ctx.shared.directions.len();
    Ok(Section {
        id: "future",
        title: FUTURE_TITLE,
        summary: format!(
            "{count} directions: faster lattice kernels, better path-integral actions, the rest of training on the GPU, and what the sections above found lacking"
        ),
        answer: "What the measurements above suggest doing next (the first three follow sections \
                 10, 11 and 9; the rest come from this run's numbers)."
            .into(),
        body,
        slide_figure: None,
    })
}
