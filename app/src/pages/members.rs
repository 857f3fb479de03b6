//! `/settings/members`

use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::components::form::{Field, FormError, FormKey, action_error, kept_secret, refill, role_options};
use crate::server::members::{ChangeRole, CreateInvite, CreatedInvite, MemberRow, MembersView, RemoveMember, RevokeInvite, list_members};
use crier_domain::Role;

/// Members: list, invite by link, change roles, remove. Viewers, editors see the list only.
#[component]
pub fn MembersPage() -> impl IntoView {
    let invite = ServerAction::<CreateInvite>::new();
    let change_role = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let view_data = Resource::new(|| (), |_| list_members());
    let row_error = Signal::derive(move || {
        [action_error(change_role.value()).get(), action_error(remove.value()).get(), action_error(revoke.value()).get()]
            .into_iter()
            .flatten()
            .next()
    });

    view! {
        <Title text="Members" />
        <h1>"Members"</h1>
        <FormError error=row_error />
        <Suspense fallback=|| view! { <p class="hint">"Loading members…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(data) => {
                        let can_manage = data.can_manage;
                        view! {
                            <MembersTables data change_role remove revoke />
                            {can_manage.then(|| view! { <InviteForm invite /> })}
                        }
                            .into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MembersTables(
    data: MembersView,
    change_role: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveMember>,
    revoke: ServerAction<RevokeInvite>,
) -> impl IntoView {
    let can_manage = data.can_manage;
    let rows = data.members.into_iter().map(|row| view! { <MemberLine row can_manage change_role remove /> }).collect_view();
    let pending = (!data.invites.is_empty()).then(|| {
        let invites = data
            .invites
            .into_iter()
            .map(|invite| {
                let label = format!("Revoke the invite for {}", invite.email);
                view! {
                    <tr>
                        <td>{invite.email.clone()}</td>
                        <td>{invite.role.label()}</td>
                        <td><time datetime=invite.expires_at.clone()>{invite.expires_at.get(..10).unwrap_or_default().to_owned()}</time></td>
                        <td>
                            <ActionForm action=revoke>
                                <input type="hidden" name="invite_id" value=invite.invite_id.clone() />
                                <button type="submit" class="danger" aria-label=label>"Revoke"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h2>"Pending invites"</h2>
            <table>
                <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Expires"</th><th scope="col">"Actions"</th></tr></thead>
                <tbody>{invites}</tbody>
            </table>
        }
    });
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Role"</th>
                    {can_manage.then(|| view! { <th scope="col">"Actions"</th> })}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {pending}
    }
}

#[component]
fn MemberLine(
    row: MemberRow,
    can_manage: bool,
    change_role: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let email_cell = if row.is_you { format!("{} (you)", row.email) } else { row.email.clone() };
    let actions = can_manage.then(|| {
        let select_label = format!("Role for {}", row.email);
        let remove_label = format!("Remove {}", row.email);
        let save_label = format!("Save the role of {}", row.email);
        let (role_user_id, remove_user_id) = (row.user_id.clone(), row.user_id.clone());
        let options = Role::ALL
            .into_iter()
            .map(|role| view! { <option value=role.as_str() selected=role == row.role>{role.label()}</option> })
            .collect_view();
        view! {
            <td>
                <ActionForm action=change_role>
                    <input type="hidden" name="user_id" value=role_user_id />
                    <select name="role" aria-label=select_label>{options}</select>
                    <button type="submit" class="secondary" aria-label=save_label>"Save"</button>
                </ActionForm>
                <ActionForm action=remove>
                    <input type="hidden" name="user_id" value=remove_user_id />
                    <button type="submit" class="danger" aria-label=remove_label>"Remove"</button>
                </ActionForm>
            </td>
        }
    });
    view! {
        <tr>
            <td>{email_cell}</td>
            <td>{row.role.label()}</td>
            {actions}
        </tr>
    }
}

#[component]
fn InviteForm(invite: ServerAction<CreateInvite>) -> impl IntoView {
    let error = action_error(invite.value());
    // The form is a plain form: the result comes back from the server for this one page view.
    let kept_link = StoredValue::new(kept_secret(CreateInvite::PATH, "invite_url").map(|url| CreatedInvite {
        url,
        email: kept_secret(CreateInvite::PATH, "invite_email").unwrap_or_default(),
        emailed: kept_secret(CreateInvite::PATH, "invite_emailed").unwrap_or_default(),
    }));
    let created = move || kept_link.get_value();
    let kept_role = refill(CreateInvite::PATH, "role").unwrap_or_else(|| "editor".into());
    let options = role_options(&kept_role);
    view! {
        <h2>"Invite someone"</h2>
        <section class="panel">
            <ActionForm action=invite attr:class="stack">
                <FormKey />
                <FormError error />
                <Field label="Email" name="email" kind="email" autocomplete="off" error value=refill(CreateInvite::PATH, "email").unwrap_or_default() />
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" name="role">{options}</select>
                </div>
                <div><button type="submit">"Create invite"</button></div>
            </ActionForm>
            <Show when=move || created().is_some()>
                <div class="field invite-link">
                    <label for="invite-link">"Invite link"</label>
                    <p class="hint">"Send this link to " {move || created().map(|c| c.email)} ". It works once and expires in 7 days; it is not shown again."</p>
                    <p class="hint" data-invite-emailed="">{move || created().map(|c| c.emailed)}</p>
                    <input id="invite-link" readonly value=move || created().map(|c| c.url) />
                </div>
            </Show>
        </section>
    }
}
