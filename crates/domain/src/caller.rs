//! Who is asking. The API turns request headers into a [`Caller`] (through [`crate::Auth`]);
//! every service method takes one first and decides from it what is allowed.

use functiond_types::id::{KeyId, ProjectId};
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
}

impl Caller {
    pub fn guest(project: ProjectId) -> Self {
        Self {
            project,
            identity: Identity::Guest,
        }
    }

    /// The scopes this caller holds. Guests may only create executions (Appwrite's
    /// `guests` role); a key holds exactly the scopes it was made with.
    pub fn scopes(&self) -> &[Scope] {
        match &self.identity {
            Identity::Guest => &[Scope::ExecutionWrite],
            Identity::Key { scopes, .. } => scopes,
        }
    }

    /// Fails with `general_unauthorized_scope` unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.scopes().contains(&scope) {
            return Ok(());
        }
        let (who, role) = match &self.identity {
            Identity::Guest => ("User".to_owned(), "guests"),
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
