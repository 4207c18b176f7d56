//! Adapters layer: sqlite (being written).
