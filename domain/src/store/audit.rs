//! The audit trail: who did what to which thing, when. Append-only: the database refuses UPDATE,
//! DELETE and TRUNCATE on `audit_event`. Metadata is written by Crier's own code from ids, platforms,
//! statuses and error classes; [`record`] also refuses any key that names a secret, as a backstop.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::DomainError;

/// Who acted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    /// A signed-in person.
    User(Uuid),
    /// A team API token.
    ApiToken(Uuid),
    /// A client review link (someone outside the team, through the link).
    ReviewLink(Uuid),
    /// Crier itself (the worker pool, housekeeping, the admin CLI).
    System,
}

/// The database's `audit_actor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "audit_actor", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A person.
    User,
    /// An API token.
    ApiToken,
    /// A client review link.
    ReviewLink,
    /// Crier itself.
    System,
}

impl Actor {
    fn parts(self) -> (ActorKind, Option<Uuid>) {
        match self {
            Actor::User(id) => (ActorKind::User, Some(id)),
            Actor::ApiToken(id) => (ActorKind::ApiToken, Some(id)),
            Actor::ReviewLink(id) => (ActorKind::ReviewLink, Some(id)),
            Actor::System => (ActorKind::System, None),
        }
    }
}

/// Metadata keys that would carry a credential; a record with one is refused outright.
const SECRET_KEYS: &[&str] = &["token", "access_token", "refresh_token", "secret", "client_secret", "password", "code_verifier", "key"];

fn names_a_secret(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| {
            let k = k.to_ascii_lowercase();
            SECRET_KEYS.iter().any(|s| k == *s || k.ends_with(&format!("_{s}"))) || names_a_secret(v)
        }),
        Value::Array(items) => items.iter().any(names_a_secret),
        _ => false,
    }
}

/// Appends one event. `metadata` must be a JSON object without credentials.
pub async fn record<'e>(
    executor: impl PgExecutor<'e>,
    team_id: Uuid,
    actor: Actor,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    metadata: Value,
) -> Result<(), DomainError> {
    if !metadata.is_object() || names_a_secret(&metadata) {
        return Err(DomainError::Internal(format!("audit metadata for {action} is not a plain object without credentials")));
    }
    let (kind, actor_id) = actor.parts();
    sqlx::query!(
        r#"insert into audit_event (team_id, actor_kind, actor_id, action, entity, entity_id, metadata)
           values ($1, $2, $3, $4, $5, $6, $7)"#,
        team_id,
        kind as ActorKind,
        actor_id,
        action,
        entity,
        entity_id,
        metadata,
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Records an event whose failure must not undo what already happened (the action is done; a
/// missing audit row is logged loudly instead).
pub async fn record_after(
    pool: &PgPool,
    team_id: Uuid,
    actor: Actor,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    metadata: Value,
) {
    if let Err(e) = record(pool, team_id, actor, action, entity, entity_id, metadata).await {
        tracing::error!(error = %e, action, entity, "writing the audit trail failed");
    }
}

/// One event as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its sequence number.
    pub audit_id: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who, by kind.
    pub actor_kind: ActorKind,
    /// The person's email or the token's label, when known.
    pub actor_label: Option<String>,
    /// What.
    pub action: String,
    /// On what kind of thing.
    pub entity: String,
    /// Which one.
    pub entity_id: Option<String>,
    /// Details (ids, platform, status, class).
    pub metadata: Value,
}

/// Which events to list.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this entity kind.
    pub entity: Option<String>,
    /// Only this entity.
    pub entity_id: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// From this moment on.
    pub from: Option<DateTime<Utc>>,
    /// Before this moment.
    pub until: Option<DateTime<Utc>>,
    /// Only events older than this one (a page's last `audit_id`): the next page.
    pub before_id: Option<i64>,
    /// Only events newer than this one (a page's first `audit_id`): the previous page, the
    /// `limit` events nearest to it. Ignored when `before_id` is set.
    pub after_id: Option<i64>,
}

/// The team's events, newest first, at most `limit`.
pub async fn list(pool: &PgPool, team_id: Uuid, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>, DomainError> {
    let limit = limit.clamp(1, 1000);
    let rows =
        match (filter.before_id, filter.after_id) {
            (None, Some(after)) => {
                // The events just newer than the cursor: read upwards from it, then turn the page the
                // right way round.
                let mut rows = sqlx::query_as!(
                AuditEntry,
                r#"select e.audit_id, e.occurred_at, e.actor_kind as "actor_kind: ActorKind", e.action, e.entity, e.entity_id, e.metadata,
                          coalesce(u.email, t.name, 'Review link “' || l.label || '”') as actor_label
                   from audit_event e
                   left join app_user u on e.actor_kind = 'user' and u.user_id = e.actor_id and u.team_id = e.team_id
                   left join api_token t on e.actor_kind = 'api_token' and t.api_token_id = e.actor_id and t.team_id = e.team_id
                   left join review_link l on e.actor_kind = 'review_link' and l.link_id = e.actor_id and l.team_id = e.team_id
                   where e.team_id = $1
                     and ($2::text is null or e.entity = $2)
                     and ($3::text is null or e.entity_id = $3)
                     and ($4::text is null or e.action = $4)
                     and e.occurred_at >= coalesce($5, '-infinity'::timestamptz)
                     and e.occurred_at < coalesce($6, 'infinity'::timestamptz)
                     and e.audit_id > $8
                   order by e.audit_id
                   limit $7"#,
                team_id,
                filter.entity,
                filter.entity_id,
                filter.action,
                filter.from,
                filter.until,
                limit,
                after,
            )
            .fetch_all(pool)
            .await?;
                rows.reverse();
                rows
            }
            (before, _) => sqlx::query_as!(
                AuditEntry,
                r#"select e.audit_id, e.occurred_at, e.actor_kind as "actor_kind: ActorKind", e.action, e.entity, e.entity_id, e.metadata,
                          coalesce(u.email, t.name, 'Review link “' || l.label || '”') as actor_label
                   from audit_event e
                   left join app_user u on e.actor_kind = 'user' and u.user_id = e.actor_id and u.team_id = e.team_id
                   left join api_token t on e.actor_kind = 'api_token' and t.api_token_id = e.actor_id and t.team_id = e.team_id
                   left join review_link l on e.actor_kind = 'review_link' and l.link_id = e.actor_id and l.team_id = e.team_id
                   where e.team_id = $1
                     and ($2::text is null or e.entity = $2)
                     and ($3::text is null or e.entity_id = $3)
                     and ($4::text is null or e.action = $4)
                     and e.occurred_at >= coalesce($5, '-infinity'::timestamptz)
                     and e.occurred_at < coalesce($6, 'infinity'::timestamptz)
                     and e.audit_id < coalesce($8, 9223372036854775807)
                   order by e.audit_id desc
                   limit $7"#,
                team_id,
                filter.entity,
                filter.entity_id,
                filter.action,
                filter.from,
                filter.until,
                limit,
                before,
            )
            .fetch_all(pool)
            .await?,
        };
    Ok(rows)
}
