//! Lagrangians declared as sums of local terms ([`Structure::local_terms`](lagrange::Structure::local_terms)), compiled to one
//! loop kernel ([`TermKernel`]) per class of terms that differ only in their coordinates and
//! constants.
//!
//! Each term is traced on its own local coordinates. Terms whose traced graphs are the same
//! operations on the same operands, constants aside, form a class. The class's graph keeps the
//! constants that all its terms share and turns the others into per-term parameters; it is
//! differentiated once, symbolically, into the term's local force
//! `∂L_k/∂q − (∂²L_k/∂q̇∂q) q̇ − ∂²L_k/∂q̇∂t` and mass-matrix block `∂²L_k/∂q̇²`. Outputs that
//! do not depend on the state are evaluated once at compile time (a constant M is inverted or
//! factored then); the others are computed by the class's kernel and added into the global
//! force and M. Code size is then independent of the number of terms, and the cost per call is
//! linear in it.

use rustc_hash::FxHashMap as HashMap;

use crate::codegen::{CHUNK_OPERATIONS, CodegenError};
use crate::diff::euler_lagrange;
use crate::graph::{Fun, Graph, Id, Op};
use crate::kernel::{Target, TermKernel};
use crate::lattice::{Lattice, LatticeSplit};
use crate::trace::{Traced, trace};
use lagrange::Lagrangian;
use lagrange::mechanics::linalg::band_index;

/// More classes than this (terms that hardly repeat) compile to straight-line code instead.
const MAX_CLASSES: usize = 64;
/// Below this many operations (estimated as Σ kernel operations × terms) straight-line code
/// is used: it fits the instruction cache and avoids the loops' index loads and the fixed
/// cost of the kernel calls. Measured (instruction counts and times of the probe example):
/// N-body 8 (≈ 530 operations) runs faster straight, chain 256 (≈ 770) as kernels.
const MIN_STRAIGHT_LINE_OPERATIONS: usize = 640;
/// Rows added into the force one after another should not share coordinates (each would
/// wait for the previous one's store): rows are grouped into batches of this many rows
/// with disjoint coordinates.
const BATCH: usize = 8;
/// Open batches a row may join (the most recent ones).
const SEARCHED_BATCHES: usize = 32;

/// The compiled terms: kernels with their tables, and the state-independent part.
#[derive(Debug)]
pub(crate) struct Terms {
    kernels: Vec<ClassKernel>,
    /// The class computed as a lattice, if any (its terms are not in `kernels`).
    pub lattice: Option<Lattice>,
    /// The force's state-independent part (divided by the mass when M is folded in).
    pub base_force: Vec<f64>,
    /// Whether `base_force` is all zeros (then it is not copied, only zeroed).
    pub base_force_zero: bool,
    /// The state-independent part of M's storage that the kernels add to (empty when M is
    /// constant).
    pub base_mass: Vec<f64>,
    /// Operations in the kernels' code.
    pub operations: usize,
}

#[derive(Debug)]
struct ClassKernel {
    kernel: TermKernel,
    rows: Vec<u32>,
    params: Vec<f64>,
}

impl Terms {
    /// Whether every class is the lattice's (no term kernel adds after it).
    pub fn kernels_are_empty(&self) -> bool {
        self.kernels.is_empty()
    }

    /// Number of compiled kernels (the lattice's counted as one).
    pub fn num_kernels(&self) -> usize {
        self.kernels.len() + usize::from(self.lattice.is_some())
    }

    /// Adds every kernel's contribution at `(t, q, q̇)` to `force` and `mass`, which hold
    /// (copies of) [`Terms::base_force`] and [`Terms::base_mass`].
    ///
    /// # Panics
    ///
    /// If `q`, `q_dot`, `force` or `mass` are shorter than the tables need.
    #[inline]
    pub fn add_into(&self, t: f64, q: &[f64], q_dot: &[f64], force: &mut [f64], mass: &mut [f64]) {
        let n = self.base_force.len();
        assert!(q.len() >= n && q_dot.len() >= n && force.len() >= n);
        assert!(mass.len() >= self.base_mass.len());
        for k in &self.kernels {
            // SAFETY: `build` made every coordinate index < n, every mass column <
            // base_mass.len(), and gave each row its parameters.
            unsafe { k.kernel.run(&t, q, q_dot, &k.rows, &k.params, force, mass) };
        }
    }
}

