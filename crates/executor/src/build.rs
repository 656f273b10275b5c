//! Builds: a deployment's archive is unpacked into its code directory, its entrypoint checked,
//! and its dependencies installed the way the runtime's language does it (`npm install` when
//! `package.json` exists, `pip install -r requirements.txt --target .functiond/python` when
//! `requirements.txt` exists, nothing otherwise). The built directory is what every instance
//! starts from. Install commands run through the sandbox with the function's variables as
//! their environment; they may reach the package registries.

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use functiond_domain::ports::{BuildOutcome, BuildRequest};
use functiond_sandbox::{Bind, Jail, Spec};

use crate::archive;
use crate::protocol::truncate;
use crate::shims::{self, Language};

/// Where a Python deployment's dependencies are installed, relative to its code directory;
/// the Python shim puts it on `sys.path`.
pub(crate) const PYTHON_DEPENDENCIES: &str = ".functiond/python";

/// What Appwrite reports for a build that printed nothing.
const QUIET_SUCCESS: &str = "Build Successful!";

/// What builds need from the executor's settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) archive: archive::Limits,
    /// `HOME` of install commands, so that nothing lands in the server's home.
    pub(crate) home: PathBuf,
    /// npm's cache, shared by every build.
    pub(crate) npm_cache: PathBuf,
    /// Where `npm` is looked for when it is not beside the `node` interpreter.
    pub(crate) tool_path: Vec<PathBuf>,
    /// What each of stdout and stderr keeps, in bytes.
    pub(crate) output_limit: usize,
    /// The operator's extra environment for install commands.
    pub(crate) env: Vec<(String, String)>,
    /// The sandbox install commands run in; `None` runs them as plain processes.
    pub(crate) jail: Option<Jail>,
}

/// Runs one build on a blocking thread.
pub(crate) async fn build(config: &Config, request: BuildRequest) -> BuildOutcome {
    let started = Instant::now();
    let config = config.clone();
    let ran = tokio::task::spawn_blocking(move || run(&config, &request)).await;
    let mut outcome =
        ran.unwrap_or_else(|error| Output::default().fail(format!("The build crashed: {error}")));
    outcome.duration = started.elapsed();
    outcome
}

/// What the install steps printed so far.
#[derive(Debug, Default)]
struct Output {
    stdout: String,
    stderr: String,
}

impl Output {
    fn append(&mut self, stdout: &[u8], stderr: &[u8]) {
        for (into, bytes) in [(&mut self.stdout, stdout), (&mut self.stderr, stderr)] {
            let text = String::from_utf8_lossy(bytes);
            if !into.is_empty() && !text.is_empty() && !into.ends_with('\n') {
                into.push('\n');
            }
            into.push_str(&text);
        }
    }

    fn fail(mut self, message: String) -> BuildOutcome {
        if !self.stderr.is_empty() && !self.stderr.ends_with('\n') {
            self.stderr.push('\n');
        }
        self.stderr.push_str(&message);
        self.finish(false)
    }

    fn finish(self, success: bool) -> BuildOutcome {
        let stdout = if success && self.stdout.trim().is_empty() {
            QUIET_SUCCESS.to_owned()
        } else {
            self.stdout
        };
        BuildOutcome {
            success,
            stdout: truncate(stdout, crate::protocol::KEEP),
            stderr: truncate(self.stderr, crate::protocol::KEEP),
            duration: Duration::ZERO,
        }
    }
}

/// One install command.
struct Step {
    name: &'static str,
    spec: Spec,
}

