//! `--device cpu|cuda[:N]`: where neural training computes its loss and gradient. The GPU
//! backend is the `lagrange-gpu` crate, compiled in with the `cuda` feature.

use anyhow::{Result, bail};
use lagrange_learn::Dataset;
use lagrange_learn::neural::{NeuralModel, TrainOptions, TrainProgress, TrainReport};

/// A validated `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// The CPU's cores (`--threads`).
    Cpu,
    /// CUDA device N.
    Cuda(usize),
}

impl Device {
    /// Parses `cpu`, `cuda` (device 0) or `cuda:N`; `cuda` in a build without the `cuda` feature
    /// is an error that says how to get it.
    pub fn parse(s: &str) -> Result<Self> {
        let device = match s {
            "cpu" => Self::Cpu,
            "cuda" => Self::Cuda(0),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Self::Cuda(n),
                _ => bail!("unknown --device '{s}' (expected cpu, cuda or cuda:N)"),
            },
        };
        if device != Self::Cpu && !cfg!(feature = "cuda") {
            bail!(
                "--device {s}: this lagrange was built without the GPU backend; rebuild with `cargo build --release -p lagrange-cli --features cuda` (it needs the NVIDIA driver and CUDA 13 at run time, nothing to build)"
            );
        }
        Ok(device)
    }

    /// Trains `model` on this device.
    pub fn train(
        self,
        model: &mut NeuralModel,
        data: &Dataset,
        options: &TrainOptions,
        observer: &mut dyn FnMut(&TrainProgress),
    ) -> Result<TrainReport, lagrange_learn::LearnError> {
        match self {
            Self::Cpu => lagrange_learn::neural::train(model, data, options, observer),
            #[cfg(feature = "cuda")]
            Self::Cuda(n) => lagrange_gpu::train(model, data, options, n, observer),
            #[cfg(not(feature = "cuda"))]
            Self::Cuda(_) => Err(lagrange_learn::LearnError::Device {
                reason: "this lagrange was built without the GPU backend (--features cuda)".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(Device::parse("cpu").unwrap(), Device::Cpu);
        for bad in ["gpu", "cuda:", "cuda:x", "CPU", ""] {
            let e = Device::parse(bad).unwrap_err().to_string();
            assert!(e.contains("expected cpu, cuda or cuda:N"), "{bad}: {e}");
        }
        if cfg!(feature = "cuda") {
            assert_eq!(Device::parse("cuda").unwrap(), Device::Cuda(0));
            assert_eq!(Device::parse("cuda:3").unwrap(), Device::Cuda(3));
        } else {
            let e = Device::parse("cuda").unwrap_err().to_string();
            assert!(e.contains("--features cuda"), "{e}");
        }
    }
}
