//! Resource IDs. Every ID follows Appwrite's `UID` rule (at most 36 characters from
//! `[A-Za-z0-9._-]`, not starting with `.`, `-` or `_`), and `unique()` asks the server to
//! pick one: 13 hex digits of the clock in microseconds followed by 7 random hex digits.

use std::fmt;

use rand::Rng;

pub const MAX_LEN: usize = 36;

/// The text Appwrite uses whenever an ID fails the rule; SDK users see it verbatim.
pub const UID_RULE: &str = "UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char";

/// Whether `text` is a valid ID.
pub fn is_valid(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && !matches!(bytes[0], b'.' | b'-' | b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// A fresh server-generated ID, 20 characters, roughly ordered by creation time.
pub fn unique() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    // PHP's uniqid() prints seconds as 8 hex digits and microseconds as 5.
    let seconds = (micros / 1_000_000) as u64;
    let sub = (micros % 1_000_000) as u32;
    let random: u32 = rand::rng().random_range(0..0x1000_0000);
    format!("{seconds:08x}{sub:05x}{random:07x}")
}

/// Why an ID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{UID_RULE}")]
pub struct InvalidId;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks `text` against the ID rule.
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                if is_valid(text) { Ok(Self(text.to_owned())) } else { Err(InvalidId) }
            }

            /// A new server-generated ID.
            pub fn unique() -> Self {
                Self(unique())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A project: the tenant every other resource belongs to.
    ProjectId
);
id_type!(
    /// A function.
    FunctionId
);
id_type!(
    /// A variable of a function.
    VariableId
);
id_type!(
    /// An API key (its public handle, not its secret).
    KeyId
);
id_type!(
    /// A deployment: one uploaded version of a function's code.
    DeploymentId
);
id_type!(
    /// A build of a deployment.
    BuildId
);
id_type!(
    /// One run of a function.
    ExecutionId
);
id_type!(
    /// A user, as named by the JWT the caller presents (functiond keeps no users of its own).
    UserId
);
id_type!(
    /// A team a JWT user is a member of.
    TeamId
);
id_type!(
    /// One membership of a user in a team.
    MembershipId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_appwrite_alphabet() {
        for ok in ["a", "fn1", "my.fn-2_x", "A".repeat(36).as_str(), "0abc"] {
            assert!(is_valid(ok), "{ok}");
        }
    }

    #[test]
    fn refuses_what_appwrite_refuses() {
        for bad in [
            "",
            "_a",
            ".a",
            "-a",
            "a b",
            "a/b",
            "é",
            &"a".repeat(37),
            "unique()",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn unique_ids_are_valid_twenty_hex_chars_and_distinct() {
        let a = unique();
        let b = unique();
        assert_eq!(a.len(), 20);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(is_valid(&a));
        assert_ne!(a, b);
    }

    #[test]
    fn newtypes_validate_on_construction() {
        assert_eq!(
            FunctionId::parse("fn1").map(|id| id.to_string()),
            Ok("fn1".into())
        );
        assert_eq!(FunctionId::parse("-fn"), Err(InvalidId));
    }
}
