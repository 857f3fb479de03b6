-- Comments on posts: plain text with @mentions of team members, edited or deleted by their author
-- only, shown with the post's own events in one activity feed. A mention notifies the person
-- (through the audit trail's notification trigger, like every other notification).

create table post_comment (
    comment_id uuid primary key default gen_random_uuid(),
    team_id    uuid not null,
    post_id    uuid not null,
    author_id  uuid references app_user (user_id) on delete set null,
    body       text not null,
    created_at timestamptz not null default now(),
    edited_at  timestamptz,
    foreign key (team_id, post_id) references post (team_id, post_id) on delete cascade,
    constraint post_comment_body_shape check (char_length(btrim(body)) between 1 and 4000)
);
create index post_comment_post_idx on post_comment (post_id, created_at);

-- The post's own events (created, scheduled, submitted, approved, edited…) for its activity feed:
-- only rows about posts are indexed, so the publisher's delivery events cost nothing more.
create index audit_event_post_idx on audit_event (team_id, entity_id, occurred_at) where entity = 'post';

-- A mention notifies through notification_enqueue (migration 030): the comment's audit row names
-- who is newly mentioned (`notify`, user ids).
