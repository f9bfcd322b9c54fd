//! Classes of terms that sit on a lattice: the interior computed by a [`SiteKernel`] (a
//! stencil), the rest by the class's term kernel.
//!
//! A class's terms are *on a lattice* where most of them touch the coordinates
//! `a + d_0, …, a + d_{m−1}` for an anchor `a` and the same offsets `d_j` (`d_0 = 0`): the
//! sites of a field (`φ_s, φ_{s+1}` in 1-D, `φ_s, φ_{s+nʸ}, φ_{s+1}` in 2-D) or the springs of a
//! chain. These are the *standard* terms. A coordinate `s` is *interior* when every term of the
//! class that touches it is standard, and for every output `k` of the class's force the
//! standard term anchored at `s − d_k` exists: its force is then `Σ_k f_k(term at s − d_k)`,
//! one graph of the coordinates at the offsets `d_j − d_k` from `s`, compiled to a loop that
//! stores it ([`SiteKernel`]).
//!
//! Where a periodic lattice wraps around, the same graph applies with other neighbours: a
//! *seam* coordinate is one that, for every output `k`, exactly one term has at position `k`,
//! and whose inputs each name one coordinate whichever term they come from. The seams run the
//! site graph through a table of where each input is read ([`Seams`]).
//!
//! Everything else is exact bookkeeping around those loops. The other coordinates (the ends
//! of a fixed or free lattice, coordinates the class does not touch) start from the
//! state-independent force, and the class's remaining terms (those that touch such a
//! coordinate) run through the class's term kernel on a compact copy of the coordinates they
//! touch; only their additions to those coordinates are kept, since the interior's and the
//! seams' are already complete. Any other class adds on top as before.

use rustc_hash::FxHashMap as HashMap;

use crate::codegen::CodegenError;
use crate::graph::{Graph, Id, Op};
use crate::kernel::TermKernel;
use crate::site_kernel::{Functions, SiteKernel, Source, uses_sin_or_cos};
use crate::terms::{Output, rename};

/// Fewest interior coordinates for which a class is compiled as a lattice: below, the
/// bookkeeping around the loop costs about as much as it saves.
pub(crate) const MIN_SITES: usize = 64;
/// Interior runs shorter than this are left to the term kernel (each run is one call).
const MIN_RUN: usize = 4;
/// Least estimated work per call (interior sites × [`work_per_site`]) for which the interior
/// is split across threads (handing work to the pool's threads costs microseconds per call).
/// Measured with `lagrange-bench/examples/fields_probe.rs` on 2 cores (with the seams' table):
/// the wave equation (≈ 7 per site) breaks even at 64² sites (2.9·10⁴) and gains 21 % at 90²
/// (5.7·10⁴); sine-Gordon (≈ 46 per site, its `sin`) loses 14 % at 500 sites (2.3·10⁴) and gains
/// 16 % at 10³ (4.6·10⁴).
pub(crate) const MIN_PARALLEL_WORK: f64 = 4.0e4;

/// A rough cost of one site of `graph`'s `output`, in additions: a transcendental function
/// costs about 40, a division or square root 4.
fn work_per_site(graph: &Graph, output: Id) -> f64 {
    let live = graph.live(&[output]);
    (0..graph.len())
        .filter(|&id| live[id])
        .map(|id| match graph.op(id as Id) {
            Op::Const(_) | Op::Input(_) => 0.0,
            Op::Div(..) | Op::Fun(crate::graph::Fun::Sqrt, _) => 4.0,
            Op::Fun(crate::graph::Fun::Abs | crate::graph::Fun::Sign, _) => 1.0,
            Op::Fun(..) | Op::Powi(..) | Op::Powf(..) | Op::Pow(..) | Op::Atan2(..) => 40.0,
            _ => 1.0,
        })
        .sum()
}

/// Which of a class's members are computed how (see the module documentation).
#[derive(Debug)]
pub(crate) struct Plan {
    /// The standard offsets `d_j`, `d_0 = 0`.
    pub offsets: Vec<isize>,
    /// The member anchored at each coordinate (`u32::MAX`: none).
    pub anchor: Vec<u32>,
    /// Whether each coordinate is interior.
    pub interior: Vec<bool>,
    /// The interior coordinates as ranges `[start, end)`.
    pub runs: Vec<(usize, usize)>,
    /// The members that touch a non-interior coordinate (the term kernel runs those that
    /// touch one that is not a seam either, see [`Seams`]).
    pub remainder: Vec<usize>,
}

/// The lattice decomposition of the members (`coordinates[i]` of member `i`) of a class whose
/// varying force outputs go to the local coordinates `outputs`, among `n` coordinates; `None`
/// when fewer than [`MIN_SITES`] coordinates would be interior.
pub(crate) fn plan(coordinates: &[&[usize]], outputs: &[usize], n: usize) -> Option<Plan> {
    let pattern =
        |c: &[usize]| -> Vec<isize> { c.iter().map(|&x| x as isize - c[0] as isize).collect() };
    // the most frequent pattern, where there is a majority (Boyer–Moore vote)
    let mut candidate: Option<(&[usize], usize)> = None;
    for &c in coordinates {
        if c.is_empty() {
            return None;
        }
        candidate = match candidate {
            None => Some((c, 1)),
            Some((d, votes)) if same_pattern(d, c) => Some((d, votes + 1)),
            Some((_, 1)) => None,
            Some((d, votes)) => Some((d, votes - 1)),
        };
    }
    let offsets = pattern(candidate?.0);
    let standard_shape = |c: &[usize]| {
        c.len() == offsets.len()
            && c.iter()
                .zip(&offsets)
                .all(|(&x, &d)| x as isize - c[0] as isize == d)
    };
    let mut anchor = vec![u32::MAX; n];
    let mut blocked = vec![false; n];
    for (i, &c) in coordinates.iter().enumerate() {
        if standard_shape(c) && anchor[c[0]] == u32::MAX {
            anchor[c[0]] = i as u32;
        } else {
            c.iter().for_each(|&x| blocked[x] = true);
        }
    }
    let mut interior: Vec<bool> = (0..n)
        .map(|s| {
            !blocked[s]
                && outputs.iter().all(|&k| {
                    let a = s as isize - offsets[k];
                    a >= 0 && (a as usize) < n && anchor[a as usize] != u32::MAX
                })
        })
        .collect();
    let mut runs = Vec::new();
    let mut s = 0;
    while s < n {
        if !interior[s] {
            s += 1;
            continue;
        }
        let start = s;
        while s < n && interior[s] {
            s += 1;
        }
        if s - start >= MIN_RUN {
            runs.push((start, s));
        } else {
            interior[start..s].fill(false);
        }
    }
    let sites: usize = runs.iter().map(|(a, b)| b - a).sum();
    if sites < MIN_SITES {
        return None;
    }
    let remainder = coordinates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.iter().any(|&x| !interior[x]))
        .map(|(i, _)| i)
        .collect();
    Some(Plan {
        offsets,
        anchor,
        interior,
        runs,
        remainder,
    })
}

