//! The Meta fake (Facebook Pages through the Graph API): the login dialog, the token endpoint,
//! `/me`, `/me/accounts`, `DELETE /me/permissions` (de-authorizing the app), and a Page's feed,
//! under `/facebook/{version}/...` with any `vNN.N` version.
//!
//! Bodies and statuses follow platforms.md §3 and §5; where the reference says NOT FOUND, the
//! choice made here is noted at the spot. Every error uses Meta's envelope
//! `{"error":{"message","type","code"[,"error_subcode"],"fbtrace_id"}}`.
//!
//! One module per concern: [`state`] (what the fake remembers), [`dispatch`] (which endpoint a
//! Graph path is), [`consent`] (the login dialog) and [`token`] (the token endpoint),
//! [`front_door`] (what every API call goes through first: version, faults, token, rate limits),
//! [`rate_limits`], [`me`] (the person: who am I, de-authorizing), [`pages`] (the Pages a person
//! granted, a Page or post by id), [`publishing`] (a Page's posts), [`metrics`] (engagement counts and insights), [`media`] (photos, resumable and chunked video uploads, video
//! status) and [`errors`] (Meta's error
//! envelope).

// The early-return helpers hand back the finished `Response` as their error: the handlers return
// it as is, once per request, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod comments;
mod consent;
mod dispatch;
mod errors;
mod front_door;
mod me;
mod media;
mod metrics;
mod pages;
mod publishing;
mod rate_limits;
mod state;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::extract::State as AxumState;
use axum::routing::get;

use crate::Inner;

pub use media::FacebookMediaLimits;
pub use rate_limits::FacebookLimits;
pub(crate) use state::FacebookState;

type Shared = AxumState<Arc<Inner>>;

/// Two routes serve the whole Graph API: [`dispatch`] picks the endpoint by node and edge (the
/// login dialog, the token endpoint, `/me`, `/me/accounts`, a Page's feed, a Page or post by id,
/// `/me/permissions`).
pub(crate) fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/facebook/{version}/{node}", get(dispatch::get_node).post(dispatch::post_node).delete(dispatch::delete_node))
        .route("/facebook/{version}/{node}/{edge}", get(dispatch::get_edge).post(dispatch::post_edge).delete(dispatch::delete_edge))
}
