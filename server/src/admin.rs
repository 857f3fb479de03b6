//! `crier admin ...`: operator commands on the same domain functions the web app uses.

use crier_domain::password::Password;
use crier_domain::store::{api_tokens, teams};
use crier_domain::{DomainError, EmailAddress, Role, TeamName};
use secrecy::SecretString;
use sqlx::PgPool;

use crate::cli::CliError;

fn usage(e: DomainError) -> CliError {
    match e {
        DomainError::Invalid(field) => CliError::Usage(format!("--{}: {}", field.field.replace('_', "-"), field.message)),
        other => CliError::Failed(anyhow::Error::new(other)),
    }
}

fn parse_role(input: &str) -> Result<Role, CliError> {
    match Role::parse(input) {
        Some(Role::Owner) | None => Err(CliError::Usage(format!("--role: `{input}` is not one of admin, editor, viewer"))),
        Some(role) => Ok(role),
    }
}

/// Creates a person (and the team if needed); returns a line describing what happened.
pub async fn create_user(pool: &PgPool, team: &str, email: &str, password: SecretString, role: &str) -> Result<String, CliError> {
    let team = TeamName::parse(team).map_err(|e| usage(e.into()))?;
    let email = EmailAddress::parse(email).map_err(|e| usage(e.into()))?;
    let password = Password::parse(password).map_err(|e| usage(e.into()))?;
    let role = parse_role(role)?;
    let created = teams::create_user(pool, team, email, password, role).await.map_err(usage)?;
    let m = &created.member;
    Ok(if created.created_team {
        format!("created team “{}” with {} as its owner", m.team_name, m.email)
    } else {
        format!("added {} to team “{}” as {}", m.email, m.team_name, m.role)
    })
}

/// Creates an API token; returns the secret to print once.
pub async fn create_token(pool: &PgPool, team: &str, name: &str, role: &str, expires_in_days: Option<i64>) -> Result<String, CliError> {
    let team = TeamName::parse(team).map_err(|e| usage(e.into()))?;
    let role = parse_role(role)?;
    let created = api_tokens::create_for_team_name(pool, &team, name, role, expires_in_days).await.map_err(usage)?;
    Ok(created.secret.expose().to_owned())
}

/// `crier admin rotate-key`: re-encrypts every stored secret (platform tokens and webhook signing
/// secrets) under the current key.
///
/// With the key file (embedded default) Crier makes the new key itself: it is written as the
/// file's first line with the old keys after it, everything is re-sealed, and then the old keys are
/// dropped from the file. A crash in between leaves a file that still opens everything; running
/// the command again finishes the job. With CRIER_SECRET_KEY the operator supplies the new key
/// there and the old one in CRIER_PREVIOUS_SECRET_KEYS.
///
/// Stop running Crier processes first: they hold the old keys in memory.
pub async fn rotate_key(pool: &PgPool, ring: crate::config::KeyRing) -> Result<String, CliError> {
    use crate::config::{KeyRing, KeySource};
    use crier_domain::store::{accounts, two_factor, webhooks};

    let ring = match ring.source {
        KeySource::File(_) => ring.rotate_file()?,
        KeySource::Environment => ring,
    };
    let vault = ring.open_vault(pool).await?;
    let mut report = accounts::reseal_all(pool, &vault).await.map_err(|e| CliError::Failed(e.into()))?;
    // Webhook signing secrets are sealed by the same vault.
    let signing = webhooks::reseal_all(pool, &vault).await.map_err(|e| CliError::Failed(e.into()))?;
    report.resealed += signing.resealed;
    report.current += signing.current;
    // So are two-factor (TOTP) secrets.
    let totp = two_factor::reseal_all(pool, &vault).await.map_err(|e| CliError::Failed(e.into()))?;
    report.resealed += totp.resealed;
    report.current += totp.current;
    let mut summary = format!("re-encrypted {} secret(s) under the current key ({} already were)", report.resealed, report.current);
    if report.unreadable > 0 || signing.unreadable > 0 || totp.unreadable > 0 {
        if report.unreadable > 0 {
            summary.push_str(&format!(
                "; {} account(s) could not be decrypted with any configured key and were left as they are: reconnect them, or add the missing key and run this again",
                report.unreadable
            ));
        }
        if signing.unreadable > 0 {
            summary.push_str(&format!(
                "; {} webhook endpoint(s) could not be decrypted with any configured key and were left as they are: add them again, or add the missing key and run this again",
                signing.unreadable
            ));
        }
        if totp.unreadable > 0 {
            summary.push_str(&format!(
                "; {} person(s)' two-factor secrets could not be decrypted with any configured key and were left as they are: add the missing key and run this again",
                totp.unreadable
            ));
        }
        return Ok(summary);
    }
    match &ring.source {
        KeySource::File(path) => {
            KeyRing::write_file(path, &[&ring.current])
                .map_err(|e| CliError::Failed(anyhow::anyhow!("cannot write {}: {e}", path.display())))?;
            summary.push_str(&format!("; the old key is removed from {}", path.display()));
        }
        KeySource::Environment if !ring.previous.is_empty() => summary.push_str("; CRIER_PREVIOUS_SECRET_KEYS can now be removed"),
        KeySource::Environment => {}
    }
    Ok(summary)
}

