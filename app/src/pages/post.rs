//! `/posts/:id`: one post, its deliveries with their permalinks and reasons, the attempts
//! timeline, "Retry" on a failed delivery and "Cancel" while nothing has started. Rendered on the
//! server with plain forms; while a delivery is publishing or due within a minute the page
//! reloads itself every 2 seconds (`ReloadWhileBusy`), so it shows them going out.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use server_fn::ServerFn;

use crate::components::activity::PostActivity;
use crate::components::form::{Notice, action_error, kept_notice, refill};
use crate::components::live::ReloadWhileBusy;
use crate::components::thumbs::Thumbs;
use crate::pages::compose::FieldMessage;
use crate::pages::dashboard::ChipView;
use crate::server::posts::{CancelPost, EditPost, PostView, RetryFailed, RetryFirstComment, post_page};
use crier_domain::delivery::DeliveryState;

/// A post's page.
#[component]
pub fn PostDetailPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(move || params.read().get("id").unwrap_or_default(), post_page);
    let retry = ServerAction::<RetryFailed>::new();
    let cancel = ServerAction::<CancelPost>::new();
    let edit = ServerAction::<EditPost>::new();
    let error = Signal::derive(move || action_error(retry.value()).get().or_else(|| action_error(cancel.value()).get()));
    view! {
        <Title text="Post" />
        <h1>"Post"</h1>
        <Show when=move || error.get().is_some()>
            <p class="form-error" role="alert">{move || error.get().map(|e| e.form_message().unwrap_or_else(|| e.to_string()))}</p>
        </Show>
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! {
                        // While something is about to change, the page reloads itself to show it.
                        {page.busy.then(|| view! { <ReloadWhileBusy /> })}
                        <PostBody page retry cancel edit />
                    }
                    .into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PostBody(
    page: PostView,
    retry: ServerAction<RetryFailed>,
    cancel: ServerAction<CancelPost>,
    edit: ServerAction<EditPost>,
) -> impl IntoView {
    let card = page.card;
    let activity = card.post_id.clone();
    let can_publish = page.can_publish;
    let sent = page.sent;
    let clicks = page.clicks;
    let first_comments = page.first_comments;
    let retry_comment = ServerAction::<RetryFirstComment>::new();
    let deliveries = card
        .chips
        .iter()
        .cloned()
        .map(|chip| {
            // What this delivery uploaded, and the platform's id for each.
            let uploaded: Vec<_> = sent.iter().filter(|m| m.delivery_id == chip.delivery_id).cloned().collect();
            let uploaded = (!uploaded.is_empty()).then(|| {
                let lines = uploaded
                    .into_iter()
                    .map(|m| {
                        let expires = m.expires.map(|at| format!(", unused until {at}")).unwrap_or_default();
                        view! {
                            <li>
                                {m.file_name} " (" {m.place} "): " {chip.platform.label()} " media id " <code>{m.platform_media_id}</code>
                                <small class="hint">{format!(" uploaded {}{expires}", m.uploaded)}</small>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="sent-media" aria-label="Media sent">{lines}</ul> }
            });
            let link = chip
                .permalink
                .clone()
                .map(|href| view! { <a href=href.clone() rel="external noopener" target="_blank">"View the post"</a> });
            let reason = chip.error.clone().map(|e| view! { <p class="hint reason">{e}</p> });
            let next = chip.next_attempt.clone().map(|t| view! { <p class="hint">{format!("Next attempt {t}")}</p> });
            let clicked = clicks.iter().find(|(id, _)| *id == chip.delivery_id).map(|(_, n)| {
                let words = if *n == 1 { "1 click on its short links".to_owned() } else { format!("{n} clicks on its short links") };
                view! { <p class="hint" data-clicks=n.to_string()>{words}</p> }
            });
            let comment = first_comments.iter().find(|c| c.delivery_id == chip.delivery_id).cloned().map(|c| {
                let link = c.permalink.map(|href| view! { " · " <a href=href rel="external noopener" target="_blank">"View it"</a> });
                let why = c.error.map(|e| view! { <span class="hint">{format!(" — {e}")}</span> });
                let retry = c.can_retry.then(|| view! {
                    <ActionForm action=retry_comment attr:class="inline">
                        <input type="hidden" name="delivery_id" value=c.delivery_id.clone() />
                        <button type="submit" class="secondary">"Retry the comment"</button>
                    </ActionForm>
                });
                view! { <p class="first-comment" data-first-comment=c.state.to_lowercase()>{format!("First comment: {}", c.state)}{link}{why}</p>{retry} }
            });
            let failed = chip.state == DeliveryState::Failed && can_publish;
            let (delivery_id, row_id, account) = (chip.delivery_id.clone(), chip.delivery_id.clone(), chip.account.clone());
            view! {
                <li class="delivery" data-delivery=row_id>
                    <ChipView chip />
                    {link}
                    {reason}
                    {next}
                    {clicked}
                    {comment}
                    {uploaded}
                    {failed.then(|| view! {
                        <ActionForm action=retry attr:class="inline">
                            <input type="hidden" name="delivery_id" value=delivery_id.clone() />
                            <button type="submit" aria-label=format!("Retry {account}")>"Retry"</button>
                        </ActionForm>
                    })}
                </li>
            }
        })
        .collect_view();
    let attempts = if page.attempts.is_empty() {
        view! { <p class="hint">"No attempts yet."</p> }.into_any()
    } else {
        let rows = page
            .attempts
            .into_iter()
            .map(|a| {
                view! {
                    <tr>
                        <td>{a.started}</td>
                        <td>{a.account}</td>
                        <td>{a.attempt}</td>
                        <td>{a.outcome}</td>
                        <td>{a.http_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into())}</td>
                        <td>{a.duration_ms.map(|d| format!("{d} ms")).unwrap_or_else(|| "—".into())}</td>
                        <td>{a.error.unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="attempts">
                <thead><tr>
                    <th scope="col">"When"</th><th scope="col">"Account"</th><th scope="col">"Attempt"</th>
                    <th scope="col">"Outcome"</th><th scope="col">"HTTP"</th><th scope="col">"Took"</th><th scope="col">"Platform said"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let editor = (card.editable && can_publish).then(|| {
        view! {
            <EditForm
                edit
                post_id=card.post_id.clone()
                text=page.text.clone()
                link=page.link.clone().unwrap_or_default()
                overrides=page.overrides.clone()
                thread=page.thread.clone()
                scheduled_local=page.scheduled_local.clone()
            />
        }
    });
    let overrides = page
        .overrides
        .into_iter()
        .map(|(platform, text)| view! { <p><strong>{format!("For {}: ", platform.label())}</strong>{text}</p> })
        .collect_view();
    let comment_texts = page
        .first_comment_texts
        .into_iter()
        .map(|(platform, text)| view! { <p><strong>{format!("First comment on {}: ", platform.label())}</strong>{text}</p> })
        .collect_view();
    let thread = page.thread.into_iter().enumerate().map(|(i, t)| view! { <li>{format!("Reply {}: {t}", i + 1)}</li> }).collect_view();
    let media = (!page.media_lists.is_empty()).then(|| {
        let single = page.media_lists.len() == 1;
        let lists = page
            .media_lists
            .into_iter()
            .map(|list| {
                let label = (!single).then(|| view! { <p class="hint">{list.label}</p> });
                view! { <div class="media-list">{label}<Thumbs media=list.items max=20 size=96 /></div> }
            })
            .collect_view();
        view! { <div class="post-media">{lists}</div> }
    });
    let cancellable = can_publish
        && card.chips.iter().any(|c| matches!(c.state, DeliveryState::Scheduled | DeliveryState::Retrying | DeliveryState::Held));
    let (post_id, retry_post_id) = (card.post_id.clone(), card.post_id.clone());
    let any_failed = can_publish && card.chips.iter().filter(|c| c.state == DeliveryState::Failed).count() > 1;
    view! {
        <section class="panel stack">
            <p class="post-text">{page.text}</p>
            {media}
            {page.link.map(|l| view! { <p>"Link: " <a href=l.clone() rel="external noopener">{l.clone()}</a></p> })}
            {overrides}
            <ol class="thread">{thread}</ol>
            {comment_texts}
            <p class="hint">{if card.dry_run { format!("Due {} · dry run", card.when) } else { format!("Due {}", card.when) }}</p>
            <p class="hint" data-retry-policy="">{format!("Retries: {}", page.retry.describe())}</p>
            <p class="hint" data-link-tracking="">{format!("Link tracking: {}", page.tracking)}</p>
            {cancellable.then(|| view! {
                <ActionForm action=cancel attr:class="inline">
                    <input type="hidden" name="post_id" value=post_id.clone() />
                    <button type="submit" class="danger">"Cancel what has not gone out"</button>
                </ActionForm>
            })}
            {any_failed.then(|| view! {
                <ActionForm action=retry attr:class="inline">
                    <input type="hidden" name="post_id" value=retry_post_id.clone() />
                    <button type="submit" class="secondary">"Retry all failed"</button>
                </ActionForm>
            })}
        </section>
        {editor}
        <h2>"Deliveries"</h2>
        <ul class="deliveries">{deliveries}</ul>
        <h2>"Attempts"</h2>
        {attempts}
        <p><a href=format!("/settings/review-links?post={activity}")>"Share for review with a client"</a></p>
        <PostActivity post_id=activity />
    }
}

/// "Edit or reschedule", while nothing has started publishing. Per-platform texts and the thread
/// are kept as they are.
#[component]
fn EditForm(
    edit: ServerAction<EditPost>,
    post_id: String,
    text: String,
    link: String,
    overrides: Vec<(crier_platform::Platform, String)>,
    thread: Vec<String>,
    scheduled_local: String,
) -> impl IntoView {
    let error = action_error(edit.value());
    let saved = move || kept_notice(EditPost::PATH);
    // After a refused plain post the form comes back open, with what was typed.
    let text = refill(EditPost::PATH, "text").unwrap_or(text);
    let link = refill(EditPost::PATH, "link").unwrap_or(link);
    let scheduled_local = refill(EditPost::PATH, "scheduled_at").unwrap_or(scheduled_local);
    let open = error.get_untracked().is_some();
    let kept = overrides
        .into_iter()
        .map(|(platform, text)| view! { <input type="hidden" name=format!("text_{}", platform.as_str()) value=text /> })
        .collect_view();
    let replies = thread.into_iter().map(|t| view! { <input type="hidden" name="thread[]" value=t /> }).collect_view();
    view! {
        // Outside the form: after a plain post the page comes back with the form closed.
        <Notice message=saved />
        <details class="panel" open=open>
            <summary>"Edit or reschedule"</summary>
            <p class="hint">"The media stay as they are."</p>
            <ActionForm action=edit attr:class="stack">
                <input type="hidden" name="post_id" value=post_id />
                {kept}
                {replies}
                <div class="field">
                    <label for="edit-text">"Text"</label>
                    <textarea id="edit-text" name="text" rows="4" required>{text}</textarea>
                    <FieldMessage name="text" error />
                </div>
                <div class="field">
                    <label for="edit-link">"Link"</label>
                    <input id="edit-link" name="link" type="url" value=link />
                    <FieldMessage name="link" error />
                </div>
                <div class="field">
                    <label for="edit-when">"Date and time"</label>
                    <input id="edit-when" name="scheduled_at" type="datetime-local" required value=scheduled_local />
                    <FieldMessage name="scheduled_at" error />
                    <FieldMessage name="occurrence" error />
                </div>
                <FieldMessage name="post" error />
                <div><button type="submit">"Save changes"</button></div>
            </ActionForm>
        </details>
    }
}
