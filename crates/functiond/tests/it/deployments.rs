//! Deployments: the upload protocol (whole and chunked), builds, activation, deletion.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, archive, redacted, send};

const HELLO: &str = "module.exports = async (req, res) => res.send('hello');";

#[tokio::test]
async fn upload_build_and_activate() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let reply = server
        .upload("fn1", "index.js", archive(&[("index.js", HELLO)]), false)
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    redacted().bind(
        || insta::assert_json_snapshot!("deployment_accepted", reply.body, {".size" => "[size]"}),
    );
    assert_eq!(reply.body["status"], "processing");
    assert_eq!(reply.body["resourceId"], "fn1");
    let id = reply.body["$id"].as_str().unwrap().to_owned();

    let built = server.wait_for_build("fn1", &id).await;
    assert_eq!(built["status"], "ready");
    assert_eq!(built["buildStdout"], "Build Successful!");
    assert_eq!(built["buildId"].as_str().map(str::len), Some(20));
    // Not activated: the upload said activate=false.
    assert_eq!(server.get("/functions/fn1").await.body["deployment"], "");

    let activated =
        send(server.request(Method::PATCH, &format!("/functions/fn1/deployments/{id}"))).await;
    assert_eq!(activated.status, StatusCode::OK);
    assert_eq!(activated.body["deployment"], id.as_str());
    assert_eq!(activated.body["name"], "Test");

    let listed = server.get("/functions/fn1/deployments").await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["deployments"][0]["status"], "ready");
    let by_entrypoint = server
        .get("/functions/fn1/deployments?queries[]=equal(%22entrypoint%22,%5B%22main.py%22%5D)")
        .await;
    assert_eq!(by_entrypoint.body["total"], 0);
    assert_eq!(
        server
            .get(&format!("/functions/fn1/deployments?search={id}"))
            .await
            .body["total"],
        1
    );
}

#[tokio::test]
async fn activate_on_upload_and_delete_resets_the_function() {
    let server = TestServer::start().await;
    let id = server.deployed_node("fn1", HELLO).await;
    assert_eq!(
        server.get("/functions/fn1").await.body["deployment"],
        id.as_str()
    );
    let deleted = server
        .delete(&format!("/functions/fn1/deployments/{id}"))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = server
        .get(&format!("/functions/fn1/deployments/{id}"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.error_type(), "deployment_not_found");
    assert_eq!(server.get("/functions/fn1").await.body["deployment"], "");
    let files = server
        .data_path()
        .join("files/deployments/default")
        .join(&id);
    assert!(!files.exists(), "{} still exists", files.display());
}

#[tokio::test]
async fn chunked_uploads_take_both_last_chunk_conventions() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let code = archive(&[("index.js", HELLO), ("padding.txt", &"x".repeat(50_000))]);
    let size = code.len();
    for sdk_style in [true, false] {
        let chunk = 1000;
        let mut id: Option<String> = None;
        let mut last = None;
        let mut start = 0;
        while start < size {
            let end = (start + chunk).min(size);
            // The SDKs send `end == size` on the last chunk; RFC 7233 says `size - 1`.
            let header_end = if end == size && sdk_style {
                size
            } else {
                end - 1
            };
            let form = reqwest::multipart::Form::new()
                .text("entrypoint", "index.js")
                .part(
                    "code",
                    reqwest::multipart::Part::bytes(code[start..end].to_vec())
                        .file_name("code.tar.gz"),
                )
                .text("activate", "true");
            let mut request = server
                .request(Method::POST, "/functions/fn1/deployments")
                .header(
                    "content-range",
                    format!("bytes {start}-{header_end}/{size}"),
                )
                .multipart(form);
            if let Some(id) = &id {
                request = request.header("x-appwrite-id", id);
            }
            let reply = send(request).await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
            let this = reply.body["$id"].as_str().unwrap().to_owned();
            assert_eq!(id.get_or_insert(this.clone()), &this);
            last = Some(reply.body);
            start = end;
        }
        let last = last.unwrap();
        assert_eq!(last["size"], size);
        assert_eq!(last["chunksUploaded"], size.div_ceil(chunk));
        let built = server.wait_for_build("fn1", id.as_ref().unwrap()).await;
        assert_eq!(built["status"], "ready", "{built}");
    }
}

