//! Role strings, as used in a function's `execute` list: `any`, `guests`, `users`,
//! `users/verified`, `users/unverified`, `user:<id>[/verified|/unverified]`, `team:<id>[/<role>]`
//! and `member:<id>`. A caller may run a function when one of its roles is in the list.

use crate::id;

pub const MAX_ROLES: usize = 100;

/// Checks one role string and says what is wrong with it.
pub fn validate(role: &str) -> Result<(), String> {
    if role == "*" {
        return Err("Role \"*\" is not allowed. Use \"any\" instead.".to_owned());
    }
    if role.contains("role:") {
        return Err(format!(
            "Role \"{role}\" uses the old \"role:\" syntax. Use \"any\", \"guests\", \"users\", \"user:[ID]\", \"team:[ID]\" or \"member:[ID]\"."
        ));
    }
    let valid = match role.split_once(':') {
        None => matches!(
            role,
            "any" | "guests" | "users" | "users/verified" | "users/unverified"
        ),
        Some(("user", rest)) => match rest.split_once('/') {
            None => id::is_valid(rest),
            Some((user, status)) => {
                id::is_valid(user) && matches!(status, "verified" | "unverified")
            }
        },
        Some(("team", rest)) => match rest.split_once('/') {
            None => id::is_valid(rest),
            Some((team, team_role)) => id::is_valid(team) && id::is_valid(team_role),
        },
        Some(("member", rest)) => id::is_valid(rest),
        Some(_) => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "Role \"{role}\" is not valid. Use \"any\", \"guests\", \"users\", \"users/verified\", \"users/unverified\", \"user:[ID]\", \"user:[ID]/verified\", \"user:[ID]/unverified\", \"team:[ID]\", \"team:[ID]/[ROLE]\" or \"member:[ID]\"."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_form() {
        for role in [
            "any",
            "guests",
            "users",
            "users/verified",
            "users/unverified",
            "user:abc",
            "user:abc/verified",
            "user:abc/unverified",
            "team:t1",
            "team:t1/owner",
            "member:m1",
        ] {
            assert_eq!(validate(role), Ok(()), "{role}");
        }
    }

    #[test]
    fn refuses_wildcards_legacy_and_unknown_forms() {
        for role in [
            "*",
            "role:all",
            "some-random-string",
            "not-valid-permission",
            "user:",
            "user:abc/admin",
            "team:/x",
            "admin:x",
            "users/any",
        ] {
            assert!(validate(role).is_err(), "{role}");
        }
        assert!(validate("*").unwrap_err().contains("any"));
    }
}
