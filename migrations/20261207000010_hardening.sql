-- Hardening for the open internet.

-- Login attempts are recorded as failures before the password is checked (and removed when it
-- was right), under a per-email advisory lock: twenty wrong passwords sent at once for one
-- address leave five checked, not twenty. The id finds the provisional row again.
alter table login_failure add column login_failure_id bigint generated always as identity primary key;

-- Costly or abusable requests per client address (an IPv6 /64 counts as one address): sign-up and
-- invite acceptance hash a password, so they are limited per address and window. Pruned by
-- housekeeping.
create table address_attempt (
    attempt_id  bigint generated always as identity primary key,
    kind        text not null,
    client_addr text not null,
    at          timestamptz not null default now(),
    constraint address_attempt_kind check (kind in ('sign_up', 'invite_acceptance'))
);
create index address_attempt_key_idx on address_attempt (kind, client_addr, at);

-- API tokens may expire (chosen at creation), and their requests are counted here rather than in
-- one web process's memory, so a rate limit holds across every web process.
alter table api_token add column expires_at timestamptz;
alter table api_token add column rate_window_started_at timestamptz;
alter table api_token add column rate_used integer not null default 0;

-- One-time keys of rendered forms: a plain form posted twice (a double click, a browser retry, the
-- back button) is done once. A key is taken in the transaction of what the form creates, with what
-- it created (an id), so the second submission answers the first's result. Kept for a day.
create table form_submission (
    form_key    text primary key,
    user_id     uuid not null references app_user (user_id) on delete cascade,
    result      text not null,
    created_at  timestamptz not null default now(),
    constraint form_submission_key_length check (char_length(form_key) between 16 and 64)
);
create index form_submission_created_idx on form_submission (created_at);

-- The analytics series reads the deliveries finished since its range began (plus those still
-- queued): by this index, its cost follows the range asked for, not the team's whole history.
create index delivery_team_updated_idx on delivery (team_id, updated_at);
