//! JWT users through the API: who they are (claims to roles), what they may run (`execute`),
//! what they may read (their own executions), what the function learns of them, and the
//! origin check of keyless writes.

use functiond_domain::caller::{Membership, User};
use functiond_domain::jwt::JwtSigner;
use functiond_types::id::{MembershipId, TeamId, UserId};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, TestServer, send};

const SECRET: &str = "integration-test-jwt-secret";
const WHO: &str = r#"module.exports = async (req, res) => {
  console.log('only keys see this');
  res.json({ user: req.variables.APPWRITE_FUNCTION_USER_ID, jwt: req.variables.APPWRITE_FUNCTION_JWT });
};"#;

async fn server() -> TestServer {
    TestServer::start_with(|config| {
        config.access.jwt_secret = Some(SECRET.parse().expect("secret"));
        config.access.allowed_origins = vec!["https://app.example.com".into()];
    })
    .await
}

fn user(id: &str, verified: bool, teams: &[(&str, &str, &str)]) -> User {
    User {
        id: UserId::parse(id).expect("user id"),
        verified,
        memberships: teams
            .iter()
            .map(|(team, role, membership)| Membership {
                team: TeamId::parse(team).expect("team id"),
                roles: vec![(*role).to_owned()],
                id: Some(MembershipId::parse(membership).expect("membership id")),
            })
            .collect(),
    }
}

fn token(user: &User) -> String {
    let now = functiond_types::Timestamp::now().millis() / 1000;
    JwtSigner::hs256(SECRET.as_bytes())
        .sign(user, None, std::time::Duration::from_secs(900), now)
        .expect("token")
}

fn as_jwt(server: &TestServer, jwt: &str, method: Method, path: &str) -> RequestBuilder {
    server
        .bare(method, path)
        .header("x-appwrite-project", "default")
        .header("x-appwrite-jwt", jwt)
}

async fn execute(server: &TestServer, jwt: &str, function: &str, body: Value) -> Reply {
    let path = format!("/functions/{function}/executions");
    send(as_jwt(server, jwt, Method::POST, &path).json(&body)).await
}

