//! Core use cases of the second factors beyond email — authenticator app (TOTP) and recovery
//! codes — against in-memory adapters and a manual clock.

use testkit::client;

use std::sync::Arc;

use chrono::Duration;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use allomedia::core::auth::{
    ConfirmTotpError, DisableTotpError, LoginError, RegenerateRecoveryCodesError, ResendCodeError,
    ResetPasswordError, ResetPasswordRequest, SessionTokens, SetUpTotpError, VerifyCodeError,
    VerifyCodeRequest,
};
use allomedia::core::model::{
    AuditFilter, AuditKind, MailMessage, PageRequest, SecondFactor, UserId,
};
use allomedia::core::ports::{AuditLog, Clock, SecondFactorStore};
use testkit::authenticator::code_at;
use testkit::yielding::YieldingSecondFactors;
use testkit::{ExpectChallenge, PASSWORD, World};

const EMAIL: &str = "amina@example.com";

/// A verified client with TOTP on; the base32 secret and the recovery codes. The clock then
/// moves to the next step, so the step used by the confirmation is behind it.
async fn with_totp(world: &World) -> (UserId, String, Vec<String>) {
    let enrolled = world.totp_client(EMAIL).await;
    world.clock.advance(Duration::seconds(30));
    enrolled
}

async fn challenge(world: &World) -> String {
    let request = World::login_request(EMAIL, PASSWORD);
    world
        .sign_in
        .login(request)
        .await
        .unwrap()
        .challenge()
        .challenge_id
        .to_string()
}

fn verify(challenge_id: &str, method: &str, code: &str) -> VerifyCodeRequest {
    VerifyCodeRequest {
        challenge_id: challenge_id.to_owned(),
        code: code.to_owned(),
        method: Some(method.to_owned()),
        ..VerifyCodeRequest::default()
    }
}

#[tokio::test]
async fn setting_up_totp_gives_a_secret_its_uri_and_qr_code_and_leaves_totp_off() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let id = world.user_id(EMAIL).await;

    let setup = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await
        .unwrap();

    assert_eq!(setup.secret_base32.len(), 32, "160 bits in base32");
    assert!(setup.otpauth_uri.starts_with("otpauth://totp/"));
    assert!(setup.otpauth_uri.contains(&setup.secret_base32));
    assert!(!setup.qr_png_base64.is_empty());
    assert!(!world.second_factor.totp_enabled(id).await.unwrap());
}

#[tokio::test]
async fn confirming_with_a_current_code_turns_totp_on_and_gives_ten_distinct_recovery_codes() {
    let world = World::new();

    let (id, _, codes) = with_totp(&world).await;

    assert!(world.second_factor.totp_enabled(id).await.unwrap());
    let mut distinct = codes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
}

#[tokio::test]
async fn confirming_with_a_wrong_code_is_refused_and_totp_stays_off() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let id = world.user_id(EMAIL).await;
    let secret = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await
        .unwrap()
        .secret_base32;
    let two_steps_old = code_at(&secret, world.clock.now() - Duration::seconds(60));

    let outcome = world
        .second_factor
        .confirm_totp(id, &two_steps_old, &client())
        .await;

    assert!(matches!(outcome, Err(ConfirmTotpError::InvalidCode)));
    assert!(!world.second_factor.totp_enabled(id).await.unwrap());
}

#[tokio::test]
async fn a_new_setup_replaces_the_pending_secret_so_the_old_one_cannot_confirm() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let id = world.user_id(EMAIL).await;
    let first = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await
        .unwrap()
        .secret_base32;
    let second = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await
        .unwrap()
        .secret_base32;

    let with_first = world
        .second_factor
        .confirm_totp(id, &code_at(&first, world.clock.now()), &client())
        .await;
    let with_second = world
        .second_factor
        .confirm_totp(id, &code_at(&second, world.clock.now()), &client())
        .await;

    assert!(matches!(with_first, Err(ConfirmTotpError::InvalidCode)));
    assert!(with_second.is_ok());
}

#[tokio::test]
async fn setting_up_or_confirming_again_while_totp_is_on_is_refused() {
    let world = World::new();
    let (id, secret, _) = with_totp(&world).await;

    let setup = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await;
    let confirm = world
        .second_factor
        .confirm_totp(id, &code_at(&secret, world.clock.now()), &client())
        .await;

    assert!(matches!(setup, Err(SetUpTotpError::AlreadyEnabled)));
    assert!(matches!(confirm, Err(ConfirmTotpError::NoPendingSetup)));
}

