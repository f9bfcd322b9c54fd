//! The CUDA C++ source of one model's kernels, generated with the model's shape baked in as
//! constants (coordinates, channels, pairs, input scaling), so that NVRTC unrolls the channel
//! loops as the CPU compiler does for the Rust loops of `lagrange_learn::neural::taylor`.
//!
//! Each kernel is the GPU twin of one loop of the CPU pass, and says which:
//! - `inputs`: the input channels (features and their tangents) of `NeuralModel::run_network`;
//! - `bias_activate`, `bias_add`: the bias and `taylor::activate` after each layer's GEMM;
//! - `head`: q̈, the residuals and the adjoint of the outputs (`NeuralModel::batch_loss`);
//! - `bias_grad`, `activate_backward`: the reverse pass of `taylor::backward`.
//!
//! The GEMMs themselves are cuBLAS calls ([`crate::engine`]).

use lagrange::mechanics::linalg::SINGULAR_RELATIVE_PIVOT;
use lagrange_learn::neural::model::upper_index;
use lagrange_learn::neural::{NeuralKind, NeuralModel, SmoothActivation};
use std::fmt::Write as _;

fn constant_array<V: std::fmt::Display>(src: &mut String, ty: &str, name: &str, values: &[V]) {
    // a zero-length array is not valid C++: pad with one unused entry
    let body = if values.is_empty() {
        "0".to_string()
    } else {
        values
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let len = values.len().max(1);
    let _ = writeln!(src, "__constant__ {ty} {name}[{len}] = {{{body}}};");
}

/// Doubles written so that C++ reads back the same value (Rust's `{:?}` is shortest round-trip).
fn doubles(values: &[f64]) -> Vec<String> {
    values
        .iter()
        .map(|v| {
            let s = format!("{v:?}");
            if s.contains(['.', 'e', 'E']) || s.contains("inf") || s.contains("NaN") {
                s
            } else {
                format!("{s}.0")
            }
        })
        .collect()
}

/// The kernels' source for `model` in `double` (f64) or `float` (f32).
pub fn source(model: &NeuralModel, double: bool) -> String {
    let n = model.dof();
    let ch = model.channels();
    let mlp = model.mlp();
    let scaling = &model.scaling;
    let mut s = String::new();
    let t = if double { "double" } else { "float" };
    let _ = writeln!(s, "typedef {t} T;");
    let _ = writeln!(s, "#define N {n}");
    let _ = writeln!(s, "#define K {}", ch.width());
    let _ = writeln!(s, "#define FIRST {}", ch.first);
    let _ = writeln!(s, "#define NPAIRS {}", ch.pairs.len());
    let _ = writeln!(s, "#define NP {}", n * (n + 1) / 2);
    let _ = writeln!(s, "#define PF {}", scaling.position_features());
    let _ = writeln!(s, "#define OUTPUTS {}", mlp.sizes[mlp.sizes.len() - 1]);
    let _ = writeln!(s, "#define PIVOT_FLOOR {:?}", SINGULAR_RELATIVE_PIVOT);
    let _ = writeln!(s, "#define SPB {}", samples_per_block(ch.width(), double));
    let kind = match model.kind {
        NeuralKind::Lnn => 0,
        NeuralKind::Structured => 1,
        NeuralKind::Baseline => 2,
    };
    let _ = writeln!(s, "#define KIND {kind}");
    let act = match model.activation {
        SmoothActivation::Softplus => 0,
        SmoothActivation::Tanh => 1,
        SmoothActivation::Sigmoid => 2,
    };
    let _ = writeln!(s, "#define ACTIVATION {act}");
    let pi: Vec<usize> = ch.pairs.iter().map(|p| p.0).collect();
    let pj: Vec<usize> = ch.pairs.iter().map(|p| p.1).collect();
    constant_array(&mut s, "int", "PAIR_I", &pi);
    constant_array(&mut s, "int", "PAIR_J", &pj);
    let upper: Vec<usize> = (0..n * n).map(|e| upper_index(n, e / n, e % n)).collect();
    constant_array(&mut s, "int", "UPPER", &upper);
    let angles: Vec<u8> = scaling.angles.iter().map(|&a| u8::from(a)).collect();
    constant_array(&mut s, "int", "ANGLE", &angles);
    constant_array(&mut s, "double", "QMEAN", &doubles(&scaling.q_mean));
    constant_array(&mut s, "double", "QSCALE", &doubles(&scaling.q_scale));
    constant_array(&mut s, "double", "VMEAN", &doubles(&scaling.q_dot_mean));
    constant_array(&mut s, "double", "VSCALE", &doubles(&scaling.q_dot_scale));
    constant_array(&mut s, "double", "OUT_SCALE", &doubles(&model.output_scale));
    s.push_str(BODY);
    s
}

/// The kernels, over the constants above. Indices into the `rows × batch·K` activation matrices
/// are 64-bit (a 65 536-sample LNN batch of width 4096 has more than 2³¹ entries).
const BODY: &str = r#"
__device__ __forceinline__ void derivatives(T x, T* f, T* d1, T* d2, T* d3) {
    const T one = (T)1, two = (T)2;
#if ACTIVATION == 0
    // softplus, as SmoothActivation::derivatives: one exp, one log
    T e = exp(-fabs(x));
    *f = fmax(x, (T)0) + log(one + e);
    T sg = x >= (T)0 ? one / (one + e) : e / (one + e);
    T d = sg * (one - sg);
    *d1 = sg; *d2 = d; *d3 = d * (one - two * sg);
#elif ACTIVATION == 1
    T th = tanh(x);
    T d = one - th * th;
    *f = th; *d1 = d; *d2 = -two * th * d; *d3 = d * ((T)6 * th * th - two);
#else
    T sg = one / (one + exp(-x));
    T d = sg * (one - sg);
    T u = one - two * sg;
    *f = sg; *d1 = d; *d2 = d * u; *d3 = d * u * u - two * d * d;
#endif
}

// NeuralModel::run_network, step 1: features of (q, q̇) and their tangents. x is zeroed.
extern "C" __global__ void inputs(const int* idx, int batch, const double* q, const double* qd,
                                  T* x, long long cols) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) return;
    long long s = idx[b];
    const double* qs = q + s * N;
    const double* vs = qd + s * N;
    long long c0 = (long long)b * K;
    int f = 0;
    for (int i = 0; i < N; i++) {
        if (ANGLE[i]) {
            x[f * cols + c0] = (T)sin(qs[i]);
            x[(f + 1) * cols + c0] = (T)cos(qs[i]);
            f += 2;
        } else {
            x[f * cols + c0] = (T)((qs[i] - QMEAN[i]) / QSCALE[i]);
            f += 1;
        }
    }
