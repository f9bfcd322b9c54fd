//! Fields on lattices: a Lagrangian *density* written once, `L = Σ_sites a^d · density`.
//!
//! A system file with a `[field]` table describes one or more real fields `φ` on a 1-D or 2-D
//! lattice ([`Lattice`]: sites, spacing `a`, [`Boundary`]) by their density in `φ`, `φ_t`, the
//! forward differences `φ_x = (φ_{i+1} − φ_i)/a` (and `φ_y`), the site position `x` (`y`) and
//! `t`; optionally particles with their own Lagrangian and a coupling density
//! ([`FieldSystem`]). The engine sees an ordinary Lagrangian declared as local terms, so the
//! exact equations of motion, the energy, the variational integrator and the compiled term
//! kernels apply unchanged, at a cost linear in the number of sites.
//!
//! The Euler–Lagrange equation of the lattice Lagrangian is the lattice field equation: for
//! `½φ_t² − ½φ_x² − V(φ)` it is `φ̈_i = (φ_{i+1} − 2φ_i + φ_{i−1})/a² − V'(φ_i)`, the
//! second-order central difference of the continuum equation `φ_tt = φ_xx − V'(φ)`.

pub mod exact;
mod file;
mod lattice;
mod system;

pub use file::is_field_file;
pub use lattice::{Boundary, Lattice};
pub use system::FieldSystem;
