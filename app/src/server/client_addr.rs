//! Who the client is, for every per-address limit (SEC-7).
//!
//! In production Nidan sits behind a TLS proxy, so the TCP peer is the proxy and every
//! client would share one bucket. The proxy's forwarding header is believed only when the
//! peer is one of the configured trusted proxies (`NIDAN_TRUSTED_PROXIES`), and then only
//! as far as it was written by trusted hops: walking the chain from the right (the hop
//! nearest to us), the first address that is not a trusted proxy is the client. Whatever a
//! client wrote into the header itself stands to the left of that and is never read.
//!
//! IPv6 clients are grouped by /64, the block one subscriber usually gets: counting single
//! IPv6 addresses would give one attacker 2^64 buckets.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

/// Which header the proxies in front of us maintain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:4711"`.
    Forwarded,
}

impl ProxyHeader {
    /// The header's name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

/// The proxies whose forwarding header is believed. Empty: none (the peer is the client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: Option<ProxyHeader>,
}

/// A `NIDAN_TRUSTED_PROXIES` entry that is neither an address nor a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR block: {0:?}")]
pub struct BadProxy(pub String);

impl TrustedProxies {
    /// No proxy: the TCP peer is the client.
    pub fn none() -> Self {
        Self::default()
    }

    /// Comma-separated addresses or CIDR blocks (`10.0.0.1, 192.168.0.0/16, ::1`).
    pub fn parse(list: &str, header: ProxyHeader) -> Result<Self, BadProxy> {
        let nets = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                IpNet::from_str(s)
                    .or_else(|_| IpAddr::from_str(s).map(IpNet::from))
                    .map(|n| n.trunc())
                    .ok()
                    // Trusting every address would let any client name its own address.
                    .filter(|n| n.prefix_len() > 0)
                    .ok_or_else(|| BadProxy(s.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            header: (!nets.is_empty()).then_some(header),
            nets,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The header read from trusted proxies, if any are configured.
    pub fn header(&self) -> Option<ProxyHeader> {
        self.header
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: `peer` unless it is a trusted proxy, else the right-most hop of
    /// the forwarding header (`values`, every line of it in order) that is not a trusted
    /// proxy. A hop that does not parse ends the walk at the last trusted address seen.
    pub fn client(&self, peer: IpAddr, values: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        let Some(header) = self.header.filter(|_| self.trusts(peer)) else {
            return peer;
        };
        let hops: Vec<&str> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut nearest = peer;
        for hop in hops.iter().rev() {
            let parsed = match header {
                ProxyHeader::XForwardedFor => parse_hop(hop),
                ProxyHeader::Forwarded => forwarded_for(hop).and_then(parse_hop),
            };
            match parsed {
                Some(ip) if self.trusts(ip) => nearest = ip,
                Some(ip) => return ip,
                None => return nearest,
            }
        }
        nearest
    }
}

/// IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the IPv4 address it maps.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, each optionally quoted.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = IpAddr::from_str(hop) {
        return Some(canonical(ip));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return Ipv6Addr::from_str(inside)
            .ok()
            .map(|v6| canonical(v6.into()));
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    std::net::Ipv4Addr::from_str(host).ok().map(IpAddr::V4)
}

/// The `for=` parameter of one `Forwarded` element (`for=192.0.2.1;proto=https`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case("for").then_some(v.trim())
    })
}

/// The key an address is counted under by every per-address limit: an IPv4 address as is,
/// an IPv6 address by its /64.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(String);

impl ClientKey {
    pub fn of(ip: IpAddr) -> Self {
        match canonical(ip) {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                Self(format!("{prefix}/64"))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list, ProxyHeader::XForwardedFor).unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let none = TrustedProxies::none();
        assert_eq!(
            none.client(ip("198.51.100.7"), &["203.0.113.9"]),
            ip("198.51.100.7")
        );
        let some = xff("10.0.0.1");
        assert_eq!(
            some.client(ip("198.51.100.7"), &["203.0.113.9"]),
            ip("198.51.100.7"),
            "a peer that is not a trusted proxy is not believed"
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies = xff("10.0.0.0/8, 192.168.1.1");
        // The client forged "1.1.1.1"; our proxy appended the real address.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &["1.1.1.1, 203.0.113.9"]),
            ip("203.0.113.9")
        );
        // Two of our proxies in a row, the header split over two lines.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &["1.1.1.1, 203.0.113.9", "192.168.1.1"]),
            ip("203.0.113.9")
        );
        // Every hop is ours: the left-most is the nearest we know.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &["10.1.1.1"]),
            ip("10.1.1.1")
        );
        // No header at all: the proxy itself.
        assert_eq!(proxies.client(ip("10.0.0.1"), &[]), ip("10.0.0.1"));
        // Garbage written by a hop we trust stops the walk at that trusted hop.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &["203.0.113.9, nonsense"]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_elements_and_ports_are_understood() {
        let proxies = TrustedProxies::parse("::1", ProxyHeader::Forwarded).unwrap();
        assert_eq!(
            proxies.client(
                ip("::1"),
                &[r#"for=1.1.1.1, for="[2001:db8:1:2::7]:4711";proto=https"#]
            ),
            ip("2001:db8:1:2::7")
        );
        assert_eq!(
            proxies.client(ip("::1"), &["for=192.0.2.60:8080;by=203.0.113.43"]),
            ip("192.0.2.60")
        );
        assert_eq!(
            proxies.client(ip("::1"), &["for=unknown"]),
            ip("::1"),
            "an obfuscated client is the proxy's"
        );
    }

    #[test]
    fn mapped_ipv4_is_ipv4() {
        let proxies = xff("127.0.0.1");
        assert_eq!(
            proxies.client(ip("::ffff:127.0.0.1"), &["203.0.113.9"]),
            ip("203.0.113.9")
        );
        assert_eq!(ClientKey::of(ip("::ffff:192.0.2.1")).as_str(), "192.0.2.1");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(
            ClientKey::of(ip("2001:db8:1:2:aaaa::1")),
            ClientKey::of(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            ClientKey::of(ip("2001:db8:1:2::1")),
            ClientKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            ClientKey::of(ip("2001:db8:1:2::1")).as_str(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(ClientKey::of(ip("192.0.2.1")).as_str(), "192.0.2.1");
    }

    #[test]
    fn the_list_parses_addresses_and_blocks_and_refuses_the_rest() {
        assert!(xff("10.0.0.1,  fd00::/8 ,").trusts(ip("fd12::1")));
        assert!(
            TrustedProxies::parse("10.0.0.300", ProxyHeader::XForwardedFor).is_err(),
            "a typo must not silently trust nobody"
        );
        assert!(
            TrustedProxies::parse("", ProxyHeader::XForwardedFor)
                .unwrap()
                .is_empty()
        );
        assert!(
            TrustedProxies::parse("0.0.0.0/0", ProxyHeader::XForwardedFor).is_err()
                && TrustedProxies::parse("::/0", ProxyHeader::XForwardedFor).is_err(),
            "trusting everyone is refused"
        );
    }
}
