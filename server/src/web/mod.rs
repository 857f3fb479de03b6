//! The HTTP side: the Leptos app and its server functions, health, readiness and metrics, and the
//! layers every response passes through (sessions, the sign-in gate, security headers, request
//! ids, tracing, request metrics).

mod account_pictures;
mod analytics_export;
mod body_limit;
mod client_addr;
mod csv_import;
mod health;
mod media_files;
pub mod media_upload;
pub mod metrics;
mod oauth;
mod plain_forms;
mod same_origin;
mod security;
mod server_fn_errors;
mod short_links;
mod sign_in_gate;
mod unsubscribe;

use std::net::SocketAddr;
use std::sync::Arc;

use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::routing::get;
use crier_domain::store::sessions::PgSessionStore;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_http::classify::{
    ClassifiedResponse, ClassifyResponse, NeverClassifyEos, ServerErrorsAsFailures, ServerErrorsFailureClass, SharedClassifier,
};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::WebConfig;
use app::server::developers::ApiOperation;
use crier_accounts::Accounts;
use crier_sandbox::Sandbox;
use crier_vault::Vault;

/// A page of its own, outside the app's layout (no session, no script): `title` is escaped,
/// `body` is HTML the caller escaped.
pub(super) fn standalone_page(status: axum::http::StatusCode, title: &str, body: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let title = crier_mail::escape(title);
    (
        status,
        axum::response::Html(format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"robots\" content=\"noindex\"><title>{title} · Crier</title></head>\
             <body style=\"font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5\"><h1>{title}</h1>{body}</body></html>"
        )),
    )
        .into_response()
}

/// The session cookie's name on plain http (local development).
pub const SESSION_COOKIE: &str = "crier_session";
/// The session cookie's name when Crier is served over https. Browsers accept a `__Host-` cookie
/// only if it is `Secure`, has `Path=/` and no `Domain`, so no other host under the same domain
/// (and no plain-http page) can set or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-crier_session";
/// Sessions end after this long without a request (and in any case
/// [`crier_domain::store::sessions::ABSOLUTE_LIFETIME_DAYS`] after they were created).
pub const SESSION_INACTIVITY_DAYS: i64 = 7;

/// Marks a response whose 5xx status is an expected answer with its cause already logged, so the
/// request log does not report it again, as an error, at every request: the probes' 503s (not
/// ready is an answer; an unreachable database is logged by their outage tracker) and the sign-in
/// gate's 503 while the session store cannot reach the database. Through an outage that keeps the
/// log to one line per change, not one per probe or page view.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AlreadyReported;

/// tower-http's classification (a 5xx is a failure, logged at ERROR) except for responses marked
/// [`AlreadyReported`].
#[derive(Clone, Copy, Debug)]
struct Failures;

impl ClassifyResponse for Failures {
    type FailureClass = ServerErrorsFailureClass;
    type ClassifyEos = NeverClassifyEos<ServerErrorsFailureClass>;

    fn classify_response<B>(self, response: &axum::http::Response<B>) -> ClassifiedResponse<Self::FailureClass, Self::ClassifyEos> {
        if response.extensions().get::<AlreadyReported>().is_some() {
            return ClassifiedResponse::Ready(Ok(()));
        }
        ServerErrorsAsFailures::new().classify_response(response)
    }

    fn classify_error<E: std::fmt::Display + 'static>(self, error: &E) -> Self::FailureClass {
        ServerErrorsAsFailures::new().classify_error(error)
    }
}

/// Where the compiled site (wasm, JS, CSS, public files) is: LEPTOS_SITE_ROOT, as cargo-leptos
/// sets it, else `target/site` relative to the working directory.
fn leptos_options(bound: SocketAddr) -> LeptosOptions {
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    LeptosOptions::builder().output_name("crier").site_root(site_root).site_pkg_dir("pkg").site_addr(bound).build()
}

/// The app's routes, generated once per process. Generating them runs the whole app with resource
/// loading suppressed by a process-global flag (leptos_server's `SuppressResourceLoad`); a page
/// render whose resource first polls while that flag is up never finishes (leptos issue 4773). In
/// production the list is built once before serving; tests build many apps in one process, so
/// they must not generate it again while another app is rendering.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// A path as logs may hold it: a secret in a path (an invite link's token) is cut out, so the
/// link cannot be taken from a log. (Query strings are never logged: OAuth codes travel there.)
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/invite/") {
        Some(token) if !token.is_empty() => std::borrow::Cow::Borrowed("/invite/[redacted]"),
        _ => std::borrow::Cow::Borrowed(path),
    }
}