/// Fewest rows of one kernel that are split across threads: below, one kernel call takes a
/// few tens of microseconds at most and handing work to other threads costs as much as it
/// saves (measured with `lagrange bench --fields` on 2 cores).
pub const MIN_PARALLEL_ROWS: usize = 32_768;

/// One kernel's rows split for threads: two phases, each a list of row ranges (chunks) whose
/// rows touch pairwise disjoint coordinates, so the chunks of a phase add into `force` and
/// `mass` at the same time without racing. Chunks alternate between the phases along the
/// table, which follows the order of the terms: for a lattice or a chain, two chunks of the
/// same phase are a whole chunk apart.
#[derive(Debug, Clone)]
pub(crate) struct Split {
    phases: [Vec<(usize, usize)>; 2],
}

/// How the work of [`Terms`] is split across threads.
#[derive(Debug, Clone)]
pub(crate) struct Splits {
    /// Per kernel.
    pub kernels: Vec<Option<Split>>,
    /// The lattice's interior per thread.
    pub lattice: Option<LatticeSplit>,
    /// The threads they were split for.
    pub threads: usize,
}

impl Splits {
    /// Kernels (the lattice counted as one) that run on more than one thread.
    pub(crate) fn count(&self) -> usize {
        self.kernels.iter().filter(|s| s.is_some()).count() + usize::from(self.lattice.is_some())
    }
}

/// A raw output pointer handed to threads that write disjoint entries of it: the chunks of one
/// phase of a [`Split`], the parts of a lattice's interior.
#[derive(Clone, Copy)]
pub(crate) struct Output(pub(crate) *mut f64);
// SAFETY: every user hands it only to threads that write disjoint entries (the chunks of a
// phase, checked by `ClassKernel::split`; the parts of a lattice, disjoint by construction), and
// they finish before the caller's `&mut` is used again.
unsafe impl Send for Output {}
// SAFETY: as for `Send`: shared between threads that write disjoint entries.
unsafe impl Sync for Output {}

impl Output {
    pub(crate) fn get(self) -> *mut f64 {
        self.0
    }
}

impl ClassKernel {
    /// The split of this kernel's rows into `2 × threads` chunks, when it has at least
    /// [`MIN_PARALLEL_ROWS`] rows and the chunks of each phase touch disjoint coordinates.
    fn split(&self, threads: usize, n: usize) -> Option<Split> {
        let row_len = self.kernel.row_len();
        let m = self.kernel.coordinates();
        let count = self.rows.len().checked_div(row_len)?;
        if threads < 2 || count < MIN_PARALLEL_ROWS {
            return None;
        }
        let chunks = 2 * threads;
        let bounds: Vec<(usize, usize)> = (0..chunks)
            .map(|c| (c * count / chunks, (c + 1) * count / chunks))
            .collect();
        let mut owner = vec![u32::MAX; n];
        let mut phases = [Vec::new(), Vec::new()];
        for (phase, list) in phases.iter_mut().enumerate() {
            owner.fill(u32::MAX);
            for c in (phase..chunks).step_by(2) {
                let (a, b) = bounds[c];
                for row in self.rows[a * row_len..b * row_len].chunks_exact(row_len) {
                    for &coordinate in &row[..m] {
                        let o = &mut owner[coordinate as usize];
                        if *o != u32::MAX && *o != c as u32 {
                            return None;
                        }
                        *o = c as u32;
                    }
                }
                list.push((a, b));
            }
        }
        Some(Split { phases })
    }
}

impl Terms {
    /// Per kernel, how its rows are split across `threads` threads (`None`: it runs on the
    /// calling thread), and how the lattice's interior is.
    pub(crate) fn split(&self, threads: usize, n: usize) -> Splits {
        Splits {
            kernels: self.kernels.iter().map(|k| k.split(threads, n)).collect(),
            lattice: self.lattice.as_ref().and_then(|l| l.split(threads)),
            threads,
        }
    }

