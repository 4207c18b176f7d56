//! Core use cases of people administration — managers over accounts, and a user deleting
//! their own — against in-memory adapters and a manual clock.

use allomedia::core::auth::{AuthenticateError, RefreshError, RegisterRequest};
use allomedia::core::model::{AccountStatus, Email, Role, User};
use allomedia::core::model::{Manager, NotAManager, Principal};
use allomedia::core::people::{
    AdministrationError, ChangeAccessRequest, DeleteOwnAccountError, ListUsersRequest,
};
use allomedia::core::ports::UserStore;
use testkit::{PASSWORD, World};

/// A signed-in account and what its access token proves.
struct SignedIn {
    user: User,
    principal: Principal,
    access_token: String,
    refresh_token: String,
}

async fn sign_in(world: &World, email: &str) -> SignedIn {
    let tokens = world.signed_in(email).await;
    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();
    SignedIn {
        user: stored(world, email).await,
        principal,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
    }
}

impl SignedIn {
    /// The manager capability of a signed-in manager.
    #[track_caller]
    fn manager(&self) -> Manager {
        self.principal.as_manager().expect("a signed-in manager")
    }
}

async fn stored(world: &World, email: &str) -> User {
    world
        .store
        .user_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
}

async fn a_manager(world: &World, email: &str) -> SignedIn {
    world
        .registration
        .create_manager("Salma", email, PASSWORD)
        .await
        .unwrap();
    sign_in(world, email).await
}

async fn a_client(world: &World, email: &str) -> SignedIn {
    world.verified_client(email).await;
    sign_in(world, email).await
}

/// A courier who registered and verified their address, waiting for approval.
async fn a_pending_courier(world: &World, email: &str) -> User {
    world
        .registration
        .register(RegisterRequest {
            role: Some("courier".into()),
            ..World::registration("Youssef", email)
        })
        .await
        .unwrap();
    let token = world.mailer.verification_token(email);
    world
        .registration
        .verify_email(&token, &testkit::client())
        .await
        .unwrap();
    stored(world, email).await
}

fn status(value: &str) -> ChangeAccessRequest {
    ChangeAccessRequest {
        status: Some(value.into()),
        role: None,
    }
}

fn role(value: &str) -> ChangeAccessRequest {
    ChangeAccessRequest {
        role: Some(value.into()),
        status: None,
    }
}

#[tokio::test]
async fn only_managers_may_list_read_change_or_delete_users() {
    let world = World::new();
    let client = a_client(&world, "amina@example.com").await;

    // Listing, reading, changing and deleting users take a `Manager`, which a client's
    // principal cannot become: no use case runs.
    assert_eq!(client.principal.as_manager(), Err(NotAManager));
    assert_eq!(stored(&world, "amina@example.com").await.role, Role::Client);
}

#[tokio::test]
async fn approving_a_courier_lets_them_sign_in() {
    let world = World::new();
    let manager = a_manager(&world, "salma@example.com").await;
    let courier = a_pending_courier(&world, "youssef@example.com").await;

    let approved = world
        .people
        .change_access(
            manager.manager(),
            courier.id,
            status("active"),
            &testkit::client(),
        )
        .await
        .unwrap();

    assert_eq!(approved.status, AccountStatus::Active);
    assert_eq!(approved.role, Role::Courier);
    let courier = sign_in(&world, "youssef@example.com").await;
    assert_eq!(courier.principal.role, Role::Courier);
}

