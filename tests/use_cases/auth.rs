//! Core use cases of account security, against in-memory adapters and a manual clock.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use mockall::predicate::function;

use allomedia::core::auth::{
    AuthenticateError, CreateManagerError, LoginError, RefreshError, RegisterError,
    RegisterRequest, ResendCodeError, VerifyCodeError, VerifyEmailError,
};
use allomedia::core::model::{AccountStatus, Email, Locale, Mail, MailMessage, Role};
use allomedia::core::ports::{Clock, MailError, Mailer, UserStore};
use allomedia::core::profile::{ProfileError, UpdateProfileRequest};
use testkit::{
    CapturingMailer, ExpectChallenge, PASSWORD, World, client, code_request, other_code,
};

mockall::mock! {
    pub Mailer {}
    #[async_trait]
    impl Mailer for Mailer {
        async fn send(&self, mail: Mail) -> Result<(), MailError>;
    }
}

fn world_with(mock: MockMailer) -> World {
    World::with_mailer(Arc::new(mock), Arc::new(CapturingMailer::default()))
}

// ---- registration ----

#[tokio::test]
async fn registration_mails_one_verification_link() {
    let mut mailer = MockMailer::new();
    mailer
        .expect_send()
        .with(function(|mail: &Mail| {
            mail.to.as_str() == "amina@example.com"
                && matches!(
                    mail.message,
                    MailMessage::VerifyEmail {
                        valid_hours: 24,
                        ..
                    }
                )
        }))
        .times(1)
        .returning(|_| Ok(()));
    let world = world_with(mailer);

    world
        .registration
        .register(World::registration("Amina", " Amina@Example.com "))
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_registration_reports_every_field_and_sends_no_mail() {
    let mut mailer = MockMailer::new();
    mailer.expect_send().times(0);
    let world = world_with(mailer);

    let error = world
        .registration
        .register(RegisterRequest {
            name: " ".into(),
            email: "not-an-email".into(),
            password: "password".into(),
            role: Some("manager".into()),
            phone: Some("call me".into()),
            locale: Locale::default(),
            client: testkit::client(),
        })
        .await
        .unwrap_err();

    let RegisterError::Invalid(errors) = error else {
        panic!("expected validation errors, got {error:?}");
    };
    let fields: Vec<&str> = errors.fields().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "email", "password", "role", "phone"]);
}

