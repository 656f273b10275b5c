//! Variables: round trips, key uniqueness, and encryption at rest.

use functiond_store::{Cipher, StoreError};
use functiond_types::query::ListQuery;
use sqlx::{Row, SqlitePool};

use crate::harness::{at, fid, function, project, stores, variable, vid};

#[tokio::test]
async fn variables_round_trip_in_creation_order() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        store
            .create_function(&p, &function("fn1", "One"), &[])
            .await
            .expect("create");
        store
            .create_function(&p, &function("fn2", "Two"), &[])
            .await
            .expect("create");
        // IDs and keys deliberately out of alphabetical order.
        let z = variable("fn1", "vz", "ZED", "last letter");
        let mut a = variable("fn1", "va", "ALPHA", "first letter");
        a.created_at = at(-100);
        let m = variable("fn1", "vm", "MIKE", "middle");
        for v in [&z, &a, &m] {
            store.create_variable(&p, v).await.expect("create variable");
        }

        let got = store.get_variable(&p, &fid("fn1"), &vid("va")).await;
        assert_eq!(got.expect("get"), Some(a.clone()));
        assert_eq!(
            store.list_variables(&p, &fid("fn1")).await.expect("list"),
            vec![z.clone(), a.clone(), m.clone()]
        );
        assert_eq!(
            store.list_variables(&p, &fid("fn2")).await.expect("list"),
            vec![]
        );
        assert_eq!(
            store.list_variables(&p, &fid("nope")).await.expect("list"),
            vec![]
        );

        // A variable is only reached through its own function.
        let got = store.get_variable(&p, &fid("fn2"), &vid("va")).await;
        assert_eq!(got.expect("get"), None);
        let got = store.get_variable(&p, &fid("fn1"), &vid("nope")).await;
        assert_eq!(got.expect("get"), None);

        // Update: key, value and updated_at change, the place in the list does not.
        let mut z2 = z.clone();
        z2.key = "ZULU".to_owned();
        z2.value = "changed".to_owned();
        z2.updated_at = at(500);
        assert!(store.update_variable(&p, &z2).await.expect("update"));
        let got = store.get_variable(&p, &fid("fn1"), &vid("vz")).await;
        assert_eq!(got.expect("get"), Some(z2.clone()));
        assert_eq!(
            store.list_variables(&p, &fid("fn1")).await.expect("list"),
            vec![z2.clone(), a.clone(), m.clone()]
        );
        let got = store.get_function(&p, &fid("fn1")).await.expect("get");
        assert_eq!(
            got.map(|f| f.vars),
            Some(vec![z2.clone(), a.clone(), m.clone()])
        );

        // Update of a missing variable, or through the wrong function: false, nothing changes.
        let missing = variable("fn1", "nope", "NOPE", "x");
        assert!(!store.update_variable(&p, &missing).await.expect("update"));
        let mut moved = a.clone();
        moved.function_id = fid("fn2");
        moved.value = "moved".to_owned();
        assert!(!store.update_variable(&p, &moved).await.expect("update"));
        let got = store.get_variable(&p, &fid("fn1"), &vid("va")).await;
        assert_eq!(got.expect("get"), Some(a.clone()));

        // Delete: through the wrong function nothing happens; then true, then false.
        assert!(
            !store
                .delete_variable(&p, &fid("fn2"), &vid("vm"))
                .await
                .expect("delete")
        );
        assert!(
            store
                .delete_variable(&p, &fid("fn1"), &vid("vm"))
                .await
                .expect("delete")
        );
        assert!(
            !store
                .delete_variable(&p, &fid("fn1"), &vid("vm"))
                .await
                .expect("delete")
        );
        assert_eq!(
            store.list_variables(&p, &fid("fn1")).await.expect("list"),
            vec![z2, a]
        );
    }
}