#if KIND != 1
    for (int i = 0; i < N; i++) x[(PF + i) * cols + c0] = (T)((vs[i] - VMEAN[i]) / VSCALE[i]);
#endif
#if KIND == 0
    for (int i = 0; i < N; i++) x[(PF + i) * cols + c0 + 1 + i] = (T)(1.0 / VSCALE[i]);
#endif
#if KIND != 2
    // position directions: channels 1+N+j (lnn) or 1+j (structured); lnn also v = Σ q̇ⱼ ∂/∂qⱼ
    const int qdir = KIND == 0 ? 1 + N : 1;
    int row = 0;
    for (int j = 0; j < N; j++) {
        if (ANGLE[j]) {
            double c = cos(qs[j]), sn = -sin(qs[j]);
            x[row * cols + c0 + qdir + j] += (T)c;
            x[(row + 1) * cols + c0 + qdir + j] += (T)sn;
#if KIND == 0
            x[row * cols + c0 + 1 + 2 * N] += (T)(c * vs[j]);
            x[(row + 1) * cols + c0 + 1 + 2 * N] += (T)(sn * vs[j]);
#endif
            row += 2;
        } else {
            double v = 1.0 / QSCALE[j];
            x[row * cols + c0 + qdir + j] += (T)v;
#if KIND == 0
            x[row * cols + c0 + 1 + 2 * N] += (T)(v * vs[j]);
#endif
            row += 1;
        }
    }
#endif
}