/// The seams' table before it is compiled (see [`Seams`]).
struct SeamTable {
    /// The table column of each site-graph input read through the table.
    columns: Vec<Option<u32>>,
    width: usize,
    rows: Vec<u32>,
    /// The parameters the rows' parameter columns index (one value per row and column).
    params: Vec<f64>,
}

impl SeamTable {
    /// The seams among the non-interior coordinates of `plan`, for the class's `members`
    /// (with `num_params` parameters each in `params`) whose force outputs are at
    /// `positions` (in the order of the site graph's outputs), the site graph's `sources` and
    /// which of them its output reads (`live`, indexed by input); `None` where there are
    /// none. Memory beyond the table is proportional to the non-interior coordinates.
    #[allow(clippy::too_many_arguments)]
    fn find(
        plan: &Plan,
        members: &[&[usize]],
        params: &[f64],
        positions: &[usize],
        sources: &[Source],
        live: &[bool],
        num_params: usize,
        n: usize,
    ) -> Option<Self> {
        let offsets = &plan.offsets;
        let m = offsets.len();
        if members.iter().any(|c| c.len() != m) {
            return None;
        }
        let outputs = positions.len();
        // where an input comes from: (output o, coordinate position or parameter x) such that
        // the site graph reads coordinate x (parameter x) of the term with the site at
        // position `positions[o]` there
        let origins = |source: Source| -> Vec<(usize, usize)> {
            let mut found = Vec::new();
            for (o, &k) in positions.iter().enumerate() {
                match source {
                    Source::Q(e) | Source::QDot(e) => found.extend(
                        (0..m)
                            .filter(|&j| offsets[j] - offsets[k] == e)
                            .map(|j| (o, j)),
                    ),
                    Source::Param(e) => found.extend(
                        (0..num_params)
                            .filter(|&p| (p * n) as isize - offsets[k] == e)
                            .map(|p| (o, p)),
                    ),
                    Source::Time | Source::Base => {}
                }
            }
            found
        };
        // the inputs to check: (origins, a parameter?, the table column; none: the site)
        let mut columns = vec![None; sources.len()];
        let mut width = 1;
        let mut reads = Vec::new();
        for (i, &source) in sources.iter().enumerate() {
            let column = match source {
                _ if !live[i] => continue,
                Source::Time | Source::Base => continue,
                Source::Q(0) | Source::QDot(0) => None,
                _ => {
                    columns[i] = Some(width as u32);
                    width += 1;
                    Some(width - 1)
                }
            };
            reads.push((origins(source), matches!(source, Source::Param(_)), column));
        }
        // for each non-interior coordinate, the term that has it at each output position (or
        // NONE, or CLASH for more than one)
        const NONE: u32 = u32::MAX;
        const CLASH: u32 = u32::MAX - 1;
        let candidates: Vec<usize> = (0..n).filter(|&s| !plan.interior[s]).collect();
        let index: HashMap<usize, usize> = candidates
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, i))
            .collect();
        let mut owner = vec![NONE; candidates.len() * outputs];
        for (i, c) in members.iter().enumerate() {
            for (o, &k) in positions.iter().enumerate() {
                if plan.interior[c[k]] {
                    continue;
                }
                let slot = &mut owner[index[&c[k]] * outputs + o];
                *slot = if *slot == NONE { i as u32 } else { CLASH };
            }
        }
        let mut rows = Vec::new();
        let mut row_params = Vec::new();
        let mut row = vec![0u32; width];
        let mut values = Vec::new();
        'sites: for (&s, terms) in candidates.iter().zip(owner.chunks_exact(outputs.max(1))) {
            if terms.iter().any(|&t| t >= CLASH) {
                continue;
            }
            row[0] = u32::try_from(s).ok()?;
            values.clear();
            for (origins, param, column) in &reads {
                let mut value = None;
                for &(o, x) in origins {
                    let term = terms[o] as usize;
                    let v = if *param {
                        term * num_params + x
                    } else {
                        members[term][x]
                    };
                    match value {
                        Some(w) if w != v => continue 'sites,
                        _ => value = Some(v),
                    }
                }
                let v = value.expect("an input the graph reads comes from somewhere");
                match *column {
                    // a parameter's column indexes the table's own copy of it
                    Some(c) if *param => {
                        row[c] = u32::try_from(row_params.len() + values.len()).ok()?;
                        values.push(params[v]);
                    }
                    Some(c) => row[c] = u32::try_from(v).ok()?,
                    None if v != s => continue 'sites,
                    None => {}
                }
            }
            rows.extend_from_slice(&row);
            row_params.extend_from_slice(&values);
        }
        (!rows.is_empty()).then_some(Self {
            columns,
            width,
            rows,
            params: row_params,
        })
    }
}

/// Whether two members have the same offsets from their first coordinate.
fn same_pattern(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(&x, &y)| x as isize - a[0] as isize == y as isize - b[0] as isize)
}