#[tokio::test]
async fn upload_errors() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let code = archive(&[("index.js", HELLO)]);
    let cases: Vec<(reqwest::multipart::Form, Option<&str>, u16, &str)> = vec![
        (
            reqwest::multipart::Form::new().text("entrypoint", "index.js"),
            None,
            400,
            "storage_file_empty",
        ),
        (
            reqwest::multipart::Form::new()
                .text("entrypoint", "index.js")
                .part(
                    "code",
                    reqwest::multipart::Part::bytes(code.clone()).file_name("code.zip"),
                ),
            None,
            400,
            "storage_file_type_unsupported",
        ),
        (
            reqwest::multipart::Form::new().part(
                "code",
                reqwest::multipart::Part::bytes(code.clone()).file_name("code.tar.gz"),
            ),
            None,
            400,
            "general_argument_invalid",
        ),
        (
            reqwest::multipart::Form::new()
                .text("entrypoint", "index.js")
                .part(
                    "code",
                    reqwest::multipart::Part::bytes(code.clone()).file_name("code.tar.gz"),
                ),
            Some("bytes 5-2/10"),
            400,
            "storage_invalid_content_range",
        ),
        (
            reqwest::multipart::Form::new()
                .text("entrypoint", "index.js")
                .part(
                    "code",
                    reqwest::multipart::Part::bytes(code.clone()).file_name("code.tar.gz"),
                ),
            Some("bytes 0-9/999999999999"),
            400,
            "storage_invalid_file_size",
        ),
        (
            reqwest::multipart::Form::new()
                .text("entrypoint", "index.js")
                .part(
                    "code",
                    reqwest::multipart::Part::bytes(code.clone()).file_name("code.tar.gz"),
                ),
            Some("bytes 0-9/100"),
            400,
            "storage_invalid_content_range",
        ),
    ];
    for (form, range, status, error) in cases {
        let mut request = server
            .request(Method::POST, "/functions/fn1/deployments")
            .multipart(form);
        if let Some(range) = range {
            request = request.header("content-range", range);
        }
        let reply = send(request).await;
        assert_eq!(
            (reply.status.as_u16(), reply.error_type()),
            (status, error),
            "{range:?}: {}",
            reply.text
        );
    }
    let missing = server.upload("nope", "index.js", code, false).await;
    assert_eq!(missing.error_type(), "function_not_found");
    // Nothing refused was kept.
    let staging = server.data_path().join("files/staging");
    let left = std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "staged uploads left behind");
    assert_eq!(
        server.get("/functions/fn1/deployments").await.body["total"],
        0
    );
}

#[tokio::test]
async fn a_missing_entrypoint_fails_the_build_and_can_be_retried() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let reply = server
        .upload("fn1", "main.js", archive(&[("index.js", HELLO)]), true)
        .await;
    let id = reply.body["$id"].as_str().unwrap().to_owned();
    let built = server.wait_for_build("fn1", &id).await;
    assert_eq!(built["status"], "failed");
    let stderr = built["buildStderr"].as_str().unwrap();
    assert!(stderr.contains("main.js"), "{stderr}");
    assert_eq!(server.get("/functions/fn1").await.body["deployment"], "");

    let patch =
        send(server.request(Method::PATCH, &format!("/functions/fn1/deployments/{id}"))).await;
    assert_eq!(
        (patch.status.as_u16(), patch.error_type()),
        (400, "build_not_ready")
    );

    let build = built["buildId"].as_str().unwrap();
    let path = format!("/functions/fn1/deployments/{id}/builds/{build}");
    let retried = send(server.request(Method::POST, &path)).await;
    assert_eq!(retried.status, StatusCode::NO_CONTENT, "{}", retried.text);
    let again = server.wait_for_build("fn1", &id).await;
    assert_eq!(again["status"], "failed");
    assert_eq!(again["buildId"], build);

    let wrong_build = send(server.request(
        Method::POST,
        &format!("/functions/fn1/deployments/{id}/builds/other"),
    ))
    .await;
    assert_eq!(wrong_build.error_type(), "build_not_found");
}

#[tokio::test]
async fn a_ready_build_cannot_be_retried() {
    let server = TestServer::start().await;
    let id = server.deployed_node("fn1", HELLO).await;
    let build = server
        .get(&format!("/functions/fn1/deployments/{id}"))
        .await
        .body["buildId"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = send(server.request(
        Method::POST,
        &format!("/functions/fn1/deployments/{id}/builds/{build}"),
    ))
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error_type()),
        (400, "build_in_progress")
    );
    assert_eq!(reply.body["message"], "Build not failed");
}

#[tokio::test]
async fn a_deployment_of_another_function_is_not_found() {
    let server = TestServer::start().await;
    let id = server.deployed_node("fn1", HELLO).await;
    server.create_function("fn2", "Other").await;
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let reply =
            send(server.request(method.clone(), &format!("/functions/fn2/deployments/{id}"))).await;
        assert_eq!(reply.error_type(), "deployment_not_found", "{method}");
    }
    let _ = json!(null);
}

#[tokio::test]
async fn deleting_a_function_removes_its_deployment_files() {
    let server = TestServer::start().await;
    let id = server.deployed_node("fn1", HELLO).await;
    let files = server
        .data_path()
        .join("files/deployments/default")
        .join(&id);
    assert!(files.join("code/index.js").exists());
    assert_eq!(
        server.delete("/functions/fn1").await.status,
        StatusCode::NO_CONTENT
    );
    assert!(!files.exists(), "{} still exists", files.display());
}
