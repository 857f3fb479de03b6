//! Form pieces: labelled fields with inline errors, and the form-level error banner.
//!
//! Errors come from the form's action. A form in an island posts by fetch and keeps what was
//! typed; every other form is a plain HTML form, whose errors arrive through the URL after a
//! redirect and whose typed values come back from the server (see `server::ssr::fail_form`).

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

/// The latest result of an action, as a signal of its error.
pub fn action_error<T, S>(value: S) -> Signal<Option<AppError>>
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    T: 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}

/// What a failed (or, for a result shown once, successful) plain form post typed, kept in the
/// session for one page view (see `server::ssr::keep_for_next_page`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FormValues {
    /// The server function's path, so only that form is refilled.
    pub path: String,
    /// Field name → value (never passwords).
    pub values: HashMap<String, String>,
}

/// Values to refill a form with after a plain post: provided by the page render on the server,
/// and by an island from its props in the browser (islands hydrate without the server's context).
#[derive(Clone, Debug, Default)]
pub struct Prefill(pub FormValues);

/// The value a field should start with: what a failed plain form post (for the form whose
/// server function is at `fn_path`) typed, if anything.
pub fn refill(fn_path: &'static str, field: &'static str) -> Option<String> {
    use_context::<Prefill>().filter(|p| p.0.path == fn_path).and_then(|p| p.0.values.get(field).cloned())
}

/// A secret the plain post of the form at `fn_path` kept for this page view (sealed in the session,
/// see `server::ssr::keep_secrets_for_next_page`), opened for the signed-in member. Page renders
/// only (it is `None` in the browser).
pub fn kept_secret(fn_path: &'static str, field: &'static str) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        crate::server::ssr::open_kept(fn_path, field)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (fn_path, field);
        None
    }
}

/// A form's one-time key (see `server::ssr::once_per_form`): a hidden field rendered with a fresh
/// random key, so that sending the form twice does its work once. In an island the key comes from
/// its props (`key`), and the island replaces it after each submission.
#[component]
pub fn FormKey(#[prop(optional, into)] key: Option<Signal<String>>) -> impl IntoView {
    let key = key.unwrap_or_else(|| {
        #[cfg(feature = "ssr")]
        let fresh = crate::server::ssr::new_form_key();
        #[cfg(not(feature = "ssr"))]
        let fresh = String::new();
        Signal::stored(fresh)
    });
    view! { <input type="hidden" name="form_key" value=move || key.get() /> }
}

/// The kept values of the form at `fn_path` alone, for an island's props: the island provides
/// them again in the browser ([`provide_form_state`]) so it hydrates with what the server rendered.
/// Only that form's values travel, never another form's kept result.
pub fn kept_values(fn_path: &'static str) -> Option<FormValues> {
    use_context::<Prefill>().map(|p| p.0).filter(|values| values.path == fn_path)
}

/// At the top of an island holding a form: what the page's render had and the browser lacks.
/// The kept values come from the island's props; the error of a plain form post comes from the
/// URL (`__path`/`__err`), which on the server the router hands to the form's action and in an
/// island nobody does. With both, the island's first render matches the server's.
pub fn provide_form_state(kept: Option<FormValues>) {
    if let Some(kept) = kept {
        provide_context(Prefill(kept));
    }
    #[cfg(feature = "hydrate")]
    {
        let search = window().location().search().unwrap_or_default();
        if let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search)
            && let (Some(err), Some(path)) = (params.get("__err"), params.get("__path"))
        {
            provide_context(leptos::server::ServerActionError::new(&path, &err));
        }
    }
}

/// The field under which a plain form post's success message is kept for the page it returns
/// to (`server::ssr::notice_for_next_page`): forms outside islands have no action value to show.
pub const NOTICE_FIELD: &str = "notice";

/// The success message a plain post of the form at `fn_path` left for this page view, if any.
pub fn kept_notice(fn_path: &'static str) -> Option<String> {
    refill(fn_path, NOTICE_FIELD)
}

/// Separates the items of a list field (ticked accounts, thread replies) kept for a refill: a
/// control character nobody types into a form.
const LIST_SEPARATOR: char = '\u{1f}';

