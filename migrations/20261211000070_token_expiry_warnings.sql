-- A token that cannot be renewed and ends within 7 days warns the owners and admins once per
-- deadline: housekeeping records `account_token_expiring` (notification_enqueue, migration 030,
-- tells them) and `expiry_warned_for` holds the deadline warned about, so several workers' passes
-- warn once, and a reconnection's new deadline warns again.

alter table platform_account add column expiry_warned_for timestamptz;
