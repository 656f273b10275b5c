//! The rate limit of Create Execution through the API: headers on every answer of the route
//! (keys and errors included), counting per client IP and user, refusals with 429, keys never
//! limited or counted, trusted proxies, and the settings that turn it off.

use std::time::Duration;

use functiond_domain::caller::User;
use functiond_domain::jwt::JwtSigner;
use functiond_types::id::UserId;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::json;

use crate::harness::{Reply, TestServer, send};

const SECRET: &str = "rate-limit-test-jwt-secret";
const WINDOW: u64 = 3600;

/// Waits out the end of the current window when it is close, so one test's calls all fall in
/// one window.
async fn fresh_window(window: u64) {
    let now = functiond_types::Timestamp::now().millis() / 1000;
    let left = window - now.unsigned_abs() % window;
    if left < 5 {
        tokio::time::sleep(Duration::from_secs(left + 1)).await;
    }
}

async fn limited(limit: u64, proxies: &str) -> TestServer {
    let proxies: Vec<_> = proxies
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().expect("proxy"))
        .collect();
    let server = TestServer::start_with(|config| {
        config.access.jwt_secret = Some(SECRET.parse().expect("secret"));
        config.access.rate_limit.limit = limit;
        config.access.rate_limit.window = Duration::from_secs(WINDOW);
        config.access.trusted_proxies = functiond_api::client_ip::TrustedProxies(proxies);
    })
    .await;
    // No deployment: every call is a 404, and still counts.
    server.create_function("fn1", "Limited").await;
    fresh_window(WINDOW).await;
    server
}

fn jwt(user: &str) -> String {
    let user = User {
        id: UserId::parse(user).expect("user id"),
        verified: false,
        memberships: Vec::new(),
    };
    let now = functiond_types::Timestamp::now().millis() / 1000;
    JwtSigner::hs256(SECRET.as_bytes())
        .sign(&user, None, Duration::from_secs(900), now)
        .expect("token")
}

fn guest(server: &TestServer) -> RequestBuilder {
    server
        .bare(Method::POST, "/functions/fn1/executions")
        .header("x-appwrite-project", "default")
        .json(&json!({}))
}

/// The (limit, remaining, reset) headers of a reply.
fn headers(reply: &Reply) -> Option<(u64, u64, i64)> {
    let value = |name: &str| reply.headers.get(name)?.to_str().ok()?.parse::<i64>().ok();
    Some((
        value("x-ratelimit-limit")?.unsigned_abs(),
        value("x-ratelimit-remaining")?.unsigned_abs(),
        value("x-ratelimit-reset")?,
    ))
}

fn remaining(reply: &Reply) -> u64 {
    headers(reply).expect("rate-limit headers").1
}

#[tokio::test]
async fn guests_and_users_are_counted_and_refused_past_the_limit() {
    let server = limited(3, "").await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let reply = send(guest(&server)).await;
        assert_eq!(reply.error_type(), "deployment_not_found");
        seen.push(remaining(&reply));
    }
    assert_eq!(seen, [2, 1, 0]);
    let refused = send(guest(&server)).await;
    assert_eq!(
        (refused.status.as_u16(), refused.error_type()),
        (429, "general_rate_limit_exceeded")
    );
    let (limit, left, reset) = headers(&refused).expect("headers on the 429");
    assert_eq!((limit, left), (3, 0));
    let now = functiond_types::Timestamp::now().millis() / 1000;
    assert_eq!(
        reset % i64::try_from(WINDOW).unwrap(),
        0,
        "reset ends a window"
    );
    assert!(reset > now && reset <= now + i64::try_from(WINDOW).unwrap());

    // A user has a bucket of their own; so does every other user.
    let alice = jwt("alice");
    let as_alice = || guest(&server).header("x-appwrite-jwt", alice.as_str());
    for expected in [2, 1, 0] {
        assert_eq!(remaining(&send(as_alice()).await), expected);
    }
    assert_eq!(send(as_alice()).await.status, StatusCode::TOO_MANY_REQUESTS);
    let bob = send(guest(&server).header("x-appwrite-jwt", jwt("bob"))).await;
    assert_eq!(bob.error_type(), "deployment_not_found");

    // Keys are never refused nor counted, but see their bucket (IP + no user: the guests').
    for _ in 0..3 {
        let by_key = server.post("/functions/fn1/executions", json!({})).await;
        assert_eq!(by_key.error_type(), "deployment_not_found");
        assert_eq!(headers(&by_key).map(|h| h.1), Some(0));
    }
    // Other routes carry no rate-limit headers.
    assert_eq!(
        headers(&server.get("/functions/fn1/executions").await),
        None
    );
    // Failed credentials are answered before counting.
    let unknown = send(
        server
            .bare(Method::POST, "/functions/fn1/executions")
            .header("x-appwrite-project", "nope"),
    )
    .await;
    assert_eq!(unknown.error_type(), "project_not_found");
    assert_eq!(headers(&unknown), None);
}

#[tokio::test]
async fn keys_alone_count_nothing() {
    let server = limited(2, "").await;
    for _ in 0..5 {
        let by_key = server.post("/functions/fn1/executions", json!({})).await;
        assert_eq!(headers(&by_key).map(|h| (h.0, h.1)), Some((2, 1)));
    }
    assert_eq!(remaining(&send(guest(&server)).await), 1);
}

#[tokio::test]
async fn forwarded_addresses_count_only_through_trusted_proxies() {
    // The test client connects from 127.0.0.1.
    let trusted = limited(1, "127.0.0.0/8").await;
    let from = |ip: &str| guest(&trusted).header("x-forwarded-for", format!("{ip}, 10.0.0.1"));
    assert_eq!(remaining(&send(from("203.0.113.1")).await), 0);
    assert_eq!(
        send(from("203.0.113.1")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send(from("203.0.113.2")).await.error_type(),
        "deployment_not_found"
    );

    let untrusted = limited(1, "10.0.0.0/8").await;
    let from = |ip: &str| guest(&untrusted).header("x-forwarded-for", ip.to_owned());
    assert_eq!(
        send(from("203.0.113.1")).await.error_type(),
        "deployment_not_found"
    );
    // Another claimed address does not help: the peer (127.0.0.1) is what counts.
    assert_eq!(
        send(from("203.0.113.2")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_limit_defaults_to_60_a_minute_and_can_be_turned_off() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Default").await;
    fresh_window(60).await;
    let first = send(guest(&server)).await;
    let (limit, left, reset) = headers(&first).expect("headers");
    assert_eq!((limit, left), (60, 59));
    assert_eq!(reset % 60, 0);

    let unenforced = TestServer::start_with(|config| {
        config.access.rate_limit.limit = 1;
        config.access.rate_limit.enforce = false;
    })
    .await;
    unenforced.create_function("fn1", "Unenforced").await;
    for _ in 0..3 {
        let reply = send(guest(&unenforced)).await;
        assert_eq!(reply.error_type(), "deployment_not_found");
        assert_eq!(headers(&reply).map(|h| (h.0, h.1)), Some((1, 0)));
    }

    let off = TestServer::start_with(|config| config.access.rate_limit.limit = 0).await;
    off.create_function("fn1", "Off").await;
    let reply = send(guest(&off)).await;
    assert_eq!(reply.error_type(), "deployment_not_found");
    assert_eq!(headers(&reply), None);
}
