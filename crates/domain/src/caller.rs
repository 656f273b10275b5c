//! Who is asking. The API turns request headers into a [`Caller`] (through [`crate::Auth`]);
//! every service method takes one first and decides from it what is allowed: its scopes (which
//! routes), its roles (which functions it may execute, which executions it may read).

use functiond_types::id::{KeyId, MembershipId, ProjectId, TeamId, UserId};
use functiond_types::roles;
use functiond_types::scope::Scope;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub project: ProjectId,
    pub identity: Identity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// No credentials, or credentials the project does not know.
    Guest,
    /// An API key of the project, with its scopes.
    Key { id: KeyId, scopes: Vec<Scope> },
    /// A user named by a verified JWT (`X-Appwrite-JWT`).
    User(User),
}

/// A user as their JWT describes them; functiond keeps no users of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// Whether their email or phone is verified (the `/verified` roles).
    pub verified: bool,
    /// Confirmed team memberships.
    pub memberships: Vec<Membership>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub team: TeamId,
    /// Roles within the team (`owner`, …), each giving `team:<team>/<role>`.
    pub roles: Vec<String>,
    /// Gives `member:<id>` when the token names it.
    pub id: Option<MembershipId>,
}

impl Caller {
    pub fn guest(project: ProjectId) -> Self {
        Self {
            project,
            identity: Identity::Guest,
        }
    }

    /// The scopes this caller holds. Guests may only create executions (Appwrite's
    /// `guests` role), users may also read them (`users`), never touch functions; a key holds
    /// exactly the scopes it was made with.
    pub fn scopes(&self) -> &[Scope] {
        match &self.identity {
            Identity::Guest => &[Scope::ExecutionWrite],
            Identity::User(_) => &[Scope::ExecutionRead, Scope::ExecutionWrite],
            Identity::Key { scopes, .. } => scopes,
        }
    }

    pub fn is_key(&self) -> bool {
        matches!(self.identity, Identity::Key { .. })
    }

    pub fn user(&self) -> Option<&User> {
        match &self.identity {
            Identity::User(user) => Some(user),
            Identity::Guest | Identity::Key { .. } => None,
        }
    }

    /// The role strings this caller holds, as Appwrite derives them: always `any`; `guests`
    /// for a guest; for a user `users`, `user:<id>`, the verified or unverified forms of both,
    /// and per membership `team:<team>`, `team:<team>/<role>` and `member:<id>`; `apps` for a
    /// key (which needs no roles: keys skip every role check).
    pub fn roles(&self) -> Vec<String> {
        let mut held = vec!["any".to_owned()];
        match &self.identity {
            Identity::Guest => held.push("guests".to_owned()),
            Identity::Key { .. } => held.push("apps".to_owned()),
            Identity::User(user) => {
                let status = if user.verified {
                    "verified"
                } else {
                    "unverified"
                };
                held.push("users".to_owned());
                held.push(format!("users/{status}"));
                held.push(format!("user:{}", user.id));
                held.push(format!("user:{}/{status}", user.id));
                for membership in &user.memberships {
                    held.push(format!("team:{}", membership.team));
                    for role in &membership.roles {
                        held.push(format!("team:{}/{role}", membership.team));
                    }
                    if let Some(id) = &membership.id {
                        held.push(format!("member:{id}"));
                    }
                }
            }
        }
        held
    }

    /// Whether the caller may run a function whose `execute` list is `execute`: keys always;
    /// anyone else when one of their roles is in the list (an empty list admits nobody else).
    pub fn may_execute(&self, execute: &[String]) -> bool {
        self.is_key() || {
            let held = self.roles();
            execute.iter().any(|role| held.contains(role))
        }
    }

    /// The permissions that let this caller read a record: `read("<role>")` for each of its
    /// roles. `None` for a key, which reads everything.
    pub fn read_permissions(&self) -> Option<Vec<String>> {
        if self.is_key() {
            return None;
        }
        Some(
            self.roles()
                .iter()
                .map(|role| roles::read_permission(role))
                .collect(),
        )
    }

    /// Whether the caller may read a record carrying `permissions`.
    pub fn may_read(&self, permissions: &[String]) -> bool {
        self.read_permissions()
            .is_none_or(|mine| permissions.iter().any(|p| mine.contains(p)))
    }

    /// The permissions of a record this caller creates: a user may read back what they
    /// made; what keys and guests make carries none (Appwrite's execution rule).
    pub fn own_permissions(&self) -> Vec<String> {
        self.user()
            .map(|user| vec![roles::read_permission(&format!("user:{}", user.id))])
            .unwrap_or_default()
    }

