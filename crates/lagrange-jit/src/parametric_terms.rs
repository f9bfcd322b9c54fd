//! Term kernels for [`ParametricEquations`](crate::ParametricEquations): a model declared as a
//! sum of local terms `L = Σₖ L_k(θ; t, q_{c(k)}, q̇_{c(k)})` compiled per class of alike terms
//! (as [`terms`](crate::terms) does for a fixed system), with θ as runtime inputs.
//!
//! Straight-line code for a chain of 256 springs repeats the same few instructions once per
//! spring, and once more per parameter for the Jacobian; past a few hundred terms it exceeds
//! the compiler's operation limit, and long before that the instruction cache. Here each class
//! is traced once on its local coordinates with θ as graph inputs, differentiated into its local
//! force, mass block and their parameter derivatives, and compiled to loop kernels that add
//! these into the same arrays the straight-line functions write: `[f (n) | ∂f/∂θ (n P) | M |
//! ∂M/∂θ₀ | …]` (M in the host's storage). The host's LU, Jacobian columns and loss gradient
//! are then shared with the straight-line path unchanged.
//!
//! Outputs are sorted by what they read:
//! - those that depend on `(t, q, q̇)` run per sample (one kernel for q̈, one with the
//!   derivatives);
//! - the others depend on θ at most: one kernel per class evaluates them once per
//!   [`set_parameters`](crate::ParametricEquations::set_parameters) into a base that each
//!   sample starts from. When all of M is in the base, the host also factorizes M once per
//!   parameter set.
//!
//! θ reaches the kernels as the first P of each row's parameters (after them the constants that
//! differ between a class's terms); `set_parameters` writes it into every row.

use crate::codegen::{CHUNK_OPERATIONS, CodegenError};
use crate::diff::euler_lagrange;
use crate::graph::{Graph, Id};
use crate::kernel::{Target, TermKernel};
use crate::parametric::{ParametricLagrangian, ParametricOptions, Storage, parameter_derivatives};
use crate::terms::{Class, class_graph, classify, divides, spread};
use lagrange::mechanics::linalg::band_index;

/// Where one output of a class is added, in the local indices of a term.
#[derive(Clone, Copy, Debug)]
enum Dest {
    /// `f` at local coordinate `i`.
    Force(usize),
    /// `∂f/∂θₖ` at local coordinate `i`: `(i, k)`.
    ForceDerivative(usize, usize),
    /// `M` at local `(a, b)`.
    Mass(usize, usize),
    /// `∂M/∂θₖ` at local `(a, b)`: `(k, a, b)`.
    MassDerivative(usize, usize, usize),
}

impl Dest {
    fn is_derivative(self) -> bool {
        matches!(self, Dest::ForceDerivative(..) | Dest::MassDerivative(..))
    }
}

/// One compiled kernel and its index table.
#[derive(Debug)]
struct Table {
    kernel: TermKernel,
    rows: Vec<u32>,
}

/// One class of terms: up to three kernels over the same members, in the same order.
#[derive(Debug)]
struct ClassKernels {
    /// Per-sample outputs for q̈ (f and M).
    values: Option<Table>,
    /// Per-sample outputs with their parameter derivatives.
    jacobian: Option<Table>,
    /// Outputs that do not read the state, once per parameter set.
    parameters: Option<Table>,
    /// The constants that differ between members, `varying` per member, in member order.
    constants: Vec<f64>,
    varying: usize,
    members: usize,
}

/// The term kernels of one model (shared by every clone of the equations).
#[derive(Debug)]
pub(crate) struct TermCode {
    classes: Vec<ClassKernels>,
    n: usize,
    p: usize,
    /// Length of the front (`f`, and `∂f/∂θ` with derivatives) of the work array.
    pub out_len: usize,
    /// Length of the rest (`M`, and `∂M/∂θ` with derivatives).
    pub scratch_len: usize,
    /// The host's storage of M.
    pub storage: Storage,
    /// Whether M (and `∂M/∂θ`) depend on θ alone: then they are all in the base.
    pub mass_per_parameters: bool,
    /// Operations of the kernels for q̈ (per sample and per parameter set), and of those with
    /// derivatives.
    pub operations: [usize; 2],
    /// How the θ-derivatives were taken, for the statistics.
    pub derivatives: &'static str,
}