/// The force of an interior coordinate `s` as one graph: `base[s]` (where `base`) plus, for
/// each `(node, k)` of `outputs`, the class graph's `node` evaluated on the term anchored at
/// `s − d_k`. `g` has the inputs `[t, q (m), q̇ (m), parameters (num_params)]`; parameter `p`
/// of the term anchored at `a` is read at `params[p·n + a]`. Returns the graph, its output and
/// where each input is read.
pub(crate) fn site_graph(
    g: &Graph,
    num_params: usize,
    outputs: &[(Id, usize)],
    offsets: &[isize],
    n: usize,
    base: bool,
) -> (Graph, Id, Vec<Source>) {
    let m = offsets.len();
    let mut sources = vec![Source::Time];
    for &(_, k) in outputs {
        for &d in offsets {
            sources.push(Source::Q(d - offsets[k]));
            sources.push(Source::QDot(d - offsets[k]));
        }
        for p in 0..num_params {
            sources.push(Source::Param((p * n) as isize - offsets[k]));
        }
    }
    if base {
        sources.push(Source::Base);
    }
    let mut seen = std::collections::HashSet::new();
    sources.retain(|s| seen.insert(*s));
    let index: HashMap<Source, Id> = sources
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, i as Id))
        .collect();
    let mut site = Graph::new(sources.len());
    let mut sum = None;
    for &(node, k) in outputs {
        let live = g.live(&[node]);
        let mut map = vec![Id::MAX; g.len()];
        for id in (0..g.len()).filter(|&id| live[id]) {
            let op = g.op(id as Id);
            map[id] = match op {
                Op::Input(i) => {
                    let i = i as usize;
                    let source = match i {
                        0 => Source::Time,
                        _ if i <= m => Source::Q(offsets[i - 1] - offsets[k]),
                        _ if i <= 2 * m => Source::QDot(offsets[i - 1 - m] - offsets[k]),
                        _ => Source::Param(((i - 1 - 2 * m) * n) as isize - offsets[k]),
                    };
                    index[&source]
                }
                op => site.apply(rename(op, |a| map[a as usize])),
            };
        }
        let value = map[node as usize];
        sum = Some(match sum {
            None => value,
            Some(s) => site.add(s, value),
        });
    }
    let mut sum = regroup(&mut site, sum.expect("a lattice class has a force output"));
    if base {
        sum = site.add(index[&Source::Base], sum);
    }
    (site, sum, sources)
}

/// The force of a site, as the graph computes it, is a sum over the terms around it of
/// each term's derivative, scaled by the constants of the density (spacing, masses): for the
/// 2-D wave equation `((u_E − u)·c₁ + (u_N − u)·c₁)·c₂ + (u − u_S)·c₃ + (u − u_W)·c₃`.
/// Written out as `Σ cᵢ·leafᵢ` (leaves: inputs and non-linear nodes), the coefficients are few
/// values times small integers: `c·(u_E + u_N + u_S + u_W − 4u)`, the hand-written stencil.
/// This rewrites `node` so, with the coefficient that the most leaves share as a factor and the
/// other leaves added after it.
///
/// It reassociates floating-point arithmetic (as `-ffast-math` would, for this one sum):
/// coefficients within 1e-13 relative of an integer multiple of the common factor count as
/// that multiple (they differ only by the rounding of the constants' products, as `c₃` and
/// `−c₁c₂` do), so results may differ from the term-by-term sum in the last bits. Returns `node`
/// itself where any coefficient is not finite.
fn regroup(g: &mut Graph, node: Id) -> Id {
    let mut leaves: Vec<(Id, f64)> = Vec::new();
    let mut stack = vec![(node, 1.0)];
    while let Some((id, c)) = stack.pop() {
        match g.op(id) {
            Op::Add(a, b) => stack.extend([(a, c), (b, c)]),
            Op::Sub(a, b) => stack.extend([(a, c), (b, -c)]),
            Op::Neg(a) => stack.push((a, -c)),
            Op::Mul(a, b) if g.as_const(a).is_some() => stack.push((b, c * g.as_const(a).unwrap())),
            Op::Mul(a, b) if g.as_const(b).is_some() => stack.push((a, c * g.as_const(b).unwrap())),
            _ => leaves.push((id, c)),
        }
        if leaves.len() > 64 || stack.len() > 256 {
            return node;
        }
    }
    // one coefficient per leaf
    leaves.sort_by_key(|&(id, _)| id);
    let mut merged: Vec<(Id, f64)> = Vec::new();
    for (id, c) in leaves {
        match merged.last_mut() {
            Some((last, sum)) if *last == id => *sum += c,
            _ => merged.push((id, c)),
        }
    }
    // (a leaf whose coefficients cancel stays, times 0: an infinite leaf still makes NaN)
    if merged.iter().any(|&(_, c)| !c.is_finite()) || merged.is_empty() {
        return node;
    }
    let multiple = |c: f64, factor: f64| {
        let r = c / factor;
        let k = r.round();
        (k != 0.0 && k.abs() <= 8.0 && (r - k).abs() <= 1e-13 * k.abs()).then_some(k)
    };
    // the factor that the most leaves are small multiples of (the smaller one on a tie)
    let factor = merged
        .iter()
        .map(|&(_, c)| c.abs())
        .max_by(|&a, &b| {
            let count = |f: f64| {
                merged
                    .iter()
                    .filter(|&&(_, c)| multiple(c, f).is_some())
                    .count()
            };
            count(a).cmp(&count(b)).then(b.total_cmp(&a))
        })
        .expect("leaves");
    let mut inner: Option<Id> = None;
    let mut rest = Vec::new();
    for &(id, c) in &merged {
        let Some(k) = multiple(c, factor) else {
            rest.push((id, c));
            continue;
        };
        let term = if k.abs() == 1.0 {
            id
        } else {
            let k = g.constant(k.abs());
            g.mul(k, id)
        };
        inner = Some(match (inner, k > 0.0) {
            (None, true) => term,
            (None, false) => g.neg(term),
            (Some(s), true) => g.add(s, term),
            (Some(s), false) => g.sub(s, term),
        });
    }
    let mut out = match inner {
        Some(inner) => {
            let scale = g.constant(factor);
            g.mul(scale, inner)
        }
        None => g.constant(0.0),
    };
    for (id, c) in rest {
        out = match c {
            1.0 => g.add(out, id),
            -1.0 => g.sub(out, id),
            _ => {
                let c = g.constant(c);
                let term = g.mul(c, id);
                g.add(out, term)
            }
        };
    }
    out
}

