//! Adapters layer (HTTP): resolves the client's address once per request — for the rate limit,
//! the request log, and the session and audit records — believing `X-Forwarded-For` /
//! `Forwarded` only from the trusted proxies.

use std::sync::Arc;

use poem::{Endpoint, Middleware, Request};

use crate::adapters::http::extractors::{ClientAddress, TrustedProxies};

pub struct ResolveClient {
    trusted: Arc<TrustedProxies>,
}

impl ResolveClient {
    pub fn new(trusted: TrustedProxies) -> Self {
        ResolveClient {
            trusted: Arc::new(trusted),
        }
    }
}

impl<E: Endpoint> Middleware<E> for ResolveClient {
    type Output = ResolveClientEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ResolveClientEndpoint {
            inner,
            trusted: Arc::clone(&self.trusted),
        }
    }
}

pub struct ResolveClientEndpoint<E> {
    inner: E,
    trusted: Arc<TrustedProxies>,
}

impl<E: Endpoint> Endpoint for ResolveClientEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut request: Request) -> poem::Result<E::Output> {
        let address =
            ClientAddress::resolve(request.remote_addr(), request.headers(), &self.trusted);
        request.set_data(address);
        self.inner.call(request).await
    }
}
