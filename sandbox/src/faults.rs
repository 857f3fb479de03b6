//! Injected faults: canned next responses, latency (fixed plus random jitter), a random error rate
//! and a random rate-limit rate, globally or per user; and for media, canned responses aimed at
//! one step of an upload (`"on": "append"`, `"after": 2` = the third APPEND), processing that
//! fails with a reason, and processing that never ends.

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
    /// Only for requests of this step (see [`crate::MEDIA_STEPS`]); absent = the next request,
    /// whatever it is.
    #[serde(default)]
    pub(crate) on: Option<String>,
    /// Let this many matching requests through first (`"on":"append","after":2`: the third APPEND).
    #[serde(default)]
    pub(crate) after: u32,
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
    /// Up to this many milliseconds more, drawn uniformly per request.
    #[serde(default)]
    pub(crate) latency_jitter_ms: Option<u64>,
    /// The share of requests answered with the platform's rate-limit refusal (X: 429 with
    /// `x-rate-limit-reset`; LinkedIn: its daily 429; Meta: code 32 with a regain estimate).
    #[serde(default)]
    pub(crate) rate_limit_rate: Option<f64>,
    /// When a random rate limit resets, in seconds from the refusal (default 2).
    #[serde(default)]
    pub(crate) rate_limit_reset_secs: Option<u64>,
    /// Seeds the error-rate generator, for reproducible runs.
    #[serde(default)]
    pub(crate) seed: Option<u64>,
    /// Meta only: the next N `POST /{page_id}/feed` calls create the post, then answer HTTP 500 code 2.
    #[serde(default)]
    pub(crate) created_then_500: Option<u32>,
    /// Media: the next upload processed (finalized, or its last byte in) fails with this reason.
    #[serde(default)]
    pub(crate) processing_failure: Option<String>,
    /// Media: uploads processed from now on never finish (in progress forever) until the faults
    /// are cleared.
    #[serde(default)]
    pub(crate) processing_stuck: Option<bool>,
}

#[derive(Default)]
struct Scope {
    next: VecDeque<InjectedResponse>,
    latency_ms: Option<u64>,
    latency_jitter_ms: Option<u64>,
    error_rate: Option<f64>,
    rate_limit_rate: Option<f64>,
    rate_limit_reset_secs: Option<u64>,
}

pub(crate) struct Faults {
    global: Scope,
    users: HashMap<String, Scope>,
    rng: u64,
    /// Meta only: how many more publishes succeed silently behind an HTTP 500 code 2.
    pub(crate) created_then_500: u32,
    /// Faulty answers given so far (canned, random errors, random rate limits, created-then-500).
    pub(crate) injected: u64,
    processing_failures: VecDeque<String>,
    processing_stuck: bool,
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
        Faults {
            global: Scope::default(),
            users: HashMap::new(),
            rng: util::random_u64() | 1,
            created_then_500: 0,
            injected: 0,
            processing_failures: VecDeque::new(),
            processing_stuck: false,
        }
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
        if request.latency_jitter_ms.is_some() {
            scope.latency_jitter_ms = request.latency_jitter_ms;
        }
        if let Some(rate) = request.rate_limit_rate {
            scope.rate_limit_rate = Some(rate.clamp(0.0, 1.0));
        }
        if request.rate_limit_reset_secs.is_some() {
            scope.rate_limit_reset_secs = request.rate_limit_reset_secs;
        }
        if let Some(n) = request.created_then_500 {
            self.created_then_500 = n;
        }
        if let Some(reason) = request.processing_failure {
            self.processing_failures.push_back(reason);
        }
        if let Some(stuck) = request.processing_stuck {
            self.processing_stuck = stuck;
        }
    }

    /// How the processing of an upload that starts now ends, when a fault says so: stuck, or the
    /// next queued failure (used up).
    pub(crate) fn processing_ending(&mut self) -> Option<crate::media::processing::Ending> {
        use crate::media::processing::Ending;
        if self.processing_stuck {
            self.injected += 1;
            return Some(Ending::Stuck);
        }
        let reason = self.processing_failures.pop_front()?;
        self.injected += 1;
        Some(Ending::Fail(reason))
    }

    pub(crate) fn clear(&mut self) {
        self.global = Scope::default();
        self.users.clear();
        self.created_then_500 = 0;
        self.processing_failures.clear();
        self.processing_stuck = false;
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

    /// A setting of the user's scope, else the global one.
    fn setting<T: Copy>(&self, user_id: Option<&str>, field: impl Fn(&Scope) -> Option<T>) -> Option<T> {
        user_id.and_then(|u| self.users.get(u)).and_then(&field).or_else(|| field(&self.global))
    }

    /// The first queued response of `scope` for a request of `step`: an untargeted one, or one
    /// aimed at this step whose `after` count is used up (each matching request counts it down).
    fn take_queued(scope: &mut Scope, step: Option<&str>) -> Option<InjectedResponse> {
        let mut found = None;
        for (i, r) in scope.next.iter_mut().enumerate() {
            match (&r.on, step) {
                (None, _) => {
                    found = Some(i);
                    break;
                }
                (Some(on), Some(step)) if on == step => {
                    if r.after == 0 {
                        found = Some(i);
                        break;
                    }
                    r.after -= 1;
                }
                _ => {}
            }
        }
        scope.next.remove(found?)
    }

    /// The user's own faults come first, then the global ones. `transient` is the platform's own
    /// answer for a random error, `rate_limited` its rate-limit refusal (given the seconds until
    /// the limit resets). `step` names the request (media uploads: `"append"`, `"part"`, …; see
    /// [`crate::MEDIA_STEPS`]): canned responses may be aimed at one step.
    pub(crate) fn decide_step(
        &mut self,
        user_id: Option<&str>,
        step: Option<&str>,
        transient: impl FnOnce() -> Response,
        rate_limited: impl FnOnce(u64) -> Response,
    ) -> Decision {
        let mut decision = Decision::default();
        let jitter = self.setting(user_id, |s| s.latency_jitter_ms).unwrap_or(0);
        let extra = if jitter > 0 { (self.next_unit() * (jitter + 1) as f64) as u64 } else { 0 };
        let latency = self.setting(user_id, |s| s.latency_ms).unwrap_or(0) + extra;
        decision.latency = (latency > 0).then(|| Duration::from_millis(latency));

        let queued = user_id
            .and_then(|u| self.users.get_mut(u))
            .and_then(|s| Faults::take_queued(s, step))
            .or_else(|| Faults::take_queued(&mut self.global, step));
        if let Some(injected) = queued {
            decision.response = Some(render(injected));
            self.injected += 1;
            return decision;
        }
        let error_rate = self.setting(user_id, |s| s.error_rate).unwrap_or(0.0);
        let limit_rate = self.setting(user_id, |s| s.rate_limit_rate).unwrap_or(0.0);
        if error_rate + limit_rate > 0.0 {
            // One draw for both, so the shares are exactly as asked and never overlap.
            let draw = self.next_unit();
            if draw < error_rate {
                decision.response = Some(transient());
                self.injected += 1;
            } else if draw < error_rate + limit_rate {
                decision.response = Some(rate_limited(self.setting(user_id, |s| s.rate_limit_reset_secs).unwrap_or(2)));
                self.injected += 1;
            }
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
