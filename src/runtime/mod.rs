//! What runs around the controllers: metrics, the admin server, logging.

pub mod admin;
pub mod metrics;
pub mod telemetry;
