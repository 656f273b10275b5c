//! The runtime shims: one small program per language, shipped inside the binary and written
//! to `<work-dir>/runtimes/` when the executor starts, that loads a function's entrypoint
//! once and serves invocations over the executor's socket (see [`crate::protocol`]). This
//! module also knows how to start each language's shim and what environment it gets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use functiond_sandbox::{Bind, Jail, Spec};
use functiond_types::runtime::Runtime;

const NODE_SHIM: &str = include_str!("../runtimes/node/shim.cjs");
const PYTHON_SHIM: &str = include_str!("../runtimes/python/shim.py");

/// What an instance's own stdout and stderr keep (their tails): output outside any call, and
/// the last words of a runtime that dies. Per-call logs travel in the reply instead.
const INSTANCE_OUTPUT: usize = 64 * 1024;

/// The variables that change from one execution to the next. They reach the handler in
/// `req.variables`, and the shim puts them in the process environment only for the length of
/// the call: an instance serves many executions, and one caller's JWT or data must not show up
/// in another's `process.env`. Keeping them out of the start environment is also what lets
/// executions with different callers share a warm instance.
pub(crate) const PER_EXECUTION: &[&str] = &[
    "APPWRITE_FUNCTION_TRIGGER",
    "APPWRITE_FUNCTION_EVENT",
    "APPWRITE_FUNCTION_EVENT_DATA",
    "APPWRITE_FUNCTION_DATA",
    "APPWRITE_FUNCTION_USER_ID",
    "APPWRITE_FUNCTION_JWT",
];

/// What every instance and build finds in its environment unless a variable overrides it;
/// nothing of the server's own environment is passed on.
pub(crate) const BASE_ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("HOME", "/tmp"),
    ("LANG", "C.UTF-8"),
];

/// Where a sandboxed instance sees the shims, its code and the executor's socket.
const SANDBOX_SHIMS: &str = "/opt/functiond/runtimes";
const SANDBOX_CODE: &str = "/code";
const SANDBOX_SOCKET: &str = "/run/functiond.sock";

/// The languages that have a shim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    Node,
    Python,
}

impl Language {
    /// The language of a runtime id (`node-20.0` → Node), if it has a shim.
    pub(crate) fn of(runtime: &Runtime) -> Option<Self> {
        match runtime.id.split('-').next() {
            Some("node") => Some(Self::Node),
            Some("python") => Some(Self::Python),
            _ => None,
        }
    }
}

/// Where the shims were written, and the sandbox instances start in.
#[derive(Debug, Clone)]
pub(crate) struct Shims {
    node: PathBuf,
    python: PathBuf,
    dir: PathBuf,
    /// `None`: instances run as plain processes (`--insecure-no-sandbox`).
    jail: Option<Jail>,
}

impl Shims {
    /// Writes the shims under `dir` (replacing older copies: the binary's version wins).
    pub(crate) fn install(dir: &Path) -> std::io::Result<Self> {
        let node = dir.join("node").join("shim.cjs");
        let python = dir.join("python").join("shim.py");
        for (path, text) in [(&node, NODE_SHIM), (&python, PYTHON_SHIM)] {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, text)?;
        }
        Ok(Self {
            node,
            python,
            dir: dir.to_owned(),
            jail: None,
        })
    }

    /// Instances start in sandboxes confined by `jail` (plus what each one needs to see).
    pub(crate) fn confined(mut self, jail: Option<Jail>) -> Self {
        self.jail = jail;
        self
    }

    /// How to start an instance of a deployment whose shim will connect to `socket`.
    pub(crate) fn launch(&self, instance: &Launch<'_>, socket: &Path) -> Spec {
        let (shim, flags): (&Path, &[&str]) = match instance.language {
            Language::Node => (&self.node, &[]),
            // -I: ignore PYTHON* variables and the user site, and keep the shim's own
            // directory off sys.path; -B: never write bytecode into the code directory.
            Language::Python => (&self.python, &["-I", "-B"]),
        };
        // In a sandbox the shims, the code and the socket appear at fixed places, so the
        // function learns nothing of the server's folders.
        let (shim, socket_seen, code_seen) = match &self.jail {
            Some(_) => (
                Path::new(SANDBOX_SHIMS).join(shim.strip_prefix(&self.dir).unwrap_or(shim)),
                PathBuf::from(SANDBOX_SOCKET),
                PathBuf::from(SANDBOX_CODE),
            ),
            None => (
                shim.to_owned(),
                socket.to_owned(),
                instance.code_dir.to_owned(),
            ),
        };
        let mut spec = Spec::new(&instance.runtime.image)
            .args(flags.iter().copied())
            .arg(shim.display().to_string())
            .arg(socket_seen.display().to_string())
            .arg(code_seen.display().to_string())
            .arg(instance.entrypoint)
            .cwd(&code_seen)
            .output_limit(INSTANCE_OUTPUT);
        spec.env = environment(instance.variables, PER_EXECUTION);
        if let Some(jail) = &self.jail {
            // Read-only: the interpreter's installation, the shims, the code, and the socket
            // the shim reports back on (unix sockets work across network namespaces).
            let mut jail = jail.clone();
            jail.binds
                .extend(installation(Path::new(&instance.runtime.image)).map(Bind::read_only));
            jail.binds
                .push(Bind::read_only(&self.dir).at(SANDBOX_SHIMS));
            jail.binds
                .push(Bind::read_only(instance.code_dir).at(SANDBOX_CODE));
            jail.binds.push(Bind::read_only(socket).at(SANDBOX_SOCKET));
            spec = spec.jail(jail);
        }
        spec
    }
}

