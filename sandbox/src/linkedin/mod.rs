//! The LinkedIn fake: OAuth 2.0 3-legged (`/linkedin/oauth/v2/...`), OpenID userinfo
//! (`/linkedin/v2/userinfo`) and the versioned Posts API (`/linkedin/rest/...`).
//!
//! Bodies and statuses follow platforms.md §2, §4.2 and §5; where the reference says NOT FOUND,
//! the choice made here is noted at the spot.
//!
//! One module per concern: [`state`] (what the fake remembers), [`consent`] and [`token`] (OAuth
//! 2.0 and token introspection), [`front_door`] (what every API call goes through first: faults,
//! the token, the version headers), [`rate_limits`], [`userinfo`] (who am I), [`organizations`]
//! (the organizations a member administers), [`publishing`] (posts), [`metrics`] (social actions and share statistics), [`media`] (images, videos, documents), [`little_text`] (what LinkedIn
//! keeps of a commentary) and [`errors`] (the API's error bodies).

// The early-return helpers hand back the finished `Response` as their error: the handlers return
// it as is, once per request, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod comments;
mod consent;
mod errors;
mod front_door;
mod little_text;
mod media;
mod metrics;
mod organizations;
mod publishing;
mod rate_limits;
mod state;
mod token;
mod userinfo;

use std::sync::Arc;

use axum::Router;
use axum::extract::State as AxumState;
use axum::routing::{get, post, put};

use crate::Inner;

pub use media::LinkedInMediaLimits;
pub use rate_limits::LinkedInLimits;
pub(crate) use state::LinkedInState;

type Shared = AxumState<Arc<Inner>>;

pub(crate) fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/linkedin/oauth/v2/authorization", get(consent::authorize_page).post(consent::authorize_submit))
        .route("/linkedin/oauth/v2/accessToken", post(token::token))
        .route("/linkedin/oauth/v2/introspectToken", post(token::introspect))
        .route("/linkedin/v2/userinfo", get(userinfo::userinfo))
        .route("/linkedin/rest/posts", get(publishing::list_posts).post(publishing::create_post))
        .route("/linkedin/rest/posts/{urn}", get(publishing::get_post).delete(publishing::delete_post))
        .route("/linkedin/rest/socialActions/{urn}", get(metrics::social_actions))
        .route("/linkedin/rest/organizationalEntityShareStatistics", get(metrics::share_statistics))
        .route("/linkedin/rest/socialActions/{urn}/comments", get(comments::list_comments).post(comments::create_comment))
        .route("/linkedin/rest/organizationAcls", get(organizations::organization_acls))
        .route("/linkedin/rest/organizations/{id}", get(organizations::organization))
        .route("/linkedin/rest/{kind}", post(media::action))
        .route("/linkedin/rest/{kind}/{urn}", get(media::get_asset))
        .route("/linkedin/dms-uploads/{id}", put(media::put_upload))
}
