-- The publishing engine's bookkeeping: retry policy, per-account pauses and budgets, the workers
-- that hold claims, and what a retry must know about the attempt before it.
--
-- The delivery rows are the queue (a transactional outbox): a post and its deliveries are written
-- in one transaction, and workers claim due deliveries in batches with FOR UPDATE SKIP LOCKED.
-- Durable backoff is `delivery.next_attempt_at`, never a job queue's retry layer.

-- Retry policy: the product brief's defaults (first retry after 5 minutes, 5 attempts in all),
-- set per team and copied onto each post, where it may be changed for that post alone.
alter table team
    add column retry_base_seconds integer not null default 300,
    add column max_attempts smallint not null default 5,
    add constraint team_retry_base_range check (retry_base_seconds between 1 and 14400),
    add constraint team_max_attempts_range check (max_attempts between 1 and 20);

alter table post
    add column retry_base_seconds integer not null default 300,
    add constraint post_retry_base_range check (retry_base_seconds between 1 and 14400);

alter table delivery
    -- Temporary failures so far: they, not rate-limit waits or rescues, use up the post's attempts
    -- and set the backoff (base × 2^(failures-1), capped at 4 hours).
    add column failures smallint not null default 0,
    -- The last attempt's outcome is unknown (the worker died during the call, a timeout, Meta's
    -- "HTTP 500 code 2" that may have created the post): look for the post at the platform before
    -- publishing again.
    add column reconcile boolean not null default false,
    -- X threads: the ids of the parts already out, so a retry continues the thread instead of
    -- starting it again.
    add column thread_ids text[] not null default '{}',
    add constraint delivery_failures_range check (failures >= 0);

alter table platform_account
    -- No call before this moment: the platform's rate limit, or Crier's own budget, is spent.
    add column paused_until timestamptz,
    -- Crier's budget for the account (X: 300 posts per 15 minutes, LinkedIn: 100 per day, by
    -- default): calls made in the window that started at `budget_window_started_at`.
    add column budget_window_started_at timestamptz,
    add column budget_used integer not null default 0,
    add constraint platform_account_budget_used check (budget_used >= 0);

-- The processes publishing now. A claim whose worker has not been seen for a while is rescued:
-- the worker died (kill -9, a lost machine) and its deliveries go back to the queue, to be
-- reconciled against the platform before they are published again.
create table publish_worker (
    name       text primary key,
    started_at timestamptz not null default now(),
    last_seen  timestamptz not null default now()
);

-- A paused account's deliveries are skipped by the claim; this finds the accounts quickly.
create index platform_account_paused_idx on platform_account (paused_until) where paused_until is not null;
create index delivery_team_state_idx on delivery (team_id, state);
