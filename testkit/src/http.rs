//! Test support for HTTP: the real `app` in process over a `World`, and replies read whole.

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, StatusCode};
use poem::test::{TestClient, TestRequestBuilder};
use serde_json::{Value, json};

use allomedia::adapters::http::{HttpServices, HttpSettings, app};
use allomedia::app::http_services;
use allomedia::core::model::{AccountStatus, Email, User, UserId};
use allomedia::core::ports::UserStore;

use super::{PASSWORD, World};

/// The services of `world`, as the HTTP adapter takes them (as `serve` hands them over).
pub fn services_of(world: &World) -> HttpServices {
    http_services(
        world.core.clone(),
        Arc::new(world.store.clone()),
        world.metrics.clone(),
        Arc::new(world.clock.clone()),
        world.after_response.clone(),
    )
}

/// Sends `request` and reads the whole answer.
pub async fn send(request: TestRequestBuilder<'_, BoxEndpoint<'static>>) -> Reply {
    let response = request.send().await.0;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().into_string().await.unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

pub struct Api {
    pub world: World,
    pub client: TestClient<BoxEndpoint<'static>>,
}

/// One answer, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Checks this is the problem document `code` with `status`, and returns it.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["type"], "about:blank");
        assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        problem
    }
}

/// Session tokens as a client holds them.
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

impl Api {
    pub fn new() -> Self {
        Self::with_settings(HttpSettings::default())
    }

    pub fn with_settings(settings: HttpSettings) -> Self {
        Self::over_with(World::new(), settings)
    }

    /// The app over a world the test assembled itself (a mock mailer, say).
    pub fn over(world: World) -> Self {
        Self::over_with(world, HttpSettings::default())
    }

    fn over_with(world: World, settings: HttpSettings) -> Self {
        let client = TestClient::new(app(services_of(&world), settings));
        Api { world, client }
    }

    /// Posts `body` and, like a client reading its inbox a moment later, waits for the work
    /// the operation left running after its answer (the mails of `password/forgot`).
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        let reply = send(self.client.post(path).body_json(&body)).await;
        self.world.after_response.idle().await;
        reply
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> Reply {
        send(
            self.client
                .post(path)
                .content_type("application/json")
                .body(body),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        send(self.client.get(path)).await
    }

    pub async fn get_as(&self, path: &str, access: &str) -> Reply {
        send(
            self.client
                .get(path)
                .header("authorization", bearer(access)),
        )
        .await
    }

    pub async fn post_as(&self, path: &str, access: &str) -> Reply {
        send(
            self.client
                .post(path)
                .header("authorization", bearer(access)),
        )
        .await
    }

    pub async fn post_json_as(&self, path: &str, access: &str, body: Value) -> Reply {
        send(
            self.client
                .post(path)
                .header("authorization", bearer(access))
                .body_json(&body),
        )
        .await
    }

    pub async fn delete_as(&self, path: &str, access: &str) -> Reply {
        send(
            self.client
                .delete(path)
                .header("authorization", bearer(access)),
        )
        .await
    }

    /// A manager made the way the CLI makes one, signed in.
    pub async fn signed_in_manager(&self, email: &str) -> Tokens {
        self.world
            .registration
            .create_manager("Salma", email, PASSWORD)
            .await
            .unwrap();
        self.sign_in(email).await
    }

    /// A verified client, signed in.
    pub async fn signed_in_client(&self, email: &str) -> Tokens {
        self.verified_account(email).await;
        self.sign_in(email).await
    }

    pub async fn patch_as(&self, path: &str, access: &str, body: Value) -> Reply {
        send(
            self.client
                .patch(path)
                .header("authorization", bearer(access))
                .body_json(&body),
        )
        .await
    }

    /// The id of the account of `email`, as the API writes it.
    pub async fn id_of(&self, email: &str) -> String {
        self.world.user_id(email).await.to_string()
    }

    pub async fn register(&self, email: &str) -> Reply {
        self.post(
            "/api/v1/auth/register",
            json!({"name": "Amina", "email": email, "password": PASSWORD}),
        )
        .await
    }

    pub async fn verified_account(&self, email: &str) {
        assert_eq!(self.register(email).await.status, StatusCode::ACCEPTED);
        let token = self.world.mailer.verification_token(email);
        let reply = self
            .post("/api/v1/auth/verify-email", json!({"token": token}))
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/login",
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Logs in with the right password and returns the open challenge's id.
    pub async fn challenge(&self, email: &str) -> String {
        let reply = self.login(email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        reply.json()["challenge_id"].as_str().unwrap().to_owned()
    }

    pub async fn verify_code(&self, challenge_id: &str, code: &str) -> Reply {
        self.post(
            "/api/v1/auth/2fa/verify",
            json!({"challenge_id": challenge_id, "code": code}),
        )
        .await
    }

    pub async fn sign_in(&self, email: &str) -> Tokens {
        let challenge = self.challenge(email).await;
        let code = self.world.mailer.login_code(email);
        let reply = self.verify_code(&challenge, &code).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        tokens(&reply)
    }

    /// Adds an account with `status` directly to the store: no endpoint suspends yet.
    pub async fn account_with_status(&self, email: &str, status: AccountStatus) {
        self.verified_account("template@example.com").await;
        let template = self
            .world
            .store
            .user_by_email(&Email::parse("template@example.com").unwrap())
            .await
            .unwrap()
            .unwrap();
        let user = User {
            id: UserId::new(),
            email: Email::parse(email).unwrap(),
            status,
            ..template
        };
        self.world.store.insert_user(&user).await.unwrap();
    }
}

pub fn bearer(access: &str) -> String {
    format!("Bearer {access}")
}

pub fn tokens(reply: &Reply) -> Tokens {
    let body = reply.json();
    Tokens {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
    }
}