#[tokio::test]
async fn registering_a_taken_email_mails_its_owner_instead_and_answers_the_same() {
    let mut mailer = MockMailer::new();
    let mut sequence = mockall::Sequence::new();
    mailer
        .expect_send()
        .withf(|mail| matches!(mail.message, MailMessage::VerifyEmail { .. }))
        .times(1)
        .in_sequence(&mut sequence)
        .returning(|_| Ok(()));
    mailer
        .expect_send()
        .withf(|mail| {
            mail.message == MailMessage::RegistrationAttempt
                && mail.to.as_str() == "amina@example.com"
        })
        .times(1)
        .in_sequence(&mut sequence)
        .returning(|_| Ok(()));
    let world = world_with(mailer);
    world
        .registration
        .register(World::registration("Amina", "amina@example.com"))
        .await
        .unwrap();

    let second = world
        .registration
        .register(World::registration("Mallory", "AMINA@example.com"))
        .await;

    assert!(second.is_ok());
    let stored = world
        .store
        .user_by_email(&Email::parse("amina@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.name.as_str(),
        "Amina",
        "the first account is untouched"
    );
}

#[tokio::test]
async fn a_mail_that_cannot_be_sent_does_not_fail_the_registration() {
    let mut mailer = MockMailer::new();
    mailer
        .expect_send()
        .times(1)
        .returning(|_| Err(MailError(anyhow::anyhow!("smtp down"))));
    let world = world_with(mailer);

    world
        .registration
        .register(World::registration("Amina", "amina@example.com"))
        .await
        .unwrap();

    let stored = world
        .store
        .user_by_email(&Email::parse("amina@example.com").unwrap())
        .await
        .unwrap();
    assert!(stored.is_some(), "the account is kept for a later resend");
}

#[tokio::test]
async fn self_registered_couriers_wait_for_approval_and_clients_do_not() {
    let world = World::new();
    let mut courier = World::registration("Youssef", "youssef@example.com");
    courier.role = Some("courier".into());
    world.registration.register(courier).await.unwrap();
    world
        .registration
        .register(World::registration("Amina", "amina@example.com"))
        .await
        .unwrap();

    let courier = world
        .store
        .user_by_email(&Email::parse("youssef@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    let client = world
        .store
        .user_by_email(&Email::parse("amina@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (courier.role, courier.status),
        (Role::Courier, AccountStatus::PendingApproval)
    );
    assert_eq!(
        (client.role, client.status),
        (Role::Client, AccountStatus::Active)
    );
    assert!(!client.email_verified());
}

// ---- email verification ----

#[tokio::test]
async fn a_verification_link_works_once() {
    let world = World::new();
    world
        .registration
        .register(World::registration("Amina", "amina@example.com"))
        .await
        .unwrap();
    let token = world.mailer.verification_token("amina@example.com");

    world
        .registration
        .verify_email(&token, &testkit::client())
        .await
        .unwrap();
    let again = world
        .registration
        .verify_email(&token, &testkit::client())
        .await;

    assert!(matches!(again, Err(VerifyEmailError::InvalidToken)));
    let user = world
        .store
        .user_by_email(&Email::parse("amina@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(user.email_verified());
}

#[tokio::test]
async fn a_verification_link_expires_after_24_hours() {
    let world = World::new();
    world
        .registration
        .register(World::registration("Amina", "amina@example.com"))
        .await
        .unwrap();
    let token = world.mailer.verification_token("amina@example.com");

    world.clock.advance(Duration::hours(24));

    assert!(matches!(
        world
            .registration
            .verify_email(&token, &testkit::client())
            .await,
        Err(VerifyEmailError::InvalidToken)
    ));
}

#[tokio::test]
async fn unknown_verification_tokens_are_refused() {
    let world = World::new();
    for token in ["", "nope", &"x".repeat(300)] {
        assert!(matches!(
            world
                .registration
                .verify_email(token, &testkit::client())
                .await,
            Err(VerifyEmailError::InvalidToken)
        ));
    }
}

#[tokio::test]
async fn resending_verification_mails_only_unverified_accounts() {
    let world = World::new();
    world
        .registration
        .register(World::registration("Amina", "amina@example.com"))
        .await
        .unwrap();
    world.verified_client("karim@example.com").await;

    world
        .registration
        .resend_verification("amina@example.com")
        .await
        .unwrap();
    world
        .registration
        .resend_verification("karim@example.com")
        .await
        .unwrap();
    world
        .registration
        .resend_verification("nobody@example.com")
        .await
        .unwrap();
    world
        .registration
        .resend_verification("not an email")
        .await
        .unwrap();

    let verification_mails = |email| {
        world
            .mailer
            .sent_to(email)
            .into_iter()
            .filter(|m| matches!(m, MailMessage::VerifyEmail { .. }))
            .count()
    };
    assert_eq!(verification_mails("amina@example.com"), 2);
    assert_eq!(verification_mails("karim@example.com"), 1);
    assert_eq!(world.mailer.sent().len(), 3);
    // The newest link works.
    world
        .registration
        .verify_email(
            &world.mailer.verification_token("amina@example.com"),
            &testkit::client(),
        )
        .await
        .unwrap();
}

// ---- login, first step ----

#[tokio::test]
async fn unknown_email_and_wrong_password_fail_alike() {
    let world = World::new();
    world.verified_client("amina@example.com").await;

    let unknown = world
        .sign_in
        .login(World::login_request("nobody@example.com", PASSWORD))
        .await;
    let wrong = world
        .sign_in
        .login(World::login_request("amina@example.com", "wrong password!"))
        .await;
    let malformed = world
        .sign_in
        .login(World::login_request("not an email", PASSWORD))
        .await;
    let oversized = world
        .sign_in
        .login(World::login_request("amina@example.com", &"p".repeat(5000)))
        .await;

    for outcome in [unknown, wrong, malformed, oversized] {
        assert!(
            matches!(outcome, Err(LoginError::InvalidCredentials)),
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn an_unverified_address_answers_a_correct_password_like_a_wrong_one_and_remails_the_link() {
    let world = World::new();
    world
        .registration
        .register(World::registration("Amina", "amina@example.com"))
        .await
        .unwrap();
    let first_link = world.mailer.verification_token("amina@example.com");

    let wrong = world
        .sign_in
        .login(World::login_request("amina@example.com", "wrong password!"))
        .await;
    let mails_after_wrong = world.mailer.sent_to("amina@example.com").len();
    let right = world
        .sign_in
        .login(World::login_request("Amina@Example.com", PASSWORD))
        .await;

    assert!(matches!(wrong, Err(LoginError::InvalidCredentials)));
    assert!(matches!(right, Err(LoginError::InvalidCredentials)));
    // Only the right password re-mails the link, and only to the address itself.
    assert_eq!(mails_after_wrong, 1);
    let second_link = world.mailer.verification_token("amina@example.com");
    assert_ne!(second_link, first_link);
    assert_eq!(world.mailer.sent().len(), 2);
    world
        .registration
        .verify_email(&second_link, &client())
        .await
        .unwrap();
}

#[tokio::test]
async fn registering_a_free_or_a_taken_address_then_signing_in_looks_the_same() {
    // The attacker registers X with their own password, then signs in with it: a free X
    // (their own unverified account) must answer exactly like a taken one.
    let world = World::new();
    world.verified_client("taken@example.com").await;
    let mut outcomes = Vec::new();
    for email in ["free@example.com", "taken@example.com"] {
        let mut attacker = World::registration("Mallory", email);
        attacker.password = "mallory-own-passphrase".into();
        world.registration.register(attacker).await.unwrap();
        let mut answers = Vec::new();
        // Nine wrong passwords, the attacker's own, then wrong ones until the throttle: a
        // right password that cleared the count would stand out here too.
        for attempt in 0..14 {
            let password = if attempt == 9 {
                "mallory-own-passphrase"
            } else {
                "a wrong passphrase"
            };
            let answer = world
                .sign_in
                .login(World::login_request(email, password))
                .await;
            answers.push(match answer {
                Err(LoginError::InvalidCredentials) => "invalid_credentials".to_owned(),
                Err(LoginError::Throttled { .. }) => "throttled".to_owned(),
                other => format!("{other:?}"),
            });
        }
        outcomes.push(answers);
    }

    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(outcomes[0][9], "invalid_credentials");
    assert_eq!(outcomes[0][10], "throttled");
}

#[tokio::test]
async fn a_courier_waiting_for_approval_cannot_sign_in() {
    let world = World::new();
    let mut courier = World::registration("Youssef", "youssef@example.com");
    courier.role = Some("courier".into());
    world.registration.register(courier).await.unwrap();
    world
        .registration
        .verify_email(
            &world.mailer.verification_token("youssef@example.com"),
            &testkit::client(),
        )
        .await
        .unwrap();

    let outcome = world
        .sign_in
        .login(World::login_request("youssef@example.com", PASSWORD))
        .await;

    assert!(matches!(outcome, Err(LoginError::PendingApproval)));
}

#[tokio::test]
async fn a_correct_password_opens_an_email_challenge_and_mails_a_six_digit_code() {
    let world = World::new();
    world.verified_client("amina@example.com").await;

    let challenge = world
        .sign_in
        .login(World::login_request("amina@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();

    assert_eq!(challenge.methods.len(), 1);
    assert_eq!(challenge.methods[0].as_str(), "email");
    assert_eq!(
        challenge.expires_at,
        Clock::now(&world.clock) + Duration::minutes(10)
    );
    let code = world.mailer.login_code("amina@example.com");
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
}

// ---- login, second step ----

#[tokio::test]
async fn the_right_code_opens_a_session_and_works_only_once() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let challenge = world
        .sign_in
        .login(World::login_request("amina@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();
    let code = world.mailer.login_code("amina@example.com");

    let tokens = world
        .sign_in
        .verify_code(code_request(challenge.challenge_id, &code))
        .await
        .unwrap();
    let replay = world
        .sign_in
        .verify_code(code_request(challenge.challenge_id, &code))
        .await;

    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();
    assert_eq!(principal.session_id, tokens.session_id);
    assert!(matches!(replay, Err(VerifyCodeError::InvalidCode)));
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let challenge = world
        .sign_in
        .login(World::login_request("amina@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();
    let code = world.mailer.login_code("amina@example.com");

    world.clock.advance(Duration::minutes(10));

    let outcome = world
        .sign_in
        .verify_code(code_request(challenge.challenge_id, &code))
        .await;
    assert!(matches!(outcome, Err(VerifyCodeError::InvalidCode)));
}

#[tokio::test]
async fn five_wrong_codes_burn_the_challenge_even_for_the_right_code() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let challenge = world
        .sign_in
        .login(World::login_request("amina@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();
    let code = world.mailer.login_code("amina@example.com");

    for _ in 0..5 {
        let outcome = world
            .sign_in
            .verify_code(code_request(challenge.challenge_id, &other_code(&code)))
            .await;
        assert!(matches!(outcome, Err(VerifyCodeError::InvalidCode)));
    }
    let sixth = world
        .sign_in
        .verify_code(code_request(challenge.challenge_id, &code))
        .await;

    assert!(matches!(sixth, Err(VerifyCodeError::TooManyAttempts)));
}

#[tokio::test]
async fn methods_the_challenge_does_not_offer_are_refused() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let challenge = world
        .sign_in
        .login(World::login_request("amina@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();
    let code = world.mailer.login_code("amina@example.com");

    let mut request = code_request(challenge.challenge_id, &code);
    request.method = Some("totp".into());

    assert!(matches!(
        world.sign_in.verify_code(request).await,
        Err(VerifyCodeError::InvalidCode)
    ));
}

#[tokio::test]
async fn unknown_or_malformed_challenges_are_invalid_codes() {
    let world = World::new();
    for id in ["", "not-a-uuid", "0190f5f0-0000-7000-8000-000000000000"] {
        let outcome = world.sign_in.verify_code(code_request(id, "123456")).await;
        assert!(matches!(outcome, Err(VerifyCodeError::InvalidCode)), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_parallel_right_answers_exactly_one_opens_a_session() {
    let world = Arc::new(World::new());
    world.verified_client("amina@example.com").await;
    let challenge = world
        .sign_in
        .login(World::login_request("amina@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();
    let code = world.mailer.login_code("amina@example.com");

    let attempts: Vec<_> = (0..4)
        .map(|_| {
            let world = world.clone();
            let request = code_request(challenge.challenge_id, &code);
            tokio::spawn(async move { world.sign_in.verify_code(request).await.is_ok() })
        })
        .collect();
    let mut winners = 0;
    for attempt in attempts {
        winners += usize::from(attempt.await.unwrap());
    }

    assert_eq!(winners, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_codes_never_get_more_than_five_judged() {
    let world = Arc::new(World::new());
    world.verified_client("amina@example.com").await;
    let challenge = world
        .sign_in
        .login(World::login_request("amina@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();
    let wrong = other_code(&world.mailer.login_code("amina@example.com"));

    let attempts: Vec<_> = (0..50)
        .map(|_| {
            let world = world.clone();
            let request = code_request(challenge.challenge_id, &wrong);
            tokio::spawn(async move { world.sign_in.verify_code(request).await })
        })
        .collect();
    let mut judged = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Err(VerifyCodeError::InvalidCode) => judged += 1,
            Err(VerifyCodeError::TooManyAttempts) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }

    assert_eq!(judged, 5);
}

#[tokio::test]
async fn a_resent_code_replaces_the_old_one_after_the_cooldown() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let challenge = world
        .sign_in
        .login(World::login_request("amina@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();
    let first = world.mailer.login_code("amina@example.com");
    let id = challenge.challenge_id.to_string();

    let too_soon = world.sign_in.resend_code(&id).await;
    world.clock.advance(Duration::seconds(30));
    world.sign_in.resend_code(&id).await.unwrap();
    let second = world.mailer.login_code("amina@example.com");

    assert!(matches!(
        too_soon,
        Err(ResendCodeError::TooSoon {
            retry_after_seconds: 30
        })
    ));
    if first != second {
        let old = world.sign_in.verify_code(code_request(&id, &first)).await;
        assert!(
            matches!(old, Err(VerifyCodeError::InvalidCode)),
            "the old code is dead"
        );
    }
    world
        .sign_in
        .verify_code(code_request(&id, &second))
        .await
        .unwrap();
}

#[tokio::test]
async fn resending_for_a_finished_challenge_is_refused() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let challenge = world
        .sign_in
        .login(World::login_request("amina@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();
    let id = challenge.challenge_id.to_string();
    world
        .sign_in
        .verify_code(code_request(
            &id,
            &world.mailer.login_code("amina@example.com"),
        ))
        .await
        .unwrap();
    world.clock.advance(Duration::seconds(31));

    assert!(matches!(
        world.sign_in.resend_code(&id).await,
        Err(ResendCodeError::InvalidChallenge)
    ));
    assert!(matches!(
        world.sign_in.resend_code("garbage").await,
        Err(ResendCodeError::InvalidChallenge)
    ));
}

// ---- sessions ----

#[tokio::test]
async fn refreshing_rotates_the_refresh_token_within_the_same_session() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let first = world.signed_in("amina@example.com").await;

    let second = world
        .sessions
        .refresh(&first.refresh_token, &testkit::client())
        .await
        .unwrap();

    assert_eq!(second.session_id, first.session_id);
    assert_ne!(second.refresh_token, first.refresh_token);
    world
        .sessions
        .authenticate(&second.access_token)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_concurrent_refresh_within_the_grace_window_gets_the_same_tokens() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let first = world.signed_in("amina@example.com").await;
    let winner = world
        .sessions
        .refresh(&first.refresh_token, &testkit::client())
        .await
        .unwrap();

    world.clock.advance(Duration::seconds(5));
    let loser = world
        .sessions
        .refresh(&first.refresh_token, &testkit::client())
        .await
        .unwrap();

    assert_eq!(loser.session_id, winner.session_id);
    assert_eq!(loser.refresh_token, winner.refresh_token);
    world
        .sessions
        .refresh(&winner.refresh_token, &testkit::client())
        .await
        .unwrap();
}

#[tokio::test]
async fn replaying_a_rotated_refresh_token_after_the_grace_window_ends_the_session() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let first = world.signed_in("amina@example.com").await;
    let second = world
        .sessions
        .refresh(&first.refresh_token, &testkit::client())
        .await
        .unwrap();

    world.clock.advance(Duration::seconds(6));
    let replay = world
        .sessions
        .refresh(&first.refresh_token, &testkit::client())
        .await;

    assert!(matches!(replay, Err(RefreshError::InvalidToken)));
    assert!(matches!(
        world
            .sessions
            .refresh(&second.refresh_token, &testkit::client())
            .await,
        Err(RefreshError::InvalidToken)
    ));
    assert!(matches!(
        world.sessions.authenticate(&second.access_token).await,
        Err(AuthenticateError::Unauthenticated)
    ));
}

#[tokio::test]
async fn forged_or_malformed_refresh_tokens_are_refused() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let tokens = world.signed_in("amina@example.com").await;
    let (prefix, _) = tokens.refresh_token.rsplit_once('.').unwrap();
    let forged_mac = format!("{prefix}.{}", "0".repeat(64));
    let next_generation = tokens.refresh_token.replacen(".0.", ".1.", 1);

    for raw in [
        "",
        "garbage",
        "a.b.c",
        forged_mac.as_str(),
        next_generation.as_str(),
    ] {
        assert!(
            matches!(
                world.sessions.refresh(raw, &testkit::client()).await,
                Err(RefreshError::InvalidToken)
            ),
            "{raw}"
        );
    }
    world
        .sessions
        .refresh(&tokens.refresh_token, &testkit::client())
        .await
        .unwrap();
}

#[tokio::test]
async fn logging_out_refuses_the_same_access_token_at_once() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let tokens = world.signed_in("amina@example.com").await;
    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();

    world
        .sessions
        .logout(principal, &testkit::client())
        .await
        .unwrap();

    assert!(matches!(
        world.sessions.authenticate(&tokens.access_token).await,
        Err(AuthenticateError::Unauthenticated)
    ));
    assert!(matches!(
        world
            .sessions
            .refresh(&tokens.refresh_token, &testkit::client())
            .await,
        Err(RefreshError::InvalidToken)
    ));
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_session_of_the_user_only() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    world.verified_client("karim@example.com").await;
    let phone = world.signed_in("amina@example.com").await;
    let laptop = world.signed_in("amina@example.com").await;
    let karim = world.signed_in("karim@example.com").await;

    let principal = world
        .sessions
        .authenticate(&phone.access_token)
        .await
        .unwrap();
    world
        .sessions
        .logout_all(principal, &testkit::client())
        .await
        .unwrap();

    for token in [&phone.access_token, &laptop.access_token] {
        assert!(matches!(
            world.sessions.authenticate(token).await,
            Err(AuthenticateError::Unauthenticated)
        ));
    }
    world
        .sessions
        .authenticate(&karim.access_token)
        .await
        .unwrap();
}

#[tokio::test]
async fn access_tokens_expire_after_fifteen_minutes() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let tokens = world.signed_in("amina@example.com").await;

    world.clock.advance(Duration::minutes(15));

    assert!(matches!(
        world.sessions.authenticate(&tokens.access_token).await,
        Err(AuthenticateError::Unauthenticated)
    ));
    let refreshed = world
        .sessions
        .refresh(&tokens.refresh_token, &testkit::client())
        .await
        .unwrap();
    world
        .sessions
        .authenticate(&refreshed.access_token)
        .await
        .unwrap();
}

#[tokio::test]
async fn sessions_end_after_thirty_days() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let tokens = world.signed_in("amina@example.com").await;

    world.clock.advance(Duration::days(30));

    assert!(matches!(
        world
            .sessions
            .refresh(&tokens.refresh_token, &testkit::client())
            .await,
        Err(RefreshError::InvalidToken)
    ));
}

// ---- profile ----

#[tokio::test]
async fn the_profile_can_be_edited_and_optional_fields_cleared() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let tokens = world.signed_in("amina@example.com").await;
    let me = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap()
        .user_id;

    let updated = world
        .profile
        .update(
            me,
            UpdateProfileRequest {
                name: Some("Amina B.".into()),
                phone: Some(Some("+212 600 000 000".into())),
                address: Some(Some("12 rue Atlas\nCasablanca".into())),
                locale: Some("en".into()),
            },
        )
        .await
        .unwrap();
    let cleared = world
        .profile
        .update(
            me,
            UpdateProfileRequest {
                phone: Some(None),
                ..UpdateProfileRequest::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(updated.name.as_str(), "Amina B.");
    assert_eq!(updated.locale, Locale::En);
    assert_eq!(cleared.phone, None);
    assert_eq!(
        cleared.address.as_ref().map(|a| a.as_str()),
        Some("12 rue Atlas\nCasablanca")
    );
}

#[tokio::test]
async fn invalid_profile_edits_change_nothing() {
    let world = World::new();
    world.verified_client("amina@example.com").await;
    let tokens = world.signed_in("amina@example.com").await;
    let me = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap()
        .user_id;

    let outcome = world
        .profile
        .update(
            me,
            UpdateProfileRequest {
                name: Some("Valid Name".into()),
                phone: Some(Some("not a phone".into())),
                address: Some(Some(" ".into())),
                locale: Some("de".into()),
            },
        )
        .await;

    let Err(ProfileError::Invalid(errors)) = outcome else {
        panic!("expected validation errors")
    };
    let fields: Vec<&str> = errors.fields().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["phone", "address", "locale"]);
    let unchanged = world.profile.me(me).await.unwrap();
    assert_eq!(unchanged.name.as_str(), "Amina");
    assert_eq!(unchanged.locale, Locale::default());
}

// ---- provisioning ----

#[tokio::test]
async fn a_provisioned_manager_is_active_verified_and_unique() {
    let world = World::new();

    let manager = world
        .registration
        .create_manager("Salma", "salma@example.com", PASSWORD)
        .await
        .unwrap();
    let duplicate = world
        .registration
        .create_manager("Salma", "SALMA@example.com", PASSWORD)
        .await;
    let weak = world
        .registration
        .create_manager("Salma", "other@example.com", "password")
        .await;

    assert_eq!(
        (manager.role, manager.status),
        (Role::Manager, AccountStatus::Active)
    );
    assert!(manager.email_verified());
    assert!(matches!(duplicate, Err(CreateManagerError::EmailTaken)));
    assert!(matches!(weak, Err(CreateManagerError::Invalid(_))));
    assert!(world.mailer.sent().is_empty());
    world
        .sign_in
        .login(World::login_request("salma@example.com", PASSWORD))
        .await
        .unwrap()
        .challenge();
}

// ---- languages ----

#[tokio::test]
async fn every_mail_is_written_in_the_language_of_the_account_it_goes_to() {
    let world = World::new();
    world
        .registration
        .register(RegisterRequest {
            locale: Locale::En,
            ..World::registration("Amina", "amina@example.com")
        })
        .await
        .unwrap();
    // Someone else, reading French, tries the same address: the warning goes to its owner,
    // in the owner's language.
    world
        .registration
        .register(RegisterRequest {
            locale: Locale::Fr,
            ..World::registration("Intruder", "amina@example.com")
        })
        .await
        .unwrap();

    let sent = world.mailer.sent();
    let languages: Vec<(MailMessage, Locale)> = sent
        .iter()
        .map(|mail| (mail.message.clone(), mail.locale))
        .collect();
    assert_eq!(languages.len(), 2, "{languages:?}");
    assert!(matches!(
        languages[0],
        (MailMessage::VerifyEmail { .. }, Locale::En)
    ));
    assert_eq!(languages[1], (MailMessage::RegistrationAttempt, Locale::En));
    let stored = world.user_id("amina@example.com").await;
    assert_eq!(world.profile.me(stored).await.unwrap().locale, Locale::En);
}
