-- A post's lifecycle, enforced here as the delivery's is: a guard trigger refuses any change of
-- state not drawn below, whatever code (or hand-written UPDATE) tries it.
--
--   draft             → in_review | scheduled | cancelled
--   in_review         → approved | changes_requested | draft | cancelled
--   changes_requested → draft | in_review | cancelled
--   approved          → scheduled | in_review (edited after approval) | cancelled
--   scheduled, cancelled: final (a scheduled post's deliveries carry their own machine)
--
-- A post has deliveries exactly when it is scheduled: they are written in the same transaction
-- that makes it so. Until then the accounts it is meant for are in post_planned_account, and its
-- time is optional (a draft need not have one; one that has it shows on the calendar as a draft).
-- (The Rust mirror is domain/src/post_state.rs.)

create type post_state as enum ('draft', 'in_review', 'changes_requested', 'approved', 'scheduled', 'cancelled');

alter table post add column state post_state not null default 'scheduled';
alter table post alter column scheduled_at drop not null;
alter table post add constraint post_scheduled_has_time check (state <> 'scheduled' or scheduled_at is not null);

-- The team's drafts, newest change first (the Drafts page); scheduled posts keep their own indexes.
create index post_team_unscheduled_idx on post (team_id, updated_at desc, post_id) where state not in ('scheduled', 'cancelled');

create function post_transition_guard() returns trigger language plpgsql as $$
begin
    if new.state is distinct from old.state and not (
        (old.state, new.state) in (
            ('draft', 'in_review'), ('draft', 'scheduled'), ('draft', 'cancelled'),
            ('in_review', 'approved'), ('in_review', 'changes_requested'), ('in_review', 'draft'), ('in_review', 'cancelled'),
            ('changes_requested', 'draft'), ('changes_requested', 'in_review'), ('changes_requested', 'cancelled'),
            ('approved', 'scheduled'), ('approved', 'in_review'), ('approved', 'cancelled')
        )
    ) then
        raise exception 'illegal post transition % -> %', old.state, new.state
            using errcode = 'check_violation', constraint = 'post_transition';
    end if;
    if new.team_id is distinct from old.team_id then
        raise exception 'a post never changes its team' using errcode = 'check_violation', constraint = 'post_identity';
    end if;
    return new;
end
$$;
create trigger post_transition_guard before update on post
    for each row execute function post_transition_guard();

-- A post is born a draft (or in review) or scheduled; never approved or cancelled.
create function post_insert_guard() returns trigger language plpgsql as $$
begin
    if new.state not in ('draft', 'in_review', 'scheduled') then
        raise exception 'a post starts as a draft, in review or scheduled, not %', new.state
            using errcode = 'check_violation', constraint = 'post_born_state';
    end if;
    return new;
end
$$;
create trigger post_insert_guard before insert on post
    for each row execute function post_insert_guard();

-- The accounts a post not yet scheduled is meant for (deliveries are written when it is).
create table post_planned_account (
    post_id    uuid not null,
    team_id    uuid not null,
    account_id uuid not null,
    primary key (post_id, account_id),
    foreign key (team_id, post_id) references post (team_id, post_id) on delete cascade,
    foreign key (account_id) references platform_account (account_id) on delete cascade
);
