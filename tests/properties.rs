//! Property tests of everything that reads untrusted text: value objects (email, password,
//! delivery code, refresh token, cursor), access tokens (JWT), TOTP codes and the core's checks
//! of mailed tokens, login codes, device tokens and recovery codes.
//!
//! Each property is stated for every input proptest draws: parsers never panic, what is encoded
//! decodes back, and a secret altered in any way — one character replaced or its case flipped,
//! cut short, lengthened — is refused while the genuine one is accepted. Case counts are tuned
//! so the whole binary runs in seconds; `PROPTEST_CASES` raises them for a longer hunt.

use testkit::client;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde::Serialize;
use sha2::Sha256;
use uuid::Uuid;

use allomedia::adapters::crypto::{JwtAccessTokens, ManualClock, SealedTotpEngine};
use allomedia::core::auth::{
    LoginOutcome, RefreshError, ResetPasswordError, ResetPasswordRequest, VerifyCodeError,
    VerifyCodeRequest, VerifyEmailError,
};
use allomedia::core::model::{
    DeliveryCode, Email, EmailError, Page, PageRequest, Password, PasswordError, RefreshToken,
    SecondFactor, SessionId, UserId, secrets_match,
};
use allomedia::core::ports::{AccessTokens, Clock, TotpEngine};
use testkit::{ExpectChallenge, PASSWORD, World};

const EMAIL: &str = "amina@example.com";

/// Cases for properties of pure functions (microseconds each).
const PURE_CASES: u32 = 256;
/// Cases for properties that run a use case against in-memory adapters (a world each, with a
/// few fast password hashes).
const WORLD_CASES: u32 = 32;

fn config(cases: u32) -> Config {
    Config {
        // `PROPTEST_CASES`, when set, wins over the tuned count.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(cases),
        // Failures found are kept beside this file and replayed first on the next run.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/properties.proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Runs a property whose setup is too costly to repeat per case (a world with a signed-in
/// user): the runner draws inputs, `test` judges each one against the shared state.
fn check<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(config(cases));
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("{failure}");
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

// ---------------------------------------------------------------------------------------------
// Altering a secret
// ---------------------------------------------------------------------------------------------

/// One way of changing a secret's text. Every one yields a text that differs from the
/// original even after trimming (surrounding whitespace is forgiven by design, so padding is
/// not an alteration).
#[derive(Debug, Clone)]
enum Alteration {
    /// Replace the character at (index modulo length) with another one.
    Replace { at: usize, with: char },
    /// Flip the case of the (index modulo count)-th ASCII letter: hex and base64 are not
    /// case-insensitive, and a token must only be accepted as it was issued.
    FlipCase { at: usize },
    /// Keep only the first (n modulo length) characters.
    Truncate { keep: usize },
    /// Add visible characters at the end.
    Append { text: String },
    /// Add visible characters at the start.
    Prepend { text: String },
}

fn alteration() -> impl Strategy<Value = Alteration> {
    let replacement = prop_oneof![
        3 => prop::char::range('!', '~'),
        1 => any::<char>(),
    ];
    prop_oneof![
        4 => (any::<usize>(), replacement).prop_map(|(at, with)| Alteration::Replace { at, with }),
        2 => any::<usize>().prop_map(|at| Alteration::FlipCase { at }),
        1 => any::<usize>().prop_map(|keep| Alteration::Truncate { keep }),
        1 => "[!-~]{1,8}".prop_map(|text| Alteration::Append { text }),
        1 => "[!-~]{1,8}".prop_map(|text| Alteration::Prepend { text }),
    ]
}

fn alter(original: &str, alteration: &Alteration) -> String {
    let mut chars: Vec<char> = original.chars().collect();
    assert!(!chars.is_empty(), "only non-empty secrets are altered");
    let replace = |chars: &mut Vec<char>, at: usize, with: char| {
        let i = at % chars.len();
        chars[i] = if with == chars[i] {
            if with == 'A' { 'B' } else { 'A' }
        } else {
            with
        };
    };
    match alteration {
        Alteration::Replace { at, with } => replace(&mut chars, *at, *with),
        Alteration::FlipCase { at } => {
            let letters: Vec<usize> = (0..chars.len())
                .filter(|&i| chars[i].is_ascii_alphabetic())
                .collect();
            if letters.is_empty() {
                replace(&mut chars, *at, 'x');
            } else {
                let i = letters[at % letters.len()];
                chars[i] = if chars[i].is_ascii_lowercase() {
                    chars[i].to_ascii_uppercase()
                } else {
                    chars[i].to_ascii_lowercase()
                };
            }
        }
        Alteration::Truncate { keep } => chars.truncate(keep % chars.len()),
        Alteration::Append { text } => chars.extend(text.chars()),
        Alteration::Prepend { text } => {
            chars.splice(0..0, text.chars());
        }
    }
    let altered: String = chars.into_iter().collect();
    assert_ne!(altered.trim(), original.trim(), "{alteration:?}");
    altered
}

// ---------------------------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------------------------

/// Addresses of the plain `local@host.tld` form the service accepts (most of them: a few
/// drawn, like `a..b@x.io`, are refused by the parser and skipped).
fn plain_address() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9._+-]{0,15}[a-z0-9])?@[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\\.[a-z]{2,6}){1,2}"
}

