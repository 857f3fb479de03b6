//! A real SMTP server for tests: aiosmtpd (from PyPI, installed into `~/.cache/crier/venv` by
//! `scripts/bootstrap.sh`), one per test process. Crier's mailer talks SMTP to it over TCP as to
//! any relay; it decodes each message it receives (subject, plain and HTML parts, headers) and
//! hands it to the test, which waits for the one it expects (a condition variable, no sleeps).
//! A recipient whose address starts with `refused` is refused for good (550), as an unknown
//! mailbox would be.
//!
//! The server is started through a Python guard that stops it when the test process's end of its
//! stdin closes, so no server outlives its tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use secrecy::SecretString;

// Starts aiosmtpd on a free port, prints `PORT <n>`, then one JSON line per message received.
const GUARD: &str = r#"
import json, socket, sys, threading
from email import policy
from email.parser import BytesParser
from aiosmtpd.controller import Controller

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"
    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        print(json.dumps({
            "from": envelope.mail_from, "to": envelope.rcpt_tos, "subject": str(message["subject"] or ""),
            "text": text.get_content() if text else "", "html": html.get_content() if html else "",
            "list_unsubscribe": str(message["List-Unsubscribe"] or ""),
            "list_unsubscribe_post": str(message["List-Unsubscribe-Post"] or ""),
        }), flush=True)
        return "250 OK"

probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
print("PORT", port, flush=True)
sys.stdin.read()
controller.stop()
"#;

/// A message the server received.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Received {
    /// The envelope's sender.
    pub from: String,
    /// The envelope's recipients.
    pub to: Vec<String>,
    /// The decoded subject.
    pub subject: String,
    /// The plain-text part, decoded.
    pub text: String,
    /// The HTML part, decoded.
    pub html: String,
    /// The `List-Unsubscribe` header ("" without).
    pub list_unsubscribe: String,
    /// The `List-Unsubscribe-Post` header ("" without).
    pub list_unsubscribe_post: String,
}

/// The test process's SMTP server.
pub struct TestSmtp {
    port: u16,
    received: Arc<(Mutex<Vec<Received>>, Condvar)>,
    _guard: Mutex<Child>,
}

fn venv() -> PathBuf {
    std::env::var_os("CRIER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/crier/venv"))
}

impl TestSmtp {
    /// The server, started on first use.
    pub fn shared() -> &'static TestSmtp {
        static SERVER: OnceLock<TestSmtp> = OnceLock::new();
        SERVER.get_or_init(|| {
            let python = venv().join("bin/python");
            assert!(
                python.exists(),
                "{} is missing: run scripts/bootstrap.sh (scripts/test does) to install aiosmtpd, the SMTP server the email tests use",
                python.display()
            );
            let mut child = Command::new(python)
                .args(["-c", GUARD])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start aiosmtpd: {e}"));
            let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
            let first = lines.next().and_then(Result::ok).unwrap_or_default();
            let port = first
                .strip_prefix("PORT ")
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or_else(|| panic!("aiosmtpd did not start (it said {first:?}); is it installed (scripts/bootstrap.sh)?"));
            let received: Arc<(Mutex<Vec<Received>>, Condvar)> = Arc::default();
            let sink = received.clone();
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    if let Ok(message) = serde_json::from_str::<Received>(&line) {
                        sink.0.lock().expect("not poisoned").push(message);
                        sink.1.notify_all();
                    }
                }
            });
            TestSmtp { port, received, _guard: Mutex::new(child) }
        })
    }

    /// The URL Crier's mailer is given (`smtp://127.0.0.1:<port>`, no TLS).
    pub fn url(&self) -> SecretString {
        SecretString::from(format!("smtp://127.0.0.1:{}", self.port))
    }

    /// Waits (at most `within`) until `count` messages to `to` have arrived; answers them.
    /// Panics when they do not, naming what did arrive.
    pub fn wait_for(&self, to: &str, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        let (lock, arrived) = &*self.received;
        let mut all = lock.lock().expect("not poisoned");
        loop {
            let theirs: Vec<Received> = all.iter().filter(|m| m.to.iter().any(|t| t == to)).cloned().collect();
            if theirs.len() >= count {
                return theirs;
            }
            let now = Instant::now();
            assert!(now < deadline, "{count} email(s) to {to} did not arrive within {within:?}; got {theirs:#?}");
            all = arrived.wait_timeout(all, deadline - now).expect("not poisoned").0;
        }
    }

    /// Everything received for `to` so far.
    pub fn received_by(&self, to: &str) -> Vec<Received> {
        self.received.0.lock().expect("not poisoned").iter().filter(|m| m.to.iter().any(|t| t == to)).cloned().collect()
    }
}
