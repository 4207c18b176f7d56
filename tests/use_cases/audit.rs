//! Core use cases and the security-event log: every account event is recorded with its
//! time, user, IP address and user agent; managers alone read it back. In-memory adapters, a
//! manual clock, and a mockall log where the number of records matters.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;

use allomedia::core::audit::{ListAuditEventsError, ListAuditEventsRequest};
use allomedia::core::auth::{
    ChangePasswordRequest, DisableTotpError, LoginError, RegenerateRecoveryCodesError,
    ResetPasswordRequest, VerifyCodeRequest,
};
use allomedia::core::model::{
    AuditEvent, AuditFilter, AuditKind, ClientInfo, Manager, NotAManager, PageRequest, Principal,
    UserId,
};
use allomedia::core::people::{ChangeAccessRequest, DeleteOwnAccountError};
use allomedia::core::ports::{AuditLog, Clock, StoreError};
use testkit::authenticator::code_at;
use testkit::{ExpectChallenge, PASSWORD, World, client};

const EMAIL: &str = "amina@example.com";
const WRONG: &str = "not-the-password-at-all";

/// Every event in the store, oldest first.
async fn all_events(world: &World) -> Vec<AuditEvent> {
    let mut events = world
        .store
        .audit_events(&AuditFilter::default(), PageRequest::first(100))
        .await
        .unwrap();
    events.reverse();
    events
}

/// The kinds of the events about `user`, oldest first.
async fn kinds_of(world: &World, user: UserId) -> Vec<AuditKind> {
    all_events(world)
        .await
        .into_iter()
        .filter(|event| event.user_id == Some(user))
        .map(|event| event.kind)
        .collect()
}

/// The newest event of `kind`.
async fn last(world: &World, kind: AuditKind) -> AuditEvent {
    all_events(world)
        .await
        .into_iter()
        .rev()
        .find(|event| event.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} event"))
}

/// A verified client with the authenticator app on: its id, base32 secret and recovery codes.
async fn with_totp(world: &World) -> (UserId, String, Vec<String>) {
    world.totp_client(EMAIL).await
}

async fn principal_of(world: &World, email: &str) -> Principal {
    let tokens = world.signed_in(email).await;
    world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap()
}

/// A manager made by the command line, signed in.
async fn a_manager(world: &World) -> Manager {
    world
        .registration
        .create_manager("Salma", "salma@example.com", PASSWORD)
        .await
        .unwrap();
    principal_of(world, "salma@example.com")
        .await
        .as_manager()
        .expect("a manager made by the command line")
}

async fn wrong_login(world: &World, email: &str) -> LoginError {
    world
        .sign_in
        .login(World::login_request(email, WRONG))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn the_account_journey_is_recorded_with_its_time_user_ip_and_user_agent() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let principal = principal_of(&world, EMAIL).await;
    world.clock.advance(Duration::minutes(3));

    world.sessions.logout(principal, &client()).await.unwrap();

    let id = world.user_id(EMAIL).await;
    assert_eq!(
        kinds_of(&world, id).await,
        [
            AuditKind::Registered,
            AuditKind::EmailVerified,
            AuditKind::LoginSucceeded,
            AuditKind::SecondFactorPassed,
            AuditKind::SessionEnded,
        ]
    );
    let ended = last(&world, AuditKind::SessionEnded).await;
    assert_eq!(ended.at, world.clock.now());
    assert_eq!(ended.client, client());
    assert_eq!(ended.actor_id, None);
    assert_eq!(
        ended.detail.as_deref(),
        Some(format!("session={}", principal.session_id).as_str())
    );
    let passed = last(&world, AuditKind::SecondFactorPassed).await;
    assert_eq!(passed.detail.as_deref(), Some("method=email"));
    let registered = last(&world, AuditKind::Registered).await;
    assert_eq!(registered.detail.as_deref(), Some("role=client"));
}

#[tokio::test]
async fn a_wrong_password_is_recorded_against_its_account_and_an_unknown_email_against_nobody() {
    let world = World::new();
    world.verified_client(EMAIL).await;

    wrong_login(&world, EMAIL).await;
    wrong_login(&world, "nobody@example.com").await;

    let failures: Vec<AuditEvent> = all_events(&world)
        .await
        .into_iter()
        .filter(|event| event.kind == AuditKind::LoginFailed)
        .collect();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].user_id, Some(world.user_id(EMAIL).await));
    assert_eq!(failures[1].user_id, None);
    assert_eq!(failures[1].client, client());
}

