//! llama-cpp-python's OpenAI-compatible server on 127.0.0.1: a judge server that nobody here
//! wrote, so the OpenAI provider is tested against someone else's reading of the wire format.
//!
//! Install it with `pip install -r tests/requirements-llama-server.txt` (it compiles llama.cpp).
//! The server takes the chat template from the GGUF's `tokenizer.chat_template` when no
//! `--chat_format` is given, which is right for SmolLM2 (ChatML with its own default system
//! prompt), so none is passed.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long the server may take to load its model and answer `GET /v1/models`.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// How long one request may take: a completion with logprobs on a busy two-core machine is slow.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Whether `python3 -c "import llama_cpp.server"` succeeds, i.e. whether the server can start.
pub fn llama_cpp_python_installed() -> bool {
    python3()
        .args(["-c", "import llama_cpp.server"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `python3` with only the variables Python needs to find itself and its packages. The server
/// reads its settings from the environment too (`HOST` and `PORT` even win over the command
/// line, and `API_KEY` would demand a key), so nothing else is passed on.
fn python3() -> Command {
    let mut command = Command::new("python3");
    command.env_clear();
    for (key, value) in std::env::vars_os() {
        let Some(name) = key.to_str() else { continue };
        let kept = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH", "VIRTUAL_ENV"].contains(&name)
            || ["PYTHON", "PYENV_", "CONDA_", "LLAMA_CPP_LIB"].iter().any(|prefix| name.starts_with(prefix));
        if kept {
            command.env(key, value);
        }
    }
    command
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
        const LINES: usize = 40;
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(LINES)..].join("\n");
        format!("--- the last {LINES} lines of llama-cpp-python's server log {}\n{tail}", self.log.display())
    }

    /// `GET {base_url}{path}`.
    pub fn get(&self, path: &str) -> std::io::Result<HttpReply> {
        http(self.port, "GET", &format!("/v1{path}"), "")
    }

    /// `POST {base_url}{path}` with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> std::io::Result<HttpReply> {
        http(self.port, "POST", &format!("/v1{path}"), &body.to_string())
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// The body, decoded from chunked transfer encoding where it was chunked.
    pub body: String,
}

impl HttpReply {
    /// The body as JSON, or `Value::Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One HTTP/1.1 request on a fresh connection that the server closes after answering: enough
/// for a test, without an HTTP client among the dependencies.
fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<HttpReply> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, payload) = raw.split_once("\r\n\r\n").ok_or_else(|| invalid("no end of headers"))?;
    let status =
        head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).ok_or_else(|| invalid("no status code"))?;
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked { dechunk(payload).ok_or_else(|| invalid("bad chunked body"))? } else { payload.to_owned() };
    Ok(HttpReply { status, body })
}

fn dechunk(mut payload: &str) -> Option<String> {
    let mut body = String::new();
    loop {
        let (size, rest) = payload.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.push_str(rest.get(..size)?);
        payload = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks_a_chunked_body() {
        assert_eq!(dechunk("4\r\n{\"a\"\r\n3;ext\r\n:1}\r\n0\r\n\r\n").as_deref(), Some("{\"a\":1}"));
        assert_eq!(dechunk("9\r\nshort\r\n"), None);
    }
}
