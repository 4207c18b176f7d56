//! Adapters layer (HTTP): resolves the client's address once per request, for the rate limit
//! and the session record, honouring `X-Forwarded-For` only when told to trust it.

use poem::{Endpoint, Middleware, Request};

use crate::adapters::http::extractors::ClientAddress;

pub struct ResolveClient {
    trust_forwarded_for: bool,
}

impl ResolveClient {
    pub fn new(trust_forwarded_for: bool) -> Self {
        ResolveClient {
            trust_forwarded_for,
        }
    }
}

impl<E: Endpoint> Middleware<E> for ResolveClient {
    type Output = ResolveClientEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ResolveClientEndpoint {
            inner,
            trust_forwarded_for: self.trust_forwarded_for,
        }
    }
}

pub struct ResolveClientEndpoint<E> {
    inner: E,
    trust_forwarded_for: bool,
}

impl<E: Endpoint> Endpoint for ResolveClientEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut request: Request) -> poem::Result<E::Output> {
        let address = ClientAddress::resolve(
            request.remote_addr(),
            request.headers(),
            self.trust_forwarded_for,
        );
        request.set_data(address);
        self.inner.call(request).await
    }
}
