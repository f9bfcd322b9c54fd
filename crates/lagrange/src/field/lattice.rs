//! The lattice a field lives on: sites in 1-D or 2-D, their spacing and what lies beyond the edge.

/// What the field does beyond the lattice's edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// The last site links to the first (a ring in 1-D, a torus in 2-D).
    Periodic,
    /// The field is 0 one spacing beyond each edge (Dirichlet): the edge sites link to sites
    /// held at 0.
    Fixed,
    /// No link beyond the edge (Neumann): the forward difference of an edge site is 0.
    Free,
}

impl Boundary {
    /// The boundary named `name` (`periodic`, `fixed`, `free`).
    pub fn from_name(name: &str) -> Option<Boundary> {
        match name {
            "periodic" => Some(Boundary::Periodic),
            "fixed" => Some(Boundary::Fixed),
            "free" => Some(Boundary::Free),
            _ => None,
        }
    }

    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Boundary::Periodic => "periodic",
            Boundary::Fixed => "fixed",
            Boundary::Free => "free",
        }
    }
}

/// A regular lattice of `sites[0]` (× `sites[1]`) sites, spacing `a`.
///
/// Site `(i, j)` sits at `x = i a`, `y = j a` and has index `i · ny + j` (1-D: `i`), so the
/// `y` neighbour is the next index and a 2-D band is `ny` wide.
///
/// ```
/// use lagrange::field::{Boundary, Lattice};
///
/// let ring = Lattice::new(vec![4], 0.5, Boundary::Periodic);
/// assert_eq!(ring.neighbour(3, 0), Some(0)); // the last site links to the first
/// let rod = Lattice::new(vec![4], 0.5, Boundary::Fixed);
/// assert_eq!((rod.neighbour(3, 0), rod.ghosts()), (None, 1)); // one ghost site at x = −a
/// assert_eq!(rod.position(2), [1.0, 0.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Lattice {
    sites: Vec<usize>,
    spacing: f64,
    boundary: Boundary,
}

impl Lattice {
    /// A lattice; `sites` has one or two entries.
    ///
    /// # Panics
    /// If `sites` is empty or has more than two entries.
    pub fn new(sites: Vec<usize>, spacing: f64, boundary: Boundary) -> Lattice {
        assert!(
            matches!(sites.len(), 1 | 2),
            "a lattice is 1-D or 2-D, got {} dimensions",
            sites.len()
        );
        Lattice {
            sites,
            spacing,
            boundary,
        }
    }

    /// Sites per dimension.
    pub fn sites(&self) -> &[usize] {
        &self.sites
    }

    /// Number of dimensions (1 or 2).
    pub fn dims(&self) -> usize {
        self.sites.len()
    }

    /// Total number of sites.
    pub fn num_sites(&self) -> usize {
        self.sites.iter().product()
    }

    /// The spacing `a`.
    pub fn spacing(&self) -> f64 {
        self.spacing
    }

    /// The boundary condition.
    pub fn boundary(&self) -> Boundary {
        self.boundary
    }

    /// The volume of one cell, `a^d`: `L = Σ_sites a^d · density`.
    pub fn cell_volume(&self) -> f64 {
        self.spacing.powi(self.dims() as i32)
    }

    /// `(i, j)` of a site (`j = 0` in 1-D).
    pub fn site_indices(&self, site: usize) -> [usize; 2] {
        match self.sites[..] {
            [_] => [site, 0],
            [_, ny] => [site / ny, site % ny],
            _ => unreachable!(),
        }
    }

    /// The site index of `(i, j)`.
    pub fn site(&self, i: usize, j: usize) -> usize {
        match self.sites[..] {
            [_] => i,
            [_, ny] => i * ny + j,
            _ => unreachable!(),
        }
    }

    /// Position `[x, y]` of a site (`y = 0` in 1-D).
    pub fn position(&self, site: usize) -> [f64; 2] {
        let [i, j] = self.site_indices(site);
        [i as f64 * self.spacing, j as f64 * self.spacing]
    }

    /// The forward neighbour of `site` along dimension `dim`, `None` at an edge that is not
    /// periodic.
    pub fn neighbour(&self, site: usize, dim: usize) -> Option<usize> {
        let [i, j] = self.site_indices(site);
        let n = self.sites[dim];
        let k = if dim == 0 { i } else { j };
        let next = if k + 1 < n {
            k + 1
        } else if self.boundary == Boundary::Periodic {
            0
        } else {
            return None;
        };
        Some(if dim == 0 {
            self.site(next, j)
        } else {
            self.site(i, next)
        })
    }

    /// Ghost sites: with a fixed boundary, the sites one spacing before the first row (and
    /// column) of the lattice, where the field is 0 and whose forward difference reaches into
    /// the lattice. (The sites beyond the last row are covered by the edge sites' forward
    /// differences towards 0.) 1-D: 1; 2-D: `nx + ny`; other boundaries: 0.
    pub fn ghosts(&self) -> usize {
        if self.boundary != Boundary::Fixed {
            return 0;
        }
        match self.sites[..] {
            [_] => 1,
            [nx, ny] => nx + ny,
            _ => unreachable!(),
        }
    }

    /// Ghost `g`: the lattice site its forward difference reaches, the dimension of that
    /// difference, and the ghost's position.
    pub fn ghost(&self, g: usize) -> (usize, usize, [f64; 2]) {
        let a = self.spacing;
        match self.sites[..] {
            [_] => (0, 0, [-a, 0.0]),
            [_, ny] if g < ny => (self.site(0, g), 0, [-a, g as f64 * a]),
            [_, ny] => {
                let i = g - ny;
                (self.site(i, 0), 1, [i as f64 * a, -a])
            }
            _ => unreachable!(),
        }
    }

    /// The site's name suffix: `_i` in 1-D, `_i_j` in 2-D.
    pub fn suffix(&self, site: usize) -> String {
        match self.sites[..] {
            [_] => format!("_{site}"),
            _ => {
                let [i, j] = self.site_indices(site);
                format!("_{i}_{j}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_in_two_dimensions() {
        let torus = Lattice::new(vec![3, 4], 1.0, Boundary::Periodic);
        assert_eq!(torus.neighbour(torus.site(2, 1), 0), Some(torus.site(0, 1)));
        assert_eq!(torus.neighbour(torus.site(1, 3), 1), Some(torus.site(1, 0)));
        let plate = Lattice::new(vec![3, 4], 1.0, Boundary::Free);
        assert_eq!(plate.neighbour(plate.site(2, 1), 0), None);
        assert_eq!(plate.neighbour(plate.site(1, 2), 1), Some(plate.site(1, 3)));
        let fixed = Lattice::new(vec![3, 4], 0.5, Boundary::Fixed);
        assert_eq!(fixed.ghosts(), 7);
        assert_eq!(fixed.ghost(5), (fixed.site(1, 0), 1, [0.5, -0.5]));
        assert_eq!(fixed.suffix(fixed.site(2, 3)), "_2_3");
    }
}
