//! The X fake: API v2 (`/x/2/...`) and the OAuth 2.0 consent page (`/x/i/oauth2/authorize`).
//!
//! Bodies and statuses follow platforms.md §1.4–§1.7 and §5; where the reference says NOT FOUND,
//! the choice made here is noted at the spot.
//!
//! The API routes accept an OAuth 2.0 user token (`Authorization: Bearer …`) or OAuth 1.0a
//! user-context credentials (`Authorization: OAuth …`, HMAC-SHA1, §1.1 and §1.10) registered with
//! [`crate::Sandbox::register_x_oauth1`]. The fake checks OAuth 1.0a signatures with its own code
//! (in [`oauth1`]), not with `crier_protocol::oauth1`, so a signing bug in the client cannot be
//! hidden by a fake that shares it.
//!
//! One module per concern: [`state`] (what the fake remembers), [`consent`] and [`token`] (OAuth
//! 2.0), [`oauth1`] (OAuth 1.0a credentials and signatures), [`front_door`] (what every API request
//! goes through first), [`rate_limits`], [`users`] (who am I), [`publishing`] (posts), [`metrics`] (posts read back with their engagement), [`media`]
//! (uploads, processing, alt text) and [`errors`] (the API's problem bodies).

// The early-return helpers hand back the finished `Response` as their error: the handlers return
// it as is, once per request, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod consent;
mod errors;
mod front_door;
mod media;
mod metrics;
mod oauth1;
mod publishing;
mod rate_limits;
mod state;
mod token;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::State as AxumState;
use axum::routing::{delete, get, post};

use crate::Inner;

pub use media::XMediaLimits;
pub use rate_limits::XLimits;
pub(crate) use state::XState;

type Shared = AxumState<Arc<Inner>>;

pub(crate) fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/x/i/oauth2/authorize", get(consent::authorize_page).post(consent::authorize_submit))
        .route("/x/2/oauth2/token", post(token::token))
        .route("/x/2/oauth2/revoke", post(token::revoke))
        .route("/x/2/users/me", get(users::users_me))
        .route("/x/2/tweets", post(publishing::create_post).get(metrics::lookup))
        .route("/x/2/tweets/{id}", delete(publishing::delete_post))
        .route("/x/2/users/{id}/tweets", get(publishing::user_posts))
        .route("/x/2/media/upload", get(media::status).post(media::upload))
        .route("/x/2/media/upload/initialize", post(media::initialize))
        .route("/x/2/media/upload/{id}/{command}", post(media::command))
        .route("/x/2/media/metadata", post(media::metadata))
}
