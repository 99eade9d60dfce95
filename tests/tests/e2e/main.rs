//! End-to-end tests: real harness binaries run as subprocesses against real HTTP servers on
//! 127.0.0.1. One test binary with modules, for build speed.

mod adaptive;
mod architecture;
mod basic;
mod cache;
mod calibration;
mod common;
mod concurrency;
mod datasets;
mod embedded;
mod faults;
mod html_report;
mod length_control;
mod listing;
mod llama_server;
mod nextest;
mod object_store;
mod probes;
mod providers;
mod readme;
mod reports;
mod security;
mod settings;
mod shards;
mod snapshots;
mod soak;
mod synthetic;
mod techniques;
mod terminal;
