-- Retention (crier_domain::store::retention): finished deliveries' attempts and the audit trail
-- are kept for a number of days per team (a team without a row here keeps the defaults, written
-- once in crier_domain::retention), then pruned by the housekeeping pass.
create table team_retention (
    team_id      uuid primary key references team (team_id) on delete cascade,
    attempt_days integer not null,
    audit_days   integer not null,
    -- The floors: the pruner cannot be told to forget last month's attempts or last quarter's
    -- audit trail (the trigger below holds the audit floor even against the pruner itself).
    constraint team_retention_attempt_days check (attempt_days between 30 and 3650),
    constraint team_retention_audit_days check (audit_days between 90 and 3650)
);

-- How far each team's attempts have been pruned: deliveries finished before this had theirs
-- deleted, so a pass reads only deliveries that finished since (through delivery_team_updated_idx).
-- The audit trail needs no mark: its (team_id, occurred_at) index finds its oldest record at once.
-- No index is added to the tables publishing writes on every delivery.
alter table team add column attempts_pruned_before timestamptz not null default 'epoch';

-- The audit trail stays append-only for everyone but the pruner, which says it is pruning
-- (`set local crier.audit_pruning = 'on'`, in its own transaction) and may then delete only
-- records older than the 90-day floor. Updates and TRUNCATE are refused always.
create or replace function audit_event_append_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' and tg_level = 'ROW'
       and current_setting('crier.audit_pruning', true) = 'on'
       and old.occurred_at < now() - interval '90 days' then
        return old;
    end if;
    raise exception 'the audit trail is append-only (% refused)', tg_op
        using errcode = 'insufficient_privilege';
end
$$;
