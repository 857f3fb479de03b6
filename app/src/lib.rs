//! Crier's web app: pages and components (`pages/`, `components/`), the server functions they
//! call (`server/`, thin: they parse input, call the domain, and map errors), and the shell.
//!
//! Compiled twice: with `ssr` into the server (rendering and server functions) and with
//! `hydrate` into the wasm bundle. Leptos runs in islands mode: the router, the pages and their
//! forms exist on the server only (the forms post as plain HTML forms and the page comes back with
//! the result, see `server::ssr::fail_form`), and only the components marked `#[island]` are
//! compiled into the wasm and made interactive in the browser.

pub mod components;
pub mod errors;
pub mod pages;
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::shell::SignedInShell;
use crate::pages::accounts::{AccountsPage, ChooseAccountsPage};
use crate::pages::analytics::AnalyticsPage;
use crate::pages::audit::AuditPage;
use crate::pages::batch::BatchPage;
use crate::pages::compose::ComposePage;
use crate::pages::developers::DevelopersPage;
use crate::pages::drafts::DraftsPage;
use crate::pages::feed_settings::FeedSettingsPage;
use crate::pages::import::ImportPage;
use crate::pages::media::MediaPage;
use crate::pages::notification_settings::NotificationSettingsPage;
use crate::pages::notifications::NotificationsPage;
use crate::pages::post::PostDetailPage;
use crate::pages::queue::QueuePage;
use crate::pages::review::ReviewPage;
use crate::pages::review_links::ReviewLinksPage;
use crate::pages::security::{SecurityPage, SignInCodePage, SignInSetupPage, TwoFactorSetupPage};
use crate::pages::shared::SharedPage;
use crate::pages::status::StatusPage;
use crate::pages::webhooks::WebhooksPage;
use crate::pages::{
    dashboard::DashboardPage, invite::InvitePage, login::LoginPage, members::MembersPage, not_found::NotFoundPage, settings::SettingsPage,
    signup::SignUpPage,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes, and the per-request set-up both renderers share.
///
/// Every route renders with `SsrMode::Async`: the server waits for the page's data and sends
/// complete HTML. Pages are small and their data is one or two queries, and it is what makes
/// them work before (or without) the wasm: streamed `Suspense` content needs script to appear.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    server::ssr::prepare_page_response();

    view! {
        <Stylesheet id="leptos" href="/pkg/crier.css" />
        <Title formatter=|title: String| if title.is_empty() { "Crier".to_owned() } else { format!("{title} · Crier") } />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") ssr=SsrMode::Async view=LoginPage />
                <Route path=path!("/login/two-factor") ssr=SsrMode::Async view=SignInCodePage />
                <Route path=path!("/login/two-factor/setup") ssr=SsrMode::Async view=SignInSetupPage />
                <Route path=path!("/signup") ssr=SsrMode::Async view=SignUpPage />
                <Route path=path!("/invite/:token") ssr=SsrMode::Async view=InvitePage />
                <Route path=path!("/r/:token") ssr=SsrMode::Async view=SharedPage />
                <ParentRoute path=path!("") ssr=SsrMode::Async view=SignedInShell>
                    <Route path=path!("") ssr=SsrMode::Async view=DashboardPage />
                    <Route path=path!("/compose") ssr=SsrMode::Async view=ComposePage />
                    <Route path=path!("/compose/batch") ssr=SsrMode::Async view=BatchPage />
                    <Route path=path!("/compose/import") ssr=SsrMode::Async view=ImportPage />
                    <Route path=path!("/drafts") ssr=SsrMode::Async view=DraftsPage />
                    <Route path=path!("/review") ssr=SsrMode::Async view=ReviewPage />
                    <Route path=path!("/notifications") ssr=SsrMode::Async view=NotificationsPage />
                    <Route path=path!("/settings/notifications") ssr=SsrMode::Async view=NotificationSettingsPage />
                    <Route path=path!("/settings/feeds") ssr=SsrMode::Async view=FeedSettingsPage />
                    <Route path=path!("/settings/review-links") ssr=SsrMode::Async view=ReviewLinksPage />
                    <Route path=path!("/posts/:id") ssr=SsrMode::Async view=PostDetailPage />
                    <Route path=path!("/media") ssr=SsrMode::Async view=MediaPage />
                    <Route path=path!("/accounts") ssr=SsrMode::Async view=AccountsPage />
                    <Route path=path!("/accounts/:id/queue") ssr=SsrMode::Async view=QueuePage />
                    <Route path=path!("/accounts/choose/:connection") ssr=SsrMode::Async view=ChooseAccountsPage />
                    <Route path=path!("/analytics") ssr=SsrMode::Async view=AnalyticsPage />
                    <Route path=path!("/audit") ssr=SsrMode::Async view=AuditPage />
                    <Route path=path!("/status") ssr=SsrMode::Async view=StatusPage />
                    <Route path=path!("/settings") ssr=SsrMode::Async view=SettingsPage />
                    <Route path=path!("/settings/members") ssr=SsrMode::Async view=MembersPage />
                    <Route path=path!("/settings/security") ssr=SsrMode::Async view=SecurityPage />
                    <Route path=path!("/settings/security/two-factor") ssr=SsrMode::Async view=TwoFactorSetupPage />
                    <Route path=path!("/settings/api") ssr=SsrMode::Async view=DevelopersPage />
                    <Route path=path!("/settings/webhooks") ssr=SsrMode::Async view=WebhooksPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
