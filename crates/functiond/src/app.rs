//! Wiring: the data dir, the secret key, the store, the runtimes catalogue and the services,
//! assembled once for whichever command runs.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use functiond_domain::origins::AllowedOrigins;
use functiond_domain::ports::SystemClock;
use functiond_domain::{Auth, AuthPolicy, Parts, Projects, Services, Settings};
use functiond_executor::{Executor, Settings as ExecutorSettings};
use functiond_store::{Blobs, Cipher, Store};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::Error;

const SECRET_KEY_FILE: &str = "secret.key";

/// Creates the data dir (private to the server's user) if it does not exist yet.
pub fn prepare_data_dir(dir: &Path) -> Result<(), Error> {
    let failed = |source| Error::DataDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(failed)
}

/// The 32-byte key that seals variable values: derived from `FUNCTIOND_SECRET_KEY` when set,
/// otherwise read from (or, the first time, generated into) `<data-dir>/secret.key`.
pub fn secret_key(config: &Config) -> Result<[u8; 32], Error> {
    if let Some(secret) = &config.secret_key {
        return Ok(Sha256::digest(secret.expose().as_bytes()).into());
    }
    let path = config.data_dir.join(SECRET_KEY_FILE);
    let malformed = |message: String| Error::SecretKey {
        path: path.clone(),
        message,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).map_err(|e| malformed(e.to_string()))?;
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| malformed("wrong length".into()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            write_private(&path, &hex::encode(key)).map_err(|source| Error::DataDir {
                path: path.clone(),
                source,
            })?;
            Ok(key)
        }
        Err(error) => Err(malformed(error.to_string())),
    }
}

/// Writes a file only the server's user can read, failing if it already exists.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Opens the store the configuration names, without migrating it.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, Error> {
    prepare_data_dir(&config.data_dir)?;
    let cipher = Cipher::new(secret_key(config)?);
    Ok(functiond_store::open(&config.database_url, cipher).await?)
}

/// Opens the store and applies pending migrations, as every command but `migrate` wants.
pub async fn migrated_store(config: &Config) -> Result<Arc<dyn Store>, Error> {
    let store = open_store(config).await?;
    let applied = store.migrate().await?;
    if applied > 0 {
        tracing::info!(migrations = applied, "database schema brought up to date");
    }
    Ok(store)
}

/// The services of a running server, over an open store: the runtimes found on this host and
/// an executor working in `<data-dir>/run`.
pub fn services(
    config: &Config,
    store: Arc<dyn Store>,
) -> Result<(Services, Arc<Executor>), Error> {
    let runtimes = functiond_executor::runtimes::catalogue(&config.runtimes)?;
    if runtimes.is_empty() {
        tracing::warn!("no runtimes found: install node or python3, or give --runtimes-file");
    }
    let mut executor = ExecutorSettings::new(config.data_dir.join("run"));
    executor.sandbox = sandbox(config)?;
    executor.limits = config.limits;
    executor.functions_network = config.functions_network.clone();
    executor.build_network = config.build_network.clone();
    executor.idle_ttl = config.idle_ttl;
    executor.max_instances = config.max_instances;
    executor.build_env = config.build_env.clone();
    let executor = Arc::new(Executor::new(executor)?);
    let parts = Parts {
        store,
        blobs: Blobs::new(config.data_dir.join("files")),
        invoker: executor.clone(),
        runtimes,
        clock: Arc::new(SystemClock),
        settings: Settings {
            max_timeout: config.max_timeout,
            size_limit: config.size_limit,
            build_timeout: config.build_timeout,
            auth: AuthPolicy {
                jwt: crate::jwt::verifier(&config.access)?,
                origins: AllowedOrigins::parse(&config.access.allowed_origins)
                    .map_err(|message| Error::Usage { message })?,
            },
            rate_limit: config.access.rate_limit,
        },
    };
    Ok((Services::new(parts), executor))
}

/// The sandbox functions and builds run in, checked now; `None` (with a loud warning) only
/// when the operator asked for `--insecure-no-sandbox`.
fn sandbox(config: &Config) -> Result<Option<functiond_sandbox::Sandbox>, Error> {
    if !config.sandbox {
        tracing::warn!(
            "INSECURE: --insecure-no-sandbox is set; functions and builds run as plain processes \
             of the server's user, without isolation or limits. Anyone who can deploy a function \
             controls this server and its data. Use this for development only."
        );
        return Ok(None);
    }
    match functiond_sandbox::Sandbox::favor_fast_cgroup_moves() {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!("no cgroup2 mount: cgroup moves stay slow (about 10 ms per start)")
        }
        Err(error) => tracing::warn!(%error, "cgroup moves stay slow (about 10 ms per start)"),
    }
    let sandbox = functiond_sandbox::Sandbox::new(functiond_sandbox::SandboxConfig::default())
        .map_err(|source| Error::Sandbox { source })?;
    tracing::info!(limits = ?config.limits, "functions and builds run in sandboxes");
    Ok(Some(sandbox))
}

/// What the operator commands (`project create`, `key create`) need: no executor, so they can
/// run beside a live server without touching its instances.
pub fn operator(store: Arc<dyn Store>) -> (Auth, Projects) {
    let auth = Auth::new(store.clone());
    (auth.clone(), Projects::new(store, auth))
}
