-- Notifications beyond the bell: by email to each member, and to a team's Slack or Microsoft Teams
-- channels; what each member turned off; and a warning when publishing stalls.
--
-- The messages are a durable queue like the webhooks' (claimed in batches by any Crier process,
-- retried with backoff, logged): `notification_enqueue` (below, which replaces migration 030's and
-- is still the one function that decides who is told) writes them in the transaction that records
-- the event. A member's pending emails are sent together, as one digest when there are several
-- (`crier_domain::store::notify`), so a burst of 50 failures is one email, not 50.

-- The kinds a member is told of (and may turn off, per channel), one list for every table below.
alter table notification drop constraint notification_kind;
alter table notification add constraint notification_kind check (kind in (
    'delivery_failed', 'account_needs_reauth', 'account_token_expiring', 'post_submitted', 'post_approved',
    'post_changes_requested', 'comment_mention', 'client_reviewed', 'publishing_stalled'));

-- What a member turned off: everything is on until they do (or follow an email's unsubscribe link).
create table notification_mute (
    user_id uuid not null references app_user (user_id) on delete cascade,
    kind    text not null,
    channel text not null,
    primary key (user_id, kind, channel),
    constraint notification_mute_kind check (kind in (
        'delivery_failed', 'account_needs_reauth', 'account_token_expiring', 'post_submitted', 'post_approved',
        'post_changes_requested', 'comment_mention', 'client_reviewed', 'publishing_stalled')),
    constraint notification_mute_channel check (channel in ('app', 'email'))
);

-- A team's chat channel: a Slack or Microsoft Teams incoming webhook, told of the kinds chosen.
-- Its URL is the channel's credential: sealed by the token vault, bound to this row; `url_hint`
-- (scheme and host) is what the page shows.
create table chat_hook (
    hook_id    uuid primary key default gen_random_uuid(),
    team_id    uuid not null references team (team_id) on delete cascade,
    service    text not null,
    label      text not null,
    url        bytea not null,
    url_hint   text not null,
    kinds      text[] not null,
    created_by uuid references app_user (user_id) on delete set null,
    created_at timestamptz not null default now(),
    constraint chat_hook_service check (service in ('slack', 'teams')),
    constraint chat_hook_label_shape check (char_length(label) between 1 and 80),
    constraint chat_hook_kinds check (cardinality(kinds) >= 1 and kinds <@ array[
        'delivery_failed', 'account_needs_reauth', 'account_token_expiring', 'post_submitted', 'post_approved',
        'post_changes_requested', 'client_reviewed', 'publishing_stalled']::text[])
);
create index chat_hook_team_idx on chat_hook (team_id);

-- One message owed: an email to a member, or a post to a chat channel.
--   pending → sending (claimed) → sent | pending (retry, later `next_at`) | failed (last attempt)
--   | dropped (never sendable: no SMTP server configured, the channel is gone)
create table notification_message (
    message_id bigint generated always as identity primary key,
    team_id    uuid not null references team (team_id) on delete cascade,
    channel    text not null,
    user_id    uuid references app_user (user_id) on delete cascade,
    hook_id    uuid references chat_hook (hook_id) on delete cascade,
    audit_id   bigint not null,
    kind       text not null,
    entity_id  text,
    state      text not null default 'pending',
    attempt    smallint not null default 0,
    next_at    timestamptz not null default now(),
    claimed_by text,
    claimed_at timestamptz,
    sent_at    timestamptz,
    last_error text,
    created_at timestamptz not null default now(),
    constraint notification_message_channel check (
        (channel = 'email' and user_id is not null and hook_id is null) or (channel = 'chat' and hook_id is not null and user_id is null)),
    constraint notification_message_state check (state in ('pending', 'sending', 'sent', 'failed', 'dropped')),
    constraint notification_message_claim check ((state = 'sending') = (claimed_by is not null))
);
-- The claim looks for due pending messages; then takes every pending one of the same recipients.
create index notification_message_due_idx on notification_message (next_at) where state = 'pending';
create index notification_message_email_idx on notification_message (user_id) where state in ('pending', 'sending');
create index notification_message_chat_idx on notification_message (hook_id) where state in ('pending', 'sending');
create index notification_message_sending_idx on notification_message (claimed_at) where state = 'sending';
-- Pruning finished messages.
create index notification_message_created_idx on notification_message (created_at) where state in ('sent', 'failed', 'dropped');

-- A team warned that its posts wait unclaimed (`crier_domain::store::notify::watch_stalls`), so
-- every process watching warns once per stall; cleared when its queue moves again.
alter table team add column stall_warned_at timestamptz;

create or replace function notification_enqueue() returns trigger language plpgsql as $$
declare
    queued bigint;
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
                           'comment_added', 'comment_edited', 'review_link_approved', 'review_link_changes_requested', 'publishing_stalled')
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
        -- An account needing reconnecting, now or within days, and posts waiting unclaimed: the
        -- owners and admins.
        select e.team_id, e.audit_id, e.action, e.entity_id, e.actor_id, u.user_id
        from e join app_user u on u.team_id = e.team_id and u.role in ('owner', 'admin')
        where e.action in ('account_needs_reauth', 'account_token_expiring', 'publishing_stalled')
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
    ),
    people as (
        -- Someone's own doing is not news to them; what they turned off, they are not told.
        select t.team_id, t.user_id, t.audit_id, t.action as kind, t.entity_id,
               not exists (select 1 from notification_mute m where m.user_id = t.user_id and m.kind = t.action and m.channel = 'app') as in_app,
               not exists (select 1 from notification_mute m where m.user_id = t.user_id and m.kind = t.action and m.channel = 'email') as by_email
        from told t
        where t.user_id is not null and t.user_id is distinct from t.actor_id
    ),
    in_app as (
        insert into notification (team_id, user_id, audit_id, kind, entity_id)
        select team_id, user_id, audit_id, kind, entity_id from people where in_app
    ),
    by_email as (
        insert into notification_message (team_id, channel, user_id, audit_id, kind, entity_id)
        select team_id, 'email', user_id, audit_id, kind, entity_id from people where by_email
        returning 1
    ),
    -- The team's chat channels: once per event (not per person told), whoever did it.
    by_chat as (
        insert into notification_message (team_id, channel, hook_id, audit_id, kind, entity_id)
        select distinct t.team_id, 'chat', h.hook_id, t.audit_id, t.action, t.entity_id
        from told t join chat_hook h on h.team_id = t.team_id and t.action = any (h.kinds)
        returning 1
    )
    select (select count(*) from by_email) + (select count(*) from by_chat) into queued;
    -- Wakes an idle notifier (it waits out the gathering time itself); once per statement.
    if queued > 0 then
        perform pg_notify('crier_notifications', '');
    end if;
    return null;
end
$$;
