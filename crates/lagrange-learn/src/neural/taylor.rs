//! The batched forward-Taylor pass of an [`Mlp`] and its reverse pass over the weights.
//!
//! **Why written here.** The loss of a Lagrangian network contains second derivatives of the
//! network with respect to its inputs (the mass matrix `∂²L/∂q̇²` and the mixed block), and the
//! optimizer needs the gradient of that loss with respect to the weights: a second derivative
//! inside a first. No Rust ML framework differentiates twice in reverse (burn and candle are
//! first-order; `std::autodiff` is nightly). So the input derivatives are carried *forward*
//! through the layers as extra columns ("channels") of every activation matrix, and the weight
//! gradient is one hand-derived *reverse* sweep over those channels. Every layer is then one
//! GEMM over `batch × channels` columns, which is where the time goes; the GEMM is
//! `matrixmultiply`'s (no system BLAS needed). Measured against burn's forward Hessian
//! propagation (12 ms per Adam step for 2×128, batch 256, f32 on the 2-core development machine)
//! this layout is several times faster (see `bench/README.md`).
//!
//! **Channels.** For every sample the pass carries, per unit, the value `a`, first-order
//! tangents `a_k = ∂a/∂u_k` along `first` input directions `u_k`, and second-order channels
//! `a_s = ∂²a/∂u_i∂u_j` for the listed pairs `s = (i, j)` only. Through `z = W x + b` and
//! `a = σ(z)`:
//!
//! ```text
//! z₀ = W x₀ + b      z_k = W x_k      z_s = W x_s
//! a₀ = σ(z₀)         a_k = σ'(z₀) z_k   a_s = σ''(z₀) z_i z_j + σ'(z₀) z_s
//! ```
//!
//! Layout: the activations of a layer are a row-major `width × (batch · K)` matrix whose column
//! `b·K + c` is channel `c` of sample `b` (`K = 1 + first + pairs`, channel 0 the value).

use super::mlp::Mlp;
use num_traits::Float;
use std::fmt::Debug;
use std::ops::AddAssign;

/// A floating-point type the pass runs in (`f32` or `f64`).
pub trait Real: Float + AddAssign + Send + Sync + Default + Debug + 'static {
    /// From `f64` (rounding for `f32`).
    fn of(x: f64) -> Self;
    /// `c ← α·a·b + β·c` for an `m × k` matrix `a` and a `k × n` matrix `b`, each given by its
    /// row and column strides.
    #[allow(clippy::too_many_arguments)]
    fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        a: &[Self],
        a_strides: (usize, usize),
        b: &[Self],
        b_strides: (usize, usize),
        beta: Self,
        c: &mut [Self],
        c_strides: (usize, usize),
    );
}

/// The largest index a strided `rows × cols` matrix touches, plus one.
fn extent(rows: usize, cols: usize, (rs, cs): (usize, usize)) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs + 1
    }
}

macro_rules! real {
    ($t:ty, $gemm:ident) => {
        impl Real for $t {
            #[inline]
            fn of(x: f64) -> Self {
                x as $t
            }
            fn gemm_raw(
                m: usize,
                k: usize,
                n: usize,
                a: &[Self],
                a_strides: (usize, usize),
                b: &[Self],
                b_strides: (usize, usize),
                beta: Self,
                c: &mut [Self],
                c_strides: (usize, usize),
            ) {
                // the bounds the unsafe call relies on, checked once per call (cheap next to it)
                assert!(extent(m, k, a_strides) <= a.len());
                assert!(extent(k, n, b_strides) <= b.len());
                assert!(extent(m, n, c_strides) <= c.len());
                let s = |x: usize| x as isize;
                // SAFETY: every index the kernel reads or writes is below the extents checked
                // above; `c` is exclusively borrowed and does not alias `a` or `b`.
                unsafe {
                    matrixmultiply::$gemm(
                        m,
                        k,
                        n,
                        1.0,
                        a.as_ptr(),
                        s(a_strides.0),
                        s(a_strides.1),
                        b.as_ptr(),
                        s(b_strides.0),
                        s(b_strides.1),
                        beta,
                        c.as_mut_ptr(),
                        s(c_strides.0),
                        s(c_strides.1),
                    );
                }
            }
        }
    };
}
real!(f32, sgemm);
real!(f64, dgemm);

