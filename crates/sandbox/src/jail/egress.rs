//! Egress for a sandbox that may reach the internet (a build that needs the package
//! registries, or a function allowed out): an HTTP proxy owned by the server, listening on
//! `127.0.0.1:3128` *inside* the sandbox's network namespace, which stays otherwise empty.
//! The sandbox has no route anywhere, so every byte out goes through the proxy, and the proxy
//! decides where it may go: never to loopback, private, link-local or shared ranges, nor to
//! any address of this host (which covers the server's own ports), unless the operator allows
//! a range explicitly. Names are resolved by the proxy on the host, so the sandbox needs no DNS.
//!
//! Clients find it through `HTTP_PROXY`/`HTTPS_PROXY`, which npm, pip, curl and Python's
//! `urllib`/`requests` honour. `CONNECT` (HTTPS) and plain `http://` requests are relayed;
//! a client that ignores proxy variables (Node's built-in `fetch`, raw sockets) reaches
//! nothing at all.

use std::io::{BufRead, BufReader, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs,
};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

/// The proxy's port inside every sandbox.
pub(crate) const PORT: u16 = 3128;

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    address: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = text.split_once('/').unwrap_or((text, ""));
        let address: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or range"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has an invalid prefix length"))?
        };
        Ok(Self { address, prefix })
    }
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        let (net, width) = bits(self.address);
        let (candidate, candidate_width) = bits(ip);
        if width != candidate_width {
            return false;
        }
        let mask = if self.prefix == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.prefix))
        };
        net & mask == candidate & mask
    }
}

/// Where sandboxes with egress may connect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Egress {
    /// Ranges reachable although they are private or local (say, a registry mirror on the
    /// LAN). The host's own addresses are only reachable when listed here.
    pub allow: Vec<Cidr>,
}

impl Egress {
    /// Why `ip` is out of bounds, if it is.
    fn refuses(&self, ip: IpAddr) -> Option<&'static str> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        if self.allow.iter().any(|cidr| cidr.contains(ip)) {
            return None;
        }
        let special = match ip {
            IpAddr::V4(v4) => special_v4(v4),
            IpAddr::V6(v6) => special_v6(v6),
        };
        if special {
            return Some("a loopback, private or reserved address");
        }
        if host_addresses().contains(&ip) {
            return Some("an address of this server");
        }
        None
    }
}

fn special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn special_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

fn host_addresses() -> Vec<IpAddr> {
    let Ok(addresses) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addresses
        .filter_map(|interface| {
            let address = interface.address?;
            if let Some(v4) = address.as_sockaddr_in() {
                return Some(IpAddr::V4(v4.ip()));
            }
            address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
        })
        .collect()
}

/// A running proxy; dropping it stops accepting (open relays end with their connections).
#[derive(Debug)]
pub(crate) struct Proxy {
    listener: Arc<TcpListener>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Wakes the accept loop, which then ends.
        let _ = nix::sys::socket::shutdown(
            std::os::fd::AsRawFd::as_raw_fd(&self.listener.as_fd()),
            nix::sys::socket::Shutdown::Both,
        );
    }
}

/// Starts a proxy for `policy` listening in the network namespace of process `pid`.
pub(crate) fn start(pid: i32, policy: Egress) -> std::io::Result<Proxy> {
    let namespace = std::fs::File::open(format!("/proc/{pid}/ns/net"))?;
    // Entering a namespace is per thread: do it on a short-lived thread of its own, which
    // brings the namespace's loopback up and binds the listener there; the socket stays in
    // that namespace after the thread is gone.
    let listener = std::thread::spawn(move || -> std::io::Result<TcpListener> {
        nix::sched::setns(namespace.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(std::io::Error::from)?;
        super::net::loopback_up()?;
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, PORT)))
    })
    .join()
    .map_err(|_| std::io::Error::other("the proxy's setup thread panicked"))??;
    let listener = Arc::new(listener);
    let accepting = Arc::clone(&listener);
    let policy = Arc::new(policy);
    std::thread::Builder::new()
        .name("sandbox-egress".into())
        .spawn(move || {
            for client in accepting.incoming() {
                let Ok(client) = client else { break };
                let policy = Arc::clone(&policy);
                let _ = std::thread::Builder::new()
                    .name("sandbox-egress-conn".into())
                    .spawn(move || serve(client, &policy));
            }
        })?;
    Ok(Proxy { listener })
}

