//! The clients' tests run against the sandbox served over real HTTP on 127.0.0.1:0, with a
//! manual clock shared by the sandbox and the clients, and a "browser" that fills in consent forms.

#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use crier_sandbox::{Clock as _, ManualClock, Sandbox, SandboxConfig};
use reqwest::redirect::Policy;
use url::Url;

/// A running sandbox.
pub struct Harness {
    /// `http://127.0.0.1:<port>/sandbox`
    pub base: Url,
    /// The sandbox itself (ledger, apps, faults).
    pub sandbox: Sandbox,
    /// The sandbox's clock, which the clients read too.
    pub clock: Arc<ManualClock>,
    /// A browser: keeps no cookies, does not follow redirects (the tests read them).
    pub browser: reqwest::Client,
}

/// Serves a sandbox configured by `tweak`, with `register` run on it before it starts (apps).
pub async fn serve(tweak: impl FnOnce(&mut SandboxConfig), register: impl FnOnce(&Sandbox)) -> Harness {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()));
    let mut config = SandboxConfig::default().with_clock(clock.clone());
    tweak(&mut config);
    let (base, sandbox) = Sandbox::serve_local(config).await.unwrap();
    register(&sandbox);
    let browser = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    Harness { base: Url::parse(&base).unwrap(), sandbox, clock, browser }
}

impl Harness {
    /// The clock for a client: the sandbox's.
    pub fn client_clock(&self) -> crier_clients::Clock {
        let clock = self.clock.clone();
        Arc::new(move || clock.now())
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// `POST {base}{path}` with a JSON body (the control API); panics unless it answers 2xx.
    pub async fn control(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self.browser.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// Opens the consent page at `url` and submits its form as a browser would: every hidden and
    /// text input with its value, every checked checkbox, and the button pressed (`action`). `edit`
    /// may change the fields first. Returns where the 302 sends the browser.
    pub async fn consent(&self, url: &Url, edit: impl FnOnce(&mut Vec<(String, String)>), button: &str) -> Url {
        let page = self.browser.get(url.clone()).send().await.unwrap();
        assert_eq!(page.status(), 200, "consent page at {url}");
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("name=\"action\" value=\"{button}\"")), "no {button} button: {html}");
        let (action, mut fields) = form(&html);
        edit(&mut fields);
        fields.push(("action".to_owned(), button.to_owned()));
        let response = self.browser.post(action).form(&fields).send().await.unwrap();
        assert_eq!(response.status(), 302, "{}", response.text().await.unwrap_or_default());
        Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
    }
}

/// A query parameter of a URL.
pub fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Sets a text field (replacing its value, or adding it).
pub fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// The attributes of one tag's inside (`type="hidden" name="x" value="y" checked`).
fn attributes(inside: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = inside.trim();
    while !rest.is_empty() {
        let end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let name = rest[..end].to_owned();
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix("=\"") {
            let close = after.find('"').expect("a closing quote");
            out.push((name, Some(html_unescape(&after[..close]))));
            rest = after[close + 1..].trim_start();
        } else {
            out.push((name, None));
            rest = rest.trim_start();
        }
    }
    out
}

/// The first POST form of a page: its action and the fields a browser would send.
fn form(html: &str) -> (String, Vec<(String, String)>) {
    let start = html.find("<form ").expect("a form");
    let end = start + html[start..].find("</form>").expect("the end of the form");
    let form = &html[start..end];
    let open = &form["<form ".len()..form.find('>').unwrap()];
    let attr = |attrs: &[(String, Option<String>)], name: &str| attrs.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.clone());
    let head = attributes(open);
    assert_eq!(attr(&head, "method").as_deref(), Some("post"));
    let action = attr(&head, "action").expect("a form action");
    let mut fields = Vec::new();
    for piece in form.split("<input ").skip(1) {
        let attrs = attributes(&piece[..piece.find('>').unwrap()]);
        let Some(name) = attr(&attrs, "name") else { continue };
        let value = attr(&attrs, "value").unwrap_or_default();
        match attr(&attrs, "type").as_deref().unwrap_or("text") {
            "checkbox" if attrs.iter().any(|(k, _)| k == "checked") => {
                fields.push((name, if value.is_empty() { "on".into() } else { value }))
            }
            "checkbox" => {}
            _ => fields.push((name, value)),
        }
    }
    (action, fields)
}
