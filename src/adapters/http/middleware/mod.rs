//! Adapters layer (HTTP): the middleware every request passes through, outermost first:
//! client address → request log (id, span with the client address, metrics) → security
//! headers (and the HTML pages' policies) → problem fallback → panic guard → auth rate limit →
//! body limit. Each file holds one of them.

mod body_limit;
mod client_address;
mod page_policy;
mod problem_fallback;
mod rate_limit;
mod request_log;
mod security_headers;

pub use body_limit::BodyLimit;
pub use client_address::ResolveClient;
pub use page_policy::{account_page_policy, swagger_ui_policy};
pub use problem_fallback::{ProblemFallback, panic_problem};
pub use rate_limit::AuthRateLimit;
pub use request_log::RequestLog;
pub use security_headers::SecurityHeaders;