/// Handles one client connection: one CONNECT tunnel, or one plain HTTP request.
fn serve(client: TcpStream, policy: &Egress) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(match client.try_clone() {
        Ok(stream) => stream,
        Err(_) => return,
    });
    let mut head = Vec::new();
    loop {
        let before = head.len();
        if reader.read_until(b'\n', &mut head).unwrap_or(0) == 0 || head.len() > 16 * 1024 {
            return;
        }
        if head[before..] == *b"\r\n" || head[before..] == *b"\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let mut words = first.split_whitespace();
    let (method, target, version) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
        words.next().unwrap_or("HTTP/1.1"),
    );
    let mut client = client;
    let (authority, request) = if method.eq_ignore_ascii_case("CONNECT") {
        (target.to_owned(), None)
    } else if let Some(rest) = target.strip_prefix("http://") {
        let (authority, path) = rest
            .split_once('/')
            .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
        let authority = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let mut rewritten = format!("{method} {path} {version}\r\n");
        for line in lines.filter(|line| !line.is_empty()) {
            let name = line
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !name.starts_with("proxy-") && name != "connection" {
                rewritten.push_str(line);
                rewritten.push_str("\r\n");
            }
        }
        rewritten.push_str("Connection: close\r\n\r\n");
        (authority, Some(rewritten))
    } else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n\r\n");
        return;
    };
    let upstream = match connect(&authority, policy) {
        Ok(upstream) => upstream,
        Err(reason) => {
            let body = format!("functiond sandbox: {authority} is not reachable: {reason}\n");
            let _ = write!(
                client,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return;
        }
    };
    let mut upstream_writer = match upstream.try_clone() {
        Ok(stream) => stream,
        Err(_) => return,
    };
    match request {
        None => {
            if client
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .is_err()
            {
                return;
            }
        }
        Some(request) => {
            if upstream_writer.write_all(request.as_bytes()).is_err() {
                return;
            }
        }
    }
    let _ = client.set_read_timeout(None);
    // Bytes the client sent after the head (a TLS hello, a request body) are in the buffer.
    let buffered = reader.buffer().to_vec();
    if !buffered.is_empty() && upstream_writer.write_all(&buffered).is_err() {
        return;
    }
    let mut client_reader = reader.into_inner();
    let upload = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut upstream_writer);
        let _ = upstream_writer.shutdown(Shutdown::Write);
    });
    let mut upstream_reader = upstream;
    let _ = std::io::copy(&mut upstream_reader, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = upload.join();
}

/// Resolves `authority` (`host:port`) on the host and connects to the first address the
/// policy allows.
fn connect(authority: &str, policy: &Egress) -> Result<TcpStream, String> {
    let addresses: Vec<SocketAddr> = authority
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve it ({error})"))?
        .collect();
    let mut refusal = "no address";
    for address in addresses {
        if let Some(reason) = policy.refuses(address.ip()) {
            refusal = reason;
            continue;
        }
        return TcpStream::connect_timeout(&address, Duration::from_secs(15))
            .map_err(|error| format!("connecting failed ({error})"));
    }
    Err(format!(
        "it resolves to {refusal}, which sandboxes may not reach"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_private_addresses_are_refused_unless_allowed() {
        let policy = Egress::default();
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                policy.refuses(refused.parse().unwrap()).is_some(),
                "{refused}"
            );
        }
        for allowed in ["1.1.1.1", "151.101.0.1", "2606:4700::1111"] {
            assert_eq!(policy.refuses(allowed.parse().unwrap()), None, "{allowed}");
        }
        let policy = Egress {
            allow: vec!["10.0.0.0/8".parse().unwrap()],
        };
        assert_eq!(policy.refuses("10.9.9.9".parse().unwrap()), None);
        assert!(policy.refuses("192.168.0.1".parse().unwrap()).is_some());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
    }
}
