//! Retention's store: each team's choice ([`Retention`], Settings → Data retention) and the
//! pruner the housekeeping pass runs.
//!
//! The pruner deletes in batches, each its own short statement (the audit trail's in its own
//! transaction, which tells the append-only trigger it is the pruner), so publishing's claims and
//! completions are never queued behind one long delete. It finds old rows through BRIN indexes on
//! their times, once across all teams, each row judged by its own team's retention; afterwards
//! each team whose history was pruned gets a `history_pruned` audit record saying how much.

use std::collections::HashMap;

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
    /// Statements it took (each deleting at most a batch).
    pub batches: u64,
}

/// Deletes what every team's retention says is old, `batch` rows a statement, until nothing is
/// left; then records in each team's audit trail how much of its history went.
pub async fn prune(pool: &PgPool, batch: i64) -> Result<PrunedHistory, DomainError> {
    let defaults = Retention::DEFAULT;
    // The shortest retention any team has: the bound the BRIN indexes narrow the scan with.
    let shortest = sqlx::query!(
        r#"select least($1, min(attempt_days)) as "attempt_days!", least($2, min(audit_days)) as "audit_days!" from team_retention"#,
        i32::from(defaults.attempt_days),
        i32::from(defaults.audit_days)
    )
    .fetch_one(pool)
    .await?;
    let mut pruned = PrunedHistory::default();
    let mut per_team: HashMap<Uuid, [u64; 2]> = HashMap::new();
    loop {
        let gone = sqlx::query!(
            r#"with doomed as (
                   select a.delivery_id, a.attempt
                   from delivery_attempt a
                   join delivery d on d.delivery_id = a.delivery_id
                   left join team_retention r on r.team_id = a.team_id
                   where a.started_at < now() - make_interval(days => $1)
                     and a.started_at < now() - make_interval(days => coalesce(r.attempt_days, $2))
                     and d.state in ('published', 'dry_run_ok', 'failed', 'cancelled')
                   limit $3
               ),
               gone as (
                   delete from delivery_attempt a using doomed x
                   where a.delivery_id = x.delivery_id and a.attempt = x.attempt
                   returning a.team_id
               )
               select team_id as "team_id!", count(*) as "rows!" from gone group by team_id"#,
            shortest.attempt_days,
            i32::from(defaults.attempt_days),
            batch
        )
        .fetch_all(pool)
        .await?;
        pruned.batches += 1;
        let rows = tally(&mut per_team, ATTEMPTS, gone.into_iter().map(|g| (g.team_id, g.rows)));
        pruned.attempts += rows;
        if rows < batch as u64 {
            break;
        }
    }
    loop {
        let mut tx = pool.begin().await?;
        // Only this transaction may delete (the trigger still refuses anything under the floor).
        sqlx::query!("set local crier.audit_pruning = 'on'").execute(&mut *tx).await?;
        let gone = sqlx::query!(
            r#"with doomed as (
                   select e.audit_id
                   from audit_event e
                   left join team_retention r on r.team_id = e.team_id
                   where e.occurred_at < now() - make_interval(days => $1)
                     and e.occurred_at < now() - make_interval(days => coalesce(r.audit_days, $2))
                   limit $3
               ),
               gone as (
                   delete from audit_event e using doomed x where e.audit_id = x.audit_id
                   returning e.team_id
               )
               select team_id as "team_id!", count(*) as "rows!" from gone group by team_id"#,
            shortest.audit_days,
            i32::from(defaults.audit_days),
            batch
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        pruned.batches += 1;
        let rows = tally(&mut per_team, AUDIT_RECORDS, gone.into_iter().map(|g| (g.team_id, g.rows)));
        pruned.audit_records += rows;
        if rows < batch as u64 {
            break;
        }
    }
    for (team_id, [attempts, audit_records]) in per_team {
        let metadata = json!({ "attempts": attempts, "audit_records": audit_records });
        audit::record(pool, team_id, Actor::System, "history_pruned", "team", Some(&team_id.to_string()), metadata).await?;
    }
    Ok(pruned)
}

/// The places in a team's tally.
const ATTEMPTS: usize = 0;
const AUDIT_RECORDS: usize = 1;

/// Adds a batch's deleted rows to each team's tally at `place`; answers the batch's rows.
fn tally(per_team: &mut HashMap<Uuid, [u64; 2]>, place: usize, gone: impl Iterator<Item = (Uuid, i64)>) -> u64 {
    gone.map(|(team_id, rows)| {
        let rows = u64::try_from(rows).unwrap_or(0);
        per_team.entry(team_id).or_default()[place] += rows;
        rows
    })
    .sum()
}
