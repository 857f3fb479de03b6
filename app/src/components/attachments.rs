//! Compose's attachments: files chosen, dropped or pasted upload one per request to
//! `/media/upload` with a progress bar each (XMLHttpRequest, whose upload reports progress);
//! each attached item shows its thumbnail (or its kind, length and size), takes its alt text,
//! moves up or down and is removed with buttons; the library's newest items can be attached too
//! (their list is rendered by the server as the island's children, see [`LibraryPick`]).
//! The per-platform verdicts and layouts come from `crier_media` with the rules the server
//! configured, the same the scheduler checks.
//!
//! The chosen items travel in the form as `media[]` (ids) and `media_alt[]` (each one's alt
//! text, in the same order). Without JavaScript the same form has a file input and an "Upload"
//! button that posts it to `/media/upload` (which keeps what was typed for the page it returns
//! to); the items come back attached.
//!
//! Part of the Compose island, so it is in the wasm: plain signals and callbacks, no async; what
//! shows only with or without the wasm is a `hidden` attribute, not a `<Show>` (each view a
//! control-flow component builds is more code in the wasm, and the budget is 300 KB).

use leptos::prelude::*;

use crate::components::form::typed_value;
use crate::server::media::{ComposeMedia, kind_title};
use crier_domain::post::MediaRules;
use crier_media::{Attachment, Layout, MediaKind, MediaProblem};
use crier_platform::Platform;

/// An item attached to the post.
#[derive(Clone, Debug)]
pub struct Attached {
    /// Its place in the island's own numbering (stable while it moves).
    key: usize,
    /// The item.
    media: ComposeMedia,
    /// The alt text it is attached with.
    alt: RwSignal<String>,
}

/// A file on its way up.
#[derive(Clone, Debug)]
struct Upload {
    key: usize,
    name: String,
    /// 0 to 100.
    percent: RwSignal<u32>,
    /// Why it was not added.
    error: RwSignal<Option<String>>,
}

/// The attachments' state, shared by the attachments area, the verdicts and the previews.
#[derive(Clone, Copy, Debug)]
pub struct Attachments {
    items: RwSignal<Vec<Attached>>,
    uploads: RwSignal<Vec<Upload>>,
    /// The next item's key (only the browser adds items).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    next_key: StoredValue<usize>,
    rules: StoredValue<MediaRules>,
    /// Whether the wasm runs: the script-only controls show, the plain "Upload" button goes.
    hydrated: RwSignal<bool>,
}

impl Attachments {
    /// The items the form starts with, checked with `rules`.
    pub fn new(start: Vec<ComposeMedia>, rules: MediaRules) -> Attachments {
        let items: Vec<Attached> = start
            .into_iter()
            .enumerate()
            .map(|(key, media)| {
                // What was typed before the wasm arrived stays.
                let alt = typed_value(&alt_id(key)).unwrap_or_else(|| media.alt_text.clone());
                Attached { key, media, alt: RwSignal::new(alt) }
            })
            .collect();
        let next_key = items.len();
        let hydrated = RwSignal::new(false);
        Effect::new(move |_| hydrated.set(true));
        Attachments {
            items: RwSignal::new(items),
            uploads: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(next_key),
            rules: StoredValue::new(rules),
            hydrated,
        }
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn key(&self) -> usize {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        key
    }

    /// How many items are attached or on their way.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn count(&self) -> usize {
        self.items.with(Vec::len) + self.uploads.with(|u| u.iter().filter(|u| u.error.get_untracked().is_none()).count())
    }

