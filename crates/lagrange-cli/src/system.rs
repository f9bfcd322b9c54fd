//! Resolving the SYSTEM argument: a TOML file, a trained model file (`.json`, from `lagrange
//! train`) or a built-in name, behind one type. The resolution lives in
//! [`lagrange_learn::system`], shared with the Python bindings.

pub use lagrange_learn::system::{AnySystem, NeuralSystem, load};
