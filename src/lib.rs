//! ecs-operator: AWS ECS clusters, task definitions and services reconciled from Kubernetes
//! custom resources.
//!
//! - [`api`]: the custom resources.
//! - [`mapping`]: pure logic: spec to ECS requests, drift, status from ECS output.
//! - [`ecs`]: the ECS access layer (clients, error classes, pacing, batching).
//! - [`controller`]: one controller per kind, and the reconcile pipeline they share.
//! - [`runtime`]: metrics, admin server, logs.
//! - [`operator`]: wires it all together.

pub mod api;
pub mod cli;
pub mod controller;
pub mod diff;
pub mod ecs;
pub mod error;
pub mod import;
pub mod mapping;
pub mod operator;
pub mod plugin;
pub mod runtime;

pub use error::{Error, Result};