/// Which input derivatives the pass carries (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    /// Number of first-order input directions.
    pub first: usize,
    /// Second-order channels, as pairs of first-order directions.
    pub pairs: Vec<(usize, usize)>,
}

impl Channels {
    /// Channels per sample: value, first-order, second-order.
    pub fn width(&self) -> usize {
        1 + self.first + self.pairs.len()
    }
}

/// Buffers of one batched pass, reused across calls.
#[derive(Debug, Default, Clone)]
pub struct Workspace<T> {
    cols: usize,
    /// Input of each layer (`xs[0]` is the network input, filled by the caller).
    xs: Vec<Vec<T>>,
    /// Pre-activations of the hidden layers.
    zs: Vec<Vec<T>>,
    /// `σ'`, `σ''`, `σ'''` at each hidden unit and sample, kept from the forward pass for the
    /// reverse one (the transcendental functions are a fifth of the time otherwise).
    ds: Vec<Vec<T>>,
    /// Output of the last layer (`outputs × cols`).
    out: Vec<T>,
    bar_x: Vec<T>,
    bar_z: Vec<T>,
}

impl<T: Real> Workspace<T> {
    /// Sizes the buffers for `batch` samples and returns the input matrix to fill
    /// (`inputs × batch·K`, zeroed).
    pub fn prepare(&mut self, mlp: &Mlp, channels: &Channels, batch: usize) -> &mut [T] {
        let cols = batch * channels.width();
        self.cols = cols;
        let layers = mlp.layers();
        self.xs.resize_with(layers, Vec::new);
        self.zs.resize_with(layers - 1, Vec::new);
        for (l, x) in self.xs.iter_mut().enumerate() {
            x.resize(mlp.sizes[l] * cols, T::zero());
        }
        for (l, z) in self.zs.iter_mut().enumerate() {
            z.resize(mlp.sizes[l + 1] * cols, T::zero());
        }
        self.ds.resize_with(layers - 1, Vec::new);
        for (l, d) in self.ds.iter_mut().enumerate() {
            d.resize(mlp.sizes[l + 1] * batch * 3, T::zero());
        }
        self.out.resize(mlp.sizes[layers] * cols, T::zero());
        let widest = mlp.sizes.iter().copied().max().unwrap_or(0);
        self.bar_x.resize(widest * cols, T::zero());
        self.bar_z.resize(widest * cols, T::zero());
        let input = &mut self.xs[0];
        input.iter_mut().for_each(|x| *x = T::zero());
        input
    }

    /// Columns of the current batch (`batch · K`).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The output matrix (`outputs × cols`) of the last [`forward`].
    pub fn output(&self) -> &[T] {
        &self.out
    }
}

/// Runs the network over the input prepared in `ws` (see [`Workspace::prepare`]).
pub fn forward<T: Real>(mlp: &Mlp, params: &[T], channels: &Channels, ws: &mut Workspace<T>) {
    let cols = ws.cols;
    let k = channels.width();
    let slots = mlp.slots();
    for (l, slot) in slots.iter().enumerate() {
        let last = l + 1 == slots.len();
        let w = &params[slot.weights..slot.bias];
        let bias = &params[slot.bias..slot.bias + slot.outputs];
        let (head, tail) = ws.xs.split_at_mut(l + 1);
        let x = &head[l];
        let z = if last { &mut ws.out } else { &mut ws.zs[l] };
        T::gemm_raw(
            slot.outputs,
            slot.inputs,
            cols,
            w,
            (slot.inputs, 1),
            x,
            (cols, 1),
            T::zero(),
            z,
            (cols, 1),
        );
        for (o, &b) in bias.iter().enumerate() {
            let row = &mut z[o * cols..(o + 1) * cols];
            for c in (0..cols).step_by(k) {
                row[c] += b;
            }
        }
        if !last {
            let a = &mut tail[0];
            let d = &mut ws.ds[l];
            for ((zc, ac), dc) in z
                .chunks_exact(k)
                .zip(a.chunks_exact_mut(k))
                .zip(d.chunks_exact_mut(3))
            {
                activate(mlp, channels, zc, ac, dc);
            }
        }
    }
}