async fn set_execute(server: &TestServer, function: &str, execute: Value) {
    let reply = server
        .put(
            &format!("/functions/{function}"),
            json!({"name": function, "execute": execute}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[tokio::test]
async fn a_user_runs_reads_back_only_their_own_executions() {
    let server = server().await;
    server.deployed_node("fn1", WHO).await;
    set_execute(&server, "fn1", json!(["users"])).await;
    let alice = token(&user("alice", false, &[]));
    let bob = token(&user("bob", false, &[]));

    let ran = execute(&server, &alice, "fn1", json!({})).await;
    assert_eq!(ran.status, StatusCode::CREATED, "{}", ran.text);
    assert_eq!(ran.body["$permissions"], json!([r#"read("user:alice")"#]));
    assert_eq!(ran.body["stdout"], "");
    // The function learns who ran it, and gets no JWT (reference §4.6).
    let seen: Value = serde_json::from_str(ran.body["response"].as_str().unwrap()).unwrap();
    assert_eq!(seen, json!({"user": "alice", "jwt": ""}));
    let id = ran.body["$id"].as_str().unwrap().to_owned();

    // An async run keeps the user for the worker.
    let queued = execute(&server, &bob, "fn1", json!({"async": true})).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.text);
    let queued_id = queued.body["$id"].as_str().unwrap().to_owned();
    let mut finished = Value::Null;
    for _ in 0..100 {
        finished = server
            .get(&format!("/functions/fn1/executions/{queued_id}"))
            .await
            .body;
        if finished["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(finished["status"], "completed", "{finished}");
    assert!(
        finished["response"]
            .as_str()
            .unwrap()
            .contains(r#""user":"bob""#)
    );
    assert_eq!(finished["stdout"], "only keys see this");

    // Each user lists and gets only their own; `total` counts only those; a key sees all.
    let listed = send(as_jwt(
        &server,
        &alice,
        Method::GET,
        "/functions/fn1/executions",
    ))
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["executions"][0]["$id"], id.as_str());
    assert_eq!(listed.body["executions"][0]["stdout"], "");
    let path = format!("/functions/fn1/executions/{id}");
    let own = send(as_jwt(&server, &alice, Method::GET, &path)).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["stdout"], "");
    let other = send(as_jwt(&server, &bob, Method::GET, &path)).await;
    assert_eq!(
        (other.status.as_u16(), other.error_type()),
        (404, "execution_not_found")
    );
    let bobs = send(as_jwt(
        &server,
        &bob,
        Method::GET,
        "/functions/fn1/executions",
    ))
    .await;
    assert_eq!(bobs.body["total"], 1);
    assert_eq!(bobs.body["executions"][0]["$id"], queued_id.as_str());
    let cursor = format!("/functions/fn1/executions?queries[]=cursorAfter(%22{id}%22)");
    let hidden_cursor = send(as_jwt(&server, &bob, Method::GET, &cursor)).await;
    assert_eq!(hidden_cursor.error_type(), "general_cursor_not_found");
    assert_eq!(
        server.get("/functions/fn1/executions").await.body["total"],
        2
    );

    // Users never touch functions.
    let functions = send(as_jwt(&server, &alice, Method::GET, "/functions")).await;
    assert_eq!(
        (functions.status.as_u16(), functions.error_type()),
        (401, "general_unauthorized_scope")
    );
    assert_eq!(
        functions.body["message"],
        "User (role: users) missing scope (functions.read)"
    );
}

#[tokio::test]
async fn execute_roles_decide_after_the_deployment_checks() {
    let server = server().await;
    server.create_function("bare", "No deployment").await;
    let alice = token(&user("alice", false, &[]));
    // Deployment before permission: 404, not 401.
    let none = execute(&server, &alice, "bare", json!({})).await;
    assert_eq!(
        (none.status.as_u16(), none.error_type()),
        (404, "deployment_not_found")
    );

    server
        .deployed_node(
            "fn1",
            "module.exports = async (req, res) => res.send('ok');",
        )
        .await;
    let verified_owner = token(&user("carol", true, &[("t1", "owner", "m1")]));
    let unverified = token(&user("dave", false, &[("t2", "member", "m2")]));
    let cases = [
        (json!([]), [false, false]),
        (json!(["any"]), [true, true]),
        (json!(["guests"]), [false, false]),
        (json!(["user:dave"]), [false, true]),
        (json!(["users/verified"]), [true, false]),
        (json!(["user:dave/unverified"]), [false, true]),
        (json!(["team:t1"]), [true, false]),
        (json!(["team:t1/owner"]), [true, false]),
        (json!(["team:t2/owner"]), [false, false]),
        (json!(["member:m2"]), [false, true]),
    ];
    for (roles, expected) in cases {
        set_execute(&server, "fn1", roles.clone()).await;
        for (jwt, allowed) in [&verified_owner, &unverified].into_iter().zip(expected) {
            let reply = execute(&server, jwt, "fn1", json!({})).await;
            if allowed {
                assert_eq!(reply.status, StatusCode::CREATED, "{roles}: {}", reply.text);
            } else {
                assert_eq!(
                    (reply.status.as_u16(), reply.error_type()),
                    (401, "user_unauthorized"),
                    "{roles}"
                );
            }
        }
    }
    // A key needs no role.
    let by_key = server.post("/functions/fn1/executions", json!({})).await;
    assert_eq!(by_key.status, StatusCode::CREATED);
    assert_eq!(by_key.body["$permissions"], json!([]));
}

#[tokio::test]
async fn bad_expired_or_unexpected_jwts_are_refused() {
    let server = server().await;
    let forged = JwtSigner::hs256(b"some other secret entirely")
        .sign(
            &user("alice", true, &[]),
            None,
            std::time::Duration::from_secs(900),
            functiond_types::Timestamp::now().millis() / 1000,
        )
        .unwrap();
    let expired = JwtSigner::hs256(SECRET.as_bytes())
        .sign(
            &user("alice", true, &[]),
            None,
            std::time::Duration::from_secs(60),
            functiond_types::Timestamp::now().millis() / 1000 - 3600,
        )
        .unwrap();
    for (jwt, reason) in [
        (forged.as_str(), "Invalid signature."),
        (expired.as_str(), "The token has expired."),
        ("garbage", "The token is malformed."),
    ] {
        let reply = send(as_jwt(&server, jwt, Method::GET, "/functions/x/executions")).await;
        assert_eq!(
            (reply.status.as_u16(), reply.error_type()),
            (401, "user_jwt_invalid")
        );
        assert_eq!(
            reply.body["message"],
            format!("Failed to verify JWT. {reason}")
        );
    }
    // A valid JWT beside a key names the user, as a session would in Appwrite.
    let alice = token(&user("alice", false, &[]));
    let both = send(
        as_jwt(&server, &alice, Method::GET, "/functions").header("x-appwrite-key", &server.key),
    )
    .await;
    assert_eq!(both.error_type(), "general_unauthorized_scope");

    // A server with no JWT key refuses every JWT, and says why.
    let plain = TestServer::start().await;
    let reply = send(as_jwt(
        &plain,
        &alice,
        Method::GET,
        "/functions/x/executions",
    ))
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error_type()),
        (401, "user_jwt_invalid")
    );
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Failed to verify JWT. This server accepts no JWTs"),
        "{}",
        reply.text
    );
    // An empty header is no JWT at all.
    let empty = send(as_jwt(&plain, "", Method::GET, "/functions")).await;
    assert_eq!(empty.error_type(), "general_unauthorized_scope");
}

#[tokio::test]
async fn keyless_writes_from_unknown_origins_are_refused() {
    let server = server().await;
    server
        .deployed_node(
            "fn1",
            "module.exports = async (req, res) => res.send('ok');",
        )
        .await;
    set_execute(&server, "fn1", json!(["any"])).await;
    let alice = token(&user("alice", false, &[]));
    let guest = |origin: &str| {
        server
            .bare(Method::POST, "/functions/fn1/executions")
            .header("x-appwrite-project", "default")
            .header("origin", origin)
            .json(&json!({}))
    };

    let refused = send(guest("https://evil.example")).await;
    assert_eq!(
        (refused.status.as_u16(), refused.error_type()),
        (403, "general_unknown_origin")
    );
    let refused = send(
        as_jwt(&server, &alice, Method::POST, "/functions/fn1/executions")
            .header("origin", "https://evil.example")
            .json(&json!({})),
    )
    .await;
    assert_eq!(refused.error_type(), "general_unknown_origin");

    // Allowed, same-origin, absent: all pass.
    assert_eq!(
        send(guest("https://app.example.com")).await.status,
        StatusCode::CREATED
    );
    let own = server.base.trim_end_matches("/v1").to_owned();
    assert_eq!(send(guest(&own)).await.status, StatusCode::CREATED);
    let bare = send(
        server
            .bare(Method::POST, "/functions/fn1/executions")
            .header("x-appwrite-project", "default")
            .json(&json!({})),
    )
    .await;
    assert_eq!(bare.status, StatusCode::CREATED);
    // Reads are not checked, and keys never are.
    let read = send(
        as_jwt(&server, &alice, Method::GET, "/functions/fn1/executions")
            .header("origin", "https://evil.example"),
    )
    .await;
    assert_eq!(read.status, StatusCode::OK);
    let by_key = send(
        server
            .request(Method::POST, "/functions/fn1/executions")
            .header("origin", "https://evil.example")
            .json(&json!({})),
    )
    .await;
    assert_eq!(by_key.status, StatusCode::CREATED);
}
