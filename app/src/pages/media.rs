//! `/media`: the team's media library. Each item with its thumbnail (or its kind), size,
//! dimensions or duration, who uploaded it and when, how many posts use it; search by name, a kind
//! filter and pages of [`MEDIA_PAGE_SIZE`](crate::server::media::MEDIA_PAGE_SIZE) (plain GET links);
//! the storage used of the team's quota; and, for editors, an upload form, each item's alt text
//! and Delete (refused while a post that has not gone out uses it, naming the post). Rendered on
//! the server; every form is a plain form, so the page works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use server_fn::ServerFn;

use crate::components::form::{Notice, action_error, kept_notice, refill};
use crate::server::media::{DeleteMedia, LibraryItem, MediaPageData, SetMediaAltText, kind_title, media_page};

/// Where the upload form's outcome is kept (`POST /media/upload`, the server's `FORM_PATH`).
const UPLOAD_PATH: &str = "/media/upload";

/// The Media page.
#[component]
pub fn MediaPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let data = Resource::new(move || (param("q"), param("kind"), param("after")), |(q, kind, after)| media_page(q, kind, after));
    let alt = ServerAction::<SetMediaAltText>::new();
    let delete = ServerAction::<DeleteMedia>::new();
    let error = Signal::derive(move || action_error(alt.value()).get().or_else(|| action_error(delete.value()).get()));
    let done = move || kept_notice(SetMediaAltText::PATH).or_else(|| kept_notice(DeleteMedia::PATH));
    let uploaded = move || kept_notice(UPLOAD_PATH);
    let upload_error = refill(UPLOAD_PATH, "error");
    view! {
        <Title text="Media" />
        <h1>"Media"</h1>
        <Notice message=done />
        <Notice message=uploaded />
        {upload_error.map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        <Suspense fallback=|| view! { <p class="hint">"Loading the library…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Library page alt delete error q=param("q") kind=param("kind") after=param("after") /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A Media page address with the given parameters, the empty ones left out.
fn media_href(params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", url_escape(v))).collect();
    if query.is_empty() { "/media".to_owned() } else { format!("/media?{}", query.join("&")) }
}

/// A query value made safe for an address.
fn url_escape(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn Library(
    page: MediaPageData,
    alt: ServerAction<SetMediaAltText>,
    delete: ServerAction<DeleteMedia>,
    /// The latest refusal of an item's form; shown beside the item when it is on this page.
    error: Signal<Option<crate::errors::AppError>>,
    q: String,
    kind: String,
    after: String,
) -> impl IntoView {
    let can_edit = page.can_edit;
    let refused_item = refill(SetMediaAltText::PATH, "media_id").or_else(|| refill(DeleteMedia::PATH, "media_id"));
    let shown_beside = refused_item.is_some_and(|id| page.items.iter().any(|item| item.id == id));
    let banner = (!shown_beside).then(|| {
        view! {
            <Show when=move || error.get().is_some()>
                <p class="form-error" role="alert">{move || error.get().map(|e| e.page_message())}</p>
            </Show>
        }
    });
    let kinds = [("", "Any kind"), ("image", "Images"), ("gif", "GIFs"), ("video", "Videos"), ("document", "PDF documents")];
    let filtered = !q.is_empty() || !kind.is_empty();
    let list = if page.items.is_empty() {
        let words = if filtered { "Nothing in the library matches." } else { "No media yet. Upload some, or attach files in Compose." };
        view! { <p class="hint">{words}</p> }.into_any()
    } else {
        let items = page.items.into_iter().map(|item| view! { <LibraryCard item can_edit alt delete /> }).collect_view();
        view! { <ul class="library">{items}</ul> }.into_any()
    };
    let pager = (page.older.is_some() || !after.is_empty()).then(|| {
        let newest = (!after.is_empty()).then(|| media_href(&[("q", &q), ("kind", &kind)]));
        let older = page.older.as_ref().map(|c| media_href(&[("q", &q), ("kind", &kind), ("after", c)]));
        view! {
            <nav class="pager" aria-label="Pages of media">
                {newest.map(|href| view! { <a href=href>"Newest"</a> })}
                {older.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
            </nav>
        }
    });
    view! {
        {banner}
        <section class="panel storage" aria-labelledby="storage-heading">
            <h2 id="storage-heading">"Storage"</h2>
            <p>
                <meter id="storage-meter" min="0" max=page.quota_bytes.to_string() value=page.used_bytes.to_string()
                    aria-label="Storage used of the team's quota"></meter>
                " " <span>{page.storage.clone()}</span>
            </p>
        </section>
        {can_edit.then(|| view! { <UploadForm max_file=page.max_file.clone() /> })}
        <form method="get" action="/media" class="filters" role="search">
            <label for="media-q">"Name"</label>
            <input id="media-q" name="q" type="search" value=q.clone() placeholder="Search by name" />
            <label for="media-kind">"Kind"</label>
            <select id="media-kind" name="kind">
                {kinds.into_iter().map(|(value, label)| view! { <option value=value selected=value == kind>{label}</option> }).collect_view()}
            </select>
            <button type="submit" class="secondary">"Search"</button>
            {filtered.then(|| view! { <a href="/media">"Show everything"</a> })}
        </form>
        {list}
        {pager}
        {(!can_edit).then(|| view! { <p class="hint">"Viewers see the library; editors, admins and owners upload, describe and delete."</p> })}
    }
}

/// The plain upload form: works without JavaScript.
#[component]
fn UploadForm(max_file: String) -> impl IntoView {
    view! {
        <form method="post" action="/media/upload" enctype="multipart/form-data" class="panel stack upload-form">
            <h2>"Upload"</h2>
            <p class="hint" id="upload-hint">{format!("{}, up to {max_file} each; up to 10 files at once.", crier_media::ContentType::ACCEPTED)}</p>
            <input type="hidden" name="return_to" value="/media" />
            <div class="field">
                <label for="upload-alt">"Alt text (for every file of this upload; change it per file below)"</label>
                <input id="upload-alt" name="alt_text" type="text" maxlength="4000" />
            </div>
            <div class="field">
                <label for="upload-files">"Files"</label>
                <input id="upload-files" name="file" type="file" multiple required aria-describedby="upload-hint"
                    accept="image/jpeg,image/png,image/webp,image/gif,video/mp4,application/pdf" />
            </div>
            <div><button type="submit">"Upload"</button></div>
        </form>
    }
}

#[component]
fn LibraryCard(item: LibraryItem, can_edit: bool, alt: ServerAction<SetMediaAltText>, delete: ServerAction<DeleteMedia>) -> impl IntoView {
    let described = if item.alt_text.is_empty() { format!("{}: {}", kind_title(item.kind), item.file_name) } else { item.alt_text.clone() };
    let picture = if item.has_thumbnail {
        view! { <img class="thumb" src=format!("/media/{}/thumbnail", item.id) alt=described loading="lazy" width="96" height="96" /> }
            .into_any()
    } else {
        view! { <span class="thumb tile" data-kind=item.kind.as_str() role="img" aria-label=described>{kind_title(item.kind)}</span> }
            .into_any()
    };
    // Where it is used: the latest posts by name (links), and how many more.
    let used = if item.used_by_posts == 0 {
        view! { <p class="hint used">"Not used by any post"</p> }.into_any()
    } else {
        let count = if item.used_by_posts == 1 { "Used by 1 post".to_owned() } else { format!("Used by {} posts", item.used_by_posts) };
        let more = item.used_by_posts - item.used_in.len() as i64;
        let links = item
            .used_in
            .iter()
            .map(|(post_id, excerpt)| view! { <li><a href=format!("/posts/{post_id}")>{format!("“{excerpt}”")}</a></li> })
            .collect_view();
        view! {
            <div class="used">
                <p class="hint">{count}</p>
                <ul class="used-in">{links}{(more > 0).then(|| view! { <li class="hint">{format!("and {more} more")}</li> })}</ul>
            </div>
        }
        .into_any()
    };
    let uploaded = match &item.uploaded_by {
        Some(who) => format!("Uploaded {} by {who}", item.uploaded_at),
        None => format!("Uploaded {}", item.uploaded_at),
    };
    // A refused form comes back with its error beside the item it was for, and what was typed.
    let refused_here = |path: &'static str| refill(path, "media_id").as_deref() == Some(item.id.as_str());
    let alt_typed = refused_here(SetMediaAltText::PATH).then(|| refill(SetMediaAltText::PATH, "alt_text")).flatten();
    let alt_error = refused_here(SetMediaAltText::PATH)
        .then(move || action_error(alt.value()))
        .map(|e| move || e.get().map(|e| e.field("alt_text").unwrap_or_else(|| e.page_message())));
    let delete_error =
        refused_here(DeleteMedia::PATH).then(move || action_error(delete.value())).map(|e| move || e.get().map(|e| e.page_message()));
    let field_id = format!("alt-{}", item.id);
    let name = item.file_name.clone();
    let own_alt = item.alt_text.clone();
    let editing = can_edit.then(|| {
        let (alt_id, delete_id) = (item.id.clone(), item.id.clone());
        let (alt_label, save_label, delete_label) =
            (format!("Alt text of {name}"), format!("Save the alt text of {name}"), format!("Delete {name}"));
        view! {
            <ActionForm action=alt attr:class="stack alt-form">
                <input type="hidden" name="media_id" value=alt_id />
                <div class="field">
                    <label for=field_id.clone()>{alt_label}</label>
                    <textarea id=field_id.clone() name="alt_text" rows="2" maxlength="4000">{alt_typed.unwrap_or(own_alt)}</textarea>
                    {alt_error.map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
                </div>
                <div><button type="submit" class="secondary" aria-label=save_label>"Save alt text"</button></div>
            </ActionForm>
            <ActionForm action=delete attr:class="inline">
                <input type="hidden" name="media_id" value=delete_id />
                <button type="submit" class="danger" aria-label=delete_label>"Delete"</button>
            </ActionForm>
            {delete_error.map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
        }
    });
    let shown_alt = (!can_edit).then(|| {
        let words = if item.alt_text.is_empty() { "No alt text.".to_owned() } else { format!("Alt text: {}", item.alt_text) };
        view! { <p class="hint">{words}</p> }
    });
    let use_it = can_edit.then(|| view! { <a href=format!("/compose?media={}", item.id)>"Use in a new post"</a> });
    view! {
        <li class="library-item" data-media=item.id.clone()>
            <a href=format!("/media/{}", item.id) class="thumb-link" aria-label=format!("Open {}", item.file_name)>{picture}</a>
            <div class="library-body">
                <p class="library-name"><strong>{item.file_name.clone()}</strong></p>
                <p class="hint">{item.summary.clone()}</p>
                <p class="hint">{uploaded}</p>
                {used}
                {shown_alt}
                {editing}
                {use_it}
            </div>
        </li>
    }
}
