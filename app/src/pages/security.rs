//! `/settings/security` (two-factor sign-in, password, sessions), `/settings/security/two-factor`
//! (setting two-factor up), and the second step of signing in: `/login/two-factor` (the code) and
//! `/login/two-factor/setup` (when the team requires two-factor and the person has none yet).
//! Every form is a plain form; each result comes back with the page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use server_fn::ServerFn;

use crate::components::form::{Field, FormError, Notice, action_error, kept_notice};
use crate::components::shell::SandboxBadge;
use crate::errors::AppError;
use crate::server::auth::LogOut;
use crate::server::security::{
    ChangePassword, DisableTwoFactor, EnableTwoFactor, RecoveryCodes, SecurityView, SessionLine, SignOutOtherSessions, SignOutSession,
    VerifySignIn, kept_recovery_codes, security_settings, sign_in_step, two_factor_setup,
};

/// A one-time code input: a code from an authenticator app or a recovery code. Text rather than
/// numeric, since recovery codes have letters; the browser may offer a code it received.
#[component]
fn CodeField(
    /// The visible label.
    label: &'static str,
    /// The input's name (and id).
    name: &'static str,
    /// What to type, under the label.
    hint: &'static str,
    /// The form's latest error.
    error: Signal<Option<AppError>>,
    /// The browser's autofill hint.
    #[prop(default = "one-time-code")]
    autocomplete: &'static str,
    /// The input type (`password` when a password is accepted too).
    #[prop(default = "text")]
    kind: &'static str,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.field(name));
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || if message().is_some() { format!("{hint_id} {error_id}") } else { hint_id.clone() }
    };
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <p class="hint" id=hint_id>{hint}</p>
            <input
                id=name
                name=name
                type=kind
                required
                autocomplete=autocomplete
                autocapitalize="off"
                spellcheck="false"
                aria-invalid=move || message().is_some().then_some("true")
                aria-describedby=described_by
            />
            <Show when=move || message().is_some()>
                <p class="field-error" id=error_id.clone()>{message}</p>
            </Show>
        </div>
    }
}

