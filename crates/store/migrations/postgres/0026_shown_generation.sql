-- Issue 9: one generation of everything a page of orders is read from (which orders a filter
-- matches, how many, and their stamps), so that a server can keep a page's ids, stamps and count and
-- know from one small read whether it may use them again. Any insert, update or delete in these
-- tables moves it, by trigger, so every writer (this server, another instance, the CLI) is seen.
--
-- The generation is the sum of 64 counters. A writing transaction moves one of them, once: the first
-- statement that changes one of the tables takes a counter no other transaction holds (SKIP LOCKED),
-- so concurrent writers never wait for each other's commit here, as they would on a single row held
-- until the commit's flush. A transaction-local setting marks it done; rolled back with a savepoint,
-- the mark goes with the increment, and a later statement moves a counter again. A reader sees a
-- new sum after any commit of a write: each counter only grows.
CREATE TABLE shown_generation (
    shard INT PRIMARY KEY,
    gen BIGINT NOT NULL
);
INSERT INTO shown_generation (shard, gen) SELECT s, 0 FROM generate_series(0, 63) AS s;

CREATE FUNCTION torg_shown_generation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    free INT;
BEGIN
    IF current_setting('torg.shown_generation_moved', true) = 'yes' THEN
        RETURN NULL;
    END IF;
    SELECT shard INTO free FROM shown_generation ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED;
    -- Every counter held (more than 64 writers at once): wait for one.
    UPDATE shown_generation SET gen = gen + 1 WHERE shard = COALESCE(free, pg_backend_pid() % 64);
    PERFORM set_config('torg.shown_generation_moved', 'yes', true);
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['orders', 'customers', 'order_items', 'payments', 'order_facets', 'costs',
                             'corporate_customers', 'file_attachments', 'order_custom_fields',
                             'bonus_operations', 'loyalties'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION torg_shown_generation()', t || '_gen', t);
    END LOOP;
END
$$;
