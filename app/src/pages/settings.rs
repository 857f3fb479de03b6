//! `/settings`

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use server_fn::ServerFn;

use crate::components::form::{FormError, Notice, action_error, kept_notice, kept_values, refill};
use crate::components::link_tracking::{LinkTrackingFields, TrackingValues};
use crate::components::retry::RetryPolicyLive;
use crate::server::auth::{SetTimezone, timezone_settings};
use crate::server::link_tracking::{SetLinkTracking, link_tracking_settings};
use crate::server::posts::TRACKING_SENT;
use crate::server::reviews::{SetApprovalPolicy, TeamApprovals, approval_settings};
use crate::server::security::{SetTeamTwoFactor, TeamTwoFactorRule, team_two_factor};
use crate::server::settings::{SetRetention, SetRetryPolicy, TeamRetention, TeamRetryPolicy, retention_settings, retry_settings};
use crier_domain::retention::Retention;

/// Team and personal settings.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SetTimezone>::new();
    let settings = Resource::new(|| (), |_| timezone_settings());
    let error = action_error(save.value());
    let saved = move || kept_notice(SetTimezone::PATH);
    view! {
        <Title text="Settings" />
        <h1>"Settings"</h1>
        <section class="panel">
            <ul>
                <li><A href="/settings/security">"Security"</A> " — your password, two-factor sign-in, and where you are signed in."</li>
                <li><A href="/settings/notifications">"Notifications"</A> " — what Crier tells you of, in Crier and by email, and the team's Slack and Teams channels."</li>
                <li><A href="/settings/feeds">"Feeds"</A> " — RSS and Atom feeds whose new items become drafts or posts."</li>
                <li><A href="/settings/members">"Members"</A> " — invite people, change roles, remove members."</li>
                <li><A href="/settings/api">"API"</A> " — tokens for scripts and other systems, and the REST API's reference."</li>
                <li><A href="/settings/review-links">"Review links"</A> " — show posts to a client without a Crier account, for their approval."</li>
                <li><A href="/settings/webhooks">"Webhooks"</A> " — HTTPS endpoints Crier calls, signed, when posts go out or fail and accounts need reconnecting."</li>
            </ul>
        </section>
        <h2>"Your timezone"</h2>
        <section class="panel">
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(data) => {
                            let current = data.current.clone();
                            let options = data
                                .all
                                .into_iter()
                                .map(|zone| {
                                    let selected = zone == current;
                                    let label = zone.clone();
                                    view! { <option value=zone selected=selected>{label}</option> }
                                })
                                .collect_view();
                            view! {
                                <ActionForm action=save attr:class="stack">
                                    <FormError error />
                                    <div class="field">
                                        <label for="timezone">"Timezone"</label>
                                        <p class="hint" id="timezone-hint">"Times on every page are shown, and schedule times entered, in this zone."</p>
                                        <select id="timezone" name="timezone" aria-describedby="timezone-hint">{options}</select>
                                    </div>
                                    <div><button type="submit">"Save timezone"</button></div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Notice message=saved />
        </section>
        <h2>"Retries"</h2>
        <RetrySection />
        <h2>"Approvals"</h2>
        <ApprovalsSection />
        <h2 id="link-tracking">"Link tracking"</h2>
        <LinkTrackingSection />
        <h2 id="retention">"Data retention"</h2>
        <RetentionSection />
        <h2>"Two-factor sign-in for the team"</h2>
        <TeamTwoFactorSection />
    }
}

/// The team's rule on two-factor sign-in: shown to everyone, changed by owners. A plain form.
#[component]
fn TeamTwoFactorSection() -> impl IntoView {
    let save = ServerAction::<SetTeamTwoFactor>::new();
    let settings = Resource::new(|| (), |_| team_two_factor());
    let error = action_error(save.value());
    let saved = move || kept_notice(SetTeamTwoFactor::PATH);
    view! {
        <section class="panel">
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(TeamTwoFactorRule { required, can_change, viewer_has_it }) => {
                            let state = if required {
                                "Required: everyone signs in with a code from an authenticator app after their password. Members without it set it up at their next sign-in."
                            } else {
                                "Not required: each person chooses in Settings → Security."
                            };
                            let form = can_change.then(|| {
                                let (value, label) = if required { ("false", "Stop requiring two-factor") } else { ("true", "Require two-factor for everyone") };
                                let before = (!required && !viewer_has_it).then(|| view! {
                                    <p class="hint">"To require it, first " <A href="/settings/security/two-factor">"set up two-factor sign-in for yourself"</A> "."</p>
                                });
                                view! {
                                    {before}
                                    <ActionForm action=save>
                                        <FormError error />
                                        <input type="hidden" name="required" value=value />
                                        <p><button type="submit" class="secondary">{label}</button></p>
                                    </ActionForm>
                                }
                            });
                            let others = (!can_change).then(|| view! { <p class="hint">"Owners can change this."</p> });
                            view! { <p data-team-two-factor=if required { "required" } else { "optional" }>{state}</p> {form} {others} }.into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Notice message=saved />
        </section>
    }
}

/// The team's retry policy: shown to everyone, changed by owners and admins. A plain form; the
/// fields and the line saying what they mean are an island (`RetryPolicyLive`).
#[component]
fn RetrySection() -> impl IntoView {
    let save = ServerAction::<SetRetryPolicy>::new();
    let settings = Resource::new(|| (), |_| retry_settings());
    let error = action_error(save.value());
    let saved = move || kept_notice(SetRetryPolicy::PATH);
    view! {
        <section class="panel">
            <p class="hint">"When a platform fails for a while (a server error, a timeout), Crier tries again, waiting twice as long each time, at most 4 hours. A post can set its own in Compose; posts already scheduled keep theirs. Rate limits and reconnecting never use up attempts."</p>
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(TeamRetryPolicy { policy, can_manage: true }) => {
                            let attempts = refill(SetRetryPolicy::PATH, "max_attempts").unwrap_or_else(|| policy.max_attempts.to_string());
                            let minutes = refill(SetRetryPolicy::PATH, "first_retry_minutes").unwrap_or_else(|| policy.first_retry_minutes().to_string());
                            view! {
                                <ActionForm action=save attr:class="stack">
                                    <FormError error />
                                    <RetryPolicyLive attempts minutes error=error.get_untracked() />
                                    <div><button type="submit">"Save retries"</button></div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                        Ok(TeamRetryPolicy { policy, can_manage: false }) => {
                            view! { <p>{policy.describe()}</p><p class="hint">"Owners and admins can change this."</p> }.into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Notice message=saved />
        </section>
    }
}

/// The team's link tracking defaults, which Compose starts each post with: shown to everyone,
/// changed by owners and admins. A plain form, rendered by the server.
#[component]
fn LinkTrackingSection() -> impl IntoView {
    let save = ServerAction::<SetLinkTracking>::new();
    let settings = Resource::new(|| (), |_| link_tracking_settings());
    let error = action_error(save.value());
    let saved = move || kept_notice(SetLinkTracking::PATH);
    view! {
        <section class="panel">
            <p class="hint">"Crier can add UTM parameters to a post's links, so your analytics tool sees which platform and campaign brought each visit, and can send links through its own short links, which count clicks per post and platform (Analytics shows them). Links are changed only as each post goes out; the post keeps the link as written."</p>
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(team) if team.can_manage => {
                            let kept = kept_values(SetLinkTracking::PATH);
                            // A refused form comes back as it was sent.
                            let values = TrackingValues::new(&team, kept.as_ref(), TRACKING_SENT);
                            view! {
                                <ActionForm action=save attr:class="stack">
                                    <FormError error />
                                    <p>{team.tracking.describe()}</p>
                                    <LinkTrackingFields values team error=error.get_untracked() />
                                    <div><button type="submit">"Save link tracking"</button></div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                        Ok(team) => view! { <p>{team.tracking.describe()}</p><p class="hint">"Owners and admins can change this."</p> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Notice message=saved />
        </section>
    }
}

/// How long the team keeps finished posts' attempts and its audit trail: shown to everyone,
/// changed by owners and admins. A plain form, rendered by the server.
#[component]
fn RetentionSection() -> impl IntoView {
    let save = ServerAction::<SetRetention>::new();
    let settings = Resource::new(|| (), |_| retention_settings());
    let error = action_error(save.value());
    let saved = move || kept_notice(SetRetention::PATH);
    view! {
        <section class="panel">
            <p class="hint">"Every attempt to publish a post is recorded (when, the platform's answer, how long it took), and so is everything people and Crier do in the team (the audit trail). Records older than these are deleted; posts themselves are kept. Each deletion is itself recorded in the audit trail."</p>
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(TeamRetention { retention, can_manage: true }) => {
                            let attempts = refill(SetRetention::PATH, "attempt_days").unwrap_or_else(|| retention.attempt_days.to_string());
                            let audit = refill(SetRetention::PATH, "audit_days").unwrap_or_else(|| retention.audit_days.to_string());
                            let field_error = |name: &'static str| error.get_untracked().and_then(|e| e.field(name));
                            let (attempts_error, audit_error) = (field_error("attempt_days"), field_error("audit_days"));
                            view! {
                                <ActionForm action=save attr:class="stack">
                                    <FormError error />
                                    <p>{retention.describe()}</p>
                                    <div class="field">
                                        <label for="attempt_days">"Keep attempts of finished posts for (days)"</label>
                                        <input id="attempt_days" name="attempt_days" type="number" inputmode="numeric" required
                                            min=Retention::MIN_ATTEMPT_DAYS max=Retention::MAX_DAYS value=attempts
                                            aria-invalid=attempts_error.is_some().then_some("true") aria-describedby=if attempts_error.is_some() { "attempt_days-hint attempt_days-error" } else { "attempt_days-hint" } />
                                        <p class="hint" id="attempt_days-hint">{format!("{} to {} days; {} by default.", Retention::MIN_ATTEMPT_DAYS, Retention::MAX_DAYS, Retention::DEFAULT.attempt_days)}</p>
                                        {attempts_error.clone().map(|m| view! { <p class="field-error" id="attempt_days-error">{m}</p> })}
                                    </div>
                                    <div class="field">
                                        <label for="audit_days">"Keep the audit trail for (days)"</label>
                                        <input id="audit_days" name="audit_days" type="number" inputmode="numeric" required
                                            min=Retention::MIN_AUDIT_DAYS max=Retention::MAX_DAYS value=audit
                                            aria-invalid=audit_error.is_some().then_some("true") aria-describedby=if audit_error.is_some() { "audit_days-hint audit_days-error" } else { "audit_days-hint" } />
                                        <p class="hint" id="audit_days-hint">{format!("{} to {} days; {} by default.", Retention::MIN_AUDIT_DAYS, Retention::MAX_DAYS, Retention::DEFAULT.audit_days)}</p>
                                        {audit_error.clone().map(|m| view! { <p class="field-error" id="audit_days-error">{m}</p> })}
                                    </div>
                                    <div><button type="submit">"Save retention"</button></div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                        Ok(TeamRetention { retention, can_manage: false }) => {
                            view! { <p>{retention.describe()}</p><p class="hint">"Owners and admins can change this."</p> }.into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Notice message=saved />
        </section>
    }
}

/// The team's approval settings: whose posts need approval, how many approvals, who approves.
/// Changed by owners and admins; a plain form.
#[component]
fn ApprovalsSection() -> impl IntoView {
    let save = ServerAction::<SetApprovalPolicy>::new();
    let settings = Resource::new(|| (), |_| approval_settings());
    let error = action_error(save.value());
    let saved = move || kept_notice(SetApprovalPolicy::PATH);
    view! {
        <section class="panel">
            <p class="hint">"Posts that need approval are submitted for review from Compose; the Review page lists them for approvers, and an approved post is scheduled for its time."</p>
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(TeamApprovals { policy, can_manage: true }) => {
                            let chosen = |field: &'static str, current: &str| refill(SetApprovalPolicy::PATH, field).unwrap_or_else(|| current.to_owned());
                            let (rule, approvals, approvers) =
                                (chosen("rule", policy.rule_str()), chosen("approvals", &policy.approvals.to_string()), chosen("approvers", policy.approvers_str()));
                            let option = |value: &'static str, label: &'static str, current: &str| {
                                view! { <option value=value selected=current == value>{label}</option> }
                            };
                            view! {
                                <ActionForm action=save attr:class="stack">
                                    <FormError error />
                                    <p>{policy.describe()}</p>
                                    <div class="field">
                                        <label for="rule">"Posts need approval"</label>
                                        <select id="rule" name="rule">
                                            {option("off", "Off: posts are scheduled as written", &rule)}
                                            {option("editors", "For editors", &rule)}
                                            {option("everyone", "For everyone", &rule)}
                                        </select>
                                    </div>
                                    <div class="field">
                                        <label for="approvals">"Approvals needed"</label>
                                        <select id="approvals" name="approvals">
                                            {option("1", "1", &approvals)}
                                            {option("2", "2", &approvals)}
                                        </select>
                                    </div>
                                    <div class="field">
                                        <label for="approvers">"Who approves"</label>
                                        <select id="approvers" name="approvers">
                                            {option("admins", "Owners and admins", &approvers)}
                                            {option("editors", "Owners, admins and editors", &approvers)}
                                        </select>
                                    </div>
                                    <div><button type="submit">"Save approvals"</button></div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                        Ok(TeamApprovals { policy, can_manage: false }) => {
                            view! { <p>{policy.describe()}</p><p class="hint">"Owners and admins can change this."</p> }.into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Notice message=saved />
        </section>
    }
}