#[tokio::test]
async fn variable_keys_are_unique_per_function() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        store
            .create_function(&p, &function("fn1", "One"), &[])
            .await
            .expect("create");
        store
            .create_function(&p, &function("fn2", "Two"), &[])
            .await
            .expect("create");
        let first = variable("fn1", "v1", "API_KEY", "one");
        let other = variable("fn1", "v2", "OTHER", "two");
        store.create_variable(&p, &first).await.expect("create");
        store.create_variable(&p, &other).await.expect("create");

        // Same key on the same function: refused.
        let clash = variable("fn1", "v3", "API_KEY", "three");
        let error = store
            .create_variable(&p, &clash)
            .await
            .expect_err("same key");
        assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");

        // Renaming onto a taken key: refused, and the row keeps its old key and value.
        let mut rename = other.clone();
        rename.key = "API_KEY".to_owned();
        rename.value = "renamed".to_owned();
        let error = store
            .update_variable(&p, &rename)
            .await
            .expect_err("rename");
        assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");
        let got = store.get_variable(&p, &fid("fn1"), &vid("v2")).await;
        assert_eq!(got.expect("get"), Some(other.clone()));

        // Same key on another function: fine.
        let elsewhere = variable("fn2", "v4", "API_KEY", "four");
        store
            .create_variable(&p, &elsewhere)
            .await
            .expect("other function");
        // Keys compare exactly: another case is another key.
        let lower = variable("fn1", "v5", "api_key", "five");
        store.create_variable(&p, &lower).await.expect("other case");

        // A variable ID is unique within the project, whatever the function.
        let same_id = variable("fn2", "v1", "FRESH", "six");
        let error = store
            .create_variable(&p, &same_id)
            .await
            .expect_err("same id");
        assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");

        assert_eq!(
            store.list_variables(&p, &fid("fn1")).await.expect("list"),
            vec![first, other, lower]
        );
        assert_eq!(
            store.list_variables(&p, &fid("fn2")).await.expect("list"),
            vec![elsewhere]
        );
    }
}

/// 8192 characters, most of them several bytes long.
fn long_value() -> String {
    let value: String = "aé€😀".chars().cycle().take(8192).collect();
    assert_eq!(value.chars().count(), 8192);
    value
}

const SECRET: &str = "plaintext-s3cr3t-do-not-store";
const UNICODE: &str = "pässwörd — 秘密 🔑 \u{0} tab\tnewline\n\"quoted\" 'single' \\";

#[tokio::test]
async fn values_round_trip_exactly() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        store
            .create_function(&p, &function("fn1", "One"), &[])
            .await
            .expect("create");
        let values = [
            SECRET.to_owned(),
            UNICODE.to_owned(),
            long_value(),
            " ".to_owned(),
        ];
        for (i, value) in values.iter().enumerate() {
            let v = variable("fn1", &format!("v{i}"), &format!("K{i}"), value);
            store.create_variable(&p, &v).await.expect("create");
            let got = store
                .get_variable(&p, &fid("fn1"), &vid(&format!("v{i}")))
                .await;
            assert_eq!(got.expect("get").map(|v| v.value), Some(value.clone()));
        }
        let listed: Vec<String> = store
            .list_variables(&p, &fid("fn1"))
            .await
            .expect("list")
            .into_iter()
            .map(|v| v.value)
            .collect();
        assert_eq!(listed, values);

        // Updating to the long value and back round-trips too.
        let mut v = variable("fn1", "v0", "K0", &long_value());
        assert!(store.update_variable(&p, &v).await.expect("update"));
        let got = store.get_variable(&p, &fid("fn1"), &vid("v0")).await;
        assert_eq!(got.expect("get").map(|v| v.value), Some(long_value()));
        v.value = UNICODE.to_owned();
        assert!(store.update_variable(&p, &v).await.expect("update"));
        let got = store.get_variable(&p, &fid("fn1"), &vid("v0")).await;
        assert_eq!(got.expect("get").map(|v| v.value), Some(UNICODE.to_owned()));
    }
}

