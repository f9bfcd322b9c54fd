//! [`FieldSystem`]: `L = Σ_sites a^d · density` (+ particles and their coupling), declared to
//! the engine as local terms.

use super::lattice::Lattice;
use crate::expr::Expr;
use crate::lagrangian::{Lagrangian, Scalar, Structure};
use crate::systems::{ParameterError, System};

/// Largest number of fields, particles and expression inputs of one term (stack buffers).
pub(crate) const MAX_FIELDS: usize = 4;
/// Most particle coordinates a field system may declare.
pub(crate) const MAX_PARTICLES: usize = 16;
const MAX_INPUTS: usize = 32;

/// A source expression with parameters as inputs, and the same with them bound.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub(crate) source: String,
    pub(crate) expr: Expr,
    pub(crate) bound: Expr,
}

impl Bound {
    pub(crate) fn new(source: &str, expr: Expr, params: &[f64]) -> Bound {
        let bound = expr.bind_parameters(params);
        Bound {
            source: source.to_string(),
            expr,
            bound,
        }
    }

    fn rebind(&mut self, params: &[f64]) {
        self.bound = self.expr.bind_parameters(params);
    }
}

/// An `[initial]` entry: a value or expression in the site position and the parameters.
#[derive(Debug, Clone)]
pub(crate) enum Initial {
    /// The same value everywhere.
    Value(f64),
    /// An expression over the coordinates `x` (and `y`), with the parameters as inputs.
    Expr(Expr),
}

impl Initial {
    fn at(&self, position: [f64; 2], params: &[f64]) -> f64 {
        match self {
            Initial::Value(v) => *v,
            Initial::Expr(e) => e.eval_f64(0.0, &position, &[0.0, 0.0], params),
        }
    }
}

/// One real field or several on a lattice, optionally with particles coupled to them, read
/// from a system file with a `[field]` table (see [`FieldSystem::from_toml_str`]).
///
/// The Lagrangian is `L = Σ_sites a^d · density(φ, φ_t, φ_x, φ_y, x, y, t)` with the forward
/// differences `φ_x = (φ_{i+1,j} − φ_{i,j})/a`, plus, with particles `X`, their own
/// `lagrangian(X, Ẋ, t)` and `Σ_sites a^d · coupling(φ, φ_t, X, Ẋ, x, y, t)`. It is declared
/// as local terms (one per site, one per ghost site of a fixed boundary, one per coupling
/// site, one for the particles), so the structured path and the compiled term kernels apply
/// and the cost of q̈ is linear in the number of sites.
///
/// The coordinates are the field values, site-major (`phi_0, psi_0, phi_1, …`; `phi_i_j` in
/// 2-D), then the particle coordinates.
#[derive(Debug, Clone)]
pub struct FieldSystem {
    pub(crate) name: Option<String>,
    pub(crate) fields: Vec<String>,
    pub(crate) lattice: Lattice,
    pub(crate) particles: Vec<String>,
    pub(crate) param_names: Vec<String>,
    pub(crate) params: Vec<f64>,
    /// Inputs: the fields, their forward differences per dimension, `x` (and `y`).
    pub(crate) density: Bound,
    /// Inputs: the fields, the particle coordinates, `x` (and `y`).
    pub(crate) coupling: Option<Bound>,
    /// Inputs: the particle coordinates.
    pub(crate) particle: Option<Bound>,
    pub(crate) density_uses_position: [bool; 2],
    pub(crate) coupling_uses_position: [bool; 2],
    /// Per field: value and velocity.
    pub(crate) initial_fields: Vec<(Initial, Initial)>,
    /// Per particle coordinate: value and velocity.
    pub(crate) initial_particles: Vec<(Initial, Initial)>,
    pub(crate) constant_mass: bool,
}

/// What term `k` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermKind {
    Site(usize),
    Ghost(usize),
    Coupling(usize),
    Particles,
}

