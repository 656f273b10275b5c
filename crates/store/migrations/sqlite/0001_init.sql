-- Projects, API keys, functions and their variables.
-- Times are integer milliseconds since the Unix epoch (UTC); `seq` is the creation order that
-- lists default to and that cursors tie-break on.

CREATE TABLE projects (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY NOT NULL,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    -- The first characters of the secret, kept in clear to find the row; the rest is only hashed.
    prefix      TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    scopes      TEXT NOT NULL,          -- JSON array of scope names
    expire      INTEGER,
    created_at  INTEGER NOT NULL
);

CREATE TABLE functions (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id          TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    id                  TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    execute             TEXT NOT NULL,  -- JSON array of role strings
    name                TEXT NOT NULL,
    enabled             INTEGER NOT NULL,
    runtime             TEXT NOT NULL,
    deployment          TEXT NOT NULL,
    events              TEXT NOT NULL,  -- JSON array of event names
    schedule            TEXT NOT NULL,
    schedule_next       INTEGER,
    schedule_previous   INTEGER,
    schedule_updated_at INTEGER NOT NULL,
    timeout             INTEGER NOT NULL,
    search              TEXT NOT NULL,
    UNIQUE (project_id, id)
);

CREATE TABLE variables (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  TEXT NOT NULL,
    function_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    key         TEXT NOT NULL,
    value       BLOB NOT NULL,          -- nonce || AEAD ciphertext
    UNIQUE (project_id, id),
    UNIQUE (project_id, function_id, key),
    FOREIGN KEY (project_id, function_id) REFERENCES functions(project_id, id) ON DELETE CASCADE
);
