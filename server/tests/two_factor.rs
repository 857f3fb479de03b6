//! Two-factor sign-in, passwords and sessions over real HTTP: setting two-factor up, the code after
//! the password, replays, recovery codes, throttling, the team's requirement, changing the
//! password, signing out another session, the absolute session lifetime, and the https cookie and
//! HSTS.

mod support;

use crier::config::WebArgs;
use crier_domain::two_factor::{TotpSecret, now_unix};
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use secrecy::SecretString;
use serde_json::Value;
use support::{Browser, PASSWORD, TestApp, error_of, field_errors, location};

/// The secret shown on the setup page, as the person's authenticator app would hold it.
async fn start_setup(browser: &Browser, email: &str) -> TotpSecret {
    let response = browser.call("settings/security/two_factor_setup", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let setup: Value = response.json().await.unwrap();
    assert!(setup["qr_code"].as_str().unwrap().starts_with("data:image/svg+xml;base64,"), "a QR code drawn as SVG");
    let key = setup["secret"].as_str().unwrap().replace(' ', "");
    TotpSecret::from_base32(&SecretString::from(key), email).expect("the key is base32")
}

/// Turns two-factor on with the current code; answers the secret and the recovery codes.
async fn enable(browser: &Browser, email: &str) -> (TotpSecret, Vec<String>) {
    let secret = start_setup(browser, email).await;
    let response = browser.call("settings/security/enable_two_factor", &[("code", &secret.code_at(now_unix()))]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let codes: Vec<String> = response.json().await.unwrap();
    (secret, codes)
}

/// A code of the next step: the current one was used to turn two-factor on, and a step is
/// accepted once. The next step's code is accepted now (one step of clock skew).
fn next_code(secret: &TotpSecret) -> String {
    secret.code_at(now_unix() + 30)
}

/// Logs in with the password and answers where the app sent the browser.
async fn password_step(browser: &Browser, email: &str, password: &str) -> Option<String> {
    let response = browser.log_in(email, password, Some("/compose")).await;
    assert_eq!(response.status(), StatusCode::OK, "the password is right");
    location(&response)
}

async fn security(browser: &Browser) -> Value {
    let response = browser.call("settings/security", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, Value)> {
    sqlx::query_as::<_, (String, Value)>("select action, metadata from audit_event order by audit_id").fetch_all(&app.pool).await.unwrap()
}

#[tokio::test]
async fn enabling_with_a_wrong_code_is_refused_and_a_right_one_turns_it_on() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    assert_eq!(security(&ada).await["two_factor_on"], false);
    let secret = start_setup(&ada, "ada@example.com").await;
    let again = start_setup(&ada, "ada@example.com").await;
    assert_eq!(secret.code_at(1_000), again.code_at(1_000), "a reload shows the same secret until it is confirmed");

    let right = secret.code_at(now_unix());
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 500_000) % 1_000_000);
    let refused = ada.call("settings/security/enable_two_factor", &[("code", &wrong)]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_errors(&error_of(refused).await)["code"].contains("not right"));
    assert_eq!(security(&ada).await["two_factor_on"], false, "still off");

    let response = ada.call("settings/security/enable_two_factor", &[("code", &right)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let codes: Vec<String> = response.json().await.unwrap();
    assert_eq!(codes.len(), 10);
    let view = security(&ada).await;
    assert_eq!((view["two_factor_on"].as_bool(), view["recovery_codes_left"].as_i64()), (Some(true), Some(10)));
    assert_eq!(
        error_of(ada.call("settings/security/two_factor_setup", &[]).await).await["Refused"].as_str().map(|s| s.contains("already on")),
        Some(true)
    );

    // Neither the secret nor a code is stored in clear or written to the audit trail.
    let stored: Vec<u8> = sqlx::query_scalar("select secret from two_factor").fetch_one(&app.pool).await.unwrap();
    let key = {
        use secrecy::ExposeSecret;
        secret.base32().expose_secret().to_owned()
    };
    assert!(!String::from_utf8_lossy(&stored).contains(&key), "the secret is sealed");
    let trail = audit_actions(&app).await;
    assert!(trail.iter().any(|(a, _)| a == "two_factor_failed") && trail.iter().any(|(a, _)| a == "two_factor_enabled"));
    let everything = serde_json::to_string(&trail).unwrap();
    assert!(!everything.contains(&key) && !codes.iter().any(|c| everything.contains(c.as_str())) && !everything.contains(&right));
}

#[tokio::test]
async fn login_asks_for_the_code_after_the_password_and_a_code_works_once() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let (secret, _) = enable(&ada, "ada@example.com").await;
    ada.log_out().await;

    let browser = app.browser();
    assert_eq!(password_step(&browser, "ada@example.com", PASSWORD).await.as_deref(), Some("/login/two-factor"));
    // The password alone signed nobody in: pages lead back to the second step, functions refuse.
    assert_eq!(browser.call("me", &[]).await.json::<Value>().await.unwrap(), Value::Null);
    assert_eq!(location(&browser.get("/").await).as_deref(), Some("/login/two-factor"));
    assert!(browser.page("/login/two-factor").await.contains("Signing in as ada@example.com."));

    let code = next_code(&secret);
    let verified = browser.call("sign_in/verify", &[("code", &code)]).await;
    assert_eq!(verified.status(), StatusCode::OK);
    assert_eq!(location(&verified).as_deref(), Some("/compose"), "on to where the login was headed");
    assert!(browser.page("/").await.contains("ada@example.com"));
    let trail = audit_actions(&app).await;
    assert!(trail.iter().any(|(a, m)| a == "login_succeeded" && m["second_factor"] == "totp"));

    // The same code again, from another browser that also knows the password: refused.
    let thief = app.browser();
    password_step(&thief, "ada@example.com", PASSWORD).await;
    let replayed = thief.call("sign_in/verify", &[("code", &code)]).await;
    assert_eq!(replayed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_errors(&error_of(replayed).await)["code"].contains("already used"));
    assert_eq!(location(&thief.get("/").await).as_deref(), Some("/login/two-factor"), "still not signed in");
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let (_, codes) = enable(&ada, "ada@example.com").await;
    ada.log_out().await;

    let browser = app.browser();
    password_step(&browser, "ada@example.com", PASSWORD).await;
    let used = browser.call("sign_in/verify", &[("code", &codes[0])]).await;
    assert_eq!(used.status(), StatusCode::OK);
    assert_eq!(security(&browser).await["recovery_codes_left"], 9);
    browser.log_out().await;

    password_step(&browser, "ada@example.com", PASSWORD).await;
    let again = browser.call("sign_in/verify", &[("code", &codes[0])]).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "a recovery code works once");
    // Case, spaces and dashes do not matter.
    let typed = codes[1].to_uppercase().replace('-', " ");
    assert_eq!(browser.call("sign_in/verify", &[("code", &typed)]).await.status(), StatusCode::OK);
    assert_eq!(security(&browser).await["recovery_codes_left"], 8);
    let trail = audit_actions(&app).await;
    assert_eq!(trail.iter().filter(|(a, _)| a == "recovery_code_used").count(), 2);
    assert!(trail.iter().any(|(a, m)| a == "recovery_code_used" && m["recovery_codes_left"] == 8));
}

