//! The settings of keyless access: which JWTs name users, which browser origins may write,
//! which proxies name the client's address, and the rate limit of Create Execution.

use std::time::Duration;

use clap::Args;
use functiond_api::client_ip::{IpNet, TrustedProxies};
use functiond_domain::RateLimitSettings;
use functiond_domain::origins::AllowedOrigins;

use super::Secret;

#[derive(Debug, Clone, Args)]
pub struct AccessArgs {
    /// Accept `X-Appwrite-JWT` tokens signed (HS256) with this secret, at least 16
    /// characters. Without it, and without --jwt-public-key, every JWT is refused (401).
    #[arg(long, env = "FUNCTIOND_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Accept JWTs signed with the private half of this public key: RSA (RS256) or EC P-256
    /// (ES256), in PEM. Either the PEM text itself (starting with `-----BEGIN`) or the path of
    /// a PEM file.
    #[arg(long, env = "FUNCTIOND_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<String>,

    /// Browser origins allowed to make keyless writes (POST, PUT, PATCH, DELETE with an
    /// `Origin` header), comma-separated: `https://app.example.com`, `http://localhost:3000`,
    /// `app.example.com` (any scheme and port), `*.example.com`, or `*` for all. Requests
    /// without an `Origin` and from the server's own origin always pass; by default nothing
    /// else does.
    #[arg(long, env = "FUNCTIOND_ALLOWED_ORIGINS", value_delimiter = ',',
          value_parser = check_origin)]
    pub allowed_origins: Vec<String>,

    /// Proxies (addresses or CIDR blocks, comma-separated) whose `X-Forwarded-For` names the
    /// client for the rate limit. Requests from any other peer are counted by the peer's
    /// address, whatever their headers say.
    #[arg(long, env = "FUNCTIOND_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = check_proxy)]
    pub trusted_proxies: Vec<String>,

    /// Create Execution calls allowed per project, client IP and user in each window (keys
    /// are never limited); 0 turns the limit and its headers off. `_APP_OPTIONS_ABUSE=disabled`
    /// keeps the headers but limits nothing.
    #[arg(long, env = "FUNCTIOND_RATE_LIMIT", default_value_t = 60)]
    pub rate_limit: u64,

    /// The rate-limit window in seconds; windows are aligned to the Unix epoch.
    #[arg(long, env = "FUNCTIOND_RATE_LIMIT_PERIOD", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub rate_limit_period: u64,
}

fn check_origin(entry: &str) -> Result<String, String> {
    AllowedOrigins::parse(&[entry.to_owned()]).map(|_| entry.to_owned())
}

/// Blank entries (an empty environment variable) are skipped.
fn check_proxy(entry: &str) -> Result<String, String> {
    if !entry.trim().is_empty() {
        entry.parse::<IpNet>()?;
    }
    Ok(entry.to_owned())
}

/// The resolved settings.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub jwt_secret: Option<Secret>,
    /// PEM text or a PEM file's path, read when the server starts.
    pub jwt_public_key: Option<String>,
    pub allowed_origins: Vec<String>,
    pub trusted_proxies: TrustedProxies,
    pub rate_limit: RateLimitSettings,
}

impl AccessArgs {
    pub fn resolve(&self) -> Access {
        let enforce = super::appwrite_alias("_APP_OPTIONS_ABUSE")
            .is_none_or(|value| value.trim() != "disabled");
        Access {
            jwt_secret: self.jwt_secret.clone(),
            jwt_public_key: self.jwt_public_key.clone(),
            allowed_origins: self.allowed_origins.clone(),
            trusted_proxies: TrustedProxies(
                self.trusted_proxies
                    .iter()
                    .filter_map(|entry| entry.parse().ok())
                    .collect(),
            ),
            rate_limit: RateLimitSettings {
                limit: self.rate_limit,
                window: Duration::from_secs(self.rate_limit_period),
                enforce,
            },
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum JwtCommand {
    /// Print a signed JWT naming a user, alone on the last line: send it as `X-Appwrite-JWT`
    /// (the SDKs' `setJWT` / `set_jwt`). For trying functiond out and for tests; in
    /// production an identity service that holds the same key mints them.
    Create(JwtCreateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct JwtCreateArgs {
    /// The user the token names (`userId`).
    #[arg(long)]
    pub user: String,

    /// Mark the user verified (`emailVerification: true`): roles `users/verified` and
    /// `user:<id>/verified` instead of the `/unverified` ones.
    #[arg(long)]
    pub verified: bool,

    /// A confirmed team membership, repeatable: `TEAM[:ROLE,ROLE…][@MEMBERSHIP]`, e.g.
    /// `t1:owner,dev@m1` gives `team:t1`, `team:t1/owner`, `team:t1/dev` and `member:m1`.
    #[arg(long = "team", value_name = "TEAM[:ROLES][@MEMBERSHIP]")]
    pub teams: Vec<String>,

    /// Make the token good for this project only (`projectId`).
    #[arg(long)]
    pub project: Option<String>,

    /// How long the token lasts, in seconds.
    #[arg(long, default_value_t = 900)]
    pub ttl: u64,

    /// Sign with this HS256 secret: the server's --jwt-secret.
    #[arg(long, env = "FUNCTIOND_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Sign RS256 or ES256 with this RSA or EC P-256 private key instead: PEM text or the
    /// path of a PEM file.
    #[arg(long, env = "FUNCTIOND_JWT_PRIVATE_KEY", hide_env_values = true)]
    pub jwt_private_key: Option<String>,
}
