//! The runtimes catalogue. Each language we know is looked for on the search path; the
//! interpreter found is asked for its version, which names the runtime the way Appwrite does:
//! `node-20.0` (major version, `.0`), `python-3.11` (major.minor). A runtimes file, when
//! given, replaces discovery entirely, and an allow-list can narrow the result.

use std::path::{Path, PathBuf};
use std::time::Duration;

use functiond_sandbox::Spec;
use functiond_types::runtime::Runtime;
use serde::Deserialize;

/// A language the catalogue can discover.
struct Language {
    key: &'static str,
    name: &'static str,
    binaries: &'static [&'static str],
    /// Arguments that make the interpreter print its version, and where the interpreter
    /// supports it, its real executable on a second line (PATH entries are often shims).
    probe_args: &'static [&'static str],
    /// Appwrite names some runtimes by major version only (`node-20.0`).
    major_only: bool,
}

const LANGUAGES: &[Language] = &[
    Language {
        key: "node",
        name: "Node.js",
        binaries: &["node", "nodejs"],
        probe_args: &[
            "-e",
            "console.log(process.versions.node); console.log(process.execPath)",
        ],
        major_only: true,
    },
    Language {
        key: "python",
        name: "Python",
        binaries: &["python3", "python"],
        probe_args: &[
            "-c",
            "import platform, sys; print(platform.python_version()); print(sys.executable)",
        ],
        major_only: false,
    },
    Language {
        key: "php",
        name: "PHP",
        binaries: &["php"],
        probe_args: &["--version"],
        major_only: false,
    },
    Language {
        key: "ruby",
        name: "Ruby",
        binaries: &["ruby"],
        probe_args: &["--version"],
        major_only: false,
    },
    Language {
        key: "deno",
        name: "Deno",
        binaries: &["deno"],
        probe_args: &["--version"],
        major_only: false,
    },
    Language {
        key: "bun",
        name: "Bun",
        binaries: &["bun"],
        probe_args: &["--version"],
        major_only: false,
    },
];

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("cannot read the runtimes file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the runtimes file {path} is not a valid JSON list of runtimes: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// Where to look and what to keep.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Directories searched for interpreters, in order (the `PATH` of the server).
    pub search_path: Vec<PathBuf>,
    /// A JSON file listing the runtimes; replaces discovery when set.
    pub runtimes_file: Option<PathBuf>,
    /// When non-empty, only these runtime ids are offered (Appwrite's `_APP_FUNCTIONS_RUNTIMES`).
    pub enabled: Vec<String>,
}

/// One entry of a runtimes file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    id: String,
    name: String,
    version: String,
    /// The interpreter to run.
    command: PathBuf,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    logo: Option<String>,
}

/// Builds the catalogue.
pub fn catalogue(discovery: &Discovery) -> Result<Vec<Runtime>, CatalogueError> {
    let mut runtimes = match &discovery.runtimes_file {
        Some(path) => from_file(path)?,
        None => discover(&discovery.search_path),
    };
    if !discovery.enabled.is_empty() {
        runtimes.retain(|runtime| discovery.enabled.contains(&runtime.id));
    }
    Ok(runtimes)
}

fn from_file(path: &Path) -> Result<Vec<Runtime>, CatalogueError> {
    let text = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
        path: path.to_owned(),
        source,
    })?;
    let entries: Vec<FileEntry> =
        serde_json::from_str(&text).map_err(|source| CatalogueError::Parse {
            path: path.to_owned(),
            source,
        })?;
    Ok(entries
        .into_iter()
        .map(|entry| {
            let key = entry.id.split('-').next().unwrap_or_default().to_owned();
            Runtime {
                base: entry
                    .base
                    .unwrap_or_else(|| format!("{} {}", entry.name, entry.version)),
                image: entry.command.display().to_string(),
                logo: entry.logo.unwrap_or_else(|| format!("{key}.png")),
                supports: vec![architecture().to_owned()],
                id: entry.id,
                name: entry.name,
                version: entry.version,
            }
        })
        .collect())
}