    /// [`add_into`](Self::add_into) with the kernels that have a split run on the current
    /// rayon pool, phase after phase.
    pub fn add_into_parallel(
        &self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        force: &mut [f64],
        mass: &mut [f64],
        splits: &[Option<Split>],
    ) {
        use rayon::prelude::*;
        let n = self.base_force.len();
        assert!(q.len() >= n && q_dot.len() >= n && force.len() >= n);
        assert!(mass.len() >= self.base_mass.len() && splits.len() == self.kernels.len());
        for (k, split) in self.kernels.iter().zip(splits) {
            let Some(split) = split else {
                // SAFETY: as in `add_into`.
                unsafe { k.kernel.run(&t, q, q_dot, &k.rows, &k.params, force, mass) };
                continue;
            };
            let (row_len, np) = (k.kernel.row_len(), k.kernel.params_per_row());
            let (f, m) = (Output(force.as_mut_ptr()), Output(mass.as_mut_ptr()));
            for phase in &split.phases {
                phase.par_iter().for_each(|&(a, b)| {
                    // SAFETY: `build` made every index in bounds; the chunks of a phase touch
                    // disjoint coordinates (hence disjoint force entries and mass slots), and
                    // `force`/`mass` are not otherwise used until the phase ends.
                    unsafe {
                        k.kernel.run_raw(
                            &t,
                            q,
                            q_dot,
                            &k.rows[a * row_len..b * row_len],
                            &k.params[a * np..b * np],
                            f.get(),
                            m.get(),
                        )
                    }
                });
            }
        }
    }
}

/// How M comes out of [`build`].
#[derive(Debug)]
pub(crate) enum Mass {
    /// M is a constant multiple of the identity, folded into the kernels: they add q̈.
    Folded,
    /// M is constant: its nonzero entries `(i, j, value)` (repeated positions add up).
    Constant {
        entries: Vec<(usize, usize, f64)>,
        bandwidth: usize,
    },
    /// The kernels add M's band (`n × (2 bw + 1)`, see `band_index`).
    Banded { bandwidth: usize },
    /// The kernels add M (`n × n`, row-major).
    Dense,
}

/// One traced term: its coordinates and the values of its constants, in node order.
pub(crate) struct Member {
    pub(crate) coordinates: Vec<usize>,
    constants: Vec<f64>,
}

/// Terms with the same operations: the operations of the first (constants masked), members.
pub(crate) struct Class {
    pub(crate) m: usize,
    ops: Vec<Op>,
    root: Id,
    pub(crate) members: Vec<Member>,
}

/// Traces every term on its own coordinates and groups alike terms (the same operations on the
/// same operands, constants aside) into classes. Term k's graph has the inputs `[t, q (m), q̇
/// (m), extra inputs (extra)]`, recorded by `term(k, t, q, q̇, extra inputs)`. `None` where a
/// term names a coordinate ≥ n or cannot be traced, or there are more than [`MAX_CLASSES`]
/// classes.
pub(crate) fn classify(
    num_terms: usize,
    n: usize,
    extra: usize,
    coordinates_of: impl Fn(usize, &mut Vec<usize>),
    term: impl Fn(usize, Traced, &[Traced], &[Traced], &[Traced]) -> Traced,
) -> Option<Vec<Class>> {
    let mut classes: Vec<Class> = Vec::new();
    let mut index: HashMap<(usize, Vec<Op>, Id), usize> = HashMap::default();
    let mut coordinates = Vec::new();
    for k in 0..num_terms {
        coordinates.clear();
        coordinates_of(k, &mut coordinates);
        let m = coordinates.len();
        if coordinates.iter().any(|&c| c >= n) {
            return None;
        }
        let (g, root) = trace(Graph::new(1 + 2 * m + extra), || {
            let input = |i: usize| Traced::from_id(i as Id);
            let q: Vec<Traced> = (0..m).map(|i| input(1 + i)).collect();
            let v: Vec<Traced> = (0..m).map(|i| input(1 + m + i)).collect();
            let e: Vec<Traced> = (0..extra).map(|j| input(1 + 2 * m + j)).collect();
            term(k, input(0), &q, &v, &e).id()
        })
        .ok()?;
        let (ops, root, constants) = canonical(&g, root);
        let member = Member {
            coordinates: coordinates.clone(),
            constants,
        };
        let key = (m, ops, root);
        match index.get(&key) {
            Some(&c) => classes[c].members.push(member),
            None => {
                if classes.len() == MAX_CLASSES {
                    return None;
                }
                index.insert(key.clone(), classes.len());
                classes.push(Class {
                    m,
                    ops: key.1,
                    root,
                    members: vec![member],
                });
            }
        }
    }
    Some(classes)
}

