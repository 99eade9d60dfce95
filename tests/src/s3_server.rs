//! moto's S3-compatible server on 127.0.0.1: an object store that nobody here wrote, for the
//! verdict cache on an object store (`JUDGE_CACHE_DIR=s3://…`).
//!
//! Install it with `pip install -r tests/requirements-s3.txt` (`moto[server]`). It accepts any
//! credentials until told to check them ([`S3Server::check_credentials`]), then knows none.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::plain_http::{HttpReply, free_port, http};
use crate::python::{log_tail, python_module_installed, python3};

/// How long the server may take to start answering.
pub const S3_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `python3 -c "import moto.server"` succeeds (and with it the server's dependencies).
pub fn moto_installed() -> bool {
    python_module_installed("moto.server, flask")
}

/// A running `python3 -m moto.server`. Dropping it kills the process and waits for it.
#[derive(Debug)]
pub struct S3Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl S3Server {
    /// Starts the server on a free port of 127.0.0.1, its output going to `log`, and waits until it
    /// answers (at most [`S3_STARTUP_TIMEOUT`]). The error says why, with the log.
    pub fn start(log: &Path) -> Result<Self, String> {
        let port = free_port().map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
        let stderr = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let stdout = stderr.try_clone().map_err(|e| format!("cannot share {}: {e}", log.display()))?;
        let child = python3()
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("python3 does not start: {e}"))?;
        // From here on, an early return drops the server, which kills the process.
        let mut server = Self { child, port, log: log.to_owned() };
        let deadline = Instant::now() + S3_STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("moto's server exited ({status}) before answering\n{}", server.log()));
            }
            if server.request("GET", "/moto-api/data.json", b"").is_ok_and(|reply| reply.status == 200) {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                return Err(format!("moto's server did not answer within {S3_STARTUP_TIMEOUT:?}\n{}", server.log()));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The endpoint, as `AWS_ENDPOINT_URL` takes it: `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates `bucket` (the cache does not create buckets), with a policy that lets this helper's
    /// unsigned requests read and write its objects (the cache's own requests are signed).
    pub fn create_bucket(&self, bucket: &str) {
        let reply = self.request("PUT", &format!("/{bucket}"), b"").expect("moto's server answers");
        assert_eq!(reply.status, 200, "creating the bucket {bucket}: {}", reply.body);
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            }],
        });
        let reply = self
            .request("PUT", &format!("/{bucket}?policy"), policy.to_string().as_bytes())
            .expect("moto's server answers");
        assert!(matches!(reply.status, 200 | 204), "the policy of {bucket}: {}", reply.body);
    }

    /// Whether `bucket` exists.
    pub fn bucket_exists(&self, bucket: &str) -> bool {
        let reply = self.request("HEAD", &format!("/{bucket}"), b"").expect("moto's server answers");
        reply.status == 200
    }

    /// From now on, requests must be signed with credentials the server knows, and it knows none:
    /// every request of a client is refused as a real store refuses bad credentials.
    pub fn check_credentials(&self) {
        let reply = self.request("POST", "/moto-api/reset-auth", b"0").expect("moto's server answers");
        assert_eq!(reply.status, 200, "{}", reply.body);
    }

    /// The keys of the objects in `bucket` under `prefix`, sorted (the first 1000).
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let reply =
            self.request("GET", &format!("/{bucket}?list-type=2&prefix={prefix}"), b"").expect("moto's server answers");
        assert_eq!(reply.status, 200, "listing {bucket}: {}", reply.body);
        let mut keys: Vec<String> = reply
            .body
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect();
        keys.sort();
        keys
    }

    /// The object `key` of `bucket`.
    pub fn object(&self, bucket: &str, key: &str) -> String {
        let reply = self.request("GET", &format!("/{bucket}/{key}"), b"").expect("moto's server answers");
        assert_eq!(reply.status, 200, "reading {bucket}/{key}: {}", reply.body);
        reply.body
    }

    /// Writes the object `key` of `bucket`.
    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        let reply = self.request("PUT", &format!("/{bucket}/{key}"), body).expect("moto's server answers");
        assert_eq!(reply.status, 200, "writing {bucket}/{key}: {}", reply.body);
    }

    /// The end of what the server has printed so far, for assertion messages.
    pub fn log(&self) -> String {
        log_tail("moto's server", &self.log, 30)
    }

    fn request(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<HttpReply> {
        http(self.port, method, path, body)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
