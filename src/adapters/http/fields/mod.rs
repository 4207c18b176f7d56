//! Adapters layer (HTTP): JSON field types that say exactly what the contract says, where
//! poem-openapi's own types are looser (a number taken for a string, `null` taken for absent)
//! or publish less than they accept.

mod nullable;
mod optional;
mod text;

pub use nullable::Nullable;
pub use optional::Optional;
pub use text::Text;