#[tokio::test]
async fn once_totp_is_on_login_offers_the_app_and_recovery_codes_instead_of_the_email_code() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let before = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap()
        .challenge();

    let id = world.user_id(EMAIL).await;
    let secret = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await
        .unwrap()
        .secret_base32;
    let pending = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap()
        .challenge();
    world
        .second_factor
        .confirm_totp(id, &code_at(&secret, world.clock.now()), &client())
        .await
        .unwrap();
    let after = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap()
        .challenge();

    assert_eq!(before.methods, vec![SecondFactor::Email]);
    assert_eq!(pending.methods, vec![SecondFactor::Email]);
    assert_eq!(
        after.methods,
        vec![SecondFactor::Totp, SecondFactor::RecoveryCode]
    );
}

#[tokio::test]
async fn a_totp_code_passes_one_step_either_side_but_not_two() {
    let world = World::new();
    let (_, secret, _) = with_totp(&world).await;
    // Four steps ahead of the confirmation, so every step tried below is still unused.
    world.clock.advance(Duration::seconds(120));
    let now = world.clock.now();

    let two_behind = challenge(&world).await;
    let refused = world
        .sign_in
        .verify_code(verify(
            &two_behind,
            "totp",
            &code_at(&secret, now - Duration::seconds(60)),
        ))
        .await;
    let one_behind = challenge(&world).await;
    let behind = world
        .sign_in
        .verify_code(verify(
            &one_behind,
            "totp",
            &code_at(&secret, now - Duration::seconds(30)),
        ))
        .await;
    let one_ahead = challenge(&world).await;
    let ahead = world
        .sign_in
        .verify_code(verify(
            &one_ahead,
            "totp",
            &code_at(&secret, now + Duration::seconds(30)),
        ))
        .await;

    assert!(matches!(refused, Err(VerifyCodeError::InvalidCode)));
    assert!(behind.is_ok());
    assert!(ahead.is_ok());
}

#[tokio::test]
async fn a_totp_code_is_never_accepted_twice_nor_an_older_step_after_a_newer_one() {
    let world = World::new();
    let (_, secret, _) = with_totp(&world).await;
    let now = world.clock.now();
    let current = code_at(&secret, now);

    let first = challenge(&world).await;
    let accepted = world
        .sign_in
        .verify_code(verify(&first, "totp", &current))
        .await;
    let second = challenge(&world).await;
    let replayed = world
        .sign_in
        .verify_code(verify(&second, "totp", &current))
        .await;
    let older = world
        .sign_in
        .verify_code(verify(
            &second,
            "totp",
            &code_at(&secret, now - Duration::seconds(30)),
        ))
        .await;

    assert!(accepted.is_ok());
    assert!(matches!(replayed, Err(VerifyCodeError::InvalidCode)));
    assert!(matches!(older, Err(VerifyCodeError::InvalidCode)));
}

