//! Retention's store: each team's choice ([`Retention`], Settings → Data retention) and the
//! pruner the housekeeping pass runs.
//!
//! The pruner goes team by team and deletes in batches, each its own short statement (the audit
//! trail's in its own transaction, which tells the append-only trigger it is the pruner), so
//! publishing's claims and completions never queue behind one long delete. It reads through
//! indexes that exist for the pages anyway (a delivery's team and last change, an audit record's
//! team and time): nothing is added to what publishing writes per delivery. Each team whose
//! history was pruned gets a `history_pruned` audit record saying how much.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::audit::{self, Actor};
use crate::DomainError;
use crate::retention::Retention;

/// The team's retention (the defaults until it chooses).
pub async fn team(pool: &PgPool, team_id: Uuid) -> Result<Retention, DomainError> {
    let row = sqlx::query!("select attempt_days, audit_days from team_retention where team_id = $1", team_id).fetch_optional(pool).await?;
    Ok(row.map_or(Retention::DEFAULT, |r| Retention {
        attempt_days: u16::try_from(r.attempt_days).unwrap_or(Retention::DEFAULT.attempt_days),
        audit_days: u16::try_from(r.audit_days).unwrap_or(Retention::DEFAULT.audit_days),
    }))
}

/// Sets the team's retention; records `retention_changed` with the new days.
pub async fn set(pool: &PgPool, team_id: Uuid, actor: Actor, chosen: Retention) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        r#"insert into team_retention (team_id, attempt_days, audit_days) values ($1, $2, $3)
           on conflict (team_id) do update set attempt_days = excluded.attempt_days, audit_days = excluded.audit_days"#,
        team_id,
        i32::from(chosen.attempt_days),
        i32::from(chosen.audit_days)
    )
    .execute(&mut *tx)
    .await?;
    let metadata = json!({ "attempt_days": chosen.attempt_days, "audit_days": chosen.audit_days });
    audit::record(&mut *tx, team_id, actor, "retention_changed", "team", Some(&team_id.to_string()), metadata).await?;
    tx.commit().await?;
    Ok(())
}

/// What one pruning pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrunedHistory {
    /// Attempts of finished deliveries.
    pub attempts: u64,
    /// Audit records.
    pub audit_records: u64,
    /// Statements it took (each deleting the attempts of at most a batch of deliveries, or at
    /// most a batch of audit records).
    pub batches: u64,
}

/// Deletes what each team's retention says is old, team by team, a batch a statement, until
/// nothing is left; records in each team's audit trail how much of its history went.
///
/// Attempts go with their delivery: those of deliveries that finished (their last change) before
/// the team's cutoff, read in order of that change from where the last pass stopped (the team's
/// `attempts_pruned_before`), `batch` deliveries a statement. Audit records are read oldest first
/// through the team's `(team_id, occurred_at)` index, `batch` a statement.
pub async fn prune(pool: &PgPool, batch: i64) -> Result<PrunedHistory, DomainError> {
    let defaults = Retention::DEFAULT;
    let teams = sqlx::query!(
        r#"select t.team_id, t.attempts_pruned_before,
                  coalesce(r.attempt_days, $1) as "attempt_days!", coalesce(r.audit_days, $2) as "audit_days!",
                  now() as "now!"
           from team t left join team_retention r on r.team_id = t.team_id
           order by t.team_id"#,
        i32::from(defaults.attempt_days),
        i32::from(defaults.audit_days)
    )
    .fetch_all(pool)
    .await?;
    let mut pruned = PrunedHistory::default();
    for team in teams {
        let cutoff = team.now - chrono::TimeDelta::days(i64::from(team.attempt_days));
        let (mut attempts, mut read) = (0, 0);
        // Keyset: the last delivery read, by (finished, id).
        let (mut after_at, mut after_id) = (team.attempts_pruned_before, Uuid::nil());
        while after_at < cutoff {
            let step = sqlx::query!(
                r#"with chosen as (
                       select d.delivery_id, d.updated_at
                       from delivery d
                       where d.team_id = $1 and (d.updated_at, d.delivery_id) > ($2, $3) and d.updated_at < $4
                         and d.state in ('published', 'dry_run_ok', 'failed', 'cancelled')
                       order by d.updated_at, d.delivery_id
                       limit $5
                   ),
                   gone as (
                       delete from delivery_attempt a using chosen c where a.delivery_id = c.delivery_id
                       returning 1
                   ),
                   last as (select updated_at, delivery_id from chosen order by updated_at desc, delivery_id desc limit 1)
                   select (select count(*) from gone) as "attempts!", (select count(*) from chosen) as "deliveries!",
                          (select updated_at from last) as last_at, (select delivery_id from last) as last_id"#,
                team.team_id,
                after_at,
                after_id,
                cutoff,
                batch
            )
            .fetch_one(pool)
            .await?;
            pruned.batches += 1;
            attempts += u64::try_from(step.attempts).unwrap_or(0);
            read += step.deliveries;
            match (step.last_at, step.last_id) {
                (Some(at), Some(id)) if step.deliveries == batch => (after_at, after_id) = (at, id),
                _ => break,
            }
        }
        // A range with no finished delivery costs nothing to read again: the mark (a write to the
        // team's row) moves only past deliveries read.
        if read > 0 {
            sqlx::query!("update team set attempts_pruned_before = $2 where team_id = $1", team.team_id, cutoff).execute(pool).await?;
        }

        let mut audit_records = 0;
        loop {
            let mut tx = pool.begin().await?;
            // Only this transaction may delete (the trigger still refuses anything under the floor).
            sqlx::query!("set local crier.audit_pruning = 'on'").execute(&mut *tx).await?;
            let gone = sqlx::query_scalar!(
                r#"with doomed as (
                       select audit_id from audit_event
                       where team_id = $1 and occurred_at < now() - make_interval(days => $2)
                       order by occurred_at
                       limit $3
                   ),
                   gone as (delete from audit_event e using doomed d where e.audit_id = d.audit_id returning 1)
                   select count(*) as "rows!" from gone"#,
                team.team_id,
                team.audit_days,
                batch
            )
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            pruned.batches += 1;
            audit_records += u64::try_from(gone).unwrap_or(0);
            if gone < batch {
                break;
            }
        }

        if attempts + audit_records > 0 {
            let metadata = json!({ "attempts": attempts, "audit_records": audit_records });
            audit::record(pool, team.team_id, Actor::System, "history_pruned", "team", Some(&team.team_id.to_string()), metadata).await?;
        }
        pruned.attempts += attempts;
        pruned.audit_records += audit_records;
    }
    Ok(pruned)
}