/// A class computed as a lattice: the site kernel over the interior, the term kernel over the
/// remaining terms.
#[derive(Debug)]
pub(crate) struct Lattice {
    kernel: SiteKernel,
    /// The same loop with the library's `sin` and `cos`, for the rare call where the vector
    /// ones leave a lane NaN (an argument beyond ±10⁶); `None` where the graph has neither.
    exact: Option<SiteKernel>,
    /// All of it as one part (one thread): the interior ranges `[start, end)`, the seams, the
    /// other coordinates' ranges (they start from the base force), the remaining terms'
    /// additions.
    whole: Part,
    /// Per-term parameters, one array over the anchors per parameter.
    params: Vec<f64>,
    /// The seams whose force is the site graph's too, if any.
    seams: Option<Seams>,
    /// Whether the site graph adds `base[s]`.
    reads_base: bool,
    remainder: Option<Remainder>,
    sites: usize,
    /// Coordinates of the system.
    n: usize,
    /// The site graph's [`work_per_site`].
    work_per_site: f64,
    /// Operations in the site kernel's code.
    pub operations: usize,
}

/// The *seams*: non-interior coordinates whose force is still the site graph's, with other
/// neighbours. Where for each output `k` exactly one term of the class has coordinate `s` at
/// position `k` (the periodic wrap of a lattice: the term at the last site has the first as its
/// neighbour), the force of `s` is the site graph on those terms' coordinates, read through a
/// table ([`SiteKernel::compile_table`]) instead of at constant offsets. The table is checked
/// term by term: every input the graph reads must name one coordinate (or parameter) whichever
/// output it comes from.
#[derive(Debug)]
struct Seams {
    kernel: SiteKernel,
    /// With the library's `sin` and `cos` (as [`Lattice::exact`]).
    exact: Option<SiteKernel>,
    /// Rows of `width` entries, in the order of their sites: the site, then the columns.
    rows: Vec<u32>,
    width: usize,
    /// The parameters the rows read (their parameter columns index it).
    params: Vec<f64>,
}

impl Seams {
    fn sites(&self) -> impl Iterator<Item = usize> + '_ {
        self.rows.chunks_exact(self.width).map(|r| r[0] as usize)
    }
}

/// The class's terms that touch a coordinate neither interior nor a seam (see [`Seams`]), on a
/// compact copy of their coordinates.
#[derive(Debug)]
struct Remainder {
    kernel: TermKernel,
    /// The global coordinate of each compact one.
    coordinates: Vec<u32>,
    /// The compact coordinates whose additions are kept (the non-interior ones).
    keep: Vec<u32>,
    rows: Vec<u32>,
    params: Vec<f64>,
}

/// A contiguous range of the coordinates, one thread's share of a call: its interior ranges,
/// its seams, its gaps (ranges neither interior nor seams) and the remaining terms' additions
/// that fall in them.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    runs: Vec<(usize, usize)>,
    /// Its seams: rows `[start, end)` of the table (see [`Seams`]).
    seams: (usize, usize),
    gaps: Vec<(usize, usize)>,
    /// Compact coordinates of the remainder (see [`Remainder`]) whose additions land here.
    keep: Vec<u32>,
}

/// The parts per thread (see [`Lattice::split`]).
pub(crate) type LatticeSplit = Vec<Part>;

