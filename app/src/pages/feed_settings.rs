//! `/settings/feeds`: the RSS and Atom feeds the team follows. Owners and admins add one (its
//! address, accounts, template, and what new items become), check it now, or remove it; everyone
//! sees each feed's last poll, its last error and the posts it made. Rendered on the server;
//! plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use server_fn::ServerFn;

use crate::components::form::{FormError, FormKey, Notice, action_error, kept_notice, refill, refill_list};
use crate::pages::compose::FieldMessage;
use crate::server::feeds::{AddFeed, CheckFeed, FeedAccountChoice, FeedRow, FeedSettingsView, RemoveFeed, feed_settings};

/// The template the form starts with.
const DEFAULT_TEMPLATE: &str = "{title} {link}";

/// The page.
#[component]
pub fn FeedSettingsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| feed_settings());
    let add = ServerAction::<AddFeed>::new();
    let remove = ServerAction::<RemoveFeed>::new();
    let check = ServerAction::<CheckFeed>::new();
    let notice = move || kept_notice(AddFeed::PATH).or_else(|| kept_notice(RemoveFeed::PATH)).or_else(|| kept_notice(CheckFeed::PATH));
    let remove_error = action_error(remove.value());
    let check_error = action_error(check.value());
    view! {
        <Title text="Feeds" />
        <h1>"Feeds"</h1>
        <p><A href="/settings">"← Settings"</A></p>
        <Notice message=notice />
        <FormError error=remove_error />
        <FormError error=check_error />
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(settings) => view! { <Feeds settings add remove check /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Feeds(
    settings: FeedSettingsView,
    add: ServerAction<AddFeed>,
    remove: ServerAction<RemoveFeed>,
    check: ServerAction<CheckFeed>,
) -> impl IntoView {
    let how = format!(
        "Crier reads each feed at most every {} minutes (asking only for what changed), and turns each new item into a post \
         written from the feed's template. Items already in a feed when it is added are left alone: the first read takes only \
         items published after that (an undated item waits for the second read). At most 10 items are taken a read; each \
         item once, ever. An item whose post cannot go out (too long for X, say) is skipped, and the feed says why.",
        settings.min_interval_minutes
    );
    let can_manage = settings.can_manage;
    let list = if settings.feeds.is_empty() {
        view! { <p class="hint">"No feeds yet."</p> }.into_any()
    } else {
        settings.feeds.into_iter().map(|feed| view! { <Feed feed can_manage remove check /> }).collect_view().into_any()
    };
    view! {
        <p class="hint">{how}</p>
        {list}
        {can_manage.then(|| view! {
            <AddFeedForm add accounts=settings.accounts.clone() modes=settings.modes.clone() allow_http=settings.allow_http />
        })}
    }
}

#[component]
fn Feed(feed: FeedRow, can_manage: bool, remove: ServerAction<RemoveFeed>, check: ServerAction<CheckFeed>) -> impl IntoView {
    let (check_id, remove_id) = (feed.feed_id.clone(), feed.feed_id.clone());
    let remove_label = format!("Remove {}", feed.name);
    let check_label = format!("Check now: {}", feed.name);
    let items = if feed.items.is_empty() {
        view! { <p class="hint">"No posts from this feed yet."</p> }.into_any()
    } else {
        let rows = feed
            .items
            .into_iter()
            .map(|i| {
                let what = match i.post_link {
                    Some(link) => view! { <a href=link>{i.what}</a> }.into_any(),
                    None => view! { <span>{i.what}</span> }.into_any(),
                };
                view! {
                    <tr data-item-state=i.state>
                        <td data-label="Seen">{i.when}</td>
                        <td data-label="Item">{i.title}</td>
                        <td data-label="Became">{what}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="webhook-log">
                <caption>"Latest items"</caption>
                <thead><tr><th scope="col">"Seen"</th><th scope="col">"Item"</th><th scope="col">"Became"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="panel rss-feed" data-feed=feed.feed_id.clone()>
            <h2>{feed.name}</h2>
            <p><small class="hint">{feed.url}</small></p>
            <p>{format!("{} · to {}", feed.mode, feed.accounts.join(", "))}</p>
            <p>"Template: " <code>{feed.template}</code></p>
            <p>"Last poll: " {feed.last_poll}</p>
            {feed.last_error.map(|e| view! { <p class="form-error" role="alert">"Last error: " {e}</p> })}
            <p class="hint">"Next poll: " {feed.next_poll}</p>
            {can_manage.then(|| view! {
                <div class="actions">
                    <ActionForm action=check>
                        <input type="hidden" name="feed_id" value=check_id />
                        <button type="submit" aria-label=check_label>"Check now"</button>
                    </ActionForm>
                    <ActionForm action=remove>
                        <input type="hidden" name="feed_id" value=remove_id />
                        <button type="submit" class="danger" aria-label=remove_label>"Remove"</button>
                    </ActionForm>
                </div>
            })}
            {items}
        </section>
    }
}

#[component]
fn AddFeedForm(
    add: ServerAction<AddFeed>,
    accounts: Vec<FeedAccountChoice>,
    modes: Vec<(String, String)>,
    allow_http: bool,
) -> impl IntoView {
    let error = action_error(add.value());
    let typed_accounts = refill_list(AddFeed::PATH, "accounts");
    let mode = refill(AddFeed::PATH, "mode").unwrap_or_else(|| "draft".into());
    let template = refill(AddFeed::PATH, "template").unwrap_or_else(|| DEFAULT_TEMPLATE.into());
    let boxes = if accounts.is_empty() {
        view! { <p class="hint">"Connect an account first (Accounts → Connect)."</p> }.into_any()
    } else {
        accounts
            .into_iter()
            .map(|a| {
                let checked = typed_accounts.contains(&a.account_id);
                view! { <label class="check"><input type="checkbox" name="accounts[]" value=a.account_id checked=checked />" " {a.label}</label> }
            })
            .collect_view()
            .into_any()
    };
    let choices = modes
        .into_iter()
        .map(|(name, words)| {
            let checked = name == mode;
            view! { <label class="check"><input type="radio" name="mode" value=name checked=checked />" " {words}</label> }
        })
        .collect_view();
    let url_hint = if allow_http {
        "The feed's address (RSS or Atom). http:// is allowed on this Crier for development."
    } else {
        "The feed's address (RSS or Atom), starting with https://."
    };
    let url_error = move || error.get().and_then(|e| e.field("url"));
    let template_error = move || error.get().and_then(|e| e.field("template"));
    view! {
        <h2>"Add a feed"</h2>
        <section class="panel">
            <ActionForm action=add attr:class="stack">
                <FormKey />
                <FormError error />
                <div class="field">
                    <label for="feed-url">"Feed address"</label>
                    <p class="hint" id="feed-url-hint">{url_hint}</p>
                    <input id="feed-url" name="url" type="url" required maxlength="2048" autocomplete="off" aria-describedby="feed-url-hint"
                        placeholder="https://example.com/feed.xml"
                        value=refill(AddFeed::PATH, "url").unwrap_or_default()
                        aria-invalid=move || url_error().map(|_| "true") />
                    <FieldMessage name="url" error />
                </div>
                <fieldset>
                    <legend>"Post to"</legend>
                    {boxes}
                    <FieldMessage name="accounts" error />
                </fieldset>
                <div class="field">
                    <label for="feed-template">"Template"</label>
                    <p class="hint" id="feed-template-hint">"The post's text: {title}, {link} and {summary} are replaced by the item's (at most 1,000 characters)."</p>
                    <textarea id="feed-template" name="template" rows="3" maxlength="1000" required aria-describedby="feed-template-hint"
                        aria-invalid=move || template_error().map(|_| "true")>{template}</textarea>
                    <FieldMessage name="template" error />
                </div>
                <fieldset>
                    <legend>"New items become"</legend>
                    {choices}
                    <FieldMessage name="mode" error />
                </fieldset>
                <div><button type="submit">"Add feed"</button></div>
            </ActionForm>
        </section>
    }
}
