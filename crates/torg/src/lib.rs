//! The `torg` binary's library: command line, configuration, demo data, key management.

pub mod billing;
pub mod cli;
pub mod config;
pub mod definitions;
pub mod demo;
pub mod demo_catalogue;
pub mod demo_office;
pub mod import;
pub mod keys;
pub mod log_writer;
pub mod users;