impl Lattice {
    /// Compiles the lattice of a class: `graph` and `outputs` as for [`site_graph`],
    /// `kernel` the class's term kernel (all of whose outputs go to the force), `members` the
    /// class's coordinates and `params` its per-member parameters (`num_params` each).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build(
        plan: Plan,
        graph: &Graph,
        outputs: &[(Id, usize)],
        kernel: TermKernel,
        members: &[&[usize]],
        params: &[f64],
        num_params: usize,
        n: usize,
        base: bool,
    ) -> Result<Self, CodegenError> {
        let (site, output, sources) =
            site_graph(graph, num_params, outputs, &plan.offsets, n, base);
        let operations = site.work(&[output]);
        let work_per_site = work_per_site(&site, output);
        let compiled = SiteKernel::compile(&site, output, &sources, Functions::Vector)?;
        let sin_or_cos = uses_sin_or_cos(&site, output);
        let exact = sin_or_cos
            .then(|| SiteKernel::compile(&site, output, &sources, Functions::Library))
            .transpose()?;
        let mut soa = vec![0.0; num_params * n];
        for (a, &member) in plan.anchor.iter().enumerate() {
            if member != u32::MAX {
                let member = member as usize;
                for p in 0..num_params {
                    soa[p * n + a] = params[member * num_params + p];
                }
            }
        }
        let positions: Vec<usize> = outputs.iter().map(|&(_, k)| k).collect();
        let live = site.live(&[output]);
        let table = SeamTable::find(
            &plan, members, params, &positions, &sources, &live, num_params, n,
        );
        // interior or a seam: complete without the remaining terms
        let mut complete = plan.interior.clone();
        let seams = match table {
            Some(table) => {
                for row in table.rows.chunks_exact(table.width) {
                    complete[row[0] as usize] = true;
                }
                let compile = |functions| {
                    SiteKernel::compile_table(
                        &site,
                        output,
                        &sources,
                        functions,
                        &table.columns,
                        table.width,
                    )
                };
                Some(Seams {
                    kernel: compile(Functions::Vector)?,
                    exact: sin_or_cos
                        .then(|| compile(Functions::Library))
                        .transpose()?,
                    rows: table.rows,
                    width: table.width,
                    params: table.params,
                })
            }
            None => None,
        };
        let mut gaps = Vec::new();
        let mut at = 0;
        while at < n {
            let start = at;
            while at < n && !complete[at] {
                at += 1;
            }
            if start < at {
                gaps.push((start, at));
            }
            while at < n && complete[at] {
                at += 1;
            }
        }
        let remaining: Vec<usize> = plan
            .remainder
            .iter()
            .copied()
            .filter(|&i| members[i].iter().any(|&c| !complete[c]))
            .collect();
        let remainder = (!remaining.is_empty()).then(|| {
            let mut compact: HashMap<usize, u32> = HashMap::default();
            let mut coordinates = Vec::new();
            let mut rows = Vec::new();
            let mut rest = Vec::new();
            for &i in &remaining {
                for &c in members[i] {
                    let next = coordinates.len() as u32;
                    let local = *compact.entry(c).or_insert(next);
                    if local == next {
                        coordinates.push(c as u32);
                    }
                    rows.push(local);
                }
                rest.extend_from_slice(&params[i * num_params..(i + 1) * num_params]);
            }
            let keep = (0..coordinates.len() as u32)
                .filter(|&u| !complete[coordinates[u as usize] as usize])
                .collect();
            Remainder {
                kernel,
                coordinates,
                keep,
                rows,
                params: rest,
            }
        });
        // runs separated only by seams become one call of the site kernel (a row of a 2-D
        // torus is a run, its ends are seams): the loop stores a wrong force at those seams,
        // which the seams' kernel then overwrites, where every load of theirs is in bounds
        let fits = |s: usize| {
            sources.iter().zip(&live).all(|(&source, &live)| {
                let (e, len) = match source {
                    Source::Q(e) | Source::QDot(e) => (e, n),
                    Source::Param(e) => (e, num_params * n),
                    Source::Time | Source::Base => return true,
                };
                !live || (s as isize + e >= 0 && ((s as isize + e) as usize) < len)
            })
        };
        let runs = bridge(&plan.runs, |a, b| {
            (a..b).all(|s| complete[s]) && fits(a) && fits(b - 1)
        });
        let whole = parts(
            std::slice::from_ref(&runs),
            &gaps,
            seams.as_ref(),
            remainder.as_ref(),
        )
        .pop()
        .expect("one part");
        Ok(Self {
            kernel: compiled,
            exact,
            whole,
            sites: plan.runs.iter().map(|(a, b)| b - a).sum(),
            params: soa,
            seams,
            reads_base: base,
            remainder,
            n,
            work_per_site,
            operations,
        })
    }

    /// Interior coordinates (computed by the site kernel).
    pub(crate) fn sites(&self) -> usize {
        self.sites
    }

    /// Seam coordinates (computed by the seams' table, see [`Seams`]).
    pub(crate) fn seams(&self) -> usize {
        self.seams.as_ref().map_or(0, |s| s.rows.len() / s.width)
    }

    /// Scratch values [`Lattice::compute`] needs.
    pub(crate) fn scratch_len(&self) -> usize {
        self.remainder
            .as_ref()
            .map_or(0, |r| 3 * r.coordinates.len())
    }

    /// The interior cut into `threads` parts of about equal size, or `None` with fewer than two
    /// threads or below [`MIN_PARALLEL_WORK`].
    pub(crate) fn split(&self, threads: usize) -> Option<LatticeSplit> {
        let work = self.sites as f64 * self.work_per_site;
        (threads >= 2 && work >= MIN_PARALLEL_WORK).then(|| {
            let runs = split_runs(&self.whole.runs, threads);
            parts(
                &runs,
                &self.whole.gaps,
                self.seams.as_ref(),
                self.remainder.as_ref(),
            )
        })
    }

    /// Writes the class's force into `force`: the site kernel stores the interior's, the
    /// seams' kernel the seams'; the other coordinates start from the base force (zeros where
    /// `base` is `None`) and get the remaining terms' additions (with a `split`, each part on a
    /// thread of the rayon pool, with its own share of the seams and the other coordinates).
    /// `scratch` holds [`Lattice::scratch_len`] values. Returns the site kernels' check sum
    /// (see [`crate::site_kernel`]), NaN where q or the force is not finite at the other
    /// coordinates: a finite sum means q and the class's force are finite everywhere.
    ///
    /// # Panics
    /// If `q`, `q_dot`, `force` or `base` is shorter than the lattice's coordinates, or
    /// `scratch` shorter than [`Lattice::scratch_len`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn compute(
        &self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        base: Option<&[f64]>,
        force: &mut [f64],
        split: Option<&LatticeSplit>,
        scratch: &mut [f64],
    ) -> f64 {
        let n = self.n;
        assert!(q.len() >= n && q_dot.len() >= n && force.len() >= n);
        assert!(base.is_none_or(|b| b.len() >= n));
        assert!(
            base.is_some() || !self.reads_base,
            "the site kernel reads the base force"
        );
        assert!(scratch.len() >= self.scratch_len());
        let out = Output(force.as_mut_ptr());
        let base_ptr = || -> *const f64 {
            base.map_or(std::ptr::NonNull::dangling().as_ptr(), |b| b.as_ptr())
        };
        let run = |kernel: &SiteKernel, ranges: &[(usize, usize)]| {
            let base_ptr = base_ptr();
            ranges
                .iter()
                .map(|&(a, b)| {
                    // SAFETY: `plan` made every interior coordinate's neighbours at the
                    // standard offsets coordinates (< n, checked above), every parameter read
                    // an anchor's (< n per parameter array), and `build` checked the loads of
                    // the seams a range bridges; each range's force entries are written by
                    // this part alone (the parts of a split are disjoint, a bridged seam is
                    // the same part's, and the gaps are not in any range).
                    unsafe {
                        kernel.run_raw(
                            &t,
                            q.as_ptr(),
                            q_dot.as_ptr(),
                            self.params.as_ptr(),
                            base_ptr,
                            out.get(),
                            a,
                            b - a,
                        )
                    }
                })
                .sum::<f64>()
        };
        // a part's seams, by the vector kernel or the `exact` one
        let seams = |part: &Part, exact: bool| -> f64 {
            let Some(seams) = &self.seams else {
                return 0.0;
            };
            let kernel = match &seams.exact {
                Some(kernel) if exact => kernel,
                _ => &seams.kernel,
            };
            let (a, b) = part.seams;
            let rows = &seams.rows[a * seams.width..b * seams.width];
            // SAFETY: `SeamTable::find` took every row's site and column from the class's
            // terms (coordinates < n, the length of q, q̇ and force checked above; parameter
            // indices within `seams.params`); `rows` are whole rows; a seam is not interior,
            // and each row belongs to one part alone (its run, if bridged, is the same part's).
            unsafe {
                kernel.run_table(
                    &t,
                    q.as_ptr(),
                    q_dot.as_ptr(),
                    seams.params.as_ptr(),
                    base_ptr(),
                    out.get(),
                    rows,
                    seams.width,
                )
            }
        };
        // the remaining terms' force on their compact copy, on this thread (it writes only
        // `scratch`); each part then adds what falls in its own gaps: a seam's entries share
        // cache lines with the interior's ends, and a thread that wrote them would hand those
        // lines to the one storing that interior, a transfer per seam per call
        let local_f = self.remainder_force(t, q, q_dot, scratch);
        let local_f = &*local_f;
        let boundary = |part: &Part| -> bool {
            // SAFETY: a part's gaps and kept coordinates are its own (disjoint from every
            // other part's and from every interior range) and in bounds
            unsafe { self.boundary(part, q, base, out, local_f) }
        };
        let (sum, boundary_finite) = match split {
            Some(parts) => {
                use rayon::prelude::*;
                parts
                    .par_iter()
                    .map(|p| (run(&self.kernel, &p.runs) + seams(p, false), boundary(p)))
                    .reduce(|| (0.0, true), |a, b| (a.0 + b.0, a.1 && b.1))
            }
            None => {
                let part = &self.whole;
                let finite = boundary(part);
                (run(&self.kernel, &part.runs) + seams(part, false), finite)
            }
        };
        let sum = match &self.exact {
            Some(exact) if !sum.is_finite() => match split {
                Some(parts) => {
                    use rayon::prelude::*;
                    parts
                        .par_iter()
                        .map(|p| run(exact, &p.runs) + seams(p, true))
                        .sum()
                }
                None => run(exact, &self.whole.runs) + seams(&self.whole, true),
            },
            _ => sum,
        };
        // NaN where the boundary's q or force is not finite
        if boundary_finite { sum } else { f64::NAN }
    }

    /// The remaining terms' force on the compact copy of their coordinates (in `scratch`,
    /// which it returns; empty without a remainder).
    fn remainder_force<'s>(
        &self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        scratch: &'s mut [f64],
    ) -> &'s mut [f64] {
        let Some(r) = &self.remainder else {
            return &mut scratch[..0];
        };
        let u = r.coordinates.len();
        let (local_q, rest) = scratch[..3 * u].split_at_mut(u);
        let (local_v, local_f) = rest.split_at_mut(u);
        for (k, &c) in r.coordinates.iter().enumerate() {
            local_q[k] = q[c as usize];
            local_v[k] = q_dot[c as usize];
        }
        local_f.fill(0.0);
        // SAFETY: the compact table's indices are < u, the lengths of the local arrays; the
        // kernel adds to the force only (its class has no mass outputs), `mass` is not read.
        unsafe {
            r.kernel
                .run(&t, local_q, local_v, &r.rows, &r.params, local_f, &mut [])
        };
        local_f
    }

    /// A part's non-interior coordinates of `force`: the base force, plus the remaining
    /// terms' (`local_f`, from [`Self::remainder_force`]). Returns whether q and the force
    /// are finite there.
    ///
    /// # Safety
    /// `force` points to the lattice's `n` coordinates, and no other thread accesses the
    /// part's gaps while this runs.
    unsafe fn boundary(
        &self,
        part: &Part,
        q: &[f64],
        base: Option<&[f64]>,
        force: Output,
        local_f: &[f64],
    ) -> bool {
        for &(a, b) in &part.gaps {
            // (most gaps are a site or two at a seam: element by element, no call to memset)
            for i in a..b {
                // SAFETY: a gap is in bounds and the part's own (the caller's contract)
                unsafe { *force.get().add(i) = base.map_or(0.0, |base| base[i]) };
            }
        }
        if let Some(r) = &self.remainder {
            for &k in &part.keep {
                // SAFETY: a kept coordinate lies in one of the part's gaps
                unsafe {
                    *force.get().add(r.coordinates[k as usize] as usize) += local_f[k as usize]
                };
            }
        }
        let finite = |x: &[f64]| x.iter().fold(0.0, |s, v| s + v * 0.0) == 0.0;
        part.gaps.iter().all(|&(a, b)| {
            // SAFETY: as above
            let gap = unsafe { std::slice::from_raw_parts(force.get().add(a), b - a) };
            finite(&q[a..b]) && finite(gap)
        })
    }
}

