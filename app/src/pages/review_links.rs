//! `/settings/review-links`: the team's client review links (label, what each shares, until when
//! it works), "Create link" for one post or a range of days, and "Revoke". Owners and admins
//! create and revoke; everyone sees the list. Plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use server_fn::ServerFn;

use crate::components::form::{FormError, Notice, action_error, kept_notice, kept_secret, refill};
use crate::pages::compose::FieldMessage;
use crate::server::review_links::{CreateReviewLink, LinkRow, RevokeReviewLink, review_links_page};

/// Settings → Review links. `?post=<id>` starts the form on that post (the post page's "Share
/// for review").
#[component]
pub fn ReviewLinksPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| review_links_page());
    let create = ServerAction::<CreateReviewLink>::new();
    let revoke = ServerAction::<RevokeReviewLink>::new();
    let error = action_error(create.value());
    let done = move || kept_notice(RevokeReviewLink::PATH);
    // The new link, shown this once (sealed in the session until this page view).
    let created = kept_secret(CreateReviewLink::PATH, "link_url");
    let post = refill(CreateReviewLink::PATH, "post_id").or_else(|| use_query_map().read_untracked().get("post")).unwrap_or_default();
    let value = |field: &'static str, default: &str| refill(CreateReviewLink::PATH, field).unwrap_or_else(|| default.to_owned());
    let (label, from, until, days) = (value("label", ""), value("from", ""), value("until", ""), value("days", "14"));
    view! {
        <Title text="Review links" />
        <h1>"Review links"</h1>
        <p class="hint">"A review link shows one post, or the posts due in a range of days, to someone without a Crier account (a client), as each platform will show them, and takes their approval or what to change as a comment. It shows nothing else of the team, expires, and can be revoked."</p>
        <Notice message=done />
        {created.map(|url| view! {
            <div class="field invite-link notice" role="status">
                <label for="review-link">"Review link"</label>
                <p class="hint">"Link created. Copy it now and send it: it is not shown again."</p>
                <input id="review-link" readonly value=url />
            </div>
        })}
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let manage = page.can_manage;
                        let rows = page.links.into_iter().map(|l| link_row(l, manage, revoke)).collect_view();
                        view! { <ul class="drafts stack">{rows}</ul> }.into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <h2>"Create a link"</h2>
        <ActionForm action=create attr:class="panel stack">
            <FormError error />
            <div class="field">
                <label for="label">"Label"</label>
                <input id="label" name="label" required maxlength="100" value=label placeholder="Acme's marketing team" />
                <FieldMessage name="label" error />
            </div>
            <div class="field">
                <label for="post_id">"One post (its id, from its page)"</label>
                <input id="post_id" name="post_id" value=post />
            </div>
            <fieldset>
                <legend>"Or the posts due in a range of days (your timezone)"</legend>
                <div class="field"><label for="from">"From"</label><input id="from" name="from" type="date" value=from /></div>
                <div class="field"><label for="until">"Until (inclusive)"</label><input id="until" name="until" type="date" value=until /></div>
                <FieldMessage name="from" error />
                <FieldMessage name="until" error />
            </fieldset>
            <div class="field">
                <label for="days">"Works for (days, 1 to 90)"</label>
                <input id="days" name="days" type="number" min="1" max="90" value=days />
                <FieldMessage name="days" error />
            </div>
            <div><button type="submit">"Create link"</button></div>
        </ActionForm>
    }
}

fn link_row(link: LinkRow, manage: bool, revoke: ServerAction<RevokeReviewLink>) -> impl IntoView {
    let label = format!("Revoke the link “{}”", link.label);
    let id = link.link_id.clone();
    view! {
        <li class="post-line" data-link=link.link_id>
            <strong>{link.label}</strong>
            <small class="hint">{format!("{} · {}", link.scope, link.status)}</small>
            {(manage && link.live).then(move || view! {
                <ActionForm action=revoke attr:class="inline">
                    <input type="hidden" name="link_id" value=id />
                    <button type="submit" class="danger" aria-label=label>"Revoke"</button>
                </ActionForm>
            })}
        </li>
    }
}
