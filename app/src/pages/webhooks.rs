//! `/settings/webhooks`: the HTTPS endpoints Crier calls when something happens, each with its
//! recent calls. Owners and admins add (the signing secret is shown once), disable, delete and
//! test them; everyone else sees the list. Every form is a plain form, and each result comes back
//! with the page; while a call is in flight the page reloads itself (`ReloadWhileBusy`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use server_fn::ServerFn;

use crate::components::form::{FormError, FormKey, Notice, action_error, kept_notice, refill, refill_list};
use crate::components::live::ReloadWhileBusy;
use crate::errors::AppError;
use crate::pages::compose::FieldMessage;
use crate::server::webhooks::{
    CallLine, CreateWebhook, CreatedWebhook, DeleteWebhook, EndpointView, SendTestWebhook, SetWebhookEnabled, kept_webhook_secret,
    webhook_settings,
};
use crier_domain::webhook::WebhookEvent;

/// The Webhooks page.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let toggle = ServerAction::<SetWebhookEnabled>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let test = ServerAction::<SendTestWebhook>::new();
    let data = Resource::new(|| (), |_| webhook_settings());
    // Only the render after a plain form post finds a secret here; it is never fetched again.
    let kept = Resource::new(|| (), |_| kept_webhook_secret());
    let row_error = Signal::derive(move || {
        [action_error(toggle.value()).get(), action_error(delete.value()).get(), action_error(test.value()).get()]
            .into_iter()
            .flatten()
            .next()
    });
    let tested = move || kept_notice(SendTestWebhook::PATH);

    view! {
        <Title text="Webhooks" />
        <h1>"Webhooks"</h1>
        <p><A href="/settings">"← Settings"</A></p>
        <p class="hint">
            "Crier calls these HTTPS endpoints with a signed JSON body when a post goes out or fails, a delivery is held, or an account needs reconnecting. "
            "Check the " <code>"Crier-Signature"</code> " header with the signing secret (HMAC-SHA256 of the timestamp and the body, as docs/webhooks.md describes), "
            "answer 2xx within 10 seconds, and use " <code>"Crier-Webhook-Id"</code> " to ignore a call you already handled: failed calls are retried, waiting longer each time."
        </p>
        <FormError error=row_error />
        <Notice message=tested />
        <Suspense fallback=|| view! { <p class="hint">"Loading webhooks…"</p> }>
            {move || Suspend::new(async move {
                let kept = kept.await.ok().flatten();
                match data.await {
                    Ok(view_data) => {
                        let (can_manage, allow_http) = (view_data.can_manage, view_data.allow_http);
                        // While a call is being sent or is due within a minute, show how it went.
                        let reload = view_data.busy.then(|| view! { <ReloadWhileBusy /> });
                        let endpoints = if view_data.endpoints.is_empty() {
                            view! { <p class="hint">"No endpoints yet."</p> }.into_any()
                        } else {
                            view_data
                                .endpoints
                                .into_iter()
                                .map(|endpoint| view! { <EndpointPanel endpoint can_manage toggle delete test /> })
                                .collect_view()
                                .into_any()
                        };
                        view! {
                            {reload}
                            {endpoints}
                            {can_manage.then(|| view! { <AddEndpoint create kept allow_http /> })}
                            {(!can_manage).then(|| view! { <p class="hint">"Owners and admins can add, change and delete endpoints."</p> })}
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EndpointPanel(
    endpoint: EndpointView,
    can_manage: bool,
    toggle: ServerAction<SetWebhookEnabled>,
    delete: ServerAction<DeleteWebhook>,
    test: ServerAction<SendTestWebhook>,
) -> impl IntoView {
    let heading_id = format!("webhook-{}", endpoint.endpoint_id);
    let status = if endpoint.enabled { "Enabled" } else { "Disabled" };
    let added = match &endpoint.created_by {
        Some(who) => format!("Added {} by {who}.", endpoint.created),
        None => format!("Added {}.", endpoint.created),
    };
    let actions = can_manage.then(|| {
        let (toggle_to, toggle_label) = if endpoint.enabled { ("false", "Disable") } else { ("true", "Enable") };
        let (test_id, toggle_id, delete_id) = (endpoint.endpoint_id.clone(), endpoint.endpoint_id.clone(), endpoint.endpoint_id.clone());
        let test_label = format!("Send a test event to {}", endpoint.url);
        let toggle_aria = format!("{toggle_label} {}", endpoint.url);
        let delete_label = format!("Delete {}", endpoint.url);
        view! {
            <div class="webhook-actions">
                {endpoint.enabled.then(move || view! {
                    <ActionForm action=test>
                        <input type="hidden" name="endpoint_id" value=test_id />
                        <button type="submit" class="secondary" aria-label=test_label>"Send test event"</button>
                    </ActionForm>
                })}
                <ActionForm action=toggle>
                    <input type="hidden" name="endpoint_id" value=toggle_id />
                    <input type="hidden" name="enabled" value=toggle_to />
                    <button type="submit" class="secondary" aria-label=toggle_aria>{toggle_label}</button>
                </ActionForm>
                <ActionForm action=delete>
                    <input type="hidden" name="endpoint_id" value=delete_id />
                    <button type="submit" class="danger" aria-label=delete_label>"Delete"</button>
                </ActionForm>
            </div>
        }
    });
    let events = endpoint.events.join(", ");
    let labelled_by = heading_id.clone();
    view! {
        <section class="panel webhook" aria-labelledby=labelled_by data-endpoint=endpoint.endpoint_id>
            <h2 id=heading_id><code>{endpoint.url}</code></h2>
            <p>
                <span class=if endpoint.enabled { "status ok" } else { "status warn" }>{status}</span>
                " · Events: " {events} ". " <span class="hint">{added}</span>
            </p>
            {actions}
            <CallLog lines=endpoint.log />
        </section>
    }
}

#[component]
fn CallLog(lines: Vec<CallLine>) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="hint">"No calls yet."</p> }.into_any();
    }
    let rows = lines
        .into_iter()
        .map(|line| {
            let status = line.http_status.map(|s| s.to_string()).unwrap_or_else(|| "—".to_owned());
            let attempt = line.attempt.map(|a| a.to_string()).unwrap_or_else(|| "—".to_owned());
            let outcome_class = format!("chip {}", line.outcome);
            view! {
                <tr data-event-id=line.event_id.clone()>
                    <td><time datetime=line.at.clone()>{line.shown_at.clone()}</time></td>
                    <td><code>{line.event.clone()}</code></td>
                    <td>{attempt}</td>
                    <td>{status}</td>
                    <td><span class=outcome_class>{line.outcome.clone()}</span>{line.error.map(|e| view! { <br /><small class="hint">{e}</small> })}</td>
                    <td>{line.state.clone()}</td>
                    <td>{line.next_retry.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="webhook-log">
            <caption>"Recent calls"</caption>
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Event"</th>
                    <th scope="col">"Attempt"</th>
                    <th scope="col">"HTTP status"</th>
                    <th scope="col">"Outcome"</th>
                    <th scope="col">"Call"</th>
                    <th scope="col">"Next retry"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn AddEndpoint(create: ServerAction<CreateWebhook>, kept: Option<CreatedWebhook>, allow_http: bool) -> impl IntoView {
    let error = action_error(create.value());
    let kept = StoredValue::new(kept);
    let created = move || kept.get_value();
    // After a refused plain form post, the events as ticked; otherwise all of them.
    let refilled = refill(CreateWebhook::PATH, "url").is_some();
    let typed_events = refill_list(CreateWebhook::PATH, "events");
    let url_error = move || error.get().and_then(|e: AppError| e.field("url"));
    let boxes = WebhookEvent::ALL
        .into_iter()
        .map(|event| {
            let checked = !refilled || typed_events.iter().any(|t| t == event.as_str());
            view! {
                <label class="check">
                    <input type="checkbox" name="events[]" value=event.as_str() checked=checked />
                    <code>{event.as_str()}</code>
                    <span class="hint">{format!(" — {}", event.description())}</span>
                </label>
            }
        })
        .collect_view();
    let url_hint = if allow_http {
        "Crier POSTs each event here. https:// (http:// is allowed on this Crier for development), on a public address unless the operator allows an internal one."
    } else {
        "Crier POSTs each event here. It must start with https:// and be on a public address (internal ones only where the operator allows them)."
    };
    view! {
        <h2>"Add an endpoint"</h2>
        <section class="panel">
            <ActionForm action=create attr:class="stack">
                <FormKey />
                <FormError error />
                <div class="field">
                    <label for="webhook-url">"URL"</label>
                    <p class="hint" id="webhook-url-hint">{url_hint}</p>
                    <input id="webhook-url" name="url" type="url" required placeholder="https://example.com/hooks/crier"
                        autocomplete="off" aria-describedby="webhook-url-hint"
                        aria-invalid=move || url_error().map(|_| "true")
                        value=refill(CreateWebhook::PATH, "url").unwrap_or_default() />
                    <FieldMessage name="url" error />
                </div>
                <fieldset>
                    <legend>"Events"</legend>
                    {boxes}
                    <FieldMessage name="events" error />
                </fieldset>
                <div><button type="submit">"Add endpoint"</button></div>
            </ActionForm>
            <Show when=move || created().is_some()>
                <div class="field invite-link" data-signing-secret="">
                    <label for="webhook-secret">"Signing secret"</label>
                    <p class="hint">"For " {move || created().map(|c| c.url)} ". Store it with your receiver now: it is not shown again."</p>
                    <input id="webhook-secret" readonly value=move || created().map(|c| c.secret) />
                </div>
            </Show>
        </section>
    }
}
