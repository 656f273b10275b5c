//! List runtimes.

use reqwest::StatusCode;

use crate::harness::TestServer;

#[tokio::test]
async fn lists_the_catalogue() {
    let server = TestServer::start().await;
    let reply = server.get("/functions/runtimes").await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_json_snapshot!("runtime_list", reply.body);
    assert_eq!(reply.body["total"], 2);
    let first = reply.body["runtimes"][0].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    for key in [
        "$id", "name", "version", "base", "image", "logo", "supports",
    ] {
        assert!(keys.contains(&key), "{key} missing");
    }
}
