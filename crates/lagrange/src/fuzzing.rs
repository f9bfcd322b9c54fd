//! The properties the fuzz targets in `fuzz/` check, as plain functions: each cargo-fuzz target
//! is one call to one of these, and `tests/fuzz_seeds.rs` replays the checked-in seed corpus
//! (`fuzz/seeds/<target>/`) through the same functions on the stable toolchain. Each function
//! panics when its property fails. Not part of the API.

use crate::expr::{Symbols, TextSystem, parse};
use crate::mechanics::EquationsOfMotion;
use crate::num_dual::Dual64;
use crate::{EomPath, Lagrangian, accelerations_with};

/// Target `parse`: the expression parser on arbitrary text. `parse` returns (never panics,
/// never overflows the stack); an error's column lies within the input (or one past its end);
/// a parsed expression evaluates over `f64` and dual numbers without panicking, and its printed
/// form parses back to an expression with the same value.
pub fn parse_expression(source: &str) {
    let symbols = Symbols::new(["x", "y"], ["m", "k"]);
    match parse(source, &symbols) {
        Err(e) => {
            assert!(
                e.column >= 1 && e.column <= source.chars().count() + 1,
                "{e} for {source:?}"
            );
        }
        Ok(expr) => {
            let (t, q, v, p) = (0.3, [0.7, -1.1], [0.2, 1.9], [1.5, 2.5]);
            let value = expr.eval_f64(t, &q, &v, &p);
            let d = |x: f64| Dual64::from(x);
            let dual = expr.eval(
                d(t),
                &[Dual64::new(q[0], 1.0), d(q[1])],
                &[d(v[0]), d(v[1])],
                &[d(p[0]), d(p[1])],
            );
            let same = |a: f64, b: f64| {
                a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
            };
            // Dual and f64 real parts agree only up to rounding (num-dual forms a/b as a·(1/b)
            // and x^n as x^(n−3)·x³), which ill-conditioned random input amplifies without bound;
            // agreement on well-conditioned input is what the property tests check.
            std::hint::black_box(dual);
            let text = expr.to_string();
            let again = parse(&text, &symbols)
                .unwrap_or_else(|e| panic!("{source:?} printed as {text:?}: {e}"));
            assert!(
                same(again.eval_f64(t, &q, &v, &p), value),
                "{source:?} printed as {text:?}"
            );
            let _ = expr.top_level_terms();
            let _ = expr.coordinates_used();
        }
    }
}

/// Target `system_file`: the TOML system-file loader on arbitrary text. Loading returns a
/// system or a one-line error, never panics, and a loaded system's TOML loads again.
pub fn system_file(source: &str) {
    match TextSystem::from_toml_str(source) {
        Err(e) => assert!(!e.to_string().contains('\n'), "multi-line error: {e}"),
        Ok(system) => {
            let text = system.to_toml_string();
            TextSystem::from_toml_str(&text)
                .unwrap_or_else(|e| panic!("round trip of {source:?}: {e}\n{text}"));
        }
    }
}

/// The bytes of a fuzz input, read one at a time (zeros after the end).
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    /// A number in [−2, 2].
    fn number(&mut self) -> f64 {
        (f64::from(self.byte()) - 127.5) / 63.75
    }
    /// A random expression of depth ≤ `depth` in `vars`, built from bounded pieces (no poles,
    /// no overflow on the bounded states used here).
    fn expression(&mut self, depth: u32, vars: &[String]) -> String {
        let choice = if depth == 0 {
            self.byte() % 2
        } else {
            self.byte() % 14
        };
        let sub = |b: &mut Self| b.expression(depth.saturating_sub(1), vars);
        match choice {
            0 => vars[usize::from(self.byte()) % vars.len()].clone(),
            1 => format!("({:.3})", self.number()),
            2 => format!("({} + {})", sub(self), sub(self)),
            3 => format!("({} - {})", sub(self), sub(self)),
            4 => format!("({} * {})", sub(self), sub(self)),
            5 => format!("sin({})", sub(self)),
            6 => format!("cos({})", sub(self)),
            7 => format!("atan({})", sub(self)),
            8 => format!("tanh({})", sub(self)),
            9 => format!("sqrt({}^2 + 1)", sub(self)),
            10 => format!("log({}^2 + 1)", sub(self)),
            11 => format!("({})^2", sub(self)),
            12 => format!("({} / (1 + ({})^2))", sub(self), sub(self)),
            _ => format!("(cos(t) * {})", sub(self)),
        }
    }
}