#[tokio::test]
async fn codes_are_throttled_like_passwords() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let (secret, _) = enable(&ada, "ada@example.com").await;
    ada.log_out().await;

    let browser = app.browser();
    password_step(&browser, "ada@example.com", PASSWORD).await;
    for wrong in ["000000", "111111", "222222", "333333", "444444"] {
        let wrong = if secret.matching_step(wrong, now_unix()).is_some() { "555555" } else { wrong };
        assert_eq!(browser.call("sign_in/verify", &[("code", wrong)]).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let throttled = browser.call("sign_in/verify", &[("code", &next_code(&secret))]).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS, "even the right code waits");
    let wait = error_of(throttled).await["Throttled"].as_u64().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[tokio::test]
async fn a_plain_form_post_of_a_wrong_code_comes_back_with_its_error() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let (secret, _) = enable(&ada, "ada@example.com").await;
    ada.log_out().await;
    let browser = app.browser();
    password_step(&browser, "ada@example.com", PASSWORD).await;
    let right = secret.code_at(now_unix() + 30);
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 500_000) % 1_000_000);
    let refused = browser.post_plain("sign_in/verify", &[("code", &wrong)], "/login/two-factor").await;
    let back = location(&refused).unwrap();
    assert!(back.contains("/login/two-factor") && back.contains("__err="), "{back}");
    let page = browser.page(back.trim_start_matches(&app.base)).await;
    assert!(page.contains("That code is not right"), "{page}");
    let accepted = browser.post_plain("sign_in/verify", &[("code", &right)], "/login/two-factor").await;
    assert_eq!(location(&accepted).as_deref(), Some("/compose"));
}

