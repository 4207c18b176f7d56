//! Adapters layer (HTTP): the per-address rate limit on `/api/v1/auth/*`, answered with a 429
//! `rate_limited` problem and `Retry-After`.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use super::rate_limiter::{RateKey, RateLimiter};
use crate::adapters::http::extractors::ClientAddress;
use crate::adapters::http::problems::ApiError;
use crate::core::ports::Clock;

/// The paths it guards: every account-security operation.
const AUTH_PREFIX: &str = "/api/v1/auth/";

pub struct AuthRateLimit {
    limiter: Arc<RateLimiter>,
}

impl AuthRateLimit {
    /// `clock` is the one the core uses, so that tests move one fake clock for everything.
    pub fn per_minute(per_minute: u32, clock: Arc<dyn Clock>) -> Self {
        AuthRateLimit {
            limiter: Arc::new(RateLimiter::per_minute(per_minute, clock)),
        }
    }
}

impl<E: Endpoint> Middleware<E> for AuthRateLimit {
    type Output = AuthRateLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AuthRateLimitEndpoint {
            inner,
            limiter: Arc::clone(&self.limiter),
        }
    }
}

pub struct AuthRateLimitEndpoint<E> {
    inner: E,
    limiter: Arc<RateLimiter>,
}

impl<E: Endpoint> Endpoint for AuthRateLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if request.uri().path().starts_with(AUTH_PREFIX) {
            let address = request.data::<ClientAddress>().and_then(|a| a.0);
            if let Err(wait) = self.limiter.admit(RateKey::from(address)) {
                return Err(ApiError::RateLimited {
                    retry_after_seconds: wait.as_secs_f64().ceil() as u64,
                }
                .into());
            }
        }
        self.inner
            .call(request)
            .await
            .map(IntoResponse::into_response)
    }
}
