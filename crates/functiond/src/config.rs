//! The typed configuration, built once from the command line and its `FUNCTIOND_*`
//! environment twins. This is the one module that reads the environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use functiond_executor::runtimes::Discovery;

mod access;
pub use access::{Access, AccessArgs, JwtCommand, JwtCreateArgs};

/// functiond: a self-hosted serverless functions server that speaks the Appwrite Functions
/// API (1.0), so the official Appwrite SDKs and CLI work against it unchanged.
#[derive(Debug, Parser)]
#[command(name = "functiond", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every subcommand accepts, before or after its own arguments.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Where functiond keeps its database, secret key and bootstrap credentials.
    #[arg(
        long,
        global = true,
        env = "FUNCTIOND_DATA_DIR",
        default_value = "./functiond-data"
    )]
    pub data_dir: PathBuf,

    /// The database to use: `sqlite:///path/file.db`. Defaults to a SQLite file in the data dir.
    #[arg(long, global = true, env = "FUNCTIOND_DATABASE_URL")]
    pub database_url: Option<String>,

    /// The key that encrypts variable values at rest. Any long random string; when unset,
    /// one is generated in `<data-dir>/secret.key` on first use.
    #[arg(
        long,
        global = true,
        env = "FUNCTIOND_SECRET_KEY",
        hide_env_values = true
    )]
    pub secret_key: Option<Secret>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server. On its first start with an empty database it creates project
    /// `default` and an API key with every scope, prints them, and saves them in
    /// `<data-dir>/bootstrap.json`.
    Serve(Box<ServeArgs>),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Apply pending database migrations and exit (`serve` also applies them at start).
    Migrate,
    /// Mint JWTs for testing.
    #[command(subcommand)]
    Jwt(JwtCommand),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The address the API listens on.
    #[arg(long, env = "FUNCTIOND_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// A JSON file listing the runtimes (`[{"id","name","version","command"}]`); replaces
    /// the discovery of interpreters on the PATH.
    #[arg(long, env = "FUNCTIOND_RUNTIMES_FILE")]
    pub runtimes_file: Option<PathBuf>,

    /// Only offer these runtime ids, comma-separated (e.g. `node-20.0,python-3.11`). Empty
    /// means every runtime found.
    #[arg(long, env = "FUNCTIOND_RUNTIMES", value_delimiter = ',')]
    pub runtimes: Vec<String>,

    /// The largest timeout, in seconds, a function may set [default: 900; alias
    /// `_APP_FUNCTIONS_TIMEOUT`].
    #[arg(long, env = "FUNCTIOND_FUNCTIONS_TIMEOUT",
          value_parser = clap::value_parser!(i64).range(1..=86_400))]
    pub functions_timeout: Option<i64>,

    /// The largest deployment archive, in bytes [default: 30000000; alias
    /// `_APP_FUNCTIONS_SIZE_LIMIT`].
    #[arg(long, env = "FUNCTIOND_FUNCTIONS_SIZE_LIMIT")]
    pub functions_size_limit: Option<u64>,

    /// How long a build may take, in seconds [default: 900; alias
    /// `_APP_FUNCTIONS_BUILD_TIMEOUT`].
    #[arg(long, env = "FUNCTIOND_FUNCTIONS_BUILD_TIMEOUT")]
    pub functions_build_timeout: Option<u64>,

    /// Seconds an idle warm instance is kept [default: 60; alias
    /// `_APP_FUNCTIONS_INACTIVE_THRESHOLD`].
    #[arg(long, env = "FUNCTIOND_FUNCTIONS_INACTIVE_THRESHOLD")]
    pub functions_inactive_threshold: Option<u64>,

    /// The most warm instances kept at once, across all functions.
    #[arg(long, env = "FUNCTIOND_FUNCTIONS_INSTANCES", default_value_t = 32)]
    pub functions_instances: usize,

    /// Variables of the server's environment that builds may see, comma-separated: the proxy,
    /// CA bundle and registry settings `npm install` and `pip install` need on this network.
    /// Nothing else of the server's environment reaches a build.
    #[arg(
        long,
        env = "FUNCTIOND_BUILD_ENV",
        value_delimiter = ',',
        default_value = "HTTP_PROXY,HTTPS_PROXY,NO_PROXY,http_proxy,https_proxy,no_proxy,\
NODE_EXTRA_CA_CERTS,SSL_CERT_FILE,SSL_CERT_DIR,REQUESTS_CA_BUNDLE,NPM_CONFIG_REGISTRY,\
npm_config_registry,PIP_INDEX_URL,PIP_EXTRA_INDEX_URL,PIP_FIND_LINKS,PIP_CERT,PIP_DEFAULT_TIMEOUT"
    )]
    pub build_env: Vec<String>,

    /// How many background jobs (builds, asynchronous executions) run at once.
    #[arg(long, env = "FUNCTIOND_WORKERS", default_value_t = 4)]
    pub workers: usize,

    /// Memory per function instance, in MB; 0 means no limit [default: 512; alias
    /// `_APP_FUNCTIONS_MEMORY`]. Builds get at least 2048.
    #[arg(long, env = "FUNCTIOND_FUNCTIONS_MEMORY")]
    pub functions_memory: Option<u64>,

    /// CPU per function instance, in cores (`0.5`, `2`); 0 means no limit [default: 1; alias
    /// `_APP_FUNCTIONS_CPUS`].
    #[arg(long, env = "FUNCTIOND_FUNCTIONS_CPUS")]
    pub functions_cpus: Option<f64>,

    /// Processes and threads per function instance; 0 means no limit [default: 256]. Builds
    /// get at least 1024.
    #[arg(long, env = "FUNCTIOND_FUNCTIONS_PIDS")]
    pub functions_pids: Option<u64>,

    /// What network builds have: `egress` (through the sandbox's proxy, to public addresses
    /// only: the package registries) or `none`.
    #[arg(long, env = "FUNCTIOND_BUILD_NETWORK", default_value = "egress")]
    pub build_network: NetworkMode,

    /// What network function instances have: `none`, or `egress` (through the sandbox's
    /// proxy, for clients that honour `HTTPS_PROXY`; public addresses only).
    #[arg(long, env = "FUNCTIOND_FUNCTIONS_NETWORK", default_value = "none")]
    pub functions_network: NetworkMode,

    /// Address ranges sandboxes with egress may reach although they are private or local
    /// (e.g. `10.0.0.0/8` for a registry mirror on the LAN), comma-separated.
    #[arg(long, env = "FUNCTIOND_EGRESS_ALLOW", value_delimiter = ',')]
    pub egress_allow: Vec<functiond_sandbox::Cidr>,

    /// DEVELOPMENT ONLY: run functions and builds as plain processes of the server's user,
    /// with no isolation and no limits. Anyone who can deploy a function then controls the
    /// server and its data. Logged loudly at every start.
    #[arg(long, env = "FUNCTIOND_INSECURE_NO_SANDBOX")]
    pub insecure_no_sandbox: bool,

    #[command(flatten)]
    pub access: AccessArgs,
}

