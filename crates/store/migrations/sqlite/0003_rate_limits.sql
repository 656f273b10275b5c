-- Rate-limit counters: one row per project, key (e.g. `ip:1.2.3.4,userId:abc`) and fixed
-- window, so every server sharing the database shares the count.

CREATE TABLE rate_limits (
    project_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,      -- Unix milliseconds, a multiple of the window length
    hits         INTEGER NOT NULL,
    PRIMARY KEY (project_id, key, window_start)
) WITHOUT ROWID;
-- Old windows are deleted by age.
CREATE INDEX rate_limits_by_window ON rate_limits (window_start);