#[tokio::test]
async fn suspending_a_user_ends_every_session_and_their_token_is_refused_at_once() {
    let world = World::new();
    let manager = a_manager(&world, "salma@example.com").await;
    let client = a_client(&world, "amina@example.com").await;
    let other_device = world.signed_in("amina@example.com").await;

    world
        .people
        .change_access(
            manager.manager(),
            client.user.id,
            status("suspended"),
            &testkit::client(),
        )
        .await
        .unwrap();

    let now = world.sessions.authenticate(&client.access_token).await;
    assert!(matches!(now, Err(AuthenticateError::Unauthenticated)));
    let refreshed = world
        .sessions
        .refresh(&other_device.refresh_token, &testkit::client())
        .await;
    assert!(matches!(refreshed, Err(RefreshError::InvalidToken)));
    // Reactivating the account does not bring the ended sessions back.
    world
        .people
        .change_access(
            manager.manager(),
            client.user.id,
            status("active"),
            &testkit::client(),
        )
        .await
        .unwrap();
    let after = world.sessions.authenticate(&client.access_token).await;
    assert!(matches!(after, Err(AuthenticateError::Unauthenticated)));
    let refreshed = world
        .sessions
        .refresh(&client.refresh_token, &testkit::client())
        .await;
    assert!(matches!(refreshed, Err(RefreshError::InvalidToken)));
}

