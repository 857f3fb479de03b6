//! A real S3-compatible server for tests: moto's server mode (from PyPI, installed into
//! `~/.cache/crier/venv` by `scripts/bootstrap.sh`), one per test process, with a fresh bucket per
//! test. Not a mock inside the process: object_store talks HTTP and SigV4 to it as to AWS.
//!
//! The server is started through a small Python guard that reads its stdin until the test
//! process's end closes it and then stops the server, so no server outlives its tests, even when
//! a test process is killed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use secrecy::SecretString;

use crate::storage::{S3Settings, StoreLocation};

/// The virtualenv holding moto: `CRIER_VENV`, else `~/.cache/crier/venv` (where
/// `scripts/bootstrap.sh` installs it).
fn venv() -> PathBuf {
    std::env::var_os("CRIER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/crier/venv"))
}

// Starts moto on a free port, prints the line saying where, and stops it when stdin closes.
const GUARD: &str = r#"
import subprocess, sys
server = subprocess.Popen([sys.argv[1], "-H", "127.0.0.1", "-p", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
for line in server.stdout:
    if "Running on http://" in line:
        print(line.strip().split()[-1], flush=True)
        break
import threading
threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
sys.stdin.read()
server.kill()
"#;

/// The test process's S3 server.
pub struct TestS3 {
    endpoint: String,
    _guard: std::sync::Mutex<Child>,
}

impl TestS3 {
    /// The server, started on first use.
    pub fn shared() -> &'static TestS3 {
        static SERVER: OnceLock<TestS3> = OnceLock::new();
        SERVER.get_or_init(|| {
            let moto = venv().join("bin/moto_server");
            let python = venv().join("bin/python");
            assert!(
                moto.exists(),
                "{} is missing: run scripts/bootstrap.sh (scripts/test does) to install moto, the S3 server the media tests use",
                moto.display()
            );
            let mut child = Command::new(python)
                .args(["-c", GUARD])
                .arg(&moto)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto's S3 server: {e}"));
            let mut first = String::new();
            BufReader::new(child.stdout.take().expect("piped stdout"))
                .read_line(&mut first)
                .unwrap_or_else(|e| panic!("moto's S3 server did not say where it listens: {e}"));
            let endpoint = first.trim().to_owned();
            assert!(endpoint.starts_with("http://127.0.0.1:"), "moto's S3 server did not start (it said {first:?})");
            TestS3 { endpoint, _guard: std::sync::Mutex::new(child) }
        })
    }

    /// Its endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The settings that reach it (moto accepts any credentials).
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some("crier-test".into()),
            secret_access_key: Some(SecretString::from("crier-test-secret")),
            allow_http: true,
        }
    }

    /// A new, empty bucket, as a store location with `prefix`.
    pub fn fresh_bucket(&self, prefix: &str) -> StoreLocation {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let bucket = format!("crier-test-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).unwrap_or_else(|e| panic!("cannot reach moto at {address}: {e}"));
        write!(stream, "PUT /{bucket} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .expect("write CreateBucket");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read CreateBucket's answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "creating bucket {bucket} failed: {answer}");
        StoreLocation::S3 { bucket, prefix: prefix.to_owned(), settings: self.settings() }
    }
}
