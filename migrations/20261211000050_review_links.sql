-- Client review links: an owner or admin shares one post, or the posts due in a date range, with
-- someone outside the team. The link is an unguessable token (only its hash is stored), expiring
-- and revocable; it shows those posts as each platform will and takes Approve / Request changes
-- with a comment, which is recorded as a comment and in the audit trail with the link as actor.

alter type audit_actor add value if not exists 'review_link';

create table review_link (
    link_id     uuid primary key default gen_random_uuid(),
    team_id     uuid not null references team (team_id) on delete cascade,
    label       text not null,
    token_hash  bytea not null,
    post_id     uuid,
    range_from  timestamptz,
    range_until timestamptz,
    expires_at  timestamptz not null,
    revoked_at  timestamptz,
    created_by  uuid references app_user (user_id) on delete set null,
    created_at  timestamptz not null default now(),
    foreign key (team_id, post_id) references post (team_id, post_id) on delete cascade,
    constraint review_link_token_key unique (token_hash),
    constraint review_link_label_shape check (char_length(btrim(label)) between 1 and 100),
    -- One post, or a range of time: never both, never neither.
    constraint review_link_scope check (
        (post_id is not null and range_from is null and range_until is null)
        or (post_id is null and range_from is not null and range_until is not null and range_from < range_until)),
    constraint review_link_expires_after_creation check (expires_at > created_at)
);
create index review_link_team_idx on review_link (team_id, created_at desc);

-- A comment left through a link names it (its author is nobody in the team).
alter table post_comment add column review_link_id uuid references review_link (link_id) on delete set null;
