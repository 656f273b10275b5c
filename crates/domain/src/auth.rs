//! Resolving credentials into a [`Caller`] (an API key, a JWT user or a guest, and the origin
//! check of keyless writes), and minting API keys.
//!
//! A key's secret is 128 hex characters of randomness. The store keeps its first 16 characters
//! in clear, to find the row, and a SHA-256 of the whole secret, to check it. A fast hash is
//! the right tool here: the secret carries 512 bits of entropy, so there is nothing for a slow
//! password hash to protect, and every request pays for the check.
//!
//! Projects and keys are read on every request, so known ones are remembered in memory.
//! Neither can be deleted or changed yet; whatever comes to delete them must also forget them
//! here. Unknown ones are never remembered, so a key made a moment ago by the CLI works at once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock};

use functiond_store::{KeySecret, Store};
use functiond_types::Timestamp;
use functiond_types::id::{KeyId, ProjectId};
use functiond_types::project::ApiKey;
use functiond_types::scope::Scope;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::caller::{Caller, Identity};
use crate::error::{Error, Result};
use crate::jwt::JwtVerifier;
use crate::origins::AllowedOrigins;

const PREFIX_LEN: usize = 16;
/// Beyond this many remembered keys or projects, memory starts over.
const MAX_REMEMBERED: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Auth {
    store: Arc<dyn Store>,
    known: Arc<Known>,
    policy: Arc<AuthPolicy>,
}

/// How requests without an API key are treated, from the server's configuration.
#[derive(Debug, Clone, Default)]
pub struct AuthPolicy {
    /// The keys JWTs are checked with; `None` refuses every JWT.
    pub jwt: Option<JwtVerifier>,
    /// The browser origins that may write without a key.
    pub origins: AllowedOrigins,
}

/// What a request presents, header by header (`None` when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// `X-Appwrite-Project` (or the `project` query parameter).
    pub project: Option<&'a str>,
    /// `X-Appwrite-Key`.
    pub key: Option<&'a str>,
    /// `X-Appwrite-JWT`.
    pub jwt: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Host`: an `Origin` naming it is the server's own.
    pub host: Option<&'a str>,
    /// Whether the request changes something (POST, PUT, PATCH, DELETE): only those are
    /// origin-checked.
    pub write: bool,
}

/// Projects and keys already found in the store.
#[derive(Debug, Default)]
struct Known {
    projects: RwLock<HashSet<ProjectId>>,
    /// By the hash of the key's secret.
    keys: RwLock<HashMap<String, ApiKey>>,
}

impl Known {
    fn remember_project(&self, project: &ProjectId) {
        let mut projects = self
            .projects
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if projects.len() >= MAX_REMEMBERED {
            projects.clear();
        }
        projects.insert(project.clone());
    }

    fn has_project(&self, project: &ProjectId) -> bool {
        let projects = self.projects.read().unwrap_or_else(PoisonError::into_inner);
        projects.contains(project)
    }

    fn remember_key(&self, hash: String, key: ApiKey) {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if keys.len() >= MAX_REMEMBERED {
            keys.clear();
        }
        keys.insert(hash, key);
    }

    fn key(&self, hash: &str) -> Option<ApiKey> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.get(hash).cloned()
    }
}

impl Auth {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            known: Arc::default(),
            policy: Arc::default(),
        }
    }

    pub fn with_policy(mut self, policy: AuthPolicy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    async fn project_exists(&self, project: &ProjectId) -> Result<bool> {
        if self.known.has_project(project) {
            return Ok(true);
        }
        let exists = self.store.get_project(project).await?.is_some();
        if exists {
            self.known.remember_project(project);
        }
        Ok(exists)
    }

    /// The key whose secret this is, if it belongs to `project`.
    async fn find_key(&self, project: &ProjectId, secret: &str) -> Result<Option<ApiKey>> {
        let hashed = hash(secret);
        if let Some(key) = self.known.key(&hashed) {
            return Ok((key.project_id == *project).then_some(key));
        }
        let Some((key, stored_hash)) = self.store.find_key(project, &secret[..PREFIX_LEN]).await?
        else {
            return Ok(None);
        };
        if !constant_time_eq(hashed.as_bytes(), stored_hash.as_bytes()) {
            return Ok(None);
        }
        self.known.remember_key(hashed, key.clone());
        Ok(Some(key))
    }

    /// The caller behind a request's credentials. An unknown project is an error; an unknown
    /// key is not (the caller is then a guest, as in Appwrite). A JWT, when sent, must be
    /// valid, and then names the caller even beside a key (Appwrite's session user wins over
    /// a key too). A keyless write from a browser origin the server does not allow is refused.
    pub async fn caller(&self, credentials: Credentials<'_>) -> Result<Caller> {
        let caller = self.identify(&credentials).await?;
        if credentials.write
            && !caller.is_key()
            && let Some(origin) = credentials.origin.filter(|o| !o.trim().is_empty())
            && !self.policy.origins.allows(origin, credentials.host)
        {
            return Err(Error::UnknownOrigin {
                origin: origin.to_owned(),
            });
        }
        Ok(caller)
    }

    async fn identify(&self, credentials: &Credentials<'_>) -> Result<Caller> {
        let project = match credentials.project.map(str::trim) {
            // Appwrite takes a missing project to mean its console; functiond has no console,
            // so the client is told to name a project.
            None | Some("") => return Err(Error::ProjectUnknown),
            Some(id) => ProjectId::parse(id).map_err(|_| Error::ProjectNotFound)?,
        };
        if !self.project_exists(&project).await? {
            return Err(Error::ProjectNotFound);
        }
        if let Some(token) = credentials.jwt.map(str::trim).filter(|t| !t.is_empty()) {
            let verifier = self.policy.jwt.as_ref().ok_or_else(|| Error::JwtInvalid {
                reason: "This server accepts no JWTs: start it with --jwt-secret or \
                         --jwt-public-key."
                    .to_owned(),
            })?;
            let user =
                verifier.verify(token, &project, Timestamp::now().millis().div_euclid(1000))?;
            return Ok(Caller {
                project,
                identity: Identity::User(user),
            });
        }
        let key = credentials.key;
        let Some(secret) = key.filter(|k| k.len() > PREFIX_LEN && k.is_ascii()) else {
            return Ok(Caller::guest(project));
        };
        let Some(key) = self.find_key(&project, secret).await? else {
            return Ok(Caller::guest(project));
        };
        if key.expire.is_some_and(|expire| expire <= Timestamp::now()) {
            return Err(Error::KeyExpired);
        }
        Ok(Caller {
            project,
            identity: Identity::Key {
                id: key.id,
                scopes: key.scopes,
            },
        })
    }

    /// Makes a new key for `project` and returns it with its secret, which is shown once and
    /// never stored.
    pub async fn create_key(
        &self,
        project: &ProjectId,
        name: &str,
        scopes: Vec<Scope>,
    ) -> Result<(ApiKey, String)> {
        if !self.project_exists(project).await? {
            return Err(Error::ProjectNotFound);
        }
        let mut bytes = [0u8; 64];
        rand::rng().fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        let key = ApiKey {
            id: KeyId::unique(),
            project_id: project.clone(),
            name: name.to_owned(),
            scopes,
            expire: None,
            created_at: Timestamp::now(),
        };
        let stored = KeySecret {
            prefix: secret[..PREFIX_LEN].to_owned(),
            hash: hash(&secret),
        };
        self.store.create_key(&key, &stored).await?;
        Ok((key, secret))
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares without returning early, so response times do not reveal how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
