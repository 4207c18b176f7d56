//! Black-box proof, outside the server's crates: the progenitor-generated Rust client
//! (`make rust-client`) walks a person's journey against the real server: a client registers,
//! opens the mailed link, signs in with the mailed code (and again, from the device it asked to
//! be remembered: the 200 of the same `login`), orders a product a manager added, signs out,
//! and the old access token is refused.
//!
//! Run under `tests/blackbox/server.py -- …`, which starts the server, makes a signed-in manager
//! and exports `ALLOMEDIA_URL`, `ALLOMEDIA_PASSWORD`, `MANAGER_TOKEN` and `ALLOMEDIA_LOG` (the
//! mails). Every HTTP call goes through the generated client; each step must answer exactly its
//! documented status and body, or the walk stops with the step's name and what it got.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}
mod mailbox;

use std::process::ExitCode;

use futures_util::StreamExt;
use generated::{Client, types};
use progenitor_client::{ByteStream, Error, ResponseValue};

type Step<T> = Result<T, String>;

/// What a generated operation gives back. Problem documents are `application/problem+json`,
/// which progenitor hands over unparsed, as a stream of bytes.
type Answer<T> = Result<ResponseValue<T>, Error<ByteStream>>;

const CLIENT_EMAIL: &str = "karim@rust-client-walk.test";
const PRICE_CENTS: i64 = 4500;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match walk().await {
        Ok(()) => {
            println!(
                "rust client_walk: register → verify → login → code → order → logout, all \
                 through the progenitor-generated client"
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("rust client_walk FAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}

async fn walk() -> Step<()> {
    let base = setting("ALLOMEDIA_URL")?;
    let password = setting("ALLOMEDIA_PASSWORD")?;
    let anonymous = Client::new(&base);
    let manager = signed_in(&base, &setting("MANAGER_TOKEN")?)?;

    // The manager adds a product to order.
    let product = success(
        "manager: create a product",
        manager
            .create_product(&types::CreateProductBody {
                name: "Harira".into(),
                description: None,
                price_cents: PRICE_CENTS,
                available: true,
            })
            .await,
        201,
    )
    .await?;

    // The client signs up (its mails in English) and confirms the address from the mail.
    let sent = mailbox::count(CLIENT_EMAIL).await?;
    success(
        "client: register",
        anonymous
            .register(
                Some("en"),
                &types::RegisterBody {
                    name: "Karim".into(),
                    email: CLIENT_EMAIL.into(),
                    password: password.clone(),
                    role: None,
                    phone: None,
                },
            )
            .await,
        202,
    )
    .await?;
    let token = mailbox::verification_token(CLIENT_EMAIL, sent).await?;
    success(
        "client: open the mailed verification link",
        anonymous.verify_email_link(&token).await,
        200,
    )
    .await?;

    // Password, then the mailed code; the device is remembered.
    let sent = mailbox::count(CLIENT_EMAIL).await?;
    let login = |device_token: Option<String>| types::LoginBody {
        email: CLIENT_EMAIL.into(),
        password: password.clone(),
        device_token,
    };
    let challenge = match success(
        "client: log in with the password",
        anonymous.login(&login(None)).await,
        202,
    )
    .await?
    {
        types::LoginAnswerBody::LoginChallengeBody(challenge) => challenge,
        other => {
            return Err(format!(
                "client: the 202 of login is not a challenge: {other:?}"
            ));
        }
    };
    if !challenge
        .methods
        .contains(&types::SecondFactorMethod::Email)
    {
        return Err(format!(
            "client: the challenge offers no mailed code: {challenge:?}"
        ));
    }
    let code = mailbox::login_code(CLIENT_EMAIL, sent).await?;
    let tokens = success(
        "client: type the mailed 6-digit code",
        anonymous
            .verify_login_code(&types::VerifyCodeBody {
                challenge_id: challenge.challenge_id,
                code,
                method: None,
                remember_device: Some(true),
            })
            .await,
        200,
    )
    .await?;
    if tokens.token_type != "Bearer" || tokens.expires_in == 0 {
        return Err(format!("client: odd tokens {tokens:?}"));
    }
    let Some(device_token) = tokens.device_token.clone() else {
        return Err("client: remember_device gave no device_token".into());
    };
    let client = signed_in(&base, &tokens.access_token)?;
    let me = success("client: read the account", client.get_me().await, 200).await?;
    if me.email != CLIENT_EMAIL || !me.email_verified || me.role != types::RoleView::Client {
        return Err(format!("client: unexpected account {me:?}"));
    }

    // From the remembered device the same operation answers 200 with tokens, no code.
    let other_session = match success(
        "client: log in again from the remembered device",
        anonymous.login(&login(Some(device_token))).await,
        200,
    )
    .await?
    {
        types::LoginAnswerBody::TokensBody(tokens) => signed_in(&base, &tokens.access_token)?,
        other => return Err(format!("client: the 200 of login is not tokens: {other:?}")),
    };

    // The order: prices come from the catalogue.
    let order = success(
        "client: place an order",
        client
            .place_order(&types::PlaceOrderBody {
                items: vec![types::OrderItem {
                    product_id: product.id,
                    quantity: 2,
                }],
                delivery_address: "7 derb Sidi Bouloukat, Marrakech".into(),
                note: None,
            })
            .await,
        201,
    )
    .await?;
    if order.status != types::OrderStatus::Pending || order.total_cents != 2 * PRICE_CENTS {
        return Err(format!("client: unexpected order {order:?}"));
    }
    success(
        "client: read the order",
        client.get_order(&order.id).await,
        200,
    )
    .await?;

    // Signing out ends this session at once, and only this one.
    success("client: log out", client.logout().await, 204).await?;
    let refused = refusal(
        "client: the old token after logout",
        client.get_me().await,
        401,
    )
    .await?;
    if refused.code != types::ProblemCode::Unauthenticated {
        return Err(format!(
            "client: after logout expected `unauthenticated`, got {refused:?}"
        ));
    }
    success(
        "client: the remembered device's session still works",
        other_session.get_me().await,
        200,
    )
    .await?;
    Ok(())
}

fn setting(name: &str) -> Step<String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set: run under `tests/blackbox/server.py -- …`"))
}

/// A generated client that sends `access_token` as its bearer token.
fn signed_in(base: &str, access_token: &str) -> Step<Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = format!("Bearer {access_token}")
        .parse()
        .map_err(|error| format!("an access token that is no header value: {error}"))?;
    headers.insert(reqwest::header::AUTHORIZATION, bearer);
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .map_err(|error| format!("cannot build an HTTP client: {error}"))?;
    Ok(Client::new_with_client(base, http))
}

/// The body of a step that must succeed with `status`.
async fn success<T: std::fmt::Debug>(step: &str, result: Answer<T>, status: u16) -> Step<T> {
    match result {
        Ok(answer) if answer.status().as_u16() == status => {
            println!("  ok  {step}: {status}");
            Ok(answer.into_inner())
        }
        Ok(answer) => Err(format!(
            "{step}: expected {status}, got {}: {:?}",
            answer.status(),
            answer.into_inner()
        )),
        Err(error) => Err(format!(
            "{step}: expected {status}, got {}",
            describe(error).await
        )),
    }
}

/// The problem document of a step that must be refused with `status`.
async fn refusal<T: std::fmt::Debug>(
    step: &str,
    result: Answer<T>,
    status: u16,
) -> Step<types::Problem> {
    match result {
        Err(Error::ErrorResponse(answer)) if answer.status().as_u16() == status => {
            let body = text(answer.into_inner()).await?;
            let problem = serde_json::from_str(&body)
                .map_err(|error| format!("{step}: not a problem document ({error}): {body}"))?;
            println!("  ok  {step}: {status}");
            Ok(problem)
        }
        Ok(answer) => Err(format!(
            "{step}: expected {status}, got {}: {:?}",
            answer.status(),
            answer.into_inner()
        )),
        Err(error) => Err(format!(
            "{step}: expected {status}, got {}",
            describe(error).await
        )),
    }
}

/// An answer the step did not expect, with its body.
async fn describe(error: Error<ByteStream>) -> String {
    match error {
        Error::ErrorResponse(answer) => {
            let status = answer.status();
            match text(answer.into_inner()).await {
                Ok(body) => format!("{status}: {body}"),
                Err(failure) => format!("{status}: {failure}"),
            }
        }
        Error::UnexpectedResponse(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            format!("{status}, which the spec does not document: {body}")
        }
        other => format!("{other:#}"),
    }
}

async fn text(body: ByteStream) -> Step<String> {
    let mut chunks = body.into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.next().await {
        bytes.extend_from_slice(&chunk.map_err(|error| format!("reading a body: {error}"))?);
    }
    String::from_utf8(bytes).map_err(|error| format!("a body that is not UTF-8: {error}"))
}
