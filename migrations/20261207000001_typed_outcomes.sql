-- Attempt outcomes and failure classes were free text from the engine to the page; they are
-- enums now, like the delivery's state, so the database refuses a word nobody decodes
-- (`crier_domain::delivery::{AttemptOutcome, FailureClass}`, decoded once there). The existing
-- rows hold exactly these words.
create type attempt_outcome as enum (
    'published', 'reconciled', 'dry_run_ok', 'validation', 'permanent', 'temporary', 'rate_limited', 'needs_reauth', 'unknown'
);
alter table delivery_attempt alter column outcome type attempt_outcome using outcome::attempt_outcome;

create type failure_class as enum (
    'validation', 'permanent', 'configuration', 'unknown', 'temporary', 'rate_limited', 'needs_reauth'
);
alter table delivery alter column last_error_class type failure_class using last_error_class::failure_class;
