-- First comments (see crier_publisher::first_comments): a post's optional comment per platform,
-- sent under each delivery once it is published, as a step of its own with its own retries.

-- The text, per platform (a content part of the post, like post_text_override).
create table post_first_comment (
    post_id  uuid not null references post (post_id) on delete cascade,
    platform platform not null,
    text     text not null,
    primary key (post_id, platform),
    constraint post_first_comment_shape check (char_length(text) between 1 and 3000)
);

create type first_comment_state as enum ('pending', 'sending', 'posted', 'failed');

-- One per published delivery whose post has a first comment for its platform: written by the
-- statement that records the delivery as published (crier_domain::store::deliveries::complete),
-- so a post that went out always has its comment queued, and a post that did not never does.
create table delivery_first_comment (
    delivery_id      uuid primary key references delivery (delivery_id) on delete cascade,
    team_id          uuid not null references team (team_id) on delete cascade,
    text             text not null,
    state            first_comment_state not null default 'pending',
    attempts         smallint not null default 0,
    next_attempt_at  timestamptz not null default now(),
    claimed_by       text,
    claimed_at       timestamptz,
    -- The last attempt's outcome is unknown (no answer, or its worker died): look for the comment
    -- before sending it again.
    reconcile        boolean not null default false,
    first_attempt_at timestamptz,
    external_id      text,
    permalink        text,
    last_error       text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint delivery_first_comment_claimed check ((state = 'sending') = (claimed_by is not null and claimed_at is not null)),
    constraint delivery_first_comment_posted check ((state = 'posted') = (external_id is not null))
);
create index delivery_first_comment_due_idx on delivery_first_comment (next_attempt_at) where state = 'pending';
create index delivery_first_comment_sending_idx on delivery_first_comment (claimed_at) where state = 'sending';
create index delivery_first_comment_team_idx on delivery_first_comment (team_id);

-- The moves a first comment may make; anything else is refused.
create function delivery_first_comment_guard() returns trigger language plpgsql as $$
begin
    if new.state is distinct from old.state and not (
        (old.state = 'pending' and new.state = 'sending')
        or (old.state = 'sending' and new.state in ('pending', 'posted', 'failed'))
        or (old.state = 'failed' and new.state = 'pending')
    ) then
        raise exception 'a first comment cannot go from % to %', old.state, new.state using errcode = 'check_violation';
    end if;
    new.updated_at := now();
    return new;
end
$$;
create trigger delivery_first_comment_guard before update on delivery_first_comment
    for each row execute function delivery_first_comment_guard();
