-- Issue 9: history records carry `seq`, the number clients page by (`sinceId`), given in commit order.
-- On SQLite (one writer) a record gets it when written. On PostgreSQL records are written without it
-- and numbered right after their transaction commits, in a short transaction that takes an advisory
-- lock; so concurrent writers no longer queue on a lock held through their own commits, and a reader
-- never sees number N+1 before N. Existing records keep their ids as numbers.
ALTER TABLE order_history ADD COLUMN seq BIGINT;
UPDATE order_history SET seq = id;
CREATE UNIQUE INDEX order_history_seq ON order_history (seq);
CREATE INDEX order_history_unnumbered ON order_history (id) WHERE seq IS NULL;

ALTER TABLE customer_history ADD COLUMN seq BIGINT;
UPDATE customer_history SET seq = id;
CREATE UNIQUE INDEX customer_history_seq ON customer_history (seq);
CREATE INDEX customer_history_unnumbered ON customer_history (id) WHERE seq IS NULL;
