-- "Send test event" is limited per endpoint (one a minute): the time of the last one is kept on the
-- endpoint row, which the test locks, so the limit holds across every web process.
alter table webhook_endpoint add column test_sent_at timestamptz;
