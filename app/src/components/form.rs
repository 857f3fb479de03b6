//! Form pieces: labelled fields with inline errors, and the form-level error banner.
//!
//! Errors come from the form's action. A form in an island posts by fetch and keeps what was
//! typed; every other form is a plain HTML form, whose errors arrive through the URL after a
//! redirect and whose typed values come back from the server (see `server::ssr::fail_form`).

use std::collections::HashMap;

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use server_fn::codec::{Json, PostUrl};
use server_fn::{Http, ServerFn};

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

impl FormValues {
    /// The value of `field`, if the form held one.
    pub fn value(&self, field: &str) -> Option<String> {
        self.values.get(field).cloned()
    }

    /// The items of the list field `field` ([`join_list`]), empty ones left out.
    pub fn list(&self, field: &str) -> Vec<String> {
        self.items(field).into_iter().filter(|s| !s.is_empty()).collect()
    }

    /// The items of the list field `field`, empty ones included (for lists whose places matter).
    pub fn items(&self, field: &str) -> Vec<String> {
        self.values.get(field).map(|all| all.split(LIST_SEPARATOR).map(str::to_owned).collect()).unwrap_or_default()
    }
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

/// An island form's action ([`IslandForm`]): the form's fields as it posts them, URL-encoded, and
/// the answer of the server function `S`.
pub struct FormAction<S: ServerFn> {
    action: Action<String, Result<S::Output, AppError>>,
}

impl<S: ServerFn> Clone for FormAction<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: ServerFn> Copy for FormAction<S> {}

impl<S: ServerFn> FormAction<S>
where
    S::Output: Send + Sync + 'static,
{
    /// The latest answer, if any (for [`action_error`]).
    pub fn value(&self) -> leptos::reactive::signal::MappedSignal<Option<Result<S::Output, AppError>>> {
        self.action.value()
    }
}

/// The action of an island's form that posts to the server function `S`. It starts with the error
/// of a plain post of that form when the page came back with one (`__path`/`__err`: the router
/// provides it on the server, [`provide_form_state`] in the browser), as leptos' `ServerAction` does.
pub fn form_action<S>() -> FormAction<S>
where
    S: ServerFn<Error = AppError, Protocol = Http<PostUrl, Json>> + 'static,
    S::Output: DeserializeOwned + Send + Sync + 'static,
{
    let refused = use_context::<leptos::server::ServerActionError>()
        .filter(|e| e.path() == S::PATH)
        .map(|e| Err(server_fn::error::ServerFnUrlError::<AppError>::decode_err(e.err())));
    FormAction { action: Action::new_with_value(refused, |body: &String| send_form::<S>(Some(body.clone()))) }
}

/// An island's form posting in place to the server function `S`: a plain `<form method="post">`
/// to its URL (so it works before the wasm loads), whose submission the browser sends by fetch
/// through `action`.
///
/// This replaces leptos' `ActionForm` + `ServerAction` in islands for the size of the wasm: they
/// decode the form into the server function's arguments in the browser and encode them again
/// (serde_qs both ways, with serde's error formatting; about 27 KB of the gzipped wasm, see
/// BENCHMARKS.md), only to send what the form holds. Here the body is the form's fields as the
/// browser posts them (the clicked button's name and value included, as `ActionForm` adds them),
/// which the server decodes as it decodes a plain post.
#[component]
pub fn IslandForm<S>(action: FormAction<S>, id: &'static str, class: &'static str, children: Children) -> impl IntoView
where
    S: ServerFn<Error = AppError, Protocol = Http<PostUrl, Json>> + 'static,
    S::Output: Send + Sync + 'static,
{
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        if ev.default_prevented() {
            return;
        }
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let body = leptos::form::form_data_from_event(&ev)
                .ok()
                .and_then(|data| web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok())
                .and_then(|params| params.to_string().as_string());
            match body {
                Some(body) => {
                    action.action.dispatch(body);
                }
                None => action.value().set(Some(Err(AppError::Transport))),
            }
        }
        // Server renders never submit.
        #[cfg(not(feature = "hydrate"))]
        let _ = action;
    };
    view! {
        <form id=id action=S::url() method="post" class=class on:submit=on_submit>
            {children()}
        </form>
    }
}

