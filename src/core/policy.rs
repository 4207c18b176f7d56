//! Core layer: the numbers behind the security rules, in one place so they are reviewed together.

use chrono::Duration;

/// Lifetimes and limits of the account-security rules.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    /// How long an email-verification link works (API contract: 24 h).
    pub verification_ttl: Duration,
    /// How long an emailed login code works (API contract: 10 min).
    pub login_code_ttl: Duration,
    /// Digits of an emailed login code (API contract: 6).
    pub login_code_digits: u32,
    /// Attempts a login challenge allows before it is burned (API contract: 5).
    pub login_code_max_attempts: u32,
    /// Minimum time between two emailed codes for one challenge (API contract: at most 30 s).
    pub login_code_resend_cooldown: Duration,
    /// Absolute lifetime of a session and so of its refresh tokens.
    pub session_ttl: Duration,
    /// How long the refresh token just rotated away stays acceptable, so that two concurrent
    /// refreshes by one client do not look like token theft (API contract: at most 5 s).
    pub refresh_grace: Duration,
    /// Recovery codes handed out when TOTP is turned on or the codes regenerated.
    pub recovery_code_count: usize,
    /// How long a remembered device skips the second factor (API contract: 30 days). Not
    /// extended by use: a stolen device token dies on schedule.
    pub remembered_device_ttl: Duration,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        Self {
            verification_ttl: Duration::hours(24),
            login_code_ttl: Duration::minutes(10),
            login_code_digits: 6,
            login_code_max_attempts: 5,
            login_code_resend_cooldown: Duration::seconds(30),
            session_ttl: Duration::days(30),
            refresh_grace: Duration::seconds(5),
            recovery_code_count: 10,
            remembered_device_ttl: Duration::days(30),
        }
    }
}
