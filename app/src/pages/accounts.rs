//! `/accounts` and `/accounts/choose/:connection`

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::avatar::Avatar;
use crate::components::form::{Field, FormError, action_error};
use crate::components::platform_icon::PlatformIcon;
use crate::server::accounts::{
    AccountRow, AccountsView, AddXKeys, CancelChoice, ChooseAccounts, ConnectOption, DisconnectAccount, VerifyAccount, connection_choices,
    list_accounts,
};
use crier_domain::account::{AccountHealth, AccountKind};

/// The team's connected accounts, the Connect buttons, Verify and Disconnect.
#[component]
pub fn AccountsPage() -> impl IntoView {
    let verify = ServerAction::<VerifyAccount>::new();
    let disconnect = ServerAction::<DisconnectAccount>::new();
    let add_keys = ServerAction::<AddXKeys>::new();
    // Every form here is a plain form: the page comes back with the result as a flash.
    let data = Resource::new(|| (), |_| list_accounts());
    let row_error =
        Signal::derive(move || [action_error(verify.value()).get(), action_error(disconnect.value()).get()].into_iter().flatten().next());

    view! {
        <Title text="Accounts" />
        <h1>"Accounts"</h1>
        <FormError error=row_error />
        <Suspense fallback=|| view! { <p class="hint">"Loading accounts…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <AccountsBody data=view_data verify disconnect add_keys /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountsBody(
    data: AccountsView,
    verify: ServerAction<VerifyAccount>,
    disconnect: ServerAction<DisconnectAccount>,
    add_keys: ServerAction<AddXKeys>,
) -> impl IntoView {
    let can_manage = data.can_manage;
    let can_verify = data.can_verify;
    let flash = data.flash.map(|flash| {
        let class = if flash.ok { "notice" } else { "form-error" };
        let role = if flash.ok { "status" } else { "alert" };
        view! { <p class=class role=role>{flash.text}</p> }
    });
    let buttons = if can_manage {
        let missing: Vec<_> = data.connect.iter().filter(|o| !o.available).map(|o| o.label.clone()).collect();
        let missing = (!missing.is_empty()).then(|| {
            view! {
                <p class="hint">
                    {format!(
                        "{} {} not set up on this Crier: an administrator sets the platform's client id and secret (see the README's configuration table).",
                        missing.join(" and "),
                        if missing.len() == 1 { "is" } else { "are" },
                    )}
                </p>
            }
        });
        let buttons = data.connect.into_iter().map(|option| view! { <ConnectButton option /> }).collect_view();
        view! { <div class="connect-buttons">{buttons}</div> {missing} }.into_any()
    } else {
        view! { <p class="hint">"Only owners and admins connect and disconnect accounts."</p> }.into_any()
    };
    let list = if data.accounts.is_empty() {
        view! { <p class="hint">"No accounts yet. Connect one above to start publishing."</p> }.into_any()
    } else {
        let rows =
            data.accounts.into_iter().map(|row| view! { <AccountLine row can_manage can_verify verify disconnect /> }).collect_view();
        view! {
            <table class="accounts">
                <thead>
                    <tr>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Platform"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Token"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        {flash}
        {buttons}
        {list}
        {can_manage.then(|| view! { <XKeysForm add_keys /> })}
    }
}

#[component]
fn ConnectButton(option: ConnectOption) -> impl IntoView {
    let text = format!("Connect {}", option.label);
    if option.available {
        // A link, not a form: the response redirects to the platform's own site, which a page's
        // `form-action 'self'` policy would block after a form submission. `rel="external"`
        // makes the router leave it to the browser (it is a server endpoint, not a page).
        let href = format!("/accounts/connect/{}", option.platform.as_str());
        let title = option.sandbox.then(|| format!("Goes to the sandbox's fake {}", option.label));
        view! { <a class="button" href=href rel="external" title=title>{text}</a> }.into_any()
    } else {
        let why = format!("{} is not set up on this Crier (no client id configured).", option.label);
        view! { <button type="button" disabled title=why>{text}</button> }.into_any()
    }
}

/// An account as a list names it: its name, X handle, and what kind it is if not a profile.
pub(crate) fn account_title(name: &str, handle: Option<&str>, kind: AccountKind) -> String {
    let kind = match kind {
        AccountKind::Profile => "",
        AccountKind::Organization => " (organization)",
        AccountKind::Page => " (Page)",
    };
    match handle {
        Some(handle) => format!("{name} {handle}{kind}"),
        None => format!("{name}{kind}"),
    }
}

/// The CSS class of an account's health badge.
pub(crate) fn health_class(health: AccountHealth) -> &'static str {
    match health {
        AccountHealth::Connected => "status ok",
        AccountHealth::ExpiringSoon => "status warn",
        AccountHealth::NeedsReauth | AccountHealth::Revoked => "status bad",
    }
}

/// A time the server already put in the viewer's timezone, or a dash.
pub(crate) fn short_date(shown: &Option<String>) -> String {
    shown.clone().unwrap_or_else(|| "—".into())
}

#[component]
fn AccountLine(
    row: AccountRow,
    can_manage: bool,
    can_verify: bool,
    verify: ServerAction<VerifyAccount>,
    disconnect: ServerAction<DisconnectAccount>,
) -> impl IntoView {
    let name = account_title(&row.name, row.handle.as_deref(), row.kind);
    let status_class = health_class(row.health);
    let token = if row.oauth1 {
        "OAuth 1.0a keys (no expiry)".to_owned()
    } else if row.refreshes {
        match &row.reauth_by {
            Some(_) => format!("Renewed automatically until {}", short_date(&row.reauth_by)),
            None => "Renewed automatically".to_owned(),
        }
    } else {
        match &row.token_expires_at {
            Some(_) => format!("Expires {}", short_date(&row.token_expires_at)),
            None => "Does not expire".to_owned(),
        }
    };
    let verify_label = format!("Verify {}", row.name);
    let (queue_href, queue_label) = (format!("/accounts/{}/queue", row.account_id), format!("Queue and posting schedule of {}", row.name));
    let disconnect_label = format!("Disconnect {}", row.name);
    let (verify_id, disconnect_id) = (row.account_id.clone(), row.account_id.clone());
    let detail = row.detail.clone().map(|d| view! { <br /><small class="hint">{d}</small> });
    view! {
        <tr data-account=row.account_id.clone()>
            <td data-label="Account"><Avatar name=row.name.clone() picture=row.picture.clone() />{name}</td>
            <td data-label="Platform"><PlatformIcon platform=row.platform /> " " {row.platform.label()}</td>
            <td data-label="Status"><span class=status_class>{row.health.label()}</span>{detail}</td>
            <td data-label="Token">{token}</td>
            <td data-label="Last used">{short_date(&row.last_used_at)}</td>
            <td data-label="Actions" class="row-actions">
                <a class="button secondary" href=queue_href aria-label=queue_label>"Queue"</a>
                {can_verify.then(|| view! {
                    <ActionForm action=verify>
                        <input type="hidden" name="account_id" value=verify_id />
                        <button type="submit" class="secondary" aria-label=verify_label>"Verify"</button>
                    </ActionForm>
                })}
                {can_manage.then(|| view! {
                    <ActionForm action=disconnect>
                        <input type="hidden" name="account_id" value=disconnect_id />
                        <button type="submit" class="danger" aria-label=disconnect_label>"Disconnect"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[component]
fn XKeysForm(add_keys: ServerAction<AddXKeys>) -> impl IntoView {
    let error = action_error(add_keys.value());
    view! {
        <details class="panel">
            <summary>"Connect X with OAuth 1.0a keys instead"</summary>
            <p class="hint">"From the X developer portal: your app → Keys and tokens. The keys are checked with X, then stored encrypted."</p>
            <ActionForm action=add_keys attr:class="stack">
                <FormError error />
                <Field label="API key" name="api_key" kind="password" autocomplete="off" error />
                <Field label="API key secret" name="api_secret" kind="password" autocomplete="off" error />
                <Field label="Access token" name="access_token" kind="password" autocomplete="off" error />
                <Field label="Access token secret" name="access_token_secret" kind="password" autocomplete="off" error />
                <div><button type="submit">"Check and connect"</button></div>
            </ActionForm>
        </details>
    }
}

/// After LinkedIn or Facebook consent: choose the profile, organizations or Pages to connect.
#[component]
pub fn ChooseAccountsPage() -> impl IntoView {
    let params = use_params_map();
    let connection_id = move || params.read().get("connection").unwrap_or_default();
    let choose = ServerAction::<ChooseAccounts>::new();
    let cancel = ServerAction::<CancelChoice>::new();
    let choices = Resource::new(connection_id, connection_choices);
    let error = action_error(choose.value());
    view! {
        <Title text="Choose accounts" />
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(view_data) => {
                        let label = view_data.platform.label();
                        let intro = match view_data.platform {
                            crier_platform::Platform::Facebook => "Choose the Pages Crier may post to. Each Page becomes an account with its own token.",
                            _ => "Choose your profile and/or the organization pages you administer.",
                        };
                        let boxes = view_data
                            .options
                            .into_iter()
                            .enumerate()
                            .map(|(i, option)| {
                                let id = format!("choice-{i}");
                                let kind = match option.kind {
                                    AccountKind::Profile => "profile",
                                    AccountKind::Organization => "organization",
                                    AccountKind::Page => "Page",
                                };
                                let text = format!("{} ({kind})", option.label);
                                view! {
                                    <div class="check">
                                        <input type="checkbox" id=id.clone() name=format!("chosen[{i}]") value=option.key checked=i == 0 />
                                        <label for=id>{text}</label>
                                    </div>
                                }
                            })
                            .collect_view();
                        let id = connection_id();
                        let cancel_id = id.clone();
                        view! {
                            <h1>{format!("Connect {label}")}</h1>
                            <p>{intro}</p>
                            <ActionForm action=choose attr:class="stack">
                                <FormError error />
                                <input type="hidden" name="connection_id" value=id />
                                <fieldset>
                                    <legend>{format!("{label} accounts")}</legend>
                                    {boxes}
                                </fieldset>
                                <div><button type="submit">"Connect selected"</button></div>
                            </ActionForm>
                            <ActionForm action=cancel>
                                <input type="hidden" name="connection_id" value=cancel_id />
                                <button type="submit" class="secondary">"Cancel"</button>
                            </ActionForm>
                        }
                        .into_any()
                    }
                    Err(e) => view! {
                        <h1>"Connect an account"</h1>
                        <p class="form-error" role="alert">{e.to_string()}</p>
                        <p><a href="/accounts">"Back to Accounts"</a></p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}
