//! Adapters layer (HTTP): makes every error answer a problem document — what poem refuses
//! outside any handler (unknown route, unsupported method, over-limit body, a panic) and any
//! error response that is not one already.

use std::any::Any;
use std::sync::Arc;

use poem::PathPattern;
use poem::error::MethodNotAllowedError;
use poem::http::header::CONTENT_TYPE;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::adapters::http::problems::{ApiError, PROBLEM_JSON};
use crate::adapters::http::routes::RouteTable;

pub struct ProblemFallback {
    routes: Arc<RouteTable>,
}

impl ProblemFallback {
    pub fn new(routes: Arc<RouteTable>) -> Self {
        ProblemFallback { routes }
    }
}

impl<E: Endpoint> Middleware<E> for ProblemFallback {
    type Output = ProblemFallbackEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ProblemFallbackEndpoint {
            inner,
            routes: Arc::clone(&self.routes),
        }
    }
}

pub struct ProblemFallbackEndpoint<E> {
    inner: E,
    routes: Arc<RouteTable>,
}

impl<E: Endpoint> ProblemFallbackEndpoint<E> {
    fn problem_for(&self, error: poem::Error) -> Response {
        // Keep the matched route for the request log and metrics.
        let pattern = error.data::<PathPattern>().cloned();
        let problem = if error.is::<MethodNotAllowedError>() {
            ApiError::MethodNotAllowed {
                allow: pattern
                    .as_ref()
                    .and_then(|pattern| self.routes.allow(&pattern.0)),
            }
        } else {
            ApiError::from_rejection(error)
        };
        let mut response = problem.into_response();
        if let Some(pattern) = pattern {
            response.set_data(pattern);
        }
        response
    }
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes() == PROBLEM_JSON.as_bytes())
}

/// An HTML page (the account pages' "link spent", "password refused"…) is already the answer
/// for the person reading it: a problem document in its place would show them raw JSON.
fn is_page(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"))
}

impl<E: Endpoint> Endpoint for ProblemFallbackEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let response = match self.inner.call(request).await {
            Ok(response) => response.into_response(),
            Err(error) => return Ok(self.problem_for(error)),
        };
        let status = response.status();
        if !(status.is_client_error() || status.is_server_error())
            || is_problem(&response)
            || is_page(&response)
        {
            return Ok(response);
        }
        let mut error = poem::Error::from_status(status);
        if let Some(pattern) = response.data::<PathPattern>() {
            error.set_data(pattern.clone());
        }
        Ok(self.problem_for(error))
    }
}

/// The answer to a handler that panicked; the panic hook has already printed the message.
pub fn panic_problem(_panic: Box<dyn Any + Send>) -> ApiError {
    tracing::error!("request handler panicked");
    ApiError::Internal
}
