//! Learning Lagrangians from (noisy) data: datasets, models, losses, optimizers, landscapes.
