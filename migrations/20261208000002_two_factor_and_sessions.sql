-- Two-factor sign-in (TOTP and recovery codes), a team rule requiring it, and sessions a person
-- can see and end (Settings → Security).

-- Sessions: whose, since when, last seen, from where. The session store fills these from the
-- session's own data when it saves it (`user_id` is null until someone is fully signed in).
-- `public_id` names a session on the Security page and in its forms; the primary key (the
-- SHA-256 of the cookie) never leaves the database.
alter table web_session
    add column public_id    uuid not null default gen_random_uuid(),
    add column user_id      uuid references app_user (user_id) on delete cascade,
    add column created_at   timestamptz not null default now(),
    add column last_seen_at timestamptz not null default now(),
    add column client_addr  text,
    add column user_agent   text,
    add constraint web_session_public_id_key unique (public_id),
    add constraint web_session_user_agent_shape check (char_length(user_agent) <= 512);
create index web_session_user_idx on web_session (user_id) where user_id is not null;
-- Sessions signed in before this release belong to whoever their data names (if they still exist).
update web_session s set user_id = u.user_id
  from app_user u
 where s.data ->> 'user_id' ~ '^[0-9a-fA-F-]{36}$' and u.user_id = (s.data ->> 'user_id')::uuid;

-- One row per person who has set up (enabled_at set) or is setting up (null) an authenticator
-- app. `secret` is the TOTP secret sealed by the vault with associated data
-- `two_factor:<user_id>:secret`. `last_used_step` is the 30-second step of the last code accepted:
-- a code is accepted only for a later step, so an observed code cannot be replayed.
create table two_factor (
    user_id        uuid primary key references app_user (user_id) on delete cascade,
    secret         bytea not null,
    enabled_at     timestamptz,
    last_used_step bigint,
    created_at     timestamptz not null default now()
);

-- Single-use recovery codes: the SHA-256 of each (80 random bits, see crier_domain::two_factor).
create table recovery_code (
    user_id   uuid not null references app_user (user_id) on delete cascade,
    code_hash bytea not null,
    used_at   timestamptz,
    primary key (user_id, code_hash)
);

-- Failed checks of a second factor (or of the current password when changing it or turning
-- two-factor off), for throttling per person and per client address. As at login, each check is
-- recorded as a failure before it runs (under per-person and per-address advisory locks) and
-- deleted by its id when it passed, so checks sent at once cannot outrun the count. Pruned by
-- housekeeping.
create table verification_failure (
    verification_failure_id bigint generated always as identity primary key,
    failed_at   timestamptz not null default now(),
    user_id     uuid not null,
    client_addr text not null
);
create index verification_failure_user_idx on verification_failure (user_id, failed_at);
create index verification_failure_addr_idx on verification_failure (client_addr, failed_at);

-- An owner's rule: every member signs in with two-factor (members without it set it up at their
-- next sign-in).
alter table team add column require_two_factor boolean not null default false;
