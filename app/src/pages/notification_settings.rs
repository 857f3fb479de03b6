//! `/settings/notifications`: what the signed-in member is told of, under the bell and by email
//! (one box per kind and channel, everything on until turned off), and the team's Slack and
//! Microsoft Teams channels (owners and admins add and remove them) with the latest emails and
//! posts sent. Rendered on the server; plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use server_fn::ServerFn;

use crate::components::form::{FormError, FormKey, Notice, action_error, kept_notice, refill, refill_list};
use crate::pages::compose::FieldMessage;
use crate::server::notifications::{
    AddChatChannel, ChatHookView, MessageLine, NotificationSettingsView, RemoveChatChannel, SaveNotificationChoices, notification_settings,
};

/// The page.
#[component]
pub fn NotificationSettingsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| notification_settings());
    let save = ServerAction::<SaveNotificationChoices>::new();
    let add = ServerAction::<AddChatChannel>::new();
    let remove = ServerAction::<RemoveChatChannel>::new();
    let saved = move || kept_notice(SaveNotificationChoices::PATH).or_else(|| kept_notice(AddChatChannel::PATH));
    let save_error = action_error(save.value());
    let remove_error = action_error(remove.value());
    view! {
        <Title text="Notification settings" />
        <h1>"Notification settings"</h1>
        <p><A href="/settings">"← Settings"</A></p>
        <Notice message=saved />
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(settings) => view! { <Settings settings save add remove save_error remove_error /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Settings(
    settings: NotificationSettingsView,
    save: ServerAction<SaveNotificationChoices>,
    add: ServerAction<AddChatChannel>,
    remove: ServerAction<RemoveChatChannel>,
    save_error: Signal<Option<crate::errors::AppError>>,
    remove_error: Signal<Option<crate::errors::AppError>>,
) -> impl IntoView {
    let email_hint = if settings.email_available {
        "Emails wait a minute, so that several things at once come as one email."
    } else {
        "This Crier sends no email (its operator has not set CRIER_SMTP_URL): your email choices apply once it does."
    };
    let rows = settings
        .kinds
        .into_iter()
        .map(|k| {
            let (app_value, email_value) = (format!("{}:app", k.kind), format!("{}:email", k.kind));
            let (app_label, email_label) = (format!("{}: in Crier", k.label), format!("{}: by email", k.label));
            view! {
                <tr>
                    <th scope="row">{k.label}</th>
                    <td><input type="checkbox" name="on[]" value=app_value checked=k.app aria-label=app_label /></td>
                    <td><input type="checkbox" name="on[]" value=email_value checked=k.email aria-label=email_label /></td>
                </tr>
            }
        })
        .collect_view();
    let chat = (settings.can_manage || !settings.hooks.is_empty()).then(|| {
        view! {
            <h2>"Team chat channels"</h2>
            <p class="hint">"Crier posts to these Slack or Microsoft Teams channels through their incoming webhooks, for the whole team."</p>
            <FormError error=remove_error />
            <ChatHooks hooks=settings.hooks.clone() can_manage=settings.can_manage remove />
            {settings.can_manage.then(|| view! { <AddChannel add kinds=settings.chat_kinds.clone() allow_http=settings.allow_http /> })}
        }
    });
    let log = (!settings.log.is_empty()).then(|| view! { <MessageLog lines=settings.log.clone() /> });
    view! {
        <section class="panel">
            <h2>"What you are told of"</h2>
            <p class="hint">{email_hint}</p>
            <ActionForm action=save attr:class="stack">
                <FormError error=save_error />
                <table class="choices">
                    <thead><tr><th scope="col">"When"</th><th scope="col">"In Crier"</th><th scope="col">"Email"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                <div><button type="submit">"Save"</button></div>
            </ActionForm>
        </section>
        {chat}
        {log}
    }
}

#[component]
fn ChatHooks(hooks: Vec<ChatHookView>, can_manage: bool, remove: ServerAction<RemoveChatChannel>) -> impl IntoView {
    if hooks.is_empty() {
        return view! { <p class="hint">"No channels yet."</p> }.into_any();
    }
    hooks
        .into_iter()
        .map(|h| {
            let remove_label = format!("Remove {}", h.label);
            let id = h.hook_id.clone();
            view! {
                <section class="panel" data-chat-hook=h.hook_id>
                    <h3>{h.label} " " <small class="hint">{format!("{} · {}", h.service, h.url_hint)}</small></h3>
                    <p>{format!("Told of: {}.", h.kinds.join(", "))}</p>
                    {can_manage.then(|| view! {
                        <ActionForm action=remove>
                            <input type="hidden" name="hook_id" value=id />
                            <button type="submit" class="danger" aria-label=remove_label>"Remove"</button>
                        </ActionForm>
                    })}
                </section>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
fn AddChannel(add: ServerAction<AddChatChannel>, kinds: Vec<(String, String)>, allow_http: bool) -> impl IntoView {
    let error = action_error(add.value());
    let refilled = refill(AddChatChannel::PATH, "label").is_some();
    let typed_kinds = refill_list(AddChatChannel::PATH, "kinds");
    let service = refill(AddChatChannel::PATH, "service").unwrap_or_else(|| "slack".into());
    let boxes = kinds
        .into_iter()
        .map(|(name, words)| {
            let checked = !refilled || typed_kinds.contains(&name);
            view! { <label class="check"><input type="checkbox" name="kinds[]" value=name checked=checked />" " {words}</label> }
        })
        .collect_view();
    let url_hint = if allow_http {
        "The incoming webhook's URL from Slack (Apps → Incoming Webhooks) or Teams (Workflows → “Post to a channel when a webhook request is received”). http:// is allowed on this Crier for development."
    } else {
        "The incoming webhook's URL from Slack (Apps → Incoming Webhooks) or Teams (Workflows → “Post to a channel when a webhook request is received”), starting with https://. It is kept encrypted and not shown again."
    };
    let url_error = move || error.get().and_then(|e| e.field("url"));
    view! {
        <h3>"Add a channel"</h3>
        <section class="panel">
            <ActionForm action=add attr:class="stack">
                <FormKey />
                <FormError error />
                <div class="field">
                    <label for="chat-service">"Service"</label>
                    <select id="chat-service" name="service">
                        <option value="slack" selected=service == "slack">"Slack"</option>
                        <option value="teams" selected=service == "teams">"Microsoft Teams"</option>
                    </select>
                    <FieldMessage name="service" error />
                </div>
                <div class="field">
                    <label for="chat-label">"Name"</label>
                    <input id="chat-label" name="label" required maxlength="80" placeholder="#social"
                        value=refill(AddChatChannel::PATH, "label").unwrap_or_default() />
                    <FieldMessage name="label" error />
                </div>
                <div class="field">
                    <label for="chat-url">"Webhook URL"</label>
                    <p class="hint" id="chat-url-hint">{url_hint}</p>
                    <input id="chat-url" name="url" type="url" required autocomplete="off" aria-describedby="chat-url-hint"
                        aria-invalid=move || url_error().map(|_| "true") />
                    <FieldMessage name="url" error />
                </div>
                <fieldset>
                    <legend>"Post when"</legend>
                    {boxes}
                    <FieldMessage name="kinds" error />
                </fieldset>
                <div><button type="submit">"Add channel"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn MessageLog(lines: Vec<MessageLine>) -> impl IntoView {
    let rows = lines
        .into_iter()
        .map(|l| {
            view! {
                <tr>
                    <td>{l.when}</td>
                    <td>{l.channel}</td>
                    <td>{l.kind}</td>
                    <td><span class=format!("chip {}", l.state)>{l.state.clone()}</span>{l.error.map(|e| view! { <br /><small class="hint">{e}</small> })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>"Recently sent"</h2>
        <table class="webhook-log">
            <caption>"The team's latest emails and chat posts"</caption>
            <thead><tr><th scope="col">"When"</th><th scope="col">"Channel"</th><th scope="col">"About"</th><th scope="col">"State"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
