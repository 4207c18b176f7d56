//! Adapters layer: mail — how messages look and the transports that deliver them.
//! May depend on the core, url, tracing and (for SMTP) lettre.

mod console;
mod templates;

pub use console::ConsoleMailer;
pub use templates::{NotABaseUrl, RenderedMail, render, verification_link};
