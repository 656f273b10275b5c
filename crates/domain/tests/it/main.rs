//! The domain's use cases over a real SQLite store, with a fake invoker (no processes) and an
//! injected clock, so that schedules and events can be driven minute by minute without waiting.

mod events;
mod harness;
mod schedules;