#[inline]
fn activate<T: Real>(mlp: &Mlp, ch: &Channels, z: &[T], a: &mut [T], keep: &mut [T]) {
    let [f, d1, d2, d3] = mlp.activation.derivatives(z[0]);
    keep[0] = d1;
    keep[1] = d2;
    keep[2] = d3;
    a[0] = f;
    let t = ch.first;
    for k in 1..=t {
        a[k] = d1 * z[k];
    }
    for (s, &(i, j)) in ch.pairs.iter().enumerate() {
        let c = 1 + t + s;
        a[c] = d2 * z[1 + i] * z[1 + j] + d1 * z[c];
    }
}

#[inline]
fn activate_backward<T: Real>(ch: &Channels, d: &[T], z: &[T], a_bar: &[T], z_bar: &mut [T]) {
    let (d1, d2, d3) = (d[0], d[1], d[2]);
    let t = ch.first;
    let mut bar0 = d1 * a_bar[0];
    for k in 1..=t {
        z_bar[k] = d1 * a_bar[k];
        bar0 += d2 * z[k] * a_bar[k];
    }
    for (s, &(i, j)) in ch.pairs.iter().enumerate() {
        let c = 1 + t + s;
        let ab = a_bar[c];
        z_bar[c] = d1 * ab;
        z_bar[1 + i] += d2 * z[1 + j] * ab;
        z_bar[1 + j] += d2 * z[1 + i] * ab;
        bar0 += (d3 * z[1 + i] * z[1 + j] + d2 * z[c]) * ab;
    }
    z_bar[0] = bar0;
}

/// Adds to `grad` the gradient with respect to the parameters of `Σ out_bar ⊙ output`, for the
/// pass last run by [`forward`] in `ws` (`out_bar` has the output's shape).
pub fn backward<T: Real>(
    mlp: &Mlp,
    params: &[T],
    channels: &Channels,
    ws: &mut Workspace<T>,
    out_bar: &[T],
    grad: &mut [T],
) {
    let cols = ws.cols;
    let k = channels.width();
    let slots = mlp.slots();
    let outputs = slots[slots.len() - 1].outputs;
    ws.bar_z[..outputs * cols].copy_from_slice(&out_bar[..outputs * cols]);
    for l in (0..slots.len()).rev() {
        let slot = slots[l];
        let z_bar = &ws.bar_z[..slot.outputs * cols];
        // W̄ += Z̄ Xᵀ, over every channel of every sample
        T::gemm_raw(
            slot.outputs,
            cols,
            slot.inputs,
            z_bar,
            (cols, 1),
            &ws.xs[l],
            (1, cols),
            T::one(),
            &mut grad[slot.weights..slot.bias],
            (slot.inputs, 1),
        );
        // b̄ += Σ over samples of the value channel (the bias enters no derivative)
        for o in 0..slot.outputs {
            let row = &z_bar[o * cols..(o + 1) * cols];
            let mut sum = T::zero();
            for c in (0..cols).step_by(k) {
                sum += row[c];
            }
            grad[slot.bias + o] += sum;
        }
        if l == 0 {
            break;
        }
        // X̄ = Wᵀ Z̄, then through the activation of layer l − 1
        T::gemm_raw(
            slot.inputs,
            slot.outputs,
            cols,
            &params[slot.weights..slot.bias],
            (1, slot.inputs),
            z_bar,
            (cols, 1),
            T::zero(),
            &mut ws.bar_x[..slot.inputs * cols],
            (cols, 1),
        );
        let z = &ws.zs[l - 1];
        let d = &ws.ds[l - 1];
        let (a_bar, z_bar) = (&ws.bar_x[..slot.inputs * cols], &mut ws.bar_z);
        for (((zc, ac), bc), dc) in z
            .chunks_exact(k)
            .zip(a_bar.chunks_exact(k))
            .zip(z_bar[..slot.inputs * cols].chunks_exact_mut(k))
            .zip(d.chunks_exact(3))
        {
            activate_backward(channels, dc, zc, ac, bc);
        }
    }
}
