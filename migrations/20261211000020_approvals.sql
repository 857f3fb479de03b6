-- Approvals: a team may require posts to be approved before they are scheduled.
--
-- approval_rule: 'off' (nobody needs approval), 'editors' (editors' posts do), 'everyone' (every
-- member's do); approvals_needed: 1 or 2 approvers; approvers: 'admins' (owners and admins
-- approve) or 'editors' (editors too). Nobody approves their own post (enforced below).
alter table team
    add column approval_rule text not null default 'off',
    add column approvals_needed smallint not null default 1,
    add column approvers text not null default 'admins',
    add constraint team_approval_rule check (approval_rule in ('off', 'editors', 'everyone')),
    add constraint team_approvals_needed check (approvals_needed between 1 and 2),
    add constraint team_approvers check (approvers in ('admins', 'editors'));

-- Each submission for review is a round; decisions count in the round they were made in, so an
-- edit after approval (a new round) needs approving again.
alter table post add column review_round integer not null default 0;

create table post_review (
    post_id     uuid not null,
    team_id     uuid not null,
    round       integer not null,
    reviewer_id uuid not null references app_user (user_id) on delete cascade,
    decision    text not null,
    comment     text not null default '',
    decided_at  timestamptz not null default now(),
    primary key (post_id, round, reviewer_id),
    foreign key (team_id, post_id) references post (team_id, post_id) on delete cascade,
    constraint post_review_decision check (decision in ('approved', 'changes_requested')),
    constraint post_review_comment_shape check (char_length(comment) <= 4000),
    -- Asking for changes needs a word on what to change.
    constraint post_review_changes_say_why check (decision = 'approved' or char_length(btrim(comment)) > 0)
);

create function post_review_not_own() returns trigger language plpgsql as $$
begin
    if exists (select 1 from post p where p.post_id = new.post_id and p.author_id = new.reviewer_id) then
        raise exception 'nobody approves their own post' using errcode = 'check_violation', constraint = 'post_review_not_own';
    end if;
    return new;
end
$$;
create trigger post_review_not_own before insert on post_review for each row execute function post_review_not_own();
