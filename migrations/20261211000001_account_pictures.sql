-- Each connected account's profile picture, as Crier fetched it when the account was connected or
-- verified: stored here and served by Crier (`/accounts/{id}/picture`), never hot-linked, so pages
-- make no request to a platform's image host and a picture stays while the platform is away.
-- One small image per account (the fetch caps it; the check below is the last word), so bytea in
-- the row is simpler than the media store and goes with the account when it is deleted.
-- Named in the singular, as every other table is.

-- What the picture's foreign key refers to: an account and its team together.
alter table platform_account add constraint platform_account_team_account_key unique (team_id, account_id);

create table account_picture (
    account_id   uuid primary key,
    -- The account's team, repeated so every read filters by team in SQL as every other query
    -- does; the foreign key below holds it to the account's own team.
    team_id      uuid not null,
    -- Decided from the bytes' magic numbers when fetched, never from the platform's header; SVG
    -- (a document that may carry script) is never stored.
    content_type text not null,
    bytes        bytea not null,
    -- The first 16 hex digits of the bytes' SHA-256: the `?v=` of the picture's URL, so a browser
    -- may cache a URL for long and a new picture is a new URL.
    version      text not null,
    fetched_at   timestamptz not null default now(),
    constraint account_picture_account_fkey foreign key (team_id, account_id)
        references platform_account (team_id, account_id) on delete cascade,
    constraint account_picture_content_type check (content_type in ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    constraint account_picture_size check (octet_length(bytes) between 1 and 5242880),
    constraint account_picture_version_shape check (version ~ '^[0-9a-f]{16}$')
);