#[tokio::test]
async fn the_code_that_confirmed_totp_cannot_then_sign_in() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let id = world.user_id(EMAIL).await;
    let secret = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await
        .unwrap()
        .secret_base32;
    let code = code_at(&secret, world.clock.now());
    world
        .second_factor
        .confirm_totp(id, &code, &client())
        .await
        .unwrap();

    let login = challenge(&world).await;
    let outcome = world
        .sign_in
        .verify_code(verify(&login, "totp", &code))
        .await;

    assert!(matches!(outcome, Err(VerifyCodeError::InvalidCode)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_parallel_verifies_of_one_totp_code_exactly_one_wins() {
    for _ in 0..RACE_ROUNDS {
        let world = racing_world();
        let (_, secret, _) = with_totp(&world).await;
        let code = code_at(&secret, world.clock.now());
        let (first, second) = (challenge(&world).await, challenge(&world).await);

        let outcomes = verify_at_once(
            &world,
            [
                verify(&first, "totp", &code),
                verify(&second, "totp", &code),
            ],
        )
        .await;

        assert_exactly_one_wins(&outcomes);
    }
}

#[tokio::test]
async fn wrong_totp_codes_burn_the_challenge_like_wrong_email_codes() {
    let world = World::new();
    let (_, secret, _) = with_totp(&world).await;
    let login = challenge(&world).await;
    let wrong = code_at(&secret, world.clock.now() + Duration::seconds(300));

    for _ in 0..5 {
        let outcome = world
            .sign_in
            .verify_code(verify(&login, "totp", &wrong))
            .await;
        assert!(matches!(outcome, Err(VerifyCodeError::InvalidCode)));
    }
    let right = code_at(&secret, world.clock.now());
    let sixth = world
        .sign_in
        .verify_code(verify(&login, "totp", &right))
        .await;

    assert!(matches!(sixth, Err(VerifyCodeError::TooManyAttempts)));
}

#[tokio::test]
async fn totp_and_recovery_codes_do_not_pass_for_an_account_without_totp() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let login = challenge(&world).await;

    let totp = world
        .sign_in
        .verify_code(verify(&login, "totp", "123456"))
        .await;
    let recovery = world
        .sign_in
        .verify_code(verify(&login, "recovery_code", "abcde-fghjk"))
        .await;
    let unknown = world
        .sign_in
        .verify_code(verify(&login, "sms", "123456"))
        .await;

    for outcome in [totp, recovery, unknown] {
        assert!(matches!(outcome, Err(VerifyCodeError::InvalidCode)));
    }
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_whatever_its_case_and_the_owner_is_told() {
    let world = World::new();
    let (_, _, codes) = with_totp(&world).await;
    let typed = codes[3].to_uppercase().replace('-', " ");

    let first = challenge(&world).await;
    let used = world
        .sign_in
        .verify_code(verify(&first, "recovery_code", &typed))
        .await;
    let second = challenge(&world).await;
    let reused = world
        .sign_in
        .verify_code(verify(&second, "recovery_code", &codes[3]))
        .await;

    assert!(used.is_ok());
    assert!(matches!(reused, Err(VerifyCodeError::InvalidCode)));
    let told = world.mailer.sent_to(EMAIL);
    assert_eq!(
        told.iter()
            .filter(|m| matches!(m, MailMessage::RecoveryCodeUsed { remaining: 9 }))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_parallel_uses_of_one_recovery_code_exactly_one_wins() {
    for _ in 0..RACE_ROUNDS {
        let world = racing_world();
        let (_, _, codes) = with_totp(&world).await;
        let (first, second) = (challenge(&world).await, challenge(&world).await);

        let outcomes = verify_at_once(
            &world,
            [
                verify(&first, "recovery_code", &codes[0]),
                verify(&second, "recovery_code", &codes[0]),
            ],
        )
        .await;

        assert_exactly_one_wins(&outcomes);
    }
}

/// How many times each race runs: the two verifies overlap on two threads, but where their
/// steps interleave differs from run to run.
const RACE_ROUNDS: usize = 20;

/// A world whose second-factor store yields around every call, so that the two verifies'
/// store calls interleave instead of each running to its end (the in-memory store never
/// awaits).
fn racing_world() -> World {
    World::with_stores(|stores| {
        stores.second_factors = Arc::new(YieldingSecondFactors(stores.second_factors.clone()));
    })
}

/// Runs the verifies at the same moment, each on its own task of the multi-threaded runtime,
/// released together by a barrier: they run in parallel on two worker threads, and their store
/// calls interleave (see `racing_world`). `tokio::join!` in one task ran them one after the
/// other.
async fn verify_at_once(
    world: &World,
    requests: [VerifyCodeRequest; 2],
) -> Vec<Result<SessionTokens, VerifyCodeError>> {
    let start = Arc::new(Barrier::new(requests.len()));
    let mut tasks = JoinSet::new();
    for request in requests {
        let (sign_in, start) = (world.sign_in.clone(), Arc::clone(&start));
        tasks.spawn(async move {
            start.wait().await;
            sign_in.verify_code(request).await
        });
    }
    tasks.join_all().await
}

/// One verify signed in; the other was refused as a code already used.
#[track_caller]
fn assert_exactly_one_wins(outcomes: &[Result<SessionTokens, VerifyCodeError>]) {
    let won = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    let refused = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(VerifyCodeError::InvalidCode)))
        .count();
    assert_eq!((won, refused), (1, 1), "{outcomes:?}");
}

#[tokio::test]
async fn new_recovery_codes_need_the_password_and_kill_the_old_ones() {
    let world = World::new();
    let (id, _, old) = with_totp(&world).await;

    let wrong = world
        .second_factor
        .regenerate_recovery_codes(id, "not-the-password", &client())
        .await;
    let new = world
        .second_factor
        .regenerate_recovery_codes(id, PASSWORD, &client())
        .await
        .unwrap();
    let with_old = challenge(&world).await;
    let old_outcome = world
        .sign_in
        .verify_code(verify(&with_old, "recovery_code", &old[0]))
        .await;
    let with_new = challenge(&world).await;
    let new_outcome = world
        .sign_in
        .verify_code(verify(&with_new, "recovery_code", &new[0]))
        .await;

    assert!(matches!(
        wrong,
        Err(RegenerateRecoveryCodesError::WrongPassword)
    ));
    assert!(matches!(old_outcome, Err(VerifyCodeError::InvalidCode)));
    assert!(new_outcome.is_ok());
}

#[tokio::test]
async fn recovery_codes_cannot_be_made_without_totp() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let id = world.user_id(EMAIL).await;

    let outcome = world
        .second_factor
        .regenerate_recovery_codes(id, PASSWORD, &client())
        .await;

    assert!(matches!(
        outcome,
        Err(RegenerateRecoveryCodesError::TotpNotEnabled)
    ));
}

#[tokio::test]
async fn turning_totp_off_needs_the_password_and_a_fresh_code_and_removes_recovery_codes() {
    let world = World::new();
    let (id, secret, codes) = with_totp(&world).await;
    let code = code_at(&secret, world.clock.now());

    let wrong_password = world
        .second_factor
        .disable_totp(id, "not-the-password", &code, &client())
        .await;
    let wrong_code = world
        .second_factor
        .disable_totp(id, PASSWORD, "000000", &client())
        .await;
    let done = world
        .second_factor
        .disable_totp(id, PASSWORD, &code, &client())
        .await;
    let again = world
        .second_factor
        .disable_totp(id, PASSWORD, &code, &client())
        .await;

    assert!(matches!(
        wrong_password,
        Err(DisableTotpError::WrongPassword)
    ));
    assert!(matches!(wrong_code, Err(DisableTotpError::InvalidCode)));
    assert!(done.is_ok());
    assert!(matches!(again, Err(DisableTotpError::NotEnabled)));
    let login = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap()
        .challenge();
    assert_eq!(login.methods, vec![SecondFactor::Email]);
    let outcome = world
        .sign_in
        .verify_code(verify(
            &login.challenge_id.to_string(),
            "recovery_code",
            &codes[0],
        ))
        .await;
    assert!(matches!(outcome, Err(VerifyCodeError::InvalidCode)));
}

/// A six-digit code no step within the accepted window (±1) produces at `world`'s time.
fn wrong_code_for(world: &World, secret: &str) -> String {
    let now = world.clock.now();
    let window: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|s| code_at(secret, now + Duration::seconds(*s)))
        .collect();
    (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|candidate| !window.contains(candidate))
        .unwrap()
}

