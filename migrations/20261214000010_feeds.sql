-- RSS and Atom feeds a team follows: each new item becomes a post (a draft, a queued post or one
-- published now) to the feed's accounts, written from the feed's template.
--
-- Polling is a lease, not a transaction held across the fetch: a poller claims due feeds with
-- `for update skip locked` and sets `claimed_until` (so no other process polls one feed at once),
-- fetches with no transaction open, and writes the outcome, clearing the lease. A poller that dies
-- leaves the lease to run out.
create table feed (
    feed_id        uuid primary key default gen_random_uuid(),
    team_id        uuid not null references team (team_id) on delete cascade,
    url            text not null,
    template       text not null,
    mode           text not null,
    -- Whose posts the feed writes (its creator while they are in the team).
    created_by     uuid references app_user (user_id) on delete set null,
    created_at     timestamptz not null default now(),
    -- The feed's own title, as last read.
    title          text,
    -- The validators the last full answer carried, sent back as If-None-Match / If-Modified-Since.
    etag           text,
    last_modified  text,
    last_polled_at timestamptz,
    -- What the last poll did, in words ("2 new items", "not modified").
    last_outcome   text,
    -- Why the last poll failed, in words; null once a poll succeeds.
    last_error     text,
    error_count    integer not null default 0,
    -- Whether a poll has ever read the feed: the first one posts only what was published after
    -- the feed was added.
    primed         boolean not null default false,
    next_poll_at   timestamptz not null default now(),
    claimed_until  timestamptz,
    constraint feed_mode check (mode in ('draft', 'queue', 'publish')),
    constraint feed_url_length check (char_length(url) between 8 and 2048),
    constraint feed_template_length check (char_length(template) between 1 and 1000),
    constraint feed_title_length check (title is null or char_length(title) <= 300),
    constraint feed_validators_length check (coalesce(char_length(etag), 0) <= 512 and coalesce(char_length(last_modified), 0) <= 128),
    constraint feed_words_length check (coalesce(char_length(last_outcome), 0) <= 500 and coalesce(char_length(last_error), 0) <= 1000),
    constraint feed_error_count check (error_count >= 0),
    constraint feed_team_url_key unique (team_id, url)
);
-- The pollers' question: which feeds are due.
create index feed_due_idx on feed (next_poll_at);

-- The accounts a feed's posts go to.
create table feed_account (
    feed_id    uuid not null references feed (feed_id) on delete cascade,
    account_id uuid not null references platform_account (account_id) on delete cascade,
    primary key (feed_id, account_id)
);
create index feed_account_account_idx on feed_account (account_id);

-- Every item a feed has shown, by its key (its GUID or id; else its link; else a hash of its
-- title), kept for as long as the feed: an item is taken once, whatever the feed does later.
--   posted   a post was scheduled or queued   drafted  a draft was written
--   skipped  it could not be posted (`reason` says why; not retried)
--   existing it was in the feed before the feed was added
create table feed_item (
    feed_id  uuid not null references feed (feed_id) on delete cascade,
    item_key text not null,
    title    text,
    link     text,
    state    text not null,
    reason   text,
    post_id  uuid references post (post_id) on delete set null,
    seen_at  timestamptz not null default now(),
    primary key (feed_id, item_key),
    constraint feed_item_state check (state in ('posted', 'drafted', 'skipped', 'existing')),
    constraint feed_item_key_length check (char_length(item_key) between 1 and 600),
    constraint feed_item_words_length check (
        coalesce(char_length(title), 0) <= 300 and coalesce(char_length(link), 0) <= 2048 and coalesce(char_length(reason), 0) <= 1000)
);
-- A feed's latest items, for its page.
create index feed_item_seen_idx on feed_item (feed_id, seen_at desc);
