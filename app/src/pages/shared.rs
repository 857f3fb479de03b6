//! `/r/:token`: what a client review link opens, without a Crier account: the link's posts as each
//! platform will show them, and for each, Approve or Request changes with a comment. Nothing else
//! of the team is reachable from here. Server-rendered; plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use server_fn::ServerFn;

use crate::components::form::{Notice, action_error, decision_fields, kept_notice, refill};
use crate::server::PasswordField;
use crate::server::review_links::{SharedDecide, SharedPost, shared_page};

/// The review link's page.
#[component]
pub fn SharedPage() -> impl IntoView {
    let token = use_params_map().read_untracked().get("token").unwrap_or_default();
    let data = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        |token| shared_page(PasswordField(token)),
    );
    let decide = ServerAction::<SharedDecide>::new();
    let error = action_error(decide.value());
    let done = move || kept_notice(SharedDecide::PATH);
    view! {
        <Title text="Review" />
        <main class="page">
            <Notice message=done />
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.page_message()}</p> })}
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || {
                    let token = token.clone();
                    Suspend::new(async move {
                        match data.await {
                            Ok(Some(page)) => {
                                let posts = page.posts.into_iter().map(|p| shared_post(p, token.clone(), decide)).collect_view();
                                view! {
                                    <h1>{format!("Review: {}", page.label)}</h1>
                                    <p class="hint">{format!("This link works until {}. Approve each post, or say what to change.", page.until)}</p>
                                    <ul class="drafts stack">{posts}</ul>
                                }
                                .into_any()
                            }
                            Ok(None) => view! {
                                <h1>"This link does not open"</h1>
                                <p>"It has expired or been revoked, or it was copied incompletely. Ask the team that sent it for a new one."</p>
                            }
                            .into_any(),
                            Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}

fn shared_post(post: SharedPost, token: String, decide: ServerAction<SharedDecide>) -> impl IntoView {
    let field = format!("comment-{}", post.post_id);
    let typed = (refill(SharedDecide::PATH, "post_id").as_deref() == Some(post.post_id.as_str()))
        .then(|| refill(SharedDecide::PATH, "comment"))
        .flatten()
        .unwrap_or_default();
    view! {
        <li class="post-line">
            <small class="hint">{format!("Goes out {}", post.when)}</small>
            <div class="previews" inner_html=post.previews></div>
            <ActionForm action=decide attr:class="stack">
                <input type="hidden" name="token" value=token />
                <input type="hidden" name="post_id" value=post.post_id />
                {decision_fields(field, typed)}
            </ActionForm>
        </li>
    }
}
