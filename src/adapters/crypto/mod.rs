//! Adapters layer: crypto (being written).
