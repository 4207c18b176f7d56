//! Adapters layer (HTTP): the per-address rate limit on `/api/v1/auth/*` and the account
//! pages (`/account/*`, which spend the same tokens), answered with a 429
//! `rate_limited` problem and `Retry-After`. The counting and the rule are the core's
//! (`RequestLimits`, `FixedWindowLimit`), in the store, so shared by every instance.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::adapters::http::extractors::ClientAddress;
use crate::adapters::http::problems::ApiError;
use crate::core::model::{FixedWindowLimit, RateKey, RateVerdict};
use crate::core::request_limit::RequestLimits;

/// The paths it guards: every account-security operation, API and pages alike, counted
/// together.
const GUARDED_PREFIXES: [&str; 2] = ["/api/v1/auth/", "/account/"];

pub struct AuthRateLimit {
    guard: Arc<Guard>,
}

struct Guard {
    limits: RequestLimits,
    limit: FixedWindowLimit,
}

impl AuthRateLimit {
    pub fn per_minute(per_minute: u32, limits: RequestLimits) -> Self {
        AuthRateLimit {
            guard: Arc::new(Guard {
                limits,
                limit: FixedWindowLimit::per_minute(per_minute),
            }),
        }
    }
}

impl<E: Endpoint> Middleware<E> for AuthRateLimit {
    type Output = AuthRateLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AuthRateLimitEndpoint {
            inner,
            guard: Arc::clone(&self.guard),
        }
    }
}

pub struct AuthRateLimitEndpoint<E> {
    inner: E,
    guard: Arc<Guard>,
}

impl<E: Endpoint> Endpoint for AuthRateLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let path = request.uri().path();
        if GUARDED_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix))
        {
            let address = request.data::<ClientAddress>().and_then(|a| a.0);
            let key = RateKey::of(address);
            match self.guard.limits.admit(&key, &self.guard.limit).await {
                Ok(RateVerdict::Admitted) => {}
                Ok(RateVerdict::Refused { retry_after }) => {
                    return Err(ApiError::RateLimited {
                        retry_after_seconds: whole_seconds(retry_after),
                    }
                    .into());
                }
                // A coarse flood shield must not turn a store failure into an outage of its
                // own: the request goes on, and its handler's store calls answer for the store.
                // The per-account throttles, in the store too, fail closed.
                Err(error) => {
                    tracing::warn!(error = ?error, "the request limit could not be counted; admitting");
                }
            }
        }
        self.inner
            .call(request)
            .await
            .map(IntoResponse::into_response)
    }
}

/// `Retry-After` in whole seconds, rounded up and at least 1: a client that waits that long
/// is in the next window.
fn whole_seconds(wait: chrono::Duration) -> u64 {
    let millis = u64::try_from(wait.num_milliseconds()).unwrap_or(0);
    millis.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn retry_after_is_rounded_up_to_a_whole_second_of_at_least_one() {
        assert_eq!(whole_seconds(Duration::milliseconds(17_500)), 18);
        assert_eq!(whole_seconds(Duration::seconds(60)), 60);
        assert_eq!(whole_seconds(Duration::milliseconds(1)), 1);
        assert_eq!(whole_seconds(Duration::zero()), 1);
    }
}
