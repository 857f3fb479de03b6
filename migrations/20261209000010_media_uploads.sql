-- Resumable uploads (the REST API's `/api/v1/media/uploads`): a large video arrives in chunks,
-- over as many requests (and web processes) as it takes, and resumes after a dropped connection.
--
-- The chunks themselves are objects in the media store (`uploads/<team>/<upload>/<index>`), never
-- on one machine's disk, so consecutive chunks may reach different web processes; this row is
-- the upload's state. Every chunk but the last is exactly `chunk_bytes` long and they arrive in
-- order, so `received` (the bytes stored so far) is all a client needs to resume. When the last
-- byte arrives the chunks are read back, in order, through the same pipeline as any upload, and
-- the row names the media item it became.

create type media_upload_state as enum (
    -- Chunks are arriving.
    'receiving',
    -- Every byte arrived; one request is reading them into a media item (since `updated_at`: a
    -- completion that stopped, with its process, is taken over after a while).
    'completing',
    -- A media item (`media_id`); the chunks are gone. Kept until expiry so that a retried last
    -- chunk or completion answers with the same item.
    'completed',
    -- Given up (by its client, or on expiry); housekeeping deletes its chunks, then the row.
    'aborted'
);

create table media_upload (
    upload_id   uuid primary key default gen_random_uuid(),
    team_id     uuid not null references team (team_id) on delete cascade,
    -- The name it was announced under, for people (never used as a path or a key).
    file_name   text not null,
    alt_text    text not null default '',
    -- The file's size, announced at the start: chunks must add up to it exactly.
    byte_size   bigint not null,
    chunk_bytes integer not null,
    received    bigint not null default 0,
    state       media_upload_state not null default 'receiving',
    -- The media item it became (its own row scopes it by team; not a foreign key, so that a team's
    -- deletion removes both in any order).
    media_id    uuid,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    constraint media_upload_size check (byte_size > 0),
    constraint media_upload_chunk_bytes check (chunk_bytes between 262144 and 8388608),
    constraint media_upload_received check (received between 0 and byte_size),
    constraint media_upload_file_name check (char_length(file_name) <= 255),
    constraint media_upload_alt_text check (char_length(alt_text) <= 4000),
    constraint media_upload_completed check ((state = 'completed') = (media_id is not null)),
    constraint media_upload_expiry check (expires_at > created_at)
);
-- The quota counts the bytes a team's open uploads will bring; housekeeping finds expired ones.
create index media_upload_team_idx on media_upload (team_id) where state in ('receiving', 'completing');
create index media_upload_expiry_idx on media_upload (expires_at);
