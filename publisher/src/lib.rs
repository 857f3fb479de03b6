//! Crier's publishing engine.
//!
//! One [`run`] per worker process. It claims due deliveries in batches (one statement each,
//! `FOR UPDATE SKIP LOCKED`), publishes them concurrently with no transaction open, and writes
//! their outcomes in batches (one statement for a batch's deliveries, attempts and audit events).
//! What happens to one delivery is decided in [`attempt`]; tokens are refreshed single-flight per
//! account across processes by the accounts service (`crier_accounts`); an attempt whose outcome
//! is unknown is settled by [`reconcile`] before anything is published again; [`media`] uploads a
//! delivery's media inside its attempt;
//! `crier_domain::retry` spaces the retries.
//!
//! Why not one job-queue job per delivery: a job queue's own fetch, lock and acknowledgement
//! would double the round trips of every delivery, and its retry layer has no durable backoff.
//! The delivery row already is a durable outbox written in the post's transaction, so it is the
//! queue. (apalis still runs the periodic housekeeping, see `crier`'s worker module.)
//!
//! The same process sends the team's webhooks ([`webhooks::run`]): calls queued by a trigger on
//! the audit trail, claimed, signed and sent the same way, with their own retries.

pub mod attempt;
pub mod engine;
pub mod feeds;
pub mod first_comments;
pub mod media;
pub mod notify;
mod queue;
pub mod reconcile;
pub mod telemetry;
pub mod webhooks;

pub use engine::{Context, EngineStats, PublisherConfig, run, step};
pub use media::{DEFAULT_UPLOAD_MEMORY, FacebookVideoRoute, MediaSettings, UploadMemory};
