//! The "Attempts" and "First retry after (minutes)" fields, with a live line saying what they
//! mean ("Up to 5 attempts: retries after 5 min, 10 min, 20 min and 40 min."), computed by the
//! same `crier_domain::retry` the workers use. Settings uses them for the team's default (both
//! required); Compose for a post's own policy (empty keeps the team's default).

use leptos::prelude::*;

use crate::errors::AppError;
use crier_domain::retry::{RetryOverride, RetryPolicy};

/// The two retry fields. With `team_default`, they override it and may stay empty.
#[component]
pub fn RetryPolicyFields(
    /// What the fields start with.
    attempts: String,
    /// What the minutes field starts with.
    minutes: String,
    /// The team's policy when these fields are a post's own (then optional), `None` for Settings.
    team_default: Option<RetryPolicy>,
    /// The form's latest error.
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let attempts = RwSignal::new(attempts);
    let minutes = RwSignal::new(minutes);
    let meaning = move || {
        let parsed = match team_default {
            Some(team) => RetryOverride::parse(&attempts.get(), &minutes.get()).map(|own| own.over(team)),
            None => RetryPolicy::parse(&attempts.get(), &minutes.get()),
        };
        match parsed {
            Ok(policy) => policy.describe(),
            Err(e) => e.message,
        }
    };
    let optional = team_default.is_some();
    let field_error = move |name: &'static str| error.get().and_then(|e| e.field(name));
    view! {
        <div class="field-row">
            <PolicyNumber name="max_attempts" label="Attempts" max=20 value=attempts optional
                team_value=team_default.map(|t| i32::from(t.max_attempts)) error />
            <PolicyNumber name="first_retry_minutes" label="First retry after (minutes)" max=240 value=minutes optional
                team_value=team_default.map(RetryPolicy::first_retry_minutes) error />
        </div>
        <p class="hint" id="retry-meaning" aria-live="polite">{meaning}</p>
        {move || {
            field_error("max_attempts")
                .or_else(|| field_error("first_retry_minutes"))
                .map(|message| view! { <p class="field-error" role="alert">{message}</p> })
        }}
    }
}

/// The team's policy fields in Settings, an island inside a plain form: the line under them says
/// what the typed values mean as they are typed. `error` is the last plain post's, if refused.
#[island]
pub fn RetryPolicyLive(attempts: String, minutes: String, error: Option<AppError>) -> impl IntoView {
    view! { <RetryPolicyFields attempts minutes team_default=None error=Signal::stored(error) /> }
}

/// One whole-number field of the policy. `value` renders the start on the server (the form
/// works before hydration); `prop:value` keeps the input and the signal together afterwards.
#[component]
fn PolicyNumber(
    name: &'static str,
    label: &'static str,
    max: u16,
    value: RwSignal<String>,
    /// Whether it may stay empty (a post's own policy), showing the team's value as a placeholder.
    optional: bool,
    team_value: Option<i32>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input id=name name=name type="number" min="1" max=max step="1" inputmode="numeric"
                required=!optional
                placeholder=team_value.map(|v| v.to_string())
                aria-describedby="retry-meaning"
                aria-invalid=move || error.get().and_then(|e| e.field(name)).map(|_| "true")
                value=value.get_untracked()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </div>
    }
}