/// A list field's values as one refill value (see [`refill_list`]).
pub fn join_list(items: &[String]) -> String {
    items.join(&LIST_SEPARATOR.to_string())
}

/// The items of a list field that a failed plain form post typed, if any.
pub fn refill_list(fn_path: &'static str, field: &'static str) -> Vec<String> {
    refill(fn_path, field).map(|all| all.split(LIST_SEPARATOR).map(str::to_owned).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
}

/// The items of a list field a plain form post typed, empty ones included: for lists whose
/// places matter (the alt text of each attached media item, beside its id).
pub fn refill_items(fn_path: &'static str, field: &'static str) -> Vec<String> {
    refill(fn_path, field).map(|all| all.split(LIST_SEPARATOR).map(str::to_owned).collect()).unwrap_or_default()
}

/// In an island as it hydrates: what the field with id `id` holds now, which is what the server
/// rendered unless the person typed into it before the wasm arrived. An island starts its signals
/// from this, so hydrating does not put back the rendered value over what was typed. `None` on the
/// server (and when there is no such field).
pub fn typed_value(id: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let element = document().get_element_by_id(id)?;
        js_sys::Reflect::get(&element, &"value".into()).ok()?.as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = id;
        None
    }
}

/// The roles a member or token can be given (admin, editor, viewer) as `<option>`s, `selected` chosen.
pub fn role_options(selected: &str) -> impl IntoView + use<> {
    use crier_domain::Role;
    [Role::Admin, Role::Editor, Role::Viewer]
        .into_iter()
        .map(|role| view! { <option value=role.as_str() selected=role.as_str() == selected>{role.label()}</option> })
        .collect_view()
}

/// A labelled input with its inline error. `name` is what the server function receives.
#[component]
pub fn Field(
    /// The visible label.
    label: &'static str,
    /// The input's name (and id).
    name: &'static str,
    /// The input type (text, email, password...).
    #[prop(default = "text")]
    kind: &'static str,
    /// The browser's autofill hint.
    #[prop(optional)]
    autocomplete: Option<&'static str>,
    /// A hint shown under the label.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// Initial value.
    #[prop(optional, into)]
    value: Option<String>,
    /// The form's latest error.
    error: Signal<Option<AppError>>,
    /// Whether the browser should require a value.
    #[prop(default = true)]
    required: bool,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.field(name));
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=name>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=name
                name=name
                type=kind
                autocomplete=autocomplete
                value=value
                required=required
                aria-invalid=move || message().is_some().then_some("true")
                aria-describedby=described_by
            />
            <Show when=move || message().is_some()>
                <p class="field-error" id=error_id.clone()>{message}</p>
            </Show>
        </div>
    }
}

/// A one-line result for the person ("Saved."), announced to screen readers; nothing when `None`.
#[component]
pub fn Notice<F>(message: F) -> impl IntoView
where
    F: Fn() -> Option<String> + Send + Sync + Clone + 'static,
{
    let shown = message.clone();
    view! {
        <Show when=move || shown().is_some()>
            <p class="notice" role="status">{message.clone()}</p>
        </Show>
    }
}

/// The form-level error (wrong password, throttled, server trouble), announced to screen readers.
#[component]
pub fn FormError(
    /// The form's latest error.
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.form_message());
    view! {
        <Show when=move || message().is_some()>
            <p class="form-error" role="alert">{message}</p>
        </Show>
    }
}

/// A hidden `timezone` field holding the browser's IANA timezone, filled in once the page is
/// interactive (before that, and without JavaScript, it stays empty and the server keeps UTC).
/// An island of its own: the rest of the sign-up form is plain HTML.
#[island]
pub fn BrowserTimezoneField() -> impl IntoView {
    let zone = RwSignal::new(String::new());
    Effect::new(move |_| zone.set(browser_timezone()));
    view! { <input type="hidden" name="timezone" prop:value=move || zone.get() /> }
}

/// `Intl.DateTimeFormat().resolvedOptions().timeZone`, or empty when unknown.
fn browser_timezone() -> String {
    #[cfg(feature = "hydrate")]
    {
        let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok().and_then(|v| v.as_string()).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}
