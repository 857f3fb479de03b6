-- Link tracking (see crier_domain::link_tracking): the team's defaults, each post's own choice,
-- and the short links Crier serves at /l/<code>, with their clicks counted per day.

-- What Compose starts with. Off by default: nobody's links change until the team asks.
alter table team
    add column link_utm           boolean not null default false,
    add column link_utm_campaign  text,
    add column link_utm_medium    text not null default 'social',
    add column link_short         boolean not null default false,
    add constraint team_link_utm_shape check (
        char_length(link_utm_medium) between 1 and 100
        and (link_utm_campaign is null or char_length(link_utm_campaign) between 1 and 100));

-- A post's choice; no row: its links go out as written (so the publishing engine's claim reads
-- nothing more for the posts of teams that do not track).
create table post_link_tracking (
    post_id      uuid primary key references post (post_id) on delete cascade,
    team_id      uuid not null references team (team_id) on delete cascade,
    utm          boolean not null,
    utm_campaign text,
    utm_medium   text not null,
    short_links  boolean not null,
    constraint post_link_tracking_does_something check (utm or short_links),
    constraint post_link_tracking_shape check (
        char_length(utm_medium) between 1 and 100
        and (utm_campaign is null or char_length(utm_campaign) between 1 and 100))
);

-- One short link per delivery and destination, made as the delivery goes out (a retry reuses it).
-- The code is random (62^10); visitors' addresses are never stored, only counts.
create table short_link (
    code        text primary key,
    team_id     uuid not null references team (team_id) on delete cascade,
    delivery_id uuid not null references delivery (delivery_id) on delete cascade,
    url         text not null,
    created_at  timestamptz not null default now(),
    constraint short_link_code_shape check (code ~ '^[A-Za-z0-9]{10}$'),
    constraint short_link_url_shape check (char_length(url) between 1 and 8000)
);
-- md5: a URL may be longer than a btree entry holds.
create unique index short_link_delivery_url_key on short_link (delivery_id, md5(url));
create index short_link_team_idx on short_link (team_id);

-- Clicks per link and UTC day: a redirect adds one (crawlers that fetch link previews are not
-- counted).
create table short_link_click (
    code   text not null references short_link (code) on delete cascade,
    day    date not null,
    clicks bigint not null default 0,
    constraint short_link_click_pkey primary key (code, day),
    constraint short_link_click_positive check (clicks >= 0)
);
