//! Adapters layer (HTTP): the hops proxies record in `X-Forwarded-For` and `Forwarded`
//! (RFC 7239), in order, nearest last.
//!
//! Each entry is read on its own: the left part of these headers is whatever the client chose
//! to send, and the proxy passes it along. One unreadable entry there must not make the entries
//! our proxy appended on the right unreadable too — reading the header as one strict grammar
//! (as the crates for it do) would let any client turn its address into the proxy's by
//! sending garbage, and so spend the budget of everyone behind that proxy.

use std::net::{IpAddr, SocketAddr};

use poem::http::HeaderMap;

const X_FORWARDED_FOR: &str = "x-forwarded-for";
const FORWARDED: &str = "forwarded";

/// One hop: its address, or `None` when it names none we can read (`unknown`, an obfuscated
/// identifier such as `_proxy1`, or something that is not an address at all).
pub type Hop = Option<IpAddr>;

/// The hops a request went through before its last proxy, from the first (the client, if
/// nobody lied) to the last. `X-Forwarded-For` when the request has it — every common proxy
/// writes it, so a `Forwarded` a client sent through such a proxy is never read — else
/// `Forwarded`. Empty when it has neither.
pub fn forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    if headers.contains_key(X_FORWARDED_FOR) {
        return entries(headers, X_FORWARDED_FOR).map(parse_node).collect();
    }
    entries(headers, FORWARDED).map(forwarded_for).collect()
}

/// Every comma-separated entry of every line of header `name`, in order (several lines of one
/// header are one list, RFC 9110 §5.3). A line that is not visible ASCII is one unreadable hop.
fn entries<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers.get_all(name).iter().flat_map(|value| {
        let text = value.to_str().unwrap_or("\u{0}");
        text.split(',')
    })
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.1;proto=https`); pairs are
/// separated by `;` and names are case-insensitive.
fn forwarded_for(element: &str) -> Hop {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| parse_node(unquote(value.trim())))
    })?
}

/// A quoted-string's content; the value itself when it is not quoted. Node values never need
/// escapes, so one is taken for a forgery and left in, which then fails to parse.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(value)
}

/// A node as proxies write it: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:443`. Obfuscated ports (`:_abc`) are allowed.
fn parse_node(raw: &str) -> Hop {
    let raw = raw.trim();
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = raw.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    if let Some(rest) = raw.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        return (after.is_empty() || is_port(after.strip_prefix(':')?))
            .then(|| inside.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6))?;
    }
    let (host, port) = raw.rsplit_once(':')?;
    (is_port(port) && !host.contains(':'))
        .then(|| host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4))?
}

/// A port as RFC 7239 allows it: digits, or an obfuscated `_` identifier.
fn is_port(port: &str) -> bool {
    let obfuscated = port.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    obfuscated || (!port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use poem::http::HeaderValue;

    use super::*;

    fn headers(lines: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in lines {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> Hop {
        Some(text.parse().unwrap())
    }

    #[test]
    fn x_forwarded_for_lists_every_hop_of_every_line_in_order() {
        let hops = forwarded_hops(&headers(&[
            ("x-forwarded-for", "198.51.100.1, 2001:db8::9"),
            ("x-forwarded-for", "203.0.113.5"),
        ]));

        assert_eq!(
            hops,
            [ip("198.51.100.1"), ip("2001:db8::9"), ip("203.0.113.5")]
        );
    }

    #[test]
    fn nodes_may_carry_ports_and_brackets() {
        for (raw, expected) in [
            ("192.0.2.1:443", "192.0.2.1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("[2001:db8::1]:8443", "2001:db8::1"),
            ("192.0.2.1:_hidden", "192.0.2.1"),
            ("  192.0.2.1  ", "192.0.2.1"),
        ] {
            assert_eq!(parse_node(raw), ip(expected), "{raw}");
        }
    }

    #[test]
    fn what_is_not_an_address_is_an_unreadable_hop() {
        for raw in [
            "unknown",
            "_proxy1",
            "",
            "not-an-ip",
            "192.0.2.1:99999999",
            "[2001:db8::1",
            "[192.0.2.1]",
            "2001:db8::1:443x",
            "192.0.2.1:",
        ] {
            assert_eq!(parse_node(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn forwarded_reads_the_for_node_of_each_element() {
        let hops = forwarded_hops(&headers(&[(
            "forwarded",
            "for=198.51.100.1;proto=https, For=\"[2001:db8::7]:4711\";by=10.0.0.1, proto=http, for=unknown",
        )]));

        assert_eq!(hops, [ip("198.51.100.1"), ip("2001:db8::7"), None, None]);
    }

    #[test]
    fn garbage_on_the_left_leaves_the_entries_on_the_right_readable() {
        let hops = forwarded_hops(&headers(&[(
            "forwarded",
            "for=\"oops, for=;;;, for=203.0.113.5",
        )]));

        assert_eq!(hops.last(), Some(&ip("203.0.113.5")));
    }

    #[test]
    fn x_forwarded_for_wins_over_forwarded_so_a_client_cannot_add_its_own() {
        let hops = forwarded_hops(&headers(&[
            ("forwarded", "for=192.0.2.66"),
            ("x-forwarded-for", "203.0.113.5"),
        ]));

        assert_eq!(hops, [ip("203.0.113.5")]);
    }

    #[test]
    fn a_request_without_either_header_has_no_hops() {
        assert!(forwarded_hops(&HeaderMap::new()).is_empty());
    }
}
