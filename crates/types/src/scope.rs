//! API key scopes. Each route needs exactly one; a key carries the ones it was made with.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    FunctionsRead,
    FunctionsWrite,
    ExecutionRead,
    ExecutionWrite,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::FunctionsRead,
        Scope::FunctionsWrite,
        Scope::ExecutionRead,
        Scope::ExecutionWrite,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::FunctionsRead => "functions.read",
            Scope::FunctionsWrite => "functions.write",
            Scope::ExecutionRead => "execution.read",
            Scope::ExecutionWrite => "execution.write",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown scope \"{given}\"; the scopes are functions.read, functions.write, execution.read and execution.write"
)]
pub struct UnknownScope {
    pub given: String,
}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text.trim())
            .ok_or_else(|| UnknownScope {
                given: text.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_scope_by_its_name() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("functions.admin".parse::<Scope>().is_err());
    }
}
