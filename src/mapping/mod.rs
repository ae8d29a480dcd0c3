//! Pure logic, no I/O: spec to ECS requests, what differs between spec and ECS, and status from
//! what ECS reports. Most of the unit tests live here.

pub mod autoscaling;
pub mod capacity_provider;
pub mod cluster;
pub mod conditions;
pub mod import;
pub mod schedule;
pub mod service;
pub mod tags;
pub mod task;
pub mod task_definition;