// taylor::forward after a hidden layer's GEMM: bias on the value channel, then taylor::activate.
// Block (chunk, unit): SPB consecutive samples of one unit, i.e. SPB·K consecutive entries of
// Z and A, staged through shared memory so that global loads and stores are coalesced (a
// thread per sample reading its K channels directly touches K cache lines per warp load).
extern "C" __global__ void bias_activate(const T* params, long long bias, T* z, T* a, T* d,
                                         int units, int batch, long long cols) {
    __shared__ T zs[SPB * K];
    __shared__ T as[SPB * K];
    int o = blockIdx.y;
    long long first = (long long)blockIdx.x * SPB;
    int count = (int)min((long long)SPB, batch - first);
    if (count <= 0) return;
    long long base = o * cols + first * K;
    int elems = count * K;
    for (int e = threadIdx.x; e < elems; e += blockDim.x) zs[e] = z[base + e];
    __syncthreads();
    for (int sm = threadIdx.x; sm < count; sm += blockDim.x) {
        T* zc = zs + sm * K;
        T* ac = as + sm * K;
        long long t = (long long)o * batch + first + sm;
        zc[0] += params[bias + o];
        z[base + sm * K] = zc[0];
        T f, d1, d2, d3;
        derivatives(zc[0], &f, &d1, &d2, &d3);
        d[t * 3] = d1; d[t * 3 + 1] = d2; d[t * 3 + 2] = d3;
        ac[0] = f;
#pragma unroll
        for (int k = 1; k <= FIRST; k++) ac[k] = d1 * zc[k];
#pragma unroll
        for (int p = 0; p < NPAIRS; p++) {
            int c = 1 + FIRST + p;
            ac[c] = d2 * zc[1 + PAIR_I[p]] * zc[1 + PAIR_J[p]] + d1 * zc[c];
        }
    }
    __syncthreads();
    for (int e = threadIdx.x; e < elems; e += blockDim.x) a[base + e] = as[e];
}

// taylor::forward after the output layer's GEMM: the bias only.
extern "C" __global__ void bias_add(const T* params, long long bias, T* z, int units, int batch,
                                    long long cols) {
    long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (t >= (long long)units * batch) return;
    int o = (int)(t / batch);
    long long b = t % batch;
    z[o * cols + b * K] += params[bias + o];
}

// Gaussian elimination with partial pivoting and the engine's singularity test
// (lagrange::mechanics::linalg::factor_in_place): false where M is singular.
__device__ bool solve(double* m, double* rhs) {
    double scale = 0.0;
    for (int e = 0; e < N * N; e++) scale = fmax(scale, fabs(m[e]));
    if (!(isfinite(scale) && scale > 0.0)) return false;
    for (int col = 0; col < N; col++) {
        int piv = col;
        double best = fabs(m[col * N + col]);
        for (int row = col + 1; row < N; row++) {
            double v = fabs(m[row * N + col]);
            if (v > best) { piv = row; best = v; }
        }
        if (isnan(best) || best <= PIVOT_FLOOR * scale) return false;
        if (piv != col) {
            for (int k = 0; k < N; k++) {
                double tmp = m[col * N + k]; m[col * N + k] = m[piv * N + k]; m[piv * N + k] = tmp;
            }
            double tmp = rhs[col]; rhs[col] = rhs[piv]; rhs[piv] = tmp;
        }
        double inv = 1.0 / m[col * N + col];
        for (int row = col + 1; row < N; row++) {
            double f = m[row * N + col] * inv;
            if (f == 0.0) continue;
            for (int k = col + 1; k < N; k++) m[row * N + k] -= f * m[col * N + k];
            rhs[row] -= f * rhs[col];
        }
    }
    for (int row = N - 1; row >= 0; row--) {
        double acc = rhs[row];
        for (int k = row + 1; k < N; k++) acc -= m[row * N + k] * rhs[k];
        rhs[row] = acc / m[row * N + row];
    }
    return true;
}

// NeuralModel::batch_loss, the head: q̈, the squared error (summed into totals[0], regular
// samples into totals[1], singular ones into totals[2]) and, with grad, the outputs' adjoint
// into bar (zeroed by the caller).
extern "C" __global__ void head(const T* out, T* bar, const int* idx, const double* qd_all,
                                const double* qdd_all, int batch, long long cols, double weight,
                                int grad, double* totals) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) return;
    long long s = idx[b];
    const double* target = qdd_all + s * N;
    long long c0 = (long long)b * K;
    double acc[N];
