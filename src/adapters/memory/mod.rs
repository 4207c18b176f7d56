//! Adapters layer: memory (being written).
