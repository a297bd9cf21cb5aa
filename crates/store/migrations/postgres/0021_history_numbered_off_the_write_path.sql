-- Issue 9: a writer no longer numbers its own history records after its commit. That second
-- transaction took the numbering lock and held it through its own commit's flush, so every create
-- flushed twice and the numberings ran one after another. Now a writer only wakes its instance's
-- numberer (a background task) and returns; the numberer calls torg_number_queued, which numbers
-- whatever has been committed since its last pass, many writers' records in one transaction and one
-- flush. A history read calls it too before reading, so a change is in the history as soon as its
-- write has answered, whichever instance answered it.
--
-- Numbers still follow commit order: a record is numbered only once committed, after the highest
-- number given so far, under the same advisory locks the earlier per-writer functions take (so an
-- instance of the previous version running beside this one numbers in turn with it).
CREATE FUNCTION torg_number_queued() RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    numbered BIGINT := 0;
    n BIGINT;
    history TEXT;
BEGIN
    -- Nothing committed waits (the usual case for a history read): no lock, no write, no flush.
    IF NOT EXISTS (SELECT 1 FROM history_pending) THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(7426001);
    PERFORM pg_advisory_xact_lock(7426005);
    -- The queue's `kind` is the history table's name (the trigger's TG_TABLE_NAME).
    FOREACH history IN ARRAY ARRAY['order_history', 'customer_history', 'pack_history'] LOOP
        EXECUTE format(
            'WITH done AS (DELETE FROM history_pending WHERE kind = %L RETURNING id),
             numbers AS (SELECT id, (SELECT COALESCE(MAX(seq), 0) FROM %I) + row_number() OVER (ORDER BY id) AS seq
                         FROM done)
             UPDATE %I h SET seq = numbers.seq FROM numbers WHERE h.id = numbers.id',
            history, history, history);
        GET DIAGNOSTICS n = ROW_COUNT;
        numbered := numbered + n;
    END LOOP;
    RETURN numbered;
END
$$;