/// A sandbox network setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NetworkMode {
    None,
    Egress,
}

impl NetworkMode {
    fn network(self, allow: &[functiond_sandbox::Cidr]) -> functiond_sandbox::Network {
        match self {
            Self::None => functiond_sandbox::Network::None,
            Self::Egress => functiond_sandbox::Network::Egress(functiond_sandbox::Egress {
                allow: allow.to_vec(),
            }),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Create {
        /// The project ID: up to 36 characters of a-z, A-Z, 0-9, `.`, `-` and `_`.
        id: String,
        /// A display name (defaults to the ID).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key. The secret is printed alone on the last line, once.
    Create {
        /// The project the key belongs to.
        #[arg(long)]
        project: String,
        /// Comma-separated scopes: functions.read, functions.write, execution.read,
        /// execution.write.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// A label for the key.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

/// A secret setting: usable, but never printed by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() < 16 {
            return Err("the secret key must be at least 16 characters long".to_owned());
        }
        Ok(Self(text.to_owned()))
    }
}

/// Everything the server needs to start, resolved from the command line and environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub secret_key: Option<Secret>,
    pub listen: SocketAddr,
    pub runtimes: Discovery,
    pub max_timeout: i64,
    pub size_limit: u64,
    pub build_timeout: Duration,
    pub idle_ttl: Duration,
    pub max_instances: usize,
    pub workers: usize,
    /// The server environment's values of the `--build-env` names that are set.
    pub build_env: Vec<(String, String)>,
    /// JWTs, allowed origins, trusted proxies and the rate limit.
    pub access: Access,
    /// Run functions and builds in the sandbox (false only with `--insecure-no-sandbox`).
    pub sandbox: bool,
    /// Per-instance limits.
    pub limits: functiond_sandbox::Limits,
    pub functions_network: functiond_sandbox::Network,
    pub build_network: functiond_sandbox::Network,
}

impl Config {
    /// The configuration for `serve`.
    pub fn for_serve(global: &GlobalArgs, serve: &ServeArgs) -> Self {
        let mut config = Self::for_store(global);
        config.listen = serve.listen;
        let mut enabled = serve.runtimes.clone();
        if enabled.is_empty()
            && let Some(list) = appwrite_alias("_APP_FUNCTIONS_RUNTIMES")
        {
            enabled = list.split(',').map(str::to_owned).collect();
        }
        config.runtimes = Discovery {
            search_path: search_path(),
            runtimes_file: serve.runtimes_file.clone(),
            enabled: enabled
                .iter()
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty())
                .collect(),
        };
        config.max_timeout = serve
            .functions_timeout
            .or_else(|| alias_number("_APP_FUNCTIONS_TIMEOUT"))
            .unwrap_or(config.max_timeout);
        config.size_limit = serve
            .functions_size_limit
            .or_else(|| alias_number("_APP_FUNCTIONS_SIZE_LIMIT"))
            .unwrap_or(config.size_limit);
        config.build_timeout = serve
            .functions_build_timeout
            .or_else(|| alias_number("_APP_FUNCTIONS_BUILD_TIMEOUT"))
            .map_or(config.build_timeout, Duration::from_secs);
        config.idle_ttl = serve
            .functions_inactive_threshold
            .or_else(|| alias_number("_APP_FUNCTIONS_INACTIVE_THRESHOLD"))
            .map_or(config.idle_ttl, Duration::from_secs);
        config.max_instances = serve.functions_instances.max(1);
        config.workers = serve.workers.max(1);
        config.build_env = passed_through(&serve.build_env);
        config.access = serve.access.resolve();
        config.sandbox = !serve.insecure_no_sandbox;
        config.functions_network = serve.functions_network.network(&serve.egress_allow);
        config.build_network = serve.build_network.network(&serve.egress_allow);
        let defaults = functiond_sandbox::Limits::default();
        let memory_mb = serve
            .functions_memory
            .or_else(|| alias_number("_APP_FUNCTIONS_MEMORY"));
        let cpus = serve
            .functions_cpus
            .or_else(|| alias_number("_APP_FUNCTIONS_CPUS"));
        config.limits = functiond_sandbox::Limits {
            memory_bytes: memory_mb.map_or(defaults.memory_bytes, |mb| {
                (mb > 0).then(|| mb.saturating_mul(1024 * 1024))
            }),
            cpus: cpus.map_or(defaults.cpus, |cpus| (cpus > 0.0).then_some(cpus)),
            pids: serve
                .functions_pids
                .map_or(defaults.pids, |pids| (pids > 0).then_some(pids)),
        };
        config
    }

