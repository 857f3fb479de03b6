-- Posting schedules and queues: each account's weekly slots in a timezone chosen for it, and
-- posts added to an account's queue taking its next free slot (one delivery per account, each at
-- its own slot). `crier_domain::posting_schedule` resolves slots to moments; the store
-- (`crier_domain::store::queues`) allocates, reorders and pauses.

create table posting_schedule (
    account_id uuid primary key references platform_account (account_id) on delete cascade,
    team_id    uuid not null references team (team_id) on delete cascade,
    timezone   text not null,
    -- The queue is paused: its posts wait (state `paused`) and take fresh slots on resume.
    paused_at  timestamptz,
    updated_at timestamptz not null default now()
);
create index posting_schedule_team_idx on posting_schedule (team_id);

create table posting_slot (
    account_id uuid not null references posting_schedule (account_id) on delete cascade,
    -- ISO 8601: Monday is 1, Sunday 7.
    weekday    smallint not null,
    -- Minutes after midnight, wall-clock time in the schedule's zone.
    minute     smallint not null,
    primary key (account_id, weekday, minute),
    constraint posting_slot_weekday check (weekday between 1 and 7),
    constraint posting_slot_minute check (minute between 0 and 1439)
);

-- The slot a queued delivery holds (null: a post scheduled at a time of its own). While it waits,
-- no other delivery of its account holds the same slot: two people adding to one queue at once
-- never get the same one. Deferred, so a reorder can swap slots in one statement.
alter table delivery add column queue_slot timestamptz;
alter table delivery add constraint delivery_queue_slot_free
    exclude using btree (account_id with =, queue_slot with =) where (queue_slot is not null and state in ('scheduled', 'paused'))
    deferrable initially deferred;
create index delivery_queue_idx on delivery (account_id, queue_slot) where queue_slot is not null and state in ('scheduled', 'paused');

-- The delivery's transitions, with `paused`: a queued delivery pauses and resumes with its queue,
-- and may be cancelled meanwhile (the rest as in 20261121000003).
create or replace function delivery_transition_guard() returns trigger language plpgsql as $$
begin
    if new.state is distinct from old.state and not (
        (old.state, new.state) in (
            ('scheduled', 'publishing'), ('scheduled', 'held'), ('scheduled', 'cancelled'), ('scheduled', 'paused'),
            ('publishing', 'published'), ('publishing', 'dry_run_ok'), ('publishing', 'retrying'),
            ('publishing', 'failed'), ('publishing', 'held'),
            ('retrying', 'publishing'), ('retrying', 'held'), ('retrying', 'cancelled'), ('retrying', 'failed'),
            ('held', 'scheduled'), ('held', 'cancelled'),
            ('paused', 'scheduled'), ('paused', 'cancelled'),
            ('failed', 'scheduled')
        )
    ) then
        raise exception 'illegal delivery transition % -> %', old.state, new.state
            using errcode = 'check_violation', constraint = 'delivery_transition';
    end if;
    if new.post_id is distinct from old.post_id or new.account_id is distinct from old.account_id
        or new.team_id is distinct from old.team_id then
        raise exception 'a delivery never changes its post, account or team'
            using errcode = 'check_violation', constraint = 'delivery_identity';
    end if;
    new.updated_at := now();
    return new;
end
$$;
