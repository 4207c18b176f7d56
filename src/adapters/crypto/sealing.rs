//! Adapters layer: sealing data at rest — ChaCha20-Poly1305 (ring) under a server key, with a
//! random nonce and a purpose tag. Used for TOTP secrets and for mails waiting in the outbox.
//! May depend on ring and rand.
//!
//! A sealed blob is `version (1 byte) || nonce (12) || ciphertext || tag (16)`; the purpose
//! tag is authenticated (AAD) but not stored, so a blob sealed for one purpose never opens
//! for another, even under the same key.

use anyhow::{Result, anyhow};
use rand::RngCore;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use thiserror::Error;

/// The first byte of a sealed blob: the sealing scheme, so a future key or cipher can be told
/// apart from this one.
const SEAL_VERSION: u8 = 1;

/// The key is not a ChaCha20-Poly1305 key.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("a sealing key must be 32 bytes, got {0}")]
pub struct SealingKeyLength(pub usize);

/// Seals and opens blobs for one purpose under one key.
pub struct Sealer {
    key: LessSafeKey,
    purpose: &'static [u8],
}

impl Sealer {
    /// `key`: 32 bytes, derived from the master secret for this purpose only; `purpose`: the
    /// authenticated tag (e.g. `allomedia/totp-secret/v1`).
    pub fn new(key: &[u8], purpose: &'static [u8]) -> Result<Self, SealingKeyLength> {
        let unbound =
            UnboundKey::new(&CHACHA20_POLY1305, key).map_err(|_| SealingKeyLength(key.len()))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            purpose,
        })
    }

    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>> {
        // A random 96-bit nonce per sealing: far below the 2^32 messages under one key where
        // random nonces start to risk a collision, for secrets and for mails alike.
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut in_out = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.purpose),
                &mut in_out,
            )
            .map_err(|_| anyhow!("sealing failed"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(SEAL_VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        let (version, rest) = sealed
            .split_first()
            .ok_or_else(|| anyhow!("empty sealed data"))?;
        if *version != SEAL_VERSION || rest.len() < NONCE_LEN {
            return Err(anyhow!("unknown sealed data format"));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| anyhow!("bad nonce in sealed data"))?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(self.purpose), &mut in_out)
            .map_err(|_| anyhow!("sealed data does not open (key changed or data altered)"))?;
        Ok(plain.to_vec())
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8; 32] = b"test sealing key of 32 bytes !!!";

    #[test]
    fn what_is_sealed_opens_and_is_not_readable_sealed() {
        let sealer = Sealer::new(KEY, b"test/v1").unwrap();

        let sealed = sealer.seal(b"login code 042137").unwrap();

        assert!(!sealed.windows(6).any(|w| w == b"042137"));
        assert_eq!(sealer.open(&sealed).unwrap(), b"login code 042137");
    }

    #[test]
    fn a_blob_sealed_for_another_purpose_or_key_or_altered_does_not_open() {
        let sealer = Sealer::new(KEY, b"test/v1").unwrap();
        let sealed = sealer.seal(b"secret").unwrap();
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;

        assert!(
            Sealer::new(KEY, b"other/v1")
                .unwrap()
                .open(&sealed)
                .is_err()
        );
        let other_key = Sealer::new(b"another sealing key of 32 bytes!", b"test/v1").unwrap();
        assert!(other_key.open(&sealed).is_err());
        assert!(sealer.open(&altered).is_err());
        assert!(sealer.open(&[]).is_err());
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused() {
        assert_eq!(
            Sealer::new(&[0; 16], b"test/v1").unwrap_err(),
            SealingKeyLength(16)
        );
    }
}
