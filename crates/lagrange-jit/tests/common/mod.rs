//! Helpers shared by the integration tests: tolerances, comparison, deterministic numbers.
#![allow(dead_code)]

/// Both sides are short sums of products of the same inputs (the compiled code reassociates
/// constant factors and folds M⁻¹): 1e-12 relative to the largest |q̈| (floor 1) leaves ~10⁴
/// ulps of headroom.
pub const REL: f64 = 1e-12;

pub fn assert_close(what: &str, got: &[f64], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = 1.0 + want.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rel * scale,
            "{what}: q̈[{i}] compiled {g} vs reference {w} (diff {:e})",
            (g - w).abs()
        );
    }
}

/// Deterministic uniform numbers in [lo, hi) (a 64-bit LCG: no dependence on the code tested).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (hi - lo) * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
    pub fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.next(lo, hi)).collect()
    }
}
