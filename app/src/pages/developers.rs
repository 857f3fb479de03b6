//! `/settings/api`: API tokens (create, shown once; revoke) and the REST API's reference.

use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::components::form::{Field, FormError, FormKey, action_error, kept_secret, refill, role_options};
use crate::server::developers::{ApiOperation, ApiPageData, CreateApiToken, NewToken, RevokeApiToken, developers_view};

/// The API page.
#[component]
pub fn DevelopersPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let data = Resource::new(|| (), |_| developers_view());
    view! {
        <Title text="API" />
        <h1>"API"</h1>
        <p class="hint">"Scripts and other systems can do everything Compose and the dashboard do, with a team API token."</p>
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <DevelopersBody data=view_data create revoke /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DevelopersBody(data: ApiPageData, create: ServerAction<CreateApiToken>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let example = format!("curl -H 'Authorization: Bearer crier_api_…' {}/api/v1/posts", data.base_url);
    let spec = format!("{}/api/v1/openapi.json", data.base_url);
    let tokens = data.can_manage.then(|| view! { <Tokens tokens=data.tokens.clone() create revoke /> });
    view! {
        {tokens}
        <h2>"Reference"</h2>
        <section class="panel stack">
            <p>"Send the token as " <code>"Authorization: Bearer …"</code> ". Bodies and answers are JSON; errors are "
               <code>"application/problem+json"</code> " (RFC 9457) with " <code>"errors"</code> " naming each field to fix. Lists are paged: pass "
               <code>"next_cursor"</code> " back as " <code>"cursor"</code> ". Send an " <code>"Idempotency-Key"</code>
               " header with a new post, and a retried request returns the first post instead of creating another."</p>
            // Focusable: a keyboard scrolls it where it is wider than the screen.
            <pre class="example" tabindex="0"><code>{example}</code></pre>
            <p>"The OpenAPI 3.1 document: " <a href=spec.clone()>{spec.clone()}</a></p>
            <Reference operations=data.operations />
        </section>
    }
}

#[component]
fn Tokens(
    tokens: Vec<crate::server::developers::TokenRow>,
    create: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
) -> impl IntoView {
    let error = action_error(create.value());
    let revoke_error = action_error(revoke.value());
    // The form is a plain form: the result comes back from the server for this one page view.
    let kept = StoredValue::new(
        kept_secret(CreateApiToken::PATH, "token_secret")
            .map(|secret| NewToken { secret, name: kept_secret(CreateApiToken::PATH, "token_name").unwrap_or_default() }),
    );
    let created = move || kept.get_value();
    let kept_role = refill(CreateApiToken::PATH, "role").unwrap_or_else(|| "editor".into());
    let kept_expiry = refill(CreateApiToken::PATH, "expires_in_days").unwrap_or_default();
    let options = role_options(&kept_role);
    let rows = if tokens.is_empty() {
        view! { <p class="hint">"No tokens yet."</p> }.into_any()
    } else {
        let rows = tokens
            .into_iter()
            .map(|t| {
                let label = format!("Revoke {}", t.name);
                view! {
                    <tr>
                        <td>{t.name}</td>
                        <td>{t.role.label()}</td>
                        <td>{t.created}</td>
                        <td>{t.last_used.unwrap_or_else(|| "never".into())}</td>
                        <td>{t.expires.unwrap_or_else(|| "never".into())}</td>
                        <td>
                            <ActionForm action=revoke attr:class="inline">
                                <input type="hidden" name="api_token_id" value=t.api_token_id />
                                <button type="submit" class="danger" aria-label=label>"Revoke"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="tokens">
                <thead><tr><th scope="col">"Label"</th><th scope="col">"Role"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Expires"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <h2>"Tokens"</h2>
        <section class="panel stack">
            <FormError error=revoke_error />
            {rows}
            <ActionForm action=create attr:class="stack">
                <FormKey />
                <FormError error />
                <Field label="Label" name="name" autocomplete="off" hint="What uses it, e.g. “CMS” or “deploy script”." error
                    value=refill(CreateApiToken::PATH, "name").unwrap_or_default() />
                <div class="field">
                    <label for="token-role">"Role"</label>
                    <p class="hint" id="token-role-hint">"Viewers read; editors also post; admins also connect and disconnect accounts."</p>
                    <select id="token-role" name="role" aria-describedby="token-role-hint">{options}</select>
                </div>
                <div class="field">
                    <label for="token-expiry">"Expires"</label>
                    <p class="hint" id="token-expiry-hint">"A token for a script that runs for a while should expire; revoke it any time."</p>
                    <select id="token-expiry" name="expires_in_days" aria-describedby="token-expiry-hint">
                        {[("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]
                            .into_iter()
                            .map(|(value, label)| view! { <option value=value selected=value == kept_expiry.as_str()>{label}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div><button type="submit">"Create token"</button></div>
            </ActionForm>
            <Show when=move || created().is_some()>
                <div class="field token-secret">
                    <label for="token-secret">{move || format!("Token “{}”", created().map(|c| c.name).unwrap_or_default())}</label>
                    <p class="hint">"Copy it now: it is not shown again. Crier keeps only its hash."</p>
                    <input id="token-secret" readonly value=move || created().map(|c| c.secret) />
                </div>
            </Show>
        </section>
    }
}

#[component]
fn Reference(operations: Vec<ApiOperation>) -> impl IntoView {
    let mut tags: Vec<String> = operations.iter().map(|o| o.tag.clone()).collect();
    tags.sort();
    tags.dedup();
    tags.into_iter()
        .map(|tag| {
            let rows = operations
                .iter()
                .filter(|o| o.tag == tag)
                .map(|o| {
                    view! {
                        <tr>
                            <td><code>{o.method.clone()}</code></td>
                            <td><code>{o.path.clone()}</code></td>
                            <td>{o.summary.clone()}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <h3>{tag.clone()}</h3>
                <table class="reference">
                    <thead><tr><th scope="col">"Method"</th><th scope="col">"Path"</th><th scope="col">"What it does"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
        })
        .collect_view()
}
