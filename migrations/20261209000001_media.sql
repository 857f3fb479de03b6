-- Media: a team's library of images, GIFs, videos and PDF documents, the media each post carries,
-- and what each delivery uploaded to its platform.
--
-- A media item's bytes live in the media store (the filesystem under the data directory, or an
-- S3-compatible bucket); the row holds what Crier learnt by reading them (never what a browser
-- claimed). Team scoping is the database's too: a post's media reference the item through
-- (team_id, media_id), so a post can only carry its own team's media, whatever id a request sends.

create type media_kind as enum ('image', 'gif', 'video', 'document');

create table media_item (
    media_id         uuid primary key default gen_random_uuid(),
    team_id          uuid not null references team (team_id) on delete cascade,
    kind             media_kind not null,
    content_type     text not null,
    -- The size of the stored bytes (after metadata was stripped): what the quota counts.
    byte_size        bigint not null,
    width            integer,
    height           integer,
    duration_ms      bigint,
    frames           integer,
    frame_rate_milli integer,
    video_codec      text,
    audio_codec      text,
    pages            integer,
    -- SHA-256 of the stored bytes, which are exactly what is published.
    sha256           bytea not null,
    -- The name it was uploaded under, for people (never used as a path).
    file_name        text not null,
    alt_text         text not null default '',
    uploaded_by      uuid references app_user (user_id) on delete set null,
    has_thumbnail    boolean not null default false,
    created_at       timestamptz not null default now(),
    -- Deleted items keep their row (the deliveries that published them still name them) but lose
    -- their bytes, and no longer count against the quota or appear in the library.
    deleted_at       timestamptz,
    constraint media_item_team_key unique (team_id, media_id),
    constraint media_item_content_type check (content_type in ('image/jpeg', 'image/png', 'image/webp', 'image/gif', 'video/mp4', 'application/pdf')),
    constraint media_item_kind_matches check (
        (kind = 'image' and content_type in ('image/jpeg', 'image/png', 'image/webp'))
        or (kind = 'gif' and content_type = 'image/gif')
        or (kind = 'video' and content_type = 'video/mp4')
        or (kind = 'document' and content_type = 'application/pdf')),
    constraint media_item_size check (byte_size > 0),
    constraint media_item_sha256 check (octet_length(sha256) = 32),
    constraint media_item_file_name check (char_length(file_name) between 1 and 255),
    constraint media_item_alt_text check (char_length(alt_text) <= 4000),
    constraint media_item_dimensions check ((width is null) = (height is null) and coalesce(width, 1) > 0 and coalesce(height, 1) > 0)
);
create index media_item_library_idx on media_item (team_id, created_at desc, media_id) where deleted_at is null;

-- Posts are referenced by (team_id, post_id) from post_media, so the post and the media it
-- carries belong to one team.
alter table post add constraint post_team_key unique (team_id, post_id);

-- The media a post carries, in order. `platform` null: every platform the post goes to; set: that
-- platform's own list instead (for example a video for LinkedIn and images for X). `item` 0 is the
-- post itself; N is the X thread's reply N. `alt_text` null: the item's own alt text.
create table post_media (
    team_id  uuid not null,
    post_id  uuid not null,
    platform platform,
    item     smallint not null default 0,
    position smallint not null,
    media_id uuid not null,
    alt_text text,
    foreign key (team_id, post_id) references post (team_id, post_id) on delete cascade,
    -- Restrict: an item is only ever soft-deleted (its row stays), so this never fires in normal
    -- use; it stops a bug or a manual DELETE from orphaning a post's media.
    foreign key (team_id, media_id) references media_item (team_id, media_id) on delete restrict,
    constraint post_media_position check (position between 1 and 20),
    constraint post_media_item check (item between 0 and 24),
    constraint post_media_alt_text check (alt_text is null or char_length(alt_text) <= 4000)
);
-- NULLS NOT DISTINCT: the shared list (platform null) has one item per position too.
alter table post_media add constraint post_media_order_key unique nulls not distinct (post_id, platform, item, position);
create index post_media_media_idx on post_media (media_id);

-- What a delivery uploaded to its platform: the platform's media id, kept so that a retry reuses
-- an upload whose id has not expired (X media ids last 24 hours, Facebook's unpublished photos
-- about as long), and shown on the post page (which media went out, under which ids).
create table delivery_media (
    delivery_id       uuid not null references delivery (delivery_id) on delete cascade,
    media_id          uuid not null references media_item (media_id),
    item              smallint not null default 0,
    position          smallint not null,
    platform_media_id text not null,
    uploaded_at       timestamptz not null default now(),
    expires_at        timestamptz,
    primary key (delivery_id, item, position),
    constraint delivery_media_position check (position between 1 and 20),
    constraint delivery_media_id_shape check (char_length(platform_media_id) between 1 and 512)
);
create index delivery_media_media_idx on delivery_media (media_id);

-- Every call an attempt made (uploads, their chunks, status polls, alt text, the post itself):
-- [{"step": "append 2 of 5", "http_status": 200, "duration_ms": 41}, ...].
alter table delivery_attempt add column steps jsonb not null default '[]'::jsonb;
alter table delivery_attempt add constraint delivery_attempt_steps_array check (jsonb_typeof(steps) = 'array');