/// Calls the server function `S` from an island with `fields`, URL-encoded as a form posts them
/// (for a function with `PostUrl` input): the same request as `S`'s own client sends, without
/// serde_qs in the wasm to encode its arguments.
pub fn send_fields<S>(fields: &[(&str, &str)]) -> impl Future<Output = Result<S::Output, AppError>> + Send + 'static
where
    S: ServerFn<Error = AppError, Protocol = Http<PostUrl, Json>> + 'static,
    S::Output: DeserializeOwned,
{
    #[cfg(feature = "hydrate")]
    let body = {
        let params = web_sys::UrlSearchParams::new().ok();
        if let Some(params) = &params {
            for (name, value) in fields {
                params.append(name, value);
            }
        }
        params.and_then(|params| params.to_string().as_string())
    };
    #[cfg(not(feature = "hydrate"))]
    let body = {
        let _ = fields;
        None::<String>
    };
    send_form::<S>(body)
}

/// Calls the server function `S` from an island with every field the form `form` (a CSS
/// selector) holds now, URL-encoded as the browser would post it.
pub fn send_form_fields<S>(form: &str) -> impl Future<Output = Result<S::Output, AppError>> + Send + 'static
where
    S: ServerFn<Error = AppError, Protocol = Http<PostUrl, Json>> + 'static,
    S::Output: DeserializeOwned,
{
    #[cfg(feature = "hydrate")]
    let body = {
        use wasm_bindgen::JsCast;
        document()
            .query_selector(form)
            .ok()
            .flatten()
            .and_then(|element| element.dyn_into::<web_sys::HtmlFormElement>().ok())
            .and_then(|form| web_sys::FormData::new_with_form(&form).ok())
            .and_then(|data| web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok())
            .and_then(|params| params.to_string().as_string())
    };
    #[cfg(not(feature = "hydrate"))]
    let body = {
        let _ = form;
        None::<String>
    };
    send_form::<S>(body)
}

/// Sends an island form's URL-encoded fields to the server function `S` and reads its answer as
/// server_fn's own client does: an error status carries an [`AppError`], anything else is the
/// JSON output, and a redirect (the `serverfnredirect` header) moves the page. No body (the
/// browser could not encode one): [`AppError::Transport`].
async fn send_form<S>(body: Option<String>) -> Result<S::Output, AppError>
where
    S: ServerFn<Error = AppError, Protocol = Http<PostUrl, Json>> + 'static,
    S::Output: DeserializeOwned,
{
    let Some(body) = body else { return Err(AppError::Transport) };
    #[cfg(feature = "hydrate")]
    {
        use server_fn::ContentType;
        use server_fn::client::Client;
        use server_fn::client::browser::BrowserClient;
        use server_fn::error::FromServerFnError;
        use server_fn::request::ClientReq;
        use server_fn::request::browser::BrowserRequest;
        use server_fn::response::ClientRes;

        let request = <BrowserRequest as ClientReq<AppError>>::try_new_post(S::PATH, PostUrl::CONTENT_TYPE, Json::CONTENT_TYPE, body)?;
        let response = <BrowserClient as Client<AppError>>::send(request).await?;
        let status = ClientRes::<AppError>::status(&response);
        let location = ClientRes::<AppError>::location(&response);
        let redirected = ClientRes::<AppError>::has_redirect(&response);
        let text = ClientRes::<AppError>::try_into_string(response).await?;
        if (400..=599).contains(&status) {
            return Err(AppError::de(text.into()));
        }
        // As server_fn words an answer it cannot read (`AppError::from_server_fn_error`).
        let output = serde_json::from_str(&text).map_err(|_| AppError::Transport)?;
        if (300..=399).contains(&status) || redirected {
            let _ = window().location().set_href(&location);
        }
        Ok(output)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        // Server renders never submit a form.
        let _ = body;
        Err(AppError::Transport)
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
    kept_values(fn_path).map(|kept| kept.list(field)).unwrap_or_default()
}

/// The items of a list field a plain form post typed, empty ones included: for lists whose
/// places matter (the alt text of each attached media item, beside its id).
pub fn refill_items(fn_path: &'static str, field: &'static str) -> Vec<String> {
    kept_values(fn_path).map(|kept| kept.items(field)).unwrap_or_default()
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

/// A review decision's fields: a comment (required to request changes; `typed` is what a refused
/// decision typed) and the Approve / Request changes buttons (`decision`: `approve` or `changes`).
/// For the Review page and a client review link's.
pub fn decision_fields(comment_id: String, typed: String) -> impl IntoView {
    view! {
        <div class="field">
            <label for=comment_id.clone()>"Comment (required to request changes)"</label>
            <textarea id=comment_id name="comment" rows="2" maxlength="4000">{typed}</textarea>
        </div>
        <div class="actions">
            <button type="submit" name="decision" value="approve">"Approve"</button>
            <button type="submit" name="decision" value="changes" class="secondary">"Request changes"</button>
        </div>
    }
}
