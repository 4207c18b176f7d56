//! Adapters layer: mail — how messages look and the transports that deliver them.
//! May depend on the core, url, tracing and (for SMTP) lettre.

mod console;
mod smtp;
mod templates;

pub use console::ConsoleMailer;
pub use smtp::{InvalidMailUrl, SmtpConfigError, SmtpMailer, SmtpSettings};
pub use templates::{NotABaseUrl, RenderedMail, render, verification_link};
