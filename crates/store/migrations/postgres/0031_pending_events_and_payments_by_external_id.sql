-- Issue 9: two reads that went through a whole table, found by the plan audit of the HTTP suite
-- (`plans_seen`).
-- The webhook worker's poll takes the oldest undelivered events in id order. Through an index on
-- `next_attempt_at` it had to sort, so SQLite read the table in id order instead, through every
-- delivered event kept for the retention period, on every poll. The undelivered events by id are
-- what the poll reads; the old index served nothing else.
DROP INDEX outbox_pending;
CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
-- A CRM payment named by its external id (`orders/payments/{id}/edit` with `by=externalId`, or an id
-- that is no payment's number).
CREATE INDEX payments_external ON payments (external_id) WHERE external_id IS NOT NULL;