/// The parts of a call, one per entry of `runs` (each a list of interior ranges, in order,
/// together covering every run): part p's coordinates reach from the start of its first range
/// to the start of the next part's (the first from 0, the last to the end), and with them
/// the gaps and the kept remainder coordinates that lie there.
fn parts(
    runs: &[Vec<(usize, usize)>],
    gaps: &[(usize, usize)],
    seams: Option<&Seams>,
    remainder: Option<&Remainder>,
) -> LatticeSplit {
    let starts = part_starts(runs);
    let owner = |c: usize| owner(&starts, c);
    let mut parts: LatticeSplit = runs
        .iter()
        .map(|r| Part {
            runs: r.clone(),
            seams: (0, 0),
            gaps: Vec::new(),
            keep: Vec::new(),
        })
        .collect();
    for &(a, b) in gaps {
        parts[owner(a)].gaps.push((a, b));
    }
    if let Some(seams) = seams {
        // the rows are in the order of their sites, so each part's are consecutive
        let sites: Vec<usize> = seams.sites().collect();
        for (p, part) in parts.iter_mut().enumerate() {
            let from = sites.partition_point(|&s| owner(s) < p);
            let to = sites.partition_point(|&s| owner(s) <= p);
            part.seams = (from, to);
        }
    }
    if let Some(r) = remainder {
        for &k in &r.keep {
            parts[owner(r.coordinates[k as usize] as usize)]
                .keep
                .push(k);
        }
    }
    parts
}

/// Where each part's coordinates start: 0 for the first, the start of its first range for
/// the others. (An empty part after the first starts where the next non-empty one does, or
/// nowhere: it owns nothing, and a seam inside a part's run stays that part's.)
fn part_starts(runs: &[Vec<(usize, usize)>]) -> Vec<usize> {
    let mut starts = vec![0; runs.len()];
    let mut next = usize::MAX;
    for p in (1..runs.len()).rev() {
        starts[p] = runs[p].first().map_or(next, |r| r.0);
        next = starts[p];
    }
    starts
}

/// The part whose coordinates hold `c` (the last that starts at or before it).
fn owner(starts: &[usize], c: usize) -> usize {
    starts.partition_point(|&s| s <= c).saturating_sub(1)
}

