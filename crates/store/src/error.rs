//! What can go wrong in the store, in terms the domain can act on.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (an ID or a variable key already taken).
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    /// A list cursor names a row that does not exist.
    #[error("the cursor row {id} does not exist")]
    CursorNotFound { id: String },
    /// Stored data could not be read back (e.g. a variable that no longer decrypts with the
    /// configured secret key).
    #[error("stored data is unreadable: {message}")]
    Corrupt { message: String },
    #[error("database error: {source}")]
    Database {
        #[from]
        source: sqlx::Error,
    },
    #[error("database migration {version} failed: {source}")]
    Migration { version: i64, source: sqlx::Error },
    #[error("unsupported database URL \"{url}\": {reason}")]
    UnsupportedUrl { url: String, reason: &'static str },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
