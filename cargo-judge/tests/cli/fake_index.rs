//! A fake Python package index on 127.0.0.1, for the install's tests: a real HTTP server (one
//! connection at a time, `Connection: close`) serving a project's simple-API page, as JSON
//! (PEP 691) or HTML (PEP 503), and its wheel, and recording every request's path and
//! `Authorization` header. Shared by the unit tests (through `#[path]`) and the command's tests.

#![allow(dead_code)] // Each test target uses part of it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// How the project page is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// PEP 691 JSON.
    Json,
    /// PEP 503 HTML.
    Html,
}

/// A request the index received: its path and its `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub path: String,
    pub authorization: Option<String>,
}

/// The running index; stopped when dropped.
pub struct FakeIndex {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeIndex {
    /// Serves `package`'s page (listing `wheel_name` with `listed_sha256`) and the wheel's bytes.
    /// Any other path is a 404.
    pub fn serve(package: &str, wheel_name: &str, wheel: Vec<u8>, listed_sha256: &str, page: Page) -> Self {
        let project = format!("/simple/{package}/");
        let file = format!("/files/{wheel_name}");
        // Relative, as the public index's JSON is not but many mirrors' pages are: resolved against the page.
        let href = format!("../../files/{wheel_name}");
        let (content_type, body) = match page {
            Page::Json => (
                "application/vnd.pypi.simple.v1+json",
                serde_json::json!({
                    "meta": {"api-version": "1.1"}, "name": package,
                    "files": [{"filename": wheel_name, "url": href, "hashes": {"sha256": listed_sha256}}]
                })
                .to_string(),
            ),
            Page::Html => (
                "text/html",
                format!(
                    "<!DOCTYPE html><html><body><h1>Links for {package}</h1>\n\
                     <a href=\"{href}#sha256={listed_sha256}\">{wheel_name}</a><br/>\n</body></html>"
                ),
            ),
        };
        let routes = vec![(project, content_type, body.into_bytes()), (file, "application/octet-stream", wheel)];
        Self::start(routes)
    }

    fn start(routes: Vec<(String, &'static str, Vec<u8>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let (requests, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
        let (log, stopped) = (Arc::clone(&requests), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let _ = answer(stream, &routes, &log);
                }
            }
        });
        Self { port, requests, stop, thread: Some(thread) }
    }

    /// The index's simple-API URL, as `PIP_INDEX_URL` names it.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/simple", self.port)
    }

    /// The same, with credentials, as a private index's URL carries them.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}/simple", self.port)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeIndex {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request and answers it from `routes`.
fn answer(mut stream: TcpStream, routes: &[(String, &str, Vec<u8>)], log: &Mutex<Vec<Request>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        if stream.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let authorization = head
        .lines()
        .find_map(|line| line.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("authorization")))
        .map(|(_, value)| value.trim().to_owned());
    log.lock().unwrap().push(Request { path: path.clone(), authorization });
    let (status, content_type, body) = match routes.iter().find(|(route, _, _)| *route == path) {
        Some((_, content_type, body)) => ("200 OK", *content_type, body.as_slice()),
        None => ("404 Not Found", "text/plain", b"Not Found".as_slice()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

/// A wheel (a zip archive, stored uncompressed: quick for a large model) holding `files`.
pub fn wheel(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut bytes);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(files.iter().any(|(_, b)| b.len() > u32::MAX as usize));
    for (name, content) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap();
    bytes.into_inner()
}

/// The SHA-256 of `bytes`, as hex.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
