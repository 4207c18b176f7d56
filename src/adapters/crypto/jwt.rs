//! Adapters layer: access tokens as HS256-signed JWTs in the RFC 9068 profile, implementing
//! `core::ports::AccessTokens`. May depend on the core, jsonwebtoken, serde, chrono and rand.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::core::model::{SessionId, UserId};
use crate::core::ports::{AccessClaims, AccessTokenError, AccessTokens, Clock, IssuedAccessToken};

/// RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output, 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;

/// The `typ` header of an access token (RFC 9068 §2.1), so that no other JWT signed with the
/// same key — an ID token, a future link token — can be replayed as one.
const ACCESS_TOKEN_TYPE: &str = "at+jwt";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum JwtConfigError {
    #[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes, got {0}")]
    SecretTooShort(usize),
    #[error("the access-token lifetime must be positive")]
    NonPositiveLifetime,
}

/// What an access token carries.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    /// The user id.
    sub: String,
    /// The session id, looked up on every request so that a revoked session's token is
    /// refused at once.
    sid: String,
    iat: i64,
    exp: i64,
    /// A random id, so that two tokens issued in the same second still differ.
    jti: String,
}

/// Issues and checks access tokens signed with HMAC-SHA256 under a server secret.
pub struct JwtAccessTokens {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    lifetime: Duration,
    clock: Arc<dyn Clock>,
}

impl JwtAccessTokens {
    pub fn new(
        secret: &[u8],
        issuer: String,
        audience: String,
        lifetime: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, JwtConfigError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(JwtConfigError::SecretTooShort(secret.len()));
        }
        if lifetime <= Duration::zero() {
            return Err(JwtConfigError::NonPositiveLifetime);
        }
        // Only HS256 is accepted, whatever the token's header claims: no `none`, no other
        // algorithm family, no stronger-looking HS512 made with the same secret.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is judged against the injected clock in `verify`, not the library's reading
        // of the system time, so that tests move time and every instant comes from one source.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        Ok(Self {
            encoding_key: EncodingKey::from_secret(secret),
            decoding_key: DecodingKey::from_secret(secret),
            validation,
            issuer,
            audience,
            lifetime,
            clock,
        })
    }
}

impl std::fmt::Debug for JwtAccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAccessTokens")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl AccessTokens for JwtAccessTokens {
    fn issue(
        &self,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<IssuedAccessToken, AccessTokenError> {
        let now = self.clock.now();
        // `exp` is a whole number of seconds; what the caller is told is what the token says.
        let expires_at = (now + self.lifetime).trunc_subsecs(0);
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: random_token_id(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding_key)
            .map_err(|error| AccessTokenError::Issue(error.into()))?;
        Ok(IssuedAccessToken { token, expires_at })
    }

    fn verify(&self, token: &str) -> Result<AccessClaims, AccessTokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding_key, &self.validation)
            .map_err(|_| AccessTokenError::Invalid)?;
        if !is_access_token_type(data.header.typ.as_deref()) {
            return Err(AccessTokenError::Invalid);
        }
        let claims = data.claims;
        let expires_at =
            DateTime::<Utc>::from_timestamp(claims.exp, 0).ok_or(AccessTokenError::Invalid)?;
        // RFC 7519 §4.1.4: the token MUST NOT be accepted on or after its expiry. No leeway:
        // issuer and verifier are one service reading one clock.
        if self.clock.now() >= expires_at {
            return Err(AccessTokenError::Invalid);
        }
        Ok(AccessClaims {
            user_id: claims.sub.parse().map_err(|_| AccessTokenError::Invalid)?,
            session_id: claims.sid.parse().map_err(|_| AccessTokenError::Invalid)?,
            expires_at,
        })
    }
}

/// RFC 9068 §4: `at+jwt`, or its full media type `application/at+jwt`; media types are
/// case-insensitive.
fn is_access_token_type(typ: Option<&str>) -> bool {
    typ.is_some_and(|typ| {
        let typ = typ.to_ascii_lowercase();
        typ == ACCESS_TOKEN_TYPE || typ.strip_prefix("application/") == Some(ACCESS_TOKEN_TYPE)
    })
}

