//! llama-cpp-python's OpenAI-compatible server on 127.0.0.1: a judge server that nobody here
//! wrote, so the OpenAI provider is tested against someone else's reading of the wire format.
//!
//! Install it with `pip install -r tests/requirements-llama-server.txt` (it compiles llama.cpp).
//! The server takes the chat template from the GGUF's `tokenizer.chat_template` when no
//! `--chat_format` is given, which is right for SmolLM2 (ChatML with its own default system
//! prompt), so none is passed.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use crate::plain_http::HttpReply;
use crate::plain_http::{free_port, http};
use crate::python::{log_tail, python_module_installed, python3};

/// How long the server may take to load its model and answer `GET /v1/models`.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether `python3 -c "import llama_cpp.server"` succeeds, i.e. whether the server can start.
pub fn llama_cpp_python_installed() -> bool {
    python_module_installed("llama_cpp.server")
}

/// A running `python3 -m llama_cpp.server` serving one model under an alias. Dropping it kills
/// the process and waits for it.
#[derive(Debug)]
pub struct LlamaServer {
    child: Child,
    port: u16,
    alias: String,
    log: PathBuf,
}

impl LlamaServer {
    /// Starts the server on a free port of 127.0.0.1 with `model` (a GGUF file) served as `alias`,
    /// its stdout and stderr going to `log`, and waits until it answers (at most
    /// [`STARTUP_TIMEOUT`]). The error says why, with the log.
    pub fn start(model: &Path, alias: &str, log: &Path) -> Result<Self, String> {
        let port = free_port().map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
        let stderr = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let stdout = stderr.try_clone().map_err(|e| format!("cannot share {}: {e}", log.display()))?;
        let child = python3()
            .args(["-m", "llama_cpp.server", "--model"])
            .arg(model)
            .args(["--model_alias", alias, "--host", "127.0.0.1", "--port", &port.to_string(), "--n_ctx", "4096"])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("python3 does not start: {e}"))?;
        // From here on, an early return drops the server, which kills the process.
        let mut server = Self { child, port, alias: alias.to_owned(), log: log.to_owned() };
        server.wait_until_ready(STARTUP_TIMEOUT)?;
        Ok(server)
    }

    fn wait_until_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the server exited ({status}) before answering\n{}", self.log()));
            }
            if self.get("/models").is_ok_and(|reply| reply.status == 200) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("the server did not answer GET /v1/models within {timeout:?}\n{}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The base URL, as `OPENAI_BASE_URL` takes it: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The name the model is served under (the `model` of a request).
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// The end of what the server has printed so far (requests, tracebacks), for assertion
    /// messages; the whole log is at the path given to [`LlamaServer::start`].
    pub fn log(&self) -> String {
        log_tail("llama-cpp-python's server", &self.log, 40)
    }

    /// `GET {base_url}{path}`.
    pub fn get(&self, path: &str) -> std::io::Result<HttpReply> {
        http(self.port, "GET", &format!("/v1{path}"), b"")
    }

    /// `POST {base_url}{path}` with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> std::io::Result<HttpReply> {
        http(self.port, "POST", &format!("/v1{path}"), body.to_string().as_bytes())
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
