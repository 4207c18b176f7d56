//! Adapters layer: fresh secrets and their keyed digests, implementing
//! `core::ports::SecretGenerator` and `core::ports::SecretDigester`.
//! May depend on the core, rand, base64, hmac and sha2.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sha2::Sha256;
use thiserror::Error;

use crate::core::model::SecretDigest;
use crate::core::ports::{SecretDigester, SecretGenerator};

/// Random bytes in a URL token: 256 bits, beyond any guessing.
const URL_TOKEN_BYTES: usize = 32;
/// Recovery-code characters: lower-case letters and digits without `0 o 1 l i`, which people
/// misread for one another. 31 symbols, so each carries log2(31) ≈ 4.95 bits.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Two groups of five: 10 symbols, ≈ 49.5 bits — far beyond online guessing, which the
/// challenge's attempt limit caps at a handful of tries.
const RECOVERY_GROUP_LEN: usize = 5;

/// Secrets drawn from `rand::rng()`, the thread-local generator of rand 0.9: ChaCha12, a
/// cryptographically secure stream cipher, seeded from the operating system's CSPRNG
/// (`getrandom`) and reseeded from it periodically. It implements `CryptoRng`, the marker rand
/// gives only to generators fit for secrets, and it never blocks or allocates per draw.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsSecretGenerator;

impl SecretGenerator for OsSecretGenerator {
    fn numeric_code(&self, digits: u32) -> String {
        let mut rng = rand::rng();
        (0..digits).map(|_| random_digit(&mut rng)).collect()
    }

    fn url_token(&self) -> String {
        let mut bytes = [0u8; URL_TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn recovery_code(&self) -> String {
        let mut rng = rand::rng();
        let mut group = || -> String {
            (0..RECOVERY_GROUP_LEN)
                .map(|_| random_symbol(&mut rng, RECOVERY_ALPHABET))
                .collect()
        };
        let first = group();
        format!("{first}-{}", group())
    }
}

/// A symbol of `alphabet` (at most 256 long), each exactly equally likely: bytes at or above
/// the largest multiple of its length are drawn again, as in `random_digit`.
fn random_symbol(rng: &mut impl Rng, alphabet: &[u8]) -> char {
    let size = alphabet.len();
    let limit = 256 - 256 % size;
    loop {
        let byte = usize::from(rng.random::<u8>());
        if byte < limit {
            return char::from(alphabet[byte % size]);
        }
    }
}

/// A decimal digit, each exactly equally likely.
///
/// Rejection sampling rather than rand's `random_range`: in rand 0.9 that uses Canon's method,
/// documented as slightly biased. Here the 250 byte values below 250 split evenly, 25 per
/// digit, and the 6 above are drawn again, so no digit is favoured (no modulo bias).
fn random_digit(rng: &mut impl Rng) -> char {
    loop {
        let byte: u8 = rng.random();
        if byte < 250 {
            return char::from(b'0' + byte % 10);
        }
    }
}

/// The server key is shorter than the digest it keys.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("the digest key must be at least {MIN_DIGEST_KEY_BYTES} bytes, got {0}")]
pub struct DigestKeyTooShort(pub usize);

/// An HMAC-SHA256 key shorter than the hash output weakens it (RFC 2104 §3); and the key is
/// all that stands between a stolen 6-digit code digest and its million candidates.
pub const MIN_DIGEST_KEY_BYTES: usize = 32;

/// HMAC-SHA256 under a server key: without the key, a digest in a stolen database gives no
/// way to test candidate codes or tokens.
#[derive(Clone)]
pub struct HmacDigester {
    /// The MAC already keyed: each digest clones it instead of re-deriving the key pads.
    keyed: Hmac<Sha256>,
}

impl HmacDigester {
    pub fn new(key: &[u8]) -> Result<Self, DigestKeyTooShort> {
        if key.len() < MIN_DIGEST_KEY_BYTES {
            return Err(DigestKeyTooShort(key.len()));
        }
        // HMAC accepts keys of any length, so this cannot fail; the error is mapped rather
        // than unwrapped all the same.
        let keyed =
            Hmac::<Sha256>::new_from_slice(key).map_err(|_| DigestKeyTooShort(key.len()))?;
        Ok(Self { keyed })
    }
}

impl std::fmt::Debug for HmacDigester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacDigester(<key redacted>)")
    }
}

