-- Issue 9: torg_number_queued (migration 0021) without dynamic SQL. Its three numbering statements
-- were built with format() and run by EXECUTE, so PostgreSQL planned each of them on every pass
-- (about 1 ms of a pass's 6 ms under concurrent creates, by pg_stat_statements). As static
-- statements PL/pgSQL prepares them once per connection. Same statements, same locks, same order.
--
-- The queue is vacuumed by the numberer (history.rs) and by autovacuum; neither gives its empty tail
-- pages back, which takes a lock that every history-writing transaction would wait on.
ALTER TABLE history_pending SET (vacuum_truncate = false);

CREATE OR REPLACE FUNCTION torg_number_queued() RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    numbered BIGINT := 0;
    n BIGINT;
BEGIN
    -- Nothing committed waits (the usual case for a history read): no lock, no write, no flush.
    IF NOT EXISTS (SELECT 1 FROM history_pending) THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(7426001);
    PERFORM pg_advisory_xact_lock(7426005);
    -- The queue's `kind` is the history table's name (the trigger's TG_TABLE_NAME).
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
    numbered := numbered + n;
    WITH done AS (DELETE FROM history_pending WHERE kind = 'pack_history' RETURNING id),
    numbers AS (SELECT id, (SELECT COALESCE(MAX(seq), 0) FROM pack_history) + row_number() OVER (ORDER BY id) AS seq
                FROM done)
    UPDATE pack_history h SET seq = numbers.seq FROM numbers WHERE h.id = numbers.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    numbered := numbered + n;
    RETURN numbered;
END
$$;
