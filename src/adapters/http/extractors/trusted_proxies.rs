//! Adapters layer (HTTP): the proxies whose forwarding headers are believed
//! (`TRUSTED_PROXIES`): addresses and CIDR ranges, IPv4 and IPv6, parsed with `ipnet`.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// The proxies in front of this service. Empty (the default): no forwarding header is believed,
/// the client is the connection's peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads a comma-separated list such as `10.0.0.0/8, 192.0.2.7, fd00::/8`; spaces and
    /// empty items are ignored. The error names the item that is neither an address nor a
    /// range.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!(
                            "`{item}` is neither an IP address nor a CIDR range such as 10.0.0.0/8"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether `address` is one of these proxies. An IPv4 peer seen on an IPv6 socket
    /// (`::ffff:10.0.0.1`) is its IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn reads_addresses_and_ranges_of_both_families() {
        let proxies =
            TrustedProxies::parse(" 10.0.0.0/8, 192.0.2.7 ,, fd00::/8,2001:db8::1").unwrap();

        assert_eq!(
            proxies.to_string(),
            "10.0.0.0/8,192.0.2.7/32,fd00::/8,2001:db8::1/128"
        );
        for trusted in [
            "10.1.2.3",
            "192.0.2.7",
            "fd12::1",
            "2001:db8::1",
            "::ffff:10.9.9.9",
        ] {
            assert!(proxies.contains(ip(trusted)), "{trusted}");
        }
        for untrusted in ["11.0.0.1", "192.0.2.8", "fe80::1", "2001:db8::2"] {
            assert!(!proxies.contains(ip(untrusted)), "{untrusted}");
        }
    }

    #[test]
    fn a_range_written_with_host_bits_covers_its_whole_network() {
        let proxies = TrustedProxies::parse("10.1.2.3/16").unwrap();

        assert!(proxies.contains(ip("10.1.200.1")));
        assert_eq!(proxies.to_string(), "10.1.0.0/16");
    }

    #[test]
    fn an_empty_list_trusts_nobody() {
        let proxies = TrustedProxies::parse("").unwrap();

        assert!(proxies.is_empty());
        assert!(!proxies.contains(ip("127.0.0.1")));
    }

    #[test]
    fn an_item_that_is_not_an_address_is_named_in_the_error() {
        for bad in [
            "10.0.0.0/33",
            "localhost",
            "10.0.0.1,nginx",
            "2001:db8::/129",
            "*",
        ] {
            let error = TrustedProxies::parse(bad).unwrap_err();
            assert!(error.starts_with('`'), "{bad}: {error}");
        }
        assert!(
            TrustedProxies::parse("10.0.0.1, nginx")
                .unwrap_err()
                .contains("`nginx`")
        );
    }
}
