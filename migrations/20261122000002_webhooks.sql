-- Webhooks: a team's HTTPS endpoints, and the calls Crier makes to them.
--
-- Events come from the audit trail, which every relevant action already writes. A statement-level
-- trigger on audit_event turns the events a team's endpoints subscribe to into queued calls in the
-- same transaction as the event: a call exists if and only if its event committed. The call rows
-- are the queue (like the delivery rows): the worker's dispatcher claims due calls in batches with
-- FOR UPDATE SKIP LOCKED, sends them with no transaction open, and writes the outcomes back.
--
--   pending  → sending (claimed) → delivered | pending (a retry, after a backoff) | failed (the last attempt)
--   sending  → pending (rescued: the worker stopped before the call ended; its outcome is unknown)

create table webhook_endpoint (
    endpoint_id uuid primary key default gen_random_uuid(),
    team_id     uuid not null references team (team_id) on delete cascade,
    -- https:// (http:// only where CRIER_WEBHOOKS_ALLOW_HTTP allows it); checked by the store.
    url         text not null,
    -- The event types it receives (the store checks the names; a test event reaches any endpoint).
    events      text[] not null,
    -- The signing secret, sealed by the token vault and bound to this row (team and endpoint).
    secret      bytea not null,
    enabled     boolean not null default true,
    created_by  uuid references app_user (user_id) on delete set null,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint webhook_endpoint_url_shape check (url ~ '^https?://' and char_length(url) <= 2000),
    constraint webhook_endpoint_events_known check (
        cardinality(events) between 1 and 4
        and events <@ array['delivery.published', 'delivery.failed', 'delivery.held', 'account.needs_reauth']::text[]
    )
);
-- The trigger below looks up a team's enabled endpoints for every audit statement.
create index webhook_endpoint_team_idx on webhook_endpoint (team_id) where enabled;

create type webhook_call_state as enum ('pending', 'sending', 'delivered', 'failed');

create table webhook_call (
    call_id         bigint generated always as identity primary key,
    team_id         uuid not null references team (team_id) on delete cascade,
    endpoint_id     uuid not null references webhook_endpoint (endpoint_id) on delete cascade,
    -- The audit event it tells of; `evt_<audit_id>` is the payload's id and the Crier-Webhook-Id
    -- header, the same on every retry, so receivers can ignore a call they have already handled.
    audit_id        bigint not null,
    -- delivery.published, delivery.failed, delivery.held, account.needs_reauth, or ping (a test).
    event_type      text not null,
    -- {"id", "type", "created_at", "data"}: ids, platform, permalink or the reason; never a token.
    payload         jsonb not null,
    state           webhook_call_state not null default 'pending',
    -- Attempts started so far (a claim counts one).
    attempts        smallint not null default 0,
    next_attempt_at timestamptz not null default now(),
    claimed_by      text,
    claimed_at      timestamptz,
    last_status     smallint,
    -- Crier's short words on the last failure (a status, a timeout); never a secret or a URL.
    last_error      text,
    created_at      timestamptz not null default now(),
    delivered_at    timestamptz,
    updated_at      timestamptz not null default now(),
    constraint webhook_call_event_once unique (endpoint_id, audit_id),
    constraint webhook_call_attempts_range check (attempts >= 0),
    -- Only a call being sent is claimed, and it always is.
    constraint webhook_call_claimed_iff_sending check ((state = 'sending') = (claimed_at is not null and claimed_by is not null)),
    constraint webhook_call_delivered_at check ((state = 'delivered') = (delivered_at is not null))
);
-- The claim's index, shaped like its query.
create index webhook_call_due_idx on webhook_call (next_attempt_at) where state = 'pending';
-- The rescue's.
create index webhook_call_sending_idx on webhook_call (claimed_at) where state = 'sending';
-- The Settings page's log, newest first per endpoint.
create index webhook_call_endpoint_idx on webhook_call (endpoint_id, call_id desc);

