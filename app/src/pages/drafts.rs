//! `/drafts`: the team's drafts, the latest saved first: the start of each one's text, when it is
//! planned for, the accounts it is meant for, who started it and when it was last saved; "Open"
//! takes it back into Compose (to write on, schedule or publish), "Discard" drops it. Rendered on
//! the server; plain links and forms, so it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::components::form::{Notice, action_error, kept_notice};
use crate::components::platform_icon::PlatformIcon;
use crate::server::drafts::{DiscardDraft, DraftRow, drafts_view};

/// The Drafts page.
#[component]
pub fn DraftsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| drafts_view());
    let discard = ServerAction::<DiscardDraft>::new();
    let error = action_error(discard.value());
    let done = move || kept_notice(DiscardDraft::PATH);
    view! {
        <Title text="Drafts" />
        <h1>"Drafts"</h1>
        <p class="hint">"Posts not scheduled yet: being written, waiting for " <a href="/review">"review"</a> ", sent back with changes requested, or approved without a time to go out at. Open one to go on with it."</p>
        <Notice message=done />
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.page_message()}</p> })}
        <Suspense fallback=|| view! { <p class="hint">"Loading the drafts…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) if view.drafts.is_empty() => view! {
                        <p>"No drafts. In " <a href="/compose">"Compose"</a> ", “Save draft” keeps a post here without scheduling it."</p>
                    }.into_any(),
                    Ok(view) => {
                        let more = (view.total > view.drafts.len() as i64)
                            .then(|| view! { <p class="hint">{format!("The latest {} of {} drafts.", view.drafts.len(), view.total)}</p> });
                        let can_edit = view.can_edit;
                        let rows = view.drafts.into_iter().map(|d| draft_row(d, can_edit, discard)).collect_view();
                        view! { {more} <ul class="drafts stack">{rows}</ul> }.into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn draft_row(draft: DraftRow, can_edit: bool, discard: ServerAction<DiscardDraft>) -> impl IntoView {
    let accounts = if draft.accounts.is_empty() {
        view! { <span class="hint">"No accounts chosen yet"</span> }.into_any()
    } else {
        draft
            .accounts
            .into_iter()
            .map(|(platform, name)| view! { <span class="chip"><PlatformIcon platform size=14 />{name}</span> })
            .collect_view()
            .into_any()
    };
    let open = format!("/compose?draft={}", draft.post_id);
    let post_id = draft.post_id.clone();
    let discard_label = format!("Discard the draft “{}”", draft.text.chars().take(40).collect::<String>());
    view! {
        <li class="post-line draft" data-post=draft.post_id.clone()>
            <a href=open>{draft.text}</a>
            <small class="hint">{format!("{} · {} · saved {} by {}", draft.state, draft.planned, draft.saved, draft.author)}</small>
            <span class="chips">{accounts}</span>
            {(can_edit && draft.discardable).then(move || view! {
                <ActionForm action=discard attr:class="inline">
                    <input type="hidden" name="post_id" value=post_id />
                    <button type="submit" class="danger" aria-label=discard_label>"Discard"</button>
                </ActionForm>
            })}
        </li>
    }
}
