-- Issue 9: history records carry `seq`, the number clients page by (`sinceId`), given in commit order.
-- SQLite has one writer, so a record gets its number when it is written. Existing records keep their
-- ids as numbers.
ALTER TABLE order_history ADD COLUMN seq BIGINT;
UPDATE order_history SET seq = id;
CREATE UNIQUE INDEX order_history_seq ON order_history (seq);

ALTER TABLE customer_history ADD COLUMN seq BIGINT;
UPDATE customer_history SET seq = id;
CREATE UNIQUE INDEX customer_history_seq ON customer_history (seq);