#[tokio::test]
async fn a_promotion_takes_effect_on_the_next_request_without_signing_in_again() {
    let world = World::new();
    let manager = a_manager(&world, "salma@example.com").await;
    let client = a_client(&world, "amina@example.com").await;

    world
        .people
        .change_access(
            manager.manager(),
            client.user.id,
            role("manager"),
            &testkit::client(),
        )
        .await
        .unwrap();

    let principal = world
        .sessions
        .authenticate(&client.access_token)
        .await
        .unwrap();
    assert_eq!(principal.role, Role::Manager);
    let promoted = principal
        .as_manager()
        .expect("the promoted client is a manager");
    assert!(
        world
            .people
            .list(promoted, ListUsersRequest::default())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_last_active_manager_can_neither_demote_nor_suspend_themself() {
    let world = World::new();
    let manager = a_manager(&world, "salma@example.com").await;
    let me = manager.user.id;

    let demoted = world
        .people
        .change_access(manager.manager(), me, role("client"), &testkit::client())
        .await;
    let suspended = world
        .people
        .change_access(
            manager.manager(),
            me,
            status("suspended"),
            &testkit::client(),
        )
        .await;

    assert!(matches!(
        demoted,
        Err(AdministrationError::LastActiveManager)
    ));
    assert!(matches!(
        suspended,
        Err(AdministrationError::LastActiveManager)
    ));
    assert!(
        stored(&world, "salma@example.com")
            .await
            .is_active_manager()
    );
    assert!(
        world
            .sessions
            .authenticate(&manager.access_token)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_manager_may_step_down_once_another_manager_is_active() {
    let world = World::new();
    let salma = a_manager(&world, "salma@example.com").await;
    a_manager(&world, "karim@example.com").await;

    let stepped_down = world
        .people
        .change_access(
            salma.manager(),
            salma.user.id,
            role("courier"),
            &testkit::client(),
        )
        .await
        .unwrap();

    assert_eq!(stepped_down.role, Role::Courier);
    let principal = world
        .sessions
        .authenticate(&salma.access_token)
        .await
        .unwrap();
    // Their current role is the one that counts: no longer a manager, no listing.
    assert_eq!(principal.as_manager(), Err(NotAManager));
}

#[tokio::test]
async fn a_change_needs_a_known_role_or_status() {
    let world = World::new();
    let manager = a_manager(&world, "salma@example.com").await;
    let client = a_client(&world, "amina@example.com").await;

    let empty = world
        .people
        .change_access(
            manager.manager(),
            client.user.id,
            ChangeAccessRequest::default(),
            &testkit::client(),
        )
        .await;
    let unknown = world
        .people
        .change_access(
            manager.manager(),
            client.user.id,
            ChangeAccessRequest {
                role: Some("admin".into()),
                status: Some("banned".into()),
            },
            &testkit::client(),
        )
        .await;

    assert!(matches!(empty, Err(AdministrationError::Invalid(_))));
    let Err(AdministrationError::Invalid(errors)) = unknown else {
        panic!("unknown values accepted: {unknown:?}");
    };
    let fields: Vec<&str> = errors.fields().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["role", "status"]);
}

#[tokio::test]
async fn listing_filters_by_role_status_and_search_and_refuses_unknown_values() {
    let world = World::new();
    let manager = a_manager(&world, "salma@example.com").await;
    let courier = a_pending_courier(&world, "youssef@example.com").await;
    a_client(&world, "amina@example.com").await;

    let pending = world
        .people
        .list(
            manager.manager(),
            ListUsersRequest {
                role: Some("courier".into()),
                status: Some("pending_approval".into()),
                ..ListUsersRequest::default()
            },
        )
        .await
        .unwrap();
    let searched = world
        .people
        .list(
            manager.manager(),
            ListUsersRequest {
                q: Some("  YOUSS ".into()),
                ..ListUsersRequest::default()
            },
        )
        .await
        .unwrap();
    let refused = world
        .people
        .list(
            manager.manager(),
            ListUsersRequest {
                role: Some("boss".into()),
                limit: Some(0),
                ..ListUsersRequest::default()
            },
        )
        .await;

    assert_eq!(pending.items, vec![courier.clone()]);
    assert_eq!(searched.items, vec![courier]);
    let Err(AdministrationError::Invalid(errors)) = refused else {
        panic!("invalid listing accepted: {refused:?}");
    };
    let fields: Vec<&str> = errors.fields().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["role", "limit"]);
}

#[tokio::test]
async fn deleting_a_user_ends_their_access_at_once() {
    let world = World::new();
    let manager = a_manager(&world, "salma@example.com").await;
    let client = a_client(&world, "amina@example.com").await;

    world
        .people
        .delete(manager.manager(), client.user.id, &testkit::client())
        .await
        .unwrap();

    let now = world.sessions.authenticate(&client.access_token).await;
    assert!(matches!(now, Err(AuthenticateError::Unauthenticated)));
    let read = world.people.user(manager.manager(), client.user.id).await;
    assert!(matches!(read, Err(AdministrationError::NotFound)));
    let again = world
        .people
        .delete(manager.manager(), client.user.id, &testkit::client())
        .await;
    assert!(matches!(again, Err(AdministrationError::NotFound)));
}

#[tokio::test]
async fn the_last_active_manager_cannot_be_deleted() {
    let world = World::new();
    let manager = a_manager(&world, "salma@example.com").await;

    let outcome = world
        .people
        .delete(manager.manager(), manager.user.id, &testkit::client())
        .await;

    assert!(matches!(
        outcome,
        Err(AdministrationError::LastActiveManager)
    ));
    assert!(
        world
            .sessions
            .authenticate(&manager.access_token)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn deleting_ones_own_account_needs_the_password_again() {
    let world = World::new();
    let client = a_client(&world, "amina@example.com").await;

    let wrong = world
        .people
        .delete_own_account(client.principal, "not-my-password", &testkit::client())
        .await;
    assert!(matches!(wrong, Err(DeleteOwnAccountError::WrongPassword)));
    assert!(
        world
            .sessions
            .authenticate(&client.access_token)
            .await
            .is_ok()
    );

    world
        .people
        .delete_own_account(client.principal, PASSWORD, &testkit::client())
        .await
        .unwrap();

    let now = world.sessions.authenticate(&client.access_token).await;
    assert!(matches!(now, Err(AuthenticateError::Unauthenticated)));
    // The address can be registered anew.
    world.verified_client("amina@example.com").await;
}

#[tokio::test]
async fn the_last_active_manager_cannot_delete_their_own_account() {
    let world = World::new();
    let manager = a_manager(&world, "salma@example.com").await;

    let outcome = world
        .people
        .delete_own_account(manager.principal, PASSWORD, &testkit::client())
        .await;

    assert!(matches!(
        outcome,
        Err(DeleteOwnAccountError::LastActiveManager)
    ));
    assert!(
        stored(&world, "salma@example.com")
            .await
            .is_active_manager()
    );
}
