//! Core layer: the network a client's address belongs to — the unit the password throttle
//! counts failures by. Depends on the standard library only.

use std::net::IpAddr;

use super::ClientInfo;

impl ClientInfo {
    /// The client's network as a stable text: the /24 of an IPv4 address (an IPv4-mapped
    /// IPv6 address counts as IPv4), the /64 of an IPv6 one — the block one subscriber or one
    /// host usually holds, so hopping addresses inside it buys no fresh budget. A missing or
    /// unreadable address is one shared network, `unknown`.
    pub fn network(&self) -> String {
        let Some(ip) = self
            .ip
            .as_deref()
            .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
        else {
            return "unknown".to_owned();
        };
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                format!("{a}.{b}.{c}.0/24")
            }
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(ip: &str) -> String {
        ClientInfo {
            ip: Some(ip.into()),
            user_agent: None,
        }
        .network()
    }

    #[test]
    fn ipv4_addresses_are_grouped_by_their_slash_24() {
        assert_eq!(from("203.0.113.7"), "203.0.113.0/24");
        assert_eq!(from("203.0.113.250"), from("203.0.113.7"));
        assert_ne!(from("203.0.114.7"), from("203.0.113.7"));
    }

    #[test]
    fn ipv6_addresses_are_grouped_by_their_slash_64_and_mapped_ipv4_counts_as_ipv4() {
        assert_eq!(from("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(from("2001:db8:1:2:ffff::9"), from("2001:db8:1:2::1"));
        assert_ne!(from("2001:db8:1:3::1"), from("2001:db8:1:2::1"));
        assert_eq!(from("::ffff:203.0.113.9"), "203.0.113.0/24");
    }

    #[test]
    fn a_missing_or_unreadable_address_is_the_unknown_network() {
        assert_eq!(ClientInfo::default().network(), "unknown");
        assert_eq!(from("not an address"), "unknown");
    }
}