fn discover(search_path: &[PathBuf]) -> Vec<Runtime> {
    let mut runtimes: Vec<Runtime> = Vec::new();
    for language in LANGUAGES {
        let Some((binary, output)) = language
            .binaries
            .iter()
            .filter_map(|name| find(search_path, name))
            .find_map(|path| probe(&path, language.probe_args).map(|o| (path, o)))
        else {
            continue;
        };
        let mut lines = output.lines();
        let banner = lines.next().unwrap_or_default().trim();
        let interpreter = lines
            .next()
            .map(|line| PathBuf::from(line.trim()))
            .filter(|path| path.is_absolute() && path.is_file())
            .unwrap_or(binary);
        let Some((major, minor, full)) = parse_version(banner) else {
            tracing::warn!(runtime = language.key, output = %output, "could not read the interpreter's version; skipping it");
            continue;
        };
        let version = if language.major_only {
            format!("{major}.0")
        } else {
            format!("{major}.{minor}")
        };
        let id = format!("{}-{version}", language.key);
        if runtimes.iter().any(|r| r.id == id) {
            continue;
        }
        tracing::info!(runtime = %id, interpreter = %interpreter.display(), "found runtime");
        runtimes.push(Runtime {
            id,
            name: language.name.to_owned(),
            version,
            base: format!("{} {full}", language.name),
            image: interpreter.display().to_string(),
            logo: format!("{}.png", language.key),
            supports: vec![architecture().to_owned()],
        });
    }
    runtimes
}

fn find(search_path: &[PathBuf], name: &str) -> Option<PathBuf> {
    search_path
        .iter()
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn probe(binary: &Path, args: &[&str]) -> Option<String> {
    let mut spec = Spec::new(binary).timeout(Duration::from_secs(10));
    spec.args = args.iter().map(|a| (*a).to_owned()).collect();
    let outcome = functiond_sandbox::run(&spec).ok()?;
    if !outcome.success() {
        return None;
    }
    // Some interpreters (older Pythons) print their version on stderr.
    let mut text = String::from_utf8_lossy(&outcome.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&outcome.stderr));
    Some(text)
}

/// The first version number in a banner (`20.20.2`, `Python 3.11.7`, `PHP 8.2.7 (cli)`):
/// its major and minor parts, and the whole dotted number.
fn parse_version(text: &str) -> Option<(u32, u32, String)> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let full: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let full = full.trim_end_matches('.').to_owned();
    let mut parts = full.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, full))
}

/// Appwrite's names for architectures.
fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" | "arm" => "arm",
        _ => "x86",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_from_interpreter_banners() {
        assert_eq!(parse_version("20.20.2"), Some((20, 20, "20.20.2".into())));
        assert_eq!(
            parse_version("Python 3.11.7"),
            Some((3, 11, "3.11.7".into()))
        );
        assert_eq!(
            parse_version("PHP 8.2.7 (cli) (built: ...)"),
            Some((8, 2, "8.2.7".into()))
        );
        assert_eq!(
            parse_version("ruby 3.1.2p20 (2022-04-12)"),
            Some((3, 1, "3.1.2".into()))
        );
        assert_eq!(parse_version("deno 1"), Some((1, 0, "1".into())));
        assert_eq!(parse_version("no digits"), None);
    }

    #[test]
    fn discovers_a_fake_interpreter_on_the_search_path() {
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("node");
        std::fs::write(&node, "#!/bin/sh\necho 18.4.1\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
        let found = catalogue(&Discovery {
            search_path: vec![dir.path().to_owned()],
            ..Discovery::default()
        })
        .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "node-18.0");
        assert_eq!(found[0].name, "Node.js");
        assert_eq!(found[0].version, "18.0");
        assert_eq!(found[0].image, node.display().to_string());
        assert_eq!(found[0].logo, "node.png");
        assert_eq!(found[0].base, "Node.js 18.4.1");
    }

    #[test]
    fn a_runtimes_file_replaces_discovery_and_the_allow_list_filters() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("runtimes.json");
        std::fs::write(
            &file,
            r#"[{"id":"node-16.0","name":"Node.js","version":"16.0","command":"/opt/node16/bin/node"},
                {"id":"python-3.9","name":"Python","version":"3.9","command":"/opt/py39/bin/python3"}]"#,
        )
        .unwrap();
        let found = catalogue(&Discovery {
            search_path: Vec::new(),
            runtimes_file: Some(file.clone()),
            enabled: vec!["python-3.9".into()],
        })
        .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "python-3.9");
        assert_eq!(found[0].image, "/opt/py39/bin/python3");

        std::fs::write(&file, r#"[{"id":"x"}]"#).unwrap();
        let error = catalogue(&Discovery {
            runtimes_file: Some(file),
            ..Discovery::default()
        })
        .unwrap_err();
        assert!(
            error.to_string().contains("not a valid JSON list"),
            "{error}"
        );
    }
}
