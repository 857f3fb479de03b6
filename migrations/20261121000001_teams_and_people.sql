-- Teams, the people in them, invitations, team API tokens, web sessions and login throttling.
--
-- Conventions: lowercase SQL, `<table>_id` keys, named constraints (the store maps constraint
-- names to field errors), timestamps in timestamptz (UTC on the wire).

create type member_role as enum ('owner', 'admin', 'editor', 'viewer');

create table team (
    team_id    uuid primary key default gen_random_uuid(),
    name       text not null,
    created_at timestamptz not null default now(),
    constraint team_name_shape check (char_length(name) between 1 and 80 and name = btrim(name))
);
-- Team names identify a team for the admin CLI (`--team NAME`), so they are unique regardless of case.
create unique index team_name_key on team (lower(name));

-- A person belongs to exactly one team for now; membership moves to its own table if people ever
-- need several teams. "user" is reserved in SQL, hence app_user.
create table app_user (
    user_id       uuid primary key default gen_random_uuid(),
    team_id       uuid not null references team (team_id) on delete cascade,
    email         text not null,
    password_hash text not null,
    role          member_role not null,
    created_at    timestamptz not null default now(),
    -- The application normalises emails (trim + lowercase); the database refuses anything else so
    -- uniqueness is case-insensitive by construction.
    constraint app_user_email_normalised check (email = lower(btrim(email)) and position('@' in email) > 1),
    constraint app_user_email_key unique (email)
);
create index app_user_team_idx on app_user (team_id);

-- An invitation link carries a random token; only its SHA-256 is stored, so a database leak does
-- not let anyone join a team. The link is shown once, when it is created.
create table invite (
    invite_id   uuid primary key default gen_random_uuid(),
    team_id     uuid not null references team (team_id) on delete cascade,
    email       text not null,
    role        member_role not null,
    token_hash  bytea not null,
    invited_by  uuid references app_user (user_id) on delete set null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    constraint invite_token_hash_key unique (token_hash),
    constraint invite_email_normalised check (email = lower(btrim(email)) and position('@' in email) > 1),
    -- Ownership is never handed out by link: an owner promotes an existing member instead.
    constraint invite_role_not_owner check (role <> 'owner')
);
create index invite_team_idx on invite (team_id, created_at desc);

-- Team API tokens (used by the REST API). Tokens are 256-bit random values, so a fast hash is
-- enough: there is nothing to brute-force, unlike a password.
create table api_token (
    api_token_id uuid primary key default gen_random_uuid(),
    team_id      uuid not null references team (team_id) on delete cascade,
    name         text not null,
    role         member_role not null,
    token_hash   bytea not null,
    created_by   uuid references app_user (user_id) on delete set null,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    constraint api_token_token_hash_key unique (token_hash),
    constraint api_token_name_shape check (char_length(name) between 1 and 80),
    constraint api_token_role_not_owner check (role <> 'owner')
);
create index api_token_team_idx on api_token (team_id);

-- Web sessions (tower-sessions store). The row is keyed by the SHA-256 of the session id, so the
-- cookie value (a bearer secret) is never stored.
create table web_session (
    session_id_hash bytea primary key,
    data            jsonb not null,
    expires_at      timestamptz not null
);
create index web_session_expires_at_idx on web_session (expires_at);

-- Failed logins, for throttling by email and by client address. Pruned by housekeeping.
create table login_failure (
    failed_at   timestamptz not null default now(),
    email       text not null,
    client_addr text not null
);
create index login_failure_email_idx on login_failure (email, failed_at);
create index login_failure_addr_idx on login_failure (client_addr, failed_at);
