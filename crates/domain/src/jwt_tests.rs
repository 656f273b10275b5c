//! The claim mapping and the checks of `jwt.rs`: signatures per algorithm, times with their
//! leeway, the project claim, and how claims become a user and their roles.

use serde_json::json;

use super::*;
use crate::caller::{Caller, Identity};

const SECRET: &[u8] = b"a test secret of enough length!!";
const NOW: i64 = 1_700_000_000;
const RSA_PRIVATE: &str = include_str!("../testdata/test-only-rsa.pem");
const RSA_PUBLIC: &str = include_str!("../testdata/test-only-rsa.pub.pem");
const EC_PRIVATE: &str = include_str!("../testdata/test-only-ec.pem");
const EC_PUBLIC: &str = include_str!("../testdata/test-only-ec.pub.pem");

fn project() -> ProjectId {
    ProjectId::parse("p1").unwrap()
}

fn hs256() -> JwtVerifier {
    JwtVerifier::new(Some(SECRET), None).unwrap().unwrap()
}

/// A token with exactly these claims, signed with the test secret.
fn token(claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn reason(result: Result<User>) -> String {
    match result {
        Err(Error::JwtInvalid { reason }) => reason,
        other => panic!("expected an invalid JWT, got {other:?}"),
    }
}

fn roles(user: User) -> Vec<String> {
    Caller {
        project: project(),
        identity: Identity::User(user),
    }
    .roles()
}

#[test]
fn appwrite_claims_make_an_unverified_user() {
    let user = hs256()
        .verify(
            &token(json!({"userId": "u1", "sessionId": "s1", "exp": NOW + 900})),
            &project(),
            NOW,
        )
        .unwrap();
    assert_eq!(
        roles(user),
        [
            "any",
            "users",
            "users/unverified",
            "user:u1",
            "user:u1/unverified"
        ]
    );
}

#[test]
fn verified_flags_and_memberships_map_to_roles() {
    for flag in ["emailVerification", "phoneVerification", "verified"] {
        let user = hs256()
            .verify(
                &token(json!({"sub": "u2", "exp": NOW, flag: true})),
                &project(),
                NOW,
            )
            .unwrap();
        assert!(user.verified, "{flag}");
    }
    let claims = json!({
        "userId": "u3",
        "exp": NOW + 60,
        "emailVerification": false,
        "memberships": [
            {"teamId": "t1", "roles": ["owner", "dev"], "membershipId": "m1"},
            {"teamId": "t2", "roles": []},
            {"teamId": "t3", "roles": ["owner"], "membershipId": "m3", "confirm": false},
        ],
    });
    let user = hs256().verify(&token(claims), &project(), NOW).unwrap();
    assert_eq!(
        roles(user),
        [
            "any",
            "users",
            "users/unverified",
            "user:u3",
            "user:u3/unverified",
            "team:t1",
            "team:t1/owner",
            "team:t1/dev",
            "member:m1",
            "team:t2",
        ]
    );
}

#[test]
fn expiry_is_required_and_forgives_ten_seconds() {
    let verify = |claims| hs256().verify(&token(claims), &project(), NOW);
    assert!(verify(json!({"userId": "u1", "exp": NOW - 10})).is_ok());
    assert_eq!(
        reason(verify(json!({"userId": "u1", "exp": NOW - 11}))),
        "The token has expired."
    );
    assert_eq!(
        reason(verify(json!({"userId": "u1"}))),
        "The token has no expiry (exp)."
    );
    assert!(verify(json!({"userId": "u1", "exp": NOW + 1, "nbf": NOW + 10})).is_ok());
    assert_eq!(
        reason(verify(
            json!({"userId": "u1", "exp": NOW + 60, "nbf": NOW + 11})
        )),
        "The token is not valid yet."
    );
}

#[test]
fn refuses_bad_signatures_shapes_and_claims() {
    let other = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"userId": "u1", "exp": NOW + 60}),
        &EncodingKey::from_secret(b"another secret, just as long!!!!"),
    )
    .unwrap();
    let verify = |token: &str| hs256().verify(token, &project(), NOW);
    assert_eq!(reason(verify(&other)), "Invalid signature.");
    assert_eq!(reason(verify("not-a-jwt")), "The token is malformed.");
    // An unsigned token (`alg: none`) never passes.
    let unsigned = format!(
        "{}.{}.",
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", "eyJ1c2VySWQiOiJ1MSIsImV4cCI6OTk5OTk5OTk5OX0"
    );
    assert!(verify(&unsigned).is_err());
    for (claims, expected) in [
        (
            json!({"exp": NOW}),
            "The token names no user (userId or sub).",
        ),
        (
            json!({"userId": "a", "sub": "b", "exp": NOW}),
            "The token's userId and sub name different users.",
        ),
        (
            json!({"userId": "_bad", "exp": NOW}),
            "Invalid user ID \"_bad\" in the token.",
        ),
        (
            json!({"userId": "u1", "exp": NOW, "memberships": [{"teamId": "t/1"}]}),
            "Invalid team ID \"t/1\" in the token.",
        ),
        (
            json!({"userId": "u1", "exp": NOW, "memberships": [{"teamId": "t1", "roles": ["a b"]}]}),
            "Invalid team role \"a b\" in the token.",
        ),
        (
            json!({"userId": "u1", "exp": NOW, "projectId": "p2"}),
            "The token is for project \"p2\".",
        ),
        (
            json!({"userId": "u1", "exp": "tomorrow"}),
            "The token's claims are malformed.",
        ),
    ] {
        assert_eq!(reason(verify(&token(claims))), expected);
    }
    assert!(
        verify(&token(
            json!({"userId": "u1", "exp": NOW, "projectId": "p1"})
        ))
        .is_ok()
    );
}