#if KIND == 0
    double m[N * N], lu[N * N];
    for (int e = 0; e < N * N; e++) m[e] = (double)out[c0 + 1 + FIRST + UPPER[e]];
    for (int i = 0; i < N; i++)
        acc[i] = (double)out[c0 + 1 + N + i] - (double)out[c0 + 1 + FIRST + NP + i];
    for (int e = 0; e < N * N; e++) lu[e] = m[e];
    bool ok = solve(lu, acc);
    for (int i = 0; i < N; i++) ok = ok && isfinite(acc[i]);
    if (!ok) { atomicAdd(&totals[2], 1.0); return; }
#else
    for (int i = 0; i < N; i++) {
        acc[i] = (double)out[i * cols + c0] * OUT_SCALE[i];
        if (!isfinite(acc[i])) { atomicAdd(&totals[2], 1.0); return; }
    }
#endif
    double se = 0.0;
    for (int i = 0; i < N; i++) se += (acc[i] - target[i]) * (acc[i] - target[i]);
    atomicAdd(&totals[0], se);
    atomicAdd(&totals[1], 1.0);
    if (!grad) return;
#if KIND == 0
    // λ = M⁻¹ ∂ℓ/∂q̈; ∂ℓ/∂(∂L/∂q) = λ, ∂ℓ/∂(Cq̇) = −λ, ∂ℓ/∂M = −λ q̈ᵀ (symmetrized)
    double lambda[N];
    for (int i = 0; i < N; i++) lambda[i] = 2.0 * weight * (acc[i] - target[i]);
    for (int e = 0; e < N * N; e++) lu[e] = m[e];
    if (!solve(lu, lambda)) return;
    for (int i = 0; i < N; i++) {
        bar[c0 + 1 + N + i] = (T)lambda[i];
        bar[c0 + 1 + FIRST + NP + i] = (T)(-lambda[i]);
        for (int j = i; j < N; j++) {
            double g = i == j ? -lambda[i] * acc[i] : -(lambda[i] * acc[j] + lambda[j] * acc[i]);
            bar[c0 + 1 + FIRST + UPPER[i * N + j]] = (T)g;
        }
    }
#else
    for (int i = 0; i < N; i++)
        bar[i * cols + c0] = (T)(2.0 * weight * (acc[i] - target[i]) * OUT_SCALE[i]);
#endif
}

// taylor::backward, b̄ = Σ over samples of the value channel of Z̄: block (chunk, unit) sums
// up to 256·BIAS_ROUNDS samples of one unit and adds the sum to grad (zeroed by the caller).
#define BIAS_ROUNDS 16
extern "C" __global__ void bias_grad(const T* zbar, T* grad, long long bias, int batch,
                                     long long cols) {
    __shared__ T part[256];
    int o = blockIdx.y;
    long long lo = (long long)blockIdx.x * 256 * BIAS_ROUNDS;
    long long hi = min(lo + 256 * BIAS_ROUNDS, (long long)batch);
    T sum = (T)0;
    for (long long b = lo + threadIdx.x; b < hi; b += blockDim.x) sum += zbar[o * cols + b * K];
    part[threadIdx.x] = sum;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(&grad[bias + o], part[0]);
}