fn run(config: &Config, request: &BuildRequest) -> BuildOutcome {
    let deadline = Instant::now() + request.timeout;
    let output = Output::default();
    if let Err(error) = std::fs::create_dir_all(&request.code_dir) {
        tracing::error!(dir = %request.code_dir.display(), %error, "cannot create the code directory");
        return output.fail(
            "The deployment could not be unpacked: the server could not prepare its folder.".into(),
        );
    }
    if let Err(error) = archive::unpack(&request.archive, &request.code_dir, &config.archive) {
        return output.fail(error.to_string());
    }
    if !entrypoint_exists(&request.code_dir, &request.entrypoint) {
        return output.fail(format!(
            "Entrypoint \"{}\" not found in the deployment.",
            request.entrypoint
        ));
    }
    let steps = match install_steps(config, request) {
        Ok(steps) => steps,
        Err(message) => return output.fail(message),
    };
    let mut output = output;
    let private_home = config.home.join(request.deployment.as_str());
    let _cleanup = RemoveOnDrop(config.jail.as_ref().map(|_| private_home.clone()));
    for step in steps {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut spec = step.spec.timeout(left).output_limit(config.output_limit);
        if let Some(jail) = &config.jail {
            match confine(spec, jail.clone(), config, request, &private_home) {
                Ok(confined) => spec = confined,
                Err(error) => {
                    tracing::error!(%error, "cannot prepare the build's sandbox");
                    return output.fail("The build could not be started on this server.".into());
                }
            }
        }
        let outcome = match functiond_sandbox::run(&spec) {
            Ok(outcome) => outcome,
            Err(error) => return output.fail(format!("`{}` could not start: {error}", step.name)),
        };
        output.append(&outcome.stdout, &outcome.stderr);
        if let Some(hit) = outcome.limit {
            return output.fail(format!("`{}` stopped: {hit}", step.name));
        }
        if outcome.timed_out {
            return output.fail(format!(
                "The build timed out after {} seconds.",
                request.timeout.as_secs()
            ));
        }
        if !outcome.success() {
            let how = outcome.exit_code.map_or_else(
                || "was killed".to_owned(),
                |code| format!("failed with exit code {code}"),
            );
            return output.fail(format!("`{}` {how}.", step.name));
        }
    }
    output.finish(true)
}

/// Removes a build's private home when the build ends.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Puts an install step in the build's sandbox. It may write to the code directory and to a
/// home of its own (npm's cache included: a cache shared between builds would let one tenant's
/// build plant packages in another's), and read the interpreter's installation and the files
/// the operator's build environment names (CA bundles, local wheel folders).
fn confine(
    mut spec: Spec,
    mut jail: Jail,
    config: &Config,
    request: &BuildRequest,
    home: &Path,
) -> std::io::Result<Spec> {
    std::fs::create_dir_all(home)?;
    for (key, value) in &mut spec.env {
        if key == "HOME" && *value == config.home.display().to_string() {
            *value = home.display().to_string();
        }
        if key == "npm_config_cache" {
            *value = home.join(".npm").display().to_string();
        }
    }
    jail.binds.push(Bind::lent(&request.code_dir));
    jail.binds.push(Bind::lent(home));
    let interpreter = Path::new(&request.runtime.image);
    jail.binds
        .extend(shims::installation(interpreter).map(Bind::read_only));
    // npm is a script run by node; its package may live outside /usr.
    if let Some(script) = spec.args.first().map(Path::new)
        && script.is_absolute()
        && script.is_file()
        && let Some(package) = script.parent().and_then(Path::parent)
        && !package.starts_with("/usr")
    {
        jail.binds.push(Bind::read_only(package));
    }
    for (_, value) in &config.env {
        for word in value.split([' ', ':', ',']) {
            let path = Path::new(word);
            if path.is_absolute() && path.exists() {
                jail.binds.push(Bind::read_only(path));
            }
        }
    }
    Ok(spec.jail(jail))
}

/// Whether the entrypoint names a file inside the code directory (it may not climb out).
fn entrypoint_exists(code_dir: &Path, entrypoint: &str) -> bool {
    let path = Path::new(entrypoint);
    let plain = path
        .components()
        .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
    plain && !entrypoint.is_empty() && code_dir.join(path).is_file()
}

fn install_steps(config: &Config, request: &BuildRequest) -> Result<Vec<Step>, String> {
    let code_dir = &request.code_dir;
    let interpreter = PathBuf::from(&request.runtime.image);
    let mut steps = Vec::new();
    match Language::of(&request.runtime) {
        Some(Language::Node) if code_dir.join("package.json").is_file() => {
            let (program, prefix) = find_npm(&interpreter, &config.tool_path).ok_or_else(|| {
                "`package.json` needs `npm install`, but npm was not found on this server."
                    .to_owned()
            })?;
            let node_dir = interpreter
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let spec = Spec::new(program)
                .args(prefix)
                .args(["install", "--omit=dev", "--no-audit", "--no-fund"])
                .cwd(code_dir);
            let extra = [
                ("PATH", format!("{}:{}", node_dir.display(), base_path())),
                ("npm_config_cache", config.npm_cache.display().to_string()),
                ("npm_config_update_notifier", "false".to_owned()),
            ];
            steps.push(Step {
                name: "npm install",
                spec: with_env(spec, config, request, &extra),
            });
        }
        Some(Language::Python) if code_dir.join("requirements.txt").is_file() => {
            let target = code_dir.join(PYTHON_DEPENDENCIES);
            let spec = Spec::new(&interpreter)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--no-cache-dir",
                    "--disable-pip-version-check",
                ])
                .args(["-r", "requirements.txt", "--target"])
                .arg(target.display().to_string())
                .cwd(code_dir);
            steps.push(Step {
                name: "pip install",
                spec: with_env(spec, config, request, &[]),
            });
        }
        _ => {}
    }
    Ok(steps)
}

