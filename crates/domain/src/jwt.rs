//! JSON Web Tokens that name a user (`X-Appwrite-JWT`). functiond keeps no users: whoever
//! holds the signing key (an HS256 secret shared with an identity service, or the private half
//! of an RS256/ES256 key pair) vouches for the user, their verified status and their teams.
//!
//! The claims read (unknown claims are ignored):
//!
//! | claim | meaning |
//! |---|---|
//! | `userId` (Appwrite's name) or `sub` | the user ID; required; if both are given they must agree |
//! | `exp` | expiry, Unix seconds; required; 10 s of clock skew forgiven (Appwrite's leeway) |
//! | `nbf` | not before, Unix seconds; optional, same leeway |
//! | `projectId` | optional: the token is good only for this project |
//! | `emailVerification`, `phoneVerification` or `verified` | any `true` gives the `/verified` roles, else the `/unverified` ones |
//! | `memberships` | optional: `[{"teamId": "t1", "roles": ["owner"], "membershipId": "m1", "confirm": true}]`; each confirmed one (`confirm` defaults to true) gives `team:t1`, `team:t1/owner` and, with a `membershipId`, `member:m1` |
//!
//! Every ID and team role follows the ID rule; a token breaking it is refused whole.

use std::fmt;
use std::time::Duration;

use functiond_types::id::{MembershipId, ProjectId, TeamId, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::caller::{Membership, User};
use crate::error::{Error, Result};

/// Seconds of clock skew forgiven on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 10;
/// How long minted tokens last unless told otherwise (Appwrite's JWTs last 15 minutes).
pub const DEFAULT_TTL: Duration = Duration::from_secs(900);

/// The keys tokens are checked with: an HS256 secret, an RS256 or ES256 public key, or both
/// (the token's `alg` picks).
#[derive(Clone)]
pub struct JwtVerifier {
    secret: Option<DecodingKey>,
    public: Option<(Algorithm, DecodingKey)>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("hs256", &self.secret.is_some())
            .field("public", &self.public.as_ref().map(|(alg, _)| alg))
            .finish()
    }
}

impl JwtVerifier {
    /// `None` when neither key is given: the server then refuses every JWT.
    pub fn new(secret: Option<&[u8]>, public_pem: Option<&[u8]>) -> Result<Option<Self>> {
        let secret = secret.map(DecodingKey::from_secret);
        let public = match public_pem {
            None => None,
            Some(pem) => Some(public_key(pem)?),
        };
        if secret.is_none() && public.is_none() {
            return Ok(None);
        }
        Ok(Some(Self { secret, public }))
    }

    /// The user `token` names, if its signature, times and claims hold for `project` at
    /// `now` (Unix seconds).
    pub fn verify(&self, token: &str, project: &ProjectId, now: i64) -> Result<User> {
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        let key = match (header.alg, &self.secret, &self.public) {
            (Algorithm::HS256, Some(secret), _) => secret,
            (alg, _, Some((accepted, key))) if alg == *accepted => key,
            (alg, _, _) => {
                return Err(Error::JwtInvalid {
                    reason: format!("Tokens signed with {alg:?} are not accepted here."),
                });
            }
        };
        let mut validation = Validation::new(header.alg);
        // Times are checked below against the caller's clock, with Appwrite's leeway.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(invalid)?;
        user_from(data.claims, project, now).map_err(|reason| Error::JwtInvalid { reason })
    }
}

fn invalid(error: jsonwebtoken::errors::Error) -> Error {
    use jsonwebtoken::errors::ErrorKind;
    let reason = match error.kind() {
        ErrorKind::InvalidSignature => "Invalid signature.".to_owned(),
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            "The token is malformed.".to_owned()
        }
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "The token's algorithm is not accepted.".to_owned()
        }
        ErrorKind::Json(_) | ErrorKind::InvalidClaimFormat(_) => {
            "The token's claims are malformed.".to_owned()
        }
        _ => format!("{error}."),
    };
    Error::JwtInvalid { reason }
}

/// Reads a PEM public key: RSA keys verify RS256 tokens, EC (P-256) keys ES256 ones.
fn public_key(pem: &[u8]) -> Result<(Algorithm, DecodingKey)> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok((Algorithm::RS256, key));
    }
    DecodingKey::from_ec_pem(pem)
        .map(|key| (Algorithm::ES256, key))
        .map_err(|error| Error::JwtKey {
            message: format!(
                "the JWT public key is neither an RSA nor an EC public key in PEM ({error})"
            ),
        })
}