async fn invite_and_join(app: &TestApp, owner: &Browser, email: &str) -> (Browser, reqwest::Response) {
    let created: Value = owner.call("create_invite", &[("email", email), ("role", "editor")]).await.json().await.unwrap();
    let token = created["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let browser = app.browser();
    let joined = browser.call("accept_invite", &[("token", &token), ("password", PASSWORD)]).await;
    assert_eq!(joined.status(), StatusCode::OK);
    (browser, joined)
}

#[tokio::test]
async fn a_team_requirement_leads_members_to_set_it_up() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let (bob, _) = invite_and_join(&app, &ada, "bob@example.com").await;

    // An owner turns it on for themselves first.
    let refused = error_of(ada.call("settings/set_team_two_factor", &[("required", "true")]).await).await;
    assert!(refused["Refused"].as_str().unwrap().contains("for yourself first"));
    assert_eq!(error_of(bob.call("settings/set_team_two_factor", &[("required", "true")]).await).await, "Forbidden");
    enable(&ada, "ada@example.com").await;
    assert_eq!(ada.call("settings/set_team_two_factor", &[("required", "true")]).await.status(), StatusCode::OK);
    assert!(audit_actions(&app).await.iter().any(|(a, m)| a == "two_factor_required_changed" && m["to"] == true));

    // Bob, without it, is led to set it up at his next sign-in, before anything else.
    bob.log_out().await;
    assert_eq!(password_step(&bob, "bob@example.com", PASSWORD).await.as_deref(), Some("/login/two-factor/setup"));
    assert_eq!(location(&bob.get("/compose").await).as_deref(), Some("/login/two-factor/setup"));
    assert_eq!(error_of(bob.call("members", &[]).await).await, "Unauthenticated");
    assert!(bob.page("/login/two-factor/setup").await.contains("Your team requires two-factor sign-in."));
    let (_, codes) = enable(&bob, "bob@example.com").await;
    assert_eq!(codes.len(), 10);
    assert!(bob.page("/").await.contains("bob@example.com"), "signed in once it is set up");
    // And it cannot be turned off while the team requires it.
    let off = error_of(bob.call("settings/security/disable_two_factor", &[("proof", PASSWORD)]).await).await;
    assert!(off["Refused"].as_str().unwrap().contains("requires"));

    // A person joining by invite sets it up before their first page too.
    let (carol, joined) = invite_and_join(&app, &ada, "carol@example.com").await;
    assert_eq!(location(&joined).as_deref(), Some("/login/two-factor/setup"));
    assert_eq!(location(&carol.get("/").await).as_deref(), Some("/login/two-factor/setup"));
}

#[tokio::test]
async fn turning_it_off_needs_a_code_or_the_password() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    enable(&ada, "ada@example.com").await;
    let refused = ada.call("settings/security/disable_two_factor", &[("proof", "not my password")]).await;
    assert!(field_errors(&error_of(refused).await)["proof"].contains("neither"));
    assert_eq!(ada.call("settings/security/disable_two_factor", &[("proof", PASSWORD)]).await.status(), StatusCode::OK);
    assert_eq!(security(&ada).await["two_factor_on"], false);
    assert!(audit_actions(&app).await.iter().any(|(a, m)| a == "two_factor_disabled" && m["confirmed_with"] == "password"));
    ada.log_out().await;
    assert_eq!(password_step(&ada, "ada@example.com", PASSWORD).await.as_deref(), Some("/compose"), "the password alone again");
}