/// Settings → Security.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| security_settings());
    // Only the render right after two-factor was turned on by a plain form post finds codes here.
    let codes = Resource::new(|| (), |_| kept_recovery_codes());
    view! {
        <Title text="Security" />
        <h1>"Security"</h1>
        <p><A href="/settings">"← Settings"</A></p>
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let codes = codes.await.ok().flatten();
                match data.await {
                    Ok(view_data) => {
                        let sessions = view_data.sessions.clone();
                        view! {
                            {codes.map(|codes| view! { <RecoveryCodesPanel codes /> })}
                            <TwoFactorSection data=view_data />
                            <PasswordSection />
                            <SessionsSection sessions />
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The recovery codes just made, shown this once.
#[component]
fn RecoveryCodesPanel(codes: RecoveryCodes) -> impl IntoView {
    let items = codes.0.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view();
    view! {
        <section class="panel recovery-codes" aria-labelledby="recovery-codes-heading">
            <h2 id="recovery-codes-heading">"Save your recovery codes"</h2>
            <p class="notice" role="status">"Two-factor sign-in is on."</p>
            <p>
                "If you lose your phone, sign in with one of these codes instead of a code from your app. Each works once. "
                <strong>"Keep them somewhere safe, such as a password manager: they are not shown again."</strong>
            </p>
            <ol class="codes">{items}</ol>
            <p><A href="/">"I have saved them: go to the dashboard"</A></p>
        </section>
    }
}

#[component]
fn TwoFactorSection(data: SecurityView) -> impl IntoView {
    let disable = ServerAction::<DisableTwoFactor>::new();
    let error = action_error(disable.value());
    let turned_off = move || kept_notice(DisableTwoFactor::PATH);
    let body = if data.two_factor_on {
        let since = data.two_factor_since.clone().unwrap_or_default();
        let left = match data.recovery_codes_left {
            0 => "You have no recovery codes left: turn two-factor off and on again to get new ones.".to_owned(),
            1 => "1 recovery code left.".to_owned(),
            n => format!("{n} recovery codes left."),
        };
        let off = if data.team_requires {
            view! { <p class="hint">"Your team requires two-factor sign-in, so it cannot be turned off here."</p> }.into_any()
        } else {
            view! {
                <ActionForm action=disable attr:class="stack">
                    <FormError error />
                    <CodeField
                        label="Code from your app, or your password"
                        name="proof"
                        hint="To turn two-factor off, prove it is you: the 6 digits your authenticator app shows now, or your password."
                        autocomplete="current-password"
                        kind="password"
                        error
                    />
                    <div><button type="submit" class="danger">"Turn off two-factor"</button></div>
                </ActionForm>
            }
            .into_any()
        };
        view! {
            <p><span class="status ok">"On"</span> {format!(" since {since}. {left}")}</p>
            {off}
        }
        .into_any()
    } else {
        let required = data.team_requires.then(|| view! { <p class="hint">"Your team requires it: set it up now."</p> });
        view! {
            <p><span class="status warn">"Off"</span> ". Your password alone signs you in."</p>
            {required}
            <p><a class="button" href="/settings/security/two-factor">"Set up two-factor sign-in"</a></p>
        }
        .into_any()
    };
    view! {
        <h2>"Two-factor sign-in"</h2>
        <section class="panel" data-two-factor=if data.two_factor_on { "on" } else { "off" }>
            <p class="hint">"After your password, Crier asks for a 6-digit code from an authenticator app on your phone (such as Aegis, Google Authenticator, 1Password or Microsoft Authenticator)."</p>
            {body}
            <Notice message=turned_off />
        </section>
    }
}

#[component]
fn PasswordSection() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = action_error(change.value());
    let changed = move || kept_notice(ChangePassword::PATH);
    view! {
        <h2>"Password"</h2>
        <section class="panel">
            <ActionForm action=change attr:class="stack">
                <FormError error />
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" error />
                <Field
                    label="New password"
                    name="new_password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 10 characters. Every other session of yours is signed out."
                    error
                />
                <div><button type="submit">"Change password"</button></div>
            </ActionForm>
            <Notice message=changed />
        </section>
    }
}

#[component]
fn SessionsSection(sessions: Vec<SessionLine>) -> impl IntoView {
    let sign_out_one = ServerAction::<SignOutSession>::new();
    let sign_out_all = ServerAction::<SignOutOtherSessions>::new();
    let error = Signal::derive(move || action_error(sign_out_one.value()).get().or_else(|| action_error(sign_out_all.value()).get()));
    let notice = move || kept_notice(SignOutSession::PATH).or_else(|| kept_notice(SignOutOtherSessions::PATH));
    let others = sessions.iter().filter(|s| !s.current).count();
    let rows = sessions
        .into_iter()
        .map(|line| {
            let action = if line.current {
                view! { <strong>"This session"</strong> }.into_any()
            } else {
                let label = format!("Sign out the session of {} from {}, last seen {}", line.browser, line.client_addr, line.last_seen);
                let id = line.id.clone();
                view! {
                    <ActionForm action=sign_out_one>
                        <input type="hidden" name="session_id" value=id />
                        <button type="submit" class="danger" aria-label=label>"Sign out"</button>
                    </ActionForm>
                }
                .into_any()
            };
            view! {
                <tr data-session=line.id.clone() data-current=line.current.then_some("true")>
                    <td>{line.browser.clone()}</td>
                    <td>{line.client_addr.clone()}</td>
                    <td>{line.created.clone()}</td>
                    <td>{line.last_seen.clone()}</td>
                    <td>{action}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>"Sessions"</h2>
        <section class="panel">
            <p class="hint">"Where you are signed in. A session ends after 7 days without use, and in any case 30 days after you signed in."</p>
            <FormError error />
            <Notice message=notice />
            <table class="sessions">
                <caption class="visually-hidden">"Your sessions"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Browser"</th>
                        <th scope="col">"Address"</th>
                        <th scope="col">"Signed in"</th>
                        <th scope="col">"Last seen"</th>
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            {(others > 0).then(|| view! {
                <ActionForm action=sign_out_all>
                    <p><button type="submit" class="secondary">"Sign out all other sessions"</button></p>
                </ActionForm>
            })}
        </section>
    }
}

/// Scanning the QR code (or typing the key) and confirming with a code; shared by Settings →
/// Security and the sign-in a team's rule sends here.
#[component]
fn SetupSteps() -> impl IntoView {
    let setup = Resource::new(|| (), |_| two_factor_setup());
    let enable = ServerAction::<EnableTwoFactor>::new();
    let error = action_error(enable.value());
    view! {
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(setup) => {
                        let alt = format!("QR code that adds {} on Crier to an authenticator app", setup.account);
                        view! {
                            <ol class="setup-steps">
                                <li>"Open an authenticator app on your phone (such as Aegis, Google Authenticator, 1Password or Microsoft Authenticator) and add an account."</li>
                                <li>
                                    "Scan this QR code:"
                                    <div><img class="qr-code" src=setup.qr_code alt=alt width="200" height="200" /></div>
                                    "Or type this key (time-based, 6 digits):"
                                    <p><code class="secret-key" data-secret-key="">{setup.secret}</code></p>
                                </li>
                                <li>
                                    <ActionForm action=enable attr:class="stack">
                                        <FormError error />
                                        <CodeField
                                            label="Code from the app"
                                            name="code"
                                            hint="The 6 digits the app shows now for Crier."
                                            error
                                        />
                                        <div><button type="submit">"Turn on two-factor"</button></div>
                                    </ActionForm>
                                </li>
                            </ol>
                        }
                        .into_any()
                    }
                    Err(AppError::Unauthenticated) => view! {
                        <p class="form-error" role="alert">"Your sign-in took too long or has ended."</p>
                        <p><A href="/login">"Log in again"</A></p>
                    }
                    .into_any(),
                    Err(e) => view! {
                        <p class="form-error" role="alert">{e.to_string()}</p>
                        <p><A href="/settings/security">"Back to Security"</A></p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Settings → Security → set up two-factor sign-in.
#[component]
pub fn TwoFactorSetupPage() -> impl IntoView {
    view! {
        <Title text="Set up two-factor sign-in" />
        <h1>"Set up two-factor sign-in"</h1>
        <p><A href="/settings/security">"← Security"</A></p>
        <section class="panel">
            <SetupSteps />
        </section>
    }
}

/// The second step of a sign-in whose team requires two-factor and who has none yet.
#[component]
pub fn SignInSetupPage() -> impl IntoView {
    let cancel = ServerAction::<LogOut>::new();
    view! {
        <Title text="Set up two-factor sign-in" />
        <main class="auth-page wide">
            <p class="brand">"Crier " <SandboxBadge /></p>
            <h1>"Set up two-factor sign-in"</h1>
            <p>"Your team requires two-factor sign-in. Set it up now to continue."</p>
            <SetupSteps />
            <ActionForm action=cancel>
                <p><button type="submit" class="secondary">"Cancel and log out"</button></p>
            </ActionForm>
        </main>
    }
}

/// `/login/two-factor`: the code after the password.
#[component]
pub fn SignInCodePage() -> impl IntoView {
    let step = Resource::new(|| (), |_| sign_in_step());
    let verify = ServerAction::<VerifySignIn>::new();
    let cancel = ServerAction::<LogOut>::new();
    let error = action_error(verify.value());
    view! {
        <Title text="Two-factor sign-in" />
        <main class="auth-page">
            <p class="brand">"Crier " <SandboxBadge /></p>
            <h1>"Two-factor sign-in"</h1>
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match step.await {
                        Ok(Some(step)) if !step.set_up => view! {
                            <p>{format!("Signing in as {}.", step.email)}</p>
                            <ActionForm action=verify attr:class="stack">
                                <FormError error />
                                <CodeField
                                    label="Code"
                                    name="code"
                                    hint="The 6 digits your authenticator app shows now for Crier. No phone? Type one of your recovery codes."
                                    error
                                />
                                <button type="submit">"Verify"</button>
                            </ActionForm>
                            <ActionForm action=cancel>
                                <p><button type="submit" class="secondary">"Cancel and log out"</button></p>
                            </ActionForm>
                        }
                        .into_any(),
                        Ok(Some(_)) => view! {
                            <p>"Your team requires two-factor sign-in. "<A href="/login/two-factor/setup">"Set it up to continue"</A></p>
                        }
                        .into_any(),
                        Ok(None) | Err(_) => view! {
                            <p class="form-error" role="alert">"Your sign-in took too long or has ended."</p>
                            <p><A href="/login">"Log in again"</A></p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}
