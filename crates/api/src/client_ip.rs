//! The client's IP address, for the rate limit: the socket's peer, unless that peer is a
//! proxy the operator trusts, in which case the first `X-Forwarded-For` entry (the address
//! the proxy says the request came from). Trusting every peer, as Appwrite does, would let
//! any client pick its own address and so dodge its limit.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

/// An address or a CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    network: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_match(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` bits of `a` and `b` agree.
fn prefix_match(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[full] & mask == b[full] & mask
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let bad = || format!("\"{text}\" is neither an IP address nor a CIDR block");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = address.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?,
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`--trusted-proxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }
}

/// The client address of a request. Without connection info (a router served without it)
/// every client is `0.0.0.0`.
pub(crate) fn client_ip(parts: &Parts, trusted: &TrustedProxies) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(address)| {
            address.ip().to_canonical()
        });
    if !trusted.trusts(peer) {
        return peer;
    }
    parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .next()
        .and_then(|value| value.to_str().ok())
        .and_then(|list| list.split(',').next())
        .and_then(forwarded_address)
        .unwrap_or(peer)
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[::1]:80`).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|address| address.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut request = Request::builder().uri("/");
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert!(net("10.0.0.0/8").contains(ip("10.200.3.4")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(net("192.168.1.0/23").contains(ip("192.168.0.9")));
        assert!(!net("192.168.2.0/23").contains(ip("192.168.1.9")));
        assert!(net("127.0.0.1").contains(ip("127.0.0.1")));
        assert!(net("127.0.0.1").contains(ip("::ffff:127.0.0.1")));
        assert!(!net("127.0.0.1").contains(ip("127.0.0.2")));
        assert!(net("fd00::/8").contains(ip("fd12::1")));
        assert!(!net("fd00::/8").contains(ip("10.0.0.1")));
        assert!(net("0.0.0.0/0").contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0/8", "::/129"] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let trusted = TrustedProxies(vec![net("10.0.0.0/8")]);
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(
            client_ip(
                &parts("10.1.1.1:4000", Some("203.0.113.9, 10.1.1.1")),
                &trusted
            ),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(&parts("10.1.1.1:4000", Some("[2001:db8::1]:443")), &trusted),
            ip("2001:db8::1")
        );
        // A bad header leaves the proxy's own address.
        assert_eq!(
            client_ip(&parts("10.1.1.1:4000", Some("garbage")), &trusted),
            ip("10.1.1.1")
        );
        // Anyone else's header is ignored.
        assert_eq!(
            client_ip(&parts("198.51.100.7:4000", Some("203.0.113.9")), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(
                &parts("[::ffff:198.51.100.7]:4000", None),
                &TrustedProxies::default()
            ),
            ip("198.51.100.7")
        );
    }
}
