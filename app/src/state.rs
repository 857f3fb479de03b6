//! What the server gives every page render and server function, through Leptos context.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

/// Shared server state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Where the compiled site lives, and its output name.
    pub leptos_options: LeptosOptions,
    /// The database.
    pub pool: PgPool,
    /// The public base URL without a trailing slash, for links people follow (invites).
    pub public_base: String,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