/// A second browser signed in as the same person, with a User-Agent of its own.
async fn second_browser(app: &TestApp, email: &str, agent: &str) -> Browser {
    let client =
        reqwest::Client::builder().cookie_store(true).user_agent(agent).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let browser = Browser { base: app.base.clone(), client };
    password_step(&browser, email, PASSWORD).await;
    // A page load notes the client.
    browser.page("/").await;
    browser
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

#[tokio::test]
async fn changing_the_password_signs_out_other_sessions() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let laptop = second_browser(&app, "ada@example.com", FIREFOX).await;

    let wrong = ada
        .call("settings/security/change_password", &[("current_password", "not it at all"), ("new_password", "a brand new password")])
        .await;
    assert!(field_errors(&error_of(wrong).await)["current_password"].contains("not your current password"));
    let short = ada.call("settings/security/change_password", &[("current_password", PASSWORD), ("new_password", "short")]).await;
    assert!(field_errors(&error_of(short).await)["new_password"].contains("10 characters"));

    let changed =
        ada.call("settings/security/change_password", &[("current_password", PASSWORD), ("new_password", "a brand new password")]).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(changed.json::<u64>().await.unwrap(), 1, "one other session signed out");
    assert!(location(&laptop.get("/").await).unwrap().starts_with("/login"), "the other session is over");
    assert!(ada.page("/").await.contains("ada@example.com"), "this one goes on");
    assert_eq!(error_of(app.browser().log_in("ada@example.com", PASSWORD, None).await).await, "WrongCredentials");
    assert_eq!(app.browser().log_in("ada@example.com", "a brand new password", None).await.status(), StatusCode::OK);
    assert!(audit_actions(&app).await.iter().any(|(a, m)| a == "password_changed" && m["other_sessions_signed_out"] == 1));
}

#[tokio::test]
async fn a_person_sees_their_sessions_and_signs_out_another() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let laptop = second_browser(&app, "ada@example.com", FIREFOX).await;
    let eve = app.owner("Evil", "eve@example.com").await;

    let view = security(&ada).await;
    let sessions = view["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["current"], true, "this session first");
    let other = &sessions[1];
    assert_eq!(
        (other["current"].as_bool(), other["browser"].as_str(), other["client_addr"].as_str()),
        (Some(false), Some("Firefox on Linux"), Some("127.0.0.1"))
    );
    let other_id = other["id"].as_str().unwrap().to_owned();
    let page = ada.page("/settings/security").await;
    assert!(page.contains("This session") && page.contains("Firefox on Linux") && page.contains(&other_id));

    // Another person cannot end it; its owner can.
    assert_eq!(error_of(eve.call("settings/security/sign_out_session", &[("session_id", &other_id)]).await).await, "NotFound");
    assert_eq!(ada.call("settings/security/sign_out_session", &[("session_id", &other_id)]).await.status(), StatusCode::OK);
    assert!(location(&laptop.get("/").await).unwrap().starts_with("/login"), "the laptop is signed out");
    assert_eq!(security(&ada).await["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(error_of(ada.call("settings/security/sign_out_session", &[("session_id", &other_id)]).await).await, "NotFound");
    assert!(audit_actions(&app).await.iter().any(|(a, m)| a == "session_revoked" && m["session"] == other_id.as_str()));

    // "Sign out all other sessions".
    let phone = second_browser(&app, "ada@example.com", FIREFOX).await;
    let ended = ada.call("settings/security/sign_out_others", &[]).await;
    assert_eq!(ended.json::<u64>().await.unwrap(), 1);
    assert!(location(&phone.get("/").await).unwrap().starts_with("/login"));
    assert!(ada.page("/").await.contains("ada@example.com"));
}

#[tokio::test]
async fn sessions_end_thirty_days_after_sign_in_however_active() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    assert!(ada.page("/").await.contains("ada@example.com"));
    sqlx::query("update web_session set created_at = now() - interval '30 days 1 minute'").execute(&app.pool).await.unwrap();
    assert!(location(&ada.get("/").await).unwrap().starts_with("/login"), "past the absolute lifetime");
    let pruned = crier_domain::store::housekeeping::prune(&app.pool).await.unwrap();
    assert_eq!(pruned.sessions, 1);
}

#[tokio::test]
async fn over_https_the_cookie_is_host_prefixed_and_secure_and_hsts_is_sent() {
    let app = TestApp::spawn_with(WebArgs {
        addr: "127.0.0.1:0".into(),
        public_url: Some("https://crier.example.com".into()),
        ..WebArgs::default()
    })
    .await;
    let response = app.browser().sign_up("Acme", "ada@example.com", PASSWORD).await;
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.contains("crier_session="))
        .expect("a session cookie");
    assert!(cookie.starts_with("__Host-crier_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    assert_eq!(app.browser().get("/login").await.headers()["strict-transport-security"], "max-age=31536000");

    // On plain http (local development) neither.
    let plain = TestApp::spawn().await;
    let response = plain.browser().sign_up("Acme", "ada@example.com", PASSWORD).await;
    assert!(!response.headers().contains_key("strict-transport-security"));
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("crier_session=") && !cookie.contains("Secure"), "{cookie}");
}
