//! The frame around every signed-in page: team, person, navigation, log out.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::server::auth::{LogOut, Me, sandbox_mode, who_am_i};
use crate::server::posts::held_deliveries;

/// The signed-in layout. The server already refuses signed-out page loads (redirecting to the
/// login page); this also covers navigation inside the app after the session has ended.
///
/// Only the header's team and person wait for data: the page below (the `Outlet`) is created
/// once, outside any `Suspense`, so its own resources are not re-created when the header's
/// data arrives.
#[component]
pub fn SignedInShell() -> impl IntoView {
    let me = Resource::new(|| (), |_| who_am_i());
    let location = use_location();
    let log_out = ServerAction::<LogOut>::new();
    view! {
        <header class="app-header">
            <Suspense fallback=|| view! { <span class="team">"Crier"</span> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => view! { <Identity me /> }.into_any(),
                        Ok(None) | Err(_) => {
                            let next = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
                            let path = format!("/login?next={}", encode_component(&next));
                            view! { <Redirect path /> }.into_any()
                        }
                    }
                })}
            </Suspense>
            <SandboxBadge />
            // On a phone the navigation folds behind "Menu", without a script: the checkbox's
            // state shows it (see main.css).
            <input type="checkbox" id="menu-toggle" class="menu-toggle" />
            <label for="menu-toggle" class="menu-button">"Menu"</label>
            <nav aria-label="Main">
                <ul>
                    <li><A href="/" exact=true>"Dashboard"</A></li>
                    <li><A href="/compose">"Compose"</A></li>
                    <li><A href="/media">"Media"</A></li>
                    <li><A href="/accounts">"Accounts"</A></li>
                    <li><A href="/analytics">"Analytics"</A></li>
                    <li><A href="/audit">"Audit"</A></li>
                    <li><A href="/status">"Status"</A></li>
                    <li><A href="/settings">"Settings"</A></li>
                </ul>
            </nav>
            <ActionForm action=log_out>
                <button type="submit" class="secondary">"Log out"</button>
            </ActionForm>
        </header>
        <HeldBanner />
        <main class="page">
            <Outlet />
        </main>
    }
}

/// `raw` percent-encoded for a URL's query or path (RFC 3986's unreserved characters kept).
pub(crate) fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The team and the signed-in person, in the header.
#[component]
fn Identity(me: Me) -> impl IntoView {
    let bell_label = match me.unread {
        0 => "Notifications".to_owned(),
        1 => "Notifications, 1 unread".to_owned(),
        n => format!("Notifications, {n} unread"),
    };
    let bell_title = bell_label.clone();
    let unread_count = if me.unread > 99 { "99+".to_owned() } else { me.unread.to_string() };
    view! {
        <span class="team">{me.team_name}</span>
        <span class="who">{format!("{} · {}", me.email, me.role.label())}</span>
        <a class="bell" href="/notifications" aria-label=bell_label title=bell_title>
            <img src="/icons/bell.svg" alt="" width="20" height="20" />
            {(me.unread > 0).then(|| view! { <span class="unread" aria-hidden="true">{unread_count}</span> })}
        </a>
    }
}

/// "Sandbox": shown on every page while the Connect buttons go to fake platforms, so nobody
/// mistakes a sandbox post for a real one.
#[component]
pub fn SandboxBadge() -> impl IntoView {
    let on = Resource::new(|| (), |_| sandbox_mode());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(on.await, Ok(true)).then(|| view! {
                    <span class="sandbox-badge" title="X, LinkedIn and Facebook are simulated: nothing is really posted">"Sandbox"</span>
                })
            })}
        </Suspense>
    }
}

/// On every page while deliveries wait for an account to be reconnected: nothing fails silently.
#[component]
fn HeldBanner() -> impl IntoView {
    let held = Resource::new(|| (), |_| held_deliveries());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                held.await.ok().filter(|n| *n > 0).map(|n| view! {
                    <p class="banner" role="alert">
                        {format!("{n} {} waiting because an account needs reconnecting. ", if n == 1 { "delivery is" } else { "deliveries are" })}
                        <a href="/accounts">"Reconnect on the Accounts page"</a>
                    </p>
                })
            })}
        </Suspense>
    }
}
