//! Time integrators: one method per file behind one trait, and a trajectory driver.
