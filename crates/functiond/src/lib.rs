//! The functiond server: typed configuration, the command line, the wiring of every crate,
//! and graceful shutdown. Business rules live in `domain`; this crate only assembles.

pub mod app;
pub mod config;
mod error;
pub mod jwt;
pub mod serve;

pub use error::Error;
