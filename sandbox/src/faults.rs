//! Injected faults: canned next responses, latency and a random error rate, globally or per user.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::util;

/// One canned response: served instead of the real answer, once.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct InjectedResponse {
    pub(crate) status: u16,
    /// JSON body; a JSON string is sent as the raw text body; absent = empty body.
    #[serde(default)]
    pub(crate) body: Option<Value>,
    #[serde(default)]
    pub(crate) headers: HashMap<String, String>,
}

/// `POST /control/x/faults`.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct FaultRequest {
    #[serde(default)]
    pub(crate) user_id: Option<String>,
    #[serde(default)]
    pub(crate) next_responses: Vec<InjectedResponse>,
    #[serde(default)]
    pub(crate) latency_ms: Option<u64>,
    #[serde(default)]
    pub(crate) error_rate: Option<f64>,
    /// Seeds the error-rate generator, for reproducible runs.
    #[serde(default)]
    pub(crate) seed: Option<u64>,
    /// Meta only: the next N `POST /{page_id}/feed` calls create the post, then answer HTTP 500 code 2.
    #[serde(default)]
    pub(crate) created_then_500: Option<u32>,
}

#[derive(Default)]
struct Scope {
    next: VecDeque<InjectedResponse>,
    latency_ms: Option<u64>,
    error_rate: Option<f64>,
}

pub(crate) struct Faults {
    global: Scope,
    users: HashMap<String, Scope>,
    rng: u64,
    /// Meta only: how many more publishes succeed silently behind an HTTP 500 code 2.
    pub(crate) created_then_500: u32,
}

/// What to do to one API request before (or instead of) answering it.
#[derive(Default)]
pub(crate) struct Decision {
    pub(crate) latency: Option<Duration>,
    pub(crate) response: Option<Response>,
}

impl Decision {
    /// Carries the decision out: waits out the injected latency (the fault being simulated is a
    /// slow platform), then answers with the injected response, if any, instead of the real one.
    pub(crate) async fn apply(self) -> Result<(), Response> {
        if let Some(latency) = self.latency {
            tokio::time::sleep(latency).await;
        }
        self.response.map_or(Ok(()), Err)
    }
}

impl Faults {
    pub(crate) fn new() -> Self {
        Faults { global: Scope::default(), users: HashMap::new(), rng: util::random_u64() | 1, created_then_500: 0 }
    }

    pub(crate) fn add(&mut self, request: FaultRequest) {
        if let Some(seed) = request.seed {
            self.rng = seed | 1;
        }
        let scope = match request.user_id {
            Some(user) => self.users.entry(user).or_default(),
            None => &mut self.global,
        };
        scope.next.extend(request.next_responses);
        if request.latency_ms.is_some() {
            scope.latency_ms = request.latency_ms;
        }
        if let Some(rate) = request.error_rate {
            scope.error_rate = Some(rate.clamp(0.0, 1.0));
        }
        if let Some(n) = request.created_then_500 {
            self.created_then_500 = n;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.global = Scope::default();
        self.users.clear();
        self.created_then_500 = 0;
    }

    /// xorshift64*: uniform in [0, 1).
    fn next_unit(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The user's own faults come first, then the global ones. `transient` is the platform's own
    /// answer for a random error.
    pub(crate) fn decide(&mut self, user_id: Option<&str>, transient: impl FnOnce() -> Response) -> Decision {
        let mut decision = Decision::default();
        let user_latency = user_id.and_then(|u| self.users.get(u)).and_then(|s| s.latency_ms);
        decision.latency = user_latency.or(self.global.latency_ms).filter(|ms| *ms > 0).map(Duration::from_millis);

        let queued = user_id.and_then(|u| self.users.get_mut(u)).and_then(|s| s.next.pop_front()).or_else(|| self.global.next.pop_front());
        if let Some(injected) = queued {
            decision.response = Some(render(injected));
            return decision;
        }
        let rate = user_id.and_then(|u| self.users.get(u)).and_then(|s| s.error_rate).or(self.global.error_rate).unwrap_or(0.0);
        if rate > 0.0 && self.next_unit() < rate {
            decision.response = Some(transient());
        }
        decision
    }
}

fn render(injected: InjectedResponse) -> Response {
    let status = StatusCode::from_u16(injected.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = util::header_map(injected.headers);
    match injected.body {
        None => {
            let mut response = status.into_response();
            response.headers_mut().extend(headers);
            response
        }
        Some(Value::String(text)) => {
            let mut response = (status, text).into_response();
            response.headers_mut().extend(headers);
            response
        }
        Some(body) => util::json(status, &body, headers),
    }
}
