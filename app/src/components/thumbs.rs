//! Small thumbnails of a post's media beside it (dashboard, calendar, a post's page): the image's
//! thumbnail, lazy-loaded, with its alt text, or a tile naming the kind for a video or a PDF.

use leptos::prelude::*;

use crate::server::media::{MediaThumb, kind_title};

/// Up to `max` of `media` (and "+N" for the rest); nothing when there are none.
#[component]
pub fn Thumbs(media: Vec<MediaThumb>, #[prop(default = 4)] max: usize, #[prop(default = 48)] size: u32) -> impl IntoView {
    if media.is_empty() {
        return ().into_any();
    }
    let more = media.len().saturating_sub(max);
    let shown = media
        .into_iter()
        .take(max)
        .map(|m| {
            let described = m.described();
            if m.has_thumbnail {
                view! {
                    <img class="thumb" src=format!("/media/{}/thumbnail", m.id) alt=described loading="lazy" decoding="async"
                        width=size height=size />
                }
                .into_any()
            } else {
                view! { <span class="thumb tile" data-kind=m.kind.as_str() role="img" aria-label=described>{kind_title(m.kind)}</span> }
                    .into_any()
            }
        })
        .collect_view();
    let more = (more > 0).then(|| view! { <span class="more-media" aria-label=format!("{more} more")>{format!("+{more}")}</span> });
    view! { <span class=format!("thumbs thumbs-{size}")>{shown}{more}</span> }.into_any()
}
