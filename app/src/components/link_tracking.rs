//! Link tracking's fields: two switches, the campaign and the medium. Rendered by the server only
//! (no wasm): in Settings inside its own form, in Compose beside the island's form and joined to
//! it by the `form` attribute, so it is sent with the post with or without the wasm.

use leptos::prelude::*;

use crate::components::form::FormValues;
use crate::errors::AppError;
use crate::server::link_tracking::TeamLinkTracking;
use crier_domain::link_tracking::{DEFAULT_UTM_MEDIUM, MAX_UTM_VALUE_CHARS};

/// What the fields start with: what a refused form sent (`kept`, when it carried these fields,
/// marked by `marker`), else the team's defaults.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrackingValues {
    utm: bool,
    campaign: String,
    medium: String,
    short_links: bool,
}

impl TrackingValues {
    /// From a kept form that sent the fields, else from the team's defaults.
    pub fn new(team: &TeamLinkTracking, kept: Option<&FormValues>, marker: &str) -> Self {
        match kept.filter(|k| k.value(marker).is_some()) {
            Some(kept) => {
                let ticked = |field: &str| kept.value(field).is_some_and(|v| !v.trim().is_empty());
                TrackingValues {
                    utm: ticked("utm"),
                    campaign: kept.value("utm_campaign").unwrap_or_default(),
                    medium: kept.value("utm_medium").unwrap_or_default(),
                    short_links: ticked("short_links"),
                }
            }
            None => {
                let utm = team.tracking.utm.as_ref();
                TrackingValues {
                    utm: utm.is_some(),
                    campaign: utm.and_then(|u| u.campaign.clone()).unwrap_or_default(),
                    medium: utm.map_or_else(|| DEFAULT_UTM_MEDIUM.to_owned(), |u| u.medium.clone()),
                    short_links: team.tracking.short_links,
                }
            }
        }
    }

    /// Whether anything is on (Compose then shows the fields open).
    pub fn is_on(&self) -> bool {
        self.utm || self.short_links
    }
}

/// The fields; `form` names the form they belong to when they sit outside it.
#[component]
pub fn LinkTrackingFields(
    values: TrackingValues,
    team: TeamLinkTracking,
    #[prop(optional)] form: Option<&'static str>,
    error: Option<AppError>,
) -> impl IntoView {
    let field_error = |name: &'static str| {
        error.as_ref().and_then(|e| e.field(name)).map(|message| {
            view! { <p class="field-error" id=format!("{name}-error") role="alert">{message}</p> }
        })
    };
    let max = MAX_UTM_VALUE_CHARS.to_string();
    let short_hint = if team.local_only {
        format!(
            "Links become {}… and count clicks per post and platform. This Crier's address is only this machine's: set CRIER_PUBLIC_URL to the address people reach it at, or nobody can follow them.",
            team.short_prefix
        )
    } else {
        format!("Links become {}… and count clicks per post and platform (no visitor's address is kept).", team.short_prefix)
    };
    view! {
        <div class="field">
            <label><input type="checkbox" name="utm" value="on" form=form checked=values.utm />" Add UTM parameters"</label>
            <p class="hint">"utm_source is the platform (twitter, linkedin, facebook); parameters a link already has are kept."</p>
        </div>
        <div class="field">
            <label for="utm_medium">"utm_medium"</label>
            <input id="utm_medium" name="utm_medium" form=form maxlength=max.clone() value=values.medium placeholder=DEFAULT_UTM_MEDIUM />
            {field_error("utm_medium")}
        </div>
        <div class="field">
            <label for="utm_campaign">"utm_campaign"</label>
            <input id="utm_campaign" name="utm_campaign" form=form maxlength=max value=values.campaign placeholder="Optional, e.g. spring-launch" />
            {field_error("utm_campaign")}
        </div>
        <div class="field">
            <label><input type="checkbox" name="short_links" value="on" form=form checked=values.short_links />" Shorten links through Crier"</label>
            <p class="hint">{short_hint}</p>
        </div>
    }
}
