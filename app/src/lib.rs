//! Crier's web app: pages and components (`pages/`, `components/`), the server functions they
//! call (`server/`, thin: they parse input, call the domain, and map errors), and the shell.
//!
//! Compiled twice: with `ssr` into the server (rendering and server functions) and with
//! `hydrate` into the wasm bundle.

pub mod components;
pub mod errors;
pub mod pages;
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::components::shell::SignedInShell;
use crate::pages::{
    dashboard::DashboardPage, invite::InvitePage, login::LoginPage, members::MembersPage, not_found::NotFoundPage,
    placeholder::PlaceholderPage, settings::SettingsPage, signup::SignUpPage,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes, and the per-request set-up both renderers share.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    server::ssr::prepare_page_response();
    // Lets tests (and people reading the DOM) know the page is interactive now.
    Effect::new(|| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/crier.css" />
        <Title formatter=|title: String| if title.is_empty() { "Crier".to_owned() } else { format!("{title} · Crier") } />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/signup") view=SignUpPage />
                <Route path=path!("/invite/:token") view=InvitePage />
                <ParentRoute path=path!("") view=SignedInShell>
                    <Route path=path!("") view=DashboardPage />
                    <Route path=path!("/compose") view=|| view! { <PlaceholderPage title="Compose" what="Composing, scheduling and publishing posts" /> } />
                    <Route path=path!("/accounts") view=|| view! { <PlaceholderPage title="Accounts" what="Connecting X, LinkedIn and Facebook Pages" /> } />
                    <Route path=path!("/analytics") view=|| view! { <PlaceholderPage title="Analytics" what="Publishing analytics" /> } />
                    <Route path=path!("/audit") view=|| view! { <PlaceholderPage title="Audit" what="The audit trail" /> } />
                    <Route path=path!("/settings") view=SettingsPage />
                    <Route path=path!("/settings/members") view=MembersPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
