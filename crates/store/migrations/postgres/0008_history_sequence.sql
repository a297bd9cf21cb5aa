-- Issue 9: history records carry `seq`, the number clients page by (`sinceId`), given in commit order.
-- Concurrent transactions commit in any order, so records are written without a number; a trigger
-- queues each new record in `history_pending` in the same transaction, and right after its commit the
-- writer calls torg_number_history with its records' ids: under an advisory lock it numbers every
-- committed queued record in id order, unless another writer's call already numbered the caller's
-- (then it returns at once and writes nothing). Writers no longer queue on a lock held through their
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
-- Every entry is deleted soon after it is written; vacuum the queue often, or each numbering pass
-- reads more dead rows than live ones.
ALTER TABLE history_pending SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 500,
    autovacuum_vacuum_cost_delay = 0);

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

-- Numbers the queued records. `orders` and `customers` are comma-separated ids of the caller's own
-- records; when none of them is still queued, another call numbered them and this one does nothing.
-- NULL for both numbers whatever is queued (on start-up).
CREATE FUNCTION torg_number_history(orders TEXT, customers TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    numbered BIGINT := 0;
    n BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(7426001);
    IF (orders IS NOT NULL OR customers IS NOT NULL) AND NOT EXISTS (
        SELECT 1 FROM history_pending p
        WHERE (p.kind = 'order_history' AND p.id = ANY (string_to_array(NULLIF(orders, ''), ',')::BIGINT[]))
           OR (p.kind = 'customer_history' AND p.id = ANY (string_to_array(NULLIF(customers, ''), ',')::BIGINT[]))
    ) THEN
        RETURN 0;
    END IF;
    WITH done AS (DELETE FROM history_pending WHERE kind = 'order_history' RETURNING id),
    numbers AS (SELECT id, (SELECT COALESCE(MAX(seq), 0) FROM order_history) + row_number() OVER (ORDER BY id) AS seq
                FROM done)
    UPDATE order_history h SET seq = numbers.seq FROM numbers WHERE h.id = numbers.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    numbered := numbered + n;
    WITH done AS (DELETE FROM history_pending WHERE kind = 'customer_history' RETURNING id),
    numbers AS (SELECT id, (SELECT COALESCE(MAX(seq), 0) FROM customer_history) + row_number() OVER (ORDER BY id) AS seq
                FROM done)
    UPDATE customer_history h SET seq = numbers.seq FROM numbers WHERE h.id = numbers.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN numbered + n;
END
$$;
