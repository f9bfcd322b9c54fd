//! [`CudaEngine`]: the loss and weight gradient of a neural Lagrangian on an NVIDIA GPU, the
//! same batched forward-Taylor pass and reverse pass as the CPU engine
//! (`lagrange_learn::neural::taylor`), with cuBLAS for the GEMMs and the kernels of
//! [`crate::kernels`] (compiled by NVRTC for this model) for everything else.
//!
//! The samples stay on the GPU; each step uploads the minibatch's indices and the weights and
//! downloads the gradient and three sums. Adam stays on the CPU in `f64`, shared with the CPU
//! engine (`lagrange_learn::neural::train_with`), so both engines run the same optimizer.
//!
//! Matrices are row-major `rows × cols` as on the CPU; cuBLAS is column-major, so each product
//! is written for the transposes (see the comments at each call).

use crate::kernels;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig, sys::cublasOperation_t};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DeviceRepr, LaunchConfig, PushKernelArg,
    ValidAsZeroBits,
};
use cudarc::nvrtc::{CompileOptions, compile_ptx_with_opts};
use lagrange_learn::LearnError;
use lagrange_learn::neural::taylor::Real;
use lagrange_learn::neural::{BatchLoss, GradientEngine, NeuralKind, NeuralModel, Samples};
use std::sync::Arc;

/// A floating-point type the GPU engine runs in (`f32` or `f64`).
pub trait GpuReal: Real + DeviceRepr + ValidAsZeroBits + Unpin
where
    CudaBlas: Gemm<Self>,
{
    /// Whether it is `f64` (the kernels' `T`).
    const DOUBLE: bool;
}
impl GpuReal for f32 {
    const DOUBLE: bool = false;
}
impl GpuReal for f64 {
    const DOUBLE: bool = true;
}

fn device_error(what: &str, e: impl std::fmt::Display) -> LearnError {
    LearnError::Device {
        reason: format!("{what}: {e}"),
    }
}

/// Whether the CUDA driver, cuBLAS and NVRTC libraries can be loaded (they are opened at run
/// time, so a build needs none of them); the error names the missing one.
pub fn check_libraries() -> Result<(), LearnError> {
    // SAFETY: each call only tries to open the shared library (dlopen) and reports whether it
    // was found; nothing from it is called.
    let found = unsafe {
        [
            (
                "the CUDA driver (libcuda.so)",
                cudarc::driver::sys::is_culib_present(),
            ),
            (
                "cuBLAS (libcublas.so)",
                cudarc::cublas::sys::is_culib_present(),
            ),
            (
                "NVRTC (libnvrtc.so)",
                cudarc::nvrtc::sys::is_culib_present(),
            ),
        ]
    };
    for (name, ok) in found {
        if !ok {
            return Err(LearnError::Device {
                reason: format!(
                    "{name} was not found: install the NVIDIA driver and CUDA 13, or add their folders to LD_LIBRARY_PATH (or train without --device cuda)"
                ),
            });
        }
    }
    Ok(())
}

/// Device buffers of one batched pass, sized for `capacity` samples.
struct Buffers<T> {
    idx: CudaSlice<i32>,
    /// Input of each layer (`xs[0]` the network input).
    xs: Vec<CudaSlice<T>>,
    /// Pre-activations of the hidden layers.
    zs: Vec<CudaSlice<T>>,
    /// `σ'`, `σ''`, `σ'''` of the hidden layers.
    ds: Vec<CudaSlice<T>>,
    /// Output of the last layer.
    out: CudaSlice<T>,
    bar_x: CudaSlice<T>,
    bar_z: CudaSlice<T>,
    params: CudaSlice<T>,
    grad: CudaSlice<T>,
    totals: CudaSlice<f64>,
}

/// The GPU engine for one model shape and one set of samples.
pub struct CudaEngine<T: GpuReal>
where
    CudaBlas: Gemm<T>,
{
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    functions: Vec<CudaFunction>,
    q: CudaSlice<f64>,
    q_dot: CudaSlice<f64>,
    q_ddot: CudaSlice<f64>,
    samples: usize,
    capacity: usize,
    buffers: Buffers<T>,
    host_params: Vec<T>,
    host_idx: Vec<i32>,
    name: String,
}

