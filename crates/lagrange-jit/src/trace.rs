//! Tracing (in progress).
