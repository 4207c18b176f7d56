//! Core layer: digests of secrets (codes, tokens), the only form in which they are stored.

use subtle::ConstantTimeEq;

/// A keyed digest of a secret. Equality is constant-time, so comparing a submitted code with
/// the stored one reveals nothing through timing.
#[derive(Clone, Copy)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for SecretDigest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretDigest {}

/// Whether two secrets in text form are equal, in a time that does not depend on where they
/// differ (only on their lengths, which are public: a code's or a mac's length is fixed).
pub fn secrets_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl std::fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretDigest(<redacted>)")
    }
}
