-- In-app notifications: who is told what, drawn from the audit trail as it is written (like the
-- webhooks' outbox), so every path that records an event tells the right people, in the same
-- transaction, and nothing else has to remember to.
--
--   delivery_failed         → the post's author (or, once they left, the owners and admins)
--   account_needs_reauth,
--   account_token_expiring  → the owners and admins
--   post_submitted          → the team's approvers (by its approval settings), not the author
--   post_approved,
--   post_changes_requested,
--   review_link_approved,
--   review_link_changes_requested → the post's author (kind client_reviewed for a link's)
--   comment_added,
--   comment_edited          → the members it newly mentions (its audit row's `notify` list)
--
-- Every notifying event is in the one function below: an event added later adds its branch here
-- (the tables it names are resolved when it runs, so later migrations' are fine).
--
-- A row names the event (audit_id, no foreign key: the audit trail may be pruned) and what it is
-- about; the words are written when it is read, in the reader's timezone.

create table notification (
    notification_id bigint generated always as identity primary key,
    team_id         uuid not null references team (team_id) on delete cascade,
    user_id         uuid not null references app_user (user_id) on delete cascade,
    audit_id        bigint not null,
    kind            text not null,
    entity_id       text,
    created_at      timestamptz not null default now(),
    read_at         timestamptz,
    constraint notification_kind check (kind in (
        'delivery_failed', 'account_needs_reauth', 'account_token_expiring', 'post_submitted', 'post_approved',
        'post_changes_requested', 'comment_mention', 'client_reviewed'))
);
-- A person's latest, and the unread count in the header (an index-only count).
create index notification_user_idx on notification (user_id, notification_id desc);
create index notification_unread_idx on notification (user_id) where read_at is null;

create function notification_enqueue() returns trigger language plpgsql as $$
begin
    with e as (
        -- The events that notify, with their entity's id as a uuid. Other events' ids need not be
        -- uuids, and the planner may compute this for rows the WHERE drops: only a uuid's shape
        -- is ever cast.
        select a.team_id, a.audit_id, a.action, a.entity_id, a.actor_id, a.metadata,
               case when a.entity in ('delivery', 'post', 'account', 'comment') and a.entity_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                    then a.entity_id::uuid end as id
        from added a
        where a.action in ('delivery_failed', 'account_needs_reauth', 'account_token_expiring', 'post_submitted', 'post_approved', 'post_changes_requested',
                           'comment_added', 'comment_edited', 'review_link_approved', 'review_link_changes_requested')
    ),
    told as (
        -- A failed delivery: its post's author, if still in the team; else the owners and admins.
        select e.team_id, e.audit_id, e.action, e.entity_id, e.actor_id, coalesce(author.user_id, admin.user_id) as user_id
        from e
        join delivery d on d.delivery_id = e.id and d.team_id = e.team_id
        join post p on p.post_id = d.post_id and p.team_id = e.team_id
        left join app_user author on author.user_id = p.author_id and author.team_id = e.team_id
        left join app_user admin on author.user_id is null and admin.team_id = e.team_id and admin.role in ('owner', 'admin')
        where e.action = 'delivery_failed'
        union all
        -- An account needing reconnecting, now or within days: the owners and admins.
        select e.team_id, e.audit_id, e.action, e.entity_id, e.actor_id, u.user_id
        from e join app_user u on u.team_id = e.team_id and u.role in ('owner', 'admin')
        where e.action in ('account_needs_reauth', 'account_token_expiring')
        union all
        -- A post submitted for review: whoever may approve it, but its author.
        select e.team_id, e.audit_id, e.action, e.entity_id, e.actor_id, u.user_id
        from e
        join team t on t.team_id = e.team_id
        join post p on p.post_id = e.id and p.team_id = e.team_id
        join app_user u on u.team_id = e.team_id
            and (u.role in ('owner', 'admin') or (t.approvers = 'editors' and u.role = 'editor'))
            and u.user_id is distinct from p.author_id
        where e.action = 'post_submitted'
        union all
        -- A decision on a post: its author.
        select e.team_id, e.audit_id, e.action, e.entity_id, e.actor_id, u.user_id
        from e
        join post p on p.post_id = e.id and p.team_id = e.team_id
        join app_user u on u.user_id = p.author_id and u.team_id = e.team_id
        where e.action in ('post_approved', 'post_changes_requested')
        union all
        -- What a client said through a review link: the post's author.
        select e.team_id, e.audit_id, 'client_reviewed', e.entity_id, e.actor_id, u.user_id
        from e
        join post p on p.post_id = e.id and p.team_id = e.team_id
        join app_user u on u.user_id = p.author_id and u.team_id = e.team_id
        where e.action in ('review_link_approved', 'review_link_changes_requested')
        union all
        -- A comment that mentions people: each newly mentioned member of the team.
        select e.team_id, e.audit_id, 'comment_mention', e.entity_id, e.actor_id, u.user_id
        from e
        cross join lateral jsonb_array_elements_text(coalesce(e.metadata -> 'notify', '[]'::jsonb)) as m (user_id)
        join app_user u on u.user_id::text = m.user_id and u.team_id = e.team_id
        where e.action in ('comment_added', 'comment_edited')
    )
    insert into notification (team_id, user_id, audit_id, kind, entity_id)
    select team_id, user_id, audit_id, action, entity_id from told
    -- Someone's own doing is not news to them.
    where user_id is not null and user_id is distinct from actor_id;
    return null;
end
$$;
create trigger audit_event_notifications after insert on audit_event
    referencing new table as added
    for each statement execute function notification_enqueue();
