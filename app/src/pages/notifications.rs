//! `/notifications`: what Crier told the signed-in person (a post waits for their review, theirs
//! was approved or sent back, a delivery of theirs failed, an account needs reconnecting), newest
//! first, each linking to where to look; "Mark all read". Rendered on the server; a plain form.

use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::components::form::{Notice, kept_notice};
use crate::server::notifications::{MarkNotificationsRead, notifications_page};

/// The notifications page.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| notifications_page());
    let mark = ServerAction::<MarkNotificationsRead>::new();
    let done = move || kept_notice(MarkNotificationsRead::PATH);
    view! {
        <Title text="Notifications" />
        <h1>"Notifications"</h1>
        <Notice message=done />
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(rows) if rows.is_empty() => view! { <p>"Nothing yet. Crier tells you here when a post waits for your review, yours is approved or sent back, one of yours fails, or an account needs reconnecting."</p> }.into_any(),
                    Ok(rows) => {
                        let unread = rows.iter().any(|n| !n.read);
                        let items = rows
                            .into_iter()
                            .map(|n| view! {
                                <li class=if n.read { "read" } else { "unread" }>
                                    <a href=n.link>{n.words}</a>
                                    <small class="hint">{if n.read { n.when } else { format!("{} · unread", n.when) }}</small>
                                </li>
                            })
                            .collect_view();
                        view! {
                            {unread.then(|| view! {
                                <ActionForm action=mark>
                                    <button type="submit" class="secondary">"Mark all read"</button>
                                </ActionForm>
                            })}
                            <ul class="notifications stack">{items}</ul>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