/// A class's graph with the inputs `[t, q (m), q̇ (m), extra inputs (extra), varying
/// constants]`: the constants all members share stay constants, the others become inputs.
/// Returns the graph, L's node, the number of varying constants and their values (that many per
/// member, in member order).
pub(crate) fn class_graph(class: &Class, extra: usize) -> (Graph, Id, usize, Vec<f64>) {
    let m = class.m;
    let first = &class.members[0].constants;
    let varying: Vec<bool> = (0..first.len())
        .map(|c| {
            class
                .members
                .iter()
                .any(|mb| mb.constants[c].to_bits() != first[c].to_bits())
        })
        .collect();
    let num_varying = varying.iter().filter(|v| **v).count();
    let mut values = Vec::with_capacity(num_varying * class.members.len());
    for member in &class.members {
        values.extend(
            member
                .constants
                .iter()
                .zip(&varying)
                .filter(|(_, v)| **v)
                .map(|(c, _)| *c),
        );
    }
    let mut g = Graph::new(1 + 2 * m + extra + num_varying);
    let mut map: Vec<Id> = Vec::with_capacity(class.ops.len());
    let (mut constant, mut param) = (0, 0);
    for &op in &class.ops {
        let id = match op {
            // t, q, q̇ and the extra inputs keep their places
            Op::Input(i) => g.input(i as usize),
            Op::Const(_) => {
                let c = constant;
                constant += 1;
                if varying[c] {
                    param += 1;
                    g.input(2 * m + extra + param)
                } else {
                    g.constant(first[c])
                }
            }
            op => g.apply(rename(op, |a| map[a as usize])),
        };
        map.push(id);
    }
    (g, map[class.root as usize], num_varying, values)
}

/// The class's graph, differentiated.
struct Differentiated {
    graph: Graph,
    /// Nodes below this are the (copied) forward pass.
    forward_len: Id,
    num_params: usize,
    /// Parameter values, `num_params` per member.
    params: Vec<f64>,
    force: Vec<Id>,
    /// m × m, row-major.
    mass: Vec<Id>,
    /// Whether each node depends on t, q or q̇.
    state: Vec<bool>,
}

/// `op` with its operands renamed by `f`.
pub(crate) fn rename(op: Op, f: impl Fn(Id) -> Id) -> Op {
    match op {
        Op::Const(_) | Op::Input(_) => op,
        Op::Add(a, b) => Op::Add(f(a), f(b)),
        Op::Sub(a, b) => Op::Sub(f(a), f(b)),
        Op::Mul(a, b) => Op::Mul(f(a), f(b)),
        Op::Div(a, b) => Op::Div(f(a), f(b)),
        Op::Neg(a) => Op::Neg(f(a)),
        Op::Powi(a, n) => Op::Powi(f(a), n),
        Op::Powf(a, c) => Op::Powf(f(a), c),
        Op::Pow(a, b) => Op::Pow(f(a), f(b)),
        Op::Fun(g, a) => Op::Fun(g, f(a)),
        Op::Atan2(a, b) => Op::Atan2(f(a), f(b)),
    }
}

/// The live nodes of a term's graph, renumbered densely (inputs first, as they are), with
/// every constant replaced by `Const(0)` and its value listed separately.
fn canonical(g: &Graph, root: Id) -> (Vec<Op>, Id, Vec<f64>) {
    let live = g.live(&[root]);
    let mut map = vec![Id::MAX; g.len()];
    let mut ops = Vec::new();
    let mut constants = Vec::new();
    for id in 0..g.len() {
        if !live[id] && id >= g.num_inputs() {
            continue;
        }
        map[id] = ops.len() as Id;
        let op = g.op(id as Id);
        ops.push(match op {
            Op::Const(bits) => {
                constants.push(f64::from_bits(bits));
                Op::Const(0)
            }
            op => rename(op, |a| map[a as usize]),
        });
    }
    (ops, map[root as usize], constants)
}