    /// Attaches `media` (once), after any item added before the one it was for (`key`).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn attach(&self, key: usize, media: ComposeMedia) {
        self.items.update(|items| {
            if items.iter().any(|a| a.media.id == media.id) {
                return;
            }
            let at = items.iter().position(|a| a.key > key).unwrap_or(items.len());
            let alt = RwSignal::new(media.alt_text.clone());
            items.insert(at, Attached { key, media, alt });
        });
    }

    /// Detaches everything (the post went out; the form starts again).
    pub fn clear(&self) {
        self.items.set(Vec::new());
        self.uploads.set(Vec::new());
    }

    fn remove(&self, key: usize) {
        self.items.update(|items| items.retain(|a| a.key != key));
    }

    /// Moves an item one place up (`-1`) or down (`1`), keeping the focus on the button pressed.
    fn shift(&self, key: usize, by: isize, button: String) {
        self.items.update(|items| {
            if let Some(from) = items.iter().position(|a| a.key == key) {
                let to = from as isize + by;
                if (0..items.len() as isize).contains(&to) {
                    items.swap(from, to as usize);
                }
            }
        });
        refocus(button);
    }

    /// Each item's facts and alt text now, for a check or a layout.
    fn snapshot(&self) -> Vec<(ComposeMedia, String)> {
        self.items.with(|items| items.iter().map(|a| (a.media.clone(), a.alt.get())).collect())
    }

    /// Whether the wasm runs (tracked): what needs it shows.
    pub fn hydrated(&self) -> bool {
        self.hydrated.get()
    }

    /// Whether anything is attached.
    pub fn is_empty(&self) -> bool {
        self.items.with(Vec::is_empty)
    }

    /// What `platform` makes of the attachments: its layout and every problem.
    fn verdict(&self, platform: Platform) -> (Layout, Vec<MediaProblem>) {
        let shown = self.snapshot();
        let attachments: Vec<Attachment<'_>> = shown.iter().map(|(m, alt)| Attachment { facts: &m.facts, alt_text: alt }).collect();
        let problems = self.rules.with_value(|rules| crier_media::check(platform, &attachments, &rules.0[platform]));
        (crier_media::layout(platform, &attachments), problems)
    }

    /// Sends each of `files` up (one request each, side by side), if the post has room for them.
    #[cfg(feature = "hydrate")]
    fn upload_files(&self, files: Option<web_sys::FileList>) {
        let Some(files) = files else { return };
        for index in 0..files.length() {
            let Some(file) = files.get(index) else { continue };
            let key = self.key();
            let upload = Upload { key, name: file.name(), percent: RwSignal::new(0), error: RwSignal::new(None) };
            let room = self.count() < crier_domain::post::MAX_MEDIA_PER_ITEM;
            self.uploads.update(|u| u.push(upload.clone()));
            if !room {
                upload
                    .error
                    .set(Some(format!("A post takes at most {} media: remove some first.", crier_domain::post::MAX_MEDIA_PER_ITEM)));
                continue;
            }
            let this = *self;
            let sent = browser::upload(
                &file,
                move |fraction| upload.percent.set((fraction * 100.0).round().clamp(0.0, 100.0) as u32),
                move |answer| match answer {
                    Ok(media) => {
                        this.uploads.update(|u| u.retain(|u| u.key != key));
                        this.attach(key, media);
                    }
                    Err(words) => upload.error.set(Some(words)),
                },
            );
            if sent.is_err() {
                upload.error.set(Some("This browser could not send the file. Use the Media page to upload it.".into()));
            }
        }
    }

    /// A paste: files pasted (a screenshot) are uploaded; text is left to the field.
    pub fn paste(&self, ev: &leptos::ev::ClipboardEvent) {
        #[cfg(feature = "hydrate")]
        if let Some(files) = ev.clipboard_data().and_then(|d| d.files()).filter(|f| f.length() > 0) {
            ev.prevent_default();
            self.upload_files(Some(files));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    }

    /// A click in the library list (server-rendered, [`LibraryPick`]): its "Attach" buttons carry
    /// their item, as the upload answers it, in `data-attach`.
    pub fn library_click(&self, ev: &leptos::ev::MouseEvent) {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let button = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|e| e.closest("button[data-attach]").ok().flatten());
            if let Some(media) = button.and_then(|b| b.get_attribute("data-attach")).and_then(|j| serde_json::from_str(&j).ok()) {
                let key = self.key();
                self.attach(key, media);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    }
}

/// `parts` with `between` between them (`[String]::join`'s generic code is larger in the wasm).
fn joined(parts: Vec<String>, between: &str) -> String {
    let mut out = String::new();
    for part in parts {
        if !out.is_empty() {
            out.push_str(between);
        }
        out.push_str(&part);
    }
    out
}

/// The id of an item's alt text field.
fn alt_id(key: usize) -> String {
    format!("media-alt-{key}")
}