fn random_token_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::crypto::ManualClock;
    use chrono::TimeZone;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ISSUER: &str = "https://allomedia.test";
    const AUDIENCE: &str = "allomedia-api";

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 3, 9, 30, 0).unwrap()
    }

    fn tokens_with(clock: &ManualClock, issuer: &str, audience: &str) -> JwtAccessTokens {
        JwtAccessTokens::new(
            SECRET,
            issuer.to_owned(),
            audience.to_owned(),
            Duration::minutes(15),
            Arc::new(clock.clone()),
        )
        .unwrap()
    }

    fn tokens(clock: &ManualClock) -> JwtAccessTokens {
        tokens_with(clock, ISSUER, AUDIENCE)
    }

    /// Claims as this service would issue them now, for hand-made tokens.
    fn valid_claims() -> Claims {
        Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: UserId::new().to_string(),
            sid: SessionId::new().to_string(),
            iat: start().timestamp(),
            exp: (start() + Duration::minutes(15)).timestamp(),
            jti: random_token_id(),
        }
    }

    fn sign(header: &Header, claims: &Claims, secret: &[u8]) -> String {
        jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn access_header(algorithm: Algorithm) -> Header {
        let mut header = Header::new(algorithm);
        header.typ = Some("at+jwt".to_owned());
        header
    }

    #[test]
    fn an_issued_token_verifies_to_its_user_session_and_expiry() {
        let clock = ManualClock::new(start());
        let tokens = tokens(&clock);
        let (user_id, session_id) = (UserId::new(), SessionId::new());

        let issued = tokens.issue(user_id, session_id).unwrap();
        let claims = tokens.verify(&issued.token).unwrap();

        assert_eq!(
            claims,
            AccessClaims {
                user_id,
                session_id,
                expires_at: start() + Duration::minutes(15),
            }
        );
        assert_eq!(issued.expires_at, claims.expires_at);
    }

    #[test]
    fn an_issued_token_is_typed_as_an_access_token_and_pins_hs256() {
        let clock = ManualClock::new(start());

        let issued = tokens(&clock)
            .issue(UserId::new(), SessionId::new())
            .unwrap();

        let header = jsonwebtoken::decode_header(&issued.token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    }

    #[test]
    fn two_tokens_for_one_session_in_one_second_differ() {
        let clock = ManualClock::new(start());
        let tokens = tokens(&clock);
        let (user_id, session_id) = (UserId::new(), SessionId::new());

        let first = tokens.issue(user_id, session_id).unwrap();
        let second = tokens.issue(user_id, session_id).unwrap();

        assert_ne!(first.token, second.token);
    }

    #[test]
    fn a_token_is_refused_from_its_expiry_on_but_not_a_second_before() {
        let clock = ManualClock::new(start());
        let tokens = tokens(&clock);
        let issued = tokens.issue(UserId::new(), SessionId::new()).unwrap();

        clock.advance(Duration::minutes(15) - Duration::seconds(1));
        assert!(tokens.verify(&issued.token).is_ok());

        clock.advance(Duration::seconds(1));
        assert!(matches!(
            tokens.verify(&issued.token),
            Err(AccessTokenError::Invalid)
        ));
    }

    #[test]
    fn a_token_with_a_tampered_signature_is_refused() {
        let clock = ManualClock::new(start());
        let tokens = tokens(&clock);
        let issued = tokens.issue(UserId::new(), SessionId::new()).unwrap();
        let (message, signature) = issued.token.rsplit_once('.').unwrap();
        // Change a character in the middle: the last one may only carry padding bits.
        let mut signature = signature.as_bytes().to_vec();
        signature[10] = if signature[10] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{message}.{}", String::from_utf8(signature).unwrap());

        assert!(matches!(
            tokens.verify(&tampered),
            Err(AccessTokenError::Invalid)
        ));
    }

    #[test]
    fn a_token_with_tampered_claims_is_refused() {
        let clock = ManualClock::new(start());
        let tokens = tokens(&clock);
        let issued = tokens.issue(UserId::new(), SessionId::new()).unwrap();
        let parts: Vec<&str> = issued.token.split('.').collect();
        let forged_claims = Claims {
            exp: (start() + Duration::days(365)).timestamp(),
            ..valid_claims()
        };
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap());
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);

        assert!(matches!(
            tokens.verify(&forged),
            Err(AccessTokenError::Invalid)
        ));
    }

    #[test]
    fn an_unsigned_token_with_alg_none_is_refused() {
        let clock = ManualClock::new(start());
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&valid_claims()).unwrap());

        for unsigned in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert!(matches!(
                tokens(&clock).verify(&unsigned),
                Err(AccessTokenError::Invalid)
            ));
        }
    }

    #[test]
    fn a_token_signed_with_hs512_and_the_same_secret_is_refused() {
        let clock = ManualClock::new(start());
        let token = sign(&access_header(Algorithm::HS512), &valid_claims(), SECRET);

        assert!(matches!(
            tokens(&clock).verify(&token),
            Err(AccessTokenError::Invalid)
        ));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let clock = ManualClock::new(start());
        let token = sign(
            &access_header(Algorithm::HS256),
            &valid_claims(),
            b"another secret of at least 32 bytes!",
        );

        assert!(matches!(
            tokens(&clock).verify(&token),
            Err(AccessTokenError::Invalid)
        ));
    }

    #[test]
    fn a_hand_made_token_with_our_secret_and_claims_is_accepted() {
        // The control for the refusals around it: they fail for their one difference.
        let clock = ManualClock::new(start());
        let token = sign(&access_header(Algorithm::HS256), &valid_claims(), SECRET);

        assert!(tokens(&clock).verify(&token).is_ok());
    }

    #[test]
    fn a_token_of_another_issuer_is_refused() {
        let clock = ManualClock::new(start());
        let theirs = tokens_with(&clock, "https://elsewhere.test", AUDIENCE)
            .issue(UserId::new(), SessionId::new())
            .unwrap();

        assert!(matches!(
            tokens(&clock).verify(&theirs.token),
            Err(AccessTokenError::Invalid)
        ));
    }

    #[test]
    fn a_token_for_another_audience_is_refused() {
        let clock = ManualClock::new(start());
        let theirs = tokens_with(&clock, ISSUER, "another-api")
            .issue(UserId::new(), SessionId::new())
            .unwrap();

        assert!(matches!(
            tokens(&clock).verify(&theirs.token),
            Err(AccessTokenError::Invalid)
        ));
    }

    #[test]
    fn a_jwt_of_another_type_is_refused_even_with_our_signature() {
        let clock = ManualClock::new(start());

        for typ in [Some("JWT"), Some("id+jwt"), None] {
            let mut header = Header::new(Algorithm::HS256);
            header.typ = typ.map(str::to_owned);
            let token = sign(&header, &valid_claims(), SECRET);

            assert!(
                matches!(
                    tokens(&clock).verify(&token),
                    Err(AccessTokenError::Invalid)
                ),
                "typ {typ:?}"
            );
        }
    }

    #[test]
    fn the_full_media_type_of_an_access_token_is_accepted() {
        let clock = ManualClock::new(start());
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("application/AT+JWT".to_owned());
        let token = sign(&header, &valid_claims(), SECRET);

        assert!(tokens(&clock).verify(&token).is_ok());
    }

    #[test]
    fn a_token_without_expiry_is_refused() {
        #[derive(Serialize)]
        struct WithoutExpiry {
            iss: &'static str,
            aud: &'static str,
            sub: String,
            sid: String,
        }
        let clock = ManualClock::new(start());
        let claims = WithoutExpiry {
            iss: ISSUER,
            aud: AUDIENCE,
            sub: UserId::new().to_string(),
            sid: SessionId::new().to_string(),
        };
        let token = jsonwebtoken::encode(
            &access_header(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();

        assert!(matches!(
            tokens(&clock).verify(&token),
            Err(AccessTokenError::Invalid)
        ));
    }

    #[test]
    fn garbage_is_refused() {
        let clock = ManualClock::new(start());

        for garbage in ["", "not a token", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9"] {
            assert!(
                matches!(
                    tokens(&clock).verify(garbage),
                    Err(AccessTokenError::Invalid)
                ),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn a_secret_shorter_than_256_bits_is_refused() {
        let result = JwtAccessTokens::new(
            &SECRET[..31],
            ISSUER.to_owned(),
            AUDIENCE.to_owned(),
            Duration::minutes(15),
            Arc::new(ManualClock::new(start())),
        );

        assert_eq!(result.unwrap_err(), JwtConfigError::SecretTooShort(31));
    }

    #[test]
    fn a_lifetime_that_is_not_positive_is_refused() {
        let result = JwtAccessTokens::new(
            SECRET,
            ISSUER.to_owned(),
            AUDIENCE.to_owned(),
            Duration::zero(),
            Arc::new(ManualClock::new(start())),
        );

        assert_eq!(result.unwrap_err(), JwtConfigError::NonPositiveLifetime);
    }
}
