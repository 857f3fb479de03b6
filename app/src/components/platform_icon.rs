//! A platform's small icon (`public/icons/<platform>.svg`, drawn for Crier and served by it: no
//! external fonts, images or CDNs), beside its name or standing for it.

use leptos::prelude::*;

use crier_platform::Platform;

/// The icon of `platform`, `size` pixels square. `label` says what it stands for when no text
/// beside it does (a calendar item's delivery); empty, it is decoration beside the name.
#[component]
pub fn PlatformIcon(platform: Platform, #[prop(default = 16)] size: u32, #[prop(optional, into)] label: String) -> impl IntoView {
    view! {
        <img class="platform-icon" src=format!("/icons/{}.svg", platform.as_str()) alt=label width=size height=size decoding="async" />
    }
}
