-- Issue 9: counts without scans, and a generation for the in-process cache of the small books.
--
-- row_counts: how many orders and customers each site has, kept by triggers in the writing transaction
-- (whoever writes: the server, the CLI, an import), so a list filtered by sites alone answers its
-- totalCount from a few rows instead of counting 100,000. A site's count is spread over 16 shards (by
-- the writing backend's process id) so that concurrent writers do not queue on one row until commit.
CREATE TABLE row_counts (
    entity TEXT NOT NULL,
    site TEXT NOT NULL,
    shard BIGINT NOT NULL DEFAULT 0,
    n BIGINT NOT NULL,
    PRIMARY KEY (entity, site, shard)
);
INSERT INTO row_counts (entity, site, shard, n) SELECT 'orders', site, 0, COUNT(*) FROM orders GROUP BY site;
INSERT INTO row_counts (entity, site, shard, n) SELECT 'customers', site, 0, COUNT(*) FROM customers GROUP BY site;

CREATE FUNCTION torg_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    slot BIGINT := pg_backend_pid() % 16;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO row_counts (entity, site, shard, n) VALUES (TG_TABLE_NAME, OLD.site, slot, -1)
            ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n - 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO row_counts (entity, site, shard, n) VALUES (TG_TABLE_NAME, NEW.site, slot, 1)
            ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER orders_count_insert_delete AFTER INSERT OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER orders_count_move AFTER UPDATE OF site ON orders
    FOR EACH ROW WHEN (OLD.site IS DISTINCT FROM NEW.site) EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER customers_count_insert_delete AFTER INSERT OR DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER customers_count_move AFTER UPDATE OF site ON customers
    FOR EACH ROW WHEN (OLD.site IS DISTINCT FROM NEW.site) EXECUTE FUNCTION torg_count_rows();

-- cache_generations: bumped by any change to the books a server caches in memory (sites, warehouses,
-- reference books). A server compares the number with its cached copy's, in the same statement as the
-- key check, and reloads when another writer (another instance, the CLI) changed them.
CREATE TABLE cache_generations (name TEXT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO cache_generations (name, n) VALUES ('books', 1);

CREATE FUNCTION torg_bump_books() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
    RETURN NULL;
END
$$;

CREATE TRIGGER sites_books AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sites
    FOR EACH STATEMENT EXECUTE FUNCTION torg_bump_books();
CREATE TRIGGER warehouses_books AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON warehouses
    FOR EACH STATEMENT EXECUTE FUNCTION torg_bump_books();
CREATE TRIGGER reference_entries_books AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reference_entries
    FOR EACH STATEMENT EXECUTE FUNCTION torg_bump_books();
