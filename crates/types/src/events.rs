//! Event names. Every change in the platform is announced as a dotted name such as
//! `functions.fn1.executions.ex1.create`; a function subscribes with names where any ID may be
//! `*`, and with shorter prefixes (`functions.*`). This module knows which names exist.

use crate::id;

pub const MAX_EVENTS: usize = 100;

/// The event families, as (resource path, actions). Each resource is followed by an ID in the
/// name: `teams.[ID].memberships.[ID].update.status`.
const FAMILIES: &[(&[&str], &[&str])] = &[
    (
        &["users"],
        &[
            "create",
            "delete",
            "update",
            "update.email",
            "update.name",
            "update.password",
            "update.status",
            "update.prefs",
        ],
    ),
    (&["users", "sessions"], &["create", "delete"]),
    (&["users", "recovery"], &["create", "update"]),
    (&["users", "verification"], &["create", "update"]),
    (&["databases"], &["create", "update", "delete"]),
    (
        &["databases", "collections"],
        &["create", "update", "delete"],
    ),
    (
        &["databases", "collections", "documents"],
        &["create", "update", "delete"],
    ),
    (
        &["databases", "collections", "attributes"],
        &["create", "delete"],
    ),
    (
        &["databases", "collections", "indexes"],
        &["create", "delete"],
    ),
    (&["buckets"], &["create", "update", "delete"]),
    (&["buckets", "files"], &["create", "update", "delete"]),
    (&["teams"], &["create", "update", "delete"]),
    (
        &["teams", "memberships"],
        &["create", "update", "delete", "update.status"],
    ),
    (&["functions"], &["create", "update", "delete"]),
    (
        &["functions", "deployments"],
        &["create", "update", "delete"],
    ),
    (
        &["functions", "executions"],
        &["create", "update", "delete"],
    ),
];

/// Whether `name` is an event a function can subscribe to.
pub fn is_valid(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    if !(2..=7).contains(&parts.len()) {
        return false;
    }
    FAMILIES
        .iter()
        .any(|(resources, actions)| matches_family(&parts, resources, actions))
}

fn matches_family(parts: &[&str], resources: &[&str], actions: &[&str]) -> bool {
    for (depth, resource) in resources.iter().enumerate() {
        let at = depth * 2;
        if parts.len() == at {
            // A resource prefix such as `functions.*` or `functions.fn1.executions.*`.
            return depth > 0;
        }
        let id_ok = parts
            .get(at + 1)
            .is_some_and(|id| *id == "*" || id::is_valid(id));
        if parts[at] != *resource || !id_ok {
            return false;
        }
    }
    let consumed = resources.len() * 2;
    if parts.len() == consumed {
        return true;
    }
    let action = parts[consumed..].join(".");
    actions.contains(&action.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_full_names_prefixes_and_wildcards() {
        for name in [
            "users.*.create",
            "users.*.delete",
            "users.*.update.email",
            "users.abc",
            "users.*",
            "functions.*.executions.*.update",
            "functions.fn1.executions.*",
            "functions.fn1.deployments.d1.create",
            "databases.*.collections.*.documents.*.create",
            "teams.*.memberships.*.update.status",
            "buckets.b1.files.f1.delete",
        ] {
            assert!(is_valid(name), "{name}");
        }
    }

    #[test]
    fn refuses_unknown_services_resources_actions_and_shapes() {
        for name in [
            "users",
            "accounts.*.create",
            "users.*.explode",
            "users.*.update.colour",
            "functions.*.variables.*.create",
            "functions.*.executions",
            "functions.-bad.create",
            "databases.*.collections.*.documents.*.create.extra.more",
            "",
            "users..create",
        ] {
            assert!(!is_valid(name), "{name}");
        }
    }
}