/// Puts the focus back on the element `id` once the page has been redrawn (a moved item's
/// button is taken out of the page and put back).
fn refocus(id: String) {
    #[cfg(feature = "hydrate")]
    set_timeout(
        move || {
            use wasm_bindgen::JsCast;
            if let Some(element) = document().get_element_by_id(&id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = element.focus();
            }
        },
        std::time::Duration::ZERO,
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// "Image 2", "Video 1": how an item is named in labels (its kind and place).
fn item_name(kind: MediaKind, position: usize) -> String {
    // Written in lower case here: `str::to_lowercase` brings Unicode's case tables into the wasm.
    let word = match kind {
        MediaKind::Image => "image",
        MediaKind::Gif => "GIF",
        MediaKind::Video => "video",
        MediaKind::Document => "PDF",
    };
    format!("{word} {}", position + 1)
}

/// The picture of an item without a thumbnail (a video, a PDF): a tile naming its kind, as an
/// image (`data:`, which the page's policy allows), so that every item is one `<img>`.
fn tile(kind: MediaKind) -> String {
    format!(
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 96 96'%3E%3Crect width='96' height='96' fill='%23eef1f6'/%3E%3Ctext x='48' y='53' font-family='sans-serif' font-size='15' font-weight='600' text-anchor='middle' fill='%235b6473'%3E{}%3C/text%3E%3C/svg%3E",
        kind_title(kind)
    )
}

/// An item's picture: its thumbnail, or a tile with its kind; its alt text, or its kind.
///
/// A plain function, not a `#[component]`, like the island's other parts: with
/// `--cfg erase_components` each component's view is erased (`AnyView`), which is code in the
/// wasm for each one; a function's view is not.
pub fn media_picture(media: ComposeMedia, alt: Signal<String>) -> impl IntoView {
    let kind = media.facts.kind();
    let src = media.thumbnail_url.clone().unwrap_or_else(|| tile(kind));
    let described = move || alt.with(|a| if a.trim().is_empty() { kind_title(kind).to_owned() } else { a.clone() });
    view! { <img class="thumb" src=src alt=described loading="lazy" width="96" height="96" /> }
}

/// [`media_picture`] for the server's pages.
#[component]
pub fn MediaPicture(media: ComposeMedia, #[prop(into)] alt: Signal<String>) -> impl IntoView {
    media_picture(media, alt)
}

/// The attachments area of the Compose form.
/// `error` is the form's latest (the scheduler's verdict is on `media`), `max_file` the largest
/// file accepted in words, `notice` and `upload_error` what the last plain upload said ("Uploaded
/// …", or why a file was refused).
pub fn attachments_field(
    state: Attachments,
    error: Signal<Option<crate::errors::AppError>>,
    max_file: String,
    notice: Option<String>,
    upload_error: Option<String>,
) -> impl IntoView {
    let hydrated = state.hydrated;
    let hint = format!("{} up to {max_file} each.", crier_media::ContentType::ACCEPTED);
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input = event_target::<web_sys::HtmlInputElement>(&ev);
            if hydrated.get_untracked() {
                state.upload_files(input.files());
                input.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        state.upload_files(ev.data_transfer().and_then(|d| d.files()));
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| state.paste(&ev);
    let message = move || error.get().and_then(|e| e.field("media"));

    view! {
        // `js` once the wasm runs: the styles show the script's controls and hide the plain
        // upload's (one reactive class rather than one per control: each is code in the wasm).
        <fieldset class=move || if hydrated.get() { "attachments js" } else { "attachments" } aria-describedby="attachments-hint"
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=on_drop
            on:paste=on_paste
        >
            <legend>"Media"</legend>
            <p class="hint" id="attachments-hint">
                {hint} <span class="js-only">" Choose files, drop them here, or paste them."</span>
                <span class="no-js">" Choose files, then press Upload."</span>
            </p>
            {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
            {upload_error.map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            // Drawn again whole when an item is added, removed or moved (its alt text lives in its
            // own signal, so typing redraws nothing): simpler in the wasm than a keyed `<For>`, and
            // each item's labels are static text for its place.
            <ol class="attached">
                {move || {
                    let items = state.items.get();
                    let count = items.len();
                    items.into_iter().enumerate().map(|(at, item)| attached_item(state, item, at, at + 1 == count)).collect_view()
                }}
            </ol>
            <ul class="uploads">{move || state.uploads.get().into_iter().map(|upload| upload_line(state, upload)).collect_view()}</ul>
            // Without JavaScript: the whole form goes to the upload, which comes back here with
            // everything typed and the files attached. The upload reads the fields in the order
            // sent, and a file takes the alt text read before it: so this field comes first.
            <div class="field no-js">
                <label for="media-upload-alt">"Alt text for these files"</label>
                <input id="media-upload-alt" name="alt_text" type="text" maxlength="4000" />
                <input type="hidden" name="return_to" value="/compose" />
            </div>
            <div class="field">
                <label for="media-file">"Add files"</label>
                <input id="media-file" name="file" type="file" multiple
                    accept="image/jpeg,image/png,image/webp,image/gif,video/mp4,application/pdf"
                    on:change=on_change
                />
            </div>
            <div class="no-js">
                <button type="submit" class="secondary" formaction="/media/upload" formmethod="post"
                    formenctype="multipart/form-data" formnovalidate=true>"Upload"</button>
            </div>
            <p class="field-error" id="media-error" role="alert" hidden=move || message().is_none()>{message}</p>
            {verdicts(state)}
        </fieldset>
    }
}

fn attached_item(state: Attachments, item: Attached, position: usize, last: bool) -> impl IntoView {
    let Attached { key, media, alt } = item;
    let kind = media.facts.kind();
    let name = item_name(kind, position);
    // The alt text's length against each platform that sends it for this kind (and has a limit).
    let counter = move || {
        let count = alt.with(|t| t.chars().count());
        let limits: Vec<String> = state.rules.with_value(|rules| {
            Platform::ALL
                .into_iter()
                .filter_map(|p| {
                    let limits = &rules.0[p];
                    let max = limits.alt_text_max_chars.filter(|_| limits.alt_text_kinds.contains(&kind))?;
                    Some(format!("{count} / {max} on {}", p.label()))
                })
                .collect()
        });
        if limits.is_empty() { format!("{count} characters") } else { joined(limits, " · ") }
    };
    let over = move || {
        let count = alt.with(|t| t.chars().count()) as u32;
        state.rules.with_value(|rules| {
            Platform::ALL.into_iter().any(|p| {
                let limits = &rules.0[p];
                limits.alt_text_kinds.contains(&kind) && limits.alt_text_max_chars.is_some_and(|max| count > max)
            })
        })
    };
    let field = alt_id(key);
    let counter_id = format!("media-alt-count-{key}");
    let (up_id, down_id) = (format!("media-up-{key}"), format!("media-down-{key}"));
    let summary = media.summary();
    let file_name = media.file_name.clone();
    let (up_button, down_button) = (up_id.clone(), down_id.clone());
    view! {
        <li class="attached-item" data-media=media.id.clone()>
            {media_picture(media.clone(), alt.into())}
            <div class="attached-body">
                <p class="attached-name"><strong>{file_name}</strong> " " <small class="hint">{summary}</small></p>
                <input type="hidden" name="media[]" value=media.id.clone() />
                <label for=field.clone()>{format!("Alt text for {name}")}</label>
                <textarea id=field name="media_alt[]" rows="2" maxlength="4000" aria-describedby=counter_id.clone()
                    prop:value=move || alt.get()
                    on:input=move |ev| alt.set(event_target_value(&ev))
                >{alt.get_untracked()}</textarea>
                <small id=counter_id class=move || if over() { "counter over" } else { "counter" }>{counter}</small>
                <div class="item-actions js-only">
                    <button type="button" class="secondary" id=up_id disabled=position == 0 aria-label=format!("Move {name} up")
                        on:click=move |_| state.shift(key, -1, up_button.clone())
                    >"Up"</button>
                    <button type="button" class="secondary" id=down_id disabled=last aria-label=format!("Move {name} down")
                        on:click=move |_| state.shift(key, 1, down_button.clone())
                    >"Down"</button>
                    <button type="button" class="danger" aria-label=format!("Remove {name}") on:click=move |_| state.remove(key)>"Remove"</button>
                </div>
            </div>
        </li>
    }
}

fn upload_line(state: Attachments, upload: Upload) -> impl IntoView {
    let Upload { key, name, percent, error } = upload;
    let label = format!("Uploading {name}");
    // `failed` swaps the progress bar for the reason and a Dismiss button (styles).
    view! {
        <li class=move || if error.with(Option::is_some) { "upload failed" } else { "upload" } data-upload=key>
            <span class="upload-name">{name}</span>
            <progress max="100" value=move || percent.get() aria-label=label></progress>
            <small class="counter">{move || format!("{}%", percent.get())}</small>
            <p class="form-error" role="alert">{move || error.get()}</p>
            <button type="button" class="secondary dismiss" on:click=move |_| state.uploads.update(|u| u.retain(|u| u.key != key))>"Dismiss"</button>
        </li>
    }
}

/// Compose's "From the library": the library's newest items, rendered by the server as the
/// island's children, so none of this view is in the wasm. Each "Attach" button carries its item
/// as the upload answers it, which the island reads from the click ([`Attachments::library_click`]).
/// The island shows it once its wasm runs; without it, the Media page's "Use in a new post" attaches.
#[component]
pub fn LibraryPick(items: Vec<ComposeMedia>) -> impl IntoView {
    let list = if items.is_empty() {
        view! { <p class="hint">"No media yet: files you add here join the library."</p> }.into_any()
    } else {
        let rows = items
            .into_iter()
            .map(|media| {
                let json = serde_json::to_string(&media).unwrap_or_default();
                let (label, summary, name, alt) =
                    (format!("Attach {}", media.file_name), media.summary(), media.file_name.clone(), media.alt_text.clone());
                view! {
                    <li>
                        <MediaPicture media alt=Signal::stored(alt) />
                        <span><strong>{name}</strong> " " <small class="hint">{summary}</small></span>
                        <button type="button" class="secondary" aria-label=label data-attach=json>"Attach"</button>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="library-pick">{rows}</ul> }.into_any()
    };
    view! {
        <details class="library">
            <summary>"From the library"</summary>
            {list}
            <p class="hint"><a href="/media">"Search the whole library on the Media page."</a></p>
        </details>
    }
}

/// What each platform will make of the attachments: its layout, or what to change.
fn verdicts(state: Attachments) -> impl IntoView {
    let lines = move || {
        if state.is_empty() {
            return Vec::new();
        }
        Platform::ALL
            .into_iter()
            .map(|platform| {
                let (layout, problems) = state.verdict(platform);
                let blocking: Vec<String> = problems.iter().filter(|p| p.blocks()).map(|p| format!("{p}.")).collect();
                let notes: Vec<String> = problems.iter().filter(|p| !p.blocks()).map(|p| format!("{p}.")).collect();
                let refused = !blocking.is_empty();
                let words = if refused { joined(blocking, " ") } else { format!("{}.", layout_words(layout)) };
                let words = if notes.is_empty() { words } else { format!("{words} {}", joined(notes, " ")) };
                (platform, refused, words)
            })
            .collect()
    };
    view! {
        <ul class="media-verdicts" aria-live="polite">
            {move || lines().into_iter().map(|(platform, refused, words)| view! {
                <li class=if refused { "verdict refused" } else { "verdict ok" } data-platform=platform.as_str()>
                    <strong>{format!("{}: ", platform.label())}</strong>{if refused { "refused. " } else { "" }}{words}
                </li>
            }).collect_view()}
        </ul>
    }
}

/// How a layout reads: "2 images in a grid".
fn layout_words(layout: Layout) -> String {
    match layout {
        Layout::Empty => "no media".into(),
        Layout::Single => "one picture, full width".into(),
        Layout::Grid { count } => format!("{count} pictures in a grid"),
        Layout::MultiImage { count } => format!("a multi-image post of {count}"),
        Layout::Album { count } => format!("an album of {count} photos"),
        Layout::Video => "a video with its player".into(),
        Layout::DocumentCarousel => "the PDF as a carousel of its pages".into(),
        Layout::Refused => "cannot go out like this".into(),
    }
}

/// The layout's name for styles (`data-layout`).
#[cfg(feature = "ssr")]
fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::Empty => "empty",
        Layout::Single => "single",
        Layout::Grid { .. } => "grid",
        Layout::MultiImage { .. } => "multi",
        Layout::Album { .. } => "album",
        Layout::Video => "video",
        Layout::DocumentCarousel => "carousel",
        Layout::Refused => "refused",
    }
}

/// The media part of a platform's preview (drawn by the server): laid out as the platform will
/// show them (a grid of up to four on X, a large first image on LinkedIn, an album of five on
/// Facebook, "+N" for the rest).
#[cfg(feature = "ssr")]
pub fn media_grid(platform: Platform, items: &[ComposeMedia]) -> impl IntoView + use<> {
    let attachments: Vec<Attachment<'_>> = items.iter().map(|m| Attachment { facts: &m.facts, alt_text: &m.alt_text }).collect();
    let layout = crier_media::layout(platform, &attachments);
    let shown = match layout {
        Layout::Album { .. } => 5,
        Layout::Grid { .. } | Layout::MultiImage { .. } => 4,
        _ => 1,
    };
    let more = items.len().saturating_sub(shown);
    let pictures = items.iter().take(shown).map(|m| media_picture(m.clone(), Signal::stored(m.alt_text.clone()))).collect_view();
    (!items.is_empty()).then(|| {
        view! {
            <div class="preview-media" data-layout=layout_name(layout) data-count=items.len().min(shown)>
                {pictures}
                {(more > 0).then(|| view! { <span class="more-media">{format!("+{more}")}</span> })}
            </div>
        }
    })
}

/// The browser's side of the uploads: XMLHttpRequest, because `fetch` reports no upload progress.
#[cfg(feature = "hydrate")]
mod browser {
    use serde::Deserialize;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{FormData, ProgressEvent, XmlHttpRequest};

    use crate::server::media::ComposeMedia;

    /// `POST /media/upload`'s answer.
    #[derive(Deserialize)]
    struct UploadAnswer {
        #[serde(default)]
        items: Vec<ComposeMedia>,
        #[serde(default)]
        errors: Vec<FileError>,
    }

    #[derive(Deserialize)]
    struct FileError {
        message: String,
    }

    /// Posts `form` to `/media/upload` asking for JSON; `progress` gets the part sent (0 to 1),
    /// `done` the status (0 when nothing came back) and the body.
    fn post(form: FormData, mut progress: impl FnMut(f64) + 'static, done: impl FnOnce(u16, String) + 'static) -> Result<(), JsValue> {
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", "/media/upload")?;
        xhr.set_request_header("Accept", "application/json")?;
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                progress(e.loaded() / e.total());
            }
        });
        xhr.upload()?.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        // Lives as long as the request (the browser drops it with the request).
        on_progress.forget();
        let request = xhr.clone();
        let on_end =
            Closure::once_into_js(move || done(request.status().unwrap_or(0), request.response_text().ok().flatten().unwrap_or_default()));
        xhr.set_onloadend(Some(on_end.unchecked_ref()));
        xhr.send_with_opt_form_data(Some(&form))
    }

    /// Why a request came back without what was asked, in words.
    fn failure(status: u16, body: &str) -> String {
        match status {
            0 => "The upload did not reach Crier. Check your connection and try again.".into(),
            401 => "Your session has ended. Log in again, then attach the file.".into(),
            403 | 413 if !body.trim().is_empty() && body.len() < 300 && !body.starts_with('{') => body.trim().to_owned(),
            _ => "Crier could not take the file just now. Please try again in a moment.".into(),
        }
    }

    /// Uploads one file; `progress` gets the part sent (0 to 1), `done` the item or why not.
    pub(super) fn upload(
        file: &web_sys::File,
        progress: impl FnMut(f64) + 'static,
        done: impl FnOnce(Result<ComposeMedia, String>) + 'static,
    ) -> Result<(), JsValue> {
        let form = FormData::new()?;
        form.append_with_blob_and_filename("file", file, &file.name())?;
        post(form, progress, move |status, body| {
            let answer = match serde_json::from_str::<UploadAnswer>(&body) {
                Ok(mut answer) if !answer.items.is_empty() => Ok(answer.items.remove(0)),
                Ok(answer) => Err(answer.errors.into_iter().next().map(|e| e.message).unwrap_or_else(|| failure(status, &body))),
                Err(_) => Err(failure(status, &body)),
            };
            done(answer);
        })
    }
}