impl FieldSystem {
    /// The lattice.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// The field names.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The particle coordinates' names (empty without particles).
    pub fn particles(&self) -> &[String] {
        &self.particles
    }

    /// The `name` of the file, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The density as written.
    pub fn density_text(&self) -> &str {
        &self.density.source
    }

    /// Index of field `f` at `site` among the coordinates.
    pub fn coordinate(&self, site: usize, f: usize) -> usize {
        site * self.fields.len() + f
    }

    /// Index of particle coordinate `p` among the coordinates.
    pub fn particle_coordinate(&self, p: usize) -> usize {
        self.lattice.num_sites() * self.fields.len() + p
    }

    /// The field energy density's integral and the rest: the total energy split as
    /// `(field, particles and coupling)`. The field part is `Σ_sites a^d (φ_t ∂density/∂φ_t −
    /// density)` (ghost sites included); their sum is the Jacobi integral of the whole system.
    pub fn energy_parts(&self, t: f64, q: &[f64], q_dot: &[f64]) -> (f64, f64) {
        use num_dual::Dual64;
        let (mut field, mut rest) = (0.0, 0.0);
        self.for_each_term(q, q_dot, |k, ql, qdl| {
            let ql: Vec<Dual64> = ql.iter().map(|&v| Dual64::from(v)).collect();
            let qdh: Vec<Dual64> = qdl.iter().map(|&v| Dual64::new(v, v)).collect();
            let l = self.term(k, Dual64::from(t), &ql, &qdh);
            match self.kind(k) {
                TermKind::Site(_) | TermKind::Ghost(_) => field += l.eps - l.re,
                _ => rest += l.eps - l.re,
            }
        });
        (field, rest)
    }

    fn num_terms(&self) -> usize {
        let sites = self.lattice.num_sites();
        sites
            + self.lattice.ghosts()
            + if self.coupling.is_some() { sites } else { 0 }
            + usize::from(self.particle.is_some())
    }

    fn kind(&self, k: usize) -> TermKind {
        let sites = self.lattice.num_sites();
        let ghosts = self.lattice.ghosts();
        if k < sites {
            TermKind::Site(k)
        } else if k < sites + ghosts {
            TermKind::Ghost(k - sites)
        } else if self.coupling.is_some() && k < 2 * sites + ghosts {
            TermKind::Coupling(k - sites - ghosts)
        } else {
            TermKind::Particles
        }
    }

    /// Calls `f(k, q_local, q_dot_local)` for every term.
    fn for_each_term(&self, q: &[f64], q_dot: &[f64], mut f: impl FnMut(usize, &[f64], &[f64])) {
        let mut coords = Vec::with_capacity(MAX_INPUTS);
        let (mut ql, mut qdl) = ([0.0; MAX_INPUTS], [0.0; MAX_INPUTS]);
        for k in 0..self.num_terms() {
            coords.clear();
            self.term_coordinates(k, &mut coords);
            for (i, &c) in coords.iter().enumerate() {
                ql[i] = q[c];
                qdl[i] = q_dot[c];
            }
            f(k, &ql[..coords.len()], &qdl[..coords.len()]);
        }
    }

