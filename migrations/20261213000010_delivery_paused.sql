-- A delivery waiting in a paused posting queue (see 20261213000011_posting_queues.sql). Its own
-- migration: a new enum value cannot be used in the transaction that adds it.
alter type delivery_state add value 'paused' after 'held';
