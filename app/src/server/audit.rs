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

/// One page of the audit trail, with where the pages beside it start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    /// The events, newest first.
    pub rows: Vec<AuditRow>,
    /// The cursor of the older page (`?before=`), when there is one.
    pub older: Option<i64>,
    /// The cursor of the newer page (`?after=`), when this is not the newest.
    pub newer: Option<i64>,
}

/// Events a page shows.
pub const AUDIT_PAGE_SIZE: i64 = 100;

/// The team's events, newest first, a page at a time ([`AUDIT_PAGE_SIZE`]; `before` and `after`
/// are the cursors of [`AuditPage`]), filtered by entity kind, action and dates in the viewer's
/// timezone (`YYYY-MM-DD`, `until` inclusive).
#[server(prefix = "/api", endpoint = "audit")]
pub async fn list_audit(
    #[server(default)] entity: String,
    #[server(default)] action: String,
    #[server(default)] from: String,
    #[server(default)] until: String,
    #[server(default)] before: String,
    #[server(default)] after: String,
) -> Result<AuditPage, AppError> {
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
    let cursor = |raw: &str| -> Result<Option<i64>, FieldError> {
        match raw.trim() {
            "" => Ok(None),
            text => {
                text.parse::<i64>().map(Some).map_err(|_| FieldError::new("page", "This page link is not valid; start from the newest."))
            }
        }
    };
    let (before, after) = (cursor(&before), cursor(&after));
    let errors: Vec<_> =
        [from.as_ref().err().cloned(), until.as_ref().err().cloned(), before.as_ref().err().cloned(), after.as_ref().err().cloned()]
            .into_iter()
            .flatten()
            .collect();
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
        before_id: before.expect("checked"),
        after_id: after.expect("checked"),
    };
    // One more than a page says whether there is more in the direction read.
    let mut entries = audit::list(&pool()?, me.team_id, &filter, AUDIT_PAGE_SIZE + 1).await?;
    let more = entries.len() as i64 > AUDIT_PAGE_SIZE;
    let going_newer = filter.before_id.is_none() && filter.after_id.is_some();
    if more {
        // The extra one is the farthest from the cursor: the oldest going older, the newest going newer.
        if going_newer {
            entries.remove(0);
        } else {
            entries.pop();
        }
    }
    let (older, newer) = if going_newer {
        (entries.last().map(|e| e.audit_id), more.then(|| entries.first().map(|e| e.audit_id)).flatten())
    } else {
        (more.then(|| entries.last().map(|e| e.audit_id)).flatten(), filter.before_id.and(entries.first().map(|e| e.audit_id)))
    };
    let rows = entries
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
        .collect();
    Ok(AuditPage { rows, older, newer })
}
