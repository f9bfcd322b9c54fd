//! The engine is generic over the inner scalar: a model whose parameters are dual numbers gets
//! exact parameter gradients of q̈ from the same EOM code (what learning relies on).
use lagrange::num_dual::{DualNum, DualSVec64};
use lagrange::*;
struct Model<S> {
    k: S,
}
impl<S: Scalar> LagrangianOver<S> for Model<S> {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian_over<D: Scalar + DualNum<InnerDual = S>>(&self, _t: D, q: &[D], qd: &[D]) -> D {
        qd[0] * qd[0] * 0.5 - q[0] * q[0] * D::from_re(self.k) * 0.5
    }
}
#[test]
fn nest() {
    let k = DualSVec64::<1>::from_re(2.5).derivative(0);
    let q = DualSVec64::<1>::from_re(0.4);
    let a = accelerations(&Model { k }, DualSVec64::<1>::from_re(0.0), &[q], &[q]).unwrap();
    // L = ½q̇² − ½kq² ⇒ q̈ = −k q (= −1 at k = 2.5, q = 0.4) and ∂q̈/∂k = −q = −0.4
    assert!((a[0].re + 1.0).abs() < 1e-14);
    assert!((a[0].eps.0.unwrap()[0] + 0.4).abs() < 1e-14);
}
