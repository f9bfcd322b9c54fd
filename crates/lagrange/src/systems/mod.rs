//! A library of classic systems, one per file, each with its hand-derived EOM and exact
//! solution where one exists (test oracles), and a registry by name.
