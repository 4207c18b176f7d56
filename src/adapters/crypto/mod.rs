//! Adapters layer: cryptography — password hashing, access tokens, secrets and their digests,
//! and the clock. May depend on the core and on crypto crates; the core never names these types.

mod argon2_hashing;
mod clock;
mod hashing_threads;
mod jwt;
mod sealing;
mod secrets;
mod totp;

pub use argon2_hashing::{Argon2Hashing, Argon2Settings};
pub use clock::{ManualClock, SystemClock};
pub use jwt::{JwtAccessTokens, JwtConfigError, MIN_SECRET_BYTES};
pub use sealing::{Sealer, SealingKeyLength};
pub use secrets::{DigestKeyTooShort, HmacDigester, MIN_DIGEST_KEY_BYTES, OsSecretGenerator};
pub use totp::{SealedTotpEngine, TotpKeyLength};
