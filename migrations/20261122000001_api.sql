-- The REST API: idempotent creates, and the indexes its cursor pagination walks.

-- A create sent with an `Idempotency-Key` header: the first request's result, so a retried request
-- (a timeout, a crashed script) gets the same post instead of a second one. Written in the same
-- transaction as the post, so a key exists exactly when its post does. Kept for a day.
create table api_idempotency (
    team_id       uuid        not null references team (team_id) on delete cascade,
    key           text        not null,
    -- SHA-256 of the request body: the same key with another body is a client bug, refused.
    request_hash  bytea       not null,
    -- Null only inside the creating transaction (the key is taken before the post is written).
    post_id       uuid        references post (post_id) on delete cascade,
    created_at    timestamptz not null default now(),
    primary key (team_id, key),
    constraint api_idempotency_key_length check (char_length(key) between 1 and 255)
);
create index api_idempotency_created_idx on api_idempotency (created_at);

-- Posts are listed newest due first with a (scheduled_at, post_id) cursor.
drop index post_team_schedule_idx;
create index post_team_schedule_idx on post (team_id, scheduled_at desc, post_id desc);