/// The signed-in member of a plain form's own route (not a server function), if they may edit:
/// otherwise the answer to send, in words ("Sign in to {to_do}.", "Viewers cannot {viewers_cannot}.").
pub(crate) async fn signed_in_editor(
    state: &AppState,
    session: &tower_sessions::Session,
    to_do: &str,
    viewers_cannot: &str,
) -> Result<crier_domain::store::Member, axum::response::Response> {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let member = match app::server::ssr::member_from_session(session, &state.pool).await {
        Ok(Some(member)) => member,
        Ok(None) => return Err((StatusCode::UNAUTHORIZED, format!("Sign in to {to_do}.")).into_response()),
        Err(_) => {
            return Err((StatusCode::SERVICE_UNAVAILABLE, "Crier cannot reach its database right now. Please try again in a moment.")
                .into_response());
        }
    };
    if !member.role.can_edit() {
        return Err(
            (StatusCode::FORBIDDEN, format!("Viewers cannot {viewers_cannot}. Ask an owner or admin for the editor role.")).into_response()
        );
    }
    Ok(member)
}

/// The whole web application.
#[allow(clippy::too_many_arguments)] // the services `crate::build` assembles once, each shared with other tasks
pub fn router(
    pool: PgPool,
    vault: Arc<Vault>,
    accounts: Arc<Accounts>,
    sandbox: Option<Sandbox>,
    media: Arc<app::state::Media>,
    feeds: Arc<crier_publisher::feeds::Poller>,
    web: WebConfig,
    bound: SocketAddr,
) -> Router {
    let public_base = web.public_base(bound);
    let (api, api_doc) = crate::api::router(pool.clone(), accounts.clone(), media.clone(), public_base.clone(), &web);
    let api_reference = crate::api::reference(&api_doc)
        .into_iter()
        .map(|op| ApiOperation { method: op.method, path: op.path, tag: op.tag, summary: op.summary })
        .collect();
    let state = AppState {
        leptos_options: leptos_options(bound),
        pool: pool.clone(),
        vault,
        accounts,
        public_base,
        api_reference: Arc::new(api_reference),
        operations: web.operations,
        sign_up: web.sign_up_policy(sandbox.is_some()),
        address_limits: web.address_limits,
        webhooks_allow_http: web.webhooks_allow_http,
        outbound: web.outbound.clone(),
        media,
        mailer: web.notify.mailer.clone(),
        import: web.import,
        feeds,
    };
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let routes = route_list();

    let https = web.cookies_secure();
    let sessions = SessionManagerLayer::new(PgSessionStore::new(pool.clone()))
        .with_name(if https { SECURE_SESSION_COOKIE } else { SESSION_COOKIE })
        .with_http_only(true)
        // Lax, not Strict: the OAuth providers' redirects back to us must carry the session.
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(SESSION_INACTIVITY_DAYS)));

    let gate_state = Arc::new(sign_in_gate::Gate::new(state.clone()));
    let trusted_proxies = Arc::new(web.trusted_proxies.clone());
    let own_origin = Arc::new(same_origin::OwnOrigin::of(&state.public_base));
    let sandbox = sandbox.as_ref().map(crate::sandbox::routes).unwrap_or_default();
    Router::new()
        .merge(api)
        .merge(health::routes(pool.clone(), web.operations.readiness))
        .route("/analytics/export.csv", get(analytics_export::csv))
        .route("/media/{id}", get(media_files::original))
        .route("/media/{id}/thumbnail", get(media_files::thumbnail))
        .route("/media/link/{team}/{id}", get(media_files::signed))
        // Bounded by the handler, file by file, as it streams (see body_limit::streams_itself).
        .route("/media/upload", axum::routing::post(media_upload::upload).layer(axum::extract::DefaultBodyLimit::disable()))
        // Bounded by the handler as it reads (CRIER_IMPORT_MAX_FILE_SIZE; see body_limit::streams_itself).
        .route("/compose/import", axum::routing::post(csv_import::upload).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/compose/import/template.csv", get(csv_import::template))
        .merge(metrics::routes(pool.clone(), &web.metrics, web.operations.readiness.stale_after))
        .route("/accounts/connect/{platform}", get(oauth::connect))
        .route("/accounts/{id}/picture", get(account_pictures::picture))
        .route("/unsubscribe", get(unsubscribe::confirm).post(unsubscribe::unsubscribe))
        .route("/l/{code}", get(short_links::follow))
        .route("/oauth/{platform}/callback", get(oauth::callback))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(axum::middleware::from_fn(server_fn_errors::statuses))
        .layer(axum::middleware::from_fn(plain_forms::forget_previous_error))
        .layer(axum::middleware::from_fn_with_state(gate_state, sign_in_gate::gate))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(trusted_proxies, client_addr::resolve))
        // Before the session is loaded or a handler runs: a refused request costs nothing.
        .layer(axum::middleware::from_fn_with_state(own_origin, same_origin::refuse_cross_site))
        .layer(axum::middleware::from_fn(body_limit::bounded))
        .layer(axum::middleware::from_fn_with_state(https, security::headers))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new(SharedClassifier::new(Failures)).make_span_with(|request: &axum::http::Request<_>| {
                    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), path = %loggable_path(request.uri().path()), request_id)
                }))
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(security::panic_response))
        // Outermost, so that every answer is counted, a caught panic's 500 too.
        .layer(axum::middleware::from_fn(metrics::track_requests))
        .with_state(state)
        // Outside every layer above: the fakes are another "site" with their own sign-in.
        .merge(sandbox)
}
