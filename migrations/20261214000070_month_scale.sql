-- Measured with `crier bench --scenario month` (BENCHMARKS.md, "A month of posts").
--
-- The month calendar counts a team's posts per day. Those counts read the post rows themselves
-- (only the row says whether a post is cancelled), so with 100,000 posts around the month the
-- calendar took a second to draw. Counted from this index they are index-only scans; the posts
-- of a day shown under their count are its first entries.
create index post_team_calendar_idx on post (team_id, scheduled_at, post_id) where state <> 'cancelled';

-- Every delivery's state changes rewrite each of its index entries (a state change is never a
-- HOT update). This one repeats the leading column of delivery_post_account_key (post_id,
-- account_id), which serves every lookup by post as well.
drop index delivery_post_idx;