#[tokio::test]
async fn a_login_throttled_after_ten_wrong_passwords_is_recorded_as_throttled() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    for _ in 0..10 {
        wrong_login(&world, EMAIL).await;
    }

    let refused = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap_err();

    assert!(
        matches!(refused, LoginError::Throttled { .. }),
        "{refused:?}"
    );
    let throttled = last(&world, AuditKind::Throttled).await;
    assert_eq!(throttled.user_id, Some(world.user_id(EMAIL).await));
    assert_eq!(throttled.detail.as_deref(), Some("password"));
}

#[tokio::test]
async fn a_correct_password_refused_for_the_account_state_is_recorded_with_the_reason() {
    let world = World::new();
    world
        .registration
        .register(World::registration("Amina", EMAIL))
        .await
        .unwrap();

    let refused = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap_err();

    assert!(matches!(refused, LoginError::InvalidCredentials));
    let event = last(&world, AuditKind::LoginRefused).await;
    assert_eq!(event.user_id, Some(world.user_id(EMAIL).await));
    assert_eq!(event.detail.as_deref(), Some("email_not_verified"));
}

#[tokio::test]
async fn a_wrong_code_is_recorded_with_its_method_and_a_burned_challenge_as_throttled() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let challenge = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap()
        .challenge();
    let wrong = VerifyCodeRequest {
        challenge_id: challenge.challenge_id.to_string(),
        code: "000000x".into(),
        client: client(),
        ..VerifyCodeRequest::default()
    };

    for _ in 0..6 {
        world.sign_in.verify_code(wrong.clone()).await.unwrap_err();
    }

    let id = world.user_id(EMAIL).await;
    let kinds = kinds_of(&world, id).await;
    let failed = kinds
        .iter()
        .filter(|kind| **kind == AuditKind::SecondFactorFailed)
        .count();
    assert_eq!(failed, 5, "five attempts judged: {kinds:?}");
    assert_eq!(kinds.last(), Some(&AuditKind::Throttled));
    let failure = last(&world, AuditKind::SecondFactorFailed).await;
    assert_eq!(failure.detail.as_deref(), Some("method=email"));
    let burned = last(&world, AuditKind::Throttled).await;
    assert_eq!(burned.detail.as_deref(), Some("challenge_attempts"));
}

#[tokio::test]
async fn totp_turned_on_a_recovery_code_used_and_totp_turned_off_are_recorded() {
    let world = World::new();
    let (id, secret, codes) = with_totp(&world).await;
    world.clock.advance(Duration::seconds(30));
    let challenge = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap()
        .challenge();
    world
        .sign_in
        .verify_code(VerifyCodeRequest {
            challenge_id: challenge.challenge_id.to_string(),
            code: codes[0].clone(),
            method: Some("recovery_code".into()),
            client: client(),
            ..VerifyCodeRequest::default()
        })
        .await
        .unwrap();
    world.clock.advance(Duration::seconds(30));

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

    let kinds = kinds_of(&world, id).await;
    let position = |kind| kinds.iter().position(|k| *k == kind).unwrap();
    assert!(position(AuditKind::TotpEnabled) < position(AuditKind::RecoveryCodeUsed));
    assert!(position(AuditKind::RecoveryCodeUsed) < position(AuditKind::TotpDisabled));
    let passed = last(&world, AuditKind::SecondFactorPassed).await;
    assert_eq!(passed.detail.as_deref(), Some("method=recovery_code"));
}

#[tokio::test]
async fn a_reset_requested_a_reset_and_a_change_of_password_are_recorded() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let id = world.user_id(EMAIL).await;
    world
        .password_recovery
        .forgot_password(EMAIL, &client())
        .await
        .unwrap();
    world
        .password_recovery
        .reset_password(ResetPasswordRequest {
            token: world.mailer.reset_token(EMAIL),
            new_password: "citron-falaise-orage".into(),
            client: client(),
        })
        .await
        .unwrap();
    let principal = {
        let challenge = world
            .sign_in
            .login(World::login_request(EMAIL, "citron-falaise-orage"))
            .await
            .unwrap()
            .challenge();
        let tokens = world
            .sign_in
            .verify_code(VerifyCodeRequest {
                challenge_id: challenge.challenge_id.to_string(),
                code: world.mailer.login_code(EMAIL),
                client: client(),
                ..VerifyCodeRequest::default()
            })
            .await
            .unwrap();
        world
            .sessions
            .authenticate(&tokens.access_token)
            .await
            .unwrap()
    };

    world
        .password_change
        .change_password(
            principal,
            ChangePasswordRequest {
                current_password: "citron-falaise-orage".into(),
                new_password: PASSWORD.into(),
                client: client(),
            },
        )
        .await
        .unwrap();

    let kinds = kinds_of(&world, id).await;
    for kind in [
        AuditKind::PasswordResetRequested,
        AuditKind::PasswordReset,
        AuditKind::PasswordChanged,
    ] {
        assert_eq!(
            kinds.iter().filter(|k| **k == kind).count(),
            1,
            "{kind}: {kinds:?}"
        );
    }
}

