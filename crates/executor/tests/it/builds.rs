//! Builds: what a deployment needs before it can run, and how failures read.

use std::collections::BTreeMap;
use std::time::Duration;

use functiond_domain::ports::{BuildRequest, Invoker};
use functiond_types::id::DeploymentId;

use crate::harness::{Fixture, node, python};

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_entrypoint_fails_the_build_naming_it() {
    let fixture = Fixture::new();
    let (outcome, _) = fixture
        .build(
            node(),
            "index.js",
            &[("main.js", "module.exports = () => {};")],
        )
        .await;
    assert!(!outcome.success);
    assert_eq!(
        outcome.stderr,
        "Entrypoint \"index.js\" not found in the deployment."
    );
    let (outcome, _) = fixture
        .build(python(), "../main.py", &[("main.py", "")])
        .await;
    assert_eq!(
        outcome.stderr,
        "Entrypoint \"../main.py\" not found in the deployment."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_build_without_a_manifest_just_unpacks() {
    let fixture = Fixture::new();
    let (outcome, deployment) = fixture
        .build(
            python(),
            "main.py",
            &[
                ("main.py", "def main(req, res): pass\n"),
                ("lib/data.txt", "x"),
            ],
        )
        .await;
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.stdout, "Build Successful!");
    assert_eq!(outcome.stderr, "");
    assert!(deployment.code_dir.join("lib/data.txt").is_file());
    assert!(outcome.duration < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_that_is_not_a_tar_gz_is_refused() {
    let fixture = Fixture::new();
    let archive = fixture.dir.path().join("junk.tar.gz");
    std::fs::write(&archive, b"definitely not gzip").unwrap();
    let deployment = DeploymentId::unique();
    let outcome = fixture
        .executor
        .build(BuildRequest {
            project: fixture.project.clone(),
            function: fixture.function.clone(),
            deployment: deployment.clone(),
            runtime: node(),
            entrypoint: "index.js".into(),
            archive,
            code_dir: fixture.dir.path().join("builds").join(deployment.as_str()),
            variables: BTreeMap::new(),
            timeout: Duration::from_secs(30),
        })
        .await;
    assert!(!outcome.success);
    assert!(
        outcome
            .stderr
            .starts_with("The deployment is not a valid tar.gz archive"),
        "{}",
        outcome.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_npm_install_reports_its_output() {
    let fixture = Fixture::new();
    let (outcome, _) = fixture
        .build(
            node(),
            "index.js",
            &[
                ("index.js", "module.exports = () => {};"),
                ("package.json", "{ this is not json"),
            ],
        )
        .await;
    assert!(!outcome.success, "{outcome:?}");
    assert!(outcome.stderr.contains("JSON"), "{}", outcome.stderr);
    assert!(
        outcome
            .stderr
            .ends_with("`npm install` failed with exit code 1."),
        "{}",
        outcome.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn install_scripts_see_the_function_variables_and_a_private_home() {
    let fixture = Fixture::new();
    let deployment = DeploymentId::unique();
    let code_dir = fixture.dir.path().join("builds").join(deployment.as_str());
    let package = r#"{"name":"fn","version":"1.0.0","scripts":{"install":"node -e \"require('fs').writeFileSync('seen.json', JSON.stringify({v: process.env.BUILD_VAR, home: process.env.HOME}))\""}}"#;
    let outcome = fixture
        .executor
        .build(BuildRequest {
            project: fixture.project.clone(),
            function: fixture.function.clone(),
            deployment: deployment.clone(),
            runtime: node(),
            entrypoint: "index.js".into(),
            archive: crate::harness::tar_gz(
                fixture.dir.path(),
                &[
                    ("index.js", "module.exports = () => {};"),
                    ("package.json", package),
                ],
            ),
            code_dir: code_dir.clone(),
            variables: BTreeMap::from([("BUILD_VAR".to_owned(), "from-variables".to_owned())]),
            timeout: Duration::from_secs(120),
        })
        .await;
    assert!(outcome.success, "{outcome:?}");
    let seen: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(code_dir.join("seen.json")).unwrap())
            .unwrap();
    assert_eq!(seen["v"], "from-variables");
    // A home of the server's build folder: shared without a sandbox, the build's own inside.
    let home = fixture.dir.path().join("work/build-home");
    let seen_home = seen["home"].as_str().unwrap_or_default();
    assert!(
        std::path::Path::new(seen_home).starts_with(&home),
        "{seen_home}"
    );
}