/// An accounts service refusal in the CLI's words.
fn accounts_error(e: crier_accounts::AccountsError) -> CliError {
    use crier_accounts::AccountsError;
    match e {
        AccountsError::CredentialsRefused(e) => CliError::Usage(format!("X refused these keys: {}. Check all four values.", e.message)),
        AccountsError::Unreachable(e) => {
            CliError::Failed(anyhow::anyhow!("X could not be reached to check the keys ({}); try again", e.message))
        }
        AccountsError::Domain(e) => usage(e),
        other => CliError::Failed(anyhow::Error::new(other)),
    }
}

/// The environment variables `crier admin import-env` reads (the names X's own tools use).
pub const X_OAUTH1_ENV: [&str; 4] = ["TWITTER_API_KEY", "TWITTER_API_SECRET", "TWITTER_ACCESS_TOKEN", "TWITTER_ACCESS_TOKEN_SECRET"];

/// `crier admin import-env --team NAME`: connects the X account whose OAuth 1.0a keys are in the
/// environment (checked with X first), exactly as pasting them on the Accounts page does.
pub async fn import_env(pool: &PgPool, ring: crate::config::KeyRing, team: &str, x_api_url: Option<&str>) -> Result<String, CliError> {
    use crier_accounts::keys::XKeys;
    use crier_accounts::{Accounts, Clients};
    use crier_clients::{XClient, XSettings};
    use crier_domain::store::teams;

    let mut values = Vec::with_capacity(4);
    for name in X_OAUTH1_ENV {
        match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => values.push(SecretString::from(value.trim().to_owned())),
            _ => {
                return Err(CliError::Usage(format!(
                    "{name} is not set; export all four of {} (X developer portal → your app → Keys and tokens)",
                    X_OAUTH1_ENV.join(", ")
                )));
            }
        }
    }
    let team = TeamName::parse(team).map_err(|e| usage(e.into()))?;
    let team_id = teams::id_by_name(pool, &team).await.map_err(usage)?;
    let mut settings = XSettings::production(String::new(), SecretString::from(String::new()));
    if let Some(raw) = x_api_url.map(str::trim).filter(|u| !u.is_empty()) {
        settings.api_url = url::Url::parse(raw).map_err(|e| CliError::Usage(format!("CRIER_X_API_URL: `{raw}` is not a URL ({e})")))?;
    }

    let vault = std::sync::Arc::new(ring.open_vault(pool).await?);
    let [consumer_key, consumer_secret, access_token, access_token_secret]: [SecretString; 4] =
        values.try_into().map_err(|_| CliError::Failed(anyhow::anyhow!("four keys expected")))?;
    let keys = XKeys { consumer_key, consumer_secret, access_token, access_token_secret };
    let accounts = Accounts::new(pool.clone(), vault, Clients::keys_only(XClient::new(settings)), None);
    let account = accounts.connect_x_keys(team_id, None, keys).await.map_err(accounts_error)?;
    Ok(format!("connected X account {} {} to team “{team}” with OAuth 1.0a keys", account.name, account.handle.unwrap_or_default()))
}

/// `crier admin import-csv --team NAME [--as EMAIL] FILE`: imports the file as the Import page
/// does, as the member `as_email` names (default: the team's first owner), whose role the team's
/// approval rules look at and whose timezone the file's times are in.
pub async fn import_csv(
    pool: &PgPool,
    team: &str,
    as_email: Option<&str>,
    file: &std::path::Path,
    limits: crier_domain::import::ImportLimits,
    rules: &crier_domain::post::MediaRules,
) -> Result<crier_domain::store::imports::ImportReport, CliError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::imports::{self, Importer, Progress};
    use crier_domain::store::members;
    use std::io::Read;

    let team = TeamName::parse(team).map_err(|e| usage(e.into()))?;
    let team_id = teams::id_by_name(pool, &team).await.map_err(usage)?;
    let email = as_email
        .map(|e| EmailAddress::parse(e).map_err(|_| CliError::Usage(format!("--as: `{e}` is not an email address"))))
        .transpose()?;
    let member = members::in_team(pool, team_id, email.as_ref()).await.map_err(usage)?.ok_or_else(|| {
        CliError::Usage(match as_email {
            Some(e) => format!("--as: team “{team}” has no member {e}"),
            None => format!("team “{team}” has no owner to import as; name a member with --as"),
        })
    })?;
    if !member.role.can_edit() {
        return Err(CliError::Usage(format!(
            "--as: {} is a viewer, and viewers cannot import posts; name an editor, admin or owner",
            member.email
        )));
    }
    // Read one byte past the limit: enough to tell the file is too large, never the whole of a huge file.
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(limits.max_bytes + 1).read_to_end(&mut bytes))
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let importer =
        Importer { team_id, actor: Actor::User(member.user_id), timezone: member.timezone, limits, rules, progress: &Progress::default() };
    imports::import(pool, importer, &bytes, None).await.map_err(|e| CliError::Failed(e.into()))
}
