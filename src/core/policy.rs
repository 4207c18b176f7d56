//! Core layer: the numbers behind the security rules, in one place so they are reviewed together.

use chrono::Duration;

/// Every security number of the core.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub auth: AuthPolicy,
    pub orders: OrderPolicy,
    pub retention: RetentionPolicy,
}

/// How long records nobody reads any more are kept before housekeeping deletes them, so that
/// unauthenticated requests cannot grow the database without bound (docs/security.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// How long an account whose address was never verified lives after registration. The
    /// verification link lives 24 h; a week leaves the owner time to ask for another one
    /// (which resending does), after which the address is free to register again.
    pub unverified_account_lifetime: Duration,
    /// How long audit events (failed logins included) are kept (`AUDIT_RETENTION_DAYS`).
    pub audit_retention: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            unverified_account_lifetime: Duration::days(7),
            audit_retention: Duration::days(365),
        }
    }
}

/// Limits of the order rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderPolicy {
    /// How many delivery attempts with a code one order allows: a courier mistyping gets a few
    /// tries, but a million codes cannot be walked through.
    pub delivery_code_max_attempts: u32,
}

impl Default for OrderPolicy {
    fn default() -> Self {
        Self {
            delivery_code_max_attempts: 5,
        }
    }
}

/// Lifetimes and limits of the account-security rules.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    /// How long an email-verification link works (API contract: 24 h).
    pub verification_ttl: Duration,
    /// How long a mailed password-reset token works (API contract: 1 h).
    pub password_reset_ttl: Duration,
    /// How long an emailed login code works (API contract: 10 min).
    pub login_code_ttl: Duration,
    /// Digits of an emailed login code (API contract: 6).
    pub login_code_digits: u32,
    /// Attempts a login challenge allows before it is burned (API contract: 5).
    pub login_code_max_attempts: u32,
    /// Minimum time between two emailed codes for one challenge (API contract: at most 30 s).
    pub login_code_resend_cooldown: Duration,
    /// How long an access token works. Short, because a stolen access token cannot be
    /// recalled from the client — only its session can be ended, which the server checks on
    /// every request anyway.
    pub access_token_ttl: Duration,
    /// Absolute lifetime of a session and so of its refresh tokens.
    pub session_ttl: Duration,
    /// Inactivity limit: a session whose refresh token has not been used (nor the session
    /// opened) for longer is ended at its next refresh (OWASP ASVS 5.0 V7.3.1; configured by
    /// `SESSION_IDLE_DAYS`).
    pub session_idle_limit: Duration,
    /// How long the refresh token just rotated away stays acceptable, so that two concurrent
    /// refreshes by one client do not look like token theft (API contract: at most 5 s).
    pub refresh_grace: Duration,
    /// Wrong passwords per account (or unknown email) FROM ONE CLIENT NETWORK (/24 IPv4, /64
    /// IPv6) before that network is locked out of the account (API contract: at most 10),
    /// then back-off up to 15 min (OWASP ASVS 6.3.1, NIST SP 800-63B §5.2.2). Keyed by network
    /// so that one address cannot lock an owner out from everywhere.
    pub password_lockout: LockoutRule,
    /// Wrong passwords per account from every network together before the account is in
    /// lockdown (NIST SP 800-63B: at most 100 consecutive failures per account). In lockdown
    /// only a network with no failure on the account, or a remembered device of it, is
    /// judged — so the owner still gets in while the guesses stay bounded (docs/security.md).
    pub password_account_ceiling: LockoutRule,
    /// Wrong second-factor codes per account, across its login challenges, before the second
    /// factor locks: a stolen password must not buy unlimited fresh challenges to guess in.
    pub second_factor_lockout: LockoutRule,
    /// How long the "this wasn't me" link mailed when an authenticator app is turned on
    /// works. Long enough for an owner back from a weekend; short, because until it expires
    /// a mailbox (plus a new password) can still turn the app off.
    pub totp_disown_ttl: Duration,
    /// Recovery codes handed out when TOTP is turned on or the codes regenerated.
    pub recovery_code_count: usize,
    /// How long a remembered device skips the second factor (API contract: 30 days). Not
    /// extended by use: a stolen device token dies on schedule.
    pub remembered_device_ttl: Duration,
}

/// When repeated failures lock a key, and for how long: the `max_attempts`-th attempt since
/// the last success locks it for `first_lock`; once a lock has passed, each further attempt
/// is judged alone and locks again for twice as long, up to `max_lock`. A key left alone for
/// `forget_after` starts afresh, so years of occasional typos never lock anybody.
/// The rule itself is `LockoutRule::judge_attempt`, in `core/model/lockout.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    pub max_attempts: u32,
    pub first_lock: Duration,
    pub max_lock: Duration,
    pub forget_after: Duration,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        Self {
            verification_ttl: Duration::hours(24),
            password_reset_ttl: Duration::hours(1),
            login_code_ttl: Duration::minutes(10),
            login_code_digits: 6,
            login_code_max_attempts: 5,
            login_code_resend_cooldown: Duration::seconds(30),
            access_token_ttl: Duration::minutes(15),
            session_ttl: Duration::days(30),
            session_idle_limit: Duration::days(7),
            refresh_grace: Duration::seconds(5),
            password_lockout: LockoutRule {
                max_attempts: 10,
                first_lock: Duration::minutes(1),
                max_lock: Duration::minutes(15),
                forget_after: Duration::hours(24),
            },
            password_account_ceiling: LockoutRule {
                max_attempts: 100,
                first_lock: Duration::hours(24),
                max_lock: Duration::hours(24),
                forget_after: Duration::hours(24),
            },
            second_factor_lockout: LockoutRule {
                max_attempts: 10,
                first_lock: Duration::minutes(1),
                max_lock: Duration::minutes(15),
                forget_after: Duration::hours(24),
            },
            totp_disown_ttl: Duration::hours(72),
            recovery_code_count: 10,
            remembered_device_ttl: Duration::days(30),
        }
    }
}