/// The install environment: the base set, a private `HOME`, what the step needs, the
/// operator's extra environment, and the function's variables over all of it (they may point
/// npm or pip at another registry).
fn with_env(
    mut spec: Spec,
    config: &Config,
    request: &BuildRequest,
    extra: &[(&str, String)],
) -> Spec {
    let mut base: std::collections::BTreeMap<String, String> = request.variables.clone();
    for (key, value) in &config.env {
        base.entry(key.clone()).or_insert_with(|| value.clone());
    }
    for (key, value) in extra {
        base.entry((*key).to_owned())
            .or_insert_with(|| value.clone());
    }
    base.entry("HOME".to_owned())
        .or_insert_with(|| config.home.display().to_string());
    spec.env = shims::environment(&base, &[]);
    spec
}

fn base_path() -> &'static str {
    shims::BASE_ENV
        .iter()
        .find(|(key, _)| *key == "PATH")
        .map_or("/usr/bin:/bin", |(_, value)| value)
}

/// npm, preferably the one installed beside `node`. When it is a script for node (as the
/// usual `npm -> ../lib/node_modules/npm/bin/npm-cli.js` link is), it is run with that same
/// interpreter, so the build does not depend on which `node` is first on the `PATH`.
fn find_npm(node: &Path, tool_path: &[PathBuf]) -> Option<(PathBuf, Vec<String>)> {
    let beside = node.parent().map(|dir| dir.join("npm"));
    let found = beside
        .into_iter()
        .chain(tool_path.iter().map(|dir| dir.join("npm")))
        .find(|candidate| candidate.is_file())?;
    let resolved = std::fs::canonicalize(&found).unwrap_or(found);
    let is_script = resolved
        .extension()
        .is_some_and(|ext| ext == "js" || ext == "cjs" || ext == "mjs");
    if is_script {
        Some((node.to_owned(), vec![resolved.display().to_string()]))
    } else {
        Some((resolved, Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entrypoints_must_stay_inside_the_code_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/index.js"), "").unwrap();
        assert!(entrypoint_exists(dir.path(), "src/index.js"));
        assert!(entrypoint_exists(dir.path(), "./src/index.js"));
        assert!(!entrypoint_exists(dir.path(), "src"));
        assert!(!entrypoint_exists(dir.path(), "missing.js"));
        assert!(!entrypoint_exists(dir.path(), "src/../src/index.js"));
        assert!(!entrypoint_exists(dir.path(), "/etc/passwd"));
        assert!(!entrypoint_exists(dir.path(), ""));
    }

    #[test]
    fn npm_beside_node_is_run_by_that_node_when_it_is_a_script() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let lib = dir.path().join("lib");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(bin.join("node"), "").unwrap();
        std::fs::write(lib.join("npm-cli.js"), "").unwrap();
        std::os::unix::fs::symlink("../lib/npm-cli.js", bin.join("npm")).unwrap();
        let (program, prefix) = find_npm(&bin.join("node"), &[]).unwrap();
        assert_eq!(program, bin.join("node"));
        let script = std::fs::canonicalize(lib.join("npm-cli.js")).unwrap();
        assert_eq!(prefix, vec![script.display().to_string()]);

        std::fs::remove_file(bin.join("npm")).unwrap();
        assert!(find_npm(&bin.join("node"), &[]).is_none());
        std::fs::write(lib.join("npm"), "#!/bin/sh\n").unwrap();
        let (program, prefix) = find_npm(&bin.join("node"), std::slice::from_ref(&lib)).unwrap();
        assert_eq!(program, std::fs::canonicalize(lib.join("npm")).unwrap());
        assert!(prefix.is_empty());
    }

    #[test]
    fn output_joins_steps_and_a_quiet_success_says_so() {
        let mut output = Output::default();
        output.append(b"", b"");
        let outcome = output.finish(true);
        assert_eq!(outcome.stdout, QUIET_SUCCESS);
        assert!(outcome.success);

        let mut output = Output::default();
        output.append(b"one", b"warn");
        output.append(b"two\n", b"");
        let outcome = output.fail("`npm install` failed with exit code 1.".into());
        assert_eq!(outcome.stdout, "one\ntwo\n");
        assert_eq!(
            outcome.stderr,
            "warn\n`npm install` failed with exit code 1."
        );
        assert!(!outcome.success);
    }
}
