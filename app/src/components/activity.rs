//! A post's activity: its events, review decisions and comments in one feed, oldest first, with a
//! box to comment (`@name` mentions a team member) and, on one's own comments, Edit and Delete.
//! Server-rendered, plain forms: it works without JavaScript and costs the wasm nothing.

use leptos::prelude::*;
use server_fn::ServerFn;

use crate::components::form::{Notice, action_error, kept_notice, refill};
use crate::server::comments::{ActivityRow, AddComment, DeleteComment, EditComment, post_activity};

/// The activity of the post `post_id`.
#[component]
pub fn PostActivity(post_id: String) -> impl IntoView {
    let id = post_id.clone();
    let data = Resource::new(|| (), move |_| post_activity(id.clone()));
    let add = ServerAction::<AddComment>::new();
    let edit = ServerAction::<EditComment>::new();
    let delete = ServerAction::<DeleteComment>::new();
    let error = Signal::derive(move || action_error(add.value()).get().or_else(|| action_error(edit.value()).get()));
    let done =
        move || kept_notice(AddComment::PATH).or_else(|| kept_notice(EditComment::PATH)).or_else(|| kept_notice(DeleteComment::PATH));
    // What a refused comment typed comes back into the box.
    let typed = refill(AddComment::PATH, "body").unwrap_or_default();
    view! {
        <section class="activity" aria-labelledby="activity-heading">
            <h2 id="activity-heading">"Activity"</h2>
            <Notice message=done />
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.page_message()}</p> })}
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(rows) => view! { <ol class="feed">{rows.into_iter().map(|row| item(row, edit, delete)).collect_view()}</ol> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <ActionForm action=add attr:class="stack">
                <input type="hidden" name="post_id" value=post_id />
                <div class="field">
                    <label for="comment-body">"Comment"</label>
                    <p class="hint" id="comment-body-hint">"Plain text; @name (the part of their email before the @) tells a team member."</p>
                    <textarea id="comment-body" name="body" rows="3" maxlength="4000" required aria-describedby="comment-body-hint">{typed}</textarea>
                </div>
                <div><button type="submit">"Comment"</button></div>
            </ActionForm>
        </section>
    }
}

fn item(row: ActivityRow, edit: ServerAction<EditComment>, delete: ServerAction<DeleteComment>) -> impl IntoView {
    let is_comment = row.comment_id.is_some();
    let words = row.words.clone();
    let mine = row.comment_id.clone().filter(|_| row.own).map(move |id| {
        let field = format!("edit-{id}");
        let (edit_id, delete_id) = (id.clone(), id);
        view! {
            <details class="comment-edit">
                <summary>"Edit"</summary>
                <ActionForm action=edit attr:class="stack">
                    <input type="hidden" name="comment_id" value=edit_id />
                    <label for=field.clone()>"Your comment"</label>
                    <textarea id=field name="body" rows="3" maxlength="4000" required>{words}</textarea>
                    <div><button type="submit">"Save"</button></div>
                </ActionForm>
            </details>
            <ActionForm action=delete attr:class="inline">
                <input type="hidden" name="comment_id" value=delete_id />
                <button type="submit" class="danger">"Delete"</button>
            </ActionForm>
        }
    });
    let edited = (row.edited).then_some(" · edited");
    view! {
        <li class=if is_comment { "comment" } else { "event" }>
            <small class="hint">{format!("{} · {}", row.when, row.who)}{edited}</small>
            <p class="post-text">{row.words}</p>
            {mine}
        </li>
    }
}
