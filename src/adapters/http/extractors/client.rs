//! Adapters layer (HTTP): who is calling — the client's IP address (for the rate limit, the
//! request log, the session and audit records) and user agent. May depend on poem and the core's `ClientInfo`.

use std::net::IpAddr;

use poem::http::HeaderMap;
use poem::http::header::USER_AGENT;
use poem::web::RemoteAddr;
use poem::{FromRequest, Request, RequestBody};

use super::TrustedProxies;
use super::forwarded::forwarded_hops;
use crate::core::model::ClientInfo;

/// A user agent is recorded with each session; longer ones are cut to this many characters.
const MAX_USER_AGENT_CHARS: usize = 256;

/// The client's IP address, resolved once per request by the `ResolveClient` middleware.
/// `None` when the connection has no IP (a Unix socket) and no trusted proxy named one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// The peer address of the connection, unless the peer is one of `trusted` proxies: then
    /// the hops the proxies recorded (`X-Forwarded-For`, else `Forwarded`) are walked from the
    /// right — each proxy appends the address it received the request from — skipping trusted
    /// proxies, and the first address that is not one is the client. Entries further left are
    /// whatever the client chose to send, so they are never reached past an untrusted hop.
    /// A hop that names no readable address before the client is found makes the header
    /// unusable: the peer's address is kept, so a broken proxy cannot name anyone.
    pub fn resolve(peer: &RemoteAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> Self {
        let Some(peer_ip) = peer.as_socket_addr().map(|addr| addr.ip().to_canonical()) else {
            return ClientAddress(None);
        };
        if !trusted.contains(peer_ip) {
            return ClientAddress(Some(peer_ip));
        }
        let mut client = peer_ip;
        for hop in forwarded_hops(headers).into_iter().rev() {
            let Some(hop) = hop.map(|ip| ip.to_canonical()) else {
                return ClientAddress(Some(peer_ip));
            };
            client = hop;
            if !trusted.contains(hop) {
                break;
            }
        }
        ClientAddress(Some(client))
    }
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

    fn with(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn forwarded_for(values: &[&str]) -> HeaderMap {
        with("x-forwarded-for", values)
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    fn resolve(peer_addr: &str, headers: &HeaderMap, trusted: &str) -> String {
        ClientAddress::resolve(&peer(peer_addr), headers, &proxies(trusted))
            .0
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let headers = forwarded_for(&["203.0.113.9"]);

        assert_eq!(resolve("192.0.2.50:5000", &headers, ""), "192.0.2.50");
        assert_eq!(
            resolve("192.0.2.50:5000", &headers, "10.0.0.0/8"),
            "192.0.2.50"
        );
    }

    #[test]
    fn a_trusted_proxy_is_believed_for_the_entry_it_appended_only() {
        let headers = forwarded_for(&["1.1.1.1, 2.2.2.2", "203.0.113.9"]);

        assert_eq!(
            resolve("10.0.0.1:5000", &headers, "10.0.0.1"),
            "203.0.113.9"
        );
    }

    #[test]
    fn trusted_hops_are_skipped_from_the_right() {
        let headers = forwarded_for(&["6.6.6.6, 203.0.113.9, 10.0.0.7, 10.0.0.2"]);

        assert_eq!(
            resolve("10.0.0.1:5000", &headers, "10.0.0.0/24"),
            "203.0.113.9"
        );
    }

    #[test]
    fn when_every_hop_is_trusted_the_first_one_is_the_client() {
        let headers = forwarded_for(&["10.0.0.7, 10.0.0.2"]);

        assert_eq!(
            resolve("10.0.0.1:5000", &headers, "10.0.0.0/24"),
            "10.0.0.7"
        );
    }

    #[test]
    fn a_trusted_peer_without_any_header_is_the_client() {
        assert_eq!(
            resolve("10.0.0.1:5000", &HeaderMap::new(), "10.0.0.1"),
            "10.0.0.1"
        );
    }

    #[test]
    fn an_unreadable_hop_before_the_client_falls_back_to_the_peer() {
        for value in [
            "not-an-ip",
            "203.0.113.9, unknown",
            "203.0.113.9, 10.0.0.7:_x:y",
        ] {
            let headers = forwarded_for(&[value]);
            assert_eq!(
                resolve("10.0.0.1:5000", &headers, "10.0.0.0/24"),
                "10.0.0.1",
                "{value}"
            );
        }
    }

    #[test]
    fn garbage_a_client_sent_left_of_its_own_address_changes_nothing() {
        let headers = forwarded_for(&["garbage, [::1, 203.0.113.9"]);

        assert_eq!(
            resolve("10.0.0.1:5000", &headers, "10.0.0.1"),
            "203.0.113.9"
        );
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let headers = with(
            "forwarded",
            &["for=192.0.2.66, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.7"],
        );

        assert_eq!(
            resolve("10.0.0.1:5000", &headers, "10.0.0.0/24"),
            "2001:db8:cafe::17"
        );
    }

    #[test]
    fn ipv6_proxies_and_ipv4_mapped_peers_are_matched() {
        let headers = forwarded_for(&["2001:db8::42"]);

        assert_eq!(
            resolve("[fd00::1]:5000", &headers, "fd00::/8"),
            "2001:db8::42"
        );
        assert_eq!(
            resolve("[::ffff:10.0.0.1]:5000", &headers, "10.0.0.1"),
            "2001:db8::42"
        );
        assert_eq!(
            resolve("[::ffff:192.0.2.50]:5000", &headers, "10.0.0.1"),
            "192.0.2.50"
        );
    }
}