impl<T: GpuReal> CudaEngine<T>
where
    CudaBlas: Gemm<T>,
{
    /// Uploads `samples`, compiles the kernels for `model`'s shape and sizes the buffers for
    /// batches of up to `capacity` samples (larger index sets are evaluated in chunks).
    pub fn new(
        model: &NeuralModel,
        samples: &Samples,
        capacity: usize,
        device: usize,
    ) -> Result<Self, LearnError> {
        match model.kind {
            NeuralKind::Lnn | NeuralKind::Baseline => {}
            NeuralKind::Structured => {
                return Err(LearnError::Device {
                    reason: "the structured model's head runs on the CPU only: train it without --device cuda".into(),
                });
            }
        }
        if model.penalty.is_some() {
            return Err(LearnError::Device {
                reason: "the mass penalty (an eigenvalue per sample) runs on the CPU only: train without --mass-penalty, or without --device cuda".into(),
            });
        }
        if samples.len() > i32::MAX as usize {
            return Err(LearnError::Device {
                reason: format!(
                    "{} samples is more than the GPU engine indexes (2³¹)",
                    samples.len()
                ),
            });
        }
        check_libraries()?;
        let ctx = CudaContext::new(device)
            .map_err(|e| device_error(&format!("no CUDA device {device}"), e))?;
        let name = format!(
            "cuda:{device} ({})",
            ctx.name().unwrap_or_else(|_| "unknown GPU".into())
        );
        let stream = ctx.default_stream();
        let blas = CudaBlas::new(stream.clone()).map_err(|e| device_error("cuBLAS", e))?;
        let src = kernels::source(model, T::DOUBLE);
        let ptx = compile_ptx_with_opts(
            &src,
            CompileOptions {
                name: Some("lagrange_neural.cu".into()),
                // PTX for Turing and later (CUDA 13's oldest), JIT-compiled by the driver for the
                // GPU at hand; double-precision atomicAdd needs ≥ 6.0
                arch: Some("compute_75"),
                ..Default::default()
            },
        )
        .map_err(|e| device_error("NVRTC could not compile the kernels (a bug)", e))?;
        let module = ctx
            .load_module(ptx)
            .map_err(|e| device_error("loading the kernels", e))?;
        let functions = kernels::NAMES
            .iter()
            .map(|name| module.load_function(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| device_error("loading the kernels", e))?;
        let capacity = capacity.clamp(1, samples.len().max(1));
        let mlp = model.mlp();
        let k = model.channels().width();
        let cols = capacity * k;
        let widest = mlp.sizes.iter().copied().max().unwrap_or(0);
        let layers = mlp.layers();
        // bytes the buffers take, checked against the free memory before allocating
        let elems: usize = mlp.sizes[..layers].iter().sum::<usize>() * cols
            + mlp.sizes[1..layers].iter().sum::<usize>() * (cols + 3 * capacity)
            + mlp.sizes[layers] * cols
            + 2 * widest * cols
            + 2 * model.parameters.len();
        let need = elems * std::mem::size_of::<T>() + 3 * samples.q.len() * 8;
        if let Ok((free, _)) = cudarc::driver::result::mem_get_info()
            && need > free
        {
            return Err(LearnError::Device {
                reason: format!(
                    "a batch of {capacity} samples needs {:.1} GiB on the GPU and {:.1} GiB is free: lower --batch",
                    need as f64 / (1u64 << 30) as f64,
                    free as f64 / (1u64 << 30) as f64
                ),
            });
        }
        let alloc = |len: usize| -> Result<CudaSlice<T>, LearnError> {
            stream
                .alloc_zeros::<T>(len.max(1))
                .map_err(|e| device_error("allocating GPU memory", e))
        };
        let buffers = Buffers {
            idx: stream
                .alloc_zeros::<i32>(capacity)
                .map_err(|e| device_error("allocating GPU memory", e))?,
            xs: (0..layers)
                .map(|l| alloc(mlp.sizes[l] * cols))
                .collect::<Result<_, _>>()?,
            zs: (0..layers - 1)
                .map(|l| alloc(mlp.sizes[l + 1] * cols))
                .collect::<Result<_, _>>()?,
            ds: (0..layers - 1)
                .map(|l| alloc(mlp.sizes[l + 1] * capacity * 3))
                .collect::<Result<_, _>>()?,
            out: alloc(mlp.sizes[layers] * cols)?,
            bar_x: alloc(widest * cols)?,
            bar_z: alloc(widest * cols)?,
            params: alloc(model.parameters.len())?,
            grad: alloc(model.parameters.len())?,
            totals: stream
                .alloc_zeros::<f64>(3)
                .map_err(|e| device_error("allocating GPU memory", e))?,
        };
        let upload = |v: &[f64]| {
            stream
                .clone_htod(v)
                .map_err(|e| device_error("uploading the samples", e))
        };
        Ok(Self {
            q: upload(&samples.q)?,
            q_dot: upload(&samples.q_dot)?,
            q_ddot: upload(&samples.q_ddot)?,
            samples: samples.len(),
            capacity,
            buffers,
            host_params: Vec::new(),
            host_idx: Vec::new(),
            name,
            blas,
            functions,
            stream,
        })
    }

    /// Samples per pass.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// One pass over at most `capacity` samples; with `grad`, the gradient is left in
    /// `buffers.grad`. Returns the three sums (squared error, regular, singular).
    fn pass(
        &mut self,
        model: &NeuralModel,
        indices: &[usize],
        normalizer: usize,
        grad: bool,
    ) -> Result<[f64; 3], LearnError> {
        let mlp = model.mlp();
        let slots = mlp.slots();
        let k = model.channels().width();
        let n = model.dof();
        let batch = indices.len();
        let cols = batch * k;
        let (cols_ll, batch_i) = (cols as i64, batch as i32);
        let s = &self.stream;
        let b = &mut self.buffers;
        self.host_idx.clear();
        self.host_idx.extend(indices.iter().map(|&i| i as i32));
        s.memcpy_htod(&self.host_idx, &mut b.idx)
            .ctx("uploading the batch")?;
        s.memset_zeros(&mut b.xs[0]).ctx("memset")?;
        let per_sample = LaunchConfig::for_num_elems(batch as u32);
        // SAFETY: (this and every launch below) the kernels index only within the buffers sized
        // in `new` for `capacity ≥ batch` samples: rows × batch·K entries per matrix, batch·3
        // per unit in `ds`, `batch` indices, each index < the number of uploaded samples.
        unsafe {
            s.launch_builder(&self.functions[0])
                .arg(&b.idx)
                .arg(&batch_i)
                .arg(&self.q)
                .arg(&self.q_dot)
                .arg(&mut b.xs[0])
                .arg(&cols_ll)
                .launch(per_sample)
                .ctx("a kernel launch")?;
        }
        for (l, slot) in slots.iter().enumerate() {
            let last = l + 1 == slots.len();
            let (inputs, outputs) = (slot.inputs as i32, slot.outputs as i32);
            // Z = W X (row-major) is Zᵀ = Xᵀ Wᵀ (column-major): the X buffer read with
            // ld = cols is Xᵀ (cols × inputs), the W buffer read with ld = inputs is Wᵀ.
            let cfg = GemmConfig {
                transa: cublasOperation_t::CUBLAS_OP_N,
                transb: cublasOperation_t::CUBLAS_OP_N,
                m: cols as i32,
                n: outputs,
                k: inputs,
                alpha: T::one(),
                lda: cols as i32,
                ldb: inputs,
                beta: T::zero(),
                ldc: cols as i32,
            };
            let w = b.params.slice(slot.weights..slot.bias);
            let units = slot.outputs as u32 * batch as u32;
            let bias = slot.bias as i64;
            let elementwise = LaunchConfig::for_num_elems(units);
            let staged = staged_config(slot.outputs, batch, k, T::DOUBLE);
            if last {
                // SAFETY: see `GemmConfig` above; all three buffers hold the extents it reads.
                unsafe {
                    self.blas
                        .gemm(cfg, &b.xs[l], &w, &mut b.out)
                        .ctx("cuBLAS")?;
                    s.launch_builder(&self.functions[2])
                        .arg(&b.params)
                        .arg(&bias)
                        .arg(&mut b.out)
                        .arg(&outputs)
                        .arg(&batch_i)
                        .arg(&cols_ll)
                        .launch(elementwise)
                        .ctx("a kernel launch")?;
                }
            } else {
                let (head, tail) = b.xs.split_at_mut(l + 1);
                // SAFETY: as above.
                unsafe {
                    self.blas
                        .gemm(cfg, &head[l], &w, &mut b.zs[l])
                        .ctx("cuBLAS")?;
                    s.launch_builder(&self.functions[1])
                        .arg(&b.params)
                        .arg(&bias)
                        .arg(&mut b.zs[l])
                        .arg(&mut tail[0])
                        .arg(&mut b.ds[l])
                        .arg(&outputs)
                        .arg(&batch_i)
                        .arg(&cols_ll)
                        .launch(staged)
                        .ctx("a kernel launch")?;
                }
            }
        }
        // the head writes the outputs' adjoint straight into Z̄ of the last layer
        let outputs = slots[slots.len() - 1].outputs;
        s.memset_zeros(&mut b.totals).ctx("memset")?;
        s.memset_zeros(&mut b.bar_z.slice_mut(..outputs * cols))
            .ctx("memset")?;
        let weight = 1.0 / (normalizer * n) as f64;
        let with_grad = i32::from(grad);
        // SAFETY: see the first launch.
        unsafe {
            s.launch_builder(&self.functions[3])
                .arg(&b.out)
                .arg(&mut b.bar_z)
                .arg(&b.idx)
                .arg(&self.q_dot)
                .arg(&self.q_ddot)
                .arg(&batch_i)
                .arg(&cols_ll)
                .arg(&weight)
                .arg(&with_grad)
                .arg(&mut b.totals)
                .launch(per_sample)
                .ctx("a kernel launch")?;
        }
        if grad {
            // the bias kernels add their blocks' sums into it
            s.memset_zeros(&mut b.grad).ctx("memset")?;
            for l in (0..slots.len()).rev() {
                let slot = slots[l];
                let (inputs, outputs) = (slot.inputs as i32, slot.outputs as i32);
                // W̄ = Z̄ Xᵀ (row-major, outputs × inputs) is W̄ᵀ = X Z̄ᵀ (column-major,
                // inputs × outputs, ld = inputs): X is the X buffer (Xᵀ, ld = cols)
                // transposed, Z̄ᵀ the Z̄ buffer read with ld = cols.
                let cfg = GemmConfig {
                    transa: cublasOperation_t::CUBLAS_OP_T,
                    transb: cublasOperation_t::CUBLAS_OP_N,
                    m: inputs,
                    n: outputs,
                    k: cols as i32,
                    alpha: T::one(),
                    lda: cols as i32,
                    ldb: cols as i32,
                    beta: T::zero(),
                    ldc: inputs,
                };
                let bias = slot.bias as i64;
                // SAFETY: see the forward GEMMs and the first launch.
                unsafe {
                    let mut gw = b.grad.slice_mut(slot.weights..slot.bias);
                    self.blas
                        .gemm(cfg, &b.xs[l], &b.bar_z, &mut gw)
                        .ctx("cuBLAS")?;
                    s.launch_builder(&self.functions[4])
                        .arg(&b.bar_z)
                        .arg(&mut b.grad)
                        .arg(&bias)
                        .arg(&batch_i)
                        .arg(&cols_ll)
                        .launch(LaunchConfig {
                            grid_dim: (
                                batch.div_ceil(kernels::BIAS_SAMPLES_PER_BLOCK) as u32,
                                slot.outputs as u32,
                                1,
                            ),
                            block_dim: (256, 1, 1),
                            shared_mem_bytes: 0,
                        })
                        .ctx("a kernel launch")?;
                }
                if l == 0 {
                    break;
                }
                // X̄ = Wᵀ Z̄ (row-major, inputs × cols) is X̄ᵀ = Z̄ᵀ W (column-major,
                // cols × inputs, ld = cols): W is the W buffer (Wᵀ, ld = inputs) transposed.
                let cfg = GemmConfig {
                    transa: cublasOperation_t::CUBLAS_OP_N,
                    transb: cublasOperation_t::CUBLAS_OP_T,
                    m: cols as i32,
                    n: inputs,
                    k: outputs,
                    alpha: T::one(),
                    lda: cols as i32,
                    ldb: inputs,
                    beta: T::zero(),
                    ldc: cols as i32,
                };
                let w = b.params.slice(slot.weights..slot.bias);
                // SAFETY: as above.
                unsafe {
                    self.blas
                        .gemm(cfg, &b.bar_z, &w, &mut b.bar_x)
                        .ctx("cuBLAS")?;
                    s.launch_builder(&self.functions[5])
                        .arg(&b.ds[l - 1])
                        .arg(&b.zs[l - 1])
                        .arg(&b.bar_x)
                        .arg(&mut b.bar_z)
                        .arg(&inputs)
                        .arg(&batch_i)
                        .arg(&cols_ll)
                        .launch(staged_config(slot.inputs, batch, k, T::DOUBLE))
                        .ctx("a kernel launch")?;
                }
            }
        }
        let totals = s.clone_dtoh(&b.totals).ctx("downloading the loss")?;
        Ok([totals[0], totals[1], totals[2]])
    }
}

/// Grid of the staged elementwise kernels: (chunks of samples, units).
fn staged_config(units: usize, batch: usize, k: usize, double: bool) -> LaunchConfig {
    let spb = kernels::samples_per_block(k, double);
    LaunchConfig {
        grid_dim: (batch.div_ceil(spb) as u32, units as u32, 1),
        block_dim: (kernels::STAGED_THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Errors of the CUDA libraries as [`LearnError`]s naming the step that failed.
trait Context<V> {
    fn ctx(self, what: &str) -> Result<V, LearnError>;
}

impl<V, E: std::fmt::Debug> Context<V> for Result<V, E> {
    fn ctx(self, what: &str) -> Result<V, LearnError> {
        self.map_err(|e| LearnError::Device {
            reason: format!("{what} failed: {e:?}"),
        })
    }
}

impl<T: GpuReal> GradientEngine for CudaEngine<T>
where
    CudaBlas: Gemm<T>,
{
    fn name(&self) -> String {
        self.name.clone()
    }

    fn evaluate(
        &mut self,
        model: &NeuralModel,
        indices: &[usize],
        normalizer: usize,
        mut grad: Option<&mut [f64]>,
    ) -> Result<BatchLoss, LearnError> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.samples) {
            return Err(LearnError::Device {
                reason: format!("sample index {bad} out of range (a bug)"),
            });
        }
        self.host_params.clear();
        self.host_params
            .extend(model.parameters.iter().map(|&p| T::of(p)));
        self.stream
            .memcpy_htod(&self.host_params, &mut self.buffers.params)
            .map_err(|e| device_error("uploading the weights", e))?;
        if let Some(g) = grad.as_deref_mut() {
            g.iter_mut().for_each(|x| *x = 0.0);
        }
        let n = model.dof();
        let mut loss = BatchLoss::default();
        for chunk in indices.chunks(self.capacity) {
            let [se, regular, singular] = self.pass(model, chunk, normalizer, grad.is_some())?;
            loss.merge(&BatchLoss {
                objective: se / (normalizer * n) as f64,
                squared_error: se,
                regular: regular as usize,
                singular: singular as usize,
                penalty: 0.0,
            });
            if let Some(g) = grad.as_deref_mut() {
                let part = self
                    .stream
                    .clone_dtoh(&self.buffers.grad)
                    .map_err(|e| device_error("downloading the gradient", e))?;
                for (gi, pi) in g.iter_mut().zip(part) {
                    *gi += pi.to_f64().unwrap_or(f64::NAN);
                }
            }
        }
        Ok(loss)
    }
}