#[tokio::test]
async fn forgetting_the_password_of_an_unknown_address_records_nothing() {
    let world = World::new();

    world
        .password_recovery
        .forgot_password("nobody@example.com", &client())
        .await
        .unwrap();

    assert!(all_events(&world).await.is_empty());
}

#[tokio::test]
async fn a_replayed_refresh_token_is_recorded_once_with_its_session() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let tokens = world.signed_in(EMAIL).await;
    world
        .sessions
        .refresh(&tokens.refresh_token, &client())
        .await
        .unwrap();
    world.clock.advance(Duration::minutes(1));

    world
        .sessions
        .refresh(&tokens.refresh_token, &client())
        .await
        .unwrap_err();
    world
        .sessions
        .refresh(&tokens.refresh_token, &client())
        .await
        .unwrap_err();

    let reused: Vec<AuditEvent> = all_events(&world)
        .await
        .into_iter()
        .filter(|event| event.kind == AuditKind::RefreshTokenReused)
        .collect();
    assert_eq!(reused.len(), 1, "the session is revoked once");
    assert_eq!(
        reused[0].detail.as_deref(),
        Some(format!("session={}", tokens.session_id).as_str())
    );
}

#[tokio::test]
async fn a_managers_changes_name_the_manager_and_outlive_the_deleted_account() {
    let world = World::new();
    let manager = a_manager(&world).await;
    world.verified_client(EMAIL).await;
    let target = world.user_id(EMAIL).await;
    world
        .people
        .change_access(
            manager,
            target,
            ChangeAccessRequest {
                role: Some("courier".into()),
                status: Some("suspended".into()),
            },
            &client(),
        )
        .await
        .unwrap();

    world
        .people
        .delete(manager, target, &client())
        .await
        .unwrap();

    let kinds = kinds_of(&world, target).await;
    assert_eq!(
        &kinds[kinds.len() - 3..],
        [
            AuditKind::RoleChanged,
            AuditKind::StatusChanged,
            AuditKind::AccountDeleted
        ]
    );
    let role = last(&world, AuditKind::RoleChanged).await;
    assert_eq!(role.actor_id, Some(manager.user_id()));
    assert_eq!(role.detail.as_deref(), Some("role=courier"));
    let status = last(&world, AuditKind::StatusChanged).await;
    assert_eq!(status.detail.as_deref(), Some("status=suspended"));
    assert_eq!(
        last(&world, AuditKind::AccountDeleted).await.actor_id,
        Some(manager.user_id())
    );
    let provisioned = last(&world, AuditKind::Registered).await;
    assert_eq!(provisioned.user_id, Some(target));
}

#[tokio::test]
async fn only_managers_list_events_filtered_by_user_and_kind_one_page_at_a_time() {
    let world = World::new();
    let manager = a_manager(&world).await;
    world.verified_client(EMAIL).await;
    let amina = world.user_id(EMAIL).await;
    let client_principal = principal_of(&world, EMAIL).await;
    wrong_login(&world, EMAIL).await;
    wrong_login(&world, EMAIL).await;
    let trail = &world.audit;

    // Listing takes a `Manager`, which a client's principal cannot become.
    let forbidden = client_principal.as_manager();
    let failures = trail
        .list(
            manager,
            ListAuditEventsRequest {
                user_id: Some(amina.to_string()),
                kind: Some("login_failed".into()),
                limit: Some(1),
                cursor: None,
            },
        )
        .await
        .unwrap();
    let second_page = trail
        .list(
            manager,
            ListAuditEventsRequest {
                user_id: Some(amina.to_string()),
                kind: Some("login_failed".into()),
                limit: Some(1),
                cursor: failures.next_cursor.clone(),
            },
        )
        .await
        .unwrap();

    assert_eq!(forbidden, Err(NotAManager));
    assert_eq!(failures.items.len(), 1);
    assert_eq!(second_page.items.len(), 1);
    assert_eq!(second_page.next_cursor, None);
    assert!(
        failures.items[0].id > second_page.items[0].id,
        "newest first"
    );
    for event in failures.items.iter().chain(&second_page.items) {
        assert_eq!(event.kind, AuditKind::LoginFailed);
        assert_eq!(event.user_id, Some(amina));
    }
}