/// The per-clone state of the term kernels: each row's parameters (θ, then its constants), the
/// base the samples start from.
#[derive(Debug, Clone, Default)]
pub(crate) struct TermState {
    params: Vec<Vec<f64>>,
    /// `[out_len | scratch_len]`: the outputs that do not read the state, at the current θ.
    pub base: Vec<f64>,
}

/// Which per-sample kernels to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Values,
    Jacobian,
}

/// The model's terms as kernels, or `None` where they do not apply: no terms declared, a
/// Rayleigh function (not split into terms), a term that cannot be traced or names a coordinate
/// out of range, more than `terms::MAX_CLASSES` classes, or a kernel too large.
pub(crate) fn build<L: ParametricLagrangian + ?Sized>(
    lagrangian: &L,
    options: ParametricOptions,
) -> Result<Option<TermCode>, CodegenError> {
    let (n, p) = (lagrangian.dof(), lagrangian.num_parameters());
    let num_terms = lagrangian.num_terms();
    if num_terms == 0 || lagrangian.has_dissipation() {
        return Ok(None);
    }
    let Some(classes) = classify(
        num_terms,
        n,
        p,
        |k, c| lagrangian.term_coordinates(k, c),
        |k, t, q, v, theta| lagrangian.term(k, theta, t, q, v),
    ) else {
        return Ok(None);
    };

    let derivatives = options.derivatives;
    let diffs: Vec<Differentiated> = classes
        .iter()
        .map(|c| differentiate(c, p, options))
        .collect();
    // how each class's θ-derivatives were taken (forward unless a class has more parameters
    // than outputs)
    let mut how: Vec<&'static str> = diffs.iter().filter_map(|d| d.derivatives).collect();
    how.sort_unstable();
    how.dedup();
    let mass_per_parameters = diffs.iter().all(|d| {
        d.outputs.iter().all(|&(x, dest)| {
            matches!(dest, Dest::Force(_) | Dest::ForceDerivative(..)) || !d.state[x as usize]
        })
    });
    let mut bandwidth = 0;
    for (class, d) in classes.iter().zip(&diffs) {
        for &(_, dest) in &d.outputs {
            if let Dest::Mass(a, b) | Dest::MassDerivative(_, a, b) = dest {
                for member in &class.members {
                    let c = &member.coordinates;
                    bandwidth = bandwidth.max(c[a].abs_diff(c[b]));
                }
            }
        }
    }
    let storage = if 4 * bandwidth < n {
        Storage::Banded { bandwidth }
    } else {
        Storage::Dense
    };
    let len = storage.len(n);
    let out_len = if derivatives { n + n * p } else { n };
    let scratch_len = if derivatives { len * (1 + p) } else { len };
    if out_len + scratch_len >= u32::MAX as usize {
        return Ok(None);
    }
    let slot_of_mass = |i: usize, j: usize| match storage {
        Storage::Banded { bandwidth } => band_index(bandwidth, i, j),
        Storage::Dense => i * n + j,
    };
    // the absolute slot in the work array of an output added by a table column
    let slot = |dest: Dest, c: &[usize]| -> u32 {
        (match dest {
            Dest::Force(_) => unreachable!("forces go to the row's coordinate"),
            Dest::ForceDerivative(i, k) => n + c[i] * p + k,
            Dest::Mass(a, b) => out_len + slot_of_mass(c[a], c[b]),
            Dest::MassDerivative(k, a, b) => out_len + len * (1 + k) + slot_of_mass(c[a], c[b]),
        }) as u32
    };

    let mut compiled = Vec::with_capacity(classes.len());
    let mut operations = [0, 0];
    for (class, d) in classes.iter().zip(&diffs) {
        let m = class.m;
        let order: Vec<usize> = spread(class.members.iter().map(|mb| &mb.coordinates[..]))
            .into_iter()
            .flatten()
            .collect();
        let table =
            |pick: &dyn Fn(Id, Dest) -> bool| -> Result<Option<(Table, usize)>, CodegenError> {
                let chosen: Vec<(Id, Dest)> = d
                    .outputs
                    .iter()
                    .copied()
                    .filter(|&(x, dest)| pick(x, dest))
                    .collect();
                if chosen.is_empty() {
                    return Ok(None);
                }
                let nodes: Vec<Id> = chosen.iter().map(|&(x, _)| x).collect();
                let work = d.graph.work(&nodes);
                let targets: Vec<(Id, Target)> = chosen
                    .iter()
                    .map(|&(x, dest)| match dest {
                        Dest::Force(i) => (x, Target::Force(i)),
                        _ => (x, Target::Mass),
                    })
                    .collect();
                let lanes = if divides(&d.graph, &nodes) { 2 } else { 1 };
                let kernel = TermKernel::compile(
                    &d.graph,
                    m,
                    p + d.varying,
                    &targets,
                    d.forward_len,
                    lanes,
                )?;
                let mut rows = Vec::with_capacity(order.len() * kernel.row_len());
                for &k in &order {
                    let c = &class.members[k].coordinates;
                    rows.extend(c.iter().map(|&i| i as u32));
                    for &(_, dest) in &chosen {
                        if !matches!(dest, Dest::Force(_)) {
                            rows.push(slot(dest, c));
                        }
                    }
                }
                Ok(Some((Table { kernel, rows }, work)))
            };
        let state = &d.state;
        // a kernel too large for one function: the straight-line code is used instead
        let too_large =
            |t: &Option<(Table, usize)>| t.as_ref().is_some_and(|(_, w)| *w > CHUNK_OPERATIONS);
        let values = table(&|x, dest| state[x as usize] && !dest.is_derivative())?;
        let jacobian = if derivatives {
            table(&|x, _| state[x as usize])?
        } else {
            None
        };
        let parameters = table(&|x, _| !state[x as usize])?;
        if too_large(&values) || too_large(&jacobian) || too_large(&parameters) {
            return Ok(None);
        }
        let work = |t: &Option<(Table, usize)>| t.as_ref().map_or(0, |(_, w)| *w);
        operations[0] += work(&values) + work(&parameters);
        operations[1] += work(&jacobian);
        let mut constants = Vec::with_capacity(order.len() * d.varying);
        for &k in &order {
            constants.extend_from_slice(&d.constants[k * d.varying..(k + 1) * d.varying]);
        }
        compiled.push(ClassKernels {
            values: values.map(|(t, _)| t),
            jacobian: jacobian.map(|(t, _)| t),
            parameters: parameters.map(|(t, _)| t),
            constants,
            varying: d.varying,
            members: order.len(),
        });
    }
    Ok(Some(TermCode {
        classes: compiled,
        n,
        p,
        out_len,
        scratch_len,
        storage,
        mass_per_parameters,
        operations,
        derivatives: match how[..] {
            [] => "none",
            [one] => one,
            _ => "forward and reverse",
        },
    }))
}

