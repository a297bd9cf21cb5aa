-- Issue 9: counts without scans for the CRM's tasks and files lists. Unfiltered (the key's sites
-- alone, and the rows of no site, which every key sees), each page counted every task or file, which
-- the plan audit (`plans_seen`) shows as a read of the whole table. Their counters live in
-- `row_counts` by site, a row of no site under site '' (no site has an empty code), kept in the
-- writing transaction by the orders' row trigger, which now counts a row of no site under ''.
INSERT INTO row_counts (entity, site, shard, n) SELECT 'tasks', COALESCE(site, ''), 0, COUNT(*) FROM tasks GROUP BY COALESCE(site, '');
INSERT INTO row_counts (entity, site, shard, n) SELECT 'files', COALESCE(site, ''), 0, COUNT(*) FROM files GROUP BY COALESCE(site, '');

CREATE OR REPLACE FUNCTION torg_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    slot BIGINT := pg_backend_pid() % 16;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO row_counts (entity, site, shard, n) VALUES (TG_TABLE_NAME, COALESCE(OLD.site, ''), slot, -1)
            ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n - 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO row_counts (entity, site, shard, n) VALUES (TG_TABLE_NAME, COALESCE(NEW.site, ''), slot, 1)
            ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_count_insert_delete AFTER INSERT OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER tasks_count_move AFTER UPDATE OF site ON tasks
    FOR EACH ROW WHEN (OLD.site IS DISTINCT FROM NEW.site) EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER files_count_insert_delete AFTER INSERT OR DELETE ON files
    FOR EACH ROW EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER files_count_move AFTER UPDATE OF site ON files
    FOR EACH ROW WHEN (OLD.site IS DISTINCT FROM NEW.site) EXECUTE FUNCTION torg_count_rows();
