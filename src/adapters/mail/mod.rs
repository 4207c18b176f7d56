//! Adapters layer: mail — how messages look, how they are sealed for the outbox, the
//! transports that deliver them and the sender that runs those transports.
//! May depend on the core, the crypto adapter's sealing, url, tracing, tokio and (for SMTP)
//! lettre.

mod console;
mod links;
mod sealing;
mod sender;
mod smtp;
mod templates;

pub use console::{ConsoleMailer, ConsoleTransport};
pub use links::{LinkTemplate, LinkTemplateError, MailLinks, NotABaseUrl};
pub use sealing::{MAIL_SEAL_PURPOSE, MailSealing};
pub use sender::{MailSender, SenderSettings, WakingMailer};
pub use smtp::{InvalidMailUrl, SmtpConfigError, SmtpSettings, SmtpTransport, parse_mail_from};
pub use templates::{RenderedMail, render};
