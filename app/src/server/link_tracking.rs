//! Link tracking: the team's defaults (Settings → Link tracking), which Compose starts with.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crier_domain::link_tracking::LinkTracking;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// The team's defaults, whether the viewer may change them, and where short links point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamLinkTracking {
    /// The defaults.
    pub tracking: LinkTracking,
    /// Whether the viewer may change them (owners and admins).
    pub can_manage: bool,
    /// What a short link starts with (`CRIER_PUBLIC_URL/l/`).
    pub short_prefix: String,
    /// Whether that address is only this machine's (no CRIER_PUBLIC_URL set): then nobody else
    /// can follow the links.
    pub local_only: bool,
}

/// The team's link tracking defaults.
#[server(prefix = "/api", endpoint = "settings/link_tracking")]
pub async fn link_tracking_settings() -> Result<TeamLinkTracking, AppError> {
    use crier_domain::store::link_tracking;

    use super::ssr::{current_member, pool, state};
    let me = current_member().await?;
    let tracking = link_tracking::team_defaults(&pool()?, me.team_id).await?;
    let base = state()?.public_base;
    let local_only = url::Url::parse(&base).ok().and_then(|u| u.host_str().map(is_local_host)).unwrap_or(true);
    Ok(TeamLinkTracking { tracking, can_manage: me.role.can_manage_members(), short_prefix: format!("{base}/l/"), local_only })
}

#[cfg(feature = "ssr")]
fn is_local_host(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// Sets the team's defaults for posts written from now on. A plain form: `utm` and `short_links`
/// are checkboxes (absent when unticked).
#[server(prefix = "/api", endpoint = "settings/set_link_tracking")]
pub async fn set_link_tracking(
    #[server(default)] utm: String,
    #[server(default)] utm_campaign: String,
    #[server(default)] utm_medium: String,
    #[server(default)] short_links: String,
) -> Result<String, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::link_tracking;

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        if !me.role.can_manage_members() {
            return Err(AppError::Forbidden);
        }
        let chosen = super::posts::parse_tracking([&utm, &utm_campaign, &utm_medium, &short_links])?;
        link_tracking::set_team_defaults(&pool()?, me.team_id, Actor::User(me.user_id), &chosen).await?;
        Ok(chosen.describe())
    }
    .await;
    match outcome {
        Ok(meaning) => {
            notice_for_next_page(SetLinkTracking::PATH, &format!("Saved. New posts: {meaning}")).await;
            Ok(meaning)
        }
        Err(e) => {
            let typed = [
                ("utm", utm.as_str()),
                ("utm_campaign", utm_campaign.as_str()),
                ("utm_medium", utm_medium.as_str()),
                ("short_links", short_links.as_str()),
                (super::posts::TRACKING_SENT, "1"),
            ];
            fail_form(SetLinkTracking::PATH, e, &typed).await
        }
    }
}
