//! The `yui` program: configuration, telemetry, tenant files, demo data and the
//! command line. `main.rs` only calls [`cli::run`]; tests use the same pieces.

pub mod backup;
pub mod cli;
pub mod config;
pub mod demo;
pub mod telemetry;
pub mod tenants;
