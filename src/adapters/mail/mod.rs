//! Adapters layer: mail (being written).