/// The terms of `lagrangian` compiled to kernels, with how M is handled; `None` where the term
/// path does not apply (no terms declared, dissipation or generalized forces present, invalid
/// coordinates, too many distinct classes, or a term too large for one kernel), and the
/// straight-line code is used instead.
pub(crate) fn build<L: Lagrangian + ?Sized>(
    lagrangian: &L,
    n: usize,
) -> Result<Option<(Terms, Mass)>, CodegenError> {
    let structure = lagrangian.structure();
    let num_terms = structure.local_terms;
    // dissipation and generalized forces are not split into terms: the term path needs neither
    if num_terms == 0 || structure.dissipation || structure.generalized_forces {
        return Ok(None);
    }

    let Some(classes) = classify(
        num_terms,
        n,
        0,
        |k, c| lagrangian.term_coordinates(k, c),
        |k, t, q, v, _| lagrangian.term(k, t, q, v),
    ) else {
        return Ok(None);
    };

    let diffs: Vec<Differentiated> = classes.iter().map(differentiate).collect();
    let mass_constant = diffs
        .iter()
        .all(|d| d.mass.iter().all(|&e| !d.state[e as usize]));
    let mut bandwidth = 0;
    for (class, d) in classes.iter().zip(&diffs) {
        let m = class.m;
        for (e, &node) in d.mass.iter().enumerate() {
            if d.graph.as_const(node) != Some(0.0) {
                for member in &class.members {
                    let c = &member.coordinates;
                    bandwidth = bandwidth.max(c[e / m].abs_diff(c[e % m]));
                }
            }
        }
    }
    let banded = 4 * bandwidth < n;
    let mass_len = match (mass_constant, banded) {
        (true, _) => 0,
        (false, true) => n * (2 * bandwidth + 1),
        (false, false) => n * n,
    };
    if n.max(mass_len) >= u32::MAX as usize {
        return Ok(None);
    }
    let slot_of_mass = |i: usize, j: usize| {
        if banded {
            band_index(bandwidth, i, j)
        } else {
            i * n + j
        }
    };

    // (node, force row or mass entry) of each class's outputs that are not constant zero,
    // split into those fixed at compile time and those the kernel computes
    type Outputs = Vec<(Id, Result<usize, usize>)>;
    let mut split: Vec<(Outputs, Outputs)> = Vec::with_capacity(classes.len());
    let mut straight_line_estimate = 0;
    for (class, d) in classes.iter().zip(&diffs) {
        let outputs = d
            .force
            .iter()
            .enumerate()
            .map(|(i, &f)| (f, Err(i)))
            .chain(d.mass.iter().enumerate().map(|(e, &x)| (x, Ok(e))))
            .filter(|&(x, _)| d.graph.as_const(x) != Some(0.0));
        let (fixed, varying): (Outputs, Outputs) = outputs
            .partition(|&(x, which)| !d.state[x as usize] || (which.is_ok() && mass_constant));
        let nodes: Vec<Id> = varying.iter().map(|&(x, _)| x).collect();
        let work = d.graph.work(&nodes);
        if work > CHUNK_OPERATIONS {
            return Ok(None);
        }
        straight_line_estimate += work * class.members.len();
        split.push((fixed, varying));
    }
    if straight_line_estimate < MIN_STRAIGHT_LINE_OPERATIONS {
        return Ok(None);
    }

    let mut base_force = vec![0.0; n];
    let mut base_mass = vec![0.0; mass_len];
    let mut entries = Vec::new();
    for ((class, d), (fixed, _)) in classes.iter().zip(&diffs).zip(&split) {
        if fixed.is_empty() {
            continue;
        }
        let m = class.m;
        let nodes: Vec<Id> = fixed.iter().map(|&(x, _)| x).collect();
        let mut inputs = vec![0.0; 1 + 2 * m + d.num_params];
        for (k, member) in class.members.iter().enumerate() {
            inputs[1 + 2 * m..]
                .copy_from_slice(&d.params[k * d.num_params..(k + 1) * d.num_params]);
            let values = d.graph.eval(&inputs, &nodes);
            let c = &member.coordinates;
            for (&(_, which), value) in fixed.iter().zip(values) {
                match which {
                    Err(i) => base_force[c[i]] += value,
                    Ok(e) if mass_constant => entries.push((c[e / m], c[e % m], value)),
                    Ok(e) => base_mass[slot_of_mass(c[e / m], c[e % m])] += value,
                }
            }
        }
    }
    // M = d·I (equal masses): 1/d is multiplied into the kernels' outputs, which then add
    // q̈ itself (no pass over M⁻¹ per call)
    let uniform = (mass_constant && bandwidth == 0)
        .then(|| uniform_diagonal(&entries, n))
        .flatten();
    if let Some(d) = uniform {
        base_force.iter_mut().for_each(|f| *f /= d);
    }

    // the largest class that sits on a lattice and whose kernel adds to the force only
    let mut candidates: Vec<usize> = (0..classes.len())
        .filter(|&c| {
            let varying = &split[c].1;
            !varying.is_empty() && varying.iter().all(|&(_, w)| w.is_err())
        })
        .collect();
    candidates.sort_by_key(|&c| std::cmp::Reverse(classes[c].members.len()));
    let mut lattice_plan = candidates.into_iter().find_map(|c| {
        let members: Vec<&[usize]> = classes[c]
            .members
            .iter()
            .map(|mb| &mb.coordinates[..])
            .collect();
        let local: Vec<usize> = split[c].1.iter().filter_map(|&(_, w)| w.err()).collect();
        crate::lattice::plan(&members, &local, n).map(|plan| (c, plan, members))
    });
    let base_force_zero = base_force.iter().all(|&f| f == 0.0);
    let mut kernels = Vec::new();
    let mut lattice = None;
    let mut operations = 0;
    for (c, ((class, d), (_, varying))) in classes.iter().zip(&diffs).zip(split).enumerate() {
        let m = class.m;
        if varying.is_empty() {
            continue;
        }
        let mut graph = d.graph.clone();
        let nodes: Vec<Id> = varying
            .iter()
            .map(|&(x, which)| match (uniform, which) {
                (Some(mass), Err(_)) => {
                    let inverse = graph.constant(1.0 / mass);
                    graph.mul(inverse, x)
                }
                _ => x,
            })
            .collect();
        operations += graph.work(&nodes);
        let outputs: Vec<(Id, Target)> = nodes
            .iter()
            .zip(&varying)
            .map(|(&x, &(_, which))| (x, which.map_or_else(Target::Force, |_| Target::Mass)))
            .collect();
        let lanes = if divides(&graph, &nodes) { 2 } else { 1 };
        let kernel = TermKernel::compile(&graph, m, d.num_params, &outputs, d.forward_len, lanes)?;
        if lattice_plan.as_ref().is_some_and(|(l, _, _)| *l == c) {
            let (_, plan, members) = lattice_plan.take().expect("checked");
            let targets: Vec<(Id, usize)> = nodes
                .iter()
                .zip(&varying)
                .map(|(&x, &(_, which))| (x, which.expect_err("force outputs only")))
                .collect();
            let built = Lattice::build(
                plan,
                &graph,
                &targets,
                kernel,
                &members,
                &d.params,
                d.num_params,
                n,
                !base_force_zero,
            )?;
            operations += built.operations;
            lattice = Some(built);
            continue;
        }
        let mut rows = Vec::new();
        let mut params = Vec::new();
        let batches = spread(class.members.iter().map(|mb| &mb.coordinates[..]));
        for k in batches.into_iter().flatten() {
            let c = &class.members[k].coordinates;
            rows.extend(c.iter().map(|&i| i as u32));
            for &(_, which) in &varying {
                if let Ok(e) = which {
                    rows.push(slot_of_mass(c[e / m], c[e % m]) as u32);
                }
            }
            params.extend_from_slice(&d.params[k * d.num_params..(k + 1) * d.num_params]);
        }
        kernels.push(ClassKernel {
            kernel,
            rows,
            params,
        });
    }
    let mass = match (mass_constant, banded) {
        (true, _) if uniform.is_some() => Mass::Folded,
        (true, _) => Mass::Constant { entries, bandwidth },
        (false, true) => Mass::Banded { bandwidth },
        (false, false) => Mass::Dense,
    };
    Ok(Some((
        Terms {
            kernels,
            lattice,
            base_force,
            base_force_zero,
            base_mass,
            operations,
        },
        mass,
    )))
}

