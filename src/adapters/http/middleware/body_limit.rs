//! Adapters layer (HTTP): refuses request bodies over the limit with a 413 problem.
//!
//! poem's `SizeLimit` trusts `Content-Length` alone (and refuses requests without one), so a
//! chunked body could grow without bound. Here the body is read with a cap whatever its
//! framing, then handed on in memory: every handler reads JSON bodies whole anyway.

use poem::error::ReadBodyError;
use poem::http::header::CONTENT_LENGTH;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::adapters::http::problems::ApiError;

pub struct BodyLimit {
    max_bytes: usize,
}

impl BodyLimit {
    pub fn new(max_bytes: usize) -> Self {
        BodyLimit { max_bytes }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    max_bytes: usize,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut request: Request) -> poem::Result<Response> {
        // An announced length over the limit is refused before reading anything.
        let announced = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if announced.is_some_and(|length| length > self.max_bytes as u64) {
            return Err(ApiError::PayloadTooLarge.into());
        }
        let body = match request.take_body().into_bytes_limit(self.max_bytes).await {
            Ok(body) => body,
            Err(ReadBodyError::PayloadTooLarge) => return Err(ApiError::PayloadTooLarge.into()),
            Err(error) => {
                return Err(ApiError::MalformedRequest {
                    reason: format!("the body could not be read ({error})"),
                }
                .into());
            }
        };
        request.set_body(body);
        self.inner
            .call(request)
            .await
            .map(IntoResponse::into_response)
    }
}