/// The text of a random system of `n` coordinates `q0 …` written as a sum of local terms, each
/// touching up to three neighbouring coordinates: a unit mass per coordinate, then potentials,
/// state-dependent masses ½ (1 + f(q)²) q̇ᵢ², velocity-linear (magnetic-like) terms f(q) q̇ⱼ and
/// velocity couplings c q̇ᵢ q̇ᵢ₊₁ with Σ|c| ≤ 0.8 per coordinate, so that M stays positive
/// definite (diagonal ≥ 1 dominating).
pub fn random_local_system(data: &[u8]) -> (String, usize) {
    let mut b = Bytes { data, pos: 0 };
    let n = 9 + usize::from(b.byte() % 8);
    let num_terms = 1 + usize::from(b.byte() % 24);
    let name = |i: usize| format!("q{i}");
    let mut terms: Vec<String> = (0..n).map(|i| format!("0.5*{}_dot^2", name(i))).collect();
    let mut coupling = vec![0.0_f64; n];
    for _ in 0..num_terms {
        let first = usize::from(b.byte()) % n;
        let window: Vec<String> = (first..(first + 3).min(n)).map(name).collect();
        let depth = u32::from(b.byte() % 4);
        match b.byte() % 4 {
            0 => terms.push(b.expression(depth, &window)),
            1 => {
                let v = &window[usize::from(b.byte()) % window.len()];
                let f = b.expression(depth, &window);
                terms.push(format!("0.5*(1 + ({f})^2)*{v}_dot^2"));
            }
            2 => {
                let v = &window[usize::from(b.byte()) % window.len()];
                let f = b.expression(depth, &window);
                terms.push(format!("({f})*{v}_dot"));
            }
            _ => {
                let c = 0.1 * b.number();
                if first + 1 < n
                    && coupling[first] + c.abs() <= 0.8
                    && coupling[first + 1] + c.abs() <= 0.8
                {
                    coupling[first] += c.abs();
                    coupling[first + 1] += c.abs();
                    terms.push(format!(
                        "({c:.4})*{}_dot*{}_dot",
                        name(first),
                        name(first + 1)
                    ));
                }
            }
        }
    }
    let coordinates: Vec<String> = (0..n).map(|i| format!("\"{}\"", name(i))).collect();
    let toml = format!(
        "coordinates = [{}]\nlagrangian = \"{}\"\n",
        coordinates.join(", "),
        terms.join(" + ")
    );
    (toml, b.pos)
}

/// Target `structured_dense`: a random text system written as a sum of local terms (see
/// [`random_local_system`]) at a random state gives the same q̈ on the dense path, the
/// structured (term-by-term, banded) path, and the evaluator integrators use
/// ([`EquationsOfMotion`], which keeps the term structure and band between calls).
pub fn structured_dense(data: &[u8]) {
    let (toml, used) = random_local_system(data);
    let system = TextSystem::from_toml_str(&toml)
        .unwrap_or_else(|e| panic!("generated system does not load: {e}\n{toml}"));
    let n = system.dof();
    if system.structure().local_terms == 0 {
        // not split into local terms (a group too large): nothing to compare
        return;
    }
    let mut b = Bytes {
        data,
        pos: used.min(data.len()),
    };
    let t = b.number();
    let q: Vec<f64> = (0..n).map(|_| b.number()).collect();
    let q_dot: Vec<f64> = (0..n).map(|_| b.number()).collect();
    let (mut dense, mut structured, mut cached) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let context = || format!("{toml}t = {t}, q = {q:?}, q_dot = {q_dot:?}");
    accelerations_with(EomPath::Dense, &system, t, &q, &q_dot, &mut dense)
        .unwrap_or_else(|e| panic!("dense: {e}\n{}", context()));
    accelerations_with(EomPath::Structured, &system, t, &q, &q_dot, &mut structured)
        .unwrap_or_else(|e| panic!("structured: {e}\n{}", context()));
    let mut eom = EquationsOfMotion::new(&system);
    // twice: the first call builds the cache (and factors a constant M), the second uses it
    for _ in 0..2 {
        eom.accelerations_into(t, &q, &q_dot, &mut cached)
            .unwrap_or_else(|e| panic!("EquationsOfMotion: {e}\n{}", context()));
    }
    // Same derivatives, different summation order and factorization: rounding only. M is
    // positive definite with eigenvalues ≥ 0.2, so the solves lose few digits.
    let scale = dense.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
    for (what, other) in [("structured", &structured), ("EquationsOfMotion", &cached)] {
        for (i, (x, y)) in dense.iter().zip(other).enumerate() {
            assert!(
                (x - y).abs() <= 1e-9 * scale,
                "q̈[{i}]: dense {x} vs {what} {y}\n{}",
                context()
            );
        }
    }
}
