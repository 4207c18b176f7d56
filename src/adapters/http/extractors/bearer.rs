//! Adapters layer (HTTP): the bearer security scheme. The token is checked by the core
//! (`Sessions::caller`): signature, expiry, and that its session is still live.

use std::sync::Arc;

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::adapters::http::HttpServices;
use crate::adapters::http::problems::ApiError;
use crate::core::model::Caller;

/// An access token from `/auth/2fa/verify` or `/auth/refresh`, sent as
/// `Authorization: Bearer <token>`. A token of a logged-out or revoked session is refused at
/// once, not at its expiry.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    bearer_format = "JWT",
    rename = "bearer",
    checker = "authenticate"
)]
pub struct BearerAuth(pub Caller);

async fn authenticate(request: &Request, bearer: Bearer) -> poem::Result<Caller> {
    let services = request.data::<Arc<HttpServices>>().ok_or_else(|| {
        crate::adapters::http::problems::fault(anyhow::anyhow!(
            "HttpServices missing from the request"
        ))
    })?;
    let caller = services
        .core
        .sessions
        .caller(&bearer.token)
        .await
        .map_err(ApiError::from)?;
    Ok(caller)
}