#[tokio::test]
async fn an_unknown_kind_a_malformed_user_id_and_a_bad_limit_are_refused_by_name() {
    let world = World::new();
    let manager = a_manager(&world).await;

    let refused = world
        .audit
        .list(
            manager,
            ListAuditEventsRequest {
                user_id: Some("not-a-uuid".into()),
                kind: Some("logged_in".into()),
                limit: Some(0),
                cursor: None,
            },
        )
        .await;

    let Err(ListAuditEventsError::Invalid(errors)) = refused else {
        panic!("expected a validation error, got {refused:?}");
    };
    let fields: Vec<&str> = errors.fields().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["user_id", "kind", "limit"]);
}

/// Ten wrong passwords through `wrong`, then the right one through `right`: the right one is
/// throttled too, and the throttled attempt is recorded.
async fn assert_password_rechecks_throttle<W, R, E>(world: &World, wrong: W, right: R)
where
    W: AsyncFn() -> E,
    R: AsyncFn() -> E,
    E: std::fmt::Debug,
{
    for _ in 0..10 {
        wrong().await;
    }
    let refused = right().await;
    let id = world.user_id(EMAIL).await;
    let kinds = kinds_of(world, id).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == AuditKind::PasswordCheckFailed)
            .count(),
        10,
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&AuditKind::Throttled), "{refused:?}");
}

#[tokio::test]
async fn deleting_ones_account_is_throttled_after_ten_wrong_passwords_even_for_the_right_one() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let principal = principal_of(&world, EMAIL).await;
    let delete = async |password: &str| {
        world
            .people
            .delete_own_account(principal, password, &client())
            .await
            .unwrap_err()
    };

    assert_password_rechecks_throttle(
        &world,
        async || delete(WRONG).await,
        async || {
            let refused = delete(PASSWORD).await;
            assert!(
                matches!(refused, DeleteOwnAccountError::Throttled { .. }),
                "{refused:?}"
            );
            refused
        },
    )
    .await;
}

#[tokio::test]
async fn new_recovery_codes_and_turning_totp_off_share_the_password_throttle() {
    let world = World::new();
    let (id, _, _) = with_totp(&world).await;
    let regenerate = async |password: &str| {
        world
            .second_factor
            .regenerate_recovery_codes(id, password, &client())
            .await
            .unwrap_err()
    };

    assert_password_rechecks_throttle(
        &world,
        async || regenerate(WRONG).await,
        async || regenerate(PASSWORD).await,
    )
    .await;

    let regenerating = regenerate(PASSWORD).await;
    let disabling = world
        .second_factor
        .disable_totp(id, PASSWORD, "000000", &client())
        .await
        .unwrap_err();
    assert!(matches!(
        regenerating,
        RegenerateRecoveryCodesError::PasswordThrottled { .. }
    ));
    assert!(matches!(
        disabling,
        DisableTotpError::PasswordThrottled { .. }
    ));
}

mockall::mock! {
    pub Log {}
    #[async_trait]
    impl AuditLog for Log {
        async fn record(&self, event: &AuditEvent) -> Result<(), StoreError>;
        async fn audit_events(
            &self,
            filter: &AuditFilter,
            page: PageRequest,
        ) -> Result<Vec<AuditEvent>, StoreError>;
    }
}

#[tokio::test]
async fn a_wrong_password_for_an_unknown_email_is_recorded_exactly_once() {
    let mut log = MockLog::new();
    log.expect_record()
        .withf(|event| {
            event.kind == AuditKind::LoginFailed
                && event.user_id.is_none()
                && event.client == client()
        })
        .times(1)
        .returning(|_| Ok(()));
    let world = World::with_audit_log(Arc::new(log));

    let refused = wrong_login(&world, "nobody@example.com").await;

    assert!(matches!(refused, LoginError::InvalidCredentials));
}

#[tokio::test]
async fn a_log_that_fails_to_record_never_changes_the_answer() {
    let mut log = MockLog::new();
    // Registered, EmailVerified, LoginSucceeded (the challenge), SecondFactorPassed: every
    // event of the journey is attempted, and each attempt fails.
    log.expect_record()
        .times(4)
        .returning(|_| Err(StoreError::new(anyhow::anyhow!("disk full"))));
    let world = World::with_audit_log(Arc::new(log));

    world.verified_client(EMAIL).await;
    let tokens = world.signed_in(EMAIL).await;

    assert!(
        world
            .sessions
            .authenticate(&tokens.access_token)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn events_keep_the_client_they_came_from() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let elsewhere = ClientInfo {
        ip: Some("198.51.100.20".into()),
        user_agent: None,
    };

    world
        .sign_in
        .login(allomedia::core::auth::LoginRequest {
            client: elsewhere.clone(),
            ..World::login_request(EMAIL, WRONG)
        })
        .await
        .unwrap_err();

    assert_eq!(last(&world, AuditKind::LoginFailed).await.client, elsewhere);
}
