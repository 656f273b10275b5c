//! JWT keys from the configuration: the verifier `serve` checks tokens with, and the signer of
//! `functiond jwt create`.

use std::path::Path;

use functiond_domain::caller::{Membership, User};
use functiond_domain::jwt::{JwtSigner, JwtVerifier};
use functiond_types::Timestamp;
use functiond_types::id::{MembershipId, ProjectId, TeamId, UserId};

use crate::config::{Access, JwtCreateArgs};
use crate::error::Error;

/// A PEM setting: the text itself, or the path of a file holding it.
fn pem(setting: &str, what: &str) -> Result<String, Error> {
    if setting.trim_start().starts_with("-----BEGIN") {
        return Ok(setting.to_owned());
    }
    std::fs::read_to_string(Path::new(setting)).map_err(|error| Error::Usage {
        message: format!("cannot read the {what} file {setting}: {error}"),
    })
}

/// The verifier of `X-Appwrite-JWT`; `None` when no key is configured.
pub fn verifier(access: &Access) -> Result<Option<JwtVerifier>, Error> {
    let public = match &access.jwt_public_key {
        Some(setting) => Some(pem(setting, "JWT public key")?),
        None => None,
    };
    let verifier = JwtVerifier::new(
        access.jwt_secret.as_ref().map(|s| s.expose().as_bytes()),
        public.as_deref().map(str::as_bytes),
    )?;
    Ok(verifier)
}

/// `functiond jwt create`: the signed token.
pub fn create(args: &JwtCreateArgs) -> Result<String, Error> {
    let usage = |message: String| Error::Usage { message };
    let signer = match (&args.jwt_private_key, &args.jwt_secret) {
        (Some(setting), _) => JwtSigner::from_pem(pem(setting, "JWT private key")?.as_bytes())?,
        (None, Some(secret)) => JwtSigner::hs256(secret.expose().as_bytes()),
        (None, None) => {
            return Err(usage(
                "give the key to sign with: --jwt-secret (or FUNCTIOND_JWT_SECRET), or \
                 --jwt-private-key"
                    .to_owned(),
            ));
        }
    };
    let user = User {
        id: UserId::parse(&args.user)
            .map_err(|_| usage(format!("\"{}\" is not a valid user ID", args.user)))?,
        verified: args.verified,
        memberships: args
            .teams
            .iter()
            .map(|team| membership(team).map_err(usage))
            .collect::<Result<_, _>>()?,
    };
    let project = match &args.project {
        Some(id) => Some(
            ProjectId::parse(id)
                .map_err(|_| usage(format!("\"{id}\" is not a valid project ID")))?,
        ),
        None => None,
    };
    let now = Timestamp::now().millis().div_euclid(1000);
    Ok(signer.sign(
        &user,
        project.as_ref(),
        std::time::Duration::from_secs(args.ttl),
        now,
    )?)
}

/// Reads `TEAM[:ROLE,ROLE…][@MEMBERSHIP]`.
fn membership(spec: &str) -> Result<Membership, String> {
    let bad =
        |what: &str| format!("--team {spec}: {what} (expected TEAM[:ROLE,ROLE…][@MEMBERSHIP])");
    let (rest, id) = match spec.split_once('@') {
        Some((rest, id)) => (
            rest,
            Some(MembershipId::parse(id).map_err(|_| bad("invalid membership ID"))?),
        ),
        None => (spec, None),
    };
    let (team, roles) = match rest.split_once(':') {
        Some((team, roles)) => (team, roles.split(',').map(str::trim).collect::<Vec<_>>()),
        None => (rest, Vec::new()),
    };
    let team = TeamId::parse(team).map_err(|_| bad("invalid team ID"))?;
    if roles
        .iter()
        .any(|role| !functiond_types::id::is_valid(role))
    {
        return Err(bad("invalid role"));
    }
    Ok(Membership {
        team,
        roles: roles.into_iter().map(str::to_owned).collect(),
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_specs_name_roles_and_memberships() {
        let full = membership("t1:owner,dev@m1").unwrap();
        assert_eq!(full.team.as_str(), "t1");
        assert_eq!(full.roles, ["owner", "dev"]);
        assert_eq!(full.id.unwrap().as_str(), "m1");
        let bare = membership("t2").unwrap();
        assert!(bare.roles.is_empty() && bare.id.is_none());
        for bad in ["", "t1:", "t1@", "t/1", "t1:a b"] {
            assert!(membership(bad).is_err(), "{bad}");
        }
    }
}