/// The common value of M's diagonal when the constant `entries` (all on the diagonal) sum to
/// the same finite, nonzero number at every coordinate.
fn uniform_diagonal(entries: &[(usize, usize, f64)], n: usize) -> Option<f64> {
    let mut diagonal = vec![0.0; n];
    for &(i, j, v) in entries {
        debug_assert_eq!(i, j, "bandwidth 0");
        diagonal[i] += v;
    }
    let d = diagonal[0];
    (d != 0.0 && d.is_finite() && diagonal.iter().all(|&x| x.to_bits() == d.to_bits())).then_some(d)
}

/// Whether the `outputs` need a division or a square root: then two rows per iteration
/// (`f64x2`) halve the time on the divider, which bounds such kernels.
pub(crate) fn divides(g: &Graph, outputs: &[Id]) -> bool {
    let live = g.live(outputs);
    (0..g.len()).any(|id| live[id] && matches!(g.op(id as Id), Op::Div(..) | Op::Fun(Fun::Sqrt, _)))
}

/// The class's graph with varying constants as parameters, differentiated.
fn differentiate(class: &Class) -> Differentiated {
    let m = class.m;
    let (mut g, l, num_params, params) = class_graph(class, 0);
    let forward_len = g.len() as Id;
    let (force, mass) = euler_lagrange(&mut g, l, m);
    let state = g.depends_on_inputs_below(1 + 2 * m);
    Differentiated {
        graph: g,
        forward_len,
        num_params,
        params,
        force,
        mass,
        state,
    }
}

