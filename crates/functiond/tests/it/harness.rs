//! A test server and a small client for it.

use std::path::PathBuf;

use functiond::config::{Config, GlobalArgs};
use functiond::serve::Server;
use functiond_executor::runtimes::Discovery;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// A running server with its bootstrap key. Dropping it stops the server and removes its data.
pub struct TestServer {
    pub base: String,
    pub key: String,
    pub data_dir: tempfile::TempDir,
    client: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The Appwrite error `type` of an error reply.
    pub fn error_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server whose configuration `configure` adjusts first.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        // A fixed catalogue keeps snapshots the same on every machine.
        let runtimes_file = data_dir.path().join("runtimes.json");
        std::fs::write(
            &runtimes_file,
            r#"[{"id":"node-20.0","name":"Node.js","version":"20.0","command":"/usr/bin/node","base":"Node.js 20.20.2"},
                {"id":"python-3.11","name":"Python","version":"3.11","command":"/usr/bin/python3","base":"Python 3.11.7"}]"#,
        )
        .expect("runtimes file");
        let data = data_dir.path().join("data");
        let mut config = Config::for_store(&GlobalArgs {
            data_dir: data,
            database_url: None,
            secret_key: None,
        });
        config.listen = "127.0.0.1:0".parse().expect("address");
        // Functions run in the sandbox, as in production, wherever the host allows it.
        config.sandbox = crate::sandbox::available();
        config.runtimes = Discovery {
            search_path: Vec::new(),
            runtimes_file: Some(runtimes_file),
            enabled: Vec::new(),
        };
        configure(&mut config);
        let server = Server::start(&config).await.expect("server starts");
        let base = server.endpoint.clone();
        let key = server
            .bootstrap
            .as_ref()
            .expect("first start bootstraps")
            .key_secret
            .clone();
        let shutdown = CancellationToken::new();
        tokio::spawn(server.run(shutdown.clone()));
        Self {
            base,
            key,
            data_dir,
            client: reqwest::Client::new(),
            shutdown,
        }
    }

    pub fn data_path(&self) -> PathBuf {
        self.data_dir.path().join("data")
    }

    /// A request to `path` (under `/v1`) with no credentials at all.
    pub fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// A request as the bootstrap key of project `default`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.as_key("default", &self.key, method, path)
    }

    pub fn as_key(&self, project: &str, key: &str, method: Method, path: &str) -> RequestBuilder {
        self.bare(method, path)
            .header("x-appwrite-project", project)
            .header("x-appwrite-key", key)
    }

    pub async fn get(&self, path: &str) -> Reply {
        send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        send(self.request(Method::POST, path).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        send(self.request(Method::PUT, path).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        send(self.request(Method::DELETE, path)).await
    }

    /// Creates a Node function with the given ID and name, asserting it worked.
    pub async fn create_function(&self, id: &str, name: &str) -> Value {
        let reply = self
            .post(
                "/functions",
                serde_json::json!({"functionId": id, "name": name, "runtime": "node-20.0"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.body
    }

    /// Makes a project and a key for it with the given scopes, through the same services the
    /// CLI uses; returns the key's secret.
    pub async fn project_with_key(&self, project: &str, scopes: &[&str]) -> String {
        let config = Config::for_store(&GlobalArgs {
            data_dir: self.data_path(),
            database_url: None,
            secret_key: None,
        });
        let store = functiond::app::migrated_store(&config)
            .await
            .expect("store");
        let (auth, projects) = functiond::app::operator(store);
        if project != "default" {
            projects.create(project, None).await.expect("project");
        }
        let scopes = scopes.iter().map(|s| s.parse().expect("scope")).collect();
        let project = functiond_types::id::ProjectId::parse(project).expect("project id");
        let (_, secret) = auth
            .create_key(&project, "test", scopes)
            .await
            .expect("key");
        secret
    }
}

pub async fn send(request: RequestBuilder) -> Reply {
    let response = request.send().await.expect("request reaches the server");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// Settings for JSON snapshots with server-chosen values redacted.
pub fn redacted() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for field in ["$id", "$createdAt", "$updatedAt", "scheduleNext"] {
        settings.add_redaction(&format!(".**[\"{field}\"]"), format!("[{field}]"));
    }
    settings
}

/// A `tar.gz` holding the given files.
pub fn archive(files: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, body) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, body.as_bytes())
            .expect("append to archive");
    }
    tar.into_inner()
        .expect("finish tar")
        .finish()
        .expect("finish gzip")
}

impl TestServer {
    /// Uploads `code` in one request; answers the reply.
    pub async fn upload(
        &self,
        function: &str,
        entrypoint: &str,
        code: Vec<u8>,
        activate: bool,
    ) -> Reply {
        let form = reqwest::multipart::Form::new()
            .text("entrypoint", entrypoint.to_owned())
            .part(
                "code",
                reqwest::multipart::Part::bytes(code).file_name("code.tar.gz"),
            )
            .text("activate", activate.to_string());
        send(
            self.request(Method::POST, &format!("/functions/{function}/deployments"))
                .multipart(form),
        )
        .await
    }

    /// Polls a deployment until its build is over; answers the deployment.
    pub async fn wait_for_build(&self, function: &str, deployment: &str) -> Value {
        for _ in 0..300 {
            let reply = self
                .get(&format!("/functions/{function}/deployments/{deployment}"))
                .await;
            let status = reply.body["status"].as_str().unwrap_or_default().to_owned();
            if status == "ready" || status == "failed" {
                return reply.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the build of {deployment} did not finish in 30 s");
    }

    /// Creates a Node function with `index.js`, deploys and activates it.
    pub async fn deployed_node(&self, id: &str, source: &str) -> String {
        self.create_function(id, id).await;
        let reply = self
            .upload(id, "index.js", archive(&[("index.js", source)]), true)
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        let deployment = reply.body["$id"]
            .as_str()
            .expect("deployment id")
            .to_owned();
        let built = self.wait_for_build(id, &deployment).await;
        assert_eq!(built["status"], "ready", "{built}");
        deployment
    }
}
