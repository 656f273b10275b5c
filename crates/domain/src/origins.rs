//! Which browser origins may change things without an API key (Appwrite's web "platforms").
//! A browser names the page that sent a request in its `Origin` header; a page on a site the
//! operator does not know must not act for the JWT user (or guest) whose browser it runs in.
//!
//! Entries of `--allowed-origins`:
//! - `*`: every origin;
//! - `https://app.example.com` or `http://localhost:3000`: that scheme, host and port (80 and
//!   443 are implied for http and https);
//! - `app.example.com`: that host under any scheme and port;
//! - `*.example.com` (also after a scheme): any subdomain of example.com, not example.com itself.
//!
//! Requests without an `Origin` (server SDKs, curl) and same-origin requests (the `Origin`
//! names the host the request was sent to) always pass, so with nothing configured only
//! those do.

/// The configured origins; the default allows none beyond the always-allowed ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins {
    any: bool,
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// A scheme, host and port (`None` for schemes without a default port, e.g. `tauri`).
    Exact {
        scheme: String,
        host: HostPattern,
        port: Option<u16>,
    },
    /// A host under any scheme and port.
    Host(HostPattern),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Name(String),
    /// `*.example.com`, kept as `.example.com`.
    Subdomains(String),
}

impl HostPattern {
    fn parse(host: &str) -> Result<Self, String> {
        let valid = |name: &str| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
        };
        if let Some(parent) = host.strip_prefix("*.") {
            if valid(parent) && !parent.contains('*') {
                return Ok(Self::Subdomains(format!(".{parent}")));
            }
        } else if valid(host) {
            return Ok(Self::Name(host.to_owned()));
        }
        Err(format!("\"{host}\" is not a host name"))
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            Self::Name(name) => name == host,
            Self::Subdomains(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
        }
    }
}

/// An origin or a Host header taken apart: lowercase host, and the port (explicit, or the
/// scheme's default).
#[derive(Debug, PartialEq, Eq)]
struct Origin<'a> {
    scheme: &'a str,
    host: String,
    port: Option<u16>,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Splits `host[:port]` (IPv6 hosts in brackets); `None` when the port is not a number.
fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        (host, rest.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(port) => Some(port.parse().ok()?),
    };
    (!host.is_empty()).then_some((host, port))
}

fn parse_origin(text: &str) -> Option<Origin<'_>> {
    let (scheme, rest) = text.split_once("://")?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) {
        return None;
    }
    let (host, port) = split_authority(authority)?;
    Some(Origin {
        scheme,
        host: host.to_ascii_lowercase(),
        port: port.or_else(|| default_port(scheme)),
    })
}

impl AllowedOrigins {
    /// Reads the entries (see the module docs); blank ones are skipped.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut allowed = Self::default();
        for entry in entries {
            let entry = entry.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                allowed.any = true;
                continue;
            }
            let bad = |why: String| format!("allowed origin \"{entry}\": {why}");
            let pattern = if let Some((scheme, rest)) = entry.split_once("://") {
                let authority = rest.strip_suffix('/').unwrap_or(rest);
                if scheme.is_empty() || authority.contains(['/', '?', '#', '@']) {
                    return Err(bad("write it as scheme://host[:port]".to_owned()));
                }
                let (host, port) = split_authority(authority)
                    .ok_or_else(|| bad("the port is not a number".to_owned()))?;
                Pattern::Exact {
                    scheme: scheme.to_owned(),
                    host: HostPattern::parse(host).map_err(bad)?,
                    port: port.or_else(|| default_port(scheme)),
                }
            } else {
                if entry.contains(':') && !entry.starts_with('[') {
                    return Err(bad(
                        "to name a port, give the scheme too (http://host:port)".to_owned(),
                    ));
                }
                Pattern::Host(HostPattern::parse(&entry).map_err(bad)?)
            };
            allowed.patterns.push(pattern);
        }
        Ok(allowed)
    }

    /// Whether a keyless write whose `Origin` is `origin`, sent to the host `host` (its
    /// `Host` header), may go ahead.
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        if self.any {
            return true;
        }
        let origin = origin.trim().to_ascii_lowercase();
        let Some(parsed) = parse_origin(&origin) else {
            // `null` (sandboxed frames, file: pages) and garbage match nothing.
            return false;
        };
        let same_origin = host
            .and_then(|host| split_authority(host.trim()))
            .is_some_and(|(host, port)| {
                host.eq_ignore_ascii_case(&parsed.host)
                    && port.or_else(|| default_port(parsed.scheme)) == parsed.port
            });
        same_origin
            || self.patterns.iter().any(|pattern| match pattern {
                Pattern::Exact { scheme, host, port } => {
                    scheme == parsed.scheme && host.matches(&parsed.host) && *port == parsed.port
                }
                Pattern::Host(host) => host.matches(&parsed.host),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str]) -> AllowedOrigins {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        AllowedOrigins::parse(&entries).unwrap()
    }

    #[test]
    fn nothing_configured_allows_only_the_same_origin() {
        let none = AllowedOrigins::default();
        assert!(!none.allows("https://evil.example", Some("api.example.com")));
        assert!(none.allows("http://api.example.com", Some("api.example.com")));
        assert!(none.allows("http://127.0.0.1:8080", Some("127.0.0.1:8080")));
        assert!(none.allows("https://api.example.com", Some("api.example.com:443")));
        assert!(!none.allows("http://127.0.0.1:3000", Some("127.0.0.1:8080")));
        assert!(none.allows("http://[::1]:8080", Some("[::1]:8080")));
        assert!(!none.allows("null", Some("null")));
        assert!(!none.allows("http://api.example.com", None));
    }

    #[test]
    fn entries_match_scheme_host_and_port_as_written() {
        let origins = allowed(&[
            "https://app.example.com",
            "http://localhost:3000",
            "mobile.example.org",
            "*.example.net",
            "tauri://localhost",
        ]);
        let allows = |origin| origins.allows(origin, Some("api.internal:8080"));
        assert!(allows("https://app.example.com"));
        assert!(allows("https://APP.example.com:443/"));
        assert!(!allows("http://app.example.com"));
        assert!(!allows("https://app.example.com:8443"));
        assert!(allows("http://localhost:3000"));
        assert!(!allows("http://localhost:3001"));
        assert!(allows("https://mobile.example.org:9999"));
        assert!(allows("http://mobile.example.org"));
        assert!(allows("https://a.b.example.net"));
        assert!(!allows("https://example.net"));
        assert!(!allows("https://badexample.net"));
        assert!(allows("tauri://localhost"));
        assert!(!allows("https://evil.example"));
        assert!(!allows("https://app.example.com.evil.example"));
        assert!(allowed(&["*"]).allows("null", None));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in [
            "localhost:3000",
            "https://a.example/path",
            "https://a:b",
            "*",
            "a b",
        ] {
            let result = AllowedOrigins::parse(&[bad.to_owned()]);
            assert_eq!(result.is_err(), bad != "*", "{bad}");
        }
    }
}
