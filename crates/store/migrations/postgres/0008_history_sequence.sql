-- Issue 9: history records carry `seq`, the number clients page by (`sinceId`), given in commit order.
-- Concurrent transactions commit in any order, so records are written without a number; a trigger
-- queues each new record in `history_pending` in the same transaction, and right after a commit the
-- writer runs a short numbering transaction under an advisory lock that takes the committed queue
-- entries and numbers their records in id order. Writers no longer queue on a lock held through their
-- own commits, and a reader never sees number N+1 before N. The queue (not a `seq IS NULL` search) is
-- what the numbering reads, because every numbered record leaves a dead NULL entry in the seq index
-- until vacuum. Existing records keep their ids as numbers.
ALTER TABLE order_history ADD COLUMN seq BIGINT;
UPDATE order_history SET seq = id;
CREATE UNIQUE INDEX order_history_seq ON order_history (seq);

ALTER TABLE customer_history ADD COLUMN seq BIGINT;
UPDATE customer_history SET seq = id;
CREATE UNIQUE INDEX customer_history_seq ON customer_history (seq);

CREATE TABLE history_pending (
    kind TEXT NOT NULL,
    id BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE FUNCTION torg_queue_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO history_pending (kind, id) VALUES (TG_TABLE_NAME, NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER order_history_queue AFTER INSERT ON order_history
    FOR EACH ROW WHEN (NEW.seq IS NULL) EXECUTE FUNCTION torg_queue_history();
CREATE TRIGGER customer_history_queue AFTER INSERT ON customer_history
    FOR EACH ROW WHEN (NEW.seq IS NULL) EXECUTE FUNCTION torg_queue_history();
