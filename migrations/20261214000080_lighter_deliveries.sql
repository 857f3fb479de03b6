-- Less written per delivery (issue 21 part 5; each step measured in BENCHMARKS.md, "CPU per
-- delivery").

-- Retention and the analytics series read only finished deliveries by this index (the analytics
-- series finds those still queued by state). Every claim moved a delivery to `publishing` and
-- so wrote an entry here; now only the move to a finished state does.
drop index delivery_team_updated_idx;
create index delivery_team_finished_idx on delivery (team_id, updated_at)
    where state in ('published', 'dry_run_ok', 'failed', 'cancelled');