// taylor::activate_backward: Z̄ of a hidden layer from its Ā, staged through shared memory
// as bias_activate is.
extern "C" __global__ void activate_backward(const T* d, const T* z, const T* abar, T* zbar,
                                             int units, int batch, long long cols) {
    __shared__ T zs[SPB * K];
    __shared__ T abs_[SPB * K];
    __shared__ T zbs[SPB * K];
    int o = blockIdx.y;
    long long first = (long long)blockIdx.x * SPB;
    int count = (int)min((long long)SPB, batch - first);
    if (count <= 0) return;
    long long base = o * cols + first * K;
    int elems = count * K;
    for (int e = threadIdx.x; e < elems; e += blockDim.x) {
        zs[e] = z[base + e];
        abs_[e] = abar[base + e];
    }
    __syncthreads();
    for (int sm = threadIdx.x; sm < count; sm += blockDim.x) {
        const T* zc = zs + sm * K;
        const T* ab = abs_ + sm * K;
        T* zb = zbs + sm * K;
        long long t = (long long)o * batch + first + sm;
        T d1 = d[t * 3], d2 = d[t * 3 + 1], d3 = d[t * 3 + 2];
        T bar0 = d1 * ab[0];
#pragma unroll
        for (int k = 1; k <= FIRST; k++) {
            zb[k] = d1 * ab[k];
            bar0 += d2 * zc[k] * ab[k];
        }
#pragma unroll
        for (int p = 0; p < NPAIRS; p++) {
            int c = 1 + FIRST + p, i = PAIR_I[p], j = PAIR_J[p];
            T av = ab[c];
            zb[c] = d1 * av;
            zb[1 + i] += d2 * zc[1 + j] * av;
            zb[1 + j] += d2 * zc[1 + i] * av;
            bar0 += (d3 * zc[1 + i] * zc[1 + j] + d2 * zc[c]) * av;
        }
        zb[0] = bar0;
    }
    __syncthreads();
    for (int e = threadIdx.x; e < elems; e += blockDim.x) zbar[base + e] = zbs[e];
}
"#;

/// Samples per block of the staged elementwise kernels: their channels fill at most 12 KiB of
/// shared memory per array (three arrays in `activate_backward`, under the 48 KiB a block gets
/// without opting in), at most 128.
pub fn samples_per_block(k: usize, double: bool) -> usize {
    let bytes = if double { 8 } else { 4 };
    (12 * 1024 / (k * bytes)).clamp(1, 128)
}

/// Threads per block of the staged elementwise kernels.
pub const STAGED_THREADS: u32 = 128;

/// Samples per block of `bias_grad` (256 threads × `BIAS_ROUNDS`).
pub const BIAS_SAMPLES_PER_BLOCK: usize = 256 * 16;

/// Kernel names, as [`crate::engine`] loads them.
pub const NAMES: [&str; 6] = [
    "inputs",
    "bias_activate",
    "bias_add",
    "head",
    "bias_grad",
    "activate_backward",
];

#[cfg(test)]
mod tests {
    use super::*;
    use lagrange_learn::neural::InputScaling;

    /// The generated constants are the model's: its channel pairs, its scaling (read back
    /// exactly), its kind. (The kernels themselves run only on a GPU: `tests/gpu.rs`.)
    #[test]
    fn constants_carry_the_model() {
        let mut scaling = InputScaling::identity(2);
        scaling.angles = vec![true, false];
        scaling.q_mean = vec![0.0, 0.1];
        scaling.q_scale = vec![1.0, 3.0];
        let model = NeuralModel::new(
            NeuralKind::Lnn,
            vec!["a".into(), "x".into()],
            8,
            2,
            SmoothActivation::Tanh,
            scaling,
            1,
        )
        .unwrap();
        let src = source(&model, false);
        assert!(src.starts_with("typedef float T;\n#define N 2\n"));
        // lnn, n = 2: K = 1 + (2n+1) + n(n+1)/2 + n = 11
        assert!(src.contains("#define K 11\n"));
        assert!(src.contains("#define PF 3\n"));
        assert!(src.contains("__constant__ int PAIR_I[5] = {0, 0, 1, 0, 1};"));
        assert!(src.contains("__constant__ int PAIR_J[5] = {0, 1, 1, 4, 4};"));
        assert!(src.contains("__constant__ int UPPER[4] = {0, 1, 1, 2};"));
        assert!(src.contains("__constant__ double QMEAN[2] = {0.0, 0.1};"));
        assert!(src.contains("#define ACTIVATION 1\n"));
        assert!(source(&model, true).starts_with("typedef double T;"));
    }

    /// Doubles survive the trip through text.
    #[test]
    fn doubles_round_trip() {
        let v = [1.0, -0.1, 1e-300, 123456789.0, std::f64::consts::PI];
        for (s, x) in doubles(&v).iter().zip(v) {
            assert_eq!(s.parse::<f64>().unwrap(), x);
            assert!(s.contains('.') || s.contains('e'));
        }
    }
}