    /// The density at a site (or ghost), from its local coordinates.
    #[inline]
    fn site_term<D: Scalar>(
        &self,
        t: D,
        q: &[D],
        q_dot: &[D],
        links: [Link; 2],
        ghost: bool,
        position: [f64; 2],
    ) -> D {
        let nf = self.fields.len();
        let dims = self.lattice.dims();
        let inv_a = self.lattice.spacing().recip();
        let mut x = [D::zero(); MAX_INPUTS];
        let mut v = [D::zero(); MAX_INPUTS];
        if !ghost {
            x[..nf].copy_from_slice(&q[..nf]);
            v[..nf].copy_from_slice(&q_dot[..nf]);
        }
        for (d, link) in links.iter().enumerate().take(dims) {
            let out = &mut x[nf * (1 + d)..nf * (2 + d)];
            match *link {
                // φ_{next} − φ: both on the lattice
                Link::Local(offset) => {
                    for f in 0..nf {
                        out[f] = (q[offset + f] - q[f]) * inv_a;
                    }
                }
                // the next site is held at 0
                Link::Zero => {
                    for f in 0..nf {
                        out[f] = -q[f] * inv_a;
                    }
                }
                // a ghost (at 0) whose next site is the lattice's first: q holds that site
                Link::FromGhost => {
                    for f in 0..nf {
                        out[f] = q[f] * inv_a;
                    }
                }
                Link::None => {}
            }
        }
        let base = nf * (1 + dims);
        for d in 0..dims {
            if self.density_uses_position[d] {
                x[base + d] = D::from(position[d]);
            }
        }
        self.density.bound.eval(t, &x, &v, &[]) * self.lattice.cell_volume()
    }

    fn links(&self, site: usize) -> [Link; 2] {
        let nf = self.fields.len();
        let mut links = [Link::None; 2];
        let mut offset = nf;
        for (d, link) in links.iter_mut().enumerate().take(self.lattice.dims()) {
            *link = match self.lattice.neighbour(site, d) {
                Some(_) => {
                    let l = Link::Local(offset);
                    offset += nf;
                    l
                }
                None => match self.lattice.boundary() {
                    super::Boundary::Fixed => Link::Zero,
                    _ => Link::None,
                },
            };
        }
        links
    }
}

/// Where a forward difference's next value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// The term's local coordinates from this offset.
    Local(usize),
    /// 0 (fixed boundary).
    Zero,
    /// A ghost's difference: the next site is the term's own coordinates, the ghost is 0.
    FromGhost,
    /// No difference (free boundary, or the other direction of a ghost).
    None,
}

impl Lagrangian for FieldSystem {
    fn dof(&self) -> usize {
        self.lattice.num_sites() * self.fields.len() + self.particles.len()
    }

    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        let mut coords = Vec::with_capacity(MAX_INPUTS);
        let (mut ql, mut qdl) = ([D::zero(); MAX_INPUTS], [D::zero(); MAX_INPUTS]);
        let mut sum = D::zero();
        for k in 0..self.num_terms() {
            coords.clear();
            self.term_coordinates(k, &mut coords);
            for (i, &c) in coords.iter().enumerate() {
                ql[i] = q[c];
                qdl[i] = q_dot[c];
            }
            sum += self.term(k, t, &ql[..coords.len()], &qdl[..coords.len()]);
        }
        sum
    }

    fn structure(&self) -> Structure {
        Structure {
            constant_mass_matrix: self.constant_mass,
            dissipation: false,
            generalized_forces: false,
            local_terms: self.num_terms(),
        }
    }

    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        let nf = self.fields.len();
        let fields_at = |site: usize, out: &mut Vec<usize>| out.extend(site * nf..(site + 1) * nf);
        match self.kind(k) {
            TermKind::Site(site) => {
                fields_at(site, coordinates);
                for d in 0..self.lattice.dims() {
                    if let Some(next) = self.lattice.neighbour(site, d) {
                        fields_at(next, coordinates);
                    }
                }
            }
            TermKind::Ghost(g) => fields_at(self.lattice.ghost(g).0, coordinates),
            TermKind::Coupling(site) => {
                fields_at(site, coordinates);
                coordinates.extend((0..self.particles.len()).map(|p| self.particle_coordinate(p)));
            }
            TermKind::Particles => {
                coordinates.extend((0..self.particles.len()).map(|p| self.particle_coordinate(p)))
            }
        }
    }

    #[inline]
    fn term<D: Scalar>(&self, k: usize, t: D, q: &[D], q_dot: &[D]) -> D {
        match self.kind(k) {
            TermKind::Site(site) => self.site_term(
                t,
                q,
                q_dot,
                self.links(site),
                false,
                self.lattice.position(site),
            ),
            TermKind::Ghost(g) => {
                let (_, dim, position) = self.lattice.ghost(g);
                let mut links = [Link::None; 2];
                links[dim] = Link::FromGhost;
                self.site_term(t, q, q_dot, links, true, position)
            }
            TermKind::Coupling(site) => {
                let Some(coupling) = &self.coupling else {
                    return D::zero();
                };
                let n = q.len();
                let mut x = [D::zero(); MAX_INPUTS];
                x[..n].copy_from_slice(q);
                let mut v = [D::zero(); MAX_INPUTS];
                v[..n].copy_from_slice(q_dot);
                let position = self.lattice.position(site);
                for d in 0..self.lattice.dims() {
                    if self.coupling_uses_position[d] {
                        x[n + d] = D::from(position[d]);
                    }
                }
                coupling.bound.eval(t, &x, &v, &[]) * self.lattice.cell_volume()
            }
            TermKind::Particles => match &self.particle {
                Some(p) => p.bound.eval(t, q, q_dot, &[]),
                None => D::zero(),
            },
        }
    }
}