#[tokio::test]
async fn turning_totp_off_is_throttled_after_ten_wrong_codes_even_for_the_right_one() {
    let world = World::new();
    let (id, secret, _) = with_totp(&world).await;
    let wrong = wrong_code_for(&world, &secret);

    for _ in 0..10 {
        let outcome = world
            .second_factor
            .disable_totp(id, PASSWORD, &wrong, &client())
            .await;
        assert!(
            matches!(outcome, Err(DisableTotpError::InvalidCode)),
            "{outcome:?}"
        );
    }
    let right = code_at(&secret, world.clock.now());
    let eleventh = world
        .second_factor
        .disable_totp(id, PASSWORD, &right, &client())
        .await;

    assert!(
        matches!(eleventh, Err(DisableTotpError::Throttled { retry_after_seconds }) if retry_after_seconds > 0),
        "{eleventh:?}"
    );
    assert!(
        world.second_factor.totp_enabled(id).await.unwrap(),
        "TOTP stays on"
    );
}

#[tokio::test]
async fn confirming_totp_is_throttled_after_ten_wrong_codes() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let id = world.user_id(EMAIL).await;
    let secret = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await
        .unwrap()
        .secret_base32;
    let wrong = wrong_code_for(&world, &secret);

    for _ in 0..10 {
        let outcome = world
            .second_factor
            .confirm_totp(id, &wrong, &client())
            .await;
        assert!(
            matches!(outcome, Err(ConfirmTotpError::InvalidCode)),
            "{outcome:?}"
        );
    }
    let right = code_at(&secret, world.clock.now());
    let eleventh = world
        .second_factor
        .confirm_totp(id, &right, &client())
        .await;

    assert!(
        matches!(eleventh, Err(ConfirmTotpError::Throttled { .. })),
        "{eleventh:?}"
    );
    assert!(!world.second_factor.totp_enabled(id).await.unwrap());
}