/// For each character, whether to flip its ASCII case.
fn case_mask() -> impl Strategy<Value = Vec<bool>> {
    prop::collection::vec(any::<bool>(), 64)
}

fn apply_case_mask(text: &str, mask: &[bool]) -> String {
    text.chars()
        .zip(mask.iter().cycle())
        .map(|(c, &flip)| {
            if !flip {
                c
            } else if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(config(PURE_CASES))]

    #[test]
    fn email_parsing_never_panics_and_keeps_only_normalised_plain_mailboxes(raw in any::<String>()) {
        if let Ok(email) = Email::parse(&raw) {
            prop_assert_eq!(email.as_str(), raw.trim().to_lowercase());
            prop_assert!(email.as_str().len() <= 254);
            prop_assert!(email.as_str().contains('@'));
        }
    }

    #[test]
    fn email_normalisation_is_idempotent(raw in prop_oneof![any::<String>(), plain_address()]) {
        if let Ok(email) = Email::parse(&raw) {
            prop_assert_eq!(Email::parse(email.as_str()), Ok(email));
        }
    }

    #[test]
    fn email_parsing_ignores_ascii_case_for_any_text(raw in prop_oneof![any::<String>(), plain_address()]) {
        let as_given = Email::parse(&raw);
        prop_assert_eq!(&Email::parse(&raw.to_ascii_uppercase()), &as_given);
        prop_assert_eq!(&Email::parse(&raw.to_ascii_lowercase()), &as_given);
    }

    #[test]
    fn two_spellings_of_a_plain_address_are_one_identity(
        address in plain_address(),
        mask in case_mask(),
        before in "[ \t\r\n]{0,3}",
        after in "[ \t\r\n]{0,3}",
    ) {
        let canonical = Email::parse(&address);
        prop_assume!(canonical.is_ok());
        let spelled = format!("{before}{}{after}", apply_case_mask(&address, &mask));
        prop_assert_eq!(Email::parse(&spelled), canonical);
    }

    #[test]
    fn addresses_longer_than_254_bytes_are_refused(local in "[a-z]{250,300}") {
        prop_assert_eq!(Email::parse(&format!("{local}@example.com")), Err(EmailError::TooLong));
    }
}

// ---------------------------------------------------------------------------------------------
// Password
// ---------------------------------------------------------------------------------------------

proptest! {
    // zxcvbn takes up to a millisecond on 64 characters: fewer cases.
    #![proptest_config(config(64))]

    #[test]
    fn password_parsing_never_panics_and_enforces_length_in_characters(
        raw in prop_oneof![any::<String>(), ".{0,200}", "[a-z ]{0,140}"],
        context in prop::collection::vec(any::<String>(), 0..3),
    ) {
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        let chars = raw.chars().count();
        match Password::parse(&raw, &context) {
            Ok(password) => {
                prop_assert!((Password::MIN_CHARS..=Password::MAX_CHARS).contains(&chars));
                prop_assert_eq!(password.expose(), raw.as_str());
            }
            Err(PasswordError::TooShort) => prop_assert!(chars < Password::MIN_CHARS),
            Err(PasswordError::TooLong) => prop_assert!(chars > Password::MAX_CHARS),
            Err(PasswordError::TooGuessable) => {
                prop_assert!((Password::MIN_CHARS..=Password::MAX_CHARS).contains(&chars));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Delivery codes, second-factor names, secret comparison
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(PURE_CASES))]

    #[test]
    fn a_delivery_code_is_exactly_six_ascii_digits(raw in prop_oneof![any::<String>(), "[0-9]{6}", "[0-9٠-٩]{5,7}"]) {
        let six_ascii_digits = raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit());
        match DeliveryCode::parse(&raw) {
            Ok(code) => {
                prop_assert!(six_ascii_digits, "{:?} accepted", raw);
                prop_assert_eq!(code.as_str(), raw.as_str());
            }
            Err(_) => prop_assert!(!six_ascii_digits, "{:?} refused", raw),
        }
    }

    #[test]
    fn a_delivery_code_matches_itself_and_nothing_else(
        issued in "[0-9]{6}",
        offered in prop_oneof![any::<String>(), "[0-9]{6}"],
        alteration in alteration(),
    ) {
        let code = DeliveryCode::parse(&issued).unwrap();
        prop_assert!(code.matches(&issued));
        prop_assert_eq!(code.matches(&offered), offered == issued);
        prop_assert!(!code.matches(&alter(&issued, &alteration)));
    }

    #[test]
    fn secrets_match_is_plain_equality(a in any::<String>(), b in any::<String>()) {
        prop_assert_eq!(secrets_match(&a, &b), a == b);
        prop_assert!(secrets_match(&a, &a));
    }

    #[test]
    fn a_second_factor_name_parses_only_as_written(raw in prop_oneof![any::<String>(), "(email|totp|recovery_code)"]) {
        match SecondFactor::parse(&raw) {
            Some(method) => prop_assert_eq!(method.as_str(), raw.as_str()),
            None => prop_assert!(!["email", "totp", "recovery_code"].contains(&raw.as_str())),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens (form) and cursors
// ---------------------------------------------------------------------------------------------

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

proptest! {
    #![proptest_config(config(PURE_CASES))]

    #[test]
    fn refresh_token_parsing_never_panics_and_bounds_the_mac(
        raw in prop_oneof![
            any::<String>(),
            "[0-9a-f-]{36}\\.[0-9+-]{1,12}\\..{0,200}",
        ],
    ) {
        if let Some(token) = RefreshToken::parse(&raw) {
            prop_assert!(!token.mac.is_empty() && token.mac.len() <= 128);
        }
    }

    #[test]
    fn a_refresh_token_reads_back_as_written(
        session in uuid(),
        generation in any::<u32>(),
        mac in "[0-9a-f]{64}",
        padding in "[ \t]{0,2}",
    ) {
        let token = RefreshToken { session_id: SessionId::from_uuid(session), generation, mac };
        let text = format!("{padding}{}{padding}", token.encode());
        prop_assert_eq!(RefreshToken::parse(&text), Some(token));
    }

    #[test]
    fn a_full_page_cursor_leads_to_the_items_after_its_last_one(
        (limit, ids) in (1u32..=100).prop_flat_map(|limit| {
            // What a store hands back for a page that is not the last: one item more.
            let fetched = limit as usize + 1;
            (Just(limit), prop::collection::vec(uuid(), fetched..=fetched))
        }),
    ) {
        let page = Page::from_fetched(ids.clone(), PageRequest::first(limit), |id| *id);

        let cursor = page.next_cursor.clone();
        prop_assert!(cursor.is_some());
        let next = PageRequest::parse(Some(i64::from(limit)), cursor.as_deref()).unwrap();
        prop_assert_eq!(next.before, Some(ids[limit as usize - 1]));
        prop_assert_eq!(next.limit, limit);
        prop_assert_eq!(page.items, ids[..limit as usize].to_vec());
    }

    #[test]
    fn the_last_page_has_no_cursor(
        (limit, ids) in (1u32..=100).prop_flat_map(|limit| {
            (Just(limit), prop::collection::vec(uuid(), 0..=limit as usize))
        }),
    ) {
        let page = Page::from_fetched(ids.clone(), PageRequest::first(limit), |id| *id);
        prop_assert_eq!(page.next_cursor, None);
        prop_assert_eq!(page.items, ids);
    }

    #[test]
    fn page_parameters_never_panic_and_refuse_limits_out_of_range(
        limit in prop_oneof![any::<Option<i64>>(), (-2i64..=102).prop_map(Some)],
        cursor in prop_oneof![any::<Option<String>>(), "[A-Za-z0-9_-]{0,140}".prop_map(Some)],
    ) {
        let limit_ok = limit.is_none_or(|n| (1..=100).contains(&n));
        match PageRequest::parse(limit, cursor.as_deref()) {
            Ok(request) => {
                prop_assert!(limit_ok);
                prop_assert_eq!(i64::from(request.limit), limit.unwrap_or(20));
                prop_assert!(request.before.is_none() || cursor.as_deref().is_some_and(|c| c.len() <= 128));
            }
            Err(errors) => {
                let named_limit = errors.fields().iter().any(|f| f.field == "limit");
                prop_assert_eq!(named_limit, !limit_ok);
            }
        }
    }

    #[test]
    fn an_altered_cursor_is_refused_or_names_another_id(
        ids in prop::collection::vec(uuid(), 2..3),
        alteration in alteration(),
    ) {
        let page = Page::from_fetched(ids.clone(), PageRequest::first(1), |id| *id);
        let cursor = page.next_cursor.unwrap();
        // A cursor is no secret: the property is that an altered one is never taken for the
        // genuine one, not that it is refused.
        if let Ok(request) = PageRequest::parse(None, Some(&alter(&cursor, &alteration))) {
            prop_assert_ne!(request.before, Some(ids[0]));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Access tokens (JWT)
// ---------------------------------------------------------------------------------------------

const JWT_SECRET: &[u8] = b"property signing key, 32 bytes!!";
const ISSUER: &str = "allomedia";
const AUDIENCE: &str = "allomedia-api";
const LIFETIME_SECONDS: i64 = 900;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

fn access_tokens(clock: &ManualClock) -> JwtAccessTokens {
    JwtAccessTokens::new(
        JWT_SECRET,
        ISSUER.to_owned(),
        AUDIENCE.to_owned(),
        Duration::seconds(LIFETIME_SECONDS),
        Arc::new(clock.clone()),
    )
    .unwrap()
}

#[derive(Debug, Clone, Serialize)]
struct HandMadeClaims {
    iss: String,
    aud: String,
    sub: String,
    sid: String,
    iat: i64,
    exp: i64,
    jti: String,
}

impl HandMadeClaims {
    /// What this service would issue now.
    fn valid() -> Self {
        Self {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: UserId::new().to_string(),
            sid: SessionId::new().to_string(),
            iat: start().timestamp(),
            exp: start().timestamp() + LIFETIME_SECONDS,
            jti: "property".to_owned(),
        }
    }
}

/// A JWT made by hand: the header as given, the claims, an HMAC-SHA256 signature under `key`.
/// Written without the JWT library, so nothing it would refuse to produce is out of reach.
fn hand_made_jwt(header: &serde_json::Value, claims: &HandMadeClaims, key: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let signing_input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fn header(alg: &str, typ: &str) -> serde_json::Value {
    serde_json::json!({ "alg": alg, "typ": typ })
}

#[test]
fn the_hand_made_jwt_control_is_accepted() {
    // The control for every refusal below: each differs from this token in one respect.
    let clock = ManualClock::new(start());
    let token = hand_made_jwt(
        &header("HS256", "at+jwt"),
        &HandMadeClaims::valid(),
        JWT_SECRET,
    );
    assert!(access_tokens(&clock).verify(&token).is_ok());
}

/// Text that might pass for a JWT: three dot-separated base64url segments, some of them JSON.
fn jwt_shaped() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        "[A-Za-z0-9_-]{0,60}",
        any::<Vec<u8>>().prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes)),
        "\\{\"alg\":\"(HS256|none|HS512|RS256)\"(,\"typ\":\"at\\+jwt\")?\\}"
            .prop_map(|json| URL_SAFE_NO_PAD.encode(json)),
    ];
    prop::collection::vec(segment, 1..5).prop_map(|segments| segments.join("."))
}

proptest! {
    #![proptest_config(config(PURE_CASES))]

    #[test]
    fn verifying_any_text_never_panics_and_refuses_it(raw in prop_oneof![any::<String>(), jwt_shaped()]) {
        let clock = ManualClock::new(start());
        prop_assert!(access_tokens(&clock).verify(&raw).is_err());
    }

    #[test]
    fn an_issued_token_altered_in_any_way_is_refused(alteration in alteration()) {
        let clock = ManualClock::new(start());
        let tokens = access_tokens(&clock);
        let issued = tokens.issue(UserId::new(), SessionId::new()).unwrap().token;
        prop_assert!(tokens.verify(&issued).is_ok());

        let altered = alter(&issued, &alteration);
        prop_assert!(tokens.verify(&altered).is_err(), "accepted {:?} from {:?}", altered, issued);
    }

    #[test]
    fn a_token_signed_with_any_other_key_is_refused(key in prop::collection::vec(any::<u8>(), 32..80)) {
        prop_assume!(key != JWT_SECRET);
        let clock = ManualClock::new(start());
        let token = hand_made_jwt(&header("HS256", "at+jwt"), &HandMadeClaims::valid(), &key);
        prop_assert!(access_tokens(&clock).verify(&token).is_err());
    }

    #[test]
    fn only_hs256_is_accepted_whatever_the_header_claims(
        alg in prop_oneof!["(HS256|HS384|HS512|hs256|none|None|NONE|RS256|ES256|PS256|EdDSA)", any::<String>()],
    ) {
        let clock = ManualClock::new(start());
        let tokens = access_tokens(&clock);
        let claims = HandMadeClaims::valid();
        let signed = hand_made_jwt(&header(&alg, "at+jwt"), &claims, JWT_SECRET);
        prop_assert_eq!(tokens.verify(&signed).is_ok(), alg == "HS256", "alg {:?}", alg);

        // Unsigned, as `alg: none` asks: never accepted, with or without the trailing dot.
        let unsigned = signed.rsplit_once('.').unwrap().0;
        prop_assert!(tokens.verify(unsigned).is_err());
        let unsigned_dot = format!("{unsigned}.");
        prop_assert!(tokens.verify(&unsigned_dot).is_err());
    }

    #[test]
    fn a_token_is_accepted_until_its_expiry_and_never_from_it_on(elapsed in 0i64..(3 * LIFETIME_SECONDS)) {
        let clock = ManualClock::new(start());
        let tokens = access_tokens(&clock);
        let issued = tokens.issue(UserId::new(), SessionId::new()).unwrap();

        clock.advance(Duration::seconds(elapsed));
        prop_assert_eq!(tokens.verify(&issued.token).is_ok(), elapsed < LIFETIME_SECONDS);
    }

    #[test]
    fn a_hand_made_token_is_refused_once_its_exp_is_reached(exp_offset in -100_000i64..100_000) {
        let clock = ManualClock::new(start());
        let claims = HandMadeClaims { exp: start().timestamp() + exp_offset, ..HandMadeClaims::valid() };
        let token = hand_made_jwt(&header("HS256", "at+jwt"), &claims, JWT_SECRET);
        prop_assert_eq!(access_tokens(&clock).verify(&token).is_ok(), exp_offset > 0);
    }

    #[test]
    fn a_token_of_another_issuer_or_audience_is_refused(other in any::<String>(), which in any::<bool>()) {
        let clock = ManualClock::new(start());
        let claims = if which {
            prop_assume!(other != ISSUER);
            HandMadeClaims { iss: other, ..HandMadeClaims::valid() }
        } else {
            prop_assume!(other != AUDIENCE);
            HandMadeClaims { aud: other, ..HandMadeClaims::valid() }
        };
        let token = hand_made_jwt(&header("HS256", "at+jwt"), &claims, JWT_SECRET);
        prop_assert!(access_tokens(&clock).verify(&token).is_err());
    }

    #[test]
    fn only_the_access_token_type_is_accepted(
        typ in prop_oneof!["(at|AT|At)\\+(jwt|JWT)", "(application|APPLICATION)/at\\+jwt", "(JWT|id\\+jwt|at\\+jwt2|application/jwt| at\\+jwt)", any::<String>()],
    ) {
        let clock = ManualClock::new(start());
        let token = hand_made_jwt(&header("HS256", &typ), &HandMadeClaims::valid(), JWT_SECRET);
        let lower = typ.to_ascii_lowercase();
        let expected = lower == "at+jwt" || lower == "application/at+jwt";
        prop_assert_eq!(access_tokens(&clock).verify(&token).is_ok(), expected, "typ {:?}", typ);
    }

    #[test]
    fn a_token_whose_subject_or_session_is_not_an_id_is_refused(other in any::<String>(), which in any::<bool>()) {
        prop_assume!(Uuid::parse_str(&other).is_err());
        let clock = ManualClock::new(start());
        let claims = if which {
            HandMadeClaims { sub: other, ..HandMadeClaims::valid() }
        } else {
            HandMadeClaims { sid: other, ..HandMadeClaims::valid() }
        };
        let token = hand_made_jwt(&header("HS256", "at+jwt"), &claims, JWT_SECRET);
        prop_assert!(access_tokens(&clock).verify(&token).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238)
// ---------------------------------------------------------------------------------------------

/// RFC 4226 HOTP with HMAC-SHA-1 and 6 digits, written here from the RFC (on ring, not
/// totp-rs) so that the engine is judged against an independent reading of the standard.
fn hotp(secret: &[u8], counter: u64) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let digest = ring::hmac::sign(&key, &counter.to_be_bytes());
    let bytes = digest.as_ref();
    let offset = usize::from(bytes[19] & 0x0f);
    let binary = u32::from_be_bytes([
        bytes[offset] & 0x7f,
        bytes[offset + 1],
        bytes[offset + 2],
        bytes[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

#[test]
fn the_reference_hotp_meets_the_rfc_6238_vectors() {
    // RFC 6238 Appendix B, SHA-1, the last 6 of the 8 digits given there.
    let secret = b"12345678901234567890";
    for (unix_seconds, code) in [
        (59u64, "287082"),
        (1_111_111_109, "081804"),
        (1_234_567_890, "005924"),
        (2_000_000_000, "279037"),
    ] {
        assert_eq!(hotp(secret, unix_seconds / 30), code, "T = {unix_seconds}");
    }
}

fn totp_engine() -> SealedTotpEngine {
    SealedTotpEngine::new(b"property totp sealing key, 32 b!", "allomedia").unwrap()
}

type Enrolled = (allomedia::core::model::SealedTotpSecret, Vec<u8>);

/// Sixteen sealed secrets and their 20 bytes, read back the way an authenticator app reads
/// them (from the provisioning's base32). Made once: drawing the QR code takes milliseconds.
fn enrolled_secrets() -> &'static (SealedTotpEngine, Vec<Enrolled>) {
    static SECRETS: std::sync::OnceLock<(SealedTotpEngine, Vec<Enrolled>)> =
        std::sync::OnceLock::new();
    SECRETS.get_or_init(|| {
        let engine = totp_engine();
        let secrets = (0..16)
            .map(|_| {
                let sealed = engine.new_secret().unwrap();
                let base32 = engine.provisioning(&sealed, EMAIL).unwrap().secret_base32;
                let bytes = totp_rs::Secret::try_from_base32(base32)
                    .unwrap()
                    .as_ref()
                    .to_vec();
                (sealed, bytes)
            })
            .collect();
        (engine, secrets)
    })
}

proptest! {
    #![proptest_config(config(PURE_CASES))]

    #[test]
    fn totp_accepts_exactly_the_codes_of_the_steps_around_now(
        unix_seconds in 30u64..4_102_444_800,
        offset in -3i64..=3,
        other in prop_oneof!["[0-9]{6}", any::<String>()],
        which in any::<usize>(),
    ) {
        let (engine, secrets) = enrolled_secrets();
        let (sealed, secret) = &secrets[which % secrets.len()];
        let now = DateTime::<Utc>::from_timestamp(unix_seconds as i64, 0).unwrap();
        let step = unix_seconds / 30;
        let window: Vec<(u64, String)> =
            (step - 1..=step + 1).map(|s| (s, hotp(secret, s))).collect();
        // The step a code is accepted for: the first of the window whose code it is. Two steps
        // with one code (odds 1 in 10^6) both accept it, and the earlier is reported.
        let expected = |code: &str| window.iter().find(|(_, c)| c == code).map(|(s, _)| *s);

        let code_at_offset = hotp(secret, step.saturating_add_signed(offset));
        prop_assert_eq!(engine.verify(sealed, &code_at_offset, now).unwrap(), expected(&code_at_offset));
        if offset.abs() <= 1 {
            prop_assert!(expected(&code_at_offset).is_some());
        }
        prop_assert_eq!(engine.verify(sealed, &other, now).unwrap(), expected(&other));
    }
}

// ---------------------------------------------------------------------------------------------
// The core's checks of mailed tokens, login codes, refresh and device tokens, recovery codes
// ---------------------------------------------------------------------------------------------

#[test]
fn an_altered_verification_token_is_refused_and_the_genuine_one_accepted() {
    let world = World::new();
    block_on(
        world
            .registration
            .register(World::registration("Amina", EMAIL)),
    )
    .unwrap();
    let token = world.mailer.verification_token(EMAIL);

    check(PURE_CASES, alteration(), |alteration| {
        let altered = alter(&token, &alteration);
        let result = block_on(world.registration.verify_email(&altered, &client()));
        prop_assert!(
            matches!(result, Err(VerifyEmailError::InvalidToken)),
            "{:?} gave {:?}",
            altered,
            result
        );
        Ok(())
    });

    block_on(
        world
            .registration
            .verify_email(&format!(" {token}\n"), &client()),
    )
    .unwrap();
}

#[test]
fn an_altered_reset_token_is_refused_and_the_genuine_one_accepted() {
    let world = World::new();
    block_on(world.verified_client(EMAIL));
    block_on(world.password_recovery.forgot_password(EMAIL, &client())).unwrap();
    let token = world.mailer.reset_token(EMAIL);
    let request = |token: String| ResetPasswordRequest {
        token,
        new_password: "a brand new passphrase".to_owned(),
        client: client(),
    };

    check(PURE_CASES, alteration(), |alteration| {
        let altered = alter(&token, &alteration);
        let result = block_on(
            world
                .password_recovery
                .reset_password(request(altered.clone())),
        );
        prop_assert!(
            matches!(result, Err(ResetPasswordError::InvalidToken)),
            "{:?} gave {:?}",
            altered,
            result
        );
        Ok(())
    });

    block_on(world.password_recovery.reset_password(request(token))).unwrap();
}

#[test]
fn an_altered_refresh_token_is_refused_and_the_genuine_one_accepted() {
    let world = World::new();
    block_on(world.verified_client(EMAIL));
    let tokens = block_on(world.signed_in(EMAIL));
    let token = tokens.refresh_token;

    check(PURE_CASES, alteration(), |alteration| {
        let altered = alter(&token, &alteration);
        let result = block_on(world.sessions.refresh(&altered, &client()));
        prop_assert!(
            matches!(result, Err(RefreshError::InvalidToken)),
            "{:?} gave {:?}",
            altered,
            result.map(|t| t.refresh_token)
        );
        Ok(())
    });

    block_on(world.sessions.refresh(&token, &client())).unwrap();
}

#[test]
fn an_altered_device_token_does_not_skip_the_second_factor_and_the_genuine_one_does() {
    let world = World::new();
    block_on(world.verified_client(EMAIL));
    let challenge = block_on(world.sign_in.login(World::login_request(EMAIL, PASSWORD)))
        .unwrap()
        .challenge();
    let device_token = block_on(world.sign_in.verify_code(VerifyCodeRequest {
        challenge_id: challenge.challenge_id.to_string(),
        code: world.mailer.login_code(EMAIL),
        remember_device: true,
        ..VerifyCodeRequest::default()
    }))
    .unwrap()
    .device_token
    .unwrap();
    let login_with = |token: String| {
        let mut request = World::login_request(EMAIL, PASSWORD);
        request.device_token = Some(token);
        block_on(world.sign_in.login(request)).unwrap()
    };

    check(WORLD_CASES * 4, alteration(), |alteration| {
        let altered = alter(&device_token, &alteration);
        prop_assert!(
            matches!(login_with(altered.clone()), LoginOutcome::Challenge(_)),
            "{:?} skipped the second factor",
            altered
        );
        Ok(())
    });

    assert!(matches!(
        login_with(device_token),
        LoginOutcome::SignedIn(_)
    ));
}

/// What a person might type for a login code: another code, the code altered, or anything.
#[derive(Debug, Clone)]
enum Offered {
    Digits(String),
    Altered(Alteration),
    Anything(String),
}

fn offered_code() -> impl Strategy<Value = Offered> {
    prop_oneof![
        "[0-9]{6}".prop_map(Offered::Digits),
        alteration().prop_map(Offered::Altered),
        any::<String>().prop_map(Offered::Anything),
    ]
}

#[test]
fn a_login_code_other_than_the_mailed_one_is_refused_and_the_mailed_one_accepted() {
    check(WORLD_CASES, offered_code(), |offered| {
        block_on(async {
            let world = World::new();
            world.verified_client(EMAIL).await;
            let challenge = world
                .sign_in
                .login(World::login_request(EMAIL, PASSWORD))
                .await
                .unwrap()
                .challenge();
            let mailed = world.mailer.login_code(EMAIL);
            let code = match offered {
                Offered::Digits(code) | Offered::Anything(code) => code,
                Offered::Altered(alteration) => alter(&mailed, &alteration),
            };
            prop_assume!(code.trim() != mailed);
            let submit = |code: String| {
                world.sign_in.verify_code(VerifyCodeRequest {
                    challenge_id: challenge.challenge_id.to_string(),
                    code,
                    ..VerifyCodeRequest::default()
                })
            };

            let wrong = submit(code.clone()).await;
            prop_assert!(
                matches!(wrong, Err(VerifyCodeError::InvalidCode)),
                "{:?} gave {:?}",
                code,
                wrong.map(|t| t.session_id)
            );
            prop_assert!(submit(mailed).await.is_ok());
            Ok(())
        })
    });
}

/// A recovery code as a person may type it: any case, with spaces and dashes anywhere.
fn retyped(code: &str, mask: &[bool], separators: &[(usize, &str)]) -> String {
    let compact: String = code.chars().filter(|c| *c != '-').collect();
    let mut typed = apply_case_mask(&compact, mask);
    let mut cuts: Vec<(usize, &str)> = separators
        .iter()
        .map(|(at, sep)| (at % (typed.len() + 1), *sep))
        .collect();
    cuts.sort_by_key(|cut| std::cmp::Reverse(cut.0));
    for (at, sep) in cuts {
        typed.insert_str(at, sep);
    }
    typed
}

#[test]
fn a_recovery_code_is_accepted_however_it_is_typed_and_an_altered_one_is_refused() {
    let strategy = (
        case_mask(),
        prop::collection::vec((any::<usize>(), "( |-|  | - )"), 0..4),
        alteration(),
    );
    check(WORLD_CASES, strategy, |(mask, separators, alteration)| {
        block_on(async {
            let world = World::new();
            world.verified_client(EMAIL).await;
            let id = world.user_id(EMAIL).await;
            let setup = world
                .second_factor
                .set_up_totp(id, PASSWORD, &client())
                .await
                .unwrap();
            let totp_code =
                testkit::authenticator::code_at(&setup.secret_base32, world.clock.now());
            let codes = world
                .second_factor
                .confirm_totp(id, &totp_code, &client())
                .await
                .unwrap();
            world.clock.advance(Duration::seconds(30));
            let login = || async {
                world
                    .sign_in
                    .login(World::login_request(EMAIL, PASSWORD))
                    .await
                    .unwrap()
                    .challenge()
                    .challenge_id
                    .to_string()
            };
            let submit = |challenge_id: String, code: String| {
                world.sign_in.verify_code(VerifyCodeRequest {
                    challenge_id,
                    code,
                    method: Some("recovery_code".to_owned()),
                    ..VerifyCodeRequest::default()
                })
            };

            // Altered: refused. Case, spaces and dashes do not count as alterations of a
            // recovery code, so only alterations that change its normalised form are drawn.
            let altered = alter(&codes[0], &alteration);
            let normalise = |code: &str| -> String {
                code.chars()
                    .filter(|c| !c.is_whitespace() && *c != '-')
                    .map(|c| c.to_ascii_lowercase())
                    .collect()
            };
            prop_assume!(
                !codes
                    .iter()
                    .any(|code| normalise(code) == normalise(&altered))
            );
            let challenge_id = login().await;
            let refused = submit(challenge_id.clone(), altered.clone()).await;
            prop_assert!(
                matches!(refused, Err(VerifyCodeError::InvalidCode)),
                "{:?} gave {:?}",
                altered,
                refused.map(|t| t.session_id)
            );

            // Retyped: accepted, once.
            let separators: Vec<(usize, &str)> = separators
                .iter()
                .map(|(at, sep)| (*at, sep.as_str()))
                .collect();
            let typed = retyped(&codes[0], &mask, &separators);
            prop_assert!(
                submit(challenge_id, typed.clone()).await.is_ok(),
                "{:?} refused",
                typed
            );
            let again = submit(login().await, typed.clone()).await;
            prop_assert!(
                matches!(again, Err(VerifyCodeError::InvalidCode)),
                "{:?} reused",
                typed
            );
            Ok(())
        })
    });
}

#[test]
fn a_totp_code_outside_the_steps_around_now_is_refused_at_login() {
    check(WORLD_CASES, (-4i64..=4, 0i64..30), |(offset, into_step)| {
        block_on(async {
            let world = World::new();
            world.verified_client(EMAIL).await;
            let id = world.user_id(EMAIL).await;
            let setup = world
                .second_factor
                .set_up_totp(id, PASSWORD, &client())
                .await
                .unwrap();
            let secret = totp_rs::Secret::try_from_base32(&setup.secret_base32)
                .unwrap()
                .as_ref()
                .to_vec();
            let confirm = hotp(&secret, world.clock.now().timestamp() as u64 / 30);
            world
                .second_factor
                .confirm_totp(id, &confirm, &client())
                .await
                .unwrap();
            // Two steps on, so the confirmation's step is out of every window below.
            world.clock.advance(Duration::seconds(60 + into_step));
            let now_step = world.clock.now().timestamp() as u64 / 30;
            let code = hotp(&secret, now_step.saturating_add_signed(offset));
            let window_codes: Vec<String> = (now_step - 1..=now_step + 1)
                .map(|s| hotp(&secret, s))
                .collect();
            let challenge_id = world
                .sign_in
                .login(World::login_request(EMAIL, PASSWORD))
                .await
                .unwrap()
                .challenge()
                .challenge_id
                .to_string();

            let result = world
                .sign_in
                .verify_code(VerifyCodeRequest {
                    challenge_id,
                    code: code.clone(),
                    method: Some(SecondFactor::Totp.as_str().to_owned()),
                    ..VerifyCodeRequest::default()
                })
                .await;

            prop_assert_eq!(
                result.is_ok(),
                window_codes.contains(&code),
                "offset {}",
                offset
            );
            if offset.abs() <= 1 {
                prop_assert!(result.is_ok());
            }
            Ok(())
        })
    });
}
