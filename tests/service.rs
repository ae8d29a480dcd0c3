//! EcsService against the local environment.

mod harness;
mod support;