/// The claims functiond reads (see the module docs).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    user_id: Option<String>,
    sub: Option<String>,
    exp: Option<f64>,
    nbf: Option<f64>,
    project_id: Option<String>,
    email_verification: Option<bool>,
    phone_verification: Option<bool>,
    verified: Option<bool>,
    #[serde(default)]
    memberships: Vec<MembershipClaim>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MembershipClaim {
    team_id: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    membership_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confirm: Option<bool>,
}

/// Maps checked claims to the user; the error is the reason, for the client.
fn user_from(claims: Claims, project: &ProjectId, now: i64) -> Result<User, String> {
    let Some(exp) = claims.exp else {
        return Err("The token has no expiry (exp).".to_owned());
    };
    // Whole seconds, as JWT times are; a fraction never decides.
    if (exp.floor() as i64).saturating_add(LEEWAY_SECS) < now {
        return Err("The token has expired.".to_owned());
    }
    if claims
        .nbf
        .is_some_and(|nbf| (nbf.floor() as i64).saturating_sub(LEEWAY_SECS) > now)
    {
        return Err("The token is not valid yet.".to_owned());
    }
    if let Some(only) = &claims.project_id
        && only != project.as_str()
    {
        return Err(format!("The token is for project \"{only}\"."));
    }
    let id = match (&claims.user_id, &claims.sub) {
        (Some(user), Some(sub)) if user != sub => {
            return Err("The token's userId and sub name different users.".to_owned());
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => return Err("The token names no user (userId or sub).".to_owned()),
    };
    let id = UserId::parse(id).map_err(|_| format!("Invalid user ID \"{id}\" in the token."))?;
    let verified = [
        claims.email_verification,
        claims.phone_verification,
        claims.verified,
    ]
    .contains(&Some(true));
    let mut memberships = Vec::new();
    for claim in claims.memberships {
        if claim.confirm == Some(false) {
            continue;
        }
        memberships.push(membership_from(claim)?);
    }
    Ok(User {
        id,
        verified,
        memberships,
    })
}

fn membership_from(claim: MembershipClaim) -> Result<Membership, String> {
    let team = TeamId::parse(&claim.team_id)
        .map_err(|_| format!("Invalid team ID \"{}\" in the token.", claim.team_id))?;
    if let Some(role) = claim
        .roles
        .iter()
        .find(|role| !functiond_types::id::is_valid(role))
    {
        return Err(format!("Invalid team role \"{role}\" in the token."));
    }
    let id = match &claim.membership_id {
        None => None,
        Some(id) => Some(
            MembershipId::parse(id)
                .map_err(|_| format!("Invalid membership ID \"{id}\" in the token."))?,
        ),
    };
    Ok(Membership {
        team,
        roles: claim.roles,
        id,
    })
}

/// Mints tokens, for the `functiond jwt create` command and tests.
#[derive(Clone)]
pub struct JwtSigner {
    key: EncodingKey,
    algorithm: Algorithm,
}

impl fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSigner")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The claims of a minted token.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NewClaims<'a> {
    user_id: &'a str,
    iat: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_id: Option<&'a str>,
    email_verification: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    memberships: Vec<MembershipClaim>,
}

impl JwtSigner {
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            key: EncodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
        }
    }

    /// From a PEM private key: RSA signs RS256, EC (P-256) signs ES256.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        if let Ok(key) = EncodingKey::from_rsa_pem(pem) {
            return Ok(Self {
                key,
                algorithm: Algorithm::RS256,
            });
        }
        let key = EncodingKey::from_ec_pem(pem).map_err(|error| Error::JwtKey {
            message: format!(
                "the private key is neither an RSA nor an EC private key in PEM ({error})"
            ),
        })?;
        Ok(Self {
            key,
            algorithm: Algorithm::ES256,
        })
    }

    /// A token naming `user`, valid from `now` (Unix seconds) for `ttl`, for `project` only
    /// when given.
    pub fn sign(
        &self,
        user: &User,
        project: Option<&ProjectId>,
        ttl: Duration,
        now: i64,
    ) -> Result<String> {
        let claims = NewClaims {
            user_id: user.id.as_str(),
            iat: now,
            exp: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            project_id: project.map(ProjectId::as_str),
            email_verification: user.verified,
            memberships: user
                .memberships
                .iter()
                .map(|m| MembershipClaim {
                    team_id: m.team.to_string(),
                    roles: m.roles.clone(),
                    membership_id: m.id.as_ref().map(ToString::to_string),
                    confirm: None,
                })
                .collect(),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key).map_err(|error| {
            Error::JwtKey {
                message: format!("cannot sign the token: {error}"),
            }
        })
    }
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