// ---- the emailed code retires once an authenticator app is on ----

#[tokio::test]
async fn with_totp_on_no_login_code_is_mailed_and_none_is_accepted_or_resent() {
    let world = World::new();
    with_totp(&world).await;
    let codes_mailed_before = login_codes_mailed(&world);

    let challenge_id = challenge(&world).await;
    let resend = world.sign_in.resend_code(&challenge_id).await;
    // Whatever six digits are tried, the email method is not judged for this account.
    let guess = world
        .sign_in
        .verify_code(verify(&challenge_id, "email", "000000"))
        .await;

    assert_eq!(login_codes_mailed(&world), codes_mailed_before);
    assert!(
        matches!(resend, Err(ResendCodeError::InvalidChallenge)),
        "{resend:?}"
    );
    assert!(
        matches!(guess, Err(VerifyCodeError::InvalidCode)),
        "{guess:?}"
    );
}

#[tokio::test]
async fn a_code_mailed_before_totp_was_turned_on_no_longer_signs_in() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let challenge_id = challenge(&world).await;
    let mailed_code = world.mailer.login_code(EMAIL);
    let id = world.user_id(EMAIL).await;
    let secret = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await
        .unwrap()
        .secret_base32;
    world
        .second_factor
        .confirm_totp(id, &code_at(&secret, world.clock.now()), &client())
        .await
        .unwrap();

    let outcome = world
        .sign_in
        .verify_code(verify(&challenge_id, "email", &mailed_code))
        .await;

    assert!(
        matches!(outcome, Err(VerifyCodeError::InvalidCode)),
        "{outcome:?}"
    );
}

fn login_codes_mailed(world: &World) -> usize {
    world
        .mailer
        .sent_to(EMAIL)
        .iter()
        .filter(|m| matches!(m, MailMessage::LoginCode { .. }))
        .count()
}

// ---- changes to sign-in methods need the password and are told to the owner ----

#[tokio::test]
async fn setting_up_totp_needs_the_password() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let id = world.user_id(EMAIL).await;

    let wrong = world
        .second_factor
        .set_up_totp(id, "not my password", &client())
        .await;

    assert!(
        matches!(wrong, Err(SetUpTotpError::WrongPassword)),
        "{wrong:?}"
    );
    assert!(
        world.store.totp_enrolment(id).await.unwrap().is_none(),
        "nothing was stored"
    );
}