/// The rows in batches of at most [`BATCH`] rows with pairwise disjoint coordinates (first
/// fit), so that rows run one after the other rarely wait for each other's additions.
pub(crate) fn spread<'a>(rows: impl Iterator<Item = &'a [usize]>) -> Vec<Vec<usize>> {
    let mut batches: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    // batches before this one are full
    let mut open = 0;
    for (k, coordinates) in rows.enumerate() {
        let fits = |(members, used): &(Vec<usize>, Vec<usize>)| {
            members.len() < BATCH && coordinates.iter().all(|c| !used.contains(c))
        };
        // only the last few batches are tried, so that the cost stays linear in the rows
        // (N-body with many bodies leaves many batches open)
        let from = open.max(batches.len().saturating_sub(SEARCHED_BATCHES));
        match batches[from..].iter().position(fits) {
            Some(b) => {
                let (members, used) = &mut batches[from + b];
                members.push(k);
                used.extend_from_slice(coordinates);
            }
            None => batches.push((vec![k], coordinates.to_vec())),
        }
        while open < batches.len() && batches[open].0.len() == BATCH {
            open += 1;
        }
    }
    batches.into_iter().map(|(members, _)| members).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_every_row_once_and_separates_shared_coordinates() {
        // a chain's springs, then all pairs of 30 bodies (many open batches)
        let mut rows: Vec<Vec<usize>> = (0..40).map(|i| vec![i, i + 1]).collect();
        for i in 0..30 {
            for j in i + 1..30 {
                rows.push(vec![100 + i, 100 + j]);
            }
        }
        let batches = spread(rows.iter().map(|r| &r[..]));
        let mut sorted: Vec<usize> = batches.iter().flatten().copied().collect();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..rows.len()).collect::<Vec<_>>());
        assert!(batches.iter().all(|b| b.len() <= BATCH));
        // within a batch no two rows share a coordinate
        for batch in &batches {
            for (a, &x) in batch.iter().enumerate() {
                for &y in &batch[a + 1..] {
                    assert!(rows[x].iter().all(|c| !rows[y].contains(c)), "{x} {y}");
                }
            }
        }
    }
}
