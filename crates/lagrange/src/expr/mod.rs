//! Lagrangians as text: parser → expression graph → evaluation generic over the dual scalar.