/// A class's graph, differentiated, with its outputs.
struct Differentiated {
    graph: Graph,
    forward_len: Id,
    /// Constants that differ between members (kernel parameters after θ).
    varying: usize,
    /// `varying` values per member, in member order.
    constants: Vec<f64>,
    /// Outputs that are not constant zero.
    outputs: Vec<(Id, Dest)>,
    /// Whether each node depends on t, q or q̇.
    state: Vec<bool>,
    /// `"forward"` or `"reverse"` (`None` without derivatives).
    derivatives: Option<&'static str>,
}

/// The class's graph with inputs `[t, q (m), q̇ (m), θ (P), varying constants]`, its local force
/// and mass block, and (with `derivatives`) their derivatives in θ.
fn differentiate(class: &Class, p: usize, options: ParametricOptions) -> Differentiated {
    let m = class.m;
    let (mut g, l, varying, constants) = class_graph(class, p);
    let forward_len = g.len() as Id;
    let (force, mass) = euler_lagrange(&mut g, l, m);
    let mut outputs: Vec<(Id, Dest)> = force
        .iter()
        .enumerate()
        .map(|(i, &f)| (f, Dest::Force(i)))
        .chain((0..m * m).map(|e| (mass[e], Dest::Mass(e / m, e % m))))
        .collect();
    let mut how = None;
    if options.derivatives {
        let theta: Vec<Id> = (0..p).map(|k| g.input(1 + 2 * m + k)).collect();
        let (df, dm, label) = parameter_derivatives(&mut g, &force, &mass, &theta, options.mode);
        how = Some(label);
        for i in 0..m {
            for k in 0..p {
                outputs.push((df[i * p + k], Dest::ForceDerivative(i, k)));
            }
        }
        for k in 0..p {
            for e in 0..m * m {
                outputs.push((dm[k * m * m + e], Dest::MassDerivative(k, e / m, e % m)));
            }
        }
    }
    outputs.retain(|&(x, _)| g.as_const(x) != Some(0.0));
    let state = g.depends_on_inputs_below(1 + 2 * m);
    Differentiated {
        graph: g,
        forward_len,
        varying,
        constants,
        outputs,
        state,
        derivatives: how,
    }
}

