//! Cranelift code generation (in progress).
