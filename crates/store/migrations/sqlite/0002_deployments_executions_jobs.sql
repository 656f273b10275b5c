-- Deployments with their builds, executions, and the durable jobs queue.

CREATE TABLE deployments (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      TEXT NOT NULL,
    function_id     TEXT NOT NULL,
    id              TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    entrypoint      TEXT NOT NULL,
    size            INTEGER NOT NULL,
    build_id        TEXT NOT NULL,      -- '' until the build job starts
    activate        INTEGER NOT NULL,
    chunks_total    INTEGER NOT NULL,
    chunks_uploaded INTEGER NOT NULL,
    search          TEXT NOT NULL,
    UNIQUE (project_id, id),
    FOREIGN KEY (project_id, function_id) REFERENCES functions(project_id, id) ON DELETE CASCADE
);
CREATE INDEX deployments_by_function ON deployments (project_id, function_id, seq);

CREATE TABLE builds (
    project_id    TEXT NOT NULL,
    id            TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    stdout        TEXT NOT NULL,
    stderr        TEXT NOT NULL,
    duration      INTEGER NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, deployment_id) REFERENCES deployments(project_id, id) ON DELETE CASCADE
);

CREATE TABLE executions (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    TEXT NOT NULL,
    function_id   TEXT NOT NULL,
    id            TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    permissions   TEXT NOT NULL,        -- JSON array
    trigger_name  TEXT NOT NULL,
    status        TEXT NOT NULL,
    status_code   INTEGER NOT NULL,
    response      TEXT NOT NULL,
    stdout        TEXT NOT NULL,
    stderr        TEXT NOT NULL,
    duration      REAL NOT NULL,
    search        TEXT NOT NULL,
    UNIQUE (project_id, id),
    FOREIGN KEY (project_id, function_id) REFERENCES functions(project_id, id) ON DELETE CASCADE
);
CREATE INDEX executions_by_function ON executions (project_id, function_id, seq);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    run_at      INTEGER NOT NULL,
    dedupe_key  TEXT UNIQUE,
    attempts    INTEGER NOT NULL DEFAULT 0,
    locked_by   TEXT,
    lease_until INTEGER
);
CREATE INDEX jobs_due ON jobs (run_at, id);
