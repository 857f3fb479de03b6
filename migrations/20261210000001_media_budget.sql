-- Crier's own budget of media upload calls per account (X: 500 per 15 minutes by default, the
-- one-shot upload's and the alt-text call's limit), counted apart from the posting budget because
-- the platforms count them apart: calls made in the window that started at
-- `media_budget_window_started_at`. Spending it never pauses the account (its text posts are not
-- held back by another post's pictures); the post that would overspend waits for the window.
alter table platform_account
    add column media_budget_window_started_at timestamptz,
    add column media_budget_used integer not null default 0,
    add constraint platform_account_media_budget_used check (media_budget_used >= 0);
