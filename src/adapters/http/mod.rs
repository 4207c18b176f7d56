//! Adapters layer: http (being written).