impl TermCode {
    /// Number of kernels (of all kinds).
    pub fn num_kernels(&self) -> usize {
        self.classes
            .iter()
            .map(|c| {
                usize::from(c.values.is_some())
                    + usize::from(c.jacobian.is_some())
                    + usize::from(c.parameters.is_some())
            })
            .sum()
    }

    /// A fresh per-clone state (θ = 0 until [`set_parameters`](Self::set_parameters)).
    pub fn state(&self) -> TermState {
        TermState {
            params: self
                .classes
                .iter()
                .map(|c| {
                    let per_row = self.p + c.varying;
                    let mut params = vec![0.0; c.members * per_row];
                    for (row, values) in params.chunks_exact_mut(per_row).enumerate() {
                        values[self.p..]
                            .copy_from_slice(&c.constants[row * c.varying..(row + 1) * c.varying]);
                    }
                    params
                })
                .collect(),
            base: vec![0.0; self.out_len + self.scratch_len],
        }
    }

    /// Writes θ into every row and evaluates the base (the outputs that do not read the state);
    /// `false` where the base is not finite.
    pub fn set_parameters(&self, state: &mut TermState, theta: &[f64]) -> bool {
        let p = self.p;
        for (class, params) in self.classes.iter().zip(&mut state.params) {
            for row in params.chunks_exact_mut(p + class.varying) {
                row[..p].copy_from_slice(theta);
            }
        }
        state.base.fill(0.0);
        let origin = vec![0.0; self.n];
        for (class, params) in self.classes.iter().zip(&state.params) {
            if let Some(table) = &class.parameters {
                let base = state.base.as_mut_ptr();
                // SAFETY: `build` made every coordinate index < n (the length of `origin`) and
                // every table slot < out_len + scratch_len (the base's length); `params` holds
                // p + varying values per row, one row per member; the force and mass pointers
                // are the same array, written at disjoint slots by one thread.
                unsafe {
                    table
                        .kernel
                        .run_raw(&0.0, &origin, &origin, &table.rows, params, base, base)
                };
            }
        }
        state.base.iter().all(|x| x.is_finite())
    }

    /// The outputs of `kind` at `(t, q, q̇)` into `work` (`[out_len | scratch_len]`), from the
    /// base; `false` where something read or written is not finite. Without `with_mass`, the
    /// mass part is left alone (M depends on θ alone and is factorized already).
    pub fn run(
        &self,
        state: &TermState,
        kind: Kind,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        work: &mut [f64],
    ) -> bool {
        let n = self.n;
        assert!(
            q.len() == n && q_dot.len() == n,
            "q and q̇ must have {n} values"
        );
        assert!(work.len() >= self.out_len + self.scratch_len);
        let len = self.storage.len(n);
        // the parts this kind reads: f (and ∂f/∂θ), M (and ∂M/∂θ) unless per parameter set
        let (front, back) = match kind {
            Kind::Values => (n, len),
            Kind::Jacobian => (self.out_len, self.scratch_len),
        };
        let back = if self.mass_per_parameters { 0 } else { back };
        let (o, s) = (self.out_len, self.out_len + back);
        work[..front].copy_from_slice(&state.base[..front]);
        work[o..s].copy_from_slice(&state.base[o..s]);
        let ptr = work.as_mut_ptr();
        for (class, params) in self.classes.iter().zip(&state.params) {
            let table = match kind {
                Kind::Values => &class.values,
                Kind::Jacobian => &class.jacobian,
            };
            if let Some(table) = table {
                // SAFETY: as in `set_parameters`, with `q` and `q̇` of n values (asserted) and
                // `work` at least as long as the base (asserted).
                unsafe {
                    table
                        .kernel
                        .run_raw(&t, q, q_dot, &table.rows, params, ptr, ptr)
                };
            }
        }
        let sum: f64 = t
            + q.iter().chain(q_dot).sum::<f64>()
            + work[..front].iter().sum::<f64>()
            + work[o..s].iter().sum::<f64>();
        sum.is_finite()
    }
}