/// `runs` (in order) with the gaps between consecutive ones closed where `bridgeable(start,
/// end)` of the gap says so.
fn bridge(
    runs: &[(usize, usize)],
    bridgeable: impl Fn(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    let mut bridged: Vec<(usize, usize)> = Vec::with_capacity(runs.len());
    for &(a, b) in runs {
        match bridged.last_mut() {
            Some(last) if bridgeable(last.1, a) => last.1 = b,
            _ => bridged.push((a, b)),
        }
    }
    bridged
}

/// `runs` (disjoint ranges) cut into `threads` parts of about equal total length, each a list
/// of ranges, in order.
fn split_runs(runs: &[(usize, usize)], threads: usize) -> Vec<Vec<(usize, usize)>> {
    let total: usize = runs.iter().map(|(a, b)| b - a).sum();
    let mut parts = vec![Vec::new(); threads];
    let mut done = 0;
    for &(a, b) in runs {
        let mut s = a;
        while s < b {
            let part = (done * threads / total.max(1)).min(threads - 1);
            let part_end = ((part + 1) * total).div_ceil(threads);
            let e = b.min(s + part_end.saturating_sub(done).max(1));
            parts[part].push((s, e));
            done += e - s;
            s = e;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[Vec<usize>]) -> Vec<&[usize]> {
        v.iter().map(|r| &r[..]).collect()
    }

    #[test]
    fn a_periodic_ring_has_all_but_the_seam_inside() {
        let n = 100;
        let members: Vec<Vec<usize>> = (0..n).map(|s| vec![s, (s + 1) % n]).collect();
        let plan = plan(&rows(&members), &[0, 1], n).unwrap();
        assert_eq!(plan.offsets, [0, 1]);
        // coordinate 0 is touched by the seam term (99, 0), 99 is its anchor
        assert_eq!(plan.runs, [(1, 99)]);
        assert_eq!(plan.remainder, [0, 98, 99]);
    }

    #[test]
    fn outputs_decide_which_neighbours_must_exist() {
        // open chain of springs: with only output 0 (a force on the left end alone), the
        // last coordinate has no term anchored at it
        let n = 80;
        let members: Vec<Vec<usize>> = (0..n - 1).map(|s| vec![s, s + 1]).collect();
        let both = plan(&rows(&members), &[0, 1], n).unwrap();
        assert_eq!(both.runs, [(1, n - 1)]);
        let left = plan(&rows(&members), &[0], n).unwrap();
        assert_eq!(left.runs, [(0, n - 1)]);
        assert_eq!(left.remainder, [n - 2]);
    }

    #[test]
    fn irregular_classes_and_small_lattices_are_not_lattices() {
        // all pairs of 20 bodies: no pattern is a majority with enough interior
        let mut pairs = Vec::new();
        for i in 0..20 {
            for j in i + 1..20 {
                pairs.push(vec![i, j]);
            }
        }
        assert!(plan(&rows(&pairs), &[0, 1], 20).is_none());
        let small: Vec<Vec<usize>> = (0..10).map(|s| vec![s, (s + 1) % 10]).collect();
        assert!(plan(&rows(&small), &[0, 1], 10).is_none());
    }

    #[test]
    fn a_split_covers_every_run_once_in_even_parts() {
        let runs = [(1, 99), (101, 103), (200, 350), (351, 352)];
        for threads in [2, 3, 7] {
            let parts = split_runs(&runs, threads);
            assert_eq!(parts.len(), threads);
            let mut covered: Vec<usize> = parts.iter().flatten().flat_map(|&(a, b)| a..b).collect();
            covered.sort_unstable();
            let expected: Vec<usize> = runs.iter().flat_map(|&(a, b)| a..b).collect();
            assert_eq!(covered, expected, "{threads} threads");
            // 253 sites: every part within one site of 253 / threads
            for part in &parts {
                let len: usize = part.iter().map(|(a, b)| b - a).sum();
                assert!(len.abs_diff(253 / threads) <= 1, "{threads}: {len}");
            }
        }
    }

    #[test]
    fn empty_parts_own_nothing_and_seams_stay_with_their_run() {
        // a 2-D torus's rows bridged into one run (their ends are seams), cut for more threads
        // than there are sites: every seam goes to the part whose run covers it
        let n = 100;
        let runs = bridge(&[(11, 19), (21, 29), (31, 39)], |a, b| b - a == 2);
        assert_eq!(runs, [(11, 39)]);
        let gaps = [(0, 11), (39, n)];
        for threads in [2, 3, 40] {
            let split = split_runs(&runs, threads);
            let starts = part_starts(&split);
            for (p, ranges) in split.iter().enumerate() {
                for &(a, b) in ranges {
                    assert!((a..b).all(|c| owner(&starts, c) == p), "{threads}: {p}");
                }
            }
            let parts = parts(&split, &gaps, None, None);
            for (p, part) in parts.iter().enumerate() {
                if part.runs.is_empty() && p > 0 {
                    assert!(part.gaps.is_empty(), "{threads}: part {p} {part:?}");
                }
            }
            // each gap once, the first to the part that starts at 0
            let owned: Vec<_> = parts.iter().flat_map(|p| p.gaps.clone()).collect();
            assert_eq!(owned, gaps, "{threads}");
            assert_eq!(parts[0].gaps.first(), Some(&(0, 11)));
        }
        // runs far apart stay apart
        assert_eq!(
            bridge(&[(1, 5), (9, 12)], |a, b| b - a == 2),
            [(1, 5), (9, 12)]
        );
    }

    #[test]
    fn regroup_writes_the_wave_stencil_as_a_hand_written_one() {
        // q̈ at a site of the 2-D wave equation as the terms give it:
        // ((E − q)·c₁ + (N − q)·c₁)·c₂ + (q − S)·c₃ + (q − W)·c₃, c₃ ≈ −c₁c₂
        let mut g = Graph::new(5);
        let [q, e, n, s, w] = [0, 1, 2, 3, 4].map(|i| g.input(i));
        let (c1, c2) = (
            g.constant(1.000_000_000_000_000_2),
            g.constant(399.999_999_999_999_94),
        );
        let c3 = g.constant(-400.000_000_000_000_06);
        let (eq, nq) = (g.sub(e, q), g.sub(n, q));
        let (eq, nq) = (g.mul(eq, c1), g.mul(nq, c1));
        let east_north = g.add(eq, nq);
        let first = g.mul(east_north, c2);
        let (qs, qw) = (g.sub(q, s), g.sub(q, w));
        let (qs, qw) = (g.mul(qs, c3), g.mul(qw, c3));
        let sum = g.add(first, qs);
        let sum = g.add(sum, qw);
        let regrouped = regroup(&mut g, sum);
        // c·(E + N + S + W − 4q): five additions, two products
        assert!(
            g.work(&[regrouped]) <= 7,
            "{} operations",
            g.work(&[regrouped])
        );
        for x in [[0.3, -1.2, 0.7, 2.5, -0.4], [1.0, 1.0, 1.0, 1.0, 1.0]] {
            let (a, b) = (g.eval(&x, &[sum])[0], g.eval(&x, &[regrouped])[0]);
            // the coefficients' rounding: a few ulp of the terms (≈ 400 · 2.5)
            assert!((a - b).abs() <= 1e-12, "{a} vs {b}");
        }
        // a non-linear leaf keeps its own coefficient
        let sin = g.fun(crate::graph::Fun::Sin, q);
        let k = g.constant(-0.05);
        let scaled = g.mul(sin, k);
        let with_sin = g.add(sum, scaled);
        let r = regroup(&mut g, with_sin);
        let x = [0.3, -1.2, 0.7, 2.5, -0.4];
        let (a, b) = (g.eval(&x, &[with_sin])[0], g.eval(&x, &[r])[0]);
        assert!((a - b).abs() <= 1e-12, "{a} vs {b}");
    }

    /// The seams of a ring of three-site terms `[s, s+1, s+2]` (mod n) whose force outputs
    /// read all three coordinates and the term's parameter; `twist` replaces the last term by
    /// `[n−1, 0, 5]`.
    fn ring_seams(n: usize, twist: bool) -> (Vec<Source>, SeamTable) {
        let mut members: Vec<Vec<usize>> =
            (0..n).map(|s| vec![s, (s + 1) % n, (s + 2) % n]).collect();
        if twist {
            members[n - 1] = vec![n - 1, 0, 5];
        }
        // inputs [t, q₀, q₁, q₂, q̇₀, q̇₁, q̇₂, p]: output k = q_k·(q₀ + q₁ + q₂)·p
        let mut g = Graph::new(8);
        let [q0, q1, q2, p] = [1, 2, 3, 7].map(|i| g.input(i));
        let sum = g.add(q0, q1);
        let sum = g.add(sum, q2);
        let sum = g.mul(sum, p);
        let outputs: Vec<(Id, usize)> = [q0, q1, q2]
            .iter()
            .enumerate()
            .map(|(k, &q)| (g.mul(q, sum), k))
            .collect();
        let plan = plan(&rows(&members), &[0, 1, 2], n).unwrap();
        let (site, output, sources) = site_graph(&g, 1, &outputs, &plan.offsets, n, false);
        let live = site.live(&[output]);
        // term i's parameter is i (so that a row's parameter reads back which term it took)
        let params: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let table = SeamTable::find(
            &plan,
            &rows(&members),
            &params,
            &[0, 1, 2],
            &sources,
            &live,
            1,
            n,
        )
        .unwrap();
        (sources, table)
    }

    /// Seam `r`'s row with each parameter column replaced by the parameter's value (here the
    /// term's index).
    fn resolved(r: usize, sources: &[Source], table: &SeamTable) -> Vec<u32> {
        let mut row = table.rows[r * table.width..(r + 1) * table.width].to_vec();
        for (&source, column) in sources.iter().zip(&table.columns) {
            if let (Source::Param(_), Some(c)) = (source, column) {
                row[*c as usize] = table.params[row[*c as usize] as usize] as u32;
            }
        }
        row
    }

    /// A seam's row as the wrap-around gives it: each column the coordinate (or term) at its
    /// offset from the site, modulo n.
    fn wrapped_row(s: usize, n: usize, sources: &[Source], table: &SeamTable) -> Vec<u32> {
        let mut row = vec![s as u32; table.width];
        for (&source, column) in sources.iter().zip(&table.columns) {
            let e = match source {
                Source::Q(e) | Source::QDot(e) => e,
                Source::Param(e) => e, // one parameter: the term anchored at s + e
                _ => continue,
            };
            if let Some(c) = column {
                row[*c as usize] = (s as isize + e).rem_euclid(n as isize) as u32;
            }
        }
        row
    }

    #[test]
    fn a_rings_wrap_around_is_its_seams() {
        let n = 100;
        let (sources, table) = ring_seams(n, false);
        let seams: Vec<&[u32]> = table.rows.chunks_exact(table.width).collect();
        // q at four offsets and the parameters of the three terms around the site
        assert_eq!(table.width, 1 + 4 + 3);
        assert_eq!(
            seams.iter().map(|r| r[0]).collect::<Vec<_>>(),
            [0, 1, 98, 99]
        );
        // the table keeps the parameters its rows read, no more
        assert_eq!(table.params.len(), 4 * 3);
        for (r, row) in seams.iter().enumerate() {
            let s = row[0] as usize;
            assert_eq!(
                resolved(r, &sources, &table),
                wrapped_row(s, n, &sources, &table)
            );
        }
        // the twisted term breaks the sites whose inputs would disagree (site 0 reads q₁ as
        // the first term's second coordinate and q₅ as the last term's third), the ones it
        // touches at an output with another term (5) and those no term has at every output
        // (1); run 2..5 is too short for the stencil and becomes seams
        let (sources, table) = ring_seams(n, true);
        let seams: Vec<&[u32]> = table.rows.chunks_exact(table.width).collect();
        assert_eq!(
            seams.iter().map(|r| r[0]).collect::<Vec<_>>(),
            [2, 3, 4, 98, 99]
        );
        for (r, row) in seams[..4].iter().enumerate() {
            let s = row[0] as usize;
            assert_eq!(
                resolved(r, &sources, &table),
                wrapped_row(s, n, &sources, &table)
            );
        }
        // site 99: its own term's third coordinate is 5
        let q2 = sources.iter().position(|&s| s == Source::Q(2)).unwrap();
        let column = table.columns[q2].unwrap() as usize;
        assert_eq!(seams[4][column], 5);
    }

    #[test]
    fn duplicate_anchors_go_to_the_remainder() {
        let n = 90;
        let mut members: Vec<Vec<usize>> = (0..n - 1).map(|s| vec![s, s + 1]).collect();
        members.push(vec![40, 41]);
        let plan = plan(&rows(&members), &[0, 1], n).unwrap();
        assert!(!plan.interior[40] && !plan.interior[41]);
        assert!(plan.remainder.contains(&(n - 1)) && plan.remainder.contains(&40));
        assert!(plan.interior[20] && plan.interior[60]);
    }
}
