//! Role strings, as used in a function's `execute` list: `any`, `guests`, `users`,
//! `users/verified`, `users/unverified`, `user:<id>[/verified|/unverified]`, `team:<id>[/<role>]`
//! and `member:<id>`. A caller may run a function when one of its roles is in the list.

use crate::id;

pub const MAX_ROLES: usize = 100;

/// The permission that lets holders of `role` read a record, written as Appwrite prints it:
/// `read("user:abc")`.
pub fn read_permission(role: &str) -> String {
    format!("read(\"{role}\")")
}

/// The user whom `permissions` let read the record (`read("user:<id>")`), if any. On an
/// execution that is the user who ran it.
pub fn reading_user(permissions: &[String]) -> Option<&str> {
    permissions.iter().find_map(|permission| {
        permission
            .strip_prefix("read(\"user:")?
            .strip_suffix("\")")
            .filter(|id| id::is_valid(id))
    })
}

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
    fn read_permissions_name_their_user() {
        let permissions = vec![read_permission("user:abc")];
        assert_eq!(permissions[0], "read(\"user:abc\")");
        assert_eq!(reading_user(&permissions), Some("abc"));
        assert_eq!(reading_user(&[read_permission("users")]), None);
        assert_eq!(reading_user(&[read_permission("user:abc/verified")]), None);
        assert_eq!(reading_user(&[]), None);
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
