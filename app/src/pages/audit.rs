//! `/audit`: the team's audit trail with filters, a page at a time. The filter form is a plain GET
//! form and the page links plain addresses that keep the filters (`?before=` older, `?after=`
//! newer), so they work before the wasm loads and every view has its own address.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::server::audit::list_audit;

/// The audit trail.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let rows = Resource::new(
        move || (param("entity"), param("action"), param("from"), param("until"), param("before"), param("after")),
        |(entity, action, from, until, before, after)| list_audit(entity, action, from, until, before, after),
    );
    // A page link: the filters as they are, and one cursor.
    let page_href = move |cursor: Option<(&str, i64)>| {
        let mut pairs: Vec<(String, String)> =
            ["entity", "action", "from", "until"].into_iter().map(|k| (k.to_owned(), param(k))).filter(|(_, v)| !v.is_empty()).collect();
        if let Some((name, id)) = cursor {
            pairs.push((name.to_owned(), id.to_string()));
        }
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", crate::components::shell::encode_component(v))).collect();
        if query.is_empty() { "/audit".to_owned() } else { format!("/audit?{}", query.join("&")) }
    };
    let entities = ["", "account", "member", "invite", "post", "delivery", "webhook"];
    view! {
        <Title text="Audit" />
        <h1>"Audit"</h1>
        <form method="get" action="/audit" class="filters">
            <div class="field">
                <label for="audit-entity">"Entity"</label>
                <select id="audit-entity" name="entity">
                    {entities
                        .into_iter()
                        .map(|e| {
                            let label = if e.is_empty() { "All" } else { e };
                            view! { <option value=e selected=move || param("entity") == e>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="audit-action">"Action"</label>
                <input id="audit-action" name="action" placeholder="e.g. account_connected" value=move || param("action") />
            </div>
            <div class="field">
                <label for="audit-from">"From"</label>
                <input id="audit-from" name="from" type="date" value=move || param("from") />
            </div>
            <div class="field">
                <label for="audit-until">"Until"</label>
                <input id="audit-until" name="until" type="date" value=move || param("until") />
            </div>
            <div><button type="submit">"Filter"</button></div>
        </form>
        <Suspense fallback=|| view! { <p class="hint">"Loading the audit trail…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(page) if page.rows.is_empty() => view! {
                        <p class="hint">"Nothing recorded matches."</p>
                        {(page.newer.is_some() || !param("before").is_empty()).then(|| view! { <p><a href=page_href(None)>"Newest"</a></p> })}
                    }.into_any(),
                    Ok(page) => {
                        let newer = page.newer.map(|id| page_href(Some(("after", id))));
                        let older = page.older.map(|id| page_href(Some(("before", id))));
                        let nav = (newer.is_some() || older.is_some()).then(|| view! {
                            <nav class="pager" aria-label="Audit pages">
                                {newer.map(|href| view! {
                                    <a href=page_href(None)>"Newest"</a>
                                    <a href=href rel="prev">"← Newer"</a>
                                })}
                                {older.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
                            </nav>
                        });
                        let lines = page.rows
                            .into_iter()
                            .map(|row| {
                                let what = match &row.entity_id {
                                    Some(id) => format!("{} {id}", row.entity),
                                    None => row.entity.clone(),
                                };
                                view! {
                                    <tr>
                                        <td data-label="When"><time datetime=row.occurred_at.clone()>{row.shown_at.clone()}</time></td>
                                        <td data-label="Who">{row.actor}</td>
                                        <td data-label="Action">{row.action}</td>
                                        <td data-label="On">{what}</td>
                                        <td data-label="Details"><code>{row.details}</code></td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <table class="audit">
                                <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Action"</th><th scope="col">"On"</th><th scope="col">"Details"</th></tr></thead>
                                <tbody>{lines}</tbody>
                            </table>
                            {nav}
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
