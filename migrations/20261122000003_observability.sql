-- Observability: every scrape of /metrics counts the queue by state across all teams
-- (`crier_domain::store::status::snapshot`). Scheduled and retrying rows are counted through
-- `delivery_due_idx`, publishing ones through `delivery_publishing_idx`; held deliveries had no
-- index of their own, so counting them read every delivery ever made. Held rows are few (they wait
-- for an account to be reconnected), so this index stays small.
create index delivery_held_idx on delivery (account_id) where state = 'held';
