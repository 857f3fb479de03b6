//! The Audit page's data: the team's audit trail, filtered.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

/// One event as the Audit page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    /// When (RFC 3339, UTC).
    pub occurred_at: String,
    /// When, in the viewer's timezone.
    pub shown_at: String,
    /// Who: an email, an API token's label, or "Crier".
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub entity: String,
    /// Which one.
    pub entity_id: Option<String>,
    /// Details, as compact JSON.
    pub details: String,
}

/// The team's events, newest first (at most 200), filtered by entity kind, action and dates in
/// the viewer's timezone (`YYYY-MM-DD`, `until` inclusive).
#[server(prefix = "/api", endpoint = "audit")]
pub async fn list_audit(
    #[server(default)] entity: String,
    #[server(default)] action: String,
    #[server(default)] from: String,
    #[server(default)] until: String,
) -> Result<Vec<AuditRow>, AppError> {
    use chrono::TimeDelta;
    use crier_domain::FieldError;
    use crier_domain::store::audit::{self, ActorKind, AuditFilter};

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let date = |field: &'static str, raw: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, FieldError> {
        // The start of that day where the viewer lives.
        Ok(crier_domain::timezone::parse_day(field, raw)?.map(|day| me.timezone.start_of_day(day)))
    };
    let (from, until) = (date("from", &from), date("until", &until));
    let errors: Vec<_> = [from.as_ref().err().cloned(), until.as_ref().err().cloned()].into_iter().flatten().collect();
    if !errors.is_empty() {
        return Err(AppError::Fields(errors));
    }
    let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        entity: optional(&entity),
        entity_id: None,
        action: optional(&action),
        from: from.expect("checked"),
        // The whole `until` day is included.
        until: until.expect("checked").map(|d| d + TimeDelta::days(1)),
        before_id: None,
    };
    let entries = audit::list(&pool()?, me.team_id, &filter, 200).await?;
    Ok(entries
        .into_iter()
        .map(|e| AuditRow {
            occurred_at: e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            shown_at: me.timezone.format(e.occurred_at),
            actor: match e.actor_kind {
                ActorKind::System => "Crier".to_owned(),
                _ => e.actor_label.unwrap_or_else(|| "(removed)".to_owned()),
            },
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            details: e.metadata.to_string(),
        })
        .collect())
}