-- One row per HTTP call made (or lost with its worker), whatever came of it: the log teams read.
create table webhook_attempt (
    call_id     bigint not null references webhook_call (call_id) on delete cascade,
    attempt     smallint not null,
    team_id     uuid not null references team (team_id) on delete cascade,
    started_at  timestamptz not null,
    finished_at timestamptz not null default now(),
    -- delivered (2xx), failed (another status, a timeout, no connection), unknown (the worker stopped).
    outcome     text not null,
    http_status smallint,
    duration_ms integer,
    error       text,
    primary key (call_id, attempt),
    constraint webhook_attempt_number check (attempt >= 1),
    constraint webhook_attempt_outcome check (outcome in ('delivered', 'failed', 'unknown'))
);

-- Audit actions → webhook event types. A test event (`webhook_test_sent`) goes to the one endpoint
-- it names, the others to every enabled endpoint of the team that subscribes to them.
--
-- Statement-level, with the inserted rows as a transition table: the publisher writes its audit
-- rows in batches, so this costs one statement per batch, and for a team without endpoints the
-- join finds nothing (for an installation without any, the first probe returns at once).
create function webhook_enqueue() returns trigger language plpgsql as $$
begin
    if not exists (select 1 from webhook_endpoint where enabled) then
        return null;
    end if;
    insert into webhook_call (team_id, endpoint_id, audit_id, event_type, payload)
    select e.team_id, w.endpoint_id, e.audit_id, e.event_type,
           jsonb_build_object(
               'id', 'evt_' || e.audit_id,
               'type', e.event_type,
               'created_at', to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'data', coalesce(case
                   -- The delivery row was written by the same statement as its event (and is
                   -- visible here: this runs when that statement has finished).
                   when e.entity = 'delivery' then (
                       select jsonb_strip_nulls(jsonb_build_object(
                           'delivery_id', d.delivery_id, 'post_id', d.post_id, 'account_id', d.account_id,
                           'platform', e.metadata ->> 'platform', 'attempt', e.metadata -> 'attempt',
                           'external_id', d.external_id, 'permalink', d.permalink,
                           'error', case when e.event_type <> 'delivery.published' then jsonb_strip_nulls(jsonb_build_object(
                               'class', d.last_error_class, 'code', d.last_error_code, 'message', d.last_error_message)) end))
                       from delivery d where d.delivery_id = e.entity_id::uuid and d.team_id = e.team_id)
                   when e.entity = 'account' then (
                       select jsonb_strip_nulls(jsonb_build_object(
                           'account_id', a.account_id, 'platform', a.platform, 'name', a.name, 'reason', a.status_detail))
                       from platform_account a where a.account_id = e.entity_id::uuid and a.team_id = e.team_id)
                   else jsonb_build_object('endpoint_id', w.endpoint_id, 'message', 'A test event from Crier.')
               end, jsonb_build_object(e.entity || '_id', e.entity_id)))
    from (
        select a.team_id, a.audit_id, a.occurred_at, a.entity, a.entity_id, a.metadata,
               case a.action
                   when 'delivery_published' then 'delivery.published'
                   when 'delivery_failed' then 'delivery.failed'
                   when 'delivery_held' then 'delivery.held'
                   when 'account_needs_reauth' then 'account.needs_reauth'
                   when 'webhook_test_sent' then 'ping'
               end as event_type
        from added a
        where a.action in ('delivery_published', 'delivery_failed', 'delivery_held', 'account_needs_reauth', 'webhook_test_sent')
    ) e
    join webhook_endpoint w on w.team_id = e.team_id and w.enabled
        and case when e.event_type = 'ping' then w.endpoint_id::text = e.entity_id else e.event_type = any (w.events) end;
    if found then
        -- Delivered on commit: idle dispatchers wake at once.
        perform pg_notify('crier_webhook_due', '');
    end if;
    return null;
end
$$;
create trigger audit_event_webhooks after insert on audit_event
    referencing new table as added
    for each statement execute function webhook_enqueue();

create function webhook_touch() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end
$$;
create trigger webhook_endpoint_touch before update on webhook_endpoint
    for each row execute function webhook_touch();
create trigger webhook_call_touch before update on webhook_call
    for each row execute function webhook_touch();