#[tokio::test]
async fn turning_totp_on_mails_the_owner_and_is_recorded() {
    let world = World::new();

    let (id, _, _) = with_totp(&world).await;

    let mailed = world.mailer.sent_to(EMAIL);
    assert!(
        matches!(
            mailed.last(),
            Some(MailMessage::TotpEnabled {
                valid_hours: 72,
                ..
            })
        ),
        "{mailed:?}"
    );
    let events = world
        .store
        .audit_events(
            &AuditFilter {
                user_id: Some(id),
                kind: Some(AuditKind::TotpEnabled),
            },
            PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn new_recovery_codes_and_turning_totp_off_mail_the_owner() {
    let world = World::new();
    let (id, secret, _) = with_totp(&world).await;

    world
        .second_factor
        .regenerate_recovery_codes(id, PASSWORD, &client())
        .await
        .unwrap();
    let after_regenerating = world.mailer.sent_to(EMAIL).last().cloned();
    world
        .second_factor
        .disable_totp(
            id,
            PASSWORD,
            &code_at(&secret, world.clock.now()),
            &client(),
        )
        .await
        .unwrap();
    let after_disabling = world.mailer.sent_to(EMAIL).last().cloned();

    assert_eq!(
        after_regenerating,
        Some(MailMessage::RecoveryCodesRegenerated)
    );
    assert_eq!(after_disabling, Some(MailMessage::TotpDisabled));
}

#[tokio::test]
async fn wrong_confirmation_codes_do_not_lock_the_owners_sign_in() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let id = world.user_id(EMAIL).await;
    let secret = world
        .second_factor
        .set_up_totp(id, PASSWORD, &client())
        .await
        .unwrap()
        .secret_base32;
    let wrong = wrong_code_for(&world, &secret);
    for _ in 0..11 {
        let _ = world
            .second_factor
            .confirm_totp(id, &wrong, &client())
            .await;
    }

    let challenge_id = challenge(&world).await;
    let signed_in = world
        .sign_in
        .verify_code(verify(
            &challenge_id,
            "email",
            &world.mailer.login_code(EMAIL),
        ))
        .await;

    assert!(signed_in.is_ok(), "{signed_in:?}");
}

// ---- "this wasn't me": the mailbox plus a new password ends an app the owner did not set up ----

const OWNER_NEW_PASSWORD: &str = "the owner takes it back";

fn disown(token: &str, new_password: &str) -> ResetPasswordRequest {
    ResetPasswordRequest {
        token: token.into(),
        new_password: new_password.into(),
        client: client(),
    }
}

/// Signs in with the app's current code; the access token.
async fn signed_in_with_totp(world: &World, secret: &str) -> String {
    let challenge_id = challenge(world).await;
    world
        .sign_in
        .verify_code(verify(
            &challenge_id,
            "totp",
            &code_at(secret, world.clock.now()),
        ))
        .await
        .unwrap()
        .access_token
}

#[tokio::test]
async fn the_disown_token_turns_the_app_off_sets_the_password_and_ends_every_session() {
    let world = World::new();
    let (id, secret, _) = with_totp(&world).await;
    let intruder = signed_in_with_totp(&world, &secret).await;
    let token = world.mailer.disown_token(EMAIL);

    world
        .password_recovery
        .disown_totp(disown(&token, OWNER_NEW_PASSWORD))
        .await
        .unwrap();

    assert!(!world.second_factor.totp_enabled(id).await.unwrap());
    assert!(world.sessions.authenticate(&intruder).await.is_err());
    let next = world
        .sign_in
        .login(World::login_request(EMAIL, OWNER_NEW_PASSWORD))
        .await
        .unwrap()
        .challenge();
    assert_eq!(next.methods, vec![SecondFactor::Email]);
    let old = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await;
    assert!(matches!(old, Err(LoginError::InvalidCredentials)));
    let disowned = world
        .store
        .audit_events(
            &AuditFilter {
                user_id: Some(id),
                kind: Some(AuditKind::TotpDisabled),
            },
            PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(disowned[0].detail.as_deref(), Some("disowned"));
}

#[tokio::test]
async fn the_disown_token_works_once_and_not_after_seventy_two_hours() {
    let world = World::new();
    with_totp(&world).await;
    let token = world.mailer.disown_token(EMAIL);
    world.clock.advance(Duration::hours(72));

    let late = world
        .password_recovery
        .disown_totp(disown(&token, OWNER_NEW_PASSWORD))
        .await;

    assert!(
        matches!(late, Err(ResetPasswordError::InvalidToken)),
        "{late:?}"
    );
}

#[tokio::test]
async fn a_disown_token_is_spent_once_used_and_is_no_reset_token() {
    let world = World::new();
    with_totp(&world).await;
    let token = world.mailer.disown_token(EMAIL);

    let as_reset = world
        .password_recovery
        .reset_password(disown(&token, OWNER_NEW_PASSWORD))
        .await;
    world
        .password_recovery
        .disown_totp(disown(&token, OWNER_NEW_PASSWORD))
        .await
        .unwrap();
    let again = world
        .password_recovery
        .disown_totp(disown(&token, "yet another passphrase"))
        .await;

    assert!(matches!(as_reset, Err(ResetPasswordError::InvalidToken)));
    assert!(matches!(again, Err(ResetPasswordError::InvalidToken)));
}

#[tokio::test]
async fn turning_the_app_off_spends_its_disown_token() {
    let world = World::new();
    let (id, secret, _) = with_totp(&world).await;
    let token = world.mailer.disown_token(EMAIL);
    world
        .second_factor
        .disable_totp(
            id,
            PASSWORD,
            &code_at(&secret, world.clock.now()),
            &client(),
        )
        .await
        .unwrap();

    let later = world
        .password_recovery
        .disown_totp(disown(&token, OWNER_NEW_PASSWORD))
        .await;

    assert!(matches!(later, Err(ResetPasswordError::InvalidToken)));
}