#[test]
fn public_keys_verify_their_own_algorithm_only() {
    let user = User {
        id: UserId::parse("u1").unwrap(),
        verified: true,
        memberships: Vec::new(),
    };
    for (private, public) in [(RSA_PRIVATE, RSA_PUBLIC), (EC_PRIVATE, EC_PUBLIC)] {
        let signer = JwtSigner::from_pem(private.as_bytes()).unwrap();
        let verifier = JwtVerifier::new(None, Some(public.as_bytes()))
            .unwrap()
            .unwrap();
        let token = signer.sign(&user, None, DEFAULT_TTL, NOW).unwrap();
        assert_eq!(verifier.verify(&token, &project(), NOW).unwrap(), user);
        // HS256 tokens need a secret this verifier does not have.
        let hs = JwtSigner::hs256(SECRET)
            .sign(&user, None, DEFAULT_TTL, NOW)
            .unwrap();
        assert!(reason(verifier.verify(&hs, &project(), NOW)).contains("HS256"));
    }
    // The RSA verifier refuses an ES256 token even though both are valid signatures.
    let es = JwtSigner::from_pem(EC_PRIVATE.as_bytes())
        .unwrap()
        .sign(&user, None, DEFAULT_TTL, NOW)
        .unwrap();
    let rsa = JwtVerifier::new(Some(SECRET), Some(RSA_PUBLIC.as_bytes()))
        .unwrap()
        .unwrap();
    assert!(reason(rsa.verify(&es, &project(), NOW)).contains("ES256"));
    assert!(JwtVerifier::new(None, Some(b"not a key")).is_err());
    assert!(JwtVerifier::new(None, None).unwrap().is_none());
}

#[test]
fn minted_tokens_round_trip() {
    let user = User {
        id: UserId::parse("u9").unwrap(),
        verified: false,
        memberships: vec![Membership {
            team: TeamId::parse("t1").unwrap(),
            roles: vec!["owner".into()],
            id: Some(MembershipId::parse("m1").unwrap()),
        }],
    };
    let token = JwtSigner::hs256(SECRET)
        .sign(&user, Some(&project()), Duration::from_secs(60), NOW)
        .unwrap();
    assert_eq!(hs256().verify(&token, &project(), NOW + 60).unwrap(), user);
    assert!(hs256().verify(&token, &project(), NOW + 71).is_err());
    let elsewhere = ProjectId::parse("p2").unwrap();
    assert!(hs256().verify(&token, &elsewhere, NOW).is_err());
}
