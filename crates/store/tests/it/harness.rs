//! The backends the suite runs on, and small builders for the rows the tests write.
//!
//! Every test loops over [`stores`], so adding a backend here runs the whole suite on it.

use std::path::PathBuf;
use std::sync::Arc;

use functiond_store::{Cipher, Page, Store};
use functiond_types::Timestamp;
use functiond_types::function::{Function, FunctionWithVars};
use functiond_types::id::{FunctionId, ProjectId, VariableId};
use functiond_types::project::Project;
use functiond_types::query::{Direction, Filter, FilterOp, ListQuery, Order, Scalar};
use functiond_types::variable::Variable;

/// One backend under test: a fresh, empty database that lives as long as this value.
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    /// The URL the store was opened with, to open a second store on the same data.
    pub url: String,
    /// Removed when the test ends: the SQLite file lives in it.
    dir: tempfile::TempDir,
}

impl Backend {
    /// The store, after noting on stderr which backend the following assertions run on
    /// (cargo shows it beside a failing test's panic).
    pub fn enter(&self) -> &dyn Store {
        eprintln!("-- backend: {} ({})", self.name, self.url);
        &*self.store
    }

    /// A second store on the same data, sealing and opening variables with `cipher`.
    pub async fn reopen(&self, cipher: Cipher) -> Arc<dyn Store> {
        functiond_store::open(&self.url, cipher)
            .await
            .expect("reopen the store")
    }

    /// The database file, for the checks that read SQLite rows directly.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        (self.name == "sqlite").then(|| self.dir.path().join("t.db"))
    }
}

/// The key every test store seals variables with.
pub fn cipher() -> Cipher {
    Cipher::new([7; 32])
}

/// Every backend, freshly opened and not yet migrated.
pub async fn unmigrated() -> Vec<Backend> {
    // The PostgreSQL backend joins here (when `TEST_DATABASE_URL` is set) once it lands.
    vec![sqlite().await]
}

/// Every backend, freshly opened and migrated.
pub async fn stores() -> Vec<Backend> {
    let backends = unmigrated().await;
    for backend in &backends {
        backend.store.migrate().await.expect("migrate");
    }
    backends
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = functiond_store::open(&url, cipher())
        .await
        .expect("open sqlite");
    Backend {
        name: "sqlite",
        store,
        url,
        dir,
    }
}

/// An arbitrary fixed instant (2023-11-14T22:13:20Z) the fixtures count from.
pub const T0: i64 = 1_700_000_000_000;

/// `T0` plus `seconds`.
pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_millis(T0 + seconds * 1000)
}

pub fn pid(id: &str) -> ProjectId {
    ProjectId::parse(id).expect("project id")
}

pub fn fid(id: &str) -> FunctionId {
    FunctionId::parse(id).expect("function id")
}

pub fn vid(id: &str) -> VariableId {
    VariableId::parse(id).expect("variable id")
}

/// Creates the project `id` and returns its ID.
pub async fn project(store: &dyn Store, id: &str) -> ProjectId {
    let project = Project {
        id: pid(id),
        name: format!("Project {id}"),
        created_at: at(0),
    };
    store
        .create_project(&project)
        .await
        .expect("create project");
    project.id
}

/// A function with plain defaults: enabled, `node-20.0`, no schedule, 15 s timeout.
pub fn function(id: &str, name: &str) -> Function {
    Function {
        id: fid(id),
        created_at: at(1),
        updated_at: at(1),
        execute: Vec::new(),
        name: name.to_owned(),
        enabled: true,
        runtime: "node-20.0".to_owned(),
        deployment: String::new(),
        events: Vec::new(),
        schedule: String::new(),
        schedule_next: None,
        schedule_previous: None,
        schedule_updated_at: at(1),
        timeout: 15,
    }
}

pub fn variable(function: &str, id: &str, key: &str, value: &str) -> Variable {
    Variable {
        id: vid(id),
        function_id: fid(function),
        key: key.to_owned(),
        value: value.to_owned(),
        created_at: at(2),
        updated_at: at(2),
    }
}

/// A function as `get_function` and `list_functions` return it.
pub fn with_vars(function: &Function, vars: &[&Variable]) -> FunctionWithVars {
    FunctionWithVars {
        function: function.clone(),
        vars: vars.iter().map(|&v| v.clone()).collect(),
    }
}

pub fn filter(attribute: &'static str, op: FilterOp, values: Vec<Scalar>) -> Filter {
    Filter {
        attribute,
        op,
        values,
    }
}

pub fn asc(attribute: &'static str) -> Order {
    Order {
        attribute,
        direction: Direction::Asc,
    }
}

pub fn desc(attribute: &'static str) -> Order {
    Order {
        attribute,
        direction: Direction::Desc,
    }
}

/// The IDs of a page's functions, in order.
pub fn ids(page: &Page<FunctionWithVars>) -> Vec<String> {
    page.items
        .iter()
        .map(|item| item.function.id.to_string())
        .collect()
}

/// Lists and returns `(total, ids)`.
pub async fn list_ids(
    store: &dyn Store,
    project: &ProjectId,
    query: &ListQuery,
) -> (u64, Vec<String>) {
    let page = store
        .list_functions(project, query)
        .await
        .expect("list functions");
    (page.total, ids(&page))
}
