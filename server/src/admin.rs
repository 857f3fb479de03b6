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
pub async fn create_token(pool: &PgPool, team: &str, name: &str, role: &str) -> Result<String, CliError> {
    let team = TeamName::parse(team).map_err(|e| usage(e.into()))?;
    let role = parse_role(role)?;
    let created = api_tokens::create_for_team_name(pool, &team, name, role).await.map_err(usage)?;
    Ok(created.secret.expose().to_owned())
}
