//! `/review`: what waits for approval in the team, oldest first: each post's whole text, its
//! accounts, planned time and author, how many approvals it has, and (for an approver who did not
//! write it) Approve, or Request changes with a comment. Rendered on the server; plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::components::form::{Notice, action_error, decision_fields, kept_notice, refill};
use crate::components::platform_icon::PlatformIcon;
use crate::server::reviews::{DecidePost, ReviewRow, review_page};

/// The Review page.
#[component]
pub fn ReviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| review_page());
    let decide = ServerAction::<DecidePost>::new();
    let error = action_error(decide.value());
    let done = move || kept_notice(DecidePost::PATH);
    view! {
        <Title text="Review" />
        <h1>"Review"</h1>
        <Notice message=done />
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.page_message()}</p> })}
        <Suspense fallback=|| view! { <p class="hint">"Loading what waits for review…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let policy = view! { <p class="hint">{page.policy} " " <a href="/settings">"Settings"</a> " changes it."</p> };
                        if page.posts.is_empty() {
                            view! { {policy} <p>"Nothing waits for review."</p> }.into_any()
                        } else {
                            let rows = page.posts.into_iter().map(|p| review_row(p, decide)).collect_view();
                            view! { {policy} <ul class="drafts stack">{rows}</ul> }.into_any()
                        }
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn review_row(post: ReviewRow, decide: ServerAction<DecidePost>) -> impl IntoView {
    let accounts = post
        .accounts
        .into_iter()
        .map(|(platform, name)| view! { <span class="chip"><PlatformIcon platform size=14 />{name}</span> })
        .collect_view();
    let comment_id = format!("comment-{}", post.post_id);
    let post_id = post.post_id.clone();
    // What a refused decision typed comes back into its own post's comment box.
    let typed = (refill(DecidePost::PATH, "post_id").as_deref() == Some(post.post_id.as_str()))
        .then(|| refill(DecidePost::PATH, "comment"))
        .flatten()
        .unwrap_or_default();
    let decision = match post.cannot_decide {
        Some(why) => view! { <p class="hint">{why}</p> }.into_any(),
        None => view! {
            <ActionForm action=decide attr:class="stack">
                <input type="hidden" name="post_id" value=post_id />
                {decision_fields(comment_id, typed)}
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <li class="post-line" data-post=post.post_id.clone()>
            <p class="post-text">{post.text}</p>
            <small class="hint">{format!("{} · by {} · {}", post.planned, post.author, post.progress)}</small>
            <span class="chips">{accounts}</span>
            {decision}
        </li>
    }
}
