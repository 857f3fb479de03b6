//! The frame around every signed-in page: team, person, navigation, log out.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::server::auth::{LogOut, Me, who_am_i};

/// The signed-in layout. The server already refuses signed-out page loads (redirecting to the
/// login page); this also covers navigation inside the app after the session has ended.
#[component]
pub fn SignedInShell() -> impl IntoView {
    let me = Resource::new(|| (), |_| who_am_i());
    let location = use_location();
    view! {
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! { <Frame me /> }.into_any(),
                    Ok(None) | Err(_) => {
                        let next = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
                        let path = format!("/login?next={}", encode_component(&next));
                        view! { <Redirect path /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[component]
fn Frame(me: Me) -> impl IntoView {
    let log_out = ServerAction::<LogOut>::new();
    view! {
        <header class="app-header">
            <span class="team">{me.team_name.clone()}</span>
            <nav aria-label="Main">
                <ul>
                    <li><A href="/" exact=true>"Dashboard"</A></li>
                    <li><A href="/compose">"Compose"</A></li>
                    <li><A href="/accounts">"Accounts"</A></li>
                    <li><A href="/analytics">"Analytics"</A></li>
                    <li><A href="/audit">"Audit"</A></li>
                    <li><A href="/settings">"Settings"</A></li>
                </ul>
            </nav>
            <span class="who">{me.email.clone()}" · "{me.role.label()}</span>
            <ActionForm action=log_out>
                <button type="submit" class="secondary">"Log out"</button>
            </ActionForm>
        </header>
        <main class="page">
            <Outlet />
        </main>
    }
}