impl System for FieldSystem {
    fn title(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let sites: Vec<String> = self.lattice.sites().iter().map(|n| n.to_string()).collect();
            format!("field on {} sites", sites.join(" × "))
        })
    }

    fn coordinates(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.dof());
        for site in 0..self.lattice.num_sites() {
            let suffix = self.lattice.suffix(site);
            for f in &self.fields {
                names.push(format!("{f}{suffix}"));
            }
        }
        names.extend(self.particles.iter().cloned());
        names
    }

    fn parameters(&self) -> Vec<(String, f64)> {
        self.param_names
            .iter()
            .cloned()
            .zip(self.params.iter().copied())
            .collect()
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        let Some(j) = self.param_names.iter().position(|p| p == name) else {
            return Err(ParameterError::Unknown {
                name: name.to_string(),
                known: self.param_names.join(", "),
            });
        };
        if !value.is_finite() {
            return Err(ParameterError::Invalid {
                name: name.to_string(),
                value,
                reason: "parameters must be finite".into(),
            });
        }
        self.params[j] = value;
        self.density.rebind(&self.params);
        if let Some(c) = &mut self.coupling {
            c.rebind(&self.params);
        }
        if let Some(p) = &mut self.particle {
            p.rebind(&self.params);
        }
        Ok(())
    }

    /// The `[initial]` expressions at every site, with the current parameter values.
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.dof();
        let (mut q, mut q_dot) = (vec![0.0; n], vec![0.0; n]);
        for site in 0..self.lattice.num_sites() {
            let position = self.lattice.position(site);
            for (f, (value, velocity)) in self.initial_fields.iter().enumerate() {
                let c = self.coordinate(site, f);
                q[c] = value.at(position, &self.params);
                q_dot[c] = velocity.at(position, &self.params);
            }
        }
        for (p, (value, velocity)) in self.initial_particles.iter().enumerate() {
            let c = self.particle_coordinate(p);
            q[c] = value.at([0.0; 2], &self.params);
            q_dot[c] = velocity.at([0.0; 2], &self.params);
        }
        (q, q_dot)
    }

    fn lagrangian_text(&self) -> String {
        let sites: Vec<String> = self.lattice.sites().iter().map(|n| n.to_string()).collect();
        let a = self.lattice.spacing();
        let volume = match self.lattice.dims() {
            1 => format!("{a}"),
            d => format!("{a}^{d}"),
        };
        let mut text = format!(
            "sum over {} sites ({}) of {volume}*({})",
            sites.join("×"),
            self.lattice.boundary().name(),
            self.density.source
        );
        if let Some(c) = &self.coupling {
            text.push_str(&format!(" + {volume}*({})", c.source));
        }
        if let Some(p) = &self.particle {
            text.push_str(&format!(" + {}", p.source));
        }
        text
    }
}