/// The installation an interpreter belongs to (`/opt/python/3.11/bin/python3` →
/// `/opt/python/3.11`), which must be visible for it to find its libraries. Interpreters
/// under `/usr` need nothing: every sandbox sees `/usr`.
pub(crate) fn installation(interpreter: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(interpreter).ok()?;
    let prefix = real.parent()?.parent()?.to_owned();
    (!prefix.starts_with("/usr") && prefix != Path::new("/")).then_some(prefix)
}

/// The few things that decide what an instance runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Launch<'a> {
    pub(crate) language: Language,
    pub(crate) runtime: &'a Runtime,
    pub(crate) code_dir: &'a Path,
    pub(crate) entrypoint: &'a str,
    pub(crate) variables: &'a BTreeMap<String, String>,
}

/// [`BASE_ENV`] overlaid with `variables`, leaving out the names in `skip`.
pub(crate) fn environment(
    variables: &BTreeMap<String, String>,
    skip: &[&str],
) -> Vec<(String, String)> {
    let mut env: BTreeMap<String, String> = BASE_ENV
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    for (key, value) in variables {
        if !skip.contains(&key.as_str()) {
            env.insert(key.clone(), value.clone());
        }
    }
    env.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(id: &str) -> Runtime {
        Runtime {
            id: id.into(),
            name: String::new(),
            version: String::new(),
            base: String::new(),
            image: "/usr/bin/interpreter".into(),
            logo: String::new(),
            supports: Vec::new(),
        }
    }

    #[test]
    fn languages_come_from_the_runtime_id() {
        assert_eq!(Language::of(&runtime("node-20.0")), Some(Language::Node));
        assert_eq!(
            Language::of(&runtime("python-3.11")),
            Some(Language::Python)
        );
        assert_eq!(Language::of(&runtime("php-8.0")), None);
    }

    #[test]
    fn an_instance_gets_the_base_environment_and_the_stable_variables_only() {
        let dir = tempfile::tempdir().unwrap();
        let shims = Shims::install(dir.path()).unwrap();
        assert!(dir.path().join("python/shim.py").is_file());
        let variables = BTreeMap::from([
            ("APPWRITE_FUNCTION_ID".to_owned(), "fn".to_owned()),
            ("APPWRITE_FUNCTION_JWT".to_owned(), "secret".to_owned()),
            ("HOME".to_owned(), "/home/fn".to_owned()),
        ]);
        let python = runtime("python-3.11");
        let spec = shims.launch(
            &Launch {
                language: Language::Python,
                runtime: &python,
                code_dir: Path::new("/code"),
                entrypoint: "main.py",
                variables: &variables,
            },
            Path::new("/run/1.sock"),
        );
        assert_eq!(spec.program, Path::new("/usr/bin/interpreter"));
        let shim = dir.path().join("python/shim.py").display().to_string();
        assert_eq!(
            spec.args,
            ["-I", "-B", shim.as_str(), "/run/1.sock", "/code", "main.py"]
        );
        assert_eq!(spec.cwd.as_deref(), Some(Path::new("/code")));
        let env: BTreeMap<_, _> = spec.env.into_iter().collect();
        assert_eq!(
            env.get("APPWRITE_FUNCTION_ID").map(String::as_str),
            Some("fn")
        );
        assert_eq!(env.get("HOME").map(String::as_str), Some("/home/fn"));
        assert_eq!(env.get("LANG").map(String::as_str), Some("C.UTF-8"));
        assert!(!env.contains_key("APPWRITE_FUNCTION_JWT"));
        assert_eq!(env.len(), 4);
    }
}