impl SecretDigester for HmacDigester {
    fn digest(&self, text: &str) -> SecretDigest {
        let mut mac = self.keyed.clone();
        mac.update(text.as_bytes());
        SecretDigest::from_bytes(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_numeric_code_has_the_requested_number_of_decimal_digits() {
        let code = OsSecretGenerator.numeric_code(6);

        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
    }

    #[test]
    fn a_numeric_code_may_start_with_zero() {
        // Each draw starts with 0 one time in ten; 2000 draws all missing it has odds 10^-91.
        let leading_zero_seen = (0..2000)
            .map(|_| OsSecretGenerator.numeric_code(6))
            .any(|code| code.starts_with('0'));

        assert!(leading_zero_seen);
    }

    #[test]
    fn every_digit_is_about_equally_likely() {
        let digits: String = (0..10_000)
            .map(|_| OsSecretGenerator.numeric_code(6))
            .collect();

        // 60,000 digits: each is expected 6,000 times with a standard deviation of about 73,
        // so these bounds (±16 deviations) only fail for a broken generator.
        for digit in '0'..='9' {
            let count = digits.chars().filter(|&c| c == digit).count();
            assert!(
                (4_800..=7_200).contains(&count),
                "{digit} came {count} times"
            );
        }
    }

    #[test]
    fn a_recovery_code_is_two_groups_of_five_unambiguous_characters() {
        let code = OsSecretGenerator.recovery_code();

        let (first, second) = code.split_once('-').unwrap();
        assert_eq!((first.len(), second.len()), (5, 5), "{code}");
        assert!(
            first
                .bytes()
                .chain(second.bytes())
                .all(|b| RECOVERY_ALPHABET.contains(&b)),
            "{code}"
        );
    }

    #[test]
    fn recovery_codes_do_not_repeat() {
        let codes: HashSet<String> = (0..1000)
            .map(|_| OsSecretGenerator.recovery_code())
            .collect();

        assert_eq!(codes.len(), 1000);
    }

    #[test]
    fn a_url_token_is_256_bits_of_unpadded_base64url() {
        let token = OsSecretGenerator.url_token();

        assert_eq!(token.len(), 43);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{token}"
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
    }

    #[test]
    fn url_tokens_do_not_repeat() {
        let tokens: HashSet<String> = (0..1000).map(|_| OsSecretGenerator.url_token()).collect();

        assert_eq!(tokens.len(), 1000);
    }

    fn key(byte: u8) -> Vec<u8> {
        vec![byte; MIN_DIGEST_KEY_BYTES]
    }

    #[test]
    fn the_same_text_under_the_same_key_gives_the_same_digest() {
        let digester = HmacDigester::new(&key(7)).unwrap();

        assert_eq!(digester.digest("123456"), digester.digest("123456"));
        assert_ne!(digester.digest("123456"), digester.digest("123457"));
    }

    #[test]
    fn another_key_gives_another_digest() {
        let ours = HmacDigester::new(&key(7)).unwrap();
        let theirs = HmacDigester::new(&key(8)).unwrap();

        assert_ne!(ours.digest("123456"), theirs.digest("123456"));
    }

    #[test]
    fn the_digest_is_standard_hmac_sha256() {
        // RFC 4231 test case 6: a 131-byte key, longer than the hash block.
        let digester = HmacDigester::new(&[0xaa; 131]).unwrap();

        let digest = digester.digest("Test Using Larger Than Block-Size Key - Hash Key First");

        let hex: String = digest
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn a_key_shorter_than_256_bits_is_refused() {
        assert_eq!(
            HmacDigester::new(&[1; 31]).unwrap_err(),
            DigestKeyTooShort(31)
        );
    }
}
