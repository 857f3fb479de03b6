-- Bulk CSV import: each imported row's key, a SHA-256 of the team, the row's content as Crier
-- parsed it (texts, link, thread, media), its accounts and its time, so that importing the same
-- rows again adds nothing. The primary key makes a concurrent import of the same rows wait for the
-- first one and then skip them. Kept for as long as the team exists: cancelling or deleting the
-- post does not make its row importable again.
create table post_import (
    team_id     uuid not null references team (team_id) on delete cascade,
    row_key     bytea not null,
    -- The post the row made (null once that post is gone).
    post_id     uuid references post (post_id) on delete set null,
    imported_at timestamptz not null default now(),
    constraint post_import_pkey primary key (team_id, row_key),
    constraint post_import_row_key_length check (octet_length(row_key) = 32)
);