    /// The configuration of commands that only touch the store.
    pub fn for_store(global: &GlobalArgs) -> Self {
        let database_url = global.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                global.data_dir.join("functiond.db").display()
            )
        });
        Self {
            data_dir: global.data_dir.clone(),
            database_url,
            secret_key: global.secret_key.clone(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            runtimes: Discovery::default(),
            max_timeout: 900,
            size_limit: 30_000_000,
            build_timeout: Duration::from_secs(900),
            idle_ttl: Duration::from_secs(60),
            max_instances: 32,
            workers: 4,
            build_env: Vec::new(),
            access: Access::default(),
            sandbox: true,
            limits: functiond_sandbox::Limits::default(),
            functions_network: functiond_sandbox::Network::None,
            build_network: functiond_sandbox::Network::Egress(functiond_sandbox::Egress::default()),
        }
    }
}

/// The named variables of the server's environment that are set.
#[expect(
    clippy::disallowed_methods,
    reason = "config is the one module that reads the environment"
)]
fn passed_through(names: &[String]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| name.trim())
        .filter(|name| !name.is_empty())
        .filter_map(|name| Some((name.to_owned(), std::env::var(name).ok()?)))
        .collect()
}

/// An Appwrite setting accepted as an alias of ours (`_APP_FUNCTIONS_*`), when ours is unset.
#[expect(
    clippy::disallowed_methods,
    reason = "config is the one module that reads the environment"
)]
fn appwrite_alias(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

fn alias_number<T: FromStr>(name: &str) -> Option<T> {
    let value = appwrite_alias(name)?;
    match value.trim().parse() {
        Ok(number) => Some(number),
        Err(_) => {
            tracing::warn!(setting = name, value = %value, "ignoring a setting that is not a number");
            None
        }
    }
}

/// The directories of the server's `PATH`, where runtimes are looked for.
#[expect(
    clippy::disallowed_methods,
    reason = "config is the one module that reads the environment"
)]
fn search_path() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_else(|| vec![PathBuf::from("/usr/local/bin"), PathBuf::from("/usr/bin")])
}
