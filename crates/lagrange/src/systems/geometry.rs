//! What a system looks like in the plane: bodies as points that are functions of q, and how they
//! connect. Declared by the system (a built-in's [`System::geometry`](super::System::geometry)
//! or a TOML `[geometry]` table), never guessed from coordinate names, so an animation draws
//! the mechanism the author meant.

use std::fmt;
use std::sync::Arc;

/// Body positions `[x, y]` at the coordinates `q` (parameters already bound).
pub type Positions = Arc<dyn Fn(&[f64]) -> Vec<[f64; 2]> + Send + Sync>;

/// How two anchors are joined on the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A straight rigid rod.
    Rod,
    /// A spring, drawn as a zigzag.
    Spring,
}

/// A rod or spring between two anchors; `None` is the fixed pivot at the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub from: Option<usize>,
    pub to: Option<usize>,
    pub kind: LinkKind,
}

/// The planar picture of a system: `bodies` points computed by [`Geometry::positions`], the
/// links between them, and whether each body leaves a (fading) trail.
#[derive(Clone)]
pub struct Geometry {
    bodies: usize,
    positions: Positions,
    pub links: Vec<Link>,
    /// Draw the recent path of every body (orbits, drifts), not only its current place.
    pub trail: bool,
}

impl Geometry {
    /// `bodies` points placed by `positions` (which must return exactly that many).
    pub fn new(bodies: usize, positions: Positions) -> Self {
        Self {
            bodies,
            positions,
            links: Vec::new(),
            trail: false,
        }
    }

    /// Adds a link (builder style).
    pub fn link(mut self, from: Option<usize>, to: Option<usize>, kind: LinkKind) -> Self {
        self.links.push(Link { from, to, kind });
        self
    }

    /// Sets [`Geometry::trail`] (builder style).
    pub fn with_trail(mut self, trail: bool) -> Self {
        self.trail = trail;
        self
    }

    /// The number of bodies.
    pub fn bodies(&self) -> usize {
        self.bodies
    }

    /// Where the bodies are at the coordinates `q`.
    pub fn positions(&self, q: &[f64]) -> Vec<[f64; 2]> {
        (self.positions)(q)
    }

    /// Whether any link ends at the fixed pivot (the picture then marks the origin).
    pub fn has_pivot(&self) -> bool {
        self.links
            .iter()
            .any(|l| l.from.is_none() || l.to.is_none())
    }
}

/// The oblique (cabinet) projection of the point `(x, y, z)` onto the picture plane:
/// `X = x + ½ z cos 30°`, `Y = y + ½ z sin 30°`. The x-y plane is seen face on and true to scale;
/// z recedes up and to the right at 30°, foreshortened by half. A planar animation of a 3-D
/// motion (the cyclotron's helix, the drift of crossed fields) then shows its motion along z
/// instead of dropping it, and circles in the x-y plane stay circles.
pub fn oblique(x: f64, y: f64, z: f64) -> [f64; 2] {
    const DEPTH: f64 = 0.5;
    let (sin, cos) = 30f64.to_radians().sin_cos();
    [x + DEPTH * z * cos, y + DEPTH * z * sin]
}

impl fmt::Debug for Geometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Geometry")
            .field("bodies", &self.bodies)
            .field("links", &self.links)
            .field("trail", &self.trail)
            .finish_non_exhaustive()
    }
}
