//! Symbolic differentiation (in progress).