#[tokio::test]
async fn values_are_not_stored_in_clear() {
    for backend in stores().await {
        let store = backend.enter();
        let Some(file) = backend.sqlite_file() else {
            continue;
        };
        let p = project(store, "alpha").await;
        store
            .create_function(&p, &function("fn1", "One"), &[])
            .await
            .expect("create");
        let first = variable("fn1", "v1", "FIRST", SECRET);
        let second = variable("fn1", "v2", "SECOND", UNICODE);
        store.create_variable(&p, &first).await.expect("create");
        store.create_variable(&p, &second).await.expect("create");
        let mut updated = variable("fn1", "v3", "THIRD", "placeholder");
        store.create_variable(&p, &updated).await.expect("create");
        updated.value = format!("updated-{SECRET}");
        assert!(store.update_variable(&p, &updated).await.expect("update"));

        let raw = SqlitePool::connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("open the file directly");
        let rows = sqlx::query("SELECT id, value FROM variables ORDER BY id")
            .fetch_all(&raw)
            .await
            .expect("read values");
        let sealed: Vec<(String, Vec<u8>)> = rows
            .iter()
            .map(|row| (row.get("id"), row.get("value")))
            .collect();
        assert_eq!(sealed.len(), 3);
        let needles: [&[u8]; 4] = [
            SECRET.as_bytes(),
            "s3cr3t".as_bytes(),
            "秘密".as_bytes(),
            "pässwörd".as_bytes(),
        ];
        for (id, value) in &sealed {
            for needle in needles {
                assert!(
                    !value.windows(needle.len()).any(|w| w == needle),
                    "variable {id} holds {:?} in clear",
                    String::from_utf8_lossy(needle)
                );
            }
        }

        // A sealed value belongs to its row: copied onto another variable it no longer opens.
        sqlx::query("UPDATE variables SET value = (SELECT value FROM variables WHERE id = 'v1') WHERE id = 'v2'")
            .execute(&raw)
            .await
            .expect("move a ciphertext");
        raw.close().await;
        let error = store
            .get_variable(&p, &fid("fn1"), &vid("v2"))
            .await
            .expect_err("moved ciphertext");
        assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
        let got = store.get_variable(&p, &fid("fn1"), &vid("v1")).await;
        assert_eq!(got.expect("get").map(|v| v.value), Some(SECRET.to_owned()));
    }
}

#[tokio::test]
async fn another_secret_key_cannot_read_values() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        store
            .create_function(&p, &function("fn1", "One"), &[])
            .await
            .expect("create");
        store
            .create_function(&p, &function("fn2", "Two"), &[])
            .await
            .expect("create");
        let v = variable("fn1", "v1", "KEY", SECRET);
        store.create_variable(&p, &v).await.expect("create");

        let wrong = backend.reopen(Cipher::new([8; 32])).await;
        let corrupt = |error: StoreError| matches!(error, StoreError::Corrupt { .. });
        let got = wrong.get_variable(&p, &fid("fn1"), &vid("v1")).await;
        assert!(corrupt(got.expect_err("get_variable")));
        let got = wrong.list_variables(&p, &fid("fn1")).await;
        assert!(corrupt(got.expect_err("list_variables")));
        let got = wrong.get_function(&p, &fid("fn1")).await;
        assert!(corrupt(got.expect_err("get_function")));
        let got = wrong.list_functions(&p, &ListQuery::default()).await;
        assert!(corrupt(got.expect_err("list_functions")));

        // Rows without variables still read, and the right key still opens the value.
        let got = wrong.get_function(&p, &fid("fn2")).await.expect("get fn2");
        assert_eq!(got.map(|f| f.vars), Some(vec![]));
        let right = backend.reopen(crate::harness::cipher()).await;
        let got = right.get_variable(&p, &fid("fn1"), &vid("v1")).await;
        assert_eq!(got.expect("get"), Some(v));
    }
}
