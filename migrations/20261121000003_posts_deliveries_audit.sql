-- Posts, their deliveries (one post to one account) with every attempt, and the audit trail.
--
-- The delivery state machine is enforced here, not only in Rust: a guard trigger refuses any
-- transition not drawn below, so no code path (a bug, a manual UPDATE, a second process) can move a
-- delivery where it must not go.
--
--   scheduled  → publishing | held | cancelled
--   publishing → published | dry_run_ok | retrying | failed | held
--   retrying   → publishing | held | cancelled | failed
--   held       → scheduled (the account was reconnected) | cancelled
--   failed     → scheduled ("Retry")
--   published, dry_run_ok, cancelled: final
--
-- (The diagram is in domain/src/delivery.rs, with the Rust mirror of this table.)
-- publishing → retrying also rescues a delivery whose worker died mid-call (its outcome is then
-- unknown and is reconciled against the account's recent posts before the retry publishes).

create type delivery_state as enum (
    'scheduled', 'publishing', 'retrying', 'published', 'dry_run_ok', 'failed', 'held', 'cancelled'
);

create table post (
    post_id           uuid primary key default gen_random_uuid(),
    team_id           uuid not null references team (team_id) on delete cascade,
    author_id         uuid references app_user (user_id) on delete set null,
    text              text not null,
    link              text,
    -- The moment in UTC, and the IANA zone the person entered it in (shown back to them in it).
    scheduled_at      timestamptz not null,
    schedule_timezone text not null,
    dry_run           boolean not null default false,
    max_attempts      smallint not null default 5,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    constraint post_text_shape check (char_length(text) between 1 and 63206),
    constraint post_max_attempts_range check (max_attempts between 1 and 20),
    constraint post_timezone_shape check (char_length(schedule_timezone) between 1 and 64)
);
create index post_team_schedule_idx on post (team_id, scheduled_at);

-- A different text for one platform (for example a shorter one for X).
create table post_text_override (
    post_id  uuid not null references post (post_id) on delete cascade,
    platform platform not null,
    text     text not null,
    primary key (post_id, platform),
    constraint post_text_override_shape check (char_length(text) between 1 and 63206)
);

-- X threads: the post's text is the first item; these follow it as replies, in order.
create table post_thread_item (
    post_id  uuid not null references post (post_id) on delete cascade,
    position smallint not null,
    text     text not null,
    primary key (post_id, position),
    constraint post_thread_item_position check (position >= 1),
    constraint post_thread_item_shape check (char_length(text) between 1 and 25000)
);

create table delivery (
    delivery_id        uuid primary key default gen_random_uuid(),
    team_id            uuid not null references team (team_id) on delete cascade,
    post_id            uuid not null references post (post_id) on delete cascade,
    account_id         uuid not null references platform_account (account_id),
    state              delivery_state not null default 'scheduled',
    attempts           smallint not null default 0,
    -- When a worker should next take it (the schedule time, then each retry's backoff). Durable
    -- backoff lives here, not in the job queue's retry layer.
    next_attempt_at    timestamptz not null,
    claimed_by         text,
    claimed_at         timestamptz,
    external_id        text,
    permalink          text,
    last_error_class   text,
    last_error_code    text,
    last_error_message text,
    published_at       timestamptz,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    constraint delivery_post_account_key unique (post_id, account_id),
    constraint delivery_attempts_range check (attempts >= 0),
    -- A published delivery names its post at the platform; nothing else may claim to be published.
    constraint delivery_published_has_id check ((state = 'published') = (external_id is not null and published_at is not null)),
    -- Only a delivery being published is claimed, and it always is.
    constraint delivery_claimed_iff_publishing check ((state = 'publishing') = (claimed_at is not null and claimed_by is not null))
);
create index delivery_due_idx on delivery (next_attempt_at) where state in ('scheduled', 'retrying');
create index delivery_publishing_idx on delivery (claimed_at) where state = 'publishing';
create index delivery_account_idx on delivery (account_id, state);
create index delivery_post_idx on delivery (post_id);

create function delivery_transition_guard() returns trigger language plpgsql as $$
begin
    if new.state is distinct from old.state and not (
        (old.state, new.state) in (
            ('scheduled', 'publishing'), ('scheduled', 'held'), ('scheduled', 'cancelled'),
            ('publishing', 'published'), ('publishing', 'dry_run_ok'), ('publishing', 'retrying'),
            ('publishing', 'failed'), ('publishing', 'held'),
            ('retrying', 'publishing'), ('retrying', 'held'), ('retrying', 'cancelled'), ('retrying', 'failed'),
            ('held', 'scheduled'), ('held', 'cancelled'),
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
create trigger delivery_transition_guard before update on delivery
    for each row execute function delivery_transition_guard();

-- One row per call to a platform (or dry run), whatever came of it.
create table delivery_attempt (
    delivery_id   uuid not null references delivery (delivery_id) on delete cascade,
    attempt       smallint not null,
    team_id       uuid not null references team (team_id) on delete cascade,
    worker        text not null,
    started_at    timestamptz not null,
    finished_at   timestamptz,
    -- published, dry_run_ok, temporary, rate_limited, needs_reauth, permanent, unknown (worker died),
    -- reconciled (found already published).
    outcome       text,
    http_status   smallint,
    duration_ms   integer,
    error_code    text,
    error_message text,
    primary key (delivery_id, attempt),
    constraint delivery_attempt_number check (attempt >= 1)
);

-- The audit trail: append-only. The database refuses UPDATE and DELETE (and TRUNCATE), so a
-- record, once written, stays as written. Metadata never holds a secret (the writers only put ids,
-- platforms, statuses and classes there).
create type audit_actor as enum ('user', 'api_token', 'system');

create table audit_event (
    audit_id    bigint generated always as identity primary key,
    team_id     uuid not null references team (team_id),
    occurred_at timestamptz not null default now(),
    actor_kind  audit_actor not null,
    -- The user or API token; null for the system.
    actor_id    uuid,
    action      text not null,
    entity      text not null,
    entity_id   text,
    metadata    jsonb not null default '{}'::jsonb,
    constraint audit_event_actor check ((actor_kind = 'system') = (actor_id is null)),
    constraint audit_event_action_shape check (action ~ '^[a-z][a-z_]{2,63}$'),
    constraint audit_event_entity_shape check (entity ~ '^[a-z][a-z_]{2,31}$'),
    constraint audit_event_metadata_object check (jsonb_typeof(metadata) = 'object')
);
create index audit_event_team_time_idx on audit_event (team_id, occurred_at desc);
create index audit_event_entity_idx on audit_event (team_id, entity, entity_id);

create function audit_event_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the audit trail is append-only (% refused)', tg_op
        using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_event_no_update before update or delete on audit_event
    for each row execute function audit_event_append_only();
create trigger audit_event_no_truncate before truncate on audit_event
    for each statement execute function audit_event_append_only();
