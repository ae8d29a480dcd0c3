//! What runs around the controllers: metrics, the admin server, logging, leadership.

pub mod admin;
pub mod leadership;
pub mod metrics;
pub mod telemetry;
