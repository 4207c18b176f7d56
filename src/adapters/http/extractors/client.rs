//! Adapters layer (HTTP): who is calling — the client's IP address (for rate limiting and the
//! session record) and user agent. May depend on poem and the core's `ClientInfo`.

use std::net::{IpAddr, SocketAddr};

use poem::http::HeaderMap;
use poem::http::header::USER_AGENT;
use poem::web::RemoteAddr;
use poem::{FromRequest, Request, RequestBody};

use crate::core::model::ClientInfo;

/// A user agent is recorded with each session; longer ones are cut to this many characters.
const MAX_USER_AGENT_CHARS: usize = 256;

/// The client's IP address, resolved once per request by the `ResolveClient` middleware.
/// `None` when the connection has no IP (a Unix socket) and no trusted proxy named one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// The peer address of the connection. With `trust_forwarded_for`, the last address in
    /// `X-Forwarded-For` instead: the one our own proxy appended. Earlier entries are whatever
    /// the client chose to send, so they are never believed.
    pub fn resolve(peer: &RemoteAddr, headers: &HeaderMap, trust_forwarded_for: bool) -> Self {
        let peer_ip = peer.as_socket_addr().map(SocketAddr::ip);
        if !trust_forwarded_for {
            return ClientAddress(peer_ip);
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .next_back()
            .and_then(parse_forwarded_address);
        ClientAddress(forwarded.or(peer_ip))
    }
}

/// An address as proxies write it: a bare IP, or an IP with a port.
fn parse_forwarded_address(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>()
        .ok()
        .or_else(|| raw.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

/// Where a request came from, as the core records it with a session.
pub struct RequestClient(pub ClientInfo);

impl<'a> FromRequest<'a> for RequestClient {
    async fn from_request(request: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let ip = request
            .data::<ClientAddress>()
            .and_then(|address| address.0)
            .map(|ip| ip.to_string());
        let user_agent = request
            .headers()
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect());
        Ok(RequestClient(ClientInfo { ip, user_agent }))
    }
}

#[cfg(test)]
mod tests {
    use poem::Addr;
    use poem::http::HeaderValue;

    use super::*;

    fn peer(addr: &str) -> RemoteAddr {
        RemoteAddr(Addr::SocketAddr(addr.parse().unwrap()))
    }

    fn forwarded_for(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn the_peer_address_is_used_unless_the_proxy_is_trusted() {
        let headers = forwarded_for(&["203.0.113.9"]);

        let address = ClientAddress::resolve(&peer("10.0.0.1:5000"), &headers, false);

        assert_eq!(address.0, Some("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn a_trusted_proxy_is_believed_for_the_entry_it_appended_only() {
        let headers = forwarded_for(&["1.1.1.1, 2.2.2.2", "203.0.113.9"]);

        let address = ClientAddress::resolve(&peer("10.0.0.1:5000"), &headers, true);

        assert_eq!(address.0, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn an_unreadable_forwarded_entry_falls_back_to_the_peer() {
        let headers = forwarded_for(&["not-an-ip"]);

        let address = ClientAddress::resolve(&peer("10.0.0.1:5000"), &headers, true);

        assert_eq!(address.0, Some("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn forwarded_entries_may_carry_a_port() {
        let headers = forwarded_for(&["[2001:db8::1]:443"]);

        let address = ClientAddress::resolve(&peer("10.0.0.1:5000"), &headers, true);

        assert_eq!(address.0, Some("2001:db8::1".parse().unwrap()));
    }
}