    /// Fails with `general_unauthorized_scope` unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.scopes().contains(&scope) {
            return Ok(());
        }
        let (who, role) = match &self.identity {
            Identity::Guest => ("User".to_owned(), "guests"),
            Identity::User(_) => ("User".to_owned(), "users"),
            Identity::Key { .. } => (
                format!("app.{}@service.functiond", self.project),
                "applications",
            ),
        };
        Err(Error::UnauthorizedScope { who, role, scope })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> ProjectId {
        ProjectId::parse("p1").unwrap()
    }

    #[test]
    fn guests_may_only_create_executions() {
        let guest = Caller::guest(project());
        assert!(guest.require(Scope::ExecutionWrite).is_ok());
        let denied = guest.require(Scope::FunctionsRead).unwrap_err();
        assert_eq!(
            denied.to_string(),
            "User (role: guests) missing scope (functions.read)"
        );
    }

    fn user(id: &str, verified: bool, memberships: Vec<Membership>) -> Caller {
        Caller {
            project: project(),
            identity: Identity::User(User {
                id: UserId::parse(id).unwrap(),
                verified,
                memberships,
            }),
        }
    }

    fn key() -> Caller {
        Caller {
            project: project(),
            identity: Identity::Key {
                id: KeyId::parse("k1").unwrap(),
                scopes: vec![Scope::ExecutionWrite],
            },
        }
    }

    fn list(roles: &[&str]) -> Vec<String> {
        roles.iter().map(|role| (*role).to_owned()).collect()
    }

    #[test]
    fn users_hold_appwrite_roles() {
        let member = Membership {
            team: TeamId::parse("t1").unwrap(),
            roles: list(&["owner", "dev"]),
            id: Some(MembershipId::parse("m1").unwrap()),
        };
        assert_eq!(
            user("abc", true, vec![member]).roles(),
            list(&[
                "any",
                "users",
                "users/verified",
                "user:abc",
                "user:abc/verified",
                "team:t1",
                "team:t1/owner",
                "team:t1/dev",
                "member:m1",
            ])
        );
        assert_eq!(
            user("abc", false, Vec::new()).roles(),
            list(&[
                "any",
                "users",
                "users/unverified",
                "user:abc",
                "user:abc/unverified"
            ])
        );
        assert_eq!(Caller::guest(project()).roles(), list(&["any", "guests"]));
    }

    #[test]
    fn execute_needs_one_shared_role_unless_a_key_asks() {
        let team = Membership {
            team: TeamId::parse("t1").unwrap(),
            roles: list(&["owner"]),
            id: None,
        };
        let alice = user("alice", true, vec![team]);
        let bob = user("bob", false, Vec::new());
        let guest = Caller::guest(project());
        let cases: &[(&[&str], [bool; 3])] = &[
            // execute list => [alice, bob, guest]
            (&["any"], [true, true, true]),
            (&["guests"], [false, false, true]),
            (&["users"], [true, true, false]),
            (&["users/verified"], [true, false, false]),
            (&["users/unverified"], [false, true, false]),
            (&["user:alice"], [true, false, false]),
            (&["user:bob/unverified"], [false, true, false]),
            (&["user:bob/verified"], [false, false, false]),
            (&["team:t1"], [true, false, false]),
            (&["team:t1/owner"], [true, false, false]),
            (&["team:t1/admin"], [false, false, false]),
            (&["member:m1"], [false, false, false]),
            (&["guests", "user:bob"], [false, true, true]),
            (&[], [false, false, false]),
        ];
        for (execute, expected) in cases {
            let execute = list(execute);
            let got = [&alice, &bob, &guest].map(|caller| caller.may_execute(&execute));
            assert_eq!(got, *expected, "{execute:?}");
        }
        assert!(key().may_execute(&[]));
    }

    #[test]
    fn users_read_what_names_one_of_their_roles() {
        let alice = user("alice", true, Vec::new());
        let own = alice.own_permissions();
        assert_eq!(own, list(&[r#"read("user:alice")"#]));
        assert!(alice.may_read(&own));
        assert!(!alice.may_read(&list(&[r#"read("user:bob")"#])));
        assert!(!alice.may_read(&[]));
        assert!(alice.may_read(&list(&[r#"read("users")"#])));
        assert!(key().may_read(&[]));
        assert_eq!(key().read_permissions(), None);
        assert!(Caller::guest(project()).own_permissions().is_empty());
        assert!(key().own_permissions().is_empty());
    }

    #[test]
    fn users_may_run_and_read_executions_but_not_touch_functions() {
        let alice = user("alice", false, Vec::new());
        assert!(alice.require(Scope::ExecutionRead).is_ok());
        assert!(alice.require(Scope::ExecutionWrite).is_ok());
        assert_eq!(
            alice
                .require(Scope::FunctionsWrite)
                .unwrap_err()
                .to_string(),
            "User (role: users) missing scope (functions.write)"
        );
    }

    #[test]
    fn keys_hold_exactly_their_scopes() {
        let key = Caller {
            project: project(),
            identity: Identity::Key {
                id: KeyId::parse("k1").unwrap(),
                scopes: vec![Scope::FunctionsRead],
            },
        };
        assert!(key.require(Scope::FunctionsRead).is_ok());
        let denied = key.require(Scope::FunctionsWrite).unwrap_err();
        assert_eq!(
            denied.to_string(),
            "app.p1@service.functiond (role: applications) missing scope (functions.write)"
        );
    }
}
