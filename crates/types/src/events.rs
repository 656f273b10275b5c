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

/// Every name an event is known by, most specific first: each mix of the concrete IDs and `*`
/// for the full name, then for the name without its action, then for every shorter resource
/// prefix. `parts` alternate resource and ID (`["functions", "fn1", "executions", "ex1"]`) and
/// `action` may hold an attribute (`update.email`).
pub fn expand(parts: &[&str], action: &str) -> Vec<String> {
    let mut names = Vec::new();
    let ids = parts.len() / 2;
    let action_forms: Vec<&str> = {
        // `update.email` is also announced as plain `update`.
        let mut forms = vec![action];
        if let Some((base, _)) = action.split_once('.') {
            forms.push(base);
        }
        forms
    };
    let mixes = |depth: usize| -> Vec<String> {
        // Mixes of concrete IDs and `*` over the first `depth` resources, the all-concrete
        // form first and the all-`*` form second, as Appwrite lists them.
        let mut out = Vec::new();
        let count = 1usize << depth;
        let mut order: Vec<usize> = vec![0, count - 1];
        order.extend((1..count - 1).rev());
        order.dedup();
        for mask in order {
            let mut name = Vec::with_capacity(depth * 2);
            for level in 0..depth {
                name.push(parts[level * 2]);
                let wildcard = mask & (1 << (depth - 1 - level)) != 0;
                name.push(if wildcard { "*" } else { parts[level * 2 + 1] });
            }
            out.push(name.join("."));
        }
        out
    };
    for form in &action_forms {
        for prefix in mixes(ids) {
            push_unique(&mut names, format!("{prefix}.{form}"));
        }
    }
    for depth in (1..=ids).rev() {
        for prefix in mixes(depth) {
            push_unique(&mut names, prefix);
        }
    }
    names
}

fn push_unique(names: &mut Vec<String>, name: String) {
    if !names.contains(&name) {
        names.push(name);
    }
}

#[cfg(test)]
mod expansion_tests {
    use super::*;

    #[test]
    fn an_execution_event_in_every_form() {
        let names = expand(&["functions", "F1", "executions", "E1"], "create");
        assert_eq!(names[0], "functions.F1.executions.E1.create");
        let mut sorted = names.clone();
        sorted.sort();
        let mut expected = vec![
            "functions.F1.executions.E1.create",
            "functions.*.executions.*.create",
            "functions.F1.executions.*.create",
            "functions.*.executions.E1.create",
            "functions.F1.executions.E1",
            "functions.*.executions.*",
            "functions.F1.executions.*",
            "functions.*.executions.E1",
            "functions.F1",
            "functions.*",
        ];
        expected.sort_unstable();
        assert_eq!(sorted, expected);
        assert!(names.iter().all(|name| is_valid(name)), "{names:?}");
    }

    #[test]
    fn a_function_event_and_an_attribute_event() {
        let names = expand(&["functions", "F1"], "create");
        assert_eq!(
            names,
            [
                "functions.F1.create",
                "functions.*.create",
                "functions.F1",
                "functions.*"
            ]
        );
        let names = expand(&["users", "U1"], "update.email");
        for name in [
            "users.U1.update.email",
            "users.*.update.email",
            "users.U1.update",
            "users.*.update",
            "users.U1",
            "users.*",
        ] {
            assert!(
                names.contains(&name.to_owned()),
                "{name} missing from {names:?}"
            );
        }
        assert_eq!(names.len(), 6);
    }

    #[test]
    fn three_level_resources_give_every_mix() {
        let names = expand(
            &["databases", "D", "collections", "C", "documents", "X"],
            "create",
        );
        let full = names.iter().filter(|n| n.ends_with(".create")).count();
        assert_eq!(full, 8);
        assert_eq!(names[0], "databases.D.collections.C.documents.X.create");
    }
}
